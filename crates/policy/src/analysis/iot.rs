//! The two static analyses Device Defender audit runs on IoT policies (spec 1.3):
//! overly permissive data-plane access and potential misconfiguration (MQTT wildcards, which
//! are literal characters in IoT policies, used in Deny statements).

use super::statements::{RawStatement, glob, statements};

/// Data-plane actions whose broad grant makes a device policy overly permissive, in the order
/// the finding lists them, with the kind of resource each is authorized on.
/// `iot:Receive` is missing on purpose: a device only receives what it may subscribe to.
pub(crate) const DATA_PLANE: &[(&str, Kind)] = &[
    ("iot:Connect", Kind::Client),
    ("iot:Publish", Kind::Topic),
    ("iot:Subscribe", Kind::TopicFilter),
    ("iot:GetThingShadow", Kind::Thing),
    ("iot:UpdateThingShadow", Kind::Thing),
    ("iot:DeleteThingShadow", Kind::Thing),
    ("iot:DescribeJobExecution", Kind::Thing),
    ("iot:GetPendingJobExecutions", Kind::Thing),
    ("iot:StartNextPendingJobExecution", Kind::Thing),
    ("iot:UpdateJobExecution", Kind::Thing),
];

/// The resource types data-plane actions are authorized on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Client,
    Topic,
    TopicFilter,
    Thing,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Client => "client/",
            Kind::Topic => "topic/",
            Kind::TopicFilter => "topicfilter/",
            Kind::Thing => "thing/",
        }
    }
}

/// `IOT_POLICY_OVERLY_PERMISSIVE_CHECK`'s reason code.
pub const ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS: &str =
    "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS";
/// `IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK`'s reason codes.
pub const POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT: &str =
    "POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT";
pub const TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS: &str =
    "TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS";

/// The data-plane actions `document` grants on a broad set of devices (empty: compliant), in
/// the order of [`DATA_PLANE`], e.g. `["iot:Connect", "iot:Publish"]`.
///
/// A grant is broad when a resource has a wildcard (`*`, `?`, and MQTT's `+`/`#` in topic
/// filters) that is not scoped under a per-device policy variable
/// (`${iot:Connection.Thing.ThingName}`, the certificate's subject common name or serial
/// number, or `${iot:ClientId}` with an `iot:Connection.Thing.IsAttached` condition);
/// `${iot:ClientId}` without that condition counts as a wildcard, `NotResource` as broad.
pub fn overly_permissive(document: &str) -> Result<Vec<&'static str>, String> {
    let statements = statements(document)?;
    Ok(broad_data_plane(&statements))
}

pub(crate) fn broad_data_plane(statements: &[RawStatement]) -> Vec<&'static str> {
    DATA_PLANE
        .iter()
        .filter(|(action, kind)| {
            statements
                .iter()
                .filter(|s| s.allow && s.covers(action))
                .any(|s| grants_broadly(s, *kind))
        })
        .map(|(action, _)| *action)
        .collect()
}

/// Whether the statement's resources reach a broad set of resources of `kind`.
pub(crate) fn grants_broadly(statement: &RawStatement, kind: Kind) -> bool {
    if statement.not_resource {
        return true;
    }
    statement.resources.iter().any(|r| {
        name_of(r, kind)
            .is_some_and(|name| is_broad(&name, kind, statement.requires_attached_thing))
    })
}

/// The name part of `resource` for resources of `kind` (`client/NAME` → `NAME`); `*` when a
/// wildcard lets the resource cover every resource of that kind; `None` when it names
/// resources of another kind or service.
pub(crate) fn name_of(resource: &str, kind: Kind) -> Option<String> {
    if resource == "*" {
        return Some("*".into());
    }
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" || !glob(parts[2], "iot", false) {
        return None;
    }
    let rest = parts[5];
    if let Some(name) = rest.strip_prefix(kind.prefix()) {
        return Some(name.to_string());
    }
    // `topic*` or `*` before the type's slash covers every resource of the type.
    let literal_end = rest.find(['*', '?']).unwrap_or(rest.len());
    let literal = &rest[..literal_end];
    (literal_end < rest.len() && kind.prefix().starts_with(literal)).then(|| "*".into())
}

enum Token<'a> {
    Char(char),
    Variable(&'a str),
}

