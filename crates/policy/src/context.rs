//! What a decision may read about the request: the values behind policy variables and
//! condition keys. Everything the gateway supplies per message is borrowed, so building an
//! [`AuthContext`] costs nothing; the certificate's fields are owned, built once per connection.

use std::net::IpAddr;

/// The request context of one authorization.
#[derive(Clone, Copy, Debug)]
pub struct AuthContext<'a> {
    pub region: &'a str,
    pub account_id: &'a str,
    /// `iot:ClientId`.
    pub client_id: Option<&'a str>,
    /// The thing the connection is associated with (`iot:Connection.Thing.*`). AWS resolves
    /// thing variables only when exactly one thing is attached to the certificate, or (for
    /// non-exclusive attachment) the thing named by the client id; the caller applies that rule.
    pub thing: Option<ThingContext<'a>>,
    /// The client certificate (`iot:Certificate.*`).
    pub certificate: Option<&'a CertificateContext>,
    /// `aws:SourceIp`.
    pub source_ip: Option<IpAddr>,
    /// `iot:DomainName` (also accepted as `iot:Domain`): the domain the client connected to.
    pub domain: Option<&'a str>,
    /// `aws:CurrentTime` and `aws:EpochTime`, in milliseconds since the Unix epoch.
    pub now_epoch_ms: i64,
    /// CONNECT-only keys (`iot:ConnectAttributes`, `iot:LastWillTopic`, ...). `None` for
    /// other actions, where those keys are absent.
    pub connect: Option<ConnectContext<'a>>,
}

impl<'a> AuthContext<'a> {
    /// A context with only the always-known values; fill the rest with struct update syntax.
    pub fn new(region: &'a str, account_id: &'a str, now_epoch_ms: i64) -> Self {
        AuthContext {
            region,
            account_id,
            client_id: None,
            thing: None,
            certificate: None,
            source_ip: None,
            domain: None,
            now_epoch_ms,
            connect: None,
        }
    }
}

/// The registry thing of the connection.
#[derive(Clone, Copy, Debug)]
pub struct ThingContext<'a> {
    pub name: &'a str,
    pub type_name: Option<&'a str>,
    /// Thing attributes, `(name, value)`; names are matched case-sensitively.
    pub attributes: &'a [(String, String)],
    /// `iot:Connection.Thing.IsAttached`: the thing is attached to the connecting principal.
    pub is_attached: bool,
}

impl<'a> ThingContext<'a> {
    pub(crate) fn attribute(&self, name: &str) -> Option<&'a str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Values that exist only while authorizing a CONNECT.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnectContext<'a> {
    /// The session outlives the connection (MQTT 3.1.1 `cleanSession = 0`, MQTT 5 session
    /// expiry > 0): adds `PersistentConnect` to `iot:ConnectAttributes`.
    pub persistent_session: bool,
    /// The CONNECT carries a will message: adds `LastWill` to `iot:ConnectAttributes`.
    pub last_will: bool,
    /// `iot:LastWillTopic`: the ARN of the will topic (AWS compares it with `ArnEquals`),
    /// e.g. `arn:aws:iot:us-east-1:123456789012:topic/will`.
    pub last_will_topic_arn: Option<&'a str>,
    /// `iot:CleanSession` (Fleetward extension): the CONNECT's clean-session/clean-start flag.
    pub clean_session: bool,
    /// `iot:KeepAlive` (Fleetward extension): the keep-alive the client asked for, in seconds.
    pub keep_alive_secs: u16,
}

/// The parts of the client certificate that policies can read. Build it once per connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertificateContext {
    /// `iot:Certificate.Id`: the AWS certificate id (SHA-256 fingerprint, hex).
    pub id: String,
    /// `iot:Certificate.SerialNumber`, as the caller formats it; empty when unknown.
    pub serial_number: String,
    pub subject: DistinguishedName,
    pub issuer: DistinguishedName,
    pub subject_alt_names: AlternativeNames,
    pub issuer_alt_names: AlternativeNames,
    /// `iot:Certificate.Validity.NotBefore` (Fleetward extension), ms since the epoch.
    pub not_before_ms: Option<i64>,
    /// `iot:Certificate.Validity.NotAfter` (Fleetward extension), ms since the epoch.
    pub not_after_ms: Option<i64>,
}

