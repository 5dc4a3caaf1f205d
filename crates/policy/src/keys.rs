//! Condition keys and policy variables: parsing their names once, and looking their values up
//! in an [`AuthContext`] while deciding.

use crate::context::{AltNameKind, AuthContext, CertificateContext, DnAttribute};
use crate::value::{CERT_ARRAY_LIMIT, Multi, Text, Value};

/// A known key (or `Unknown`, which never has a value). Names are matched case-insensitively,
/// as IAM does, except the attribute name inside `Attributes[...]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    ClientId,
    Domain,
    SourceIp,
    CurrentTime,
    EpochTime,
    ThingName,
    ThingTypeName,
    ThingIsAttached,
    ThingAttribute(Box<str>),
    CertId,
    CertSerial,
    CertNotBefore,
    CertNotAfter,
    CertAvailableKeys,
    CertDn {
        issuer: bool,
        attribute: DnAttribute,
        pick: Pick,
    },
    CertAlt {
        issuer: bool,
        kind: AltNameKind,
        pick: Pick,
    },
    ConnectAttributes,
    LastWillTopic,
    CleanSession,
    KeepAlive,
    Unknown,
}

/// Which value of a multi-valued certificate attribute a name selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pick {
    /// `...Country` is index 0, `...Country.1` the second value.
    Index(usize),
    /// `...Country.List`: all values (multi-valued).
    List,
}

impl Key {
    pub(crate) fn parse(name: &str) -> Key {
        let Some((prefix, rest)) = name.split_once(':') else {
            return Key::Unknown;
        };
        if prefix.eq_ignore_ascii_case("aws") {
            return match_ci(
                rest,
                &[
                    ("SourceIp", Key::SourceIp),
                    ("CurrentTime", Key::CurrentTime),
                    ("EpochTime", Key::EpochTime),
                ],
            );
        }
        if !prefix.eq_ignore_ascii_case("iot") {
            return Key::Unknown;
        }
        if let Some(thing) = strip_prefix_ci(rest, "Connection.Thing.") {
            return parse_thing(thing);
        }
        if let Some(cert) = strip_prefix_ci(rest, "Certificate.") {
            return parse_certificate(cert);
        }
        match_ci(
            rest,
            &[
                ("ClientId", Key::ClientId),
                ("DomainName", Key::Domain),
                ("Domain", Key::Domain),
                ("ConnectAttributes", Key::ConnectAttributes),
                ("LastWillTopic", Key::LastWillTopic),
                ("CleanSession", Key::CleanSession),
                ("KeepAlive", Key::KeepAlive),
            ],
        )
    }

