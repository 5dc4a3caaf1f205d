//! `fleetward-bench`: drives a running Fleetward over HTTP, SigV4-signed like any SDK, and
//! prints the figures the README quotes.
//!
//!   fleetward-bench import --endpoint URL --credentials FILE --findings 200000 --clients 4
//!   fleetward-bench query  --endpoint URL --credentials FILE --runs 50
//!   fleetward-bench things --endpoint URL --credentials FILE --things 1000000 --clients 8
//!   fleetward-bench certs  --endpoint URL --credentials FILE --certs 1000000 --clients 8
//!   fleetward-bench lists  --endpoint URL --credentials FILE --pages 200
//!   fleetward-bench audit-fleet --endpoint URL --credentials FILE --policies 100000 \
//!       --database-url sqlite://DATA/fleetward.db --data-dir DATA
//!   fleetward-bench audit  --endpoint URL --credentials FILE
//!   fleetward-bench mitigate --endpoint URL --credentials FILE --certs 100000
//!   fleetward-bench rss    --pid PID
//!   fleetward-bench mqtt-setup --endpoint URL --credentials FILE --devices 1000 --out DIR
//!   fleetward-bench mqtt-fanin --addr HOST:PORT --certs DIR --ca FILE --clients 1000 --qos 0
//!   fleetward-bench mqtt-connect-rate --addr HOST:PORT --certs DIR --ca FILE --concurrency 16
//!   fleetward-bench mqtt-idle --addr HOST:PORT --certs DIR --ca FILE --connections 10000
//!   fleetward-bench detect-e2e --endpoint URL --credentials FILE --data-dir DATA --addr HOST:PORT
//!   fleetward-bench sns    --endpoint URL --credentials FILE --messages 50000 --clients 32 [--rate 1000]
//!   fleetward-bench firehose --fleetward-bin target/release/fleetward --records 500000 [--receiver-down-secs 60] [--kill9]

mod audit;
mod client;
mod detect_e2e;
mod findings;
mod firehose;
mod import;
mod mitigate;
mod mqtt;
mod proc_stat;
mod query;
mod registry;
mod sns;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "fleetward-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
pub struct Target {
    /// API endpoint of the running Fleetward.
    #[arg(long, default_value = "http://127.0.0.1:7440")]
    pub endpoint: String,
    /// AWS CLI credentials file with a `[default]` profile (Fleetward writes one).
    #[arg(long, default_value = "./fleetward-data/credentials")]
    pub credentials: String,
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    #[arg(long, default_value = "000000000000")]
    pub account_id: String,
}

