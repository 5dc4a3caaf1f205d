//! `fleetward serve`: opens the store, makes sure the default account and its admin key
//! exist, starts the API and stops cleanly on SIGINT or SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use fleetward_api::{AppState, KeyCache};
use fleetward_ca::CertificateAuthority;
use fleetward_gateway::{Gateway, GatewayConfig};
use fleetward_hub::Hub;
use fleetward_model::{Clock, DEFAULT_ACCOUNT_ID, SystemClock};
use fleetward_registry::{Endpoints, Registry};
use fleetward_store::{AccountRow, Store};
use metrics_exporter_prometheus::PrometheusBuilder;

use crate::cli::ServeArgs;
use crate::credentials::{ensure_admin_key, write_private};

/// How long a looked-up access key is trusted before it is read again.
const KEY_CACHE_MS: i64 = 2_000;
/// How often expired findings are swept.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);
/// How long shutdown waits for in-flight requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

pub async fn run(args: ServeArgs) -> Result<(), String> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let data_dir = &args.data.data_dir;
    std::fs::create_dir_all(data_dir)
        .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    // Installed first, so that what the start-up records (findings loaded) is exported too.
    let metrics = PrometheusBuilder::new().install_recorder().ok();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = fleetward_store::open(&args.data.database_url())
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    // The hub keeps its findings index in memory: one node per database.
    store.lock_node().await.map_err(|e| e.to_string())?;

    let first_start = store
        .create_account(&AccountRow {
            account_id: DEFAULT_ACCOUNT_ID.into(),
            name: "default".into(),
            created_ms: clock.now_ms(),
        })
        .await
        .map_err(|e| format!("cannot create the default account: {e}"))?;
    let credentials_path = data_dir.join("credentials");
    ensure_admin_key(
        store.as_ref(),
        &credentials_path,
        DEFAULT_ACCOUNT_ID,
        clock.now_ms(),
    )
    .await?;

    let hub = Arc::new(
        Hub::open(store.clone(), clock.clone(), &args.region)
            .await
            .map_err(|e| format!("cannot open the findings hub: {e}"))?,
    );
    if first_start {
        enable_default_hub(&hub).await?;
    }

    let ca = Arc::new(
        CertificateAuthority::load_or_create(data_dir, &args.server_names, clock.now_ms())
            .map_err(|e| format!("cannot set up the certificate authority: {}", e.message()))?,
    );

    let mqtt_listener = tokio::net::TcpListener::bind(args.mqtt_addr)
        .await
        .map_err(|e| format!("cannot listen for MQTT on {}: {e}", args.mqtt_addr))?;
    let mqtt_addr = mqtt_listener
        .local_addr()
        .map_err(|e| format!("cannot read the MQTT address: {e}"))?;

    let listener = tokio::net::TcpListener::bind(args.api_addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.api_addr))?;
    let api_addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the API address: {e}"))?;
    let config_path = data_dir.join("config");
    write_private(
        &config_path,
        &format!(
            "[default]\nregion = {}\nendpoint_url = http://{api_addr}\n",
            args.region
        ),
    )?;

    let endpoints = Endpoints {
        data: gateway_address(&args, mqtt_addr),
        credential_provider: api_addr.to_string(),
    };
    let registry = Arc::new(
        Registry::open(
            store.clone(),
            clock.clone(),
            &args.region,
            ca.clone(),
            endpoints,
        )
        .await
        .map_err(|e| format!("cannot open the registry: {e}"))?,
    );
    let (things, certificates) = registry.counts();
    tracing::info!(things, certificates, "Registry loaded.");
    let tls = fleetward_gateway::server_config(&ca, registry.clone(), Arc::new(SystemClock))?;
    let gateway = Gateway::new(
        registry.clone(),
        store.clone(),
        clock.clone(),
        GatewayConfig {
            metrics_period_ms: args.metrics_period_secs.max(1) * 1000,
            report_throttle: fleetward_device_report::ThrottlePolicy {
                min_interval_ms: args.report_min_interval_secs as i64 * 1000,
                ..Default::default()
            },
            iot_log_path: Some(data_dir.join("iot-logs.jsonl")),
            ..GatewayConfig::default()
        },
    );
    gateway.restore().await?;
    let devices = crate::device_runtime::DeviceRuntime::start()?;
    if let Some(addr) = args.dev_plain_mqtt_addr {
        let plain = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen for plain MQTT on {addr}: {e}"))?;
        tracing::warn!(%addr, "DEVELOPMENT: plain-TCP MQTT without TLS; user name = certificate id.");
        println!("  MQTT (dev):  mqtt://{addr}  (NO TLS: development only)");
        devices.spawn(gateway.clone().serve_plain(devices.adopt(plain)?));
    }
    let events = crate::notifications::start(
        store.clone(),
        clock.clone(),
        &ca,
        gateway.clone(),
        &args.region,
        data_dir,
        &crate::notifications::public_url(api_addr, &args.server_names),
    )
    .await?;
    let detect = crate::detect::start(
        store.clone(),
        clock.clone(),
        args.test_clock_file.as_deref(),
        &args.region,
        registry.clone(),
        hub.clone(),
        events.clone(),
        gateway.clone(),
        &format!("http://{api_addr}"),
    )
    .await?;
    devices.spawn(gateway.clone().serve(devices.adopt(mqtt_listener)?, tls));

    let notifier = crate::notifications::audit_notifier(events.clone());
    let audit = open_audit(&args, &store, &clock, &registry, &hub, api_addr, notifier).await?;
    let mitigate = crate::mitigate::start(
        store.clone(),
        clock.clone(),
        args.test_clock_file.as_deref(),
        &args.region,
        registry.clone(),
        audit.clone(),
        detect.clone(),
        events.clone(),
    )
    .await?;
    let export = crate::export::start(
        store.clone(),
        clock.clone(),
        &args.region,
        data_dir,
        &events,
        &gateway,
        &hub,
    )
    .await?;
    let state = AppState {
        hub: hub.clone(),
        audit,
        detect: detect.clone(),
        mitigate,
        registry,
        events: events.clone(),
        export: export.clone(),
        keys: Arc::new(KeyCache::new(store.clone(), clock.clone(), KEY_CACHE_MS)),
        clock,
        region: args.region.clone(),
        metrics,
    };
    tokio::spawn(sweep_retention_forever(hub.clone()));

    println!("Fleetward is running.");
    println!("  API:         http://{api_addr}  (region {})", args.region);
    println!("  MQTT:        mqtts://{mqtt_addr}  (client certificates required)");
    println!("  Credentials: {}", credentials_path.display());
    println!("  Root CA:     {}", data_dir.join("root-ca.pem").display());
    println!("  AWS config:  {}", config_path.display());
    println!("  Database:    {}", describe_store(store.as_ref(), &args));
    let (stopping_tx, stopping_rx) = tokio::sync::watch::channel(false);
    let server =
        axum::serve(listener, fleetward_api::router(state)).with_graceful_shutdown(async move {
            shutdown_signal().await;
            let _ = stopping_tx.send(true);
        });
    // In-flight requests get a grace period; a stalled client cannot keep the process alive.
    let deadline = async move {
        let mut stopping = stopping_rx;
        let _ = stopping.wait_for(|s| *s).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => result.map_err(|e| format!("API server failed: {e}"))?,
        _ = deadline => tracing::warn!("Connections still open after the grace period; closing them."),
    }
    detect.flush().await;
    events.flush().await;
    export.stop();
    println!("Fleetward stopped.");
    Ok(())
}

