//! `fleetward-bench detect-e2e`: Device Defender detect end to end. Devices report over
//! MQTT/TLS (QoS 1, mutual TLS) to `$aws/things/THING/defender/metrics/json` through the
//! gateway, for `--things` things against a profile of 10 rule behaviors; a few reports
//! violate (port 21 against `in-port-set`, one datapoint to alarm, no window). The figures:
//! reports acknowledged per second, and the time from the publish of a violating report to
//! the arrival of its `in-alarm` alert at the profile's SNS topic's http subscriber (run here).
//!
//! Everything is set up through the APIs as a user would: a policy and certificates, an SNS
//! topic with a confirmed http subscription, the profile and its attachment to all things.
//! The server must run with `--report-min-interval-secs 0` so that a thing may report more
//! often than every 5 minutes.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use fleetward_mqtt::{Packet, Publish, QoS, ReasonCode, encode};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::Target;
use crate::client::Client;
use crate::mqtt::{Broker, Devices, Mqtt, VERSION, open_many};
use crate::proc_stat::{cpu_seconds, status_kb};

const POLICY: &str = "detect-e2e-policy";
const PROFILE: &str = "detect-e2e";
/// The behavior the violating reports break.
const PORTS_BEHAVIOR: &str = "tcp-ports";

#[derive(clap::Args, Clone)]
pub struct DetectE2eArgs {
    /// MQTT over TLS address of Fleetward.
    #[arg(long, default_value = "127.0.0.1:8883")]
    pub addr: SocketAddr,
    /// Fleetward's data directory (its root-ca.pem verifies the server certificate).
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Where the device certificates are written.
    #[arg(long, default_value = "/tmp/detect-e2e-devices")]
    pub certs: PathBuf,
    /// Device certificates, shared round-robin by the connections.
    #[arg(long, default_value_t = 8)]
    pub certificates: usize,
    /// MQTT connections.
    #[arg(long, default_value_t = 200)]
    pub connections: usize,
    /// Distinct things reporting (each connection reports for its share).
    #[arg(long, default_value_t = 100_000)]
    pub things: usize,
    /// Reports per second offered, all connections together.
    #[arg(long, default_value_t = 20_000.0)]
    pub rate: f64,
    /// Violating reports per second, spread over the connections.
    #[arg(long, default_value_t = 20.0)]
    pub violations_per_s: f64,
    #[arg(long, default_value_t = 30)]
    pub seconds: u64,
    #[arg(long, default_value_t = 5)]
    pub warmup: u64,
    /// Reports awaiting their PUBACK per connection.
    #[arg(long, default_value_t = 32)]
    pub window: usize,
    /// Fleetward's process id: its CPU time and memory are reported.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Where the SNS http subscriber listens.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
}

/// Shared by the publishers and the alert subscriber.
#[derive(Default)]
struct Shared {
    published: AtomicU64,
    acked: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
    /// Things whose violating report was published (when, and the wall clock in ms) and
    /// whose alert has not come yet.
    pending: Mutex<HashMap<String, (Instant, i64)>>,
    violations_sent: AtomicU64,
    /// Publish-to-alert latencies, seconds.
    latencies: Mutex<Vec<f64>>,
    /// Publish-to-evaluation times (the alert's violationEventTime), seconds: the part of
    /// the latency before detect's commit and the SNS delivery.
    evaluated: Mutex<Vec<f64>>,
    /// Publish-to-SNS-accepted times (the envelope's Timestamp, when SNS took the message
    /// from detect), seconds: what remains after it is the delivery over http.
    accepted: Mutex<Vec<f64>>,
    stop: AtomicBool,
}

impl Shared {
    fn fail(&self, error: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let mut first = self
            .first_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        first.get_or_insert(error);
    }
}

