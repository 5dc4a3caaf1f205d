//! A fast Splunk-HEC-compatible receiver for the benchmark: `/services/collector/event` with
//! token and channel checks, ack ids per channel, `/services/collector/ack`; counts every
//! record by its `"seq":N` member (deliveries and duplicates). It can be stopped and started
//! again on the same port (the receiver-down scenario).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const TOKEN: &str = "6c1b0c9e-5b4f-4d1e-9a57-bench0000001";

pub struct Counts {
    /// Deliveries per record sequence number.
    seen: Mutex<Vec<u8>>,
    pub unique: AtomicU64,
    pub duplicates: AtomicU64,
    channels: Mutex<HashMap<String, (u64, HashSet<u64>)>>,
}

impl Counts {
    fn record(&self, body: &[u8]) {
        let mut seen = match self.seen.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        let needle = b"\"seq\":";
        let mut i = 0;
        while let Some(pos) = find(&body[i..], needle) {
            let mut j = i + pos + needle.len();
            let mut n: usize = 0;
            while j < body.len() && body[j].is_ascii_digit() {
                n = n * 10 + (body[j] - b'0') as usize;
                j += 1;
            }
            if let Some(slot) = seen.get_mut(n) {
                if *slot == 0 {
                    self.unique.fetch_add(1, Ordering::Relaxed);
                } else {
                    self.duplicates.fetch_add(1, Ordering::Relaxed);
                }
                *slot = slot.saturating_add(1);
            }
            i = j;
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&*format!("Splunk {TOKEN}"))
}

fn channel(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-splunk-request-channel")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn event(
    State(counts): State<Arc<Counts>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    if !authorized(&headers) {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"text": "Invalid token", "code": 4})),
        );
    }
    let Some(channel) = channel(&headers) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"text": "Data channel is missing", "code": 10})),
        );
    };
    counts.record(&body);
    let mut channels = match counts.channels.lock() {
        Ok(c) => c,
        Err(p) => p.into_inner(),
    };
    let entry = channels.entry(channel).or_default();
    let id = entry.0;
    entry.0 += 1;
    entry.1.insert(id);
    (
        StatusCode::OK,
        Json(json!({"text": "Success", "code": 0, "ackId": id})),
    )
}

async fn ack(
    State(counts): State<Arc<Counts>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    if !authorized(&headers) {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"text": "Invalid token", "code": 4})),
        );
    }
    let Some(channel) = channel(&headers) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"text": "Data channel is missing", "code": 10})),
        );
    };
    let wanted: Vec<u64> = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("acks").cloned())
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let mut channels = match counts.channels.lock() {
        Ok(c) => c,
        Err(p) => p.into_inner(),
    };
    let pending = channels.entry(channel).or_default();
    let mut acks = serde_json::Map::new();
    for id in wanted {
        // True once, then forgotten, as Splunk does.
        acks.insert(id.to_string(), json!(pending.1.remove(&id)));
    }
    (StatusCode::OK, Json(json!({ "acks": acks })))
}

pub struct Receiver {
    pub addr: SocketAddr,
    pub counts: Arc<Counts>,
    running: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl Receiver {
    pub async fn start(records: usize) -> Result<Self, String> {
        let counts = Arc::new(Counts {
            seen: Mutex::new(vec![0; records]),
            unique: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            channels: Mutex::new(HashMap::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let mut receiver = Self {
            addr,
            counts,
            running: None,
        };
        receiver.serve(listener);
        Ok(receiver)
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let app = axum::Router::new()
            .route("/services/collector/event", axum::routing::post(event))
            .route("/services/collector/ack", axum::routing::post(ack))
            // Firehose sends up to 5 MB per request (SizeInMBs), above axum's 2 MB default.
            .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(self.counts.clone());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop_rx.await;
                })
                .await;
        });
        self.running = Some((stop_tx, task));
    }

    /// Closes the listener and every connection (the receiver is down).
    pub async fn stop(&mut self) {
        if let Some((stop, task)) = self.running.take() {
            let _ = stop.send(());
            task.abort();
            let _ = task.await;
        }
    }

    pub async fn restart(&mut self) -> Result<(), String> {
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .map_err(|e| e.to_string())?;
        self.serve(listener);
        Ok(())
    }
}
