//! Memory and scan-speed benchmark over 1,000,000 realistic findings.
//!
//! `cargo run --release -p fleetward-findings-query --example query_bench [N]`
//!
//! Half the findings look like prowler's (one IAM/S3/EC2 resource, ~10 product fields, shared
//! check titles and descriptions), half like Device Defender audit findings written through the
//! default product (certificate/thing resources, `aws/iot/*` product fields). Ids, resource
//! ids, timestamps, severities, workflow status and record state vary. Each finding is built as
//! JSON, turned into a record and dropped, as the hub does when loading from its database.

use std::time::{Duration, Instant};

use fleetward_findings_query::{
    Dialect, Filters, FindingRecord, Interner, RecordStore, SortCriterion, attribute_by_name,
    sort_key, top_k,
};
use serde_json::{Value, json};

const SEVERITIES: [(&str, u32); 5] = [
    ("INFORMATIONAL", 0),
    ("LOW", 1),
    ("MEDIUM", 40),
    ("HIGH", 70),
    ("CRITICAL", 90),
];
const ENVIRONMENTS: [&str; 3] = ["prod", "staging", "dev"];
const WORKFLOW: [&str; 4] = ["NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"];
const REGIONS: [&str; 8] = [
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-1",
    "ap-northeast-1",
    "sa-east-1",
];
const SERVICES: [(&str, &str, &str); 6] = [
    ("iam", "AwsIamUser", "user"),
    ("s3", "AwsS3Bucket", "bucket"),
    ("ec2", "AwsEc2Instance", "instance"),
    ("ec2", "AwsEc2SecurityGroup", "security-group"),
    ("rds", "AwsRdsDbInstance", "db"),
    ("kms", "AwsKmsKey", "key"),
];
const IOT_CHECKS: [&str; 8] = [
    "DEVICE_CERTIFICATE_EXPIRING_CHECK",
    "DEVICE_CERTIFICATE_SHARED_CHECK",
    "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK",
    "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
    "CONFLICTING_CLIENT_IDS_CHECK",
    "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK",
    "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK",
    "LOGGING_DISABLED_CHECK",
];

/// splitmix64: deterministic, dependency-free pseudo-randomness.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn hex(seed: u64, len: usize) -> String {
    let mut s = String::with_capacity(len);
    let mut i = 0;
    while s.len() < len {
        s.push_str(&format!(
            "{:016x}",
            mix(seed.wrapping_mul(31).wrapping_add(i))
        ));
        i += 1;
    }
    s.truncate(len);
    s
}

fn ts(ms: i64) -> String {
    fleetward_model::timestamp::format_ms(ms)
}

fn common(n: u64, f: &mut Value) {
    let r = mix(n);
    let (label, normalized) = SEVERITIES[(r % 5) as usize];
    let created = 1_735_689_600_000 + (n as i64) * 1_000;
    let updated = created + ((r >> 8) % 86_400_000) as i64;
    let extra = json!({
        "SchemaVersion": "2018-10-08",
        "FirstObservedAt": ts(created),
        "LastObservedAt": ts(updated),
        "CreatedAt": ts(created),
        "UpdatedAt": ts(updated),
        "Severity": {"Label": label, "Normalized": normalized, "Original": label},
        "Workflow": {"Status": WORKFLOW[((r >> 16) % 4) as usize]},
        "WorkflowState": "NEW",
        "RecordState": if (r >> 24).is_multiple_of(10) { "ARCHIVED" } else { "ACTIVE" },
        "FindingProviderFields": {"Severity": {"Label": label, "Original": label}},
    });
    if let (Some(f), Some(extra)) = (f.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            f.insert(k.clone(), v.clone());
        }
    }
}

