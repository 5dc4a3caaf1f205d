//! `mqtt-fanin`: N publishers, each on its own topic `bench/<client id>`, one subscriber on
//! `bench/#`. The figure is messages/s received by the subscriber after a warm-up; with QoS 1
//! also PUBACKs/s received by the publishers, each keeping a window of messages in flight.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use fleetward_mqtt::{
    Packet, Properties, PubReply, Publish, QoS, ReasonCode, Subscribe, Subscription, encode,
};

use super::{Broker, Devices, Mqtt, VERSION, open_many, quantile};
use crate::proc_stat::{ProcSample, cpu_seconds, status_kb};

#[derive(clap::Args, Clone)]
pub struct FaninArgs {
    /// Publisher connections.
    #[arg(long, default_value_t = 1000)]
    pub clients: usize,
    /// QoS of the publishes and of the subscription: 0 or 1.
    #[arg(long, default_value_t = 0)]
    pub qos: u8,
    /// Measured seconds, after the warm-up.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    #[arg(long, default_value_t = 5)]
    pub warmup: u64,
    /// Payload bytes per message.
    #[arg(long, default_value_t = 64)]
    pub payload: usize,
    /// Messages per second per publisher; unlimited when absent.
    #[arg(long)]
    pub rate_per_client: Option<f64>,
    /// QoS 1: PUBLISHes awaiting their PUBACK per publisher.
    #[arg(long, default_value_t = 10)]
    pub window: usize,
    /// Most messages one publisher writes at once (one TLS record when they fit).
    #[arg(long, default_value_t = 10)]
    pub batch: usize,
    /// With a rate: a publisher wakes at most this often and writes what fell due, so the
    /// generator's own cost stays low at high rates.
    #[arg(long, default_value_t = 20)]
    pub tick_ms: u64,
    /// The broker's process id: its CPU time and memory are reported too.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Stop measuring early if the broker's RSS passes this many MB (a broker that queues
    /// without bound for a slow subscriber must not exhaust the machine).
    #[arg(long)]
    pub max_server_rss_mb: Option<u64>,
}

#[derive(Default)]
struct Counters {
    published: AtomicU64,
    acked: AtomicU64,
    received: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Counters {
    fn fail(&self, who: &str, error: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
        if first.is_none() {
            *first = Some(format!("{who}: {error}"));
        }
    }

    fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.published.load(Ordering::Relaxed),
            self.acked.load(Ordering::Relaxed),
            self.received.load(Ordering::Relaxed),
        )
    }
}

