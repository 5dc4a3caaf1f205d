//! A delivery stream's configuration as validated from CreateDeliveryStream and
//! UpdateDestination, and its DescribeDeliveryStream form.

pub mod fields;
mod http;
mod processing;
mod splunk;

pub use http::{HttpConfig, HttpTarget, SyslogFormat, SyslogTarget};
pub use processing::{HecTemplate, Processing, TransformSpec};
pub use splunk::{HecEndpointType, SplunkConfig};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{ExportError, ExportResult};
use fields::Fields;

/// Size and age that trigger a flush, whichever comes first (spec A1 table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BufferingHints {
    pub size_mb: u32,
    pub interval_secs: u32,
}

impl BufferingHints {
    pub fn size_bytes(&self) -> usize {
        self.size_mb as usize * 1024 * 1024
    }

    fn to_json(self) -> Value {
        json!({"SizeInMBs": self.size_mb, "IntervalInSeconds": self.interval_secs})
    }

    /// Reads `BufferingHints` with the destination's ranges and defaults; a given hint
    /// keeps the other at its current value (`current`) or default.
    fn read(
        parent: &Fields<'_>,
        size: (i64, i64),
        interval: (i64, i64),
        current: BufferingHints,
    ) -> ExportResult<BufferingHints> {
        let Some(hints) = parent.object("BufferingHints")? else {
            return Ok(current);
        };
        Ok(BufferingHints {
            size_mb: hints
                .int("SizeInMBs", size.0, size.1)?
                .map_or(current.size_mb, |v| v as u32),
            interval_secs: hints
                .int("IntervalInSeconds", interval.0, interval.1)?
                .map_or(current.interval_secs, |v| v as u32),
        })
    }
}

/// Where a stream delivers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Destination {
    Splunk(SplunkConfig),
    HttpEndpoint(HttpConfig),
}

impl Destination {
    /// The destination of CreateDeliveryStream: exactly one of the supported configurations.
    pub fn from_create(input: &Fields<'_>) -> ExportResult<Self> {
        const UNSUPPORTED: &[&str] = &[
            "S3DestinationConfiguration",
            "ExtendedS3DestinationConfiguration",
            "RedshiftDestinationConfiguration",
            "ElasticsearchDestinationConfiguration",
            "AmazonopensearchserviceDestinationConfiguration",
            "AmazonOpenSearchServerlessDestinationConfiguration",
            "SnowflakeDestinationConfiguration",
            "IcebergDestinationConfiguration",
        ];
        if let Some(name) = UNSUPPORTED.iter().find(|n| input.has(n)) {
            return Err(ExportError::invalid(format!(
                "Fleetward delivers to Splunk and HTTP endpoint destinations only; {name} is not supported."
            )));
        }
        let splunk = input.object("SplunkDestinationConfiguration")?;
        let http = input.object("HttpEndpointDestinationConfiguration")?;
        match (splunk, http) {
            (Some(s), None) => Ok(Self::Splunk(SplunkConfig::from_create(&s)?)),
            (None, Some(h)) => Ok(Self::HttpEndpoint(HttpConfig::from_create(&h)?)),
            (None, None) => Err(ExportError::invalid(
                "Exactly one destination configuration is required: SplunkDestinationConfiguration or HttpEndpointDestinationConfiguration.",
            )),
            (Some(_), Some(_)) => Err(ExportError::invalid(
                "Only one destination configuration may be given.",
            )),
        }
    }

    /// Applies UpdateDestination's update members; the destination type cannot change.
    pub fn updated(&self, input: &Fields<'_>) -> ExportResult<Self> {
        let splunk = input.object("SplunkDestinationUpdate")?;
        let http = input.object("HttpEndpointDestinationUpdate")?;
        match (self, splunk, http) {
            (Self::Splunk(current), Some(update), None) => {
                Ok(Self::Splunk(current.updated(&update)?))
            }
            (Self::HttpEndpoint(current), None, Some(update)) => {
                Ok(Self::HttpEndpoint(current.updated(&update)?))
            }
            (_, None, None) => Err(ExportError::invalid(
                "UpdateDestination needs SplunkDestinationUpdate or HttpEndpointDestinationUpdate.",
            )),
            _ => Err(ExportError::invalid(
                "Changing the destination type of a delivery stream is not supported; give the update member of its current destination.",
            )),
        }
    }

