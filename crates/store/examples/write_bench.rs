//! Store throughput: new findings in batches of 100 with ~2 KB JSON bodies (with and without
//! a history record each), updates of random existing findings (without and with a history
//! record each), reads of 100 random seqs and the start-up scan.
//!
//! ```text
//! cargo run --release -p fleetward-store --example write_bench -- [URL] [--rows N] [--random-ids|--prowler-ids]
//! ```
//!
//! Without a URL (or with `sqlite`) it uses a new SQLite file in a temporary directory. With a
//! `postgres://` URL it writes into that database, after its current maximum seq, so it can
//! be rerun. `--rows` defaults to 1,000,000, the size at which reads by seq are specified.
//! Finding ids are time-ordered by default, as Fleetward's own products make them;
//! `--random-ids` uses UUID-like ids and `--prowler-ids` Prowler's
//! `prowler-<check>-<account>-<region>-<hash>` (the store keeps no index on ids, so they
//! matter little now; they were the worst case for the identity and history indexes).
//!
//! Each line gives wall-clock throughput, per-call latency percentiles and the CPU seconds
//! this process used in the phase (on a busy machine, CPU time is the steadier figure; the
//! PostgreSQL server's CPU is not included), and the bytes written per row: for SQLite what
//! this process wrote (WAL and checkpoints), for PostgreSQL the WAL the server wrote.

use std::time::{Duration, Instant};

use fleetward_store::{HistoryRecord, StoredFinding, open};
use sqlx::{Connection, PgConnection};

const BATCH: usize = 100;
const PRODUCT: &str = "arn:aws:securityhub:us-east-1::product/fleetward/detect";

struct Options {
    url: Option<String>,
    rows: usize,
    ids: Ids,
}

/// How finding ids look, which matters to any index on them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ids {
    /// `.../finding/<run>-<seq>`: increasing, as Fleetward's own products make them.
    Ordered,
    /// `.../finding/<hash>-...`: UUID-like, the worst case for an index on ids.
    Random,
    /// `prowler-<check>-<account>-<region>-<hash>`: a few hundred prefixes, each growing at a
    /// random place, as Prowler names its findings.
    Prowler,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let opts = parse_args()?;
    let dir = tempfile::tempdir()?;
    let url = opts
        .url
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let store = open(&url).await?;
    let mut wal = WalProbe::connect(&url).await?;
    let first = store.max_finding_seq().await? + 1;
    let ids = IdStyle {
        run: first,
        style: opts.ids,
    };
    let rows = opts.rows;
    println!(
        "backend {}, {rows} findings in batches of {BATCH}, {} ids, body {} bytes",
        store.backend(),
        match opts.ids {
            Ids::Ordered => "time-ordered",
            Ids::Random => "random",
            Ids::Prowler => "prowler-style",
        },
        finding(first, &ids).body.len()
    );

    let seqs: Vec<i64> = (first..first + rows as i64).collect();
    let (with_history, without) = seqs.split_at(rows / 2);

    // 1. New findings, each with its history record, as the hub's import path writes them.
    let mut phase = Phase::start(wal.bytes().await);
    for chunk in with_history.chunks(BATCH) {
        let findings: Vec<_> = chunk.iter().map(|&seq| finding(seq, &ids)).collect();
        let history: Vec<_> = findings.iter().map(history).collect();
        let t = Instant::now();
        store.write_findings(&findings, &history).await?;
        phase.latencies.push(t.elapsed());
    }
    phase.report(
        "insert, finding + history record",
        with_history.len(),
        wal.bytes().await,
    );

    // 2. New findings without history.
    let mut phase = Phase::start(wal.bytes().await);
    for chunk in without.chunks(BATCH) {
        let findings: Vec<_> = chunk.iter().map(|&seq| finding(seq, &ids)).collect();
        let t = Instant::now();
        store.write_findings(&findings, &[]).await?;
        phase.latencies.push(t.elapsed());
    }
    phase.report("insert, finding only", without.len(), wal.bytes().await);

    // 3. Updates of random existing findings (BatchUpdateFindings), findings only.
    let updates = rows.min(200_000);
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let mut phase = Phase::start(wal.bytes().await);
    for round in 0..updates / BATCH {
        let mut picked: Vec<i64> = (0..BATCH).map(|_| seqs[rng.below(seqs.len())]).collect();
        picked.sort_unstable();
        let findings: Vec<_> = picked
            .iter()
            .map(|&seq| updated(finding(seq, &ids), round))
            .collect();
        let t = Instant::now();
        store.write_findings(&findings, &[]).await?;
        phase.latencies.push(t.elapsed());
    }
    phase.report(
        "update 100 random findings",
        updates / BATCH * BATCH,
        wal.bytes().await,
    );

    // 3b. The same with a history record per update, as BatchUpdateFindings and imports
    // that change a finding write them.
    let mut phase = Phase::start(wal.bytes().await);
    for round in 0..updates / BATCH {
        let mut picked: Vec<i64> = (0..BATCH).map(|_| seqs[rng.below(seqs.len())]).collect();
        picked.sort_unstable();
        let findings: Vec<_> = picked
            .iter()
            .map(|&seq| updated(finding(seq, &ids), updates + round))
            .collect();
        let history: Vec<_> = findings.iter().map(history).collect();
        let t = Instant::now();
        store.write_findings(&findings, &history).await?;
        phase.latencies.push(t.elapsed());
    }
    phase.report(
        "update 100 random + history record",
        updates / BATCH * BATCH,
        wal.bytes().await,
    );

    // 4. Reads of 100 random seqs, as the hub does for one page of GetFindings.
    let rounds = 2_000;
    let mut phase = Phase::start(wal.bytes().await);
    for _ in 0..rounds {
        let wanted: Vec<i64> = (0..BATCH).map(|_| seqs[rng.below(seqs.len())]).collect();
        let t = Instant::now();
        let got = store.get_findings_by_seq(&wanted).await?;
        phase.latencies.push(t.elapsed());
        if got.is_empty() {
            return Err("reads found nothing".into());
        }
    }
    phase.report(
        "get_findings_by_seq(100 random)",
        rounds * BATCH,
        wal.bytes().await,
    );

    // 5. The start-up scan that rebuilds the hub's in-memory index.
    let mut phase = Phase::start(wal.bytes().await);
    let mut after = first - 1;
    let mut scanned = 0;
    loop {
        let t = Instant::now();
        let page = store.scan_findings(after, 10_000).await?;
        phase.latencies.push(t.elapsed());
        let Some(last) = page.last() else { break };
        after = last.seq;
        scanned += page.len();
    }
    phase.report("scan_findings(pages of 10,000)", scanned, wal.bytes().await);
    store.close().await;
    Ok(())
}

