//! Cost of signing one notification (RSA-2048), per SignatureVersion, on one thread:
//!
//!   cargo run --release -p fleetward-events --example signing_bench
//!
//! Besides wall time it prints the thread's CPU time per signature (Linux schedstat), which
//! other work on a shared machine does not inflate.

use std::time::Instant;

use fleetward_ca::CertificateAuthority;
use fleetward_events::{SignatureVersion, Signer};

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = 1_790_000_000_000;
    let ca = CertificateAuthority::load_or_create(dir.path(), &[], now).expect("CA");
    let started = Instant::now();
    let signer = Signer::load_or_create(dir.path(), &ca, now).expect("signer");
    println!(
        "key generation and certificate: {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    let text = format!(
        "Message\n{}\nMessageId\n6f0e1f2a-0000-4000-8000-000000000000\nTimestamp\n2026-11-22T00:00:00.000Z\nTopicArn\narn:aws:sns:us-east-1:000000000000:alarms\nType\nNotification\n",
        "x".repeat(256)
    );
    for (name, version) in [
        ("1 (SHA1withRSA)", SignatureVersion::V1),
        ("2 (SHA256withRSA)", SignatureVersion::V2),
    ] {
        let rounds = 2_000;
        let started = Instant::now();
        let cpu_before = thread_cpu_ns();
        for _ in 0..rounds {
            signer.sign(version, text.as_bytes()).expect("sign");
        }
        let cpu_each = thread_cpu_ns()
            .zip(cpu_before)
            .map(|(a, b)| (a - b) / rounds);
        let each = started.elapsed().as_secs_f64() / rounds as f64;
        println!(
            "SignatureVersion {name}: {:.0} µs per message ({} µs of CPU), {:.0} signatures/s",
            each * 1e6,
            cpu_each.map_or("?".to_string(), |ns| (ns / 1000).to_string()),
            1.0 / each
        );
    }
}

/// CPU time this thread has run, in nanoseconds (the first field of schedstat).
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
