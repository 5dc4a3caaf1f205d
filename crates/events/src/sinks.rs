//! Where notifications go: HTTP/S endpoints, the device gateway (through [`MqttSink`], so this
//! crate does not depend on the gateway) and files under the data dir.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// SNS gives an endpoint 15 seconds to answer.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const USER_AGENT: &str = "Amazon Simple Notification Service Agent";

/// Publishes a notification on a topic of the device gateway; the binary implements it with
/// `fleetward_gateway::Gateway::publish`.
#[async_trait::async_trait]
pub trait MqttSink: Send + Sync + 'static {
    /// Returns once the message is handed over (queued for offline sessions durably).
    async fn publish(&self, account: &str, topic: &str, payload: Vec<u8>) -> Result<(), String>;
}

/// Puts a notification into a delivery stream (`firehose` subscriptions); the binary
/// implements it with `fleetward_export::Export`.
#[async_trait::async_trait]
pub trait FirehoseSink: Send + Sync + 'static {
    /// Returns once the record is durably in the stream's buffer.
    async fn put(&self, account: &str, stream_arn: &str, record: Vec<u8>) -> Result<(), String>;
}

/// One HTTP/S delivery.
pub struct HttpDelivery<'a> {
    pub url: &'a str,
    pub body: String,
    pub content_type: &'a str,
    pub message_type: &'a str,
    pub message_id: &'a str,
    pub topic_arn: &'a str,
    /// Notifications carry it; confirmations do not.
    pub subscription_arn: Option<&'a str>,
    pub raw: bool,
}

pub struct HttpSender {
    client: reqwest::Client,
}

impl HttpSender {
    /// `extra_root_pem`: also trusted for https endpoints (Fleetward's root CA), besides the
    /// public web roots.
    pub fn new(extra_root_pem: Option<&str>) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(USER_AGENT)
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true);
        if let Some(pem) = extra_root_pem {
            let root = reqwest::Certificate::from_pem(pem.as_bytes())
                .map_err(|e| format!("cannot read the root CA: {e}"))?;
            builder = builder.add_root_certificate(root);
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self { client })
    }

    /// Delivered when the endpoint answers 2xx; anything else is a failed attempt.
    pub async fn send(&self, d: HttpDelivery<'_>) -> Result<(), String> {
        let mut request = self
            .client
            .post(d.url)
            .header("content-type", d.content_type)
            .header("x-amz-sns-message-type", d.message_type)
            .header("x-amz-sns-message-id", d.message_id)
            .header("x-amz-sns-topic-arn", d.topic_arn);
        if let Some(arn) = d.subscription_arn {
            request = request.header("x-amz-sns-subscription-arn", arn);
        }
        if d.raw {
            request = request.header("x-amz-sns-rawdelivery", "true");
        }
        let response = request.body(d.body).send().await.map_err(describe)?;
        let status = response.status();
        // Read the (small) answer so the connection goes back to the pool.
        let _ = response.bytes().await;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP status {}", status.as_u16()))
        }
    }
}

/// A short reason without the URL (which may hold secrets in its query).
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "connection failed".to_string()
    } else if e.is_builder() {
        "invalid endpoint".to_string()
    } else {
        "request failed".to_string()
    }
}

/// Appends JSON lines to files under one directory (`DATA_DIR/notifications`).
pub struct FileSink {
    dir: PathBuf,
    /// One line at a time, so concurrent deliveries never interleave.
    lock: tokio::sync::Mutex<()>,
}

impl FileSink {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Appends `line` and a newline to the file `relative` names, and syncs it to disk.
    pub async fn append(&self, relative: &str, line: String) -> Result<(), String> {
        let _guard = self.lock.lock().await;
        let dir = self.dir.clone();
        let relative = relative.to_string();
        tokio::task::spawn_blocking(move || append_blocking(&dir, &relative, &line))
            .await
            .map_err(|_| "the file writer stopped".to_string())?
    }
}

fn append_blocking(dir: &Path, relative: &str, line: &str) -> Result<(), String> {
    use std::io::Write;
    let Some(path) = crate::validate::relative_file_path(relative) else {
        return Err("the path is not allowed".to_string());
    };
    let target = dir.join(path);
    let parent = target.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(|e| format!("cannot create the directory: {e}"))?;
    // A symbolic link must not lead the write out of the directory.
    let root = dir
        .canonicalize()
        .map_err(|e| format!("cannot resolve the directory: {e}"))?;
    let real_parent = parent
        .canonicalize()
        .map_err(|e| format!("cannot resolve the directory: {e}"))?;
    let is_link = std::fs::symlink_metadata(&target).is_ok_and(|m| m.file_type().is_symlink());
    if !real_parent.starts_with(&root) || is_link {
        return Err("the path leaves the notification directory".to_string());
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&target)
        .map_err(|e| format!("cannot open the file: {e}"))?;
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    file.write_all(&bytes)
        .and_then(|()| file.sync_data())
        .map_err(|e| format!("cannot write the file: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_get_one_line_per_message() {
        let dir = tempfile::tempdir().unwrap();
        let sink = FileSink::new(dir.path().join("notifications"));
        sink.append("team/a.jsonl", r#"{"n":1}"#.into())
            .await
            .unwrap();
        sink.append("team/a.jsonl", r#"{"n":2}"#.into())
            .await
            .unwrap();
        let text = std::fs::read_to_string(dir.path().join("notifications/team/a.jsonl")).unwrap();
        assert_eq!(text, "{\"n\":1}\n{\"n\":2}\n");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn symbolic_links_out_of_the_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("notifications");
        std::fs::create_dir_all(&base).unwrap();
        std::os::unix::fs::symlink(dir.path(), base.join("out")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("x"), base.join("f.jsonl")).unwrap();
        let sink = FileSink::new(base);
        assert!(sink.append("out/escape.jsonl", "x".into()).await.is_err());
        assert!(sink.append("f.jsonl", "x".into()).await.is_err());
        assert!(!dir.path().join("escape.jsonl").exists());
        assert!(!dir.path().join("x").exists());
        assert!(sink.append("../x", "x".into()).await.is_err());
    }
}