pub async fn run(broker: &Broker, args: &FaninArgs) -> Result<(), String> {
    let qos = match args.qos {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        q => return Err(format!("--qos {q}: only 0 and 1 (AWS IoT has no QoS 2)")),
    };
    let devices = Arc::new(Devices::load(broker, args.clients)?);
    let sub_tls = devices
        .subscriber
        .clone()
        .ok_or("no cert-sub.pem in the certificate directory")?;
    let counters = Arc::new(Counters::default());

    let mut sub = Mqtt::connect(&devices, sub_tls, "bench-sub", 600).await?;
    sub.send(&Packet::Subscribe(Subscribe {
        packet_id: 1,
        subscriptions: vec![Subscription::new("bench/#", qos)],
        properties: Properties::default(),
    }))
    .await?;
    match sub.next().await? {
        Packet::SubAck(ack)
            if matches!(
                ack.reason_codes.first(),
                Some(ReasonCode::Success | ReasonCode::GrantedQoS1)
            ) => {}
        other => return Err(format!("SUBSCRIBE bench/# refused: {other:?}")),
    }
    let subscriber = tokio::spawn(subscribe_loop(sub, counters.clone()));

    eprintln!(
        "opening {} publisher connections to {}",
        args.clients, devices.addr
    );
    let opened = Instant::now();
    let connections = open_many(
        &devices,
        "bench-",
        args.clients,
        broker.connect_concurrency,
        600,
        250,
    )
    .await?;
    eprintln!(
        "  {} publishers connected in {:.1} s",
        connections.len(),
        opened.elapsed().as_secs_f64()
    );

    let stop = Arc::new(AtomicBool::new(false));
    let payload = Bytes::from(vec![b'x'; args.payload]);
    let mut publishers = Vec::with_capacity(connections.len());
    for (n, connection) in connections.into_iter().enumerate() {
        let job = Publisher {
            topic: format!("bench/bench-{n}"),
            qos,
            payload: payload.clone(),
            rate: args.rate_per_client.filter(|r| *r > 0.0),
            window: args.window.max(1),
            batch: args.batch.max(1),
            tick: Duration::from_millis(args.tick_ms),
            counters: counters.clone(),
            stop: stop.clone(),
        };
        publishers.push(tokio::spawn(async move {
            if let Err(e) = job.run(connection).await {
                job.counters.fail(&job.topic, e);
            }
        }));
    }

    tokio::time::sleep(Duration::from_secs(args.warmup)).await;
    let (p0, a0, r0) = counters.snapshot();
    let server0 = args.server_pid.and_then(cpu_seconds);
    let own0 = ProcSample::own();
    let t0 = Instant::now();
    let mut per_second = Vec::with_capacity(args.seconds as usize);
    let mut last = r0;
    let mut cut_short = None;
    for i in 1..=args.seconds {
        tokio::time::sleep_until((t0 + Duration::from_secs(i)).into()).await;
        let (_, _, r) = counters.snapshot();
        per_second.push((r - last) as f64);
        last = r;
        let rss_mb = args
            .server_pid
            .and_then(|p| status_kb(p, "VmRSS"))
            .map(|kb| kb / 1024);
        if let (Some(rss), Some(max)) = (rss_mb, args.max_server_rss_mb)
            && rss > max
        {
            cut_short = Some(rss);
            break;
        }
    }
    let (p1, a1, r1) = counters.snapshot();
    let elapsed = t0.elapsed().as_secs_f64();
    let server_cpu = args
        .server_pid
        .and_then(cpu_seconds)
        .zip(server0)
        .map(|(b, a)| (b - a) / elapsed);
    let own_cpu = ProcSample::own().cpu_since(&own0, elapsed);
    let server_rss = args.server_pid.and_then(|p| status_kb(p, "VmRSS"));
    stop.store(true, Ordering::Relaxed);

    // What the subscriber still gets after the publishers stop: messages the broker had
    // queued (a broker that drops instead has nothing left).
    let stopped = Instant::now();
    let mut quiet_since = Instant::now();
    let mut seen = counters.snapshot().2;
    while stopped.elapsed() < Duration::from_secs(30)
        && quiet_since.elapsed() < Duration::from_secs(2)
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = counters.snapshot().2;
        if now != seen {
            seen = now;
            quiet_since = Instant::now();
        }
    }
    for publisher in &publishers {
        publisher.abort();
    }
    subscriber.abort();
    let (p_all, _, r_all) = counters.snapshot();

    let received = (r1 - r0) as f64 / elapsed;
    let published = (p1 - p0) as f64 / elapsed;
    let acked = (a1 - a0) as f64 / elapsed;
    per_second.sort_by(f64::total_cmp);
    println!(
        "mqtt-fanin QoS {}: {} publishers -> 1 subscriber, {} B payload, {elapsed:.0} s after {} s warm-up{}",
        args.qos,
        args.clients,
        args.payload,
        args.warmup,
        match args.rate_per_client {
            Some(r) => format!(", {r} msg/s per publisher"),
            None => ", unthrottled".into(),
        }
    );
    println!(
        "  received by the subscriber: {received:.0} msg/s (per second: min {:.0}, median {:.0}, max {:.0})",
        quantile(&per_second, 0.0),
        quantile(&per_second, 0.5),
        quantile(&per_second, 1.0)
    );
    println!("  published: {published:.0} msg/s");
    if qos == QoS::AtLeastOnce {
        println!("  PUBACKs received by publishers: {acked:.0}/s");
    }
    println!(
        "  whole run: {p_all} published, {r_all} received ({:.1}% not delivered); drained for {:.1} s after the publishers stopped",
        100.0 * (p_all.saturating_sub(r_all)) as f64 / p_all.max(1) as f64,
        stopped.elapsed().as_secs_f64()
    );
    if let Some(cpu) = server_cpu {
        println!("  broker CPU: {:.0}% of one core", cpu * 100.0);
    }
    if let Some(cpu) = own_cpu {
        println!("  generator CPU: {:.0}% of one core", cpu * 100.0);
    }
    if let Some(kb) = server_rss {
        println!("  broker RSS at the end: {:.0} MB", kb as f64 / 1024.0);
    }
    if let Some(rss) = cut_short {
        println!(
            "  measurement cut short after {elapsed:.0} s: broker RSS {rss} MB passed --max-server-rss-mb"
        );
    }
    let failed = counters.failed.load(Ordering::Relaxed);
    if failed > 0 {
        println!(
            "  {failed} connections failed; first: {}",
            counters
                .first_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .unwrap_or_default()
        );
    }
    println!(
        "RESULT mqtt-fanin qos={} clients={} received_per_s={received:.0} published_per_s={published:.0} acked_per_s={acked:.0} server_cpu={:.2} server_rss_mb={:.0} failed={failed} cut_short={}",
        args.qos,
        args.clients,
        server_cpu.unwrap_or(0.0),
        server_rss.unwrap_or(0) as f64 / 1024.0,
        u8::from(cut_short.is_some()),
    );
    Ok(())
}

