//! The gateway service: accepts TLS connections, runs each as an MQTT session, and closes
//! the connections of certificates that stop being allowed in.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use fleetward_model::Clock;
use fleetward_registry::Registry;
use tokio::net::TcpListener;

use fleetward_device_report::ThrottlePolicy;
use fleetward_store::Store;

use crate::broker::Broker;
use crate::events::Recorder;
use crate::metrics::Meter;

/// Settings of the gateway.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// How long an offline persistent session (and its queued QoS 1 messages) is kept when
    /// the client does not say (MQTT 3.1.1, or MQTT 5 without an expiry); AWS: one hour.
    pub session_expiry_ms: i64,
    /// How long a new connection may take to send CONNECT.
    pub connect_timeout_ms: u64,
    /// Device Defender metrics reports faster than this per device are throttled.
    pub report_throttle: ThrottlePolicy,
    /// How often cloud-side metric counters become datapoints (Device Defender: 5 minutes).
    pub metrics_period_ms: u64,
    /// A thing's device-side datapoints are kept (for ListMetricValues) at most once per this
    /// period: every report is evaluated, but when reports come faster than Device
    /// Defender's 5-minute period only the first of each period is stored.
    pub metric_history_interval_ms: i64,
    /// Where the AWS IoT logs go (JSON lines); `None`: nowhere.
    pub iot_log_path: Option<std::path::PathBuf>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            session_expiry_ms: 3_600_000,
            connect_timeout_ms: 10_000,
            report_throttle: ThrottlePolicy::default(),
            metrics_period_ms: 300_000,
            metric_history_interval_ms: 300_000,
            iot_log_path: None,
        }
    }
}

pub struct Gateway {
    pub(crate) registry: Arc<Registry>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) broker: Broker,
    pub(crate) config: GatewayConfig,
    pub(crate) recorder: Recorder,
    pub(crate) meter: Meter,
    pub(crate) iot_log: Option<crate::iot_log::IotLog>,
    /// The last accepted metrics report of each (account, thing).
    pub(crate) reports:
        std::sync::Mutex<std::collections::HashMap<(String, String), crate::reports::ThingReports>>,
    next_connection: AtomicU64,
    rule_hook: std::sync::OnceLock<Arc<dyn crate::RuleHook>>,
}

impl Gateway {
    pub fn new(
        registry: Arc<Registry>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: GatewayConfig,
    ) -> Arc<Self> {
        let iot_log = config
            .iot_log_path
            .clone()
            .map(crate::iot_log::IotLog::open);
        Arc::new(Self {
            registry,
            clock,
            broker: Broker::default(),
            config,
            recorder: Recorder::start(store.clone()),
            store,
            meter: Meter::default(),
            iot_log,
            reports: Default::default(),
            next_connection: AtomicU64::new(1),
            rule_hook: std::sync::OnceLock::new(),
        })
    }

    /// Wires Device Defender detect's live feed (once, before serving).
    pub fn set_detect_feed(&self, feed: std::sync::Arc<dyn crate::DetectFeed>) {
        let _ = self.recorder.feed.set(feed);
    }

    /// Wires the topic-rules engine (once, at start-up).
    pub fn set_rule_hook(&self, hook: Arc<dyn crate::RuleHook>) {
        let _ = self.rule_hook.set(hook);
    }

    /// Offers a published message to the topic rules, if they are wired. True for a Basic
    /// Ingest topic (`$aws/rules/...`): that message goes to its rule only, never to
    /// subscribers, as in AWS IoT.
    pub(crate) fn offer_to_rules(&self, account: &str, topic: &str, payload: &[u8]) -> bool {
        if let Some(hook) = self.rule_hook.get() {
            hook.message(account, topic, payload);
        }
        topic.starts_with("$aws/rules/")
    }

    /// Detect's feed, when it wants every message.
    pub(crate) fn message_feed(&self) -> Option<&std::sync::Arc<dyn crate::DetectFeed>> {
        self.recorder.feed.get().filter(|f| f.wants_messages())
    }

    pub(crate) fn next_connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    /// Restores persistent sessions, their queued messages and retained messages from the
    /// store; call once before [`Gateway::serve`].
    pub async fn restore(&self) -> Result<(), String> {
        let mut state = crate::broker::BrokerState::default();
        let max_seq =
            crate::durable::restore(self.store.as_ref(), &mut state, self.clock.now_ms()).await?;
        let sessions = state.sessions.len();
        *self.broker.lock() = state;
        self.broker
            .next_seq
            .store(max_seq, std::sync::atomic::Ordering::Relaxed);
        tracing::info!(sessions, "MQTT sessions restored.");
        Ok(())
    }