    pub fn hints(&self) -> BufferingHints {
        match self {
            Self::Splunk(s) => s.hints,
            Self::HttpEndpoint(h) => h.hints,
        }
    }

    /// Most records in one request (the HTTP-endpoint protocol allows 10,000).
    pub fn max_records(&self) -> usize {
        match self {
            Self::Splunk(_) => 100_000,
            Self::HttpEndpoint(_) => 10_000,
        }
    }

    pub fn retry_secs(&self) -> u32 {
        match self {
            Self::Splunk(s) => s.retry_secs,
            Self::HttpEndpoint(h) => h.retry_secs,
        }
    }

    pub fn processing(&self) -> &Processing {
        match self {
            Self::Splunk(s) => &s.processing,
            Self::HttpEndpoint(h) => &h.processing,
        }
    }

    /// The `DestinationDescription` member for this destination.
    pub fn describe(&self) -> Value {
        match self {
            Self::Splunk(s) => {
                json!({"DestinationId": DESTINATION_ID, "SplunkDestinationDescription": s.describe()})
            }
            Self::HttpEndpoint(h) => {
                json!({"DestinationId": DESTINATION_ID, "HttpEndpointDestinationDescription": h.describe()})
            }
        }
    }
}

/// Streams have one destination; AWS names it so.
pub const DESTINATION_ID: &str = "destinationId-000000000001";

/// Keeps the S3 configuration a Splunk or HTTP destination requires (Fleetward writes the
/// failed records to a local directory instead) and describes it as AWS does.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct S3Backup {
    pub role_arn: String,
    pub bucket_arn: String,
    pub prefix: Option<String>,
    pub error_output_prefix: Option<String>,
}

impl S3Backup {
    pub fn read(parent: &Fields<'_>, member: &str) -> ExportResult<Self> {
        let s3 = parent.required_object(member)?;
        Self::from_fields(&s3)
    }

    pub fn from_fields(s3: &Fields<'_>) -> ExportResult<Self> {
        Ok(Self {
            role_arn: s3
                .bounded_string("RoleARN", 1, 512)?
                .ok_or_else(|| s3.missing("RoleARN"))?
                .to_string(),
            bucket_arn: s3
                .bounded_string("BucketARN", 1, 2048)?
                .ok_or_else(|| s3.missing("BucketARN"))?
                .to_string(),
            prefix: s3.bounded_string("Prefix", 0, 1024)?.map(str::to_string),
            error_output_prefix: s3
                .bounded_string("ErrorOutputPrefix", 0, 1024)?
                .map(str::to_string),
        })
    }

    pub fn updated(&self, s3: &Fields<'_>) -> ExportResult<Self> {
        Ok(Self {
            role_arn: s3
                .bounded_string("RoleARN", 1, 512)?
                .map_or(self.role_arn.clone(), str::to_string),
            bucket_arn: s3
                .bounded_string("BucketARN", 1, 2048)?
                .map_or(self.bucket_arn.clone(), str::to_string),
            prefix: s3
                .bounded_string("Prefix", 0, 1024)?
                .map(str::to_string)
                .or(self.prefix.clone()),
            error_output_prefix: s3
                .bounded_string("ErrorOutputPrefix", 0, 1024)?
                .map(str::to_string)
                .or(self.error_output_prefix.clone()),
        })
    }

    pub fn describe(&self) -> Value {
        let mut d = json!({
            "RoleARN": self.role_arn,
            "BucketARN": self.bucket_arn,
            "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300},
            "CompressionFormat": "UNCOMPRESSED",
            "EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"},
        });
        if let Some(p) = &self.prefix {
            d["Prefix"] = json!(p);
        }
        if let Some(p) = &self.error_output_prefix {
            d["ErrorOutputPrefix"] = json!(p);
        }
        d
    }
}