/// Device Defender audit: resumes interrupted tasks and starts its scheduler and hub delivery.
async fn open_audit(
    args: &ServeArgs,
    store: &Arc<dyn Store>,
    clock: &Arc<dyn Clock>,
    registry: &Arc<Registry>,
    hub: &Arc<Hub>,
    api_addr: std::net::SocketAddr,
    notifier: Arc<dyn fleetward_audit::AuditNotifier>,
) -> Result<Arc<fleetward_audit::Audit>, String> {
    let audit_clock: Arc<dyn Clock> = match &args.test_clock_file {
        Some(path) => {
            tracing::warn!(file = %path.display(), "TESTS ONLY: audit time is offset by the test clock file.");
            Arc::new(crate::test_clock::FileOffsetClock::start(path.clone()))
        }
        None => clock.clone(),
    };
    let options = fleetward_audit::AuditOptions {
        blocklist_dir: Some(args.data.data_dir.join("openssl-blacklist")),
        console_base_url: format!("http://{api_addr}"),
        ..fleetward_audit::AuditOptions::default()
    };
    let audit = fleetward_audit::Audit::open(
        store.clone(),
        audit_clock,
        &args.region,
        registry.clone(),
        hub.clone(),
        Some(notifier),
        options,
    )
    .await
    .map_err(|e| format!("cannot open Device Defender audit: {e}"))?;
    audit.start().await;
    Ok(audit)
}

/// The device gateway's address as devices should dial it: the first configured server
/// name (else `localhost` for a loopback or wildcard address), with the port unless it is
/// MQTT's TLS port 8883, since AWS clients assume that port for a bare host name.
fn gateway_address(args: &ServeArgs, bound: std::net::SocketAddr) -> String {
    let ip = bound.ip();
    let host = match args.server_names.first() {
        Some(name) => name.clone(),
        None if ip.is_loopback() || ip.is_unspecified() => "localhost".to_string(),
        None => ip.to_string(),
    };
    match bound.port() {
        8883 => host,
        port => format!("{host}:{port}"),
    }
}

/// On first start the default account gets its hub, accepting Fleetward's own products.
async fn enable_default_hub(hub: &Hub) -> Result<(), String> {
    if !hub
        .is_enabled(DEFAULT_ACCOUNT_ID)
        .await
        .map_err(|e| e.to_string())?
    {
        hub.enable_hub(DEFAULT_ACCOUNT_ID, "SECURITY_CONTROL")
            .await
            .map_err(|e| e.to_string())?;
    }
    for product in [
        fleetward_hub::DEVICE_DEFENDER_AUDIT,
        fleetward_hub::DEVICE_DEFENDER_DETECT,
    ] {
        hub.subscribe_product(DEFAULT_ACCOUNT_ID, product)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn sweep_retention_forever(hub: Arc<Hub>) {
    let mut every = tokio::time::interval(RETENTION_EVERY);
    loop {
        every.tick().await;
        if let Err(e) = hub.sweep_retention().await {
            tracing::error!(error = %e, "Retention sweep failed.");
        }
    }
}

fn describe_store(store: &dyn Store, args: &ServeArgs) -> String {
    match store.backend() {
        "sqlite" => args.data.database_url(),
        other => other.to_string(),
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("Shutting down.");
}