fn parse_args() -> Result<Options, Box<dyn std::error::Error>> {
    let mut opts = Options {
        url: None,
        rows: 1_000_000,
        ids: Ids::Ordered,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rows" => opts.rows = args.next().ok_or("--rows needs a number")?.parse()?,
            "--random-ids" => opts.ids = Ids::Random,
            "--prowler-ids" => opts.ids = Ids::Prowler,
            "sqlite" => opts.url = None,
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}").into()),
            _ => opts.url = Some(arg),
        }
    }
    if opts.rows < 2 * BATCH {
        return Err(format!("--rows must be at least {}", 2 * BATCH).into());
    }
    Ok(opts)
}

/// Wall clock, CPU time and per-call latencies of one benchmark phase.
struct Phase {
    start: Instant,
    cpu: Option<f64>,
    io: Option<Io>,
    wal: Option<ServerWrites>,
    latencies: Vec<Duration>,
}

impl Phase {
    fn start(wal: Option<ServerWrites>) -> Self {
        Phase {
            start: Instant::now(),
            cpu: cpu_seconds(),
            io: Io::now(),
            wal,
            latencies: Vec::new(),
        }
    }

    fn report(mut self, what: &str, rows: usize, wal: Option<ServerWrites>) {
        let took = self.start.elapsed();
        let cpu = match (self.cpu, cpu_seconds()) {
            (Some(before), Some(after)) => format!("{:.2}s", after - before),
            _ => "n/a".into(),
        };
        let io = match (self.io, Io::now(), self.wal.zip(wal)) {
            (_, _, Some((before, after))) => {
                let per_row = |bytes: f64| bytes / rows as f64 / 1000.0;
                let written = match before.written.zip(after.written) {
                    Some((b, a)) => format!(", server wrote {:.1} KB/row", per_row((a - b) as f64)),
                    None => String::new(),
                };
                format!(
                    " | WAL {:.1} KB/row{written}",
                    per_row((after.wal - before.wal) as f64)
                )
            }
            (Some(before), Some(after), None) => format!(
                " | written {:.1} KB/row (syscalls), {:.1} KB/row (dirtied)",
                (after.wchar - before.wchar) as f64 / rows as f64 / 1000.0,
                (after.write_bytes - before.write_bytes) as f64 / rows as f64 / 1000.0,
            ),
            _ => String::new(),
        };
        self.latencies.sort();
        let lat = &self.latencies;
        let pct = |p: usize| lat.get(lat.len() * p / 100).copied().unwrap_or_default();
        println!(
            "{what:<34} {rows:>8} rows {took:>9.2?} {:>8.0} rows/s | per call p50 {:.2?} \
             p99 {:.2?} max {:.2?} | cpu {cpu}{io}",
            rows as f64 / took.as_secs_f64(),
            pct(50),
            pct(99),
            lat.last().copied().unwrap_or_default(),
        );
    }
}

/// User + system CPU seconds of this process (Linux), to see past a busy machine.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at field 3.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // Linux reports clock ticks, 100 per second on every mainstream configuration.
    Some((utime + stime) / 100.0)
}

