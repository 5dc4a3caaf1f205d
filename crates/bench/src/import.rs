//! BatchImportFindings throughput.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::json;

use crate::Target;
use crate::client::Client;
use crate::findings::finding;
use crate::proc_stat::ProcSample;

const BATCH: usize = 100;

pub async fn run(
    target: &Target,
    total: usize,
    clients: usize,
    start: usize,
) -> Result<(), String> {
    let client = Client::new(target)?;
    let now = fleetward_model::timestamp::format_ms(fleetward_model::Clock::now_ms(
        &fleetward_model::SystemClock,
    ));
    let batches = total.div_ceil(BATCH);
    // Request bodies are built before the clock starts, so that the figure measures the
    // server, not the load generator's JSON encoding (the client still signs each request).
    let bodies = Arc::new(PreparedBodies::build(batches, |batch| {
        let first = start + batch * BATCH;
        let findings: Vec<_> = (first..first + BATCH)
            .map(|n| finding(n, &target.account_id, &target.region, &now))
            .collect();
        json!({ "Findings": findings }).to_string().into_bytes()
    }));
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let cpu_at_start = ProcSample::own();
    let mut workers = Vec::new();
    for _ in 0..clients.max(1) {
        let (client, next, bodies) = (client.clone(), next.clone(), bodies.clone());
        workers.push(tokio::spawn(async move {
            let mut imported = 0usize;
            loop {
                let batch = next.fetch_add(1, Ordering::Relaxed);
                if batch >= batches {
                    return Ok::<usize, String>(imported);
                }
                let body = bodies.get(batch).to_vec();
                let output = client.call("POST", "/findings/import", body).await?;
                if output["FailedCount"].as_u64() != Some(0) {
                    return Err(format!(
                        "import failed: {} of {BATCH}, first: {}",
                        output["FailedCount"], output["FailedFindings"][0]
                    ));
                }
                imported += BATCH;
                if batch % 500 == 0 {
                    eprintln!("  {} findings sent", batch * BATCH);
                }
            }
        }));
    }
    let mut imported = 0;
    for worker in workers {
        imported += worker.await.map_err(|e| e.to_string())??;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "BatchImportFindings: {imported} findings in {seconds:.2} s with {clients} clients = {:.0} findings/s",
        imported as f64 / seconds
    );
    // The load generator shares the cores with the server: what it took is what the server
    // could not have.
    if let Some(cores) = ProcSample::own().cpu_since(&cpu_at_start, seconds) {
        println!(
            "  load generator: {cores:.2} cores, {:.1} us of CPU per finding",
            cores * seconds * 1e6 / imported.max(1) as f64
        );
    }
    Ok(())
}

/// All request bodies in one buffer. Ten thousand separate 280 KB allocations held for the
/// whole run made this VM's proactive-reclaim kernel thread (kdamond) spend most of a core
/// walking them; one contiguous buffer it passes over cheaply.
struct PreparedBodies {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl PreparedBodies {
    fn build(count: usize, body: impl Fn(usize) -> Vec<u8>) -> Self {
        let mut bytes = Vec::new();
        let mut ends = Vec::with_capacity(count);
        for n in 0..count {
            let next = body(n);
            if bytes.is_empty() {
                // Bodies are about the same size: one reservation, no regrowth copies.
                bytes.reserve_exact(next.len() * count + next.len() * count / 10);
            }
            bytes.extend_from_slice(&next);
            ends.push(bytes.len());
        }
        Self { bytes, ends }
    }

    fn get(&self, n: usize) -> &[u8] {
        let start = if n == 0 { 0 } else { self.ends[n - 1] };
        &self.bytes[start..self.ends[n]]
    }
}

#[cfg(test)]
mod tests {
    use super::PreparedBodies;

    #[test]
    fn each_body_comes_back_whole_and_in_its_place() {
        let bodies =
            PreparedBodies::build(5, |n| format!("body {n} {}", "x".repeat(n)).into_bytes());
        for n in 0..5 {
            assert_eq!(
                bodies.get(n),
                format!("body {n} {}", "x".repeat(n)).as_bytes()
            );
        }
    }
}
