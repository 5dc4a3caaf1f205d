//! `HttpEndpointDestinationConfiguration`: buffering 1–64 MB (5) and 0–900 s (300), retry
//! duration 0–7200 s (300), content encoding NONE or GZIP, up to 50 common attributes.
//! AWS requires `https://` on port 443; Fleetward also accepts `http://` and any port
//! (loopback receivers), a documented deviation.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::fields::Fields;
use super::{BufferingHints, Processing, S3Backup};
use crate::error::{ExportError, ExportResult};

pub const DEFAULT_HINTS: BufferingHints = BufferingHints {
    size_mb: 5,
    interval_secs: 300,
};
const SIZE_RANGE: (i64, i64) = (1, 64);
const INTERVAL_RANGE: (i64, i64) = (0, 900);
pub const DEFAULT_RETRY_SECS: u32 = 300;

/// Where the HTTP endpoint destination sends. Besides http(s) URLs, Fleetward accepts (a
/// documented extension) `file:///DIR` (newline-delimited records appended to files) and
/// `syslog+tcp://HOST:PORT` / `syslog+tls://HOST:PORT?ca=/path/ca.pem` with
/// `&format=json|cef|leef` (RFC 5424 messages, octet-counted framing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HttpTarget {
    Http(String),
    File(std::path::PathBuf),
    Syslog(SyslogTarget),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyslogFormat {
    Json,
    Cef,
    Leef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyslogTarget {
    pub host: String,
    pub port: u16,
    /// CA certificates (PEM) trusted for TLS; `None` is plain TCP.
    pub tls_ca: Option<std::path::PathBuf>,
    pub format: SyslogFormat,
}

fn parse_syslog(u: &reqwest::Url, tls: bool) -> ExportResult<HttpTarget> {
    let host = u
        .host_str()
        .ok_or_else(|| ExportError::invalid("A syslog URL needs a host."))?
        .to_string();
    let mut format = SyslogFormat::Json;
    let mut ca = None;
    for (k, v) in u.query_pairs() {
        match (k.as_ref(), v.as_ref()) {
            ("format", "json") => format = SyslogFormat::Json,
            ("format", "cef") => format = SyslogFormat::Cef,
            ("format", "leef") => format = SyslogFormat::Leef,
            ("ca", path) => ca = Some(std::path::PathBuf::from(path)),
            (key, value) => {
                return Err(ExportError::invalid(format!(
                    "Unknown syslog URL option {key}={value}; use format=json|cef|leef and ca=/path (TLS)."
                )));
            }
        }
    }
    if tls && ca.is_none() {
        return Err(ExportError::invalid(
            "A syslog+tls URL needs ca=/path/to/ca.pem.",
        ));
    }
    Ok(HttpTarget::Syslog(SyslogTarget {
        host,
        port: u.port().unwrap_or(if tls { 6514 } else { 514 }),
        tls_ca: if tls { ca } else { None },
        format,
    }))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HttpConfig {
    pub url: String,
    pub target: HttpTarget,
    pub name: Option<String>,
    /// Sent as `X-Amz-Firehose-Access-Key`; never described back.
    pub access_key: Option<String>,
    pub gzip: bool,
    pub common_attributes: Vec<(String, String)>,
    pub retry_secs: u32,
    pub backup_mode: String,
    pub hints: BufferingHints,
    pub processing: Processing,
    pub s3: S3Backup,
}

fn parse_target(url: &str) -> ExportResult<HttpTarget> {
    match reqwest::Url::parse(url) {
        Ok(u) if (u.scheme() == "https" || u.scheme() == "http") && u.host().is_some() => {
            Ok(HttpTarget::Http(url.to_string()))
        }
        Ok(u) if u.scheme() == "file" && u.path().starts_with('/') && u.path().len() > 1 => {
            Ok(HttpTarget::File(std::path::PathBuf::from(u.path())))
        }
        Ok(u) if u.scheme() == "syslog+tcp" => parse_syslog(&u, false),
        Ok(u) if u.scheme() == "syslog+tls" => parse_syslog(&u, true),
        _ => Err(ExportError::invalid(format!(
            "1 validation error detected: Value '{url}' at 'httpEndpointDestinationConfiguration.endpointConfiguration.url' failed to satisfy constraint: Member must satisfy regular expression pattern: https://.*"
        ))),
    }
}

/// `RequestConfiguration`: gzip or not, and the common attributes.
type RequestOptions = (bool, Vec<(String, String)>);

fn read_request(c: &Fields<'_>) -> ExportResult<Option<RequestOptions>> {
    let Some(r) = c.object("RequestConfiguration")? else {
        return Ok(None);
    };
    let gzip = r.enum_value("ContentEncoding", &["NONE", "GZIP"])? == Some("GZIP");
    let mut attrs = Vec::new();
    for a in r.list("CommonAttributes", 0, 50)? {
        let name = a
            .bounded_string("AttributeName", 1, 256)?
            .ok_or_else(|| a.missing("AttributeName"))?;
        let value = a
            .bounded_string("AttributeValue", 0, 1024)?
            .ok_or_else(|| a.missing("AttributeValue"))?;
        attrs.push((name.to_string(), value.to_string()));
    }
    Ok(Some((gzip, attrs)))
}

fn read_retry(c: &Fields<'_>) -> ExportResult<Option<u32>> {
    match c.object("RetryOptions")? {
        Some(r) => Ok(r.int("DurationInSeconds", 0, 7200)?.map(|v| v as u32)),
        None => Ok(None),
    }
}

const BACKUP_MODES: &[&str] = &["FailedDataOnly", "AllData"];

impl HttpConfig {
    pub fn from_create(c: &Fields<'_>) -> ExportResult<Self> {
        let endpoint = c.required_object("EndpointConfiguration")?;
        let url = endpoint
            .bounded_string("Url", 1, 1000)?
            .ok_or_else(|| endpoint.missing("Url"))?;
        let (gzip, common_attributes) = read_request(c)?.unwrap_or_default();
        Ok(Self {
            url: url.to_string(),
            target: parse_target(url)?,
            name: endpoint.bounded_string("Name", 1, 256)?.map(str::to_string),
            access_key: endpoint
                .bounded_string("AccessKey", 0, 4096)?
                .map(str::to_string),
            gzip,
            common_attributes,
            retry_secs: read_retry(c)?.unwrap_or(DEFAULT_RETRY_SECS),
            backup_mode: c
                .enum_value("S3BackupMode", BACKUP_MODES)?
                .unwrap_or("FailedDataOnly")
                .to_string(),
            hints: BufferingHints::read(c, SIZE_RANGE, INTERVAL_RANGE, DEFAULT_HINTS)?,
            processing: Processing::read(c)?.unwrap_or_default(),
            s3: S3Backup::read(c, "S3Configuration")?,
        })
    }

    pub fn updated(&self, u: &Fields<'_>) -> ExportResult<Self> {
        let mut next = self.clone();
        if let Some(endpoint) = u.object("EndpointConfiguration")? {
            if let Some(url) = endpoint.bounded_string("Url", 1, 1000)? {
                next.target = parse_target(url)?;
                next.url = url.to_string();
            }
            if let Some(name) = endpoint.bounded_string("Name", 1, 256)? {
                next.name = Some(name.to_string());
            }
            if let Some(key) = endpoint.bounded_string("AccessKey", 0, 4096)? {
                next.access_key = Some(key.to_string());
            }
        }
        if let Some((gzip, attrs)) = read_request(u)? {
            next.gzip = gzip;
            next.common_attributes = attrs;
        }
        if let Some(v) = read_retry(u)? {
            next.retry_secs = v;
        }
        if let Some(mode) = u.enum_value("S3BackupMode", BACKUP_MODES)? {
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
        let mut endpoint = json!({"Url": self.url});
        if let Some(name) = &self.name {
            endpoint["Name"] = json!(name);
        }
        let attrs: Vec<Value> = self
            .common_attributes
            .iter()
            .map(|(k, v)| json!({"AttributeName": k, "AttributeValue": v}))
            .collect();
        json!({
            "EndpointConfiguration": endpoint,
            "BufferingHints": self.hints.to_json(),
            "CloudWatchLoggingOptions": {"Enabled": false},
            "RequestConfiguration": {
                "ContentEncoding": if self.gzip { "GZIP" } else { "NONE" },
                "CommonAttributes": attrs,
            },
            "ProcessingConfiguration": self.processing.describe(),
            "RetryOptions": {"DurationInSeconds": self.retry_secs},
            "S3BackupMode": self.backup_mode,
            "S3DestinationDescription": self.s3.describe(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_from_the_url() {
        assert_eq!(
            parse_target("https://x/y").unwrap(),
            HttpTarget::Http("https://x/y".into())
        );
        assert_eq!(
            parse_target("file:///var/siem").unwrap(),
            HttpTarget::File("/var/siem".into())
        );
        assert_eq!(
            parse_target("syslog+tls://127.0.0.1:6514?format=cef&ca=/etc/ca.pem").unwrap(),
            HttpTarget::Syslog(SyslogTarget {
                host: "127.0.0.1".into(),
                port: 6514,
                tls_ca: Some("/etc/ca.pem".into()),
                format: SyslogFormat::Cef,
            })
        );
        assert!(parse_target("syslog+tls://h:1").is_err());
        assert!(parse_target("syslog+tcp://h:1?format=xml").is_err());
        assert!(parse_target("ftp://h/").is_err());
        assert!(parse_target("file://relative").is_err());
    }
}
