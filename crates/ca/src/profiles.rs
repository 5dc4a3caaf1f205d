//! What each kind of certificate we issue contains: names, validity, extensions.

use std::collections::BTreeSet;
use std::net::IpAddr;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyUsagePurpose, SanType, SerialNumber,
};
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::CaError;
use crate::time::{AWS_DEVICE_NOT_AFTER_MS, days_ms, from_ms};

/// The subject CommonName AWS IoT gives the certificates CreateKeysAndCertificate issues.
pub const DEVICE_COMMON_NAME: &str = "AWS IoT Certificate";
pub(crate) const ROOT_COMMON_NAME: &str = "Fleetward Root CA";
pub(crate) const ISSUING_COMMON_NAME: &str = "Fleetward Device Issuing CA";
pub(crate) const SERVER_COMMON_NAME: &str = "Fleetward Gateway";
const ORGANIZATION: &str = "Fleetward";

/// Our CA and server certificates start an hour early so a peer whose clock is a little
/// behind ours still accepts them right after first start.
const BACKDATE_MS: i64 = 3_600_000;
/// The server certificate is short-lived (397 days, the longest browsers accept) and
/// re-issued on start when it gets within [`SERVER_RENEW_BEFORE_MS`] of expiry.
const SERVER_VALIDITY_MS: i64 = days_ms(397);
/// Re-issue the server certificate when fewer than 30 days are left.
pub const SERVER_RENEW_BEFORE_MS: i64 = days_ms(30);
/// CAs live at least as long as the device certificates they sign (see
/// [`AWS_DEVICE_NOT_AFTER_MS`]), and at least ten years.
const CA_MIN_VALIDITY_MS: i64 = days_ms(3653);

/// The notAfter of a CA created at `now_ms`.
pub(crate) fn ca_not_after_ms(now_ms: i64) -> i64 {
    AWS_DEVICE_NOT_AFTER_MS.max(now_ms.saturating_add(CA_MIN_VALIDITY_MS))
}

pub(crate) fn root(now_ms: i64) -> Result<CertificateParams, CaError> {
    let mut params = base(
        name(ROOT_COMMON_NAME),
        now_ms.saturating_sub(BACKDATE_MS),
        ca_not_after_ms(now_ms),
    )?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

/// The issuing CA signs device certificates and (digitalSignature) arbitrary messages.
pub(crate) fn issuing(now_ms: i64) -> Result<CertificateParams, CaError> {
    let not_after = ca_not_after_ms(now_ms);
    let mut params = base(
        name(ISSUING_COMMON_NAME),
        now_ms.saturating_sub(BACKDATE_MS),
        not_after,
    )?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

pub(crate) fn server(names: &ServerNames, now_ms: i64) -> Result<CertificateParams, CaError> {
    let not_after = now_ms.saturating_add(SERVER_VALIDITY_MS);
    let mut params = base(
        name(SERVER_COMMON_NAME),
        now_ms.saturating_sub(BACKDATE_MS),
        not_after,
    )?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.subject_alt_names = names.to_san()?;
    Ok(params)
}

/// A certificate for a key that signs messages (the SNS notification signing key): no CA,
/// digitalSignature only, as short-lived as the server certificate.
pub(crate) fn message_signing(
    common_name: &str,
    now_ms: i64,
) -> Result<CertificateParams, CaError> {
    let mut params = base(
        name(common_name),
        now_ms.saturating_sub(BACKDATE_MS),
        now_ms.saturating_add(SERVER_VALIDITY_MS),
    )?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

/// A device (TLS client) certificate valid from `now_ms` to `not_after_ms`.
pub(crate) fn device(
    subject: DistinguishedName,
    rsa_key: bool,
    now_ms: i64,
    not_after_ms: i64,
) -> Result<CertificateParams, CaError> {
    let mut params = base(subject, now_ms, not_after_ms)?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if rsa_key {
        // TLS 1.2 RSA key transport needs it; harmless otherwise.
        params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
    }
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

/// The default device subject: CN=AWS IoT Certificate, as AWS issues.
pub(crate) fn device_subject() -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, DEVICE_COMMON_NAME);
    dn
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, ORGANIZATION);
    dn.push(DnType::CommonName, common_name);
    dn
}

fn base(
    subject: DistinguishedName,
    not_before_ms: i64,
    not_after_ms: i64,
) -> Result<CertificateParams, CaError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = subject;
    params.not_before = from_ms(not_before_ms)?;
    params.not_after = from_ms(not_after_ms)?;
    params.serial_number = Some(random_serial()?);
    Ok(params)
}

