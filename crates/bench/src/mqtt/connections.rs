//! `mqtt-connect-rate` (full TLS handshake + CONNECT/CONNACK per second, each connection
//! closed after its CONNACK) and `mqtt-idle` (many idle connections held open, to read the
//! broker's memory).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{Broker, Devices, Mqtt, open_many, quantile};
use crate::proc_stat::{ProcSample, cpu_seconds, status_kb};

#[derive(clap::Args, Clone)]
pub struct ConnectRateArgs {
    /// Connections being opened at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Measured seconds, after the warm-up.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// The broker's process id: its CPU time is reported too.
    #[arg(long)]
    pub server_pid: Option<u32>,
}

pub async fn connect_rate(broker: &Broker, args: &ConnectRateArgs) -> Result<(), String> {
    let devices = Arc::new(Devices::load(broker, usize::MAX)?);
    let next = Arc::new(AtomicUsize::new(0));
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let mut workers = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let (devices, next, measuring, stop, failed, first_error) = (
            devices.clone(),
            next.clone(),
            measuring.clone(),
            stop.clone(),
            failed.clone(),
            first_error.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let id = format!("bench-rate-{n}");
                let started = Instant::now();
                let attempt = tokio::time::timeout(
                    Duration::from_secs(30),
                    Mqtt::connect(&devices, devices.publisher(n), &id, 60),
                )
                .await
                .unwrap_or_else(|_| Err("no CONNACK within 30 s".into()));
                match attempt {
                    Ok(connection) => {
                        let took = started.elapsed().as_secs_f64() * 1000.0;
                        connection.close().await;
                        if measuring.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
                            latencies.push(took);
                        }
                    }
                    Err(e) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        let mut first = first_error.lock().unwrap_or_else(|e| e.into_inner());
                        if first.is_none() {
                            *first = Some(format!("{id}: {e}"));
                        }
                    }
                }
            }
            latencies
        }));
    }
    tokio::time::sleep(Duration::from_secs(args.warmup)).await;
    let server0 = args.server_pid.and_then(cpu_seconds);
    let own0 = ProcSample::own();
    let t0 = Instant::now();
    measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = t0.elapsed().as_secs_f64();
    let server_cpu = args
        .server_pid
        .and_then(cpu_seconds)
        .zip(server0)
        .map(|(b, a)| (b - a) / elapsed);
    let own_cpu = ProcSample::own().cpu_since(&own0, elapsed);
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.map_err(|e| e.to_string())?);
    }
    latencies.sort_by(f64::total_cmp);
    let rate = latencies.len() as f64 / elapsed;
    let failed = failed.load(Ordering::Relaxed);
    println!(
        "mqtt-connect-rate: {} connectors, {} s: {rate:.0} connections/s (TCP + TLS 1.3 mutual auth + CONNECT/CONNACK, closed after CONNACK); latency p50 {:.1} ms, p99 {:.1} ms",
        args.concurrency,
        args.seconds,
        quantile(&latencies, 0.5),
        quantile(&latencies, 0.99)
    );
    if let Some(cpu) = server_cpu {
        println!("  broker CPU: {:.0}% of one core", cpu * 100.0);
    }
    if let Some(cpu) = own_cpu {
        println!("  generator CPU: {:.0}% of one core", cpu * 100.0);
    }
    if failed > 0 {
        println!(
            "  {failed} attempts failed; first: {}",
            first_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .unwrap_or_default()
        );
    }
    println!(
        "RESULT mqtt-connect-rate concurrency={} connections_per_s={rate:.0} p50_ms={:.1} p99_ms={:.1} server_cpu={:.2} failed={failed}",
        args.concurrency,
        quantile(&latencies, 0.5),
        quantile(&latencies, 0.99),
        server_cpu.unwrap_or(0.0)
    );
    Ok(())
}

#[derive(clap::Args, Clone)]
pub struct IdleArgs {
    /// Connections to open and hold.
    #[arg(long, default_value_t = 10_000)]
    pub connections: usize,
    /// MQTT keep-alive of each connection, seconds (no PINGREQ is sent while held).
    #[arg(long, default_value_t = 600)]
    pub keep_alive: u16,
    /// How long to hold them after all are open, seconds.
    #[arg(long, default_value_t = 300)]
    pub hold_seconds: u64,
    /// The broker's process id: its memory is printed once all connections are open.
    #[arg(long)]
    pub server_pid: Option<u32>,
}

pub async fn idle(broker: &Broker, args: &IdleArgs) -> Result<(), String> {
    if u64::from(args.keep_alive) * 3 / 2 <= args.hold_seconds {
        return Err(format!(
            "--hold-seconds {} outlasts the broker's keep-alive timeout (1.5 x {} s)",
            args.hold_seconds, args.keep_alive
        ));
    }
    let devices = Arc::new(Devices::load(broker, usize::MAX)?);
    let started = Instant::now();
    let connections = open_many(
        &devices,
        "bench-idle-",
        args.connections,
        broker.connect_concurrency,
        args.keep_alive,
        1000,
    )
    .await?;
    let took = started.elapsed().as_secs_f64();
    println!(
        "READY {} idle connections open in {took:.1} s ({} certificates shared), holding {} s",
        connections.len(),
        devices.publishers.len(),
        args.hold_seconds
    );
    if let Some(pid) = args.server_pid {
        // Let connection bookkeeping (events, datapoints) settle first.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let mb = |field| status_kb(pid, field).unwrap_or(0) as f64 / 1024.0;
        println!(
            "RESULT mqtt-idle connections={} server_rss_mb={:.0} server_hwm_mb={:.0}",
            connections.len(),
            mb("VmRSS"),
            mb("VmHWM")
        );
    }
    tokio::time::sleep(Duration::from_secs(args.hold_seconds)).await;
    drop(connections);
    Ok(())
}