    /// The key's value in `ctx`, or `None` when the request has none.
    pub(crate) fn resolve<'a>(&self, ctx: &AuthContext<'a>) -> Option<Value<'a>> {
        let cert = || ctx.certificate;
        let thing = || ctx.thing.as_ref();
        match self {
            Key::ClientId => ctx.client_id.map(Value::Str),
            Key::Domain => ctx.domain.map(Value::Str),
            Key::SourceIp => ctx.source_ip.map(Value::Ip),
            Key::CurrentTime => Some(Value::Time(ctx.now_epoch_ms)),
            Key::EpochTime => Some(Value::Epoch(ctx.now_epoch_ms)),
            Key::ThingName => thing().map(|t| Value::Str(t.name)),
            Key::ThingTypeName => thing().and_then(|t| t.type_name).map(Value::Str),
            // With no thing at all the connection is certainly not attached to one.
            Key::ThingIsAttached => Some(Value::Bool(thing().is_some_and(|t| t.is_attached))),
            Key::ThingAttribute(name) => thing().and_then(|t| t.attribute(name)).map(Value::Str),
            Key::CertId => cert().map(|c| c.id.as_str()).and_then(non_empty),
            Key::CertSerial => cert().map(|c| c.serial_number.as_str()).and_then(non_empty),
            Key::CertNotBefore => cert().and_then(|c| c.not_before_ms).map(Value::Time),
            Key::CertNotAfter => cert().and_then(|c| c.not_after_ms).map(Value::Time),
            Key::CertAvailableKeys => cert().map(|c| {
                Value::Multi(Multi::Flags {
                    names: CERT_KEY_NAMES,
                    mask: available_mask(c),
                    next: 0,
                })
            }),
            Key::CertDn {
                issuer,
                attribute,
                pick,
            } => {
                let c = cert()?;
                let dn = if *issuer { &c.issuer } else { &c.subject };
                match *pick {
                    Pick::List => Some(Value::Multi(Multi::dn(dn, *attribute))),
                    Pick::Index(i) => Multi::dn(dn, *attribute).nth(i).map(Value::Str),
                }
            }
            Key::CertAlt { issuer, kind, pick } => {
                let c = cert()?;
                let names = if *issuer {
                    &c.issuer_alt_names
                } else {
                    &c.subject_alt_names
                };
                match *pick {
                    Pick::List => Some(Value::Multi(Multi::alt(names, *kind))),
                    Pick::Index(i) => Multi::alt(names, *kind).nth(i).map(Value::Str),
                }
            }
            Key::ConnectAttributes => ctx.connect.map(|c| {
                let mask = u64::from(c.persistent_session) | (u64::from(c.last_will) << 1);
                Value::Multi(Multi::Flags {
                    names: CONNECT_ATTRIBUTE_NAMES,
                    mask,
                    next: 0,
                })
            }),
            Key::LastWillTopic => ctx
                .connect
                .and_then(|c| c.last_will_topic_arn)
                .map(Value::Str),
            Key::CleanSession => ctx.connect.map(|c| Value::Bool(c.clean_session)),
            Key::KeepAlive => ctx
                .connect
                .map(|c| Value::Int(i64::from(c.keep_alive_secs))),
            Key::Unknown => None,
        }
    }

    /// The text a `${variable}` is replaced by, or `None` when it stays unresolved. AWS leaves
    /// certificate variables unresolved when the value holds a wildcard character or is longer
    /// than 1024 characters, so a certificate field can never widen a pattern.
    pub(crate) fn substitute<'a>(&self, ctx: &AuthContext<'a>) -> Option<Text<'a>> {
        let text = self.resolve(ctx)?.text()?;
        if self.is_certificate() {
            let s = text.as_str();
            if s.len() > 1024 || s.contains(['*', '$', '+', '?', '#']) {
                return None;
            }
        }
        Some(text)
    }

    fn is_certificate(&self) -> bool {
        matches!(
            self,
            Key::CertId
                | Key::CertSerial
                | Key::CertNotBefore
                | Key::CertNotAfter
                | Key::CertAvailableKeys
                | Key::CertDn { .. }
                | Key::CertAlt { .. }
        )
    }
}

fn non_empty(s: &str) -> Option<Value<'_>> {
    (!s.is_empty()).then_some(Value::Str(s))
}

const CONNECT_ATTRIBUTE_NAMES: &[&str] = &["PersistentConnect", "LastWill"];

fn parse_thing(name: &str) -> Key {
    if let Some(attr) = strip_prefix_ci(name, "Attributes[") {
        return match attr.strip_suffix(']') {
            Some(a) if !a.is_empty() => Key::ThingAttribute(a.into()),
            _ => Key::Unknown,
        };
    }
    match_ci(
        name,
        &[
            ("ThingName", Key::ThingName),
            ("ThingTypeName", Key::ThingTypeName),
            ("IsAttached", Key::ThingIsAttached),
        ],
    )
}

fn parse_certificate(name: &str) -> Key {
    for (part, issuer) in [("Subject.", false), ("Issuer.", true)] {
        let Some(rest) = strip_prefix_ci(name, part) else {
            continue;
        };
        let (base, pick) = split_pick(rest);
        if let Some(kind) = strip_prefix_ci(base, "AlternativeName.") {
            return AltNameKind::ALL
                .into_iter()
                .find(|k| k.policy_name().eq_ignore_ascii_case(kind))
                .map_or(Key::Unknown, |kind| Key::CertAlt { issuer, kind, pick });
        }
        return DnAttribute::ALL
            .into_iter()
            .find(|a| a.policy_name().eq_ignore_ascii_case(base))
            .map_or(Key::Unknown, |attribute| Key::CertDn {
                issuer,
                attribute,
                pick,
            });
    }
    match_ci(
        name,
        &[
            ("Id", Key::CertId),
            ("SerialNumber", Key::CertSerial),
            ("AvailableKeys", Key::CertAvailableKeys),
            ("Validity.NotBefore", Key::CertNotBefore),
            ("Validity.NotAfter", Key::CertNotAfter),
        ],
    )
}