/// What the PostgreSQL server wrote, to count the bytes per row of a phase: its WAL
/// position and, where `/proc` lets this process read them (same user or root), the bytes
/// the server's processes passed to `write` (WAL, and data pages as buffers are evicted or
/// checkpointed; a little socket output too). `None` for SQLite.
struct WalProbe(Option<(PgConnection, Option<u32>)>);

#[derive(Clone, Copy)]
struct ServerWrites {
    wal: i64,
    written: Option<u64>,
}

impl WalProbe {
    async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        if !url.starts_with("postgres") {
            return Ok(WalProbe(None));
        }
        let mut conn = PgConnection::connect(url).await?;
        let backend: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut conn)
            .await?;
        let postmaster = u32::try_from(backend).ok().and_then(parent_pid);
        Ok(WalProbe(Some((conn, postmaster))))
    }

    async fn bytes(&mut self) -> Option<ServerWrites> {
        let (conn, postmaster) = self.0.as_mut()?;
        let wal = sqlx::query_scalar("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")
            .fetch_one(conn)
            .await
            .ok()?;
        let written = postmaster.and_then(children_wchar);
        Some(ServerWrites { wal, written })
    }
}

fn parent_pid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// `wchar` summed over the children of `parent` (the server's processes).
fn children_wchar(parent: u32) -> Option<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse().ok()) else {
            continue;
        };
        if parent_pid(pid) != Some(parent) {
            continue;
        }
        let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
        total += io
            .lines()
            .find_map(|l| l.strip_prefix("wchar:")?.trim().parse::<u64>().ok())?;
    }
    Some(total)
}

/// Bytes this process wrote (Linux `/proc/self/io`): `wchar` counts every `write` call
/// (WAL appends and checkpoint copies of SQLite included, stdout and sockets too), and
/// `write_bytes` the page-cache pages it dirtied (a page rewritten while still dirty counts
/// once). For PostgreSQL the server writes: see [`PgWrites`].
#[derive(Clone, Copy)]
struct Io {
    wchar: u64,
    write_bytes: u64,
}

impl Io {
    fn now() -> Option<Io> {
        let text = std::fs::read_to_string("/proc/self/io").ok()?;
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse::<u64>().ok())
        };
        Some(Io {
            wchar: field("wchar:")?,
            write_bytes: field("write_bytes:")?,
        })
    }
}

struct IdStyle {
    run: i64,
    style: Ids,
}

/// A realistic ASFF finding of about 2 KB.
fn finding(seq: i64, ids: &IdStyle) -> StoredFinding {
    let run = ids.run;
    let h = (seq as u64 ^ ((run as u64) << 40)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let h = h.rotate_left(29) ^ h;
    let id = match ids.style {
        Ids::Ordered => format!("{PRODUCT}/finding/{run}-{seq:012}"),
        Ids::Random => format!("{PRODUCT}/finding/{h:016x}-{run}-{seq}"),
        Ids::Prowler => {
            const CHECKS: [&str; 8] = [
                "iam_user_mfa_enabled_console_access",
                "s3_bucket_default_encryption",
                "ec2_instance_public_ip",
                "cloudtrail_multi_region_enabled",
                "rds_instance_storage_encrypted",
                "guardduty_is_enabled",
                "vpc_flow_logs_enabled",
                "kms_cmk_rotation_enabled",
            ];
            const REGIONS: [&str; 6] = [
                "us-east-1",
                "us-west-2",
                "eu-west-1",
                "eu-central-1",
                "ap-southeast-1",
                "sa-east-1",
            ];
            let check = CHECKS[(h % 8) as usize];
            let region = REGIONS[((h >> 8) % 6) as usize];
            let account = 111_111_111_111 + (h >> 16) % 5;
            format!("prowler-{check}-{account}-{region}-{:08x}", h >> 32)
        }
    };
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
        encoded_body: None,
    }
}

/// `f` as BatchUpdateFindings leaves it in update `round`: the workflow status and the
/// update times change (same size). An update that changes nothing would be unrealistic:
/// SQLite skips rewriting a row to identical bytes.
fn updated(mut f: StoredFinding, round: usize) -> StoredFinding {
    let ms = round as i64 + 1;
    f.updated_at_ms += ms;
    f.body = f
        .body
        .replacen(
            r#""UpdatedAt":"2026-11-22T08:05:00.000Z","Severity""#,
            &format!(
                r#""UpdatedAt":"2026-11-23T{:02}:{:02}:{:02}.{:03}Z","Severity""#,
                ms / 3_600_000 % 24,
                ms / 60_000 % 60,
                ms / 1000 % 60,
                ms % 1000
            ),
            1,
        )
        .replacen(r#""Status":"NEW""#, r#""Status":"NOTIFIED""#, 1);
    f
}

fn history(f: &StoredFinding) -> HistoryRecord {
    HistoryRecord {
        finding_seq: f.seq,
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
