//! The check catalogue (spec 1.2): names, severities, resource types, reason codes, the
//! ASFF finding type, and the configuration each check accepts.
//!
//! A check's position in [`CHECKS`] is part of its findings' ids (see `model.rs`), so entries
//! are only ever appended.

/// `AuditFindingSeverity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "CRITICAL",
            Self::High => "HIGH",
            Self::Medium => "MEDIUM",
            Self::Low => "LOW",
        }
    }

    /// ASFF `Severity.Normalized` for the label (CRITICAL 90 and MEDIUM 40 as in AWS's
    /// Device Defender findings; HIGH and LOW at the bottom of their ASFF ranges).
    pub fn normalized(self) -> u32 {
        match self {
            Self::Critical => 90,
            Self::High => 70,
            Self::Medium => 40,
            Self::Low => 1,
        }
    }
}

/// ASFF `Types` of Device Defender audit findings (Security Hub integration guide).
pub const TYPE_VULNERABILITIES: &str = "Software and Configuration Check/Vulnerabilities";
pub const TYPE_CVE: &str = "Software and Configuration Check/Vulnerabilities/CVE";
pub const TYPE_UNUSUAL: &str = "Unusual Behaviors";

/// What a check needs read before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Registry,
    /// Parsed device and CA certificates (keys, serials, CRL distribution points).
    CertificateFacts,
    /// Certificate facts and the CRLs.
    Crls,
    ConnectionHistory,
    IamDocuments,
}

/// One check of the catalogue.
#[derive(Debug)]
pub struct CheckDef {
    pub name: &'static str,
    pub severity: Severity,
    pub resource_type: &'static str,
    pub reasons: &'static [&'static str],
    /// The ASFF `Types` entry of its findings.
    pub finding_type: &'static str,
    /// Configuration names it accepts: (name, default, min, max) in days.
    pub config: &'static [(&'static str, i64, i64, i64)],
    pub needs: Needs,
    /// Fleetward's own checks (not AWS's): listed only once configured.
    pub extra: bool,
}

pub const CERT_EXPIRATION_THRESHOLD_IN_DAYS: &str = "CERT_EXPIRATION_THRESHOLD_IN_DAYS";
pub const CERT_AGE_THRESHOLD_IN_DAYS: &str = "CERT_AGE_THRESHOLD_IN_DAYS";

const EXPIRING: &[&str] = &[
    "CERTIFICATE_APPROACHING_EXPIRATION",
    "CERTIFICATE_PAST_EXPIRATION",
];
const KEY_QUALITY: &[&str] = &[
    "CERTIFICATE_KEY_VULNERABILITY_CVE-2017-15361",
    "CERTIFICATE_KEY_VULNERABILITY_CVE-2008-0166",
];
const REVOKED: &[&str] = &["CERTIFICATE_REVOKED_BY_ISSUER"];
const ROLE_ALIAS_PERMISSIVE: &[&str] = &[
    "ALLOWS_BROAD_ACCESS_TO_USED_SERVICES",
    "ALLOWS_ACCESS_TO_SECURITY_AUDITING_SERVICES",
    "ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS",
    "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS",
    "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS",
    "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
];

macro_rules! check {
    ($name:literal, $sev:ident, $res:literal, $reasons:expr, $ty:expr, $needs:ident) => {
        check!($name, $sev, $res, $reasons, $ty, $needs, &[], false)
    };
    ($name:literal, $sev:ident, $res:literal, $reasons:expr, $ty:expr, $needs:ident, $config:expr, $extra:expr) => {
        CheckDef {
            name: $name,
            severity: Severity::$sev,
            resource_type: $res,
            reasons: $reasons,
            finding_type: $ty,
            config: $config,
            needs: Needs::$needs,
            extra: $extra,
        }
    };
}

