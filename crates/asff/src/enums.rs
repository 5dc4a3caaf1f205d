//! The ASFF enumerations, with the Severity Label ⇄ Normalized mapping of spec §1.4.

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident, $all:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        /// Every wire value, in model order.
        pub const $all: &[&str] = &[$($text),+];

        impl $name {
            /// The wire value.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// The variant for a wire value (exact, case-sensitive as in AWS).
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

string_enum!(
    /// `Severity.Label`.
    SeverityLabel, SEVERITY_LABELS {
        Informational = "INFORMATIONAL",
        Low = "LOW",
        Medium = "MEDIUM",
        High = "HIGH",
        Critical = "CRITICAL",
    }
);

string_enum!(
    /// `Workflow.Status`.
    WorkflowStatus, WORKFLOW_STATUSES {
        New = "NEW",
        Notified = "NOTIFIED",
        Resolved = "RESOLVED",
        Suppressed = "SUPPRESSED",
    }
);

string_enum!(
    /// `VerificationState`.
    VerificationState, VERIFICATION_STATES {
        Unknown = "UNKNOWN",
        TruePositive = "TRUE_POSITIVE",
        FalsePositive = "FALSE_POSITIVE",
        BenignPositive = "BENIGN_POSITIVE",
    }
);

string_enum!(
    /// `RecordState`.
    RecordState, RECORD_STATES {
        Active = "ACTIVE",
        Archived = "ARCHIVED",
    }
);

/// The deprecated top-level `WorkflowState`.
pub const WORKFLOW_STATES: &[&str] = &["NEW", "ASSIGNED", "IN_PROGRESS", "DEFERRED", "RESOLVED"];
/// `Compliance.Status`.
pub const COMPLIANCE_STATUSES: &[&str] = &["PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"];
/// `Resources[].Partition`: the newer model's six values (the installed botocore lists only the
/// first three; accepting the superset keeps newer SDKs working).
pub const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-us-iso",
    "aws-us-iso-b",
    "AzureCloud",
];
/// `Resources[].Provider` (newer model).
pub const RESOURCE_PROVIDERS: &[&str] = &["AWS", "Azure"];
/// `Malware[].Type`.
pub const MALWARE_TYPES: &[&str] = &[
    "ADWARE",
    "BLENDED_THREAT",
    "BOTNET_AGENT",
    "COIN_MINER",
    "EXPLOIT_KIT",
    "KEYLOGGER",
    "MACRO",
    "POTENTIALLY_UNWANTED",
    "SPYWARE",
    "RANSOMWARE",
    "REMOTE_ACCESS",
    "ROOTKIT",
    "TROJAN",
    "VIRUS",
    "WORM",
];
/// `Malware[].State`.
pub const MALWARE_STATES: &[&str] = &["OBSERVED", "REMOVAL_FAILED", "REMOVED"];
/// `ThreatIntelIndicators[].Type`.
pub const THREAT_INTEL_TYPES: &[&str] = &[
    "DOMAIN",
    "EMAIL_ADDRESS",
    "HASH_MD5",
    "HASH_SHA1",
    "HASH_SHA256",
    "HASH_SHA512",
    "IPV4_ADDRESS",
    "IPV6_ADDRESS",
    "MUTEX",
    "PROCESS",
    "URL",
];
/// `ThreatIntelIndicators[].Category`.
pub const THREAT_INTEL_CATEGORIES: &[&str] = &[
    "BACKDOOR",
    "CARD_STEALER",
    "COMMAND_AND_CONTROL",
    "DROP_SITE",
    "EXPLOIT_SITE",
    "KEYLOGGER",
];
/// `Network.Direction`.
pub const NETWORK_DIRECTIONS: &[&str] = &["IN", "OUT"];
/// `Vulnerabilities[].FixAvailable`.
pub const FIX_AVAILABLE: &[&str] = &["YES", "NO", "PARTIAL"];
/// `Vulnerabilities[].ExploitAvailable`.
pub const EXPLOIT_AVAILABLE: &[&str] = &["YES", "NO"];

impl SeverityLabel {
    /// Spec §1.4: `0 → INFORMATIONAL, 1–39 → LOW, 40–69 → MEDIUM, 70–89 → HIGH, 90–100 → CRITICAL`.
    /// Out-of-range values clamp (validation rejects them before this is reached).
    pub fn from_normalized(n: i64) -> Self {
        match n {
            i64::MIN..=0 => Self::Informational,
            1..=39 => Self::Low,
            40..=69 => Self::Medium,
            70..=89 => Self::High,
            _ => Self::Critical,
        }
    }

    /// Spec §1.4: `INFORMATIONAL → 0, LOW → 1, MEDIUM → 40, HIGH → 70, CRITICAL → 90`.
    pub fn normalized(self) -> i64 {
        match self {
            Self::Informational => 0,
            Self::Low => 1,
            Self::Medium => 40,
            Self::High => 70,
            Self::Critical => 90,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_to_label_boundaries() {
        let cases = [
            (0, SeverityLabel::Informational),
            (1, SeverityLabel::Low),
            (39, SeverityLabel::Low),
            (40, SeverityLabel::Medium),
            (69, SeverityLabel::Medium),
            (70, SeverityLabel::High),
            (89, SeverityLabel::High),
            (90, SeverityLabel::Critical),
            (100, SeverityLabel::Critical),
        ];
        for (n, label) in cases {
            assert_eq!(SeverityLabel::from_normalized(n), label, "{n}");
        }
    }

    #[test]
    fn label_to_normalized_round_trips() {
        for s in SEVERITY_LABELS {
            let label = SeverityLabel::parse(s).unwrap();
            assert_eq!(label.as_str(), *s);
            assert_eq!(SeverityLabel::from_normalized(label.normalized()), label);
        }
        assert_eq!(SeverityLabel::Medium.normalized(), 40);
        assert_eq!(SeverityLabel::parse("medium"), None);
    }

    #[test]
    fn other_enums_parse_their_wire_values() {
        assert_eq!(
            WorkflowStatus::parse("SUPPRESSED"),
            Some(WorkflowStatus::Suppressed)
        );
        assert_eq!(
            VerificationState::parse("BENIGN_POSITIVE").map(VerificationState::as_str),
            Some("BENIGN_POSITIVE")
        );
        assert_eq!(RecordState::parse("ARCHIVED"), Some(RecordState::Archived));
        assert_eq!(RecordState::parse("DELETED"), None);
        assert_eq!(WORKFLOW_STATUSES.len(), 4);
    }
}