/// Splits `Country.1` / `Country.List` into the attribute and the selector.
fn split_pick(name: &str) -> (&str, Pick) {
    if let Some((base, suffix)) = name.rsplit_once('.') {
        if suffix.eq_ignore_ascii_case("List") {
            return (base, Pick::List);
        }
        if !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit()) {
            // An absurd index simply never resolves.
            return (base, Pick::Index(suffix.parse().unwrap_or(usize::MAX)));
        }
    }
    (name, Pick::Index(0))
}

fn match_ci(name: &str, table: &[(&str, Key)]) -> Key {
    table
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map_or(Key::Unknown, |(_, k)| k.clone())
}

fn strip_prefix_ci<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// A certificate value AWS would list in `iot:Certificate.AvailableKeys`.
#[derive(Clone, Copy)]
enum CertField {
    Id,
    Serial,
    Dn(bool, DnAttribute),
    Alt(bool, AltNameKind),
}

/// Declares the names and fields of `AvailableKeys` side by side so they cannot drift apart.
macro_rules! cert_keys {
    ($( $name:literal => $field:expr ),* $(,)?) => {
        const CERT_KEY_NAMES: &[&str] = &[$($name),*];
        const CERT_KEY_FIELDS: &[CertField] = &[$($field),*];
    };
}

use AltNameKind as K;
use DnAttribute as A;

cert_keys! {
    "iot:Certificate.Id" => CertField::Id,
    "iot:Certificate.SerialNumber" => CertField::Serial,
    "iot:Certificate.Subject.CommonName" => CertField::Dn(false, A::CommonName),
    "iot:Certificate.Subject.Organization" => CertField::Dn(false, A::Organization),
    "iot:Certificate.Subject.OrganizationalUnit" => CertField::Dn(false, A::OrganizationalUnit),
    "iot:Certificate.Subject.Country" => CertField::Dn(false, A::Country),
    "iot:Certificate.Subject.State" => CertField::Dn(false, A::State),
    "iot:Certificate.Subject.Locality" => CertField::Dn(false, A::Locality),
    "iot:Certificate.Subject.SerialNumber" => CertField::Dn(false, A::SerialNumber),
    "iot:Certificate.Subject.DistinguishedNameQualifier" =>
        CertField::Dn(false, A::DistinguishedNameQualifier),
    "iot:Certificate.Subject.Title" => CertField::Dn(false, A::Title),
    "iot:Certificate.Subject.Surname" => CertField::Dn(false, A::Surname),
    "iot:Certificate.Subject.GivenName" => CertField::Dn(false, A::GivenName),
    "iot:Certificate.Subject.Initials" => CertField::Dn(false, A::Initials),
    "iot:Certificate.Subject.Pseudonym" => CertField::Dn(false, A::Pseudonym),
    "iot:Certificate.Subject.GenerationQualifier" => CertField::Dn(false, A::GenerationQualifier),
    "iot:Certificate.Issuer.CommonName" => CertField::Dn(true, A::CommonName),
    "iot:Certificate.Issuer.Organization" => CertField::Dn(true, A::Organization),
    "iot:Certificate.Issuer.OrganizationalUnit" => CertField::Dn(true, A::OrganizationalUnit),
    "iot:Certificate.Issuer.Country" => CertField::Dn(true, A::Country),
    "iot:Certificate.Issuer.State" => CertField::Dn(true, A::State),
    "iot:Certificate.Issuer.Locality" => CertField::Dn(true, A::Locality),
    "iot:Certificate.Issuer.SerialNumber" => CertField::Dn(true, A::SerialNumber),
    "iot:Certificate.Issuer.DistinguishedNameQualifier" =>
        CertField::Dn(true, A::DistinguishedNameQualifier),
    "iot:Certificate.Issuer.Title" => CertField::Dn(true, A::Title),
    "iot:Certificate.Issuer.Surname" => CertField::Dn(true, A::Surname),
    "iot:Certificate.Issuer.GivenName" => CertField::Dn(true, A::GivenName),
    "iot:Certificate.Issuer.Initials" => CertField::Dn(true, A::Initials),
    "iot:Certificate.Issuer.Pseudonym" => CertField::Dn(true, A::Pseudonym),
    "iot:Certificate.Issuer.GenerationQualifier" => CertField::Dn(true, A::GenerationQualifier),
    "iot:Certificate.Subject.AlternativeName.RFC822Name" => CertField::Alt(false, K::Rfc822Name),
    "iot:Certificate.Subject.AlternativeName.DNSName" => CertField::Alt(false, K::DnsName),
    "iot:Certificate.Subject.AlternativeName.DirectoryName" =>
        CertField::Alt(false, K::DirectoryName),
    "iot:Certificate.Subject.AlternativeName.UniformResourceIdentifier" =>
        CertField::Alt(false, K::UniformResourceIdentifier),
    "iot:Certificate.Subject.AlternativeName.IPAddress" => CertField::Alt(false, K::IpAddress),
    "iot:Certificate.Issuer.AlternativeName.RFC822Name" => CertField::Alt(true, K::Rfc822Name),
    "iot:Certificate.Issuer.AlternativeName.DNSName" => CertField::Alt(true, K::DnsName),
    "iot:Certificate.Issuer.AlternativeName.DirectoryName" => CertField::Alt(true, K::DirectoryName),
    "iot:Certificate.Issuer.AlternativeName.UniformResourceIdentifier" =>
        CertField::Alt(true, K::UniformResourceIdentifier),
    "iot:Certificate.Issuer.AlternativeName.IPAddress" => CertField::Alt(true, K::IpAddress),
}