#[derive(Subcommand)]
enum Command {
    /// BatchImportFindings throughput: 100 findings of ~2 KB per request, concurrent clients.
    Import {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 200_000)]
        findings: usize,
        #[arg(long, default_value_t = 4)]
        clients: usize,
        /// Id offset, so several runs add findings instead of updating the same ones.
        #[arg(long, default_value_t = 0)]
        start: usize,
    },
    /// GetFindings latency (p50, p90, max) for the hot filter set and single-attribute filters.
    Query {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 30)]
        runs: usize,
    },
    /// CreateThing throughput, one thing per call.
    Things {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 100_000)]
        things: usize,
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Name offset, so several runs add things instead of repeating the same ones.
        #[arg(long, default_value_t = 0)]
        start: usize,
    },
    /// CreateKeysAndCertificate throughput.
    Certs {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 100_000)]
        certs: usize,
        #[arg(long, default_value_t = 8)]
        clients: usize,
    },
    /// Registry list-page latency (p50, p90, max) over consecutive pages.
    Lists {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 200)]
        pages: usize,
    },
    /// Creates MQTT benchmark devices: N active certificates (plus the subscriber's) with one
    /// policy attached, written to OUT with the CA files.
    MqttSetup {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 1000)]
        devices: usize,
        #[arg(long, default_value_t = 8)]
        clients: usize,
        #[arg(long, default_value = "./bench-devices")]
        out: std::path::PathBuf,
        /// Fleetward's data dir, where root-ca.pem and issuing-ca.pem are.
        #[arg(long, default_value = "./fleetward-data")]
        data_dir: std::path::PathBuf,
    },
    /// MQTT fan-in: N publishers over mutual TLS, one subscriber on `bench/#`.
    MqttFanin {
        #[command(flatten)]
        broker: mqtt::Broker,
        #[command(flatten)]
        args: mqtt::fanin::FaninArgs,
    },
    /// MQTT connection rate: TLS handshake + CONNECT/CONNACK per second.
    MqttConnectRate {
        #[command(flatten)]
        broker: mqtt::Broker,
        #[command(flatten)]
        args: mqtt::connections::ConnectRateArgs,
    },
    /// Opens and holds idle MQTT connections; prints READY once all are open.
    MqttIdle {
        #[command(flatten)]
        broker: mqtt::Broker,
        #[command(flatten)]
        args: mqtt::connections::IdleArgs,
    },
    /// Detect end to end: reports over MQTT/TLS through the gateway (reports/s acknowledged)
    /// and publish-to-in-alarm-alert latency at an SNS http subscriber run here.
    DetectE2e {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        args: detect_e2e::DetectE2eArgs,
    },
    /// Delivery stream to a HEC receiver run here (acks on): records/s, and the no-loss counts
    /// with the receiver down or Fleetward killed (-9) mid-stream.
    Firehose {
        #[command(flatten)]
        args: firehose::FirehoseArgs,
    },
    /// Publish to a topic with one http subscriber (run here): delivered/s and latency.
    Sns {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        args: sns::SnsArgs,
    },
    /// Audit fleet on top of `things` and `certs`: policies, certificates with known findings,
    /// connection history.
    AuditFleet {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        args: audit::fleet::FleetArgs,
    },
    /// Every audit check on: time until the on-demand audit completes and until all its
    /// findings are in the hub.
    Audit {
        #[command(flatten)]
        target: Target,
    },
    /// An audit mitigation task deactivating N expiring device certificates: time to COMPLETED.
    Mitigate {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        args: mitigate::MitigateArgs,
    },
    /// Resident memory of a process, from /proc.
    Rss {
        #[arg(long)]
        pid: u32,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let result = match Cli::parse().command {
        Command::Import {
            target,
            findings,
            clients,
            start,
        } => import::run(&target, findings, clients, start).await,
        Command::Query { target, runs } => query::run(&target, runs).await,
        Command::Things {
            target,
            things,
            clients,
            start,
        } => registry::create_things(&target, things, clients, start).await,
        Command::Certs {
            target,
            certs,
            clients,
        } => registry::create_certificates(&target, certs, clients).await,
        Command::Lists { target, pages } => registry::list_latency(&target, pages).await,
        Command::MqttSetup {
            target,
            devices,
            clients,
            out,
            data_dir,
        } => mqtt::setup::run(&target, devices, clients, &out, &data_dir).await,
        Command::MqttFanin { broker, args } => mqtt::fanin::run(&broker, &args).await,
        Command::MqttConnectRate { broker, args } => {
            mqtt::connections::connect_rate(&broker, &args).await
        }
        Command::MqttIdle { broker, args } => mqtt::connections::idle(&broker, &args).await,
        Command::Sns { target, args } => sns::run(&target, &args).await,
        Command::DetectE2e { target, args } => detect_e2e::run(&target, &args).await,
        Command::Firehose { args } => firehose::run(&args).await,
        Command::AuditFleet { target, args } => audit::fleet::run(&target, &args).await,
        Command::Audit { target } => audit::run(&target).await,
        Command::Mitigate { target, args } => mitigate::run(&target, &args).await,
        Command::Rss { pid } => rss(pid),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fleetward-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn rss(pid: u32) -> Result<(), String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read /proc/{pid}/status: {e}"))?;
    for line in status.lines() {
        if line.starts_with("VmRSS") || line.starts_with("VmHWM") {
            println!("{line}");
        }
    }
    Ok(())
}
