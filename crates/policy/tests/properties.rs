//! Property tests: the resource matcher against a naive reference, and the parser and
//! evaluator against arbitrary (mostly policy-shaped) JSON.

use fleetward_policy::{Action, AuthContext, Effect, Policy, decide, explain};
use proptest::prelude::*;
use serde_json::{Map, Value as Json, json};

/// One element of a pattern as the reference sees it.
#[derive(Clone, Debug)]
enum Tok {
    Char(char),
    Star,
    One,
}

/// Exponential but obviously correct: `*` tries every split, `?` takes one character.
fn reference(p: &[Tok], s: &[char]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((Tok::Star, rest)) => (0..=s.len()).any(|i| reference(rest, &s[i..])),
        Some((Tok::One, rest)) => !s.is_empty() && reference(rest, &s[1..]),
        Some((Tok::Char(c), rest)) => s.first() == Some(c) && reference(rest, &s[1..]),
    }
}

/// Pattern pieces: literal characters, wildcards, MQTT wildcards, the client-id variable and
/// the escapes, each with its reference tokens (the variable expands to the client id).
fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "a",
        "b",
        "/",
        "é",
        "*",
        "?",
        "+",
        "#",
        "${iot:ClientId}",
        "${*}",
        "${?}",
    ])
}

fn tokens(pieces: &[&str], client_id: &str) -> Vec<Tok> {
    pieces
        .iter()
        .flat_map(|p| match *p {
            "*" => vec![Tok::Star],
            "?" => vec![Tok::One],
            "${iot:ClientId}" => client_id.chars().map(Tok::Char).collect(),
            "${*}" => vec![Tok::Char('*')],
            "${?}" => vec![Tok::Char('?')],
            lit => lit.chars().map(Tok::Char).collect(),
        })
        .collect()
}

fn allow_resource(resource: &str) -> Policy {
    let doc = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iot:Publish", "Resource": resource}]
    });
    Policy::parse(&doc.to_string()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn resource_matching_agrees_with_reference(
        pieces in prop::collection::vec(piece(), 0..8),
        input in "[ab/é*?+#]{0,10}",
        client_id in "[ab*+]{0,3}",
    ) {
        let pattern: String = pieces.concat();
        let policy = allow_resource(&format!("arn:{pattern}"));
        let ctx = AuthContext { client_id: Some(&client_id), ..AuthContext::new("r", "a", 0) };
        let got = decide([&policy], Action::Publish, &format!("arn:{input}"), &ctx);
        let chars: Vec<char> = input.chars().collect();
        let want = reference(&tokens(&pieces, &client_id), &chars);
        prop_assert_eq!(got == Effect::Allowed, want, "pattern {:?} input {:?} client {:?}", pattern, input, client_id);
    }

    #[test]
    fn parse_never_panics_on_text(doc in "\\PC{0,200}") {
        let _ = Policy::parse(&doc);
    }

    #[test]
    fn parse_and_decide_never_panic_on_policy_shaped_json(
        doc in prop_oneof![policy_like(), structured_policy()],
    ) {
        let text = doc.to_string();
        if let Ok(policy) = Policy::parse(&text) {
            prop_assert_eq!(policy.document(), text.as_str());
            let ctx = AuthContext {
                client_id: Some("c"),
                source_ip: "10.1.2.3".parse().ok(),
                ..AuthContext::new("r", "a", 1_700_000_000_000)
            };
            for action in Action::ALL {
                for resource in ["arn:aws:iot:r:a:topic/c", "arn:aws:iot:r:a:client/c", ""] {
                    let fast = decide([&policy], action, resource, &ctx);
                    let slow = explain(&[&policy], action, resource, &ctx).effect;
                    prop_assert_eq!(fast, slow);
                }
            }
        }
    }
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "2012-10-17",
            "2008-10-17",
            "Allow",
            "Deny",
            "iot:*",
            "iot:Publish",
            "iot:Connect",
            "*",
            "arn:aws:iot:r:a:topic/${iot:ClientId}",
            "arn:aws:iot:r:a:client/*",
            "arn:*",
            "${",
            "${iot:ClientId",
            "true",
            "false",
            "10.0.0.0/8",
            "2024-01-01T00:00:00Z",
            "42",
            "c",
            "PersistentConnect",
            "${aws:SourceIp}",
            "${iot:KeepAlive, '1'}",
            "",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,12}",
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "Version", "Statement", "Id", "Sid", "Effect", "Action", "NotAction", "Resource",
            "NotResource", "Condition", "Principal", "StringEquals", "StringNotLikeIfExists",
            "ForAnyValue:StringLike", "ForAllValues:StringEquals", "NumericLessThan", "DateEquals",
            "Bool", "IpAddress", "NotIpAddress", "Null", "ArnLike", "iot:ClientId", "aws:SourceIp",
            "aws:CurrentTime", "iot:ConnectAttributes", "iot:Connection.Thing.Attributes[x]",
            "iot:Certificate.Subject.Country.List",
        ])
        .prop_map(str::to_owned),
        1 => "\\PC{0,10}",
    ]
}