/// A subject or issuer name: attributes in certificate order; an attribute may repeat.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DistinguishedName {
    pub attributes: Vec<(DnAttribute, String)>,
}

impl DistinguishedName {
    /// Appends one attribute value (builder style).
    pub fn with(mut self, attribute: DnAttribute, value: impl Into<String>) -> Self {
        self.attributes.push((attribute, value.into()));
        self
    }

    /// The values of one attribute, in certificate order.
    pub fn values(&self, attribute: DnAttribute) -> impl Iterator<Item = &str> + Clone {
        self.attributes
            .iter()
            .filter(move |(a, _)| *a == attribute)
            .map(|(_, v)| v.as_str())
    }
}

/// The attribute types AWS exposes as `iot:Certificate.Subject.*` / `iot:Certificate.Issuer.*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DnAttribute {
    CommonName,
    Organization,
    OrganizationalUnit,
    Country,
    State,
    /// Not in AWS's list; exposed as a Fleetward extension.
    Locality,
    SerialNumber,
    DistinguishedNameQualifier,
    Title,
    Surname,
    GivenName,
    Initials,
    Pseudonym,
    GenerationQualifier,
}

impl DnAttribute {
    pub const ALL: [DnAttribute; 14] = [
        DnAttribute::CommonName,
        DnAttribute::Organization,
        DnAttribute::OrganizationalUnit,
        DnAttribute::Country,
        DnAttribute::State,
        DnAttribute::Locality,
        DnAttribute::SerialNumber,
        DnAttribute::DistinguishedNameQualifier,
        DnAttribute::Title,
        DnAttribute::Surname,
        DnAttribute::GivenName,
        DnAttribute::Initials,
        DnAttribute::Pseudonym,
        DnAttribute::GenerationQualifier,
    ];

    /// The name used in policy variables, e.g. `CommonName`.
    pub fn policy_name(self) -> &'static str {
        match self {
            DnAttribute::CommonName => "CommonName",
            DnAttribute::Organization => "Organization",
            DnAttribute::OrganizationalUnit => "OrganizationalUnit",
            DnAttribute::Country => "Country",
            DnAttribute::State => "State",
            DnAttribute::Locality => "Locality",
            DnAttribute::SerialNumber => "SerialNumber",
            DnAttribute::DistinguishedNameQualifier => "DistinguishedNameQualifier",
            DnAttribute::Title => "Title",
            DnAttribute::Surname => "Surname",
            DnAttribute::GivenName => "GivenName",
            DnAttribute::Initials => "Initials",
            DnAttribute::Pseudonym => "Pseudonym",
            DnAttribute::GenerationQualifier => "GenerationQualifier",
        }
    }
}

/// Subject or issuer alternative names, in certificate order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlternativeNames {
    pub entries: Vec<(AltNameKind, String)>,
}

impl AlternativeNames {
    /// Appends one name (builder style). IP addresses are given in text form.
    pub fn with(mut self, kind: AltNameKind, value: impl Into<String>) -> Self {
        self.entries.push((kind, value.into()));
        self
    }

    /// The names of one kind, in certificate order.
    pub fn values(&self, kind: AltNameKind) -> impl Iterator<Item = &str> + Clone {
        self.entries
            .iter()
            .filter(move |(k, _)| *k == kind)
            .map(|(_, v)| v.as_str())
    }
}

/// The alternative-name kinds AWS exposes as `iot:Certificate.*.AlternativeName.*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AltNameKind {
    Rfc822Name,
    DnsName,
    DirectoryName,
    UniformResourceIdentifier,
    IpAddress,
}

impl AltNameKind {
    pub const ALL: [AltNameKind; 5] = [
        AltNameKind::Rfc822Name,
        AltNameKind::DnsName,
        AltNameKind::DirectoryName,
        AltNameKind::UniformResourceIdentifier,
        AltNameKind::IpAddress,
    ];

    /// The name used in policy variables, e.g. `DNSName`.
    pub fn policy_name(self) -> &'static str {
        match self {
            AltNameKind::Rfc822Name => "RFC822Name",
            AltNameKind::DnsName => "DNSName",
            AltNameKind::DirectoryName => "DirectoryName",
            AltNameKind::UniformResourceIdentifier => "UniformResourceIdentifier",
            AltNameKind::IpAddress => "IPAddress",
        }
    }
}
