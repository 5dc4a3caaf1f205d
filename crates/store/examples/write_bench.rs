//! Store throughput: findings writes (batches of 100, ~2 KB JSON bodies, one history record
//! each), upserts, reads by seq and the start-up scan.
//!
//! ```text
//! cargo run --release -p fleetward-store --example write_bench -- [URL] [--rows N]
//! ```
//!
//! Without a URL it uses a new SQLite file in a temporary directory. With a `postgres://`
//! URL it writes into that database (fresh seqs after its current maximum, so it can be
//! rerun). `--rows` defaults to 1,000,000 (the size at which reads by seq are specified).

use std::time::{Duration, Instant};

use fleetward_store::{HistoryRecord, StoredFinding, open};

const BATCH: usize = 100;
const PRODUCT: &str = "arn:aws:securityhub:us-east-1::product/fleetward/detect";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut url = None;
    let mut rows = 1_000_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rows" => rows = args.next().ok_or("--rows needs a number")?.parse()?,
            "sqlite" => url = None,
            _ => url = Some(arg),
        }
    }
    let dir = tempfile::tempdir()?;
    let url = url.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let store = open(&url).await?;
    let first = store.max_finding_seq().await? + 1;
    let run = first; // makes finding ids unique across reruns on one PostgreSQL database
    println!("backend {}, {rows} findings in batches of {BATCH}", store.backend());
    println!("body size {} bytes", finding(first, run).body.len());

    // 1. New findings, each with its history record, as the hub's import path writes them.
    let seqs: Vec<i64> = (first..first + rows as i64).collect();
    let mut latencies = Vec::with_capacity(rows / BATCH + 1);
    let start = Instant::now();
    for chunk in seqs.chunks(BATCH) {
        let findings: Vec<_> = chunk.iter().map(|&seq| finding(seq, run)).collect();
        let history: Vec<_> = findings.iter().map(history).collect();
        let t = Instant::now();
        store.write_findings(&findings, &history).await?;
        latencies.push(t.elapsed());
    }
    report("insert (finding + history)", rows, start.elapsed(), &mut latencies);

    // 2. Updates of existing findings (BatchUpdateFindings / re-import), findings only.
    let updates = rows.min(200_000);
    latencies.clear();
    let start = Instant::now();
    for chunk in seqs[..updates].chunks(BATCH) {
        let findings: Vec<_> = chunk.iter().map(|&seq| finding(seq, run)).collect();
        let t = Instant::now();
        store.write_findings(&findings, &[]).await?;
        latencies.push(t.elapsed());
    }
    report("upsert existing (no history)", updates, start.elapsed(), &mut latencies);

    // 3. Random reads of 100 seqs, as the hub does for one page of GetFindings.
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    latencies.clear();
    let rounds = 2_000;
    let start = Instant::now();
    for _ in 0..rounds {
        let wanted: Vec<i64> = (0..BATCH).map(|_| seqs[rng.below(seqs.len())]).collect();
        let t = Instant::now();
        let got = store.get_findings_by_seq(&wanted).await?;
        latencies.push(t.elapsed());
        if got.is_empty() {
            return Err("read found nothing".into());
        }
    }
    report("get_findings_by_seq(100 random)", rounds * BATCH, start.elapsed(), &mut latencies);

    // 4. The start-up scan that rebuilds the in-memory index.
    let start = Instant::now();
    let mut after = first - 1;
    let mut scanned = 0;
    loop {
        let page = store.scan_findings(after, 10_000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        scanned += page.len();
    }
    let took = start.elapsed();
    println!(
        "{:<34} {scanned} rows in {took:.2?}: {:.0} rows/s",
        "scan_findings (pages of 10,000)",
        scanned as f64 / took.as_secs_f64()
    );
    store.close().await;
    Ok(())
}

