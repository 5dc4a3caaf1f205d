//! AWS IoT's own logs (what AWS sends to CloudWatch Logs as `AWSIotLogsV2`): one JSON line
//! per event in `DATA_DIR/iot-logs.jsonl`, at the levels the account's logging options set
//! (SetV2LoggingOptions, SetV2LoggingLevel, SetLoggingOptions).

use std::io::Write;
use std::path::PathBuf;

use fleetward_registry::{LogLevel, LogSubject, Registry};
use serde_json::json;
use tokio::sync::mpsc;

/// Appends log lines to a file from a background thread.
pub struct IotLog {
    tx: mpsc::UnboundedSender<String>,
}

impl IotLog {
    pub fn open(path: PathBuf) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        tokio::task::spawn_blocking(move || {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path);
            let mut file = match file {
                Ok(f) => std::io::BufWriter::new(f),
                Err(e) => {
                    tracing::error!(path = %path.display(), error = %e, "Cannot open the IoT log.");
                    return;
                }
            };
            while let Some(line) = rx.blocking_recv() {
                let _ = writeln!(file, "{line}");
                // Write out whatever arrived together, then flush.
                while let Ok(more) = rx.try_recv() {
                    let _ = writeln!(file, "{more}");
                }
                let _ = file.flush();
            }
        });
        Self { tx }
    }
}

/// One event to log.
pub struct LogEvent<'a> {
    pub level: LogLevel,
    pub event_type: &'a str,
    pub success: bool,
    pub topic: Option<&'a str>,
    pub reason: Option<&'a str>,
}

/// The level events about `subject` are logged at, or `None`: nothing to log (no sink, or
/// logging off for it).
pub fn wanted_level(
    sink: Option<&IotLog>,
    registry: &Registry,
    account_id: &str,
    subject: &LogSubject<'_>,
) -> Option<LogLevel> {
    sink?;
    registry.log_level(account_id, subject)
}

/// Logs `event` about `subject` if `wanted` (from [`wanted_level`]) asks for its level.
pub fn log(
    sink: Option<&IotLog>,
    wanted: Option<LogLevel>,
    account_id: &str,
    subject: &LogSubject<'_>,
    source_port: u16,
    now_ms: i64,
    event: LogEvent<'_>,
) {
    let (Some(sink), Some(wanted)) = (sink, wanted) else {
        return;
    };
    if event.level > wanted {
        return;
    }
    let mut line = json!({
        "timestamp": fleetward_model::timestamp::format_ms(now_ms),
        "logLevel": event.level.as_str(),
        "accountId": account_id,
        "status": if event.success { "Success" } else { "Failure" },
        "eventType": event.event_type,
        "protocol": "MQTT",
        "clientId": subject.client_id,
        "principalId": subject.principal_id,
        "sourceIp": subject.source_ip,
        "sourcePort": source_port,
    });
    if let Some(topic) = event.topic {
        line["topicName"] = json!(topic);
    }
    if let Some(reason) = event.reason {
        line["reason"] = json!(reason);
    }
    if let Some(thing) = subject.thing_name {
        line["thingName"] = json!(thing);
    }
    let _ = sink.tx.send(line.to_string());
}