/// The subscriber: counts every PUBLISH and acknowledges QoS 1 ones.
async fn subscribe_loop(mut sub: Mqtt, counters: Arc<Counters>) {
    let mut acks = Vec::with_capacity(4096);
    loop {
        let mut got = 0;
        loop {
            match sub.buffered() {
                Ok(Some(Packet::Publish(p))) => {
                    got += 1;
                    if p.qos == QoS::AtLeastOnce {
                        let _ = encode(
                            &Packet::PubAck(PubReply::new(p.packet_id)),
                            VERSION,
                            &mut acks,
                        );
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => return counters.fail("subscriber", e),
            }
        }
        counters.received.fetch_add(got, Ordering::Relaxed);
        if !acks.is_empty() {
            if let Err(e) = sub.write(&acks).await {
                return counters.fail("subscriber", e);
            }
            acks.clear();
        }
        if let Err(e) = sub.fill().await {
            return counters.fail("subscriber", e);
        }
    }
}

struct Publisher {
    topic: String,
    qos: QoS,
    payload: Bytes,
    rate: Option<f64>,
    window: usize,
    batch: usize,
    tick: Duration,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
}

impl Publisher {
    fn publish(&self, packet_id: u16) -> Packet {
        Packet::Publish(Publish {
            qos: self.qos,
            packet_id,
            topic: self.topic.clone(),
            payload: self.payload.clone(),
            ..Publish::default()
        })
    }

    /// How many messages may go now, at most `limit`; with a rate, how many are due.
    fn due(&self, started: Instant, sent: u64, limit: usize) -> usize {
        match self.rate {
            None => limit,
            Some(rate) => {
                let due = (started.elapsed().as_secs_f64() * rate) as u64 + 1;
                (due.saturating_sub(sent) as usize).min(limit)
            }
        }
    }

    /// When to wake for the next message: when it falls due, but not sooner than one tick
    /// after the last write.
    fn next_due(&self, started: Instant, sent: u64, wrote: Instant) -> tokio::time::Instant {
        let rate = self.rate.unwrap_or(f64::INFINITY);
        let due = started + Duration::from_secs_f64(sent as f64 / rate);
        due.max(wrote + self.tick).into()
    }

    async fn run(&self, mut conn: Mqtt) -> Result<(), String> {
        let started = Instant::now();
        let mut wrote = started;
        let mut sent: u64 = 0;
        if self.qos == QoS::AtMostOnce {
            // The same bytes every time: encode a batch once.
            let mut wire = Vec::new();
            for _ in 0..self.batch {
                encode(&self.publish(0), VERSION, &mut wire).map_err(|e| e.to_string())?;
            }
            let one = wire.len() / self.batch;
            while !self.stop.load(Ordering::Relaxed) {
                let k = self.due(started, sent, self.batch);
                if k == 0 || (k < self.batch && wrote.elapsed() < self.tick) {
                    tokio::time::sleep_until(self.next_due(started, sent, wrote)).await;
                    continue;
                }
                wrote = Instant::now();
                conn.write(&wire[..k * one]).await?;
                sent += k as u64;
                self.counters
                    .published
                    .fetch_add(k as u64, Ordering::Relaxed);
            }
            return Ok(());
        }
        let mut next_id: u16 = 0;
        let mut in_flight = 0usize;
        let mut out = Vec::with_capacity(self.window * (self.payload.len() + 64));
        while !self.stop.load(Ordering::Relaxed) {
            let room = (self.window - in_flight).min(self.batch);
            let k = match self.due(started, sent, room) {
                k if k < room && wrote.elapsed() < self.tick => 0,
                k => k,
            };
            out.clear();
            for _ in 0..k {
                next_id = next_id.checked_add(1).unwrap_or(1);
                encode(&self.publish(next_id), VERSION, &mut out).map_err(|e| e.to_string())?;
            }
            if k > 0 {
                wrote = Instant::now();
                conn.write(&out).await?;
                sent += k as u64;
                in_flight += k;
                self.counters
                    .published
                    .fetch_add(k as u64, Ordering::Relaxed);
            }
            if in_flight == self.window || self.rate.is_none() {
                conn.fill().await?;
            } else {
                tokio::select! {
                    read = conn.fill() => read?,
                    () = tokio::time::sleep_until(self.next_due(started, sent, wrote)) => {}
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
            self.counters
                .acked
                .fetch_add(acked as u64, Ordering::Relaxed);
        }
        Ok(())
    }
}