/// 128 random bits, positive: unique per certificate even when the same key is certified
/// twice (rcgen's default serial is derived from the key).
fn random_serial() -> Result<SerialNumber, CaError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| CaError::internal("the OS random number generator failed"))?;
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    Ok(SerialNumber::from_slice(&bytes))
}

/// The names the gateway's server certificate covers: always localhost, 127.0.0.1 and ::1,
/// plus the configured ones. Kept as ("DNSName" | "IPAddress", text) like
/// [`crate::ParsedCertificate::san`] so a stored certificate can be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerNames(pub(crate) BTreeSet<(String, String)>);

impl ServerNames {
    pub(crate) fn new(configured: &[String]) -> Result<ServerNames, CaError> {
        let mut set = BTreeSet::new();
        for raw in ["localhost", "127.0.0.1", "::1"]
            .into_iter()
            .chain(configured.iter().map(String::as_str))
        {
            set.insert(Self::normalise(raw)?);
        }
        Ok(ServerNames(set))
    }

    fn normalise(raw: &str) -> Result<(String, String), CaError> {
        let trimmed = raw.trim().trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = trimmed.parse::<IpAddr>() {
            return Ok(("IPAddress".to_string(), ip.to_string()));
        }
        let dns = trimmed.trim_end_matches('.').to_ascii_lowercase();
        let valid = !dns.is_empty()
            && dns.len() <= 253
            && dns
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.*_".contains(&b));
        if !valid {
            return Err(CaError::invalid(format!(
                "The server name {raw:?} is not a valid DNS name or IP address"
            )));
        }
        Ok(("DNSName".to_string(), dns))
    }

    /// Reads the DNS and IP entries of a parsed certificate's SAN.
    pub(crate) fn from_san(san: &[(String, String)]) -> ServerNames {
        let set = san
            .iter()
            .filter(|(kind, _)| kind == "DNSName" || kind == "IPAddress")
            .map(|(kind, value)| (kind.clone(), value.to_ascii_lowercase()))
            .collect();
        ServerNames(set)
    }

    fn to_san(&self) -> Result<Vec<SanType>, CaError> {
        self.0
            .iter()
            .map(|(kind, value)| match value.parse::<IpAddr>() {
                Ok(ip) if kind == "IPAddress" => Ok(SanType::IpAddress(ip)),
                _ => value
                    .as_str()
                    .try_into()
                    .map(SanType::DnsName)
                    .map_err(|e| {
                        CaError::invalid(format!("Bad server name {value:?}")).with_detail(e)
                    }),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_always_cover_loopback_and_normalise() {
        let names =
            ServerNames::new(&["Gateway.Example.".into(), "[::1]".into(), "10.0.0.1".into()])
                .unwrap();
        let expected: BTreeSet<(String, String)> = [
            ("DNSName", "localhost"),
            ("DNSName", "gateway.example"),
            ("IPAddress", "127.0.0.1"),
            ("IPAddress", "::1"),
            ("IPAddress", "10.0.0.1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(names.0, expected);
    }

    #[test]
    fn bad_server_names_are_rejected() {
        for bad in ["", "spaces here", "bücher.example"] {
            let err = ServerNames::new(&[bad.to_string()]).unwrap_err();
            assert_eq!(err.kind(), crate::CaErrorKind::Invalid);
        }
    }

    #[test]
    fn ca_lifetime_covers_device_certificates() {
        assert_eq!(ca_not_after_ms(0), AWS_DEVICE_NOT_AFTER_MS);
        let late = AWS_DEVICE_NOT_AFTER_MS;
        assert_eq!(ca_not_after_ms(late), late + CA_MIN_VALIDITY_MS);
    }
}
