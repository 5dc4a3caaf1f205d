//! Per-stream counters on `/metrics` (labels `account`, `stream`).

pub fn accepted(account: &str, stream: &str, records: u64, bytes: u64) {
    let labels = [
        ("account", account.to_string()),
        ("stream", stream.to_string()),
    ];
    metrics::counter!("fleetward_export_records_in_total", &labels).increment(records);
    metrics::counter!("fleetward_export_bytes_in_total", &labels).increment(bytes);
}

/// Records refused because the buffer was full.
pub fn rejected(account: &str, stream: &str, records: u64) {
    let labels = [
        ("account", account.to_string()),
        ("stream", stream.to_string()),
    ];
    metrics::counter!("fleetward_export_records_rejected_total", &labels).increment(records);
}

pub fn delivered(account: &str, stream: &str, records: u64) {
    let labels = [
        ("account", account.to_string()),
        ("stream", stream.to_string()),
    ];
    metrics::counter!("fleetward_export_records_delivered_total", &labels).increment(records);
}

/// Records written to the backup directory, by Firehose error code.
pub fn backed_up(account: &str, stream: &str, code: &str, records: u64) {
    let labels = [
        ("account", account.to_string()),
        ("stream", stream.to_string()),
        ("code", code.to_string()),
    ];
    metrics::counter!("fleetward_export_records_failed_total", &labels).increment(records);
}

/// Records a transform dropped.
pub fn dropped(account: &str, stream: &str, records: u64) {
    let labels = [
        ("account", account.to_string()),
        ("stream", stream.to_string()),
    ];
    metrics::counter!("fleetward_export_records_dropped_total", &labels).increment(records);
}

pub fn retry(account: &str, stream: &str, code: &str) {
    let labels = [
        ("account", account.to_string()),
        ("stream", stream.to_string()),
        ("code", code.to_string()),
    ];
    metrics::counter!("fleetward_export_delivery_retries_total", &labels).increment(1);
}

pub fn buffer_bytes(account: &str, stream: &str, bytes: u64) {
    let labels = [
        ("account", account.to_string()),
        ("stream", stream.to_string()),
    ];
    metrics::gauge!("fleetward_export_buffer_bytes", &labels).set(bytes as f64);
}
