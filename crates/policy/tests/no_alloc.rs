//! `decide` must not touch the heap: the gateway calls it for every message.
//! This binary counts allocations with an instrumented global allocator; it runs without the
//! libtest harness, whose own threads would allocate while the count is taken.

use std::alloc::System;

use fleetward_policy::{
    Action, AltNameKind, AlternativeNames, AuthContext, CertificateContext, ConnectContext,
    DistinguishedName, DnAttribute, Effect, Policy, ThingContext, client_arn, decide, topic_arn,
    topicfilter_arn,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const ROUNDS: usize = 1000;
const R: &str = "us-east-1";
const A: &str = "123456789012";

/// Statements exercising every operator family, set qualifiers, and variables whose text is
/// formatted on the fly (IP, time, numbers).
const POLICIES: [&str; 3] = [
    r#"{"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}",
       "Condition":{"Bool":{"iot:Connection.Thing.IsAttached":"true"},
                    "ForAllValues:StringEquals":{"iot:ConnectAttributes":["PersistentConnect","LastWill"]},
                    "NumericLessThanEquals":{"iot:KeepAlive":"1200"},
                    "ArnLike":{"iot:LastWillTopic":"arn:aws:iot:*:*:topic/will/*"}}},
      {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"arn:aws:iot:us-east-1:123456789012:topic/things/${iot:Connection.Thing.ThingName}/*",
       "Condition":{"StringEquals":{"iot:Connection.Thing.Attributes[fleet]":"blue"},
                    "IpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.113.0/24"]},
                    "DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}},
      {"Effect":"Allow","Action":"iot:Subscribe","Resource":"arn:aws:iot:us-east-1:123456789012:topicfilter/things/${iot:Connection.Thing.ThingName}/*"}
    ]}"#,
    r#"{"Version":"2012-10-17","Statement":[
      {"Effect":"Deny","Action":"iot:*","Resource":"arn:aws:iot:*:*:topic/ip/${aws:SourceIp}/${aws:CurrentTime}/${aws:EpochTime}/${iot:KeepAlive}"},
      {"Effect":"Deny","Action":"iot:Publish","Resource":"*",
       "Condition":{"StringNotLikeIfExists":{"iot:Certificate.Subject.CommonName":"dev-*"},
                    "ForAnyValue:StringEqualsIgnoreCase":{"iot:Certificate.Subject.AlternativeName.DNSName.List":"EVIL.EXAMPLE.COM"},
                    "Null":{"iot:Connection.Thing.ThingTypeName":"false"}}},
      {"Effect":"Deny","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/cert/${iot:Certificate.Subject.Country.1}/${iot:Certificate.Subject.OrganizationalUnit}/?"}
    ]}"#,
    r#"{"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Action":"iot:Publish","NotResource":"arn:aws:iot:*:*:topic/admin/*",
       "Condition":{"NumericGreaterThan":{"iot:Connection.Thing.Attributes[floor]":"2"},
                    "DateGreaterThan":{"iot:Certificate.Validity.NotAfter":"${aws:CurrentTime}"},
                    "ForAnyValue:StringLike":{"iot:Certificate.AvailableKeys":"*Country"},
                    "StringEquals":{"iot:ClientId":"${iot:Connection.Thing.ThingName, 'none'}"}}}
    ]}"#,
];

fn main() {
    let policies: Vec<Policy> = POLICIES.iter().map(|d| Policy::parse(d).unwrap()).collect();
    let attributes = vec![
        ("fleet".to_owned(), "blue".to_owned()),
        ("floor".to_owned(), "5".to_owned()),
    ];
    let cert = CertificateContext {
        id: "abc".into(),
        subject: DistinguishedName::default()
            .with(DnAttribute::CommonName, "dev-1")
            .with(DnAttribute::Country, "US")
            .with(DnAttribute::Country, "CA")
            .with(DnAttribute::OrganizationalUnit, "ops"),
        subject_alt_names: AlternativeNames::default()
            .with(AltNameKind::DnsName, "dev-1.example.com"),
        not_after_ms: Some(1_900_000_000_000),
        ..CertificateContext::default()
    };
    let will = topic_arn(R, A, "will/dev-1");
    let base = AuthContext {
        client_id: Some("dev-1"),
        thing: Some(ThingContext {
            name: "dev-1",
            type_name: Some("sensor"),
            attributes: &attributes,
            is_attached: true,
        }),
        certificate: Some(&cert),
        source_ip: "203.0.113.7".parse().ok(),
        ..AuthContext::new(R, A, 1_719_835_200_000)
    };
    let connect = AuthContext {
        connect: Some(ConnectContext {
            persistent_session: true,
            last_will: true,
            last_will_topic_arn: Some(&will),
            clean_session: false,
            keep_alive_secs: 60,
        }),
        ..base
    };
    let no_thing = AuthContext {
        thing: None,
        ..base
    };
    let requests = [
        (
            Action::Connect,
            client_arn(R, A, "dev-1"),
            connect,
            Effect::Allowed,
        ),
        (
            Action::Publish,
            topic_arn(R, A, "things/dev-1/temp"),
            base,
            Effect::Allowed,
        ),
        (
            Action::Receive,
            topic_arn(R, A, "things/dev-2/temp"),
            base,
            Effect::ImplicitDeny,
        ),
        (
            Action::Subscribe,
            topicfilter_arn(R, A, "things/dev-1/#"),
            base,
            Effect::Allowed,
        ),
        (
            Action::Publish,
            topic_arn(R, A, "admin/x"),
            base,
            Effect::ImplicitDeny,
        ),
        (
            Action::Publish,
            topic_arn(R, A, "cert/CA/ops/x"),
            base,
            Effect::ExplicitDeny,
        ),
        (
            Action::Publish,
            topic_arn(R, A, "things/dev-1/t"),
            no_thing,
            Effect::ImplicitDeny,
        ),
        (
            Action::RetainPublish,
            topic_arn(R, A, "x"),
            base,
            Effect::ImplicitDeny,
        ),
    ];
    // Warm up anything lazily initialised outside the crate (none expected).
    for (action, resource, ctx, _) in &requests {
        decide(&policies, *action, resource, ctx);
    }

    let region = Region::new(GLOBAL);
    let mut effects = [Effect::ImplicitDeny; 8];
    for _ in 0..ROUNDS {
        for (i, (action, resource, ctx, _)) in requests.iter().enumerate() {
            effects[i] = decide(&policies, *action, resource, ctx);
        }
    }
    let stats = region.change();

    for (i, (_, resource, _, expect)) in requests.iter().enumerate() {
        assert_eq!(effects[i], *expect, "{resource}");
    }
    assert_eq!(stats.allocations, 0, "{stats:?}");
    assert_eq!(stats.reallocations, 0, "{stats:?}");
    println!(
        "decide made no allocation in {} calls",
        ROUNDS * requests.len()
    );
}