/// Every check, AWS's 17 first, in a fixed order (see the module comment).
pub const CHECKS: &[CheckDef] = &[
    check!(
        "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK",
        Critical,
        "COGNITO_IDENTITY_POOL",
        &[
            "ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS",
            "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS",
            "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS",
        ],
        TYPE_VULNERABILITIES,
        IamDocuments
    ),
    check!(
        "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK",
        Critical,
        "COGNITO_IDENTITY_POOL",
        &[
            "ALLOWS_ACCESS_TO_IOT_ADMIN_ACTIONS",
            "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
        ],
        TYPE_VULNERABILITIES,
        IamDocuments
    ),
    check!(
        "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
        Critical,
        "IOT_POLICY",
        &["ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS"],
        TYPE_VULNERABILITIES,
        Registry
    ),
    check!(
        "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK",
        Medium,
        "IOT_POLICY",
        &[
            "POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT",
            "TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS",
        ],
        TYPE_VULNERABILITIES,
        Registry
    ),
    check!(
        "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK",
        Critical,
        "ROLE_ALIAS",
        ROLE_ALIAS_PERMISSIVE,
        TYPE_VULNERABILITIES,
        IamDocuments
    ),
    check!(
        "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK",
        Medium,
        "ROLE_ALIAS",
        &["ALLOWS_ACCESS_TO_UNUSED_SERVICES"],
        TYPE_VULNERABILITIES,
        IamDocuments
    ),
    check!(
        "CA_CERTIFICATE_EXPIRING_CHECK",
        Medium,
        "CA_CERTIFICATE",
        EXPIRING,
        TYPE_VULNERABILITIES,
        Registry
    ),
    check!(
        "CA_CERTIFICATE_KEY_QUALITY_CHECK",
        Critical,
        "CA_CERTIFICATE",
        KEY_QUALITY,
        TYPE_CVE,
        CertificateFacts
    ),
    check!(
        "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK",
        Critical,
        "CA_CERTIFICATE",
        REVOKED,
        TYPE_VULNERABILITIES,
        Crls
    ),
    check!(
        "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK",
        Critical,
        "ISSUER_CERTIFICATE",
        &["INTERMEDIATE_CA_REVOKED_BY_ISSUER"],
        TYPE_VULNERABILITIES,
        Crls
    ),
    check!(
        "DEVICE_CERTIFICATE_EXPIRING_CHECK",
        Medium,
        "DEVICE_CERTIFICATE",
        EXPIRING,
        TYPE_VULNERABILITIES,
        Registry,
        &[(CERT_EXPIRATION_THRESHOLD_IN_DAYS, 30, 30, 3652)],
        false
    ),
    check!(
        "DEVICE_CERTIFICATE_AGE_CHECK",
        Low,
        "DEVICE_CERTIFICATE",
        &["CERTIFICATE_PAST_AGE_THRESHOLD"],
        TYPE_VULNERABILITIES,
        Registry,
        &[(CERT_AGE_THRESHOLD_IN_DAYS, 365, 30, 3652)],
        false
    ),
    check!(
        "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK",
        Critical,
        "DEVICE_CERTIFICATE",
        KEY_QUALITY,
        TYPE_CVE,
        CertificateFacts
    ),
    check!(
        "DEVICE_CERTIFICATE_SHARED_CHECK",
        Critical,
        "DEVICE_CERTIFICATE",
        &["CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES"],
        TYPE_UNUSUAL,
        ConnectionHistory
    ),
    check!(
        "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK",
        Medium,
        "DEVICE_CERTIFICATE",
        REVOKED,
        TYPE_VULNERABILITIES,
        Crls
    ),
    check!(
        "CONFLICTING_CLIENT_IDS_CHECK",
        High,
        "CLIENT_ID",
        &["DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS"],
        TYPE_UNUSUAL,
        ConnectionHistory
    ),
    check!(
        "LOGGING_DISABLED_CHECK",
        Low,
        "ACCOUNT_SETTINGS",
        &["LOGGING_DISABLED"],
        TYPE_VULNERABILITIES,
        Registry
    ),
    check!(
        "FLEETWARD_DEVICE_CERTIFICATE_KEY_SIZE_CHECK",
        High,
        "DEVICE_CERTIFICATE",
        &["CERTIFICATE_KEY_TOO_SMALL"],
        TYPE_VULNERABILITIES,
        CertificateFacts,
        &[],
        true
    ),
];

/// The index and definition of a check by its API name.
pub fn find(name: &str) -> Option<(usize, &'static CheckDef)> {
    CHECKS.iter().enumerate().find(|(_, c)| c.name == name)
}

pub fn by_index(index: usize) -> Option<&'static CheckDef> {
    CHECKS.get(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seventeen_aws_checks_with_unique_names() {
        assert_eq!(CHECKS.iter().filter(|c| !c.extra).count(), 17);
        let mut names: Vec<&str> = CHECKS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CHECKS.len());
        assert!(
            CHECKS.len() < 256,
            "a check index is two hex digits in finding ids"
        );
    }

    #[test]
    fn severities_follow_the_spec() {
        assert_eq!(
            find("LOGGING_DISABLED_CHECK").unwrap().1.severity,
            Severity::Low
        );
        assert_eq!(
            find("CONFLICTING_CLIENT_IDS_CHECK").unwrap().1.severity,
            Severity::High
        );
        assert_eq!(
            find("REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK")
                .unwrap()
                .1
                .severity,
            Severity::Medium
        );
    }
}
