//! Command-line interface.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "fleetward",
    version,
    about = "Self-hosted security service for IoT fleets"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the service.
    Serve(ServeArgs),
    /// Manage accounts and access keys in the database.
    Admin(AdminArgs),
}

/// Where the data lives; shared by `serve` and `admin`.
#[derive(Args, Clone)]
pub struct DataArgs {
    /// Directory for the SQLite database, certificates and the credentials file.
    #[arg(long, default_value = "./fleetward-data", env = "FLEETWARD_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Database URL; a `postgres://` URL selects PostgreSQL. Default: SQLite in the data dir.
    #[arg(long, env = "FLEETWARD_DATABASE_URL")]
    pub database_url: Option<String>,
}

impl DataArgs {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("fleetward.db").display()))
    }
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Address of the HTTP API (all AWS-compatible services, /health and /metrics).
    #[arg(long, default_value = "127.0.0.1:7440", env = "FLEETWARD_API_ADDR")]
    pub api_addr: SocketAddr,
    /// The AWS region this node answers for.
    #[arg(long, default_value = "us-east-1", env = "FLEETWARD_REGION")]
    pub region: String,
    /// Address of the device gateway (MQTT over TLS), as DescribeEndpoint reports it.
    #[arg(long, default_value = "127.0.0.1:8883", env = "FLEETWARD_MQTT_ADDR")]
    pub mqtt_addr: SocketAddr,
    /// A DNS name devices use to reach this node: added to the gateway's server
    /// certificate and reported by DescribeEndpoint (repeatable).
    #[arg(
        long = "server-name",
        env = "FLEETWARD_SERVER_NAMES",
        value_delimiter = ','
    )]
    pub server_names: Vec<String>,
    /// How often the gateway writes cloud-side device metrics as datapoints, in seconds
    /// (Device Defender's period is 300).
    #[arg(long, default_value_t = 300, env = "FLEETWARD_METRICS_PERIOD_SECS")]
    pub metrics_period_secs: u64,
    /// TESTS ONLY: the minimum time between two accepted Device Defender reports of one
    /// thing, in seconds (AWS: 300).
    #[arg(
        long,
        hide = true,
        default_value_t = 300,
        env = "FLEETWARD_REPORT_MIN_INTERVAL_SECS"
    )]
    pub report_min_interval_secs: u64,
    /// DEVELOPMENT ONLY: also accept MQTT over plain TCP on this address, the device giving
    /// its registered certificate id as the MQTT user name (no TLS, no proof of the key).
    #[arg(long)]
    pub dev_plain_mqtt_addr: Option<SocketAddr>,
    /// TESTS ONLY: Device Defender audit's clock is the wall clock plus the offset (ms) in
    /// this file, re-read every 100 ms, so tests can move audit time.
    #[arg(long, hide = true, env = "FLEETWARD_TEST_CLOCK_FILE")]
    pub test_clock_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct AdminArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an account (twelve digits).
    CreateAccount {
        #[arg(long)]
        account_id: String,
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List accounts.
    ListAccounts,
    /// Create an access key for an account and print it in the AWS CLI credentials format.
    CreateAccessKey {
        #[arg(long)]
        account_id: String,
        /// Profile name of the printed credentials block.
        #[arg(long, default_value = "default")]
        profile: String,
    },
    /// List access keys (secrets are not shown).
    ListAccessKeys {
        #[arg(long)]
        account_id: Option<String>,
    },
    /// Revoke an access key: requests signed with it are refused from then on.
    RevokeAccessKey {
        #[arg(long)]
        access_key_id: String,
    },
    /// Device Defender audit inputs: CRLs, IAM roles, Cognito identity pools.
    Audit {
        #[command(subcommand)]
        command: crate::admin_audit::AuditCommand,
    },
}