fn policy_like() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        word().prop_map(Json::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Json::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn one_or_many(item: impl Strategy<Value = String> + Clone) -> impl Strategy<Value = Json> {
    prop_oneof![
        item.clone().prop_map(Json::String),
        prop::collection::vec(item.prop_map(Json::String), 0..3).prop_map(Json::Array),
    ]
}

/// Mostly valid choices, sometimes anything.
fn mostly(valid: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        9 => prop::sample::select(valid).prop_map(str::to_owned),
        1 => word(),
    ]
}

const ACTIONS: &[&str] = &[
    "iot:*",
    "iot:Publish",
    "iot:Connect",
    "*",
    "iot:Re*",
    "iot:?ubscribe",
    "iot:Receive",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:iot:r:a:topic/${iot:ClientId}",
    "arn:aws:iot:r:a:client/*",
    "arn:*",
    "arn:aws:iot:r:a:topic/?",
    "arn:aws:iot:r:a:client/${iot:Connection.Thing.ThingName}",
];
const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotLikeIfExists",
    "ForAnyValue:StringLike",
    "ForAllValues:StringEquals",
    "NumericLessThan",
    "DateGreaterThan",
    "Bool",
    "IpAddress",
    "NotIpAddress",
    "Null",
    "ArnLike",
    "StringEqualsIgnoreCase",
];
const KEYS: &[&str] = &[
    "iot:ClientId",
    "aws:SourceIp",
    "aws:CurrentTime",
    "aws:EpochTime",
    "iot:ConnectAttributes",
    "iot:Connection.Thing.IsAttached",
    "iot:Certificate.Subject.Country.List",
    "iot:Unknown",
];
const VALUES: &[&str] = &[
    "c",
    "*",
    "true",
    "false",
    "10.0.0.0/8",
    "2024-01-01T00:00:00Z",
    "42",
    "${iot:ClientId}",
    "PersistentConnect",
    "${aws:SourceIp}",
    "arn:aws:iot:*",
];

/// Statements with the right skeleton and mostly valid contents, so that many documents parse
/// and evaluation gets exercised too.
fn structured_policy() -> impl Strategy<Value = Json> {
    let condition = prop::collection::vec(
        (
            mostly(OPERATORS),
            prop::collection::vec((mostly(KEYS), one_or_many(mostly(VALUES))), 1..3),
        ),
        0..3,
    )
    .prop_map(|ops| {
        Json::Object(
            ops.into_iter()
                .map(|(op, keys)| (op, Json::Object(keys.into_iter().collect())))
                .collect(),
        )
    });
    let statement = (
        prop::sample::select(vec!["Allow", "Deny"]),
        any::<bool>(),
        one_or_many(mostly(ACTIONS)),
        any::<bool>(),
        one_or_many(mostly(RESOURCES)),
        prop::option::of(condition),
    )
        .prop_map(
            |(effect, not_action, action, not_resource, resource, condition)| {
                let mut st = Map::new();
                st.insert("Effect".into(), json!(effect));
                st.insert(
                    if not_action { "NotAction" } else { "Action" }.into(),
                    action,
                );
                st.insert(
                    if not_resource {
                        "NotResource"
                    } else {
                        "Resource"
                    }
                    .into(),
                    resource,
                );
                if let Some(c) = condition {
                    st.insert("Condition".into(), c);
                }
                Json::Object(st)
            },
        );
    prop::collection::vec(statement, 1..4)
        .prop_map(|sts| json!({"Version": "2012-10-17", "Statement": sts}))
}