fn available_mask(c: &CertificateContext) -> u64 {
    let mut mask = 0u64;
    for (i, field) in CERT_KEY_FIELDS.iter().enumerate() {
        let present = match *field {
            CertField::Id => !c.id.is_empty(),
            CertField::Serial => !c.serial_number.is_empty(),
            CertField::Dn(issuer, a) => {
                let dn = if issuer { &c.issuer } else { &c.subject };
                dn.values(a).next().is_some()
            }
            CertField::Alt(issuer, k) => {
                let n = if issuer {
                    &c.issuer_alt_names
                } else {
                    &c.subject_alt_names
                };
                n.values(k).next().is_some()
            }
        };
        mask |= u64::from(present) << i;
    }
    mask
}

// The mask is a u64 and each name is one bit of it.
const _: () = assert!(CERT_KEY_NAMES.len() <= 64 && CERT_KEY_NAMES.len() == CERT_KEY_FIELDS.len());
const _: () = assert!(CERT_ARRAY_LIMIT == 5);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{AlternativeNames, ConnectContext, DistinguishedName, ThingContext};

    #[test]
    fn parses_known_names_case_insensitively() {
        assert_eq!(Key::parse("iot:ClientId"), Key::ClientId);
        assert_eq!(Key::parse("IOT:clientid"), Key::ClientId);
        assert_eq!(Key::parse("aws:sourceip"), Key::SourceIp);
        assert_eq!(Key::parse("iot:DomainName"), Key::Domain);
        assert_eq!(
            Key::parse("iot:Connection.Thing.Attributes[Fleet]"),
            Key::ThingAttribute("Fleet".into())
        );
        assert_eq!(
            Key::parse("iot:Connection.Thing.Attributes[]"),
            Key::Unknown
        );
        assert_eq!(
            Key::parse("iot:Certificate.Subject.Country.1"),
            Key::CertDn {
                issuer: false,
                attribute: DnAttribute::Country,
                pick: Pick::Index(1)
            }
        );
        assert_eq!(
            Key::parse("iot:Certificate.Issuer.Organization.List"),
            Key::CertDn {
                issuer: true,
                attribute: DnAttribute::Organization,
                pick: Pick::List
            }
        );
        assert_eq!(
            Key::parse("iot:Certificate.Subject.AlternativeName.DNSName"),
            Key::CertAlt {
                issuer: false,
                kind: AltNameKind::DnsName,
                pick: Pick::Index(0)
            }
        );
        assert_eq!(Key::parse("iot:Certificate.SerialNumber"), Key::CertSerial);
        assert_eq!(
            Key::parse("iot:Certificate.Validity.NotAfter"),
            Key::CertNotAfter
        );
        for unknown in [
            "iot:Nope",
            "aws:username",
            "ClientId",
            "s3:prefix",
            "iot:Certificate.X",
        ] {
            assert_eq!(Key::parse(unknown), Key::Unknown, "{unknown}");
        }
    }

    fn cert() -> CertificateContext {
        CertificateContext {
            id: "abc".into(),
            serial_number: "01".into(),
            subject: DistinguishedName::default()
                .with(DnAttribute::CommonName, "dev-1")
                .with(DnAttribute::Country, "US")
                .with(DnAttribute::Country, "CA")
                .with(DnAttribute::Organization, "Acme*"),
            subject_alt_names: AlternativeNames::default()
                .with(AltNameKind::DnsName, "dev-1.example.com"),
            ..CertificateContext::default()
        }
    }

    fn text(key: &str, ctx: &AuthContext<'_>) -> Option<String> {
        Key::parse(key)
            .substitute(ctx)
            .map(|t| t.as_str().to_owned())
    }

    #[test]
    fn resolves_certificate_fields_and_aws_limits() {
        let cert = cert();
        let ctx = AuthContext {
            certificate: Some(&cert),
            ..AuthContext::new("r", "a", 0)
        };
        assert_eq!(
            text("iot:Certificate.Subject.CommonName", &ctx).as_deref(),
            Some("dev-1")
        );
        assert_eq!(
            text("iot:Certificate.Subject.Country", &ctx).as_deref(),
            Some("US")
        );
        assert_eq!(
            text("iot:Certificate.Subject.Country.1", &ctx).as_deref(),
            Some("CA")
        );
        assert_eq!(text("iot:Certificate.Subject.Country.2", &ctx), None);
        // A wildcard in the value blocks substitution.
        assert_eq!(text("iot:Certificate.Subject.Organization", &ctx), None);
        // Multi-valued names are not variables.
        assert_eq!(text("iot:Certificate.Subject.Country.List", &ctx), None);
        assert_eq!(
            text("iot:Certificate.Subject.AlternativeName.DNSName", &ctx).as_deref(),
            Some("dev-1.example.com")
        );
        let Some(Value::Multi(keys)) = Key::CertAvailableKeys.resolve(&ctx) else {
            panic!("AvailableKeys is multi-valued");
        };
        let keys: Vec<_> = keys.collect();
        assert!(keys.contains(&"iot:Certificate.Subject.Country"));
        assert!(!keys.contains(&"iot:Certificate.Issuer.Country"));
    }

    #[test]
    fn resolves_thing_and_connect_keys() {
        let attrs = vec![("fleet".to_owned(), "blue".to_owned())];
        let ctx = AuthContext {
            thing: Some(ThingContext {
                name: "t1",
                type_name: None,
                attributes: &attrs,
                is_attached: true,
            }),
            connect: Some(ConnectContext {
                last_will: true,
                keep_alive_secs: 30,
                ..ConnectContext::default()
            }),
            ..AuthContext::new("r", "a", 0)
        };
        assert_eq!(
            text("iot:Connection.Thing.ThingName", &ctx).as_deref(),
            Some("t1")
        );
        assert_eq!(text("iot:Connection.Thing.ThingTypeName", &ctx), None);
        assert_eq!(
            text("iot:Connection.Thing.Attributes[fleet]", &ctx).as_deref(),
            Some("blue")
        );
        assert_eq!(text("iot:Connection.Thing.Attributes[Fleet]", &ctx), None);
        assert_eq!(
            text("iot:Connection.Thing.IsAttached", &ctx).as_deref(),
            Some("true")
        );
        assert_eq!(text("iot:KeepAlive", &ctx).as_deref(), Some("30"));
        let Some(Value::Multi(attrs)) = Key::ConnectAttributes.resolve(&ctx) else {
            panic!("ConnectAttributes is multi-valued");
        };
        assert_eq!(attrs.collect::<Vec<_>>(), ["LastWill"]);
        let no_thing = AuthContext::new("r", "a", 0);
        assert_eq!(
            text("iot:Connection.Thing.IsAttached", &no_thing).as_deref(),
            Some("false")
        );
        assert!(Key::ConnectAttributes.resolve(&no_thing).is_none());
    }
}