fn prowler(n: u64) -> Value {
    let account = format!("1234567890{:02}", n % 20);
    let region = REGIONS[((n / 20) % 8) as usize];
    let check = (n / 7) % 240;
    let (service, rtype, rkind) = SERVICES[(check % 6) as usize];
    let check_id = format!("{service}_check_{check:03}_configuration_compliant");
    let res = n;
    let res_name = format!("{rkind}-{}", hex(res, 12));
    let resource_id = format!("arn:aws:{service}:{region}:{account}:{rkind}/{res_name}");
    let product_arn = format!("arn:aws:securityhub:{region}::product/prowler/prowler");
    let id = format!("prowler-aws-{check_id}-{account}-{region}-{}", hex(n, 24));
    let status = if mix(n ^ 7).is_multiple_of(3) {
        "PASS"
    } else {
        "FAIL"
    };
    let mut f = json!({
        "Id": id,
        "ProductArn": product_arn,
        "ProductName": "Prowler",
        "CompanyName": "Prowler",
        "Region": region,
        "GeneratorId": format!("prowler-{check_id}"),
        "AwsAccountId": account,
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"],
        "Title": format!("Ensure {service} resources follow configuration best practice number {check} of the benchmark"),
        "Description": format!("Check {check}: this control verifies that every {rtype} in the account is configured according to the benchmark's recommendation; a non-compliant {rkind} may expose data or weaken the account's security posture. Review the remediation guidance and apply it to each affected resource."),
        "Remediation": {"Recommendation": {
            "Text": format!("Follow the {service} hardening guide, section {check}, to configure the resource."),
            "Url": format!("https://docs.aws.amazon.com/{service}/latest/userguide/best-practices.html#check-{check}")}},
        "ProductFields": {
            "ProviderName": "Prowler",
            "ProviderVersion": "4.2.1",
            "ProwlerResourceName": res_name,
            "prowler/CheckId": check_id,
            "prowler/ServiceName": service,
            "prowler/Status": status,
            "prowler/StatusExtended": format!("{rtype} {res_name} is {}", if status == "PASS" { "compliant" } else { "not compliant" }),
            "aws/securityhub/FindingId": format!("{product_arn}/{id}"),
            "aws/securityhub/ProductName": "Prowler",
            "aws/securityhub/CompanyName": "Prowler",
        },
        "Resources": [{
            "Type": rtype,
            "Id": resource_id,
            "Partition": "aws",
            "Region": region,
            "Tags": {"Environment": ENVIRONMENTS[(res % 3) as usize], "Team": format!("team-{}", res % 12)},
        }],
        "Compliance": {
            "Status": if status == "PASS" { "PASSED" } else { "FAILED" },
            "RelatedRequirements": [format!("CIS AWS Foundations Benchmark v1.4.0/{}.{}", check % 5, check % 17)],
            "AssociatedStandards": [{"StandardsId": "ruleset/cis-aws-foundations-benchmark/v/1.4.0"}],
        },
    });
    common(n, &mut f);
    f
}

fn device_defender(n: u64) -> Value {
    let account = "123456789012";
    let region = REGIONS[(n % 3) as usize];
    let check = IOT_CHECKS[((n / 5) % 8) as usize];
    let task = hex(n / 10_000, 32);
    let finding_id = hex(n ^ 0xdd, 32);
    let cert = hex(n, 64);
    let thing = format!("sensor-{n:07}");
    let product_arn = format!("arn:aws:securityhub:{region}:{account}:product/{account}/default");
    let id = format!("arn:aws:iot:{region}:{account}:audittask/{task}/finding/{finding_id}");
    let mut f = json!({
        "Id": id,
        "ProductArn": product_arn,
        "ProductName": "Default",
        "CompanyName": "Personal",
        "Region": region,
        "GeneratorId": format!("fleetward-audit/{check}"),
        "AwsAccountId": account,
        "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
        "Title": format!("Device Defender audit: {check}"),
        "Description": format!("The Device Defender audit check {check} found a non-compliant resource. See the check's documentation for the meaning of the finding and the recommended mitigation actions."),
        "ProductFields": {
            "aws/iot/auditTaskId": task,
            "aws/iot/checkName": check,
            "aws/iot/findingId": finding_id,
            "aws/iot/reasonForNonComplianceCode": format!("{check}_NON_COMPLIANT"),
            "aws/iot/isSuppressed": "false",
            "aws/securityhub/FindingId": format!("{product_arn}/{id}"),
            "aws/securityhub/ProductName": "Default",
            "aws/securityhub/CompanyName": "Personal",
        },
        "Resources": [{
            "Type": "AwsIotCertificate",
            "Id": format!("arn:aws:iot:{region}:{account}:cert/{cert}"),
            "Partition": "aws",
            "Region": region,
            "Details": {"Other": {"thingName": thing, "deviceFleet": format!("fleet-{}", n % 40)}},
        }],
        "Compliance": {"Status": "FAILED"},
    });
    common(n, &mut f);
    f
}

fn finding(n: u64) -> Value {
    if n.is_multiple_of(2) {
        prowler(n)
    } else {
        device_defender(n)
    }
}

fn rss_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU time of the calling thread (Linux schedstat), so figures stay meaningful on a busy host.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(
        s.split_whitespace().next()?.parse().ok()?,
    ))
}

