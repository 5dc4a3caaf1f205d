//! `SplunkDestinationConfiguration` / `Update` / `Description`, with the ranges and defaults of
//! spec A1: buffering 1–5 MB (5) and 0–60 s (60), ack timeout 180–600 s (180), retry
//! duration 0–7200 s (300, the console's default).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::fields::Fields;
use super::{BufferingHints, Processing, S3Backup};
use crate::error::{ExportError, ExportResult};

pub const DEFAULT_HINTS: BufferingHints = BufferingHints {
    size_mb: 5,
    interval_secs: 60,
};
const SIZE_RANGE: (i64, i64) = (1, 5);
const INTERVAL_RANGE: (i64, i64) = (0, 60);
pub const DEFAULT_ACK_TIMEOUT_SECS: u32 = 180;
pub const DEFAULT_RETRY_SECS: u32 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HecEndpointType {
    Raw,
    Event,
}

impl HecEndpointType {
    fn parse(s: &str) -> Self {
        if s == "Raw" { Self::Raw } else { Self::Event }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Raw => "Raw",
            Self::Event => "Event",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SplunkConfig {
    /// Base URL of the HEC, e.g. `https://splunk:8088`; the collector path is appended.
    pub endpoint: String,
    pub endpoint_type: HecEndpointType,
    pub token: String,
    pub ack_timeout_secs: u32,
    pub retry_secs: u32,
    /// `FailedEventsOnly` or `AllEvents`.
    pub backup_mode: String,
    pub hints: BufferingHints,
    pub processing: Processing,
    pub s3: S3Backup,
}

fn check_endpoint(url: &str) -> ExportResult<()> {
    match reqwest::Url::parse(url) {
        Ok(u) if (u.scheme() == "https" || u.scheme() == "http") && u.host().is_some() => Ok(()),
        _ => Err(ExportError::invalid(format!(
            "HECEndpoint '{url}' is not an http(s) URL."
        ))),
    }
}

impl SplunkConfig {
    pub fn from_create(c: &Fields<'_>) -> ExportResult<Self> {
        let endpoint = c
            .bounded_string("HECEndpoint", 0, 2048)?
            .ok_or_else(|| c.missing("HECEndpoint"))?;
        check_endpoint(endpoint)?;
        let endpoint_type = c
            .enum_value("HECEndpointType", &["Raw", "Event"])?
            .ok_or_else(|| c.missing("HECEndpointType"))?;
        if c.has("SecretsManagerConfiguration") {
            return Err(ExportError::invalid(
                "SecretsManagerConfiguration is not supported by Fleetward; give HECToken.",
            ));
        }
        let token = c.bounded_string("HECToken", 0, 2048)?.unwrap_or("");
        Ok(Self {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            endpoint_type: HecEndpointType::parse(endpoint_type),
            token: token.to_string(),
            ack_timeout_secs: c
                .int("HECAcknowledgmentTimeoutInSeconds", 180, 600)?
                .map_or(DEFAULT_ACK_TIMEOUT_SECS, |v| v as u32),
            retry_secs: read_retry(c)?.unwrap_or(DEFAULT_RETRY_SECS),
            backup_mode: c
                .enum_value("S3BackupMode", &["FailedEventsOnly", "AllEvents"])?
                .unwrap_or("FailedEventsOnly")
                .to_string(),
            hints: BufferingHints::read(c, SIZE_RANGE, INTERVAL_RANGE, DEFAULT_HINTS)?,
            processing: Processing::read(c)?.unwrap_or_default(),
            s3: S3Backup::read(c, "S3Configuration")?,
        })
    }

    pub fn updated(&self, u: &Fields<'_>) -> ExportResult<Self> {
        let mut next = self.clone();
        if let Some(endpoint) = u.bounded_string("HECEndpoint", 0, 2048)? {
            check_endpoint(endpoint)?;
            next.endpoint = endpoint.trim_end_matches('/').to_string();
        }
        if let Some(t) = u.enum_value("HECEndpointType", &["Raw", "Event"])? {
            next.endpoint_type = HecEndpointType::parse(t);
        }
        if let Some(token) = u.bounded_string("HECToken", 0, 2048)? {
            next.token = token.to_string();
        }
        if let Some(v) = u.int("HECAcknowledgmentTimeoutInSeconds", 180, 600)? {
            next.ack_timeout_secs = v as u32;
        }
        if let Some(v) = read_retry(u)? {
            next.retry_secs = v;
        }
        if let Some(mode) = u.enum_value("S3BackupMode", &["FailedEventsOnly", "AllEvents"])? {
            next.backup_mode = mode.to_string();
        }
        next.hints = BufferingHints::read(u, SIZE_RANGE, INTERVAL_RANGE, self.hints)?;
        if let Some(p) = Processing::read(u)? {
            next.processing = p;
        }
        if let Some(s3) = u.object("S3Update")? {
            next.s3 = self.s3.updated(&s3)?;
        }
        Ok(next)
    }

    pub fn describe(&self) -> Value {
        json!({
            "HECEndpoint": self.endpoint,
            "HECEndpointType": self.endpoint_type.name(),
            "HECToken": self.token,
            "HECAcknowledgmentTimeoutInSeconds": self.ack_timeout_secs,
            "RetryOptions": {"DurationInSeconds": self.retry_secs},
            "S3BackupMode": self.backup_mode,
            "S3DestinationDescription": self.s3.describe(),
            "ProcessingConfiguration": self.processing.describe(),
            "CloudWatchLoggingOptions": {"Enabled": false},
            "BufferingHints": self.hints.to_json(),
        })
    }
}

fn read_retry(c: &Fields<'_>) -> ExportResult<Option<u32>> {
    match c.object("RetryOptions")? {
        Some(r) => Ok(r.int("DurationInSeconds", 0, 7200)?.map(|v| v as u32)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> ExportResult<SplunkConfig> {
        SplunkConfig::from_create(&Fields::root(&v).unwrap())
    }

    fn minimal() -> Value {
        json!({
            "HECEndpoint": "http://127.0.0.1:8088",
            "HECEndpointType": "Event",
            "HECToken": "t",
            "S3Configuration": {"RoleARN": "arn:aws:iam::000000000000:role/r", "BucketARN": "arn:aws:s3:::b"}
        })
    }

    #[test]
    fn defaults_are_the_aws_ones() {
        let c = parse(minimal()).unwrap();
        assert_eq!(c.hints, DEFAULT_HINTS);
        assert_eq!(c.ack_timeout_secs, 180);
        assert_eq!(c.retry_secs, 300);
        assert_eq!(c.backup_mode, "FailedEventsOnly");
    }

    #[test]
    fn ranges_are_enforced() {
        for (member, value) in [
            ("HECAcknowledgmentTimeoutInSeconds", json!(179)),
            ("RetryOptions", json!({"DurationInSeconds": 7201})),
            ("BufferingHints", json!({"SizeInMBs": 6})),
            ("BufferingHints", json!({"IntervalInSeconds": 61})),
            ("HECEndpointType", json!("Json")),
            ("HECEndpoint", json!("ftp://x")),
        ] {
            let mut v = minimal();
            v[member] = value;
            assert!(parse(v).is_err(), "{member} accepted");
        }
        let mut v = minimal();
        v.as_object_mut().unwrap().remove("S3Configuration");
        assert!(parse(v).is_err());
    }

    #[test]
    fn update_changes_only_what_is_given() {
        let c = parse(minimal()).unwrap();
        let u = json!({"BufferingHints": {"IntervalInSeconds": 0}, "HECToken": "u"});
        let next = c.updated(&Fields::root(&u).unwrap()).unwrap();
        assert_eq!(next.hints.interval_secs, 0);
        assert_eq!(next.hints.size_mb, 5);
        assert_eq!(next.token, "u");
        assert_eq!(next.endpoint, c.endpoint);
    }
}