pub async fn run(target: &Target, args: &DetectE2eArgs) -> Result<(), String> {
    let client = Client::new(target)?;
    let shared = Arc::new(Shared::default());
    make_certificates(&client, target, args).await?;
    let topic_arn = alert_topic(&client, shared.clone(), args.listen).await?;
    create_profile(&client, target, &topic_arn).await?;

    let broker = Broker {
        addr: args.addr,
        certs: args.certs.clone(),
        ca: args.certs.join("root-ca.pem"),
        server_name: "localhost".into(),
        connect_concurrency: 32,
    };
    let devices = Arc::new(Devices::load(&broker, args.certificates)?);
    let connections = open_many(
        &devices,
        "detect-e2e-",
        args.connections,
        broker.connect_concurrency,
        600,
        0,
    )
    .await?;
    eprintln!("{} connections open", connections.len());
    let n = connections.len();
    let mut tasks = Vec::with_capacity(n);
    for (index, conn) in connections.into_iter().enumerate() {
        let publisher = Publisher {
            things: (index..args.things).step_by(n).collect(),
            rate: args.rate / n as f64,
            violations_per_s: args.violations_per_s / n as f64,
            window: args.window.max(1),
            shared: shared.clone(),
        };
        tasks.push(tokio::spawn(async move {
            if let Err(e) = publisher.run(conn).await {
                publisher.shared.fail(e);
            }
        }));
    }

    tokio::time::sleep(Duration::from_secs(args.warmup)).await;
    shared
        .latencies
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    shared
        .evaluated
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    shared
        .accepted
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    let (acked0, sent0) = (
        shared.acked.load(Ordering::Relaxed),
        shared.violations_sent.load(Ordering::Relaxed),
    );
    let cpu0 = args.server_pid.and_then(cpu_seconds);
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let elapsed = t0.elapsed().as_secs_f64();
    let acked = shared.acked.load(Ordering::Relaxed) - acked0;
    let server_cpu = args
        .server_pid
        .and_then(cpu_seconds)
        .zip(cpu0)
        .map(|(b, a)| (b - a) / elapsed);
    let rss_kb = args.server_pid.and_then(|p| status_kb(p, "VmRSS"));
    shared.stop.store(true, Ordering::Relaxed);
    let violations = shared.violations_sent.load(Ordering::Relaxed) - sent0;
    // Alerts of the last violations may still be on their way.
    let waited = Instant::now();
    while waited.elapsed() < Duration::from_secs(15) && !pending_empty(&shared) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for task in &tasks {
        task.abort();
    }
    print_results(
        args, &shared, elapsed, acked, violations, server_cpu, rss_kb,
    );
    Ok(())
}

fn pending_empty(shared: &Shared) -> bool {
    shared
        .pending
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .is_empty()
}

/// A copy of the collected times, sorted for quantiles.
fn sorted(times: &Mutex<Vec<f64>>) -> Vec<f64> {
    let mut copy = times.lock().unwrap_or_else(PoisonError::into_inner).clone();
    copy.sort_by(f64::total_cmp);
    copy
}

