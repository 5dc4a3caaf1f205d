//! The decision table: policy documents, a request and its context, and the expected effect.
//! Every row is also checked through `explain`, which must agree with `decide`.

use fleetward_policy::{
    Action, AltNameKind, AlternativeNames, AuthContext, CertificateContext, ConnectContext,
    DistinguishedName, DnAttribute, Effect, Policy, ThingContext, decide, explain,
};

const PREFIX: &str = "arn:aws:iot:us-east-1:123456789012";
/// 2024-07-01T12:00:00Z
const NOW_MS: i64 = 1_719_835_200_000;

use Action::{Connect, Publish, Receive, RetainPublish, Subscribe};
use Effect::{Allowed, ExplicitDeny, ImplicitDeny};

/// Changes to the default device context (thing `dev-1`, attached, client id `dev-1`).
#[derive(Clone, Copy)]
enum M {
    NoThing,
    Unattached,
    NoCert,
    NoTypeName,
    ClientId(&'static str),
    Ip(&'static str),
    Domain(&'static str),
    Now(&'static str),
    Persistent,
    Will(&'static str),
    KeepAlive(u16),
}

struct Case {
    name: &'static str,
    /// Each entry is one policy: either a whole document or a list of statements. `{A}` stands
    /// for `arn:aws:iot:us-east-1:123456789012`.
    policies: &'static [&'static str],
    action: Action,
    resource: &'static str,
    mods: &'static [M],
    expect: Effect,
}

const fn case(
    name: &'static str,
    policies: &'static [&'static str],
    action: Action,
    resource: &'static str,
    mods: &'static [M],
    expect: Effect,
) -> Case {
    Case {
        name,
        policies,
        action,
        resource,
        mods,
        expect,
    }
}

const ALLOW_ALL: &str = r#"{"Effect":"Allow","Action":"iot:*","Resource":"*"}"#;

#[rustfmt::skip]
const CASES: &[Case] = &[
    // Allow, explicit deny, implicit deny.
    case("exact topic allowed", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/a/b"}"#], Publish, "{A}:topic/a/b", &[], Allowed),
    case("other topic implicitly denied", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/a/b"}"#], Publish, "{A}:topic/a/c", &[], ImplicitDeny),
    case("other account implicitly denied", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/a"}"#], Publish, "arn:aws:iot:us-east-1:999999999999:topic/a", &[], ImplicitDeny),
    case("no policies", &[], Connect, "{A}:client/dev-1", &[], ImplicitDeny),
    case("action not granted", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"*"}"#], Subscribe, "{A}:topicfilter/a", &[], ImplicitDeny),
    case("deny in same policy wins", &[r#"{"Effect":"Allow","Action":"iot:*","Resource":"*"},{"Effect":"Deny","Action":"iot:Publish","Resource":"{A}:topic/admin/*"}"#], Publish, "{A}:topic/admin/reset", &[], ExplicitDeny),
    case("deny in another policy wins", &[ALLOW_ALL, r#"{"Effect":"Deny","Action":"iot:Connect","Resource":"{A}:client/dev-1"}"#], Connect, "{A}:client/dev-1", &[], ExplicitDeny),
    case("deny on other resource leaves allow", &[ALLOW_ALL, r#"{"Effect":"Deny","Action":"iot:Connect","Resource":"{A}:client/evil"}"#], Connect, "{A}:client/dev-1", &[], Allowed),
    case("allow split across policies", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}"#, r#"{"Effect":"Allow","Action":"iot:Receive","Resource":"{A}:topic/x"}"#], Receive, "{A}:topic/x", &[], Allowed),
    case("deny alone is implicit for others", &[r#"{"Effect":"Deny","Action":"iot:Publish","Resource":"{A}:topic/x"}"#], Publish, "{A}:topic/y", &[], ImplicitDeny),
    // Action wildcards and NotAction.
    case("iot:Pub* covers Publish", &[r#"{"Effect":"Allow","Action":"iot:Pub*","Resource":"*"}"#], Publish, "{A}:topic/a", &[], Allowed),
    case("iot:Pub* does not cover RetainPublish", &[r#"{"Effect":"Allow","Action":"iot:Pub*","Resource":"*"}"#], RetainPublish, "{A}:topic/a", &[], ImplicitDeny),
    case("iot:*Publish covers RetainPublish", &[r#"{"Effect":"Allow","Action":"iot:*Publish","Resource":"*"}"#], RetainPublish, "{A}:topic/a", &[], Allowed),
    case("bare * covers Receive", &[r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#], Receive, "{A}:topic/a", &[], Allowed),
    case("actions are case-insensitive", &[r#"{"Effect":"Allow","Action":["IOT:SUBSCRIBE"],"Resource":"*"}"#], Subscribe, "{A}:topicfilter/a", &[], Allowed),
    case("iot:?eceive", &[r#"{"Effect":"Allow","Action":"iot:?eceive","Resource":"*"}"#], Receive, "{A}:topic/a", &[], Allowed),
    case("NotAction grants the others", &[r#"{"Effect":"Allow","NotAction":"iot:Publish","Resource":"*"}"#], Subscribe, "{A}:topicfilter/a", &[], Allowed),
    case("NotAction excludes its own", &[r#"{"Effect":"Allow","NotAction":"iot:Publish","Resource":"*"}"#], Publish, "{A}:topic/a", &[], ImplicitDeny),
    case("Deny NotAction", &[ALLOW_ALL, r#"{"Effect":"Deny","NotAction":["iot:Connect","iot:Receive"],"Resource":"*"}"#], Publish, "{A}:topic/a", &[], ExplicitDeny),
    // Resource wildcards and NotResource.
    case("* spans levels", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/sensors/*"}"#], Publish, "{A}:topic/sensors/a/b/c", &[], Allowed),
    case("? is one character", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/s/?"}"#], Publish, "{A}:topic/s/a", &[], Allowed),
    case("? is not two characters", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/s/?"}"#], Publish, "{A}:topic/s/ab", &[], ImplicitDeny),
    case("* inside the ARN", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:*:123456789012:topic/a"}"#], Publish, "{A}:topic/a", &[], Allowed),
    case("resources are case-sensitive", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/Alarm"}"#], Publish, "{A}:topic/alarm", &[], ImplicitDeny),
    case("NotResource excludes", &[r#"{"Effect":"Allow","Action":"iot:Publish","NotResource":"{A}:topic/admin/*"}"#], Publish, "{A}:topic/admin/x", &[], ImplicitDeny),
    case("NotResource allows the rest", &[r#"{"Effect":"Allow","Action":"iot:Publish","NotResource":"{A}:topic/admin/*"}"#], Publish, "{A}:topic/data/x", &[], Allowed),
    // MQTT wildcards are literal characters.
    case("topicfilter # matches itself", &[r#"{"Effect":"Allow","Action":"iot:Subscribe","Resource":"{A}:topicfilter/sensors/#"}"#], Subscribe, "{A}:topicfilter/sensors/#", &[], Allowed),
    case("topicfilter # is not a wildcard", &[r#"{"Effect":"Allow","Action":"iot:Subscribe","Resource":"{A}:topicfilter/sensors/#"}"#], Subscribe, "{A}:topicfilter/sensors/a", &[], ImplicitDeny),
    case("topic + is not a wildcard", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/s/+/t"}"#], Publish, "{A}:topic/s/x/t", &[], ImplicitDeny),
    case("deny with # misses other filters", &[ALLOW_ALL, r#"{"Effect":"Deny","Action":"iot:Subscribe","Resource":"{A}:topicfilter/room/#"}"#], Subscribe, "{A}:topicfilter/room/+", &[], Allowed),
    case("* in policy covers MQTT filter", &[r#"{"Effect":"Allow","Action":"iot:Subscribe","Resource":"{A}:topicfilter/room/*"}"#], Subscribe, "{A}:topicfilter/room/+/temp", &[], Allowed),
    // Policy variables.
    case("ClientId variable", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"{A}:client/${iot:ClientId}"}"#], Connect, "{A}:client/dev-1", &[], Allowed),
    case("ClientId variable mismatch", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"{A}:client/${iot:ClientId}"}"#], Connect, "{A}:client/dev-1", &[M::ClientId("dev-2")], ImplicitDeny),
    case("ClientId value is literal", &[r#"{"Effect":"Allow","Action":"iot:Subscribe","Resource":"{A}:topicfilter/my/${iot:ClientId}/t"}"#], Subscribe, "{A}:topicfilter/my/x/t", &[M::ClientId("*")], ImplicitDeny),
    case("ThingName variable", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/things/${iot:Connection.Thing.ThingName}/*"}"#], Publish, "{A}:topic/things/dev-1/telemetry", &[], Allowed),
    case("ThingName variable other thing", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/things/${iot:Connection.Thing.ThingName}/*"}"#], Publish, "{A}:topic/things/dev-2/telemetry", &[], ImplicitDeny),
    case("ThingName unresolved without thing", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"{A}:client/${iot:Connection.Thing.ThingName}"}"#], Connect, "{A}:client/dev-1", &[M::NoThing], ImplicitDeny),
    case("literal ${...} cannot be spoofed", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"{A}:client/${iot:Connection.Thing.ThingName}"}"#], Connect, "{A}:client/${iot:Connection.Thing.ThingName}", &[M::NoThing], ImplicitDeny),
    case("ThingTypeName variable", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/types/${iot:Connection.Thing.ThingTypeName}"}"#], Publish, "{A}:topic/types/sensor", &[], Allowed),
    case("ThingTypeName unresolved", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/types/${iot:Connection.Thing.ThingTypeName}"}"#], Publish, "{A}:topic/types/", &[M::NoTypeName], ImplicitDeny),
    case("thing attribute variable", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/fleet/${iot:Connection.Thing.Attributes[fleet]}/*"}"#], Publish, "{A}:topic/fleet/blue/x", &[], Allowed),
    case("missing thing attribute", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/fleet/${iot:Connection.Thing.Attributes[color]}/*"}"#], Publish, "{A}:topic/fleet//x", &[], ImplicitDeny),
    case("IsAttached variable", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/attached/${iot:Connection.Thing.IsAttached}"}"#], Publish, "{A}:topic/attached/true", &[], Allowed),
    case("certificate CommonName variable", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/cn/${iot:Certificate.Subject.CommonName}"}"#], Publish, "{A}:topic/cn/dev-1", &[], Allowed),
    case("certificate second Country", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/c/${iot:Certificate.Subject.Country.1}"}"#], Publish, "{A}:topic/c/CA", &[], Allowed),
    case("certificate value with wildcard stays unresolved", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/ou/${iot:Certificate.Subject.OrganizationalUnit}"}"#], Publish, "{A}:topic/ou/ops*", &[], ImplicitDeny),
    case("certificate issuer and SAN", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/${iot:Certificate.Issuer.CommonName}/${iot:Certificate.Subject.AlternativeName.DNSName}"}"#], Publish, "{A}:topic/Fleet CA/dev-1.example.com", &[], Allowed),
    case("certificate id variable", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/cert/${iot:Certificate.Id}"}"#], Publish, "{A}:topic/cert/abc123", &[], Allowed),
    case("certificate variable without certificate", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/cert/${iot:Certificate.Id}"}"#], Publish, "{A}:topic/cert/abc123", &[M::NoCert], ImplicitDeny),
    case("DomainName variable", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/${iot:DomainName}/x"}"#], Publish, "{A}:topic/iot.example.com/x", &[M::Domain("iot.example.com")], Allowed),
    case("escaped star is literal", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/a${*}"}"#], Publish, "{A}:topic/ab", &[], ImplicitDeny),
    case("escaped star matches itself", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/a${*}"}"#], Publish, "{A}:topic/a*", &[], Allowed),
    case("variable default value", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/t/${iot:Connection.Thing.ThingTypeName, 'untyped'}"}"#], Publish, "{A}:topic/t/untyped", &[M::NoTypeName], Allowed),
    case("unresolved variable voids a deny", &[ALLOW_ALL, r#"{"Effect":"Deny","Action":"iot:Publish","Resource":"{A}:topic/${iot:Connection.Thing.ThingName}/*"}"#], Publish, "{A}:topic/dev-1/x", &[M::NoThing], Allowed),
    case("no Version: variables are literal", &[r#"{"Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"{A}:client/${iot:ClientId}"}]}"#], Connect, "{A}:client/dev-1", &[], ImplicitDeny),
    case("2008 version: literal match", &[r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"{A}:client/${iot:ClientId}"}]}"#], Connect, "{A}:client/${iot:ClientId}", &[], Allowed),
    // Conditions: strings.
    case("StringEquals on thing attribute", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"StringEquals":{"iot:Connection.Thing.Attributes[fleet]":"blue"}}}"#], Publish, "{A}:topic/a", &[], Allowed),
    case("StringEquals mismatch", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"StringEquals":{"iot:Connection.Thing.Attributes[fleet]":"red"}}}"#], Publish, "{A}:topic/a", &[], ImplicitDeny),
    case("StringEquals with variable value", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringEquals":{"iot:ClientId":"${iot:Connection.Thing.ThingName}"}}}"#], Connect, "{A}:client/dev-1", &[], Allowed),
    case("StringEqualsIgnoreCase", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"iot:ClientId":"DEV-1"}}}"#], Connect, "{A}:client/dev-1", &[], Allowed),
    case("StringLike", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringLike":{"iot:ClientId":["dev-*","lab-?"]}}}"#], Connect, "{A}:client/dev-1", &[], Allowed),
    case("StringNotLike", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringNotLike":{"iot:ClientId":"dev-*"}}}"#], Connect, "{A}:client/dev-1", &[], ImplicitDeny),
    case("all keys of an operator must hold", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"StringEquals":{"iot:Connection.Thing.Attributes[fleet]":"blue","iot:Connection.Thing.ThingTypeName":"camera"}}}"#], Publish, "{A}:topic/a", &[], ImplicitDeny),
    case("StringNotEquals on absent key holds", &[ALLOW_ALL, r#"{"Effect":"Deny","Action":"iot:Publish","Resource":"*","Condition":{"StringNotEquals":{"iot:Connection.Thing.Attributes[zone]":"eu"}}}"#], Publish, "{A}:topic/a", &[], ExplicitDeny),
    case("StringEquals on absent key fails", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"StringEquals":{"iot:Connection.Thing.Attributes[zone]":"eu"}}}"#], Publish, "{A}:topic/a", &[], ImplicitDeny),
    case("IfExists on absent key", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"StringEqualsIfExists":{"iot:Connection.Thing.Attributes[zone]":"eu"}}}"#], Publish, "{A}:topic/a", &[], Allowed),
    case("IfExists on present key still compares", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"StringEqualsIfExists":{"iot:Connection.Thing.Attributes[fleet]":"red"}}}"#], Publish, "{A}:topic/a", &[], ImplicitDeny),
    case("Null true on absent key", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"Null":{"iot:Connection.Thing.ThingTypeName":"true"}}}"#], Publish, "{A}:topic/a", &[M::NoTypeName], Allowed),
    case("Null true on present key", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"Null":{"iot:Connection.Thing.ThingTypeName":"true"}}}"#], Publish, "{A}:topic/a", &[], ImplicitDeny),
    case("Null false denies unregistered", &[ALLOW_ALL, r#"{"Effect":"Deny","Action":"iot:Connect","Resource":"*","Condition":{"Null":{"iot:Connection.Thing.ThingName":"true"}}}"#], Connect, "{A}:client/dev-1", &[M::NoThing], ExplicitDeny),
    // Bool.
    case("Bool IsAttached", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"{A}:client/${iot:Connection.Thing.ThingName}","Condition":{"Bool":{"iot:Connection.Thing.IsAttached":"true"}}}"#], Connect, "{A}:client/dev-1", &[], Allowed),
    case("Bool IsAttached false", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"Bool":{"iot:Connection.Thing.IsAttached":["true"]}}}"#], Connect, "{A}:client/dev-1", &[M::Unattached], ImplicitDeny),
    case("Bool IsAttached without thing", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"Bool":{"iot:Connection.Thing.IsAttached":true}}}"#], Connect, "{A}:client/dev-1", &[M::NoThing], ImplicitDeny),
    // IP ranges.
    case("IpAddress in range", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}"#], Connect, "{A}:client/dev-1", &[], Allowed),
    case("IpAddress out of range", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.1.1"]}}}"#], Connect, "{A}:client/dev-1", &[], ImplicitDeny),
    case("NotIpAddress deny", &[ALLOW_ALL, r#"{"Effect":"Deny","Action":"iot:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}"#], Publish, "{A}:topic/a", &[], ExplicitDeny),
    case("IPv6 range", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}}"#], Connect, "{A}:client/dev-1", &[M::Ip("2001:db8::7")], Allowed),
    case("IPv4-mapped source", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}"#], Connect, "{A}:client/dev-1", &[M::Ip("::ffff:203.0.113.9")], Allowed),
    // Numeric.
    case("NumericLessThanEquals KeepAlive", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"NumericLessThanEquals":{"iot:KeepAlive":"1200"}}}"#], Connect, "{A}:client/dev-1", &[M::KeepAlive(60)], Allowed),
    case("NumericGreaterThan KeepAlive", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"NumericGreaterThan":{"iot:KeepAlive":60}}}"#], Connect, "{A}:client/dev-1", &[M::KeepAlive(60)], ImplicitDeny),
    case("Numeric on attribute text", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"NumericGreaterThanEquals":{"iot:Connection.Thing.Attributes[floor]":"4.5"}}}"#], Publish, "{A}:topic/a", &[], Allowed),
    case("Numeric on non-number attribute", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"NumericEquals":{"iot:Connection.Thing.Attributes[fleet]":"1"}}}"#], Publish, "{A}:topic/a", &[], ImplicitDeny),
    case("NumericNotEquals EpochTime", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"NumericNotEquals":{"aws:EpochTime":"0"}}}"#], Publish, "{A}:topic/a", &[], Allowed),
    // Dates.
    case("DateLessThan CurrentTime", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2025-01-01T00:00:00Z"}}}"#], Publish, "{A}:topic/a", &[], Allowed),
    case("DateLessThan CurrentTime expired", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2025-01-01T00:00:00Z"}}}"#], Publish, "{A}:topic/a", &[M::Now("2025-06-01T00:00:00Z")], ImplicitDeny),
    case("DateGreaterThanEquals EpochTime", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"DateGreaterThanEquals":{"aws:EpochTime":"1719835200"}}}"#], Publish, "{A}:topic/a", &[], Allowed),
    case("DateGreaterThan certificate NotAfter", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"DateGreaterThan":{"iot:Certificate.Validity.NotAfter":"2024-12-31"}}}"#], Connect, "{A}:client/dev-1", &[], Allowed),
    // Sets: connect attributes and certificate lists.
    case("ForAllValues PersistentConnect allowed", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"ForAllValues:StringEquals":{"iot:ConnectAttributes":["PersistentConnect"]}}}"#], Connect, "{A}:client/dev-1", &[M::Persistent], Allowed),
    case("ForAllValues rejects LastWill", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"ForAllValues:StringEquals":{"iot:ConnectAttributes":["PersistentConnect"]}}}"#], Connect, "{A}:client/dev-1", &[M::Will("{A}:topic/will")], ImplicitDeny),
    case("ForAllValues empty list: default features only", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"ForAllValues:StringEquals":{"iot:ConnectAttributes":[]}}}"#], Connect, "{A}:client/dev-1", &[], Allowed),
    case("ForAnyValue deny PersistentConnect", &[ALLOW_ALL, r#"{"Effect":"Deny","Action":"iot:Connect","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"iot:ConnectAttributes":["PersistentConnect"]}}}"#], Connect, "{A}:client/dev-1", &[M::Persistent, M::Will("{A}:topic/will")], ExplicitDeny),
    case("ForAnyValue deny spares clean sessions", &[ALLOW_ALL, r#"{"Effect":"Deny","Action":"iot:Connect","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"iot:ConnectAttributes":["PersistentConnect"]}}}"#], Connect, "{A}:client/dev-1", &[M::Will("{A}:topic/will")], Allowed),
    case("ArnEquals LastWillTopic", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"ArnEquals":{"iot:LastWillTopic":"{A}:topic/will/${iot:ClientId}"}}}"#], Connect, "{A}:client/dev-1", &[M::Will("{A}:topic/will/dev-1")], Allowed),
    case("ArnLike LastWillTopic other topic", &[r#"{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"ArnLike":{"iot:LastWillTopic":"{A}:topic/will/*"}}}"#], Connect, "{A}:client/dev-1", &[M::Will("{A}:topic/other")], ImplicitDeny),
    case("ForAllValues organization list", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"ForAllValues:StringEquals":{"iot:Certificate.Subject.Organization.List":["Example Corp","AnyCompany"]}}}"#], Publish, "{A}:topic/a", &[], Allowed),
    case("ForAnyValue SAN list", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"ForAnyValue:StringLike":{"iot:Certificate.Subject.AlternativeName.DNSName.List":"*.lab.example.com"}}}"#], Publish, "{A}:topic/a", &[], Allowed),
    // A typical device policy, several policies at once.
    case("device policy: retained publish needs RetainPublish", &[r#"{"Effect":"Allow","Action":"iot:Publish","Resource":"{A}:topic/things/${iot:Connection.Thing.ThingName}/*"}"#], RetainPublish, "{A}:topic/things/dev-1/state", &[], ImplicitDeny),
];

struct Fixture {
    cert: CertificateContext,
    attributes: Vec<(String, String)>,
}

fn fixture() -> Fixture {
    Fixture {
        cert: CertificateContext {
            id: "abc123".into(),
            serial_number: "5f:01".into(),
            subject: DistinguishedName::default()
                .with(DnAttribute::CommonName, "dev-1")
                .with(DnAttribute::Organization, "Example Corp")
                .with(DnAttribute::Organization, "AnyCompany")
                .with(DnAttribute::OrganizationalUnit, "ops*")
                .with(DnAttribute::Country, "US")
                .with(DnAttribute::Country, "CA"),
            issuer: DistinguishedName::default().with(DnAttribute::CommonName, "Fleet CA"),
            subject_alt_names: AlternativeNames::default()
                .with(AltNameKind::DnsName, "dev-1.example.com")
                .with(AltNameKind::DnsName, "dev-1.lab.example.com"),
            not_before_ms: Some(NOW_MS - 86_400_000),
            not_after_ms: Some(NOW_MS + 365 * 86_400_000),
            ..CertificateContext::default()
        },
        attributes: vec![
            ("fleet".into(), "blue".into()),
            ("floor".into(), "5".into()),
        ],
    }
}

fn expand(s: &str) -> String {
    s.replace("{A}", PREFIX)
}

fn document(policy: &str) -> String {
    let policy = expand(policy);
    if policy.starts_with(r#"{"Version""#) || policy.starts_with(r#"{"Statement""#) {
        policy
    } else {
        format!(r#"{{"Version":"2012-10-17","Statement":[{policy}]}}"#)
    }
}

fn context<'a>(fx: &'a Fixture, action: Action, mods: &[M], will: &'a str) -> AuthContext<'a> {
    let mut ctx = AuthContext {
        client_id: Some("dev-1"),
        thing: Some(ThingContext {
            name: "dev-1",
            type_name: Some("sensor"),
            attributes: &fx.attributes,
            is_attached: true,
        }),
        certificate: Some(&fx.cert),
        source_ip: "203.0.113.7".parse().ok(),
        ..AuthContext::new("us-east-1", "123456789012", NOW_MS)
    };
    let mut connect = ConnectContext {
        clean_session: true,
        keep_alive_secs: 30,
        ..ConnectContext::default()
    };
    for m in mods {
        match *m {
            M::NoThing => ctx.thing = None,
            M::Unattached => ctx.thing.as_mut().unwrap().is_attached = false,
            M::NoTypeName => ctx.thing.as_mut().unwrap().type_name = None,
            M::NoCert => ctx.certificate = None,
            M::ClientId(id) => ctx.client_id = Some(id),
            M::Ip(ip) => ctx.source_ip = Some(ip.parse().unwrap()),
            M::Domain(d) => ctx.domain = Some(d),
            M::Now(iso) => {
                let secs = time::OffsetDateTime::parse(
                    iso,
                    &time::format_description::well_known::Rfc3339,
                )
                .unwrap()
                .unix_timestamp();
                ctx.now_epoch_ms = secs * 1000;
            }
            M::Persistent => {
                connect.persistent_session = true;
                connect.clean_session = false;
            }
            M::Will(_) => {
                connect.last_will = true;
                connect.last_will_topic_arn = Some(will);
            }
            M::KeepAlive(k) => connect.keep_alive_secs = k,
        }
    }
    if action == Action::Connect {
        ctx.connect = Some(connect);
    }
    ctx
}

#[test]
fn decision_table() {
    let fx = fixture();
    let mut failures = Vec::new();
    for c in CASES {
        let policies: Vec<Policy> = c
            .policies
            .iter()
            .map(|p| Policy::parse(&document(p)).unwrap_or_else(|e| panic!("{}: {e}", c.name)))
            .collect();
        let will = c
            .mods
            .iter()
            .find_map(|m| match m {
                M::Will(t) => Some(expand(t)),
                _ => None,
            })
            .unwrap_or_default();
        let ctx = context(&fx, c.action, c.mods, &will);
        let resource = expand(c.resource);
        let got = decide(&policies, c.action, &resource, &ctx);
        let refs: Vec<&Policy> = policies.iter().collect();
        let explained = explain(&refs, c.action, &resource, &ctx).effect;
        if got != c.expect || explained != c.expect {
            failures.push(format!(
                "{}: expected {:?}, decide {got:?}, explain {explained:?}",
                c.name, c.expect
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing rows:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(CASES.len() >= 40);
}
