//! IoT registry figures: bulk creation through the API (CreateThing, CreateKeysAndCertificate)
//! and list-page latency at scale.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Target;
use crate::client::Client;

/// Creates `total` things named `bench-thing-{n:08}` (from `start`), each in one CreateThing
/// call, with `clients` concurrent clients. Every tenth thing joins the group `bench-group`.
pub async fn create_things(
    target: &Target,
    total: usize,
    clients: usize,
    start: usize,
) -> Result<(), String> {
    let client = Client::new(target)?;
    let _ = client
        .call_service(
            "iot",
            "POST",
            "/thing-groups/bench-group",
            "",
            b"{}".to_vec(),
        )
        .await;
    let next = Arc::new(AtomicUsize::new(start));
    let end = start + total;
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..clients.max(1) {
        let (client, next) = (client.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= end {
                    return Ok::<(), String>(());
                }
                let body = json!({"attributePayload": {"attributes": {
                    "fleet": format!("f{}", n % 10), "serial": format!("s{n}")}}});
                let path = format!("/things/bench-thing-{n:08}");
                client
                    .call_service("iot", "POST", &path, "", body.to_string().into_bytes())
                    .await?;
                if n.is_multiple_of(10) {
                    let add = json!({"thingGroupName": "bench-group", "thingName": format!("bench-thing-{n:08}")});
                    client
                        .call_service("iot", "PUT", "/thing-groups/addThingToThingGroup", "", add.to_string().into_bytes())
                        .await?;
                }
                if (n - start).is_multiple_of(100_000) && n > start {
                    eprintln!("  {} things created", n - start);
                }
            }
        }));
    }
    for worker in workers {
        worker.await.map_err(|e| e.to_string())??;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "CreateThing: {total} things in {seconds:.2} s with {clients} clients = {:.0} things/s (every 10th also AddThingToThingGroup)",
        total as f64 / seconds
    );
    Ok(())
}

/// Creates `total` certificates with CreateKeysAndCertificate (a fresh key pair signed by
/// Fleetward's CA each time).
pub async fn create_certificates(
    target: &Target,
    total: usize,
    clients: usize,
) -> Result<(), String> {
    let client = Client::new(target)?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..clients.max(1) {
        let (client, next) = (client.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return Ok::<(), String>(());
                }
                client
                    .call_service(
                        "iot",
                        "POST",
                        "/keys-and-certificate",
                        "setAsActive=true",
                        Vec::new(),
                    )
                    .await?;
                if n.is_multiple_of(100_000) && n > 0 {
                    eprintln!("  {n} certificates created");
                }
            }
        }));
    }
    for worker in workers {
        worker.await.map_err(|e| e.to_string())??;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "CreateKeysAndCertificate: {total} certificates in {seconds:.2} s with {clients} clients = {:.0} certificates/s",
        total as f64 / seconds
    );
    Ok(())
}

/// One list call to time: a label, the path, the query, the member holding the next token
/// and its query name.
struct ListCall {
    label: &'static str,
    method: &'static str,
    path: &'static str,
    query: &'static str,
    token_out: &'static str,
    token_in: &'static str,
}

const LISTS: &[ListCall] = &[
    ListCall {
        label: "ListThings (250/page)",
        method: "GET",
        path: "/things",
        query: "maxResults=250",
        token_out: "nextToken",
        token_in: "nextToken",
    },
    ListCall {
        label: "ListThings attribute filter fleet=f3",
        method: "GET",
        path: "/things",
        query: "maxResults=250&attributeName=fleet&attributeValue=f3",
        token_out: "nextToken",
        token_in: "nextToken",
    },
    ListCall {
        label: "ListThings attribute filter matching nothing (50,000 things scanned per page)",
        method: "GET",
        path: "/things",
        query: "maxResults=250&attributeName=fleet&attributeValue=none",
        token_out: "nextToken",
        token_in: "nextToken",
    },
    ListCall {
        label: "ListCertificates (250/page)",
        method: "GET",
        path: "/certificates",
        query: "pageSize=250",
        token_out: "nextMarker",
        token_in: "marker",
    },
    ListCall {
        label: "ListCertificates ascending",
        method: "GET",
        path: "/certificates",
        query: "pageSize=250&isAscendingOrder=true",
        token_out: "nextMarker",
        token_in: "marker",
    },
    ListCall {
        label: "ListThingsInThingGroup bench-group",
        method: "GET",
        path: "/thing-groups/bench-group/things",
        query: "maxResults=250",
        token_out: "nextToken",
        token_in: "nextToken",
    },
    ListCall {
        label: "ListThingGroups",
        method: "GET",
        path: "/thing-groups",
        query: "maxResults=250",
        token_out: "nextToken",
        token_in: "nextToken",
    },
];

/// Walks `pages` consecutive pages of each list call and prints p50 / p90 / max latency.
pub async fn list_latency(target: &Target, pages: usize) -> Result<(), String> {
    let client = Client::new(target)?;
    for call in LISTS {
        let mut times = Vec::with_capacity(pages);
        let mut token: Option<String> = None;
        let mut items = 0usize;
        for _ in 0..pages {
            let query = match &token {
                Some(t) => format!("{}&{}={}", call.query, call.token_in, encode(t)),
                None => call.query.to_string(),
            };
            let started = Instant::now();
            let page: Value = client
                .call_service("iot", call.method, call.path, &query, Vec::new())
                .await?;
            times.push(started.elapsed());
            items += page
                .as_object()
                .and_then(|o| o.values().find_map(Value::as_array))
                .map(Vec::len)
                .unwrap_or(0);
            match page.get(call.token_out).and_then(Value::as_str) {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        report(call.label, &mut times, items);
    }
    Ok(())
}

fn report(label: &str, times: &mut [Duration], items: usize) {
    times.sort();
    let at =
        |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
    println!(
        "{label}: {} pages ({items} items) p50 {:.2} ms, p90 {:.2} ms, max {:.2} ms",
        times.len(),
        at(0.5),
        at(0.9),
        at(1.0)
    );
}

/// Percent-encodes a token for the query string (base64 has `+`, `/` and `=`).
fn encode(token: &str) -> String {
    token
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