fn p50(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn scan_store(store: &RecordStore, f: &Filters, i: &Interner, threads: usize) -> usize {
    let now = 1_800_000_000_000;
    let f = &f.prepare(i);
    let slots = store.slot_count();
    if threads <= 1 {
        return store.iter().filter(|(_, r)| f.matches(r, now)).count();
    }
    let chunk = slots.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let range = t * chunk..((t + 1) * chunk).min(slots);
                s.spawn(move || {
                    store
                        .iter_range(range)
                        .filter(|(_, r)| f.matches(r, now))
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    })
}

/// `Filters::matches` without `prepare`: byte comparisons, no per-shape verdicts.
fn scan_unprepared(records: &[FindingRecord], f: &Filters, i: &Interner) -> usize {
    let now = 1_800_000_000_000;
    records.iter().filter(|r| f.matches(r, i, now)).count()
}

fn scan(records: &[FindingRecord], f: &Filters, i: &Interner, threads: usize) -> usize {
    let now = 1_800_000_000_000;
    let f = &f.prepare(i);
    if threads <= 1 {
        return records.iter().filter(|r| f.matches(r, now)).count();
    }
    let chunk = records.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = records
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().filter(|r| f.matches(r, now)).count()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    })
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let sample = serde_json::to_vec(&finding(0)).map_or(0, |v| v.len());
    let sample2 = serde_json::to_vec(&finding(1)).map_or(0, |v| v.len());
    println!("findings: {n} (sample JSON sizes: prowler {sample} B, device defender {sample2} B)");

    let rss0 = rss_kib().unwrap_or(0);
    let mut interner = Interner::new();
    let mut store = RecordStore::new();
    let t = Instant::now();
    let mut extract = Duration::ZERO;
    for k in 0..n {
        let f = finding(k);
        let t0 = Instant::now();
        let rec = FindingRecord::from_finding(&f, &mut interner);
        extract += t0.elapsed();
        store.insert(rec);
    }
    store.shrink_to_fit();
    let build = t.elapsed();
    let rss1 = rss_kib().unwrap_or(0);
    let heap: usize = store.iter().map(|(_, r)| r.heap_bytes()).sum();
    println!(
        "build: {:.1} s with JSON generation; from_finding alone {:.2} us/finding",
        build.as_secs_f64(),
        extract.as_secs_f64() * 1e6 / n as f64
    );
    println!(
        "record heap: {:.1} B/record avg ({} MiB total); interner: {} symbols, {:.1} MiB",
        heap as f64 / n as f64,
        heap >> 20,
        interner.len(),
        interner.heap_bytes() as f64 / 1_048_576.0
    );
    println!(
        "RecordStore: {:.1} MiB ({:.0} B/finding with its slot index); RSS growth while loading \
         store + interner: {} MiB ({:.0} B/finding)",
        store.heap_bytes() as f64 / 1_048_576.0,
        store.heap_bytes() as f64 / n as f64,
        rss1.saturating_sub(rss0) >> 10,
        rss1.saturating_sub(rss0) as f64 * 1024.0 / n as f64
    );
    // The same records boxed one by one, for comparison.
    let rss2 = rss_kib().unwrap_or(0);
    let records: Vec<FindingRecord> = store.iter().map(|(_, r)| r.to_owned_record()).collect();
    let rss3 = rss_kib().unwrap_or(0);
    println!(
        "Vec<FindingRecord> copy: RSS +{} MiB ({:.0} B/finding incl. 16 B slot and allocator overhead)",
        rss3.saturating_sub(rss2) >> 10,
        rss3.saturating_sub(rss2) as f64 * 1024.0 / n as f64
    );

    let shared = records
        .iter()
        .filter(|r| r.layout(&interner).shared_shape)
        .count();
    println!(
        "shapes: {} interned, {:.1}% of records share one",
        interner.shape_count(),
        shared as f64 * 100.0 / n as f64
    );
    for k in [n - 2, n - 1] {
        let rec = FindingRecord::from_finding(&finding(k), &mut interner);
        let l = rec.layout(&interner);
        let parts: Vec<String> = l
            .attributes
            .iter()
            .map(|(a, b)| format!("{}={b}", fleetward_findings_query::attribute_name(*a)))
            .collect();
        println!(
            "record {k} (re-encoded): {} B (shape {} B {}, own {} B): {}",
            rec.heap_bytes(),
            l.shape_bytes,
            if l.shared_shape { "shared" } else { "local" },
            l.own_bytes,
            parts.join(" ")
        );
    }

    let queries: [(&str, Value); 5] = [
        (
            "(a) SeverityLabel=HIGH & WorkflowStatus=NEW & RecordState=ACTIVE",
            json!({
                "SeverityLabel": [{"Value": "HIGH", "Comparison": "EQUALS"}],
                "WorkflowStatus": [{"Value": "NEW", "Comparison": "EQUALS"}],
                "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
            }),
        ),
        (
            "(b) ResourceId PREFIX arn:aws:iam:us-east-1:123456789004:",
            json!({"ResourceId": [{"Value": "arn:aws:iam:us-east-1:123456789004:", "Comparison": "PREFIX"}]}),
        ),
        (
            "(c) Title EQUALS",
            json!({"Title": [{"Value": "Device Defender audit: LOGGING_DISABLED_CHECK", "Comparison": "EQUALS"}]}),
        ),
        (
            "(d) ProductFields prowler/Status EQUALS FAIL",
            json!({"ProductFields": [{"Key": "prowler/Status", "Value": "FAIL", "Comparison": "EQUALS"}]}),
        ),
        (
            "(e) Keyword LOGGING_DISABLED_CHECK",
            json!({"Keyword": [{"Value": "LOGGING_DISABLED_CHECK"}]}),
        ),
    ];
    // Optional second argument: which queries to run, e.g. `ad` (default: all, plus the sort).
    let only = std::env::args().nth(2).unwrap_or_default();
    let runs: usize = std::env::var("QB_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    for (name, q) in &queries {
        if !only.is_empty() && !only.chars().any(|c| name.starts_with(&format!("({c})"))) {
            continue;
        }
        let Ok(f) = Filters::parse(q, Dialect::GetFindings) else {
            println!("{name}: filter did not parse");
            continue;
        };
        for (layout, threads) in [
            ("store", 1),
            ("store", 2),
            ("boxed", 1),
            ("boxed unprepared", 1),
        ] {
            let mut wall = Vec::new();
            let mut cpu = Vec::new();
            let mut hits = 0;
            for _ in 0..runs {
                let (t, c) = (Instant::now(), thread_cpu());
                hits = match layout {
                    "store" => scan_store(&store, &f, &interner, threads),
                    "boxed" => scan(&records, &f, &interner, threads),
                    _ => scan_unprepared(&records, &f, &interner),
                };
                wall.push(t.elapsed());
                if let (Some(c0), Some(c1)) = (c, thread_cpu()) {
                    cpu.push(c1.saturating_sub(c0));
                }
            }
            let cpu = if threads == 1 && !cpu.is_empty() {
                format!(", CPU p50 {:.1} ms", p50(cpu).as_secs_f64() * 1e3)
            } else {
                String::new()
            };
            println!(
                "{name} [{layout}, {threads} thread{}]: {hits} matches, wall p50 {:.1} ms{cpu}",
                if threads == 1 { "" } else { "s" },
                p50(wall).as_secs_f64() * 1e3
            );
        }
    }

    // Sorting every ACTIVE finding by SeverityNormalized desc, then UpdatedAt desc.
    let active = Filters::parse(
        &json!({"RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}]}),
        Dialect::GetFindings,
    )
    .ok();
    let crit = [
        attribute_by_name("SeverityNormalized"),
        attribute_by_name("UpdatedAt"),
    ];
    if let (true, Some(active), [Some(sev), Some(upd)]) = (only.is_empty(), active, crit) {
        let criteria = [
            SortCriterion {
                attr: sev,
                descending: true,
            },
            SortCriterion {
                attr: upd,
                descending: true,
            },
        ];
        let prepared = active.prepare(&interner);
        let t = Instant::now();
        let top = top_k(
            store.iter().filter(|(_, r)| prepared.matches(r, 0)),
            |(_, r)| *r,
            &interner,
            &criteria,
            100,
        );
        println!(
            "top 100 ACTIVE findings by SeverityNormalized desc, UpdatedAt desc: {} in {:.0} ms",
            top.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
        let t = Instant::now();
        let mut hits: Vec<&FindingRecord> =
            records.iter().filter(|r| prepared.matches(r, 0)).collect();
        hits.sort_by_cached_key(|r| sort_key(r, &interner, &criteria));
        println!(
            "sort {} ACTIVE findings by SeverityNormalized desc, UpdatedAt desc: {:.0} ms",
            hits.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}