fn tokens(name: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut rest = name;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("${")
            && let Some(end) = after.find('}')
        {
            let inner = &after[..end];
            // `${*}`, `${?}`, `${$}` are the literal characters.
            match inner {
                "*" | "?" | "$" => out.push(Token::Char('x')),
                _ => out.push(Token::Variable(
                    inner.split(',').next().unwrap_or("").trim(),
                )),
            }
            rest = &after[end + 1..];
            continue;
        }
        out.push(Token::Char(c));
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Whether a resource name lets a device reach other devices' resources.
fn is_broad(name: &str, kind: Kind, attached: bool) -> bool {
    for token in tokens(name) {
        match token {
            Token::Char('*' | '?') => return true,
            Token::Char('+' | '#') if kind == Kind::TopicFilter => return true,
            Token::Char(_) => {}
            Token::Variable(var) => {
                if var.eq_ignore_ascii_case("iot:ClientId") {
                    // The client chooses its id: only an attached thing pins it to the device.
                    return !attached;
                }
                if PER_DEVICE.iter().any(|v| v.eq_ignore_ascii_case(var)) {
                    return false;
                }
            }
        }
    }
    false
}

/// Policy variables whose value is unique to the connecting device.
const PER_DEVICE: &[&str] = &[
    "iot:Connection.Thing.ThingName",
    "iot:Certificate.Subject.CommonName",
    "iot:Certificate.SerialNumber",
    "iot:Certificate.Subject.SerialNumber",
];

/// The misconfiguration reasons of `document` (empty: compliant), each at most once.
pub fn potential_misconfiguration(document: &str) -> Result<Vec<&'static str>, String> {
    let statements = statements(document)?;
    let mut reasons = Vec::new();
    if statements.iter().any(deny_with_mqtt_wildcards) {
        reasons.push(POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT);
    }
    if statements
        .iter()
        .any(|deny| deny_bypassed_by_wildcard_filter(deny, &statements))
    {
        reasons.push(TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS);
    }
    Ok(reasons)
}

/// A Deny on a topic or topic filter that contains `+` or `#`: they only block the literal
/// filter, not the topics an MQTT wildcard would stand for.
fn deny_with_mqtt_wildcards(statement: &RawStatement) -> bool {
    if statement.allow || statement.not_resource {
        return false;
    }
    let pairs = [
        ("iot:Subscribe", Kind::TopicFilter),
        ("iot:Receive", Kind::Topic),
        ("iot:Publish", Kind::Topic),
    ];
    pairs.iter().any(|(action, kind)| {
        statement.covers(action)
            && statement
                .resources
                .iter()
                .filter_map(|r| name_of(r, *kind))
                .any(|name| name != "*" && name.contains(['+', '#']))
    })
}

/// A Deny on `topicfilter/PREFIX*` (meant to keep a device out of a topic subtree) while the
/// device may subscribe to an MQTT wildcard filter above the subtree (`building/#`) and
/// receive messages inside it.
fn deny_bypassed_by_wildcard_filter(deny: &RawStatement, all: &[RawStatement]) -> bool {
    if deny.allow || deny.not_resource || !deny.covers("iot:Subscribe") {
        return false;
    }
    deny.resources
        .iter()
        .filter_map(|r| name_of(r, Kind::TopicFilter))
        .filter_map(|name| {
            let cut = name.find(['*', '?'])?;
            (cut > 0).then(|| name[..cut].to_string())
        })
        .any(|prefix| {
            let levels: Vec<&str> = prefix.split('/').collect();
            // Only complete levels above the subtree can carry a `#`.
            let complete = levels.len() - 1;
            let filters = (0..=complete).map(|i| {
                if i == 0 {
                    "#".to_string()
                } else {
                    format!("{}/#", levels[..i].join("/"))
                }
            });
            let sample_topic = format!("{prefix}x");
            filters
                .into_iter()
                .any(|f| allowed(all, "iot:Subscribe", Kind::TopicFilter, &f))
                && allowed(all, "iot:Receive", Kind::Topic, &sample_topic)
        })
}