fn print_results(
    args: &DetectE2eArgs,
    shared: &Shared,
    elapsed: f64,
    acked: u64,
    violations: u64,
    server_cpu: Option<f64>,
    rss_kb: Option<u64>,
) {
    let (latencies, evaluated, accepted) = (
        sorted(&shared.latencies),
        sorted(&shared.evaluated),
        sorted(&shared.accepted),
    );
    let at = |q: f64| crate::mqtt::quantile(&latencies, q) * 1000.0;
    let eval_at = |q: f64| crate::mqtt::quantile(&evaluated, q) * 1000.0;
    let accepted_at = |q: f64| crate::mqtt::quantile(&accepted, q) * 1000.0;
    let missing = shared
        .pending
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .len();
    let per_s = acked as f64 / elapsed;
    println!(
        "detect-e2e: {} connections, {} things, offered {:.0} reports/s, {elapsed:.0} s after {} s warm-up",
        args.connections, args.things, args.rate, args.warmup
    );
    println!("  reports acknowledged (PUBACK): {per_s:.0}/s");
    println!(
        "  violating reports: {violations} in the measured period; in-alarm alerts: {} (still missing after 15 s: {missing})",
        latencies.len()
    );
    println!(
        "  publish-to-in-alarm latency: p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
    println!(
        "    of which publish-to-evaluation (the alert's violationEventTime): p50 {:.0} ms, p99 {:.0} ms",
        eval_at(0.5),
        eval_at(0.99)
    );
    println!(
        "    of which publish-to-SNS-accepted (the envelope's Timestamp): p50 {:.0} ms, p99 {:.0} ms",
        accepted_at(0.5),
        accepted_at(0.99)
    );
    if let Some(cpu) = server_cpu {
        println!("  Fleetward CPU: {:.0}% of one core", cpu * 100.0);
    }
    if let Some(kb) = rss_kb {
        println!("  Fleetward RSS: {:.0} MiB", kb as f64 / 1024.0);
    }
    let failed = shared.failed.load(Ordering::Relaxed);
    if failed > 0 {
        let first = shared
            .first_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        println!(
            "  {failed} connections failed; first: {}",
            first.unwrap_or_default()
        );
    }
    println!(
        "RESULT detect-e2e reports_per_s={per_s:.0} p50_ms={:.0} p99_ms={:.0} alerts={} missing={missing} failed={failed}",
        at(0.5),
        at(0.99),
        latencies.len()
    );
}

/// A policy allowing the report topics, and `--certificates` device certificates.
async fn make_certificates(
    client: &Client,
    target: &Target,
    args: &DetectE2eArgs,
) -> Result<(), String> {
    let dir = &args.certs;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let root = args.data_dir.join("root-ca.pem");
    std::fs::copy(&root, dir.join("root-ca.pem"))
        .map_err(|e| format!("{}: {e}", root.display()))?;
    let arn = |r: &str| format!("arn:aws:iot:{}:{}:{r}", target.region, target.account_id);
    let document = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iot:Connect", "Resource": arn("client/detect-e2e-*")},
            {"Effect": "Allow", "Action": "iot:Publish",
             "Resource": arn("topic/$aws/things/*/defender/metrics/json")}
        ]
    });
    let body = json!({"policyDocument": document.to_string()});
    match client
        .call_service(
            "iot",
            "POST",
            &format!("/policies/{POLICY}"),
            "",
            body.to_string().into_bytes(),
        )
        .await
    {
        Ok(_) => {}
        Err(e) if e.contains("ResourceAlreadyExists") => {}
        Err(e) => return Err(format!("CreatePolicy: {e}")),
    }
    for n in 0..args.certificates {
        let created = client
            .call_service(
                "iot",
                "POST",
                "/keys-and-certificate",
                "setAsActive=true",
                Vec::new(),
            )
            .await
            .map_err(|e| format!("CreateKeysAndCertificate: {e}"))?;
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let (Some(cert_arn), Some(pem), Some(key)) = (
            text(created.get("certificateArn")),
            text(created.get("certificatePem")),
            text(created.pointer("/keyPair/PrivateKey")),
        ) else {
            return Err("CreateKeysAndCertificate: incomplete answer".into());
        };
        client
            .call_service(
                "iot",
                "PUT",
                &format!("/target-policies/{POLICY}"),
                "",
                json!({"target": cert_arn}).to_string().into_bytes(),
            )
            .await
            .map_err(|e| format!("AttachPolicy: {e}"))?;
        let write = |name: String, text: &str| {
            std::fs::write(dir.join(&name), text).map_err(|e| format!("{name}: {e}"))
        };
        write(format!("cert-{n}.pem"), &pem)?;
        write(format!("key-{n}.pem"), &key)?;
    }
    Ok(())
}

