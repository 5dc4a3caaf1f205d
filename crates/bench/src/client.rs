//! A minimal rest-json client (Security Hub, IoT) and query-protocol client (SNS), signed with
//! Fleetward's own SigV4 code (which its tests check against botocore and aws-sigv4).

use fleetward_model::Clock;
use fleetward_sigv4::{RequestParts, SigningParams, sign};
use serde_json::Value;

use crate::Target;

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    endpoint: String,
    host: String,
    region: String,
    key_id: String,
    secret: String,
}

impl Client {
    pub fn new(target: &Target) -> Result<Self, String> {
        let text = std::fs::read_to_string(&target.credentials)
            .map_err(|e| format!("cannot read {}: {e}", target.credentials))?;
        let value = |name: &str| {
            text.lines()
                .filter_map(|l| l.split_once('='))
                .find(|(k, _)| k.trim() == name)
                .map(|(_, v)| v.trim().to_string())
                .ok_or(format!("{name} missing in {}", target.credentials))
        };
        let endpoint = target.endpoint.trim_end_matches('/').to_string();
        let host = endpoint
            .split("://")
            .nth(1)
            .unwrap_or(&endpoint)
            .to_string();
        Ok(Self {
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .map_err(|e| e.to_string())?,
            endpoint,
            host,
            region: target.region.clone(),
            key_id: value("aws_access_key_id")?,
            secret: value("aws_secret_access_key")?,
        })
    }

    /// Sends one signed Security Hub request; returns the parsed JSON body or the error text.
    pub async fn call(&self, method: &str, path: &str, body: Vec<u8>) -> Result<Value, String> {
        self.call_service("securityhub", method, path, "", body)
            .await
    }

    /// Sends one signed request to `service`; `query` is already encoded.
    pub async fn call_service(
        &self,
        service: &str,
        method: &str,
        path: &str,
        query: &str,
        body: Vec<u8>,
    ) -> Result<Value, String> {
        let headers = [
            ("host", self.host.as_str()),
            ("content-type", "application/json"),
        ];
        let parts = RequestParts {
            method,
            raw_path: path,
            raw_query: query,
            headers: &headers,
            body: &body,
        };
        let signed = sign(
            &parts,
            &SigningParams {
                access_key_id: &self.key_id,
                secret_access_key: &self.secret,
                region: &self.region,
                service,
                time_ms: fleetward_model::SystemClock.now_ms(),
            },
        )
        .map_err(|e| e.message())?;
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut request = self
            .http
            .request(method, {
                let mut url = format!("{}{}", self.endpoint, path);
                if !query.is_empty() {
                    url.push('?');
                    url.push_str(query);
                }
                url
            })
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in signed.headers() {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&bytes)));
        }
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    }

    /// Sends one signed AWS query-protocol request (`Action=...`, form-encoded, e.g. `sns`);
    /// returns the XML answer or the error text.
    pub async fn call_query(&self, service: &str, form: String) -> Result<String, String> {
        let content_type = "application/x-www-form-urlencoded; charset=utf-8";
        let headers = [("host", self.host.as_str()), ("content-type", content_type)];
        let body = form.into_bytes();
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
                region: &self.region,
                service,
                time_ms: fleetward_model::SystemClock.now_ms(),
            },
        )
        .map_err(|e| e.message())?;
        let mut request = self
            .http
            .post(format!("{}/", self.endpoint))
            .header("content-type", content_type)
            .body(body);
        for (name, value) in signed.headers() {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{status}: {text}"));
        }
        Ok(text)
    }
}
