//! A minimal `firehose` JSON 1.1 client, SigV4-signed with Fleetward's own signer.

use fleetward_model::Clock;
use fleetward_sigv4::{RequestParts, SigningParams, sign};
use serde_json::Value;

pub struct Firehose {
    http: reqwest::Client,
    endpoint: String,
    host: String,
    key_id: String,
    secret: String,
}

/// An answer that was not 200: status and body.
pub struct CallError {
    pub status: u16,
    pub body: String,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.body)
    }
}

impl Firehose {
    pub fn new(endpoint: &str, credentials: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(credentials)
            .map_err(|e| format!("{}: {e}", credentials.display()))?;
        let value = |name: &str| {
            text.lines()
                .filter_map(|l| l.split_once('='))
                .find(|(k, _)| k.trim() == name)
                .map(|(_, v)| v.trim().to_string())
                .ok_or(format!("{name} missing in {}", credentials.display()))
        };
        let endpoint = endpoint.trim_end_matches('/').to_string();
        Ok(Self {
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .map_err(|e| e.to_string())?,
            host: endpoint
                .split("://")
                .nth(1)
                .unwrap_or(&endpoint)
                .to_string(),
            endpoint,
            key_id: value("aws_access_key_id")?,
            secret: value("aws_secret_access_key")?,
        })
    }

    pub async fn call(&self, operation: &str, body: Vec<u8>) -> Result<Value, CallError> {
        let target = format!("Firehose_20150804.{operation}");
        let content_type = "application/x-amz-json-1.1";
        let headers = [
            ("host", self.host.as_str()),
            ("content-type", content_type),
            ("x-amz-target", target.as_str()),
        ];
        let parts = RequestParts {
            method: "POST",
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            body: &body,
        };
        let signed = sign(
            &parts,
            &SigningParams {
                access_key_id: &self.key_id,
                secret_access_key: &self.secret,
                region: "us-east-1",
                service: "firehose",
                time_ms: fleetward_model::SystemClock.now_ms(),
            },
        )
        .map_err(|e| CallError {
            status: 0,
            body: e.message(),
        })?;
        let mut request = self
            .http
            .post(format!("{}/", self.endpoint))
            .header("content-type", content_type)
            .header("x-amz-target", &target)
            .body(body);
        for (name, value) in signed.headers() {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| CallError {
            status: 0,
            body: e.to_string(),
        })?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| CallError {
            status: 0,
            body: e.to_string(),
        })?;
        if status != 200 {
            return Err(CallError {
                status,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| CallError {
            status,
            body: e.to_string(),
        })
    }
}
