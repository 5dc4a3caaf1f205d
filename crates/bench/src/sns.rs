//! `fleetward-bench sns`: Publish to a topic with one `http` subscriber on loopback (run by
//! this process), measuring delivered messages per second and publish-to-delivery latency.
//!
//! The subscriber confirms through the SubscribeURL like any SNS endpoint, then records when
//! each notification arrives. Each message carries its sequence number; latency is from just
//! before its Publish request is sent to its arrival at the endpoint. `--rate 0` publishes as
//! fast as the clients can (throughput); `--rate N` paces N messages/s open-loop (latency).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderMap;
use tokio::sync::{Notify, mpsc};

use crate::Target;
use crate::client::Client;

#[derive(clap::Args, Clone)]
pub struct SnsArgs {
    /// Messages to publish.
    #[arg(long, default_value_t = 50_000)]
    pub messages: usize,
    /// Concurrent publishing clients.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Messages per second, paced open-loop; 0: as fast as possible.
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Bytes per message (a realistic alarm notification is a few hundred).
    #[arg(long, default_value_t = 256)]
    pub payload_bytes: usize,
    /// The topic's SignatureVersion: 1 (SHA1withRSA, SNS's default) or 2 (SHA256withRSA).
    #[arg(long, default_value_t = 1)]
    pub signature_version: u8,
    /// RawMessageDelivery on the subscription: the body is the message, unsigned.
    #[arg(long)]
    pub raw: bool,
    /// Where the subscriber listens.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
}

/// What the subscriber saw.
struct Receiver {
    started: Instant,
    /// Nanoseconds since `started` of each message's arrival (0: not yet).
    arrived: Vec<AtomicU64>,
    count: AtomicUsize,
    all_done: Notify,
    confirmations: mpsc::UnboundedSender<String>,
}

pub async fn run(target: &Target, args: &SnsArgs) -> Result<(), String> {
    let client = Client::new(target)?;
    let started = Instant::now();
    let (confirm_tx, mut confirm_rx) = mpsc::unbounded_channel();
    let receiver = Arc::new(Receiver {
        started,
        arrived: (0..args.messages).map(|_| AtomicU64::new(0)).collect(),
        count: AtomicUsize::new(0),
        all_done: Notify::new(),
        confirmations: confirm_tx,
    });
    let endpoint = serve(receiver.clone(), args.listen).await?;

    let name = format!("bench-{}", std::process::id());
    let topic_xml = client
        .call_query(
            "sns",
            format!(
                "Action=CreateTopic&Version=2010-03-31&Name={name}\
                 &Attributes.entry.1.key=SignatureVersion&Attributes.entry.1.value={}",
                args.signature_version
            ),
        )
        .await?;
    let topic = element(&topic_xml, "TopicArn").ok_or("CreateTopic answered no TopicArn")?;
    let mut subscribe = format!(
        "Action=Subscribe&Version=2010-03-31&TopicArn={}&Protocol=http&Endpoint={}",
        encode(&topic),
        encode(&endpoint)
    );
    if args.raw {
        subscribe
            .push_str("&Attributes.entry.1.key=RawMessageDelivery&Attributes.entry.1.value=true");
    }
    client.call_query("sns", subscribe).await?;
    let subscribe_url = tokio::time::timeout(Duration::from_secs(30), confirm_rx.recv())
        .await
        .map_err(|_| "no SubscriptionConfirmation within 30 s")?
        .ok_or("the subscriber stopped")?;
    let confirmed = reqwest::get(&subscribe_url)
        .await
        .map_err(|e| e.to_string())?;
    if !confirmed.status().is_success() {
        return Err(format!("SubscribeURL answered {}", confirmed.status()));
    }
    println!("topic {topic}, subscriber {endpoint}, confirmed");

    let sent_at: Arc<Vec<AtomicU64>> =
        Arc::new((0..args.messages).map(|_| AtomicU64::new(0)).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let publish_started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.clients.max(1) {
        let (client, topic, sent_at, next, errors) = (
            client.clone(),
            encode(&topic),
            sent_at.clone(),
            next.clone(),
            errors.clone(),
        );
        let args = args.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= args.messages {
                    return;
                }
                if args.rate > 0 {
                    let due =
                        publish_started + Duration::from_secs_f64(seq as f64 / args.rate as f64);
                    tokio::time::sleep_until(due.into()).await;
                }
                let message = payload(seq, args.payload_bytes);
                let form =
                    format!("Action=Publish&Version=2010-03-31&TopicArn={topic}&Message={message}");
                sent_at[seq].store(nanos_since(started), Ordering::Relaxed);
                if client.call_query("sns", form).await.is_err() {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let published_in = publish_started.elapsed();
    let failed = errors.load(Ordering::Relaxed);
    let expected = args.messages - failed;
    println!(
        "published {} in {:.2} s: {:.0} msg/s ({failed} failed)",
        args.messages,
        published_in.as_secs_f64(),
        args.messages as f64 / published_in.as_secs_f64()
    );
    // Deliveries may lag publishing (a backlog): wait while they still make progress.
    let mut seen = receiver.count.load(Ordering::Relaxed);
    let mut idle = Duration::ZERO;
    while seen < expected && idle < Duration::from_secs(15) {
        let tick = Duration::from_millis(250);
        let _ = tokio::time::timeout(tick, receiver.all_done.notified()).await;
        let now = receiver.count.load(Ordering::Relaxed);
        idle = if now == seen {
            idle + tick
        } else {
            Duration::ZERO
        };
        seen = now;
    }
    report(&receiver, &sent_at, publish_started, started, args.messages);
    Ok(())
}

fn report(
    receiver: &Receiver,
    sent_at: &[AtomicU64],
    publish_started: Instant,
    started: Instant,
    messages: usize,
) {
    let mut latencies: Vec<u64> = Vec::with_capacity(messages);
    let mut last = 0;
    for (sent, arrived) in sent_at.iter().zip(&receiver.arrived) {
        let (sent, arrived) = (
            sent.load(Ordering::Relaxed),
            arrived.load(Ordering::Relaxed),
        );
        if arrived > 0 && sent > 0 {
            latencies.push(arrived.saturating_sub(sent));
            last = last.max(arrived);
        }
    }
    let delivered = latencies.len();
    let span = Duration::from_nanos(last).saturating_sub(publish_started - started);
    println!(
        "delivered {delivered} of {messages} in {:.2} s (first publish to last delivery): {:.0} msg/s",
        span.as_secs_f64(),
        delivered as f64 / span.as_secs_f64().max(1e-9)
    );
    if delivered == 0 {
        return;
    }
    latencies.sort_unstable();
    let at = |q: f64| {
        let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i] as f64 / 1e6
    };
    println!(
        "publish-to-delivery latency: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        at(0.50),
        at(0.90),
        at(0.99),
        at(1.0)
    );
}

/// The subscriber: answers 200 to everything, records notifications, hands over the
/// SubscribeURL of the confirmation.
async fn serve(receiver: Arc<Receiver>, listen: SocketAddr) -> Result<String, String> {
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let receiver = receiver.clone();
        async move {
            receive(&receiver, &headers, &body);
            ""
        }
    });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{addr}/notify"))
}