/// Whether the statements allow `action` on the resource named `name` (variables are taken
/// literally: a static analysis cannot know them).
fn allowed(statements: &[RawStatement], action: &str, kind: Kind, name: &str) -> bool {
    let matches = |s: &RawStatement| {
        s.covers(action)
            && (s.not_resource
                != s.resources
                    .iter()
                    .filter_map(|r| name_of(r, kind))
                    .any(|pattern| glob(&pattern, name, false)))
    };
    statements.iter().any(|s| s.allow && matches(s))
        && !statements.iter().any(|s| !s.allow && matches(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:iot:us-east-1:123456789012";

    fn doc(statements: &[(&str, &str, &str)]) -> String {
        let items: Vec<serde_json::Value> = statements
            .iter()
            .map(|(effect, action, resource)| {
                serde_json::json!({"Effect": effect, "Action": action, "Resource": resource})
            })
            .collect();
        serde_json::json!({"Version": "2012-10-17", "Statement": items}).to_string()
    }

    fn broad(action: &str, resource: &str) -> Vec<&'static str> {
        overly_permissive(&doc(&[("Allow", action, resource)])).unwrap()
    }

    #[test]
    fn iot_star_on_star_is_broad_for_every_data_plane_action() {
        let all: Vec<&str> = DATA_PLANE.iter().map(|(a, _)| *a).collect();
        assert_eq!(broad("iot:*", "*"), all);
        assert_eq!(broad("*", "*"), all);
    }

    #[test]
    fn documented_examples() {
        assert_eq!(
            broad("iot:Connect", &format!("{ARN}:client/*")),
            ["iot:Connect"]
        );
        assert_eq!(
            broad("iot:Connect", &format!("{ARN}:client/${{iot:ClientId}}")),
            ["iot:Connect"]
        );
        let attached = serde_json::json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "iot:Connect",
            "Resource": format!("{ARN}:client/${{iot:ClientId}}"),
            "Condition": {"Bool": {"iot:Connection.Thing.IsAttached": "true"}}}]});
        assert!(overly_permissive(&attached.to_string()).unwrap().is_empty());
        assert!(
            broad(
                "iot:Connect",
                &format!("{ARN}:client/${{iot:Connection.Thing.ThingName}}")
            )
            .is_empty()
        );
        for r in ["topic/$aws/things/*/shadow/update", "topic/$aws/things/*"] {
            assert_eq!(broad("iot:Publish", &format!("{ARN}:{r}")), ["iot:Publish"]);
        }
        assert!(
            broad(
                "iot:Publish",
                &format!("{ARN}:topic/$aws/things/${{iot:Connection.Thing.ThingName}}/shadow/*")
            )
            .is_empty()
        );
        for r in [
            "topicfilter/$aws/things/*",
            "topicfilter/$aws/things/#",
            "topicfilter/$aws/things/+/shadow/update",
        ] {
            assert_eq!(
                broad("iot:Subscribe", &format!("{ARN}:{r}")),
                ["iot:Subscribe"]
            );
        }
        assert!(broad("iot:Receive", &format!("{ARN}:topic/$aws/things/*")).is_empty());
        assert_eq!(
            broad("iot:GetThingShadow", &format!("{ARN}:thing/*")),
            ["iot:GetThingShadow"]
        );
        assert!(broad("iot:UpdateThingShadow", &format!("{ARN}:thing/sensor-1")).is_empty());
        // A topic name cannot contain MQTT wildcards, so a literal `#` there is not broad.
        assert!(broad("iot:Publish", &format!("{ARN}:topic/a/#")).is_empty());
        // Another resource type does not grant this action anything.
        assert!(broad("iot:Connect", &format!("{ARN}:topic/*")).is_empty());
        assert_eq!(broad("iot:Connect", &format!("{ARN}:*")), ["iot:Connect"]);
        assert_eq!(broad("iot:Connect", &format!("{ARN}:cl*")), ["iot:Connect"]);
    }

    #[test]
    fn not_resource_and_action_wildcards_count() {
        let d = serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "iot:*Shadow",
            "NotResource": format!("{ARN}:thing/admin")}]});
        assert_eq!(
            overly_permissive(&d.to_string()).unwrap(),
            [
                "iot:GetThingShadow",
                "iot:UpdateThingShadow",
                "iot:DeleteThingShadow"
            ]
        );
        assert!(
            overly_permissive(&doc(&[("Deny", "iot:*", "*")]))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn misconfiguration_mqtt_wildcard_in_deny() {
        let d = doc(&[
            (
                "Allow",
                "iot:Subscribe",
                &format!("{ARN}:topicfilter/building/*"),
            ),
            ("Allow", "iot:Receive", &format!("{ARN}:topic/building/*")),
            (
                "Deny",
                "iot:Subscribe",
                &format!("{ARN}:topicfilter/building/control_room/#"),
            ),
        ]);
        assert_eq!(
            potential_misconfiguration(&d).unwrap(),
            [POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT]
        );
    }

    #[test]
    fn misconfiguration_deny_bypassed_by_wildcard_subscription() {
        let d = doc(&[
            (
                "Allow",
                "iot:Subscribe",
                &format!("{ARN}:topicfilter/building/*"),
            ),
            ("Allow", "iot:Receive", &format!("{ARN}:topic/building/*")),
            (
                "Deny",
                "iot:Subscribe",
                &format!("{ARN}:topicfilter/building/control_room/*"),
            ),
        ]);
        assert_eq!(
            potential_misconfiguration(&d).unwrap(),
            [TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS]
        );
        // Denying Receive in the subtree as well closes the gap.
        let closed = doc(&[
            (
                "Allow",
                "iot:Subscribe",
                &format!("{ARN}:topicfilter/building/*"),
            ),
            ("Allow", "iot:Receive", &format!("{ARN}:topic/building/*")),
            (
                "Deny",
                "iot:Subscribe",
                &format!("{ARN}:topicfilter/building/control_room/*"),
            ),
            (
                "Deny",
                "iot:Receive",
                &format!("{ARN}:topic/building/control_room/*"),
            ),
        ]);
        assert!(potential_misconfiguration(&closed).unwrap().is_empty());
        let compliant = doc(&[("Allow", "iot:Subscribe", &format!("{ARN}:topicfilter/a/b"))]);
        assert!(potential_misconfiguration(&compliant).unwrap().is_empty());
    }
}