    /// Publishes a message of Fleetward's own (a notification, a report reply) to the
    /// subscribers of `topic` in `account`, as QoS 1. Returns once the queueing for offline
    /// persistent sessions is committed, so a caller may treat the message as handed over.
    pub async fn publish(
        &self,
        account: &str,
        topic: &str,
        payload: Vec<u8>,
    ) -> Result<(), String> {
        let wildcard = topic.contains(['+', '#']);
        if wildcard || !crate::limits::topic_within_limits(topic) {
            return Err(format!("'{topic}' is not a valid MQTT topic name."));
        }
        let message = Arc::new(crate::broker::Message {
            topic: topic.into(),
            payload: bytes::Bytes::from(payload),
            qos: fleetward_mqtt::QoS::AtLeastOnce,
            retain: false,
            properties: Arc::new(fleetward_mqtt::Properties::default()),
            expires_at_ms: None,
        });
        if self.offer_to_rules(account, topic, &message.payload) {
            return Ok(());
        }
        let now = self.clock.now_ms();
        let routed = self.broker.route(account, None, &message, now);
        crate::outbox::deliver_all(routed.waiting).await;
        if routed.writes.is_empty() {
            return Ok(());
        }
        self.store
            .write_documents(&routed.writes)
            .await
            .map_err(|e| e.to_string())
    }

    /// Accepts connections until the task is dropped: TLS with client certificates, then MQTT.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, tls: Arc<rustls::ServerConfig>) {
        tokio::spawn(self.clone().close_revoked_forever());
        tokio::spawn(self.clone().expire_sessions_forever());
        tokio::spawn(self.clone().flush_metrics_forever());
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        loop {
            let (tcp, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "MQTT accept failed.");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let gateway = self.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let handshake = tokio::time::timeout(
                    std::time::Duration::from_millis(gateway.config.connect_timeout_ms),
                    acceptor.accept(tcp),
                )
                .await;
                let stream = match handshake {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake refused.");
                        return;
                    }
                    Err(_) => return,
                };
                let cert = stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .map(|c| c.as_ref().to_vec());
                let Some(cert) = cert else {
                    return;
                };
                let credential = crate::connection::Credential::Certificate(cert);
                // A task of its own: the handshake's state is not kept for the connection's
                // lifetime.
                tokio::spawn(crate::connection::run(gateway, stream, peer, credential));
            });
        }
    }

    /// Development only: MQTT over plain TCP, the device naming its registered certificate
    /// id as the MQTT user name. Nothing proves the device holds the certificate's key, so
    /// `fleetward serve` offers it only behind `--dev-plain-mqtt-addr`.
    pub async fn serve_plain(self: Arc<Self>, listener: TcpListener) {
        loop {
            let Ok((tcp, peer)) = listener.accept().await else {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let credential = crate::connection::Credential::ClaimedCertificateId;
            tokio::spawn(crate::connection::run(self.clone(), tcp, peer, credential));
        }
    }

    /// After every registry change, closes the connections whose certificate (or its CA) is
    /// no longer ACTIVE: deactivation takes effect within moments, not at the next connect.
    async fn close_revoked_forever(self: Arc<Self>) {
        let mut changes = self.registry.watch_generation();
        while changes.changed().await.is_ok() {
            let now = self.clock.now_ms();
            let state = self.broker.lock();
            for session in state.sessions.values() {
                let Some(connection) = &session.connection else {
                    continue;
                };
                let cert_id = connection.auth.lock().map(|a| a.identity.cert_id).ok();
                if let Some(id) = cert_id
                    && self.registry.identify(&id, now).is_err()
                {
                    connection.outbox.close(
                        fleetward_mqtt::ReasonCode::NotAuthorized,
                        "SERVER_INITIATED_DISCONNECT",
                    );
                }
            }
        }
    }

    /// Turns each period's metric counters into datapoints.
    async fn flush_metrics_forever(self: Arc<Self>) {
        let period = std::time::Duration::from_millis(self.config.metrics_period_ms.max(1_000));
        let mut every = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            every.tick().await;
            self.meter.flush(self.clock.now_ms(), &self.recorder);
        }
    }

    /// Drops offline persistent sessions past their expiry.
    async fn expire_sessions_forever(self: Arc<Self>) {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(10));
        loop {
            every.tick().await;
            let now = self.clock.now_ms();
            let mut state = self.broker.lock();
            let expired: Vec<(String, String)> = state
                .sessions
                .iter()
                .filter(|(_, s)| {
                    s.connection.is_none() && s.expires_at_ms.is_some_and(|t| t <= now)
                })
                .map(|(k, _)| k.clone())
                .collect();
            let mut writes = Vec::new();
            for key in expired {
                writes.extend(crate::connection::drop_session(&mut state, &key));
            }
            drop(state);
            crate::durable::write_later(&self.store, writes);
        }
    }
}