fn report(what: &str, rows: usize, took: Duration, latencies: &mut [Duration]) {
    latencies.sort();
    let cpu = cpu_seconds();
    println!("  cpu so far {cpu:.2}s");
    let pct = |p: usize| latencies.get(latencies.len() * p / 100).copied().unwrap_or_default();
    println!(
        "{what:<34} {rows} rows in {took:.2?}: {:.0} rows/s; per call p50 {:.2?} p99 {:.2?} max {:.2?}",
        rows as f64 / took.as_secs_f64(),
        pct(50),
        pct(99),
        latencies.last().copied().unwrap_or_default(),
    );
}

/// A realistic ASFF finding of about 2 KB.
fn finding(seq: i64, run: i64) -> StoredFinding {
    let id = format!("{PRODUCT}/finding/{run}-{seq:012}");
    let body = format!(
        r#"{{"SchemaVersion":"2018-10-08","Id":"{id}","ProductArn":"{PRODUCT}","GeneratorId":"fleetward-detect/behavior/authorization-failures","AwsAccountId":"111111111111","Types":["Software and Configuration Checks/Vulnerabilities/CVE","TTPs/Discovery"],"FirstObservedAt":"2026-11-22T08:00:00.000Z","LastObservedAt":"2026-11-22T08:05:00.000Z","CreatedAt":"2026-11-22T08:05:00.000Z","UpdatedAt":"2026-11-22T08:05:00.000Z","Severity":{{"Label":"HIGH","Normalized":70,"Original":"HIGH"}},"Confidence":80,"Criticality":60,"Title":"Device thing-{seq} exceeded the authorization failure threshold","Description":"The device reported 57 authorization failures in the last 5 minutes, above the static threshold of 10 set by the security profile. This usually means stolen credentials or a misconfigured policy on a fleet of sensors deployed in the field; check the device certificate and the attached policies.","Remediation":{{"Recommendation":{{"Text":"Review the IoT policy attached to the certificate and rotate the certificate if compromise is suspected.","Url":"https://docs.aws.amazon.com/iot/latest/developerguide/device-defender.html"}}}},"ProductFields":{{"fleetward/behavior":"authorization-failures","fleetward/security-profile":"default-profile","fleetward/violation-id":"v-{seq:012}"}},"Resources":[{{"Type":"AwsIotThing","Id":"arn:aws:iot:us-east-1:111111111111:thing/thing-{seq}","Partition":"aws","Region":"us-east-1","Tags":{{"site":"plant-7","line":"assembly-3"}},"Details":{{"Other":{{"certificateId":"a3f1c2d4e5b6a7980112233445566778899aabbccddeeff00112233445566778","clientId":"thing-{seq}","lastSeen":"2026-11-22T08:04:59Z"}}}}}}],"Compliance":{{"Status":"FAILED"}},"WorkflowState":"NEW","Workflow":{{"Status":"NEW"}},"RecordState":"ACTIVE","FindingProviderFields":{{"Confidence":80,"Criticality":60,"Severity":{{"Label":"HIGH","Original":"HIGH"}},"Types":["TTPs/Discovery"]}},"Note":{{"Text":"Raised automatically by Fleetward Detect.","UpdatedBy":"fleetward","UpdatedAt":"2026-11-22T08:05:00.000Z"}}}}"#
    );
    StoredFinding {
        seq,
        account_id: "111111111111".into(),
        product_arn: PRODUCT.into(),
        id,
        updated_at_ms: 1_795_000_000_000 + seq,
        record_state: "ACTIVE".into(),
        customer_fields: 0,
        body,
    }
}

fn history(f: &StoredFinding) -> HistoryRecord {
    HistoryRecord {
        account_id: f.account_id.clone(),
        product_arn: f.product_arn.clone(),
        finding_id: f.id.clone(),
        update_time_ms: f.updated_at_ms,
        created: true,
        source_type: "BATCH_IMPORT_FINDINGS".into(),
        identity: "arn:aws:iam::111111111111:root".into(),
        updates_json: "[]".into(),
    }
}

/// A tiny PRNG, so the benchmark needs no extra crate.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}