fn receive(receiver: &Receiver, headers: &HeaderMap, body: &[u8]) {
    let kind = headers
        .get("x-amz-sns-message-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let raw = headers.contains_key("x-amz-sns-rawdelivery");
    let text = String::from_utf8_lossy(body);
    if kind == "SubscriptionConfirmation" {
        if let Some(url) = json_member(&text, "SubscribeURL") {
            let _ = receiver.confirmations.send(url);
        }
        return;
    }
    let message = if raw {
        Some(text.to_string())
    } else {
        json_member(&text, "Message")
    };
    let Some(seq) = message.as_deref().and_then(sequence_of) else {
        return;
    };
    if let Some(slot) = receiver.arrived.get(seq)
        && slot
            .compare_exchange(
                0,
                nanos_since(receiver.started),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_ok()
        && receiver.count.fetch_add(1, Ordering::Relaxed) + 1 == receiver.arrived.len()
    {
        receiver.all_done.notify_one();
    }
}

fn nanos_since(start: Instant) -> u64 {
    start.elapsed().as_nanos().max(1) as u64
}

/// `bench-SEQ-` then padding to `bytes` (form-safe characters only).
fn payload(seq: usize, bytes: usize) -> String {
    let mut text = format!("bench-{seq}-");
    while text.len() < bytes {
        text.push('x');
    }
    text
}

fn sequence_of(message: &str) -> Option<usize> {
    message
        .strip_prefix("bench-")?
        .split('-')
        .next()?
        .parse()
        .ok()
}

fn json_member(text: &str, name: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    value.get(name)?.as_str().map(str::to_string)
}

fn element(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].to_string())
}

/// Form encoding of a value (unreserved characters kept).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_carry_their_sequence() {
        let p = payload(42, 64);
        assert_eq!(p.len(), 64);
        assert_eq!(sequence_of(&p), Some(42));
        assert_eq!(encode("arn:aws:sns:r:1:t"), "arn%3Aaws%3Asns%3Ar%3A1%3At");
        assert_eq!(
            element("<a><TopicArn>x</TopicArn></a>", "TopicArn").as_deref(),
            Some("x")
        );
    }
}
