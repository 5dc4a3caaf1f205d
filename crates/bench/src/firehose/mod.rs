//! `fleetward-bench firehose`: records/s from PutRecordBatch to a Splunk HEC receiver on
//! loopback with indexer acknowledgement on, through a delivery stream with the built-in
//! seed-001 transform; and the no-loss counts when the receiver is down for a while or
//! Fleetward is killed with SIGKILL mid-stream (every record numbered; the receiver counts
//! unique deliveries and duplicates).

mod api;
mod receiver;
mod server;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use api::Firehose;
use receiver::Receiver;
use server::Server;

#[derive(clap::Args, Clone)]
pub struct FirehoseArgs {
    /// The Fleetward binary to run (a release build for figures).
    #[arg(long, default_value = "target/release/fleetward")]
    pub fleetward_bin: PathBuf,
    /// A new, empty directory for the server's data.
    #[arg(long, default_value = "./bench-firehose-data")]
    pub data_dir: PathBuf,
    #[arg(long, default_value_t = 500_000)]
    pub records: usize,
    /// Size of each JSON record.
    #[arg(long, default_value_t = 1000)]
    pub record_bytes: usize,
    /// Concurrent PutRecordBatch clients (500 records per call).
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Stop the HEC receiver for this long once a quarter of the records are accepted.
    #[arg(long, default_value_t = 0)]
    pub receiver_down_secs: u64,
    /// SIGKILL Fleetward once half of the records are accepted, and start it again.
    #[arg(long)]
    pub kill9: bool,
    /// The stream buffer's limit (FLEETWARD_EXPORT_BUFFER_BYTES) in MiB.
    #[arg(long, default_value_t = 512)]
    pub buffer_mb: u64,
    /// SplunkBufferingHints.SizeInMBs (1–5).
    #[arg(long, default_value_t = 5)]
    pub size_mb: u32,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 900)]
    pub timeout_secs: u64,
}

const BATCH: usize = 500;

fn record(seq: usize, bytes: usize) -> Vec<u8> {
    let head = format!(
        r#"{{"thing":"bench-thing-{:05}","name":"aws:all-bytes-out","seq":{seq},"value":{{"count":{}}},"pad":""#,
        seq % 10_000,
        seq % 977
    );
    let pad = bytes.saturating_sub(head.len() + 2);
    let mut out = head.into_bytes();
    out.resize(out.len() + pad, b'x');
    out.extend_from_slice(b"\"}");
    out
}