/// An SNS topic whose confirmed http subscriber (this process) records in-alarm alerts.
async fn alert_topic(
    client: &Client,
    shared: Arc<Shared>,
    listen: SocketAddr,
) -> Result<String, String> {
    let (confirm_tx, mut confirm_rx) = mpsc::unbounded_channel::<String>();
    let app = axum::Router::new().fallback(move |body: Bytes| {
        let (shared, confirm_tx) = (shared.clone(), confirm_tx.clone());
        async move {
            receive(&shared, &confirm_tx, &body);
            ""
        }
    });
    let listener = std::net::TcpListener::bind(listen)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let endpoint = format!(
        "http://{}/alerts",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    // The subscriber answers on a thread of its own, as a real one would on its own
    // machine: on the generator's runtime its requests would wait behind the 200
    // publishing connections, and that wait would count as Fleetward's latency.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        runtime.block_on(async move {
            match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => {
                    let _ = axum::serve(listener, app).await;
                }
                Err(e) => eprintln!("alert subscriber: {e}"),
            }
        })
    });

    let created = client
        .call_query(
            "sns",
            format!(
                "Action=CreateTopic&Version=2010-03-31&Name=detect-e2e-{}",
                std::process::id()
            ),
        )
        .await?;
    let topic = between(&created, "<TopicArn>", "</TopicArn>").ok_or("CreateTopic: no TopicArn")?;
    client
        .call_query(
            "sns",
            format!(
                "Action=Subscribe&Version=2010-03-31&TopicArn={}&Protocol=http&Endpoint={}",
                form(&topic),
                form(&endpoint)
            ),
        )
        .await?;
    let url = tokio::time::timeout(Duration::from_secs(30), confirm_rx.recv())
        .await
        .map_err(|_| "no SubscriptionConfirmation within 30 s")?
        .ok_or("the subscriber stopped")?;
    let confirmed = reqwest::get(&url).await.map_err(|e| e.to_string())?;
    if !confirmed.status().is_success() {
        return Err(format!("SubscribeURL answered {}", confirmed.status()));
    }
    Ok(topic)
}

/// One SNS delivery: the confirmation hands over its URL; an in-alarm alert of the ports
/// behavior completes its thing's pending violation.
fn receive(shared: &Shared, confirm: &mpsc::UnboundedSender<String>, body: &[u8]) {
    let Ok(envelope) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    if let Some(url) = envelope.get("SubscribeURL").and_then(Value::as_str) {
        let _ = confirm.send(url.to_string());
        return;
    }
    let Some(alert) = envelope
        .get("Message")
        .and_then(Value::as_str)
        .and_then(|m| serde_json::from_str::<Value>(m).ok())
    else {
        return;
    };
    let in_alarm = alert["violationEventType"] == "in-alarm"
        && alert.pointer("/behavior/name").and_then(Value::as_str) == Some(PORTS_BEHAVIOR);
    let Some(thing) = alert["thingName"].as_str().filter(|_| in_alarm) else {
        return;
    };
    let sent = shared
        .pending
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(thing);
    if let Some((sent, sent_ms)) = sent {
        shared
            .latencies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(sent.elapsed().as_secs_f64());
        if let Some(event_ms) = alert["violationEventTime"].as_i64() {
            shared
                .evaluated
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((event_ms - sent_ms) as f64 / 1000.0);
        }
        if let Some(accepted_ms) = envelope
            .get("Timestamp")
            .and_then(Value::as_str)
            .and_then(fleetward_model::timestamp::parse_rfc3339_ms)
        {
            shared
                .accepted
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((accepted_ms - sent_ms) as f64 / 1000.0);
        }
    }
}

