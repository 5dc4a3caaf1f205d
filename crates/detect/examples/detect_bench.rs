//! Detect's in-process figures: device metrics reports parsed (fleetward-device-report) and
//! evaluated against a profile of 10 behaviors of mixed kinds, over 100,000 things, on one
//! thread; then the resident memory of that state.
//!
//! `cargo run --release -p fleetward-detect --example detect_bench [THINGS] [REPORTS]`

use std::sync::Arc;
use std::time::Instant;

// The allocator of the `fleetward` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use fleetward_detect::engine::{Engine, Membership, Output};
use fleetward_detect::{Observed, SecurityProfile, compile};
use fleetward_device_report::{Encoding, datapoint_refs, parse_report};
use serde_json::json;

const ACCOUNT: &str = "111111111111";
const REGION: &str = "us-east-1";

struct AllRegistered;

impl Membership for AllRegistered {
    fn groups(&self, _: &str, _: &str) -> Option<Vec<String>> {
        Some(vec!["fleet".to_string()])
    }
    fn generation(&self) -> u64 {
        1
    }
}

fn behaviors() -> serde_json::Value {
    let rule =
        |name: &str, metric: &str, op: &str, value: serde_json::Value, extra: serde_json::Value| {
            let mut criteria = json!({"comparisonOperator": op, "value": value});
            for (k, v) in extra.as_object().into_iter().flatten() {
                criteria[k] = v.clone();
            }
            json!({"name": name, "metric": metric, "criteria": criteria})
        };
    json!([
        rule("tcp-ports", "aws:listening-tcp-ports", "in-port-set", json!({"ports": [22, 443, 8883]}), json!({})),
        rule("udp-ports", "aws:listening-udp-ports", "not-in-port-set", json!({"ports": [69, 161]}), json!({})),
        rule("dest-ips", "aws:destination-ip-addresses", "in-cidr-set", json!({"cidrs": ["10.0.0.0/8", "192.168.0.0/16"]}), json!({})),
        rule("bytes-out", "aws:all-bytes-out", "less-than", json!({"count": 50_000_000}), json!({"durationSeconds": 900})),
        {"name": "bytes-in-p90", "metric": "aws:all-bytes-in", "criteria": {
            "comparisonOperator": "less-than-equals", "statisticalThreshold": {"statistic": "p90"}, "durationSeconds": 300}},
        rule("packets-out", "aws:all-packets-out", "less-than", json!({"count": 1_000_000}), json!({"consecutiveDatapointsToAlarm": 2})),
        rule("packets-in", "aws:all-packets-in", "less-than", json!({"count": 1_000_000}), json!({})),
        rule("num-tcp", "aws:num-listening-tcp-ports", "less-than-equals", json!({"count": 5}), json!({})),
        rule("num-conns", "aws:num-established-tcp-connections", "less-than", json!({"count": 50}), json!({})),
        rule("cpu", "cpu", "less-than", json!({"number": 0.9}), json!({"consecutiveDatapointsToClear": 3})),
    ])
}

