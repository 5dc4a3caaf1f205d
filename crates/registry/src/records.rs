//! The registry's records as they are persisted (one JSON document each) and held in memory.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::small::{SmallMap, SmallSet};

/// A certificate id: the SHA-256 of the DER. Held as bytes (a million certificates fit in
/// memory), written as 64 lowercase hex characters, as AWS shows it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CertId(pub [u8; 32]);

impl fmt::Display for CertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for CertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertId({self})")
    }
}

impl FromStr for CertId {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| ())?;
        Ok(Self(bytes))
    }
}

impl Serialize for CertId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for CertId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map_err(|_| serde::de::Error::custom("certificate id is not 64 hex characters"))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Thing {
    pub name: String,
    pub id: uuid::Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    #[serde(default)]
    pub attributes: SmallMap,
    pub version: i64,
    /// Static thing groups the thing belongs to (at most 10).
    #[serde(default)]
    pub groups: SmallSet,
    /// Attached principals (certificate ARNs) and their `thingPrincipalType`.
    #[serde(default)]
    pub principals: SmallMap,
    pub created_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThingType {
    pub name: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub searchable_attributes: Vec<String>,
    pub deprecated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecation_ms: Option<i64>,
    pub created_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThingGroup {
    pub name: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    pub version: i64,
    pub created_ms: i64,
}

/// `CertificateStatus` of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CertStatus {
    Active,
    Inactive,
    Revoked,
    PendingTransfer,
    RegisterInactive,
    PendingActivation,
}

impl CertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
            Self::Revoked => "REVOKED",
            Self::PendingTransfer => "PENDING_TRANSFER",
            Self::RegisterInactive => "REGISTER_INACTIVE",
            Self::PendingActivation => "PENDING_ACTIVATION",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "ACTIVE" => Self::Active,
            "INACTIVE" => Self::Inactive,
            "REVOKED" => Self::Revoked,
            "PENDING_TRANSFER" => Self::PendingTransfer,
            "REGISTER_INACTIVE" => Self::RegisterInactive,
            "PENDING_ACTIVATION" => Self::PendingActivation,
            _ => return None,
        })
    }
}

/// A device certificate. Its PEM is kept in the store only (`iot.cert-pem`): a million of
/// them would not sit well in memory, and only DescribeCertificate needs it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Certificate {
    pub id: CertId,
    pub status: CertStatus,
    /// `DEFAULT` or `SNI_ONLY` (registered without a CA).
    pub mode: CertMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_id: Option<CertId>,
    pub created_ms: i64,
    pub last_modified_ms: i64,
    pub customer_version: i64,
    pub generation_id: uuid::Uuid,
    pub not_before_ms: i64,
    pub not_after_ms: i64,
}

/// `CertificateMode` of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CertMode {
    #[serde(rename = "DEFAULT")]
    Default,
    #[serde(rename = "SNI_ONLY")]
    SniOnly,
}

impl CertMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "DEFAULT",
            Self::SniOnly => "SNI_ONLY",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "DEFAULT" => Some(Self::Default),
            "SNI_ONLY" => Some(Self::SniOnly),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaCertificate {
    pub id: CertId,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// `ENABLE` or `DISABLE`.
    pub auto_registration: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_config: Option<Value>,
    pub mode: String,
    pub subject: String,
    pub pem: String,
    pub created_ms: i64,
    pub last_modified_ms: i64,
    pub customer_version: i64,
    pub generation_id: String,
    pub not_before_ms: i64,
    pub not_after_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredPolicyVersion {
    pub document: String,
    pub created_ms: i64,
}

/// A policy as persisted: its versions (at most five) and which is the default.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredPolicy {
    pub name: String,
    pub versions: BTreeMap<u32, StoredPolicyVersion>,
    pub default_version: u32,
    pub next_version: u32,
    pub created_ms: i64,
    pub last_modified_ms: i64,
    pub generation_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleAlias {
    pub name: String,
    pub role_arn: String,
    pub credential_duration_seconds: i64,
    pub created_ms: i64,
    pub last_modified_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LoggingV1 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    pub log_level: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LoggingV2 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    pub default_log_level: String,
    pub disable_all_logs: bool,
}