/// Ten rule behaviors of mixed kinds (ports, CIDRs, counts, a window, a custom number);
/// the reports conform to all but the ports one when they violate.
async fn create_profile(client: &Client, target: &Target, topic_arn: &str) -> Result<(), String> {
    let rule = |name: &str, metric: &str, op: &str, value: Value| {
        json!({"name": name, "metric": metric,
               "criteria": {"comparisonOperator": op, "value": value,
                            "consecutiveDatapointsToAlarm": 1, "consecutiveDatapointsToClear": 1}})
    };
    let mut windowed = rule(
        "bytes-out",
        "aws:all-bytes-out",
        "less-than",
        json!({"count": 1_000_000_000}),
    );
    windowed["criteria"]["durationSeconds"] = json!(300);
    let behaviors = json!([
        rule(
            PORTS_BEHAVIOR,
            "aws:listening-tcp-ports",
            "in-port-set",
            json!({"ports": [22, 443, 8883]})
        ),
        rule(
            "udp-ports",
            "aws:listening-udp-ports",
            "not-in-port-set",
            json!({"ports": [69, 161]})
        ),
        rule(
            "dest-ips",
            "aws:destination-ip-addresses",
            "in-cidr-set",
            json!({"cidrs": ["10.0.0.0/8"]})
        ),
        windowed,
        rule(
            "bytes-in",
            "aws:all-bytes-in",
            "less-than",
            json!({"count": 50_000_000})
        ),
        rule(
            "packets-out",
            "aws:all-packets-out",
            "less-than",
            json!({"count": 1_000_000})
        ),
        rule(
            "packets-in",
            "aws:all-packets-in",
            "less-than",
            json!({"count": 1_000_000})
        ),
        rule(
            "num-tcp",
            "aws:num-listening-tcp-ports",
            "less-than-equals",
            json!({"count": 5})
        ),
        rule(
            "num-udp",
            "aws:num-listening-udp-ports",
            "less-than-equals",
            json!({"count": 5})
        ),
        rule(
            "num-conns",
            "aws:num-established-tcp-connections",
            "less-than",
            json!({"count": 50})
        ),
    ]);
    let role = format!("arn:aws:iam::{}:role/detect-e2e", target.account_id);
    let body = json!({
        "behaviors": behaviors,
        "alertTargets": {"SNS": {"alertTargetArn": topic_arn, "roleArn": role}},
    });
    let path = format!("/security-profiles/{PROFILE}-{}", std::process::id());
    client
        .call_service("iot", "POST", &path, "", body.to_string().into_bytes())
        .await
        .map_err(|e| format!("CreateSecurityProfile: {e}"))?;
    let all = format!(
        "arn:aws:iot:{}:{}:all/things",
        target.region, target.account_id
    );
    client
        .call_service(
            "iot",
            "PUT",
            &format!("{path}/targets"),
            &format!("securityProfileTargetArn={}", form(&all)),
            Vec::new(),
        )
        .await
        .map_err(|e| format!("AttachSecurityProfile: {e}"))?;
    Ok(())
}

/// One connection reporting for its things in turn, paced, QoS 1 with a window.
struct Publisher {
    things: Vec<usize>,
    rate: f64,
    violations_per_s: f64,
    window: usize,
    shared: Arc<Shared>,
}