fn report(i: u64) -> Vec<u8> {
    let odd_port = if i.is_multiple_of(97) { 21 } else { 443 };
    json!({
        "header": {"report_id": 1_700_000_000 + i, "version": "1.0"},
        "metrics": {
            "listening_tcp_ports": {"ports": [{"port": 22, "interface": "eth0"}, {"port": odd_port, "interface": "eth0"}], "total": 2},
            "listening_udp_ports": {"ports": [{"port": 5353}], "total": 1},
            "network_stats": {"bytes_in": 10_000 + (i * 7919) % 90_000, "bytes_out": 20_000 + i % 1000,
                              "packets_in": 100 + i % 50, "packets_out": 120},
            "tcp_connections": {"established_connections": {
                "connections": [{"remote_addr": format!("10.0.{}.{}:443", i % 200, i % 250), "local_port": 40000}],
                "total": 1}},
        },
        "custom_metrics": {"cpu": [{"number": (i % 100) as f64 / 100.0}]},
    })
    .to_string()
    .into_bytes()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// This process's CPU time (user + system), seconds: the machine is shared, so throughput per
/// CPU-second is the per-core figure; wall-clock throughput is printed too.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of /proc/PID/stat: 11 and 12 after the ')'.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let things = args.first().copied().unwrap_or(100_000);
    let reports = args.get(1).copied().unwrap_or(1_000_000);
    let profile = SecurityProfile {
        name: "bench".into(),
        description: None,
        behaviors: serde_json::from_value(behaviors()).expect("behaviors"),
        alert_targets: None,
        additional_metrics_to_retain: None,
        additional_metrics_to_retain_v2: None,
        metrics_export_config: None,
        version: 1,
        creation_ms: 0,
        last_modified_ms: 0,
        targets: vec![format!("arn:aws:iot:{REGION}:{ACCOUNT}:all/things")],
        ml_started_ms: Default::default(),
    };
    let kinds = |m: &str| (m == "cpu").then_some(fleetward_detect_kind_number());
    let compiled = Arc::new(compile(
        &profile,
        "arn".into(),
        REGION,
        ACCOUNT,
        &|_| None,
        &kinds,
    ));
    let names: Vec<String> = (0..things).map(|i| format!("thing-{i:06}")).collect();
    let payloads: Vec<Vec<u8>> = (0..1024).map(report).collect();

    // The parser alone, on the same payloads.
    let c0 = cpu_secs();
    let mut parsed_ok = 0usize;
    for i in 0..200_000usize {
        parsed_ok += usize::from(parse_report(&payloads[i % 1024], Encoding::Json).is_ok());
    }
    let parse_cpu = cpu_secs() - c0;
    println!(
        "parse_report alone: {:.0} reports/s per CPU-second ({parsed_ok} parsed, {} bytes each)",
        200_000.0 / parse_cpu,
        payloads[0].len()
    );
    let rss_before = rss_kib();
    let mut engine = Engine::new(Arc::new(AllRegistered));
    let mut out = Output::default();
    engine.set_profiles(ACCOUNT, vec![compiled], 0, &mut out);

    let started = Instant::now();
    let cpu_start = cpu_secs();
    let mut now_ms = 1_700_000_000_000i64;
    let mut transitions = 0usize;
    let mut evaluating = std::time::Duration::ZERO;
    for i in 0..reports {
        let thing = &names[(i % things) as usize];
        let payload = &payloads[(i % 1024) as usize];
        let Ok(parsed) = parse_report(payload, Encoding::Json) else {
            panic!("bench report does not parse");
        };
        let values: Vec<(&str, Observed)> = datapoint_refs(&parsed)
            .into_iter()
            .map(|(m, v)| (m, Observed::from_report(v)))
            .collect();
        let points: Vec<(&str, &Observed)> = values.iter().map(|(m, v)| (*m, v)).collect();
        let t = Instant::now();
        engine.report(ACCOUNT, thing, &points, now_ms, &mut out);
        evaluating += t.elapsed();
        if i % things == things - 1 {
            now_ms += 300_000; // every device reports once per 5 minutes
        }
        if out.transitions.len() > 10_000 {
            transitions += out.transitions.len();
            out = Output::default();
        }
    }
    transitions += out.transitions.len();
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu_start;
    let (devices, slots) = engine.sizes();
    let rss_after = rss_kib();
    println!("reports: {reports} over {things} things, 10 behaviors; transitions: {transitions}");
    println!(
        "parse + evaluate: {:.0} reports/s on one thread ({secs:.2} s wall)",
        reports as f64 / secs
    );
    println!(
        "per CPU-second: {:.0} reports/s ({cpu:.2} s of CPU)",
        reports as f64 / cpu
    );
    println!(
        "of which evaluate: {:.2} s ({:.0} reports/s); parse and datapoints: {:.2} s",
        evaluating.as_secs_f64(),
        reports as f64 / evaluating.as_secs_f64(),
        secs - evaluating.as_secs_f64()
    );
    println!(
        "state: {devices} devices, {slots} behavior slots; RSS {:.1} MiB -> {:.1} MiB (+{:.1} MiB)",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        (rss_after.saturating_sub(rss_before)) as f64 / 1024.0
    );
}

fn fleetward_detect_kind_number() -> fleetward_detect::MetricKind {
    fleetward_detect::MetricKind::Number
}