fn batch_body(stream: &str, seqs: &[usize], bytes: usize) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut body = format!(r#"{{"DeliveryStreamName":"{stream}","Records":["#).into_bytes();
    for (i, seq) in seqs.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(br#"{"Data":""#);
        body.extend_from_slice(b64.encode(record(*seq, bytes)).as_bytes());
        body.extend_from_slice(br#""}"#);
    }
    body.extend_from_slice(b"]}");
    body
}

struct Shared {
    client: RwLock<Arc<Firehose>>,
    next_chunk: AtomicUsize,
    accepted: AtomicU64,
    refused: AtomicU64,
    records: usize,
    record_bytes: usize,
    stream: String,
}

fn client(shared: &Shared) -> Arc<Firehose> {
    match shared.client.read() {
        Ok(c) => c.clone(),
        Err(p) => p.into_inner().clone(),
    }
}

/// Sends chunks until none are left; a record is retried until PutRecordBatch accepts it.
async fn producer(shared: Arc<Shared>) {
    loop {
        let chunk = shared.next_chunk.fetch_add(1, Ordering::Relaxed);
        let start = chunk * BATCH;
        if start >= shared.records {
            return;
        }
        let mut pending: Vec<usize> = (start..(start + BATCH).min(shared.records)).collect();
        while !pending.is_empty() {
            let body = batch_body(&shared.stream, &pending, shared.record_bytes);
            match client(&shared).call("PutRecordBatch", body).await {
                Ok(answer) => {
                    let responses = answer["RequestResponses"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    let failed: Vec<usize> = pending
                        .iter()
                        .zip(responses.iter())
                        .filter(|(_, r)| r.get("ErrorCode").is_some())
                        .map(|(s, _)| *s)
                        .collect();
                    shared
                        .accepted
                        .fetch_add((pending.len() - failed.len()) as u64, Ordering::Relaxed);
                    shared
                        .refused
                        .fetch_add(failed.len() as u64, Ordering::Relaxed);
                    if !failed.is_empty() {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    pending = failed;
                }
                Err(_) => {
                    // 503 (buffer full) or the server is restarting: the whole call is retried.
                    shared
                        .refused
                        .fetch_add(pending.len() as u64, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

pub async fn run(args: &FirehoseArgs) -> Result<(), String> {
    if args.data_dir.exists()
        && std::fs::read_dir(&args.data_dir)
            .map_err(|e| e.to_string())?
            .next()
            .is_some()
    {
        return Err(format!(
            "{} must be a new or empty directory",
            args.data_dir.display()
        ));
    }
    std::fs::create_dir_all(&args.data_dir).map_err(|e| e.to_string())?;
    let load_before = loadavg();
    let mut receiver = Receiver::start(args.records).await?;
    let mut server = Server::start(
        &args.fleetward_bin,
        &args.data_dir,
        args.buffer_mb * 1024 * 1024,
    )?;
    let stream = format!("bench-{}", std::process::id());
    let firehose = Arc::new(Firehose::new(&server.endpoint, &server.credentials())?);
    let create = json!({
        "DeliveryStreamName": stream,
        "SplunkDestinationConfiguration": {
            "HECEndpoint": format!("http://{}", receiver.addr),
            "HECEndpointType": "Event",
            "HECToken": receiver::TOKEN,
            "HECAcknowledgmentTimeoutInSeconds": 180,
            "RetryOptions": {"DurationInSeconds": 7200},
            "BufferingHints": {"SizeInMBs": args.size_mb, "IntervalInSeconds": 1},
            "S3Configuration": {"RoleARN": "arn:aws:iam::000000000000:role/bench", "BucketARN": "arn:aws:s3:::bench"},
            "ProcessingConfiguration": {"Enabled": true, "Processors": [{"Type": "Lambda", "Parameters": [
                {"ParameterName": "LambdaArn", "ParameterValue": "fleetward:hec-event?sourcetype=aws:iot:defender:metrics&host={thing}"}
            ]}]}
        }
    });
    firehose
        .call("CreateDeliveryStream", create.to_string().into_bytes())
        .await
        .map_err(|e| format!("CreateDeliveryStream: {e}"))?;
    let shared = Arc::new(Shared {
        client: RwLock::new(firehose),
        next_chunk: AtomicUsize::new(0),
        accepted: AtomicU64::new(0),
        refused: AtomicU64::new(0),
        records: args.records,
        record_bytes: args.record_bytes,
        stream: stream.clone(),
    });
    println!(
        "firehose: {} records of {} bytes, {} clients, HEC acks on, receiver down {} s, kill -9: {}",
        args.records, args.record_bytes, args.clients, args.receiver_down_secs, args.kill9
    );
    let started = Instant::now();
    let producers: Vec<_> = (0..args.clients)
        .map(|_| tokio::spawn(producer(shared.clone())))
        .collect();
    let total = args.records as u64;
    let mut down_done = args.receiver_down_secs == 0;
    let mut kill_done = !args.kill9;
    let mut accepted_at = None;
    let deadline = started + Duration::from_secs(args.timeout_secs);
    let mut last_report = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let accepted = shared.accepted.load(Ordering::Relaxed);
        if accepted_at.is_none() && accepted >= total {
            accepted_at = Some(started.elapsed());
        }
        if !down_done && accepted >= total / 4 {
            down_done = true;
            println!(
                "  t={:.1}s receiver down for {} s",
                started.elapsed().as_secs_f64(),
                args.receiver_down_secs
            );
            receiver.stop().await;
            tokio::time::sleep(Duration::from_secs(args.receiver_down_secs)).await;
            receiver.restart().await?;
            println!("  t={:.1}s receiver back", started.elapsed().as_secs_f64());
        }
        if !kill_done && accepted >= total / 2 {
            kill_done = true;
            println!(
                "  t={:.1}s kill -9 fleetward ({} records accepted)",
                started.elapsed().as_secs_f64(),
                accepted
            );
            tokio::task::block_in_place(|| server.kill9_and_restart())?;
            let fresh = Arc::new(Firehose::new(&server.endpoint, &server.credentials())?);
            if let Ok(mut c) = shared.client.write() {
                *c = fresh;
            }
            println!(
                "  t={:.1}s fleetward restarted",
                started.elapsed().as_secs_f64()
            );
        }
        let unique = receiver.counts.unique.load(Ordering::Relaxed);
        if last_report.elapsed() >= Duration::from_secs(5) {
            last_report = Instant::now();
            println!(
                "  t={:.0}s accepted {accepted}, delivered {unique}",
                started.elapsed().as_secs_f64()
            );
        }
        if unique >= total {
            break;
        }
        if Instant::now() > deadline {
            break;
        }
    }
    let elapsed = started.elapsed();
    for p in producers {
        p.abort();
    }
    let unique = receiver.counts.unique.load(Ordering::Relaxed);
    let duplicates = receiver.counts.duplicates.load(Ordering::Relaxed);
    let summary: Value = json!({
        "records": total,
        "delivered_unique": unique,
        "lost": total - unique.min(total),
        "duplicates": duplicates,
        "seconds": (elapsed.as_secs_f64() * 100.0).round() / 100.0,
        "delivered_per_second": (unique as f64 / elapsed.as_secs_f64()).round(),
        "all_accepted_after_s": accepted_at.map(|d| (d.as_secs_f64() * 100.0).round() / 100.0),
        "put_retries_records": shared.refused.load(Ordering::Relaxed),
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&summary).unwrap_or_default()
    );
    server.stop();
    receiver.stop().await;
    if unique < total {
        return Err(format!(
            "{} records not delivered within {} s",
            total - unique,
            args.timeout_secs
        ));
    }
    Ok(())
}