impl Publisher {
    async fn run(&self, mut conn: Mqtt) -> Result<(), String> {
        if self.things.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let tick = Duration::from_millis(10);
        let (mut sent, mut violations, mut in_flight) = (0u64, 0u64, 0usize);
        // A thing violates once per run: a second violating report could find it still in
        // alarm (no compliant report in between) and raise no new in-alarm.
        let mut violated = std::collections::HashSet::new();
        let mut packet_id: u16 = 0;
        let mut out = Vec::with_capacity(self.window * 600);
        while !self.shared.stop.load(Ordering::Relaxed) {
            let secs = started.elapsed().as_secs_f64();
            let due = ((secs * self.rate) as u64 + 1).saturating_sub(sent) as usize;
            let k = due.min(self.window - in_flight);
            out.clear();
            for _ in 0..k {
                let thing = format!(
                    "e2e-thing-{:06}",
                    self.things[sent as usize % self.things.len()]
                );
                // Report ids grow per connection, so per thing too.
                let report_id = sent + 1;
                let index = sent as usize % self.things.len();
                let violate = (secs * self.violations_per_s) as u64 >= violations
                    && !violated.contains(&index)
                    && self.start_violation(&thing);
                if violate {
                    violated.insert(index);
                }
                violations += u64::from(violate);
                packet_id = packet_id.checked_add(1).unwrap_or(1);
                let publish = Packet::Publish(Publish {
                    qos: QoS::AtLeastOnce,
                    packet_id,
                    topic: format!("$aws/things/{thing}/defender/metrics/json"),
                    payload: report(report_id, violate).into(),
                    ..Publish::default()
                });
                encode(&publish, VERSION, &mut out).map_err(|e| e.to_string())?;
                sent += 1;
            }
            if k > 0 {
                conn.write(&out).await?;
                in_flight += k;
                self.shared.published.fetch_add(k as u64, Ordering::Relaxed);
            }
            if in_flight == self.window {
                conn.fill().await?;
            } else {
                tokio::select! {
                    read = conn.fill() => read?,
                    () = tokio::time::sleep(tick) => {}
                }
            }
            let mut acked = 0;
            while let Some(packet) = conn.buffered()? {
                if let Packet::PubAck(ack) = packet {
                    if ack.reason_code != ReasonCode::Success {
                        return Err(format!("PUBACK {:?}", ack.reason_code));
                    }
                    acked += 1;
                }
            }
            in_flight = in_flight.saturating_sub(acked);
            self.shared.acked.fetch_add(acked as u64, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Marks `thing`'s violating report as sent now, unless one is already pending.
    fn start_violation(&self, thing: &str) -> bool {
        let mut pending = self
            .shared
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if pending.contains_key(thing) {
            return false;
        }
        let wall_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        pending.insert(thing.to_string(), (Instant::now(), wall_ms));
        self.shared.violations_sent.fetch_add(1, Ordering::Relaxed);
        true
    }
}

/// A report like the AWS IoT Device Client's; port 21 open when it violates.
fn report(report_id: u64, violate: bool) -> Vec<u8> {
    let port = if violate { 21 } else { 443 };
    let mut s = String::with_capacity(512);
    let _ = write!(
        s,
        r#"{{"header":{{"report_id":{report_id},"version":"1.0"}},"metrics":{{"listening_tcp_ports":{{"ports":[{{"port":22,"interface":"eth0"}},{{"port":{port},"interface":"eth0"}}],"total":2}},"listening_udp_ports":{{"ports":[{{"port":5353,"interface":"eth0"}}],"total":1}},"network_stats":{{"bytes_in":{},"bytes_out":20000,"packets_in":100,"packets_out":120}},"tcp_connections":{{"established_connections":{{"connections":[{{"remote_addr":"10.0.{}.{}:443","local_port":40000,"local_interface":"eth0"}}],"total":1}}}}}}}}"#,
        10_000 + report_id % 1000,
        report_id % 200,
        report_id % 250
    );
    s.into_bytes()
}

fn between(text: &str, open: &str, close: &str) -> Option<String> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(text[start..end].to_string())
}

/// Form/query encoding (unreserved characters kept).
fn form(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_violate_only_when_asked() {
        for (violate, port) in [(false, 443), (true, 21)] {
            let v: Value = serde_json::from_slice(&report(7, violate)).unwrap();
            assert_eq!(v["header"]["report_id"], 7);
            assert_eq!(
                v["metrics"]["listening_tcp_ports"]["ports"][1]["port"],
                port
            );
        }
        assert_eq!(form("arn:a/b"), "arn%3Aa%2Fb");
        assert_eq!(between("<a>x</a>", "<a>", "</a>").as_deref(), Some("x"));
    }
}
