//! One MQTT connection: CONNECT and its checks, then the packet loop, then the will and the
//! session's fate. Reads happen here; writes go through a writer task fed by a channel, so
//! routing a publish never waits on a slow subscriber's socket.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use fleetward_mqtt::{
    ConnAck, Connect, Packet, Properties, ProtocolVersion, PubReply, Publish, QoS, ReasonCode,
    RetainHandling, SubAck, Subscribe, UnsubAck, Unsubscribe, Will,
};
use fleetward_policy::{Action, ConnectContext};
use tokio::io::{AsyncRead, AsyncWrite};

use fleetward_store::ConnectionEvent;

use fleetward_store::DocumentWrite;

use fleetward_registry::{CertId, LogLevel, LogSubject};

use crate::auth::ConnectionAuth;
use crate::broker::{BrokerState, LiveConnection, Message, Session, SubOptions};
use crate::durable;
use crate::gateway::Gateway;
use crate::iot_log::LogEvent;
use crate::limits::{
    MAX_CLIENT_ID_BYTES, MAX_PACKET_BYTES, MAX_PAYLOAD_BYTES, topic_within_limits,
};
use crate::metrics::{Count, DeviceMeter};
use crate::outbox::{Offer, Outbox, deliver_all};
use crate::wire_io::{read_packet, send_now, write_loop};

/// Topic aliases a client may use (MQTT 5 Topic Alias Maximum in our CONNACK).
const TOPIC_ALIAS_MAXIMUM: u16 = 16;

/// Why the packet loop ended.
enum Ending {
    /// DISCONNECT from the client; `true` if it asked for its will to be sent (MQTT 5 0x04).
    Graceful { send_will: bool },
    /// Network error, keep-alive timeout, protocol error, takeover or revocation; the
    /// reason as AWS IoT's lifecycle events name it.
    Abrupt(&'static str),
}

struct Conn {
    gateway: Arc<Gateway>,
    version: ProtocolVersion,
    account: String,
    client_id: String,
    connection_id: u64,
    auth: Arc<Mutex<ConnectionAuth>>,
    outbox: Arc<Outbox>,
    aliases: HashMap<u16, Arc<str>>,
    device: Arc<DeviceMeter>,
    peer: SocketAddr,
    source_ip: String,
    cert_id: String,
    thing_name: Option<String>,
    /// The AWS IoT log level for this connection, as of a registry generation.
    /// (A mutex only so that `&Conn` may cross await points; only this task takes it.)
    log_level: Mutex<(u64, Option<LogLevel>)>,
}

/// How a connection proves who it is.
pub enum Credential {
    /// The client certificate of the TLS handshake (DER).
    Certificate(Vec<u8>),
    /// Development listener only: the MQTT user name names a registered certificate id.
    ClaimedCertificateId,
}

/// Runs one connection to its end. The stream is split before the connection's future is
/// made, so that future (every connection's resident state) does not also hold it.
pub fn run<S>(
    gateway: Arc<Gateway>,
    stream: S,
    peer: SocketAddr,
    credential: Credential,
) -> impl Future<Output = ()> + Send
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (reader, writer) = tokio::io::split(stream);
    run_split(gateway, reader, writer, peer, credential)
}

async fn run_split<R, W>(
    gateway: Arc<Gateway>,
    mut reader: R,
    writer: W,
    peer: SocketAddr,
    credential: Credential,
) where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let mut buf = BytesMut::new();
    let connect_wait = Duration::from_millis(gateway.config.connect_timeout_ms);
    let mut connect =
        match tokio::time::timeout(connect_wait, read_packet(&mut reader, &mut buf, None)).await {
            Ok(Ok(Some(Packet::Connect(connect)))) => *connect,
            _ => return,
        };
    let version = connect.protocol_version;
    let mut writer = writer;
    let now = gateway.clock.now_ms();

    // The certificate was checked in the handshake; check again now that we know the client.
    let (cert_id, cert_der) = match credential {
        Credential::Certificate(der) => (crate::tls::certificate_id(&der), Some(der)),
        Credential::ClaimedCertificateId => {
            let claimed = connect
                .username
                .as_deref()
                .and_then(|u| u.parse::<CertId>().ok());
            let Some(id) = claimed else {
                let _ = send_now(
                    &mut writer,
                    version,
                    connack(
                        ReasonCode::BadUserNameOrPassword,
                        false,
                        Properties::default(),
                    ),
                )
                .await;
                return;
            };
            (id, None)
        }
    };
    let identity = match gateway.registry.identify(&cert_id, now) {
        Ok(identity) => identity,
        Err(_) => {
            let _ = send_now(
                &mut writer,
                version,
                connack(ReasonCode::NotAuthorized, false, Properties::default()),
            )
            .await;
            return;
        }
    };
    let (client_id, assigned) = match client_id_for(&connect) {
        Ok(pair) => pair,
        Err(code) => {
            let _ = send_now(
                &mut writer,
                version,
                connack(code, false, Properties::default()),
            )
            .await;
            return;
        }
    };
    let certificate = cert_der
        .as_deref()
        .ok_or(())
        .and_then(|der| fleetward_ca::parse_certificate_der(der).map_err(|_| ()))
        .map(|c| fleetward_registry::certificate_context(&c))
        .unwrap_or_default();
    drop(cert_der);
    let mut auth = ConnectionAuth::new(
        gateway.registry.clone(),
        identity.clone(),
        client_id.clone(),
        Some(peer.ip()),
        certificate,
    );
    let persistent = match version {
        ProtocolVersion::V311 => !connect.clean_start,
        ProtocolVersion::V5 => connect.properties.session_expiry_interval.unwrap_or(0) > 0,
    };
    let connect_context = ConnectContext {
        persistent_session: persistent,
        last_will: connect.will.is_some(),
        last_will_topic_arn: None,
        clean_session: connect.clean_start,
        keep_alive_secs: connect.keep_alive,
    };
    let recorder = gateway.recorder.clone();
    let thing_name = auth.thing_name().unwrap_or_default().to_string();
    // Metrics count per thing, or per client id for a device that acts as no thing.
    let device: Arc<DeviceMeter> = gateway.meter.device((
        identity.account_id.clone(),
        if thing_name.is_empty() {
            client_id.clone()
        } else {
            thing_name.clone()
        },
    ));
    device.count(Count::ConnectionAttempt);
    let source_ip = peer.ip().to_string();
    let cert_text = cert_id.to_string();
    let iot_log = |level: LogLevel, event_type: &str, success: bool, reason: Option<&str>| {
        let subject = LogSubject {
            client_id: &client_id,
            source_ip: &source_ip,
            principal_id: &cert_text,
            thing_name: (!thing_name.is_empty()).then_some(thing_name.as_str()),
        };
        let event = LogEvent {
            level,
            event_type,
            success,
            topic: None,
            reason,
        };
        let wanted = crate::iot_log::wanted_level(
            gateway.iot_log.as_ref(),
            &gateway.registry,
            &identity.account_id,
            &subject,
        );
        crate::iot_log::log(
            gateway.iot_log.as_ref(),
            wanted,
            &identity.account_id,
            &subject,
            peer.port(),
            gateway.clock.now_ms(),
            event,
        );
    };
    let lifecycle = |kind: &str, reason: &str| ConnectionEvent {
        account_id: identity.account_id.clone(),
        time_ms: gateway.clock.now_ms(),
        kind: kind.to_string(),
        client_id: client_id.clone(),
        certificate_id: cert_id.to_string(),
        thing_name: thing_name.clone(),
        source_ip: peer.ip().to_string(),
        source_port: i64::from(peer.port()),
        reason: reason.to_string(),
    };
    if !auth.allows(
        Action::Connect,
        "client",
        &client_id,
        now,
        Some(connect_context),
    ) {
        tracing::info!(client_id, certificate_id = %cert_id, "iot:Connect denied.");
        recorder.event(lifecycle("CONNECT_DENIED", "AUTHORIZATION_ERROR"));
        iot_log(
            LogLevel::Error,
            "Connect",
            false,
            Some("AUTHORIZATION_FAILURE"),
        );
        device.count(Count::AuthorizationFailure);
        let _ = send_now(
            &mut writer,
            version,
            connack(ReasonCode::NotAuthorized, false, Properties::default()),
        )
        .await;
        return;
    }
    if let Some(will) = &connect.will
        && !topic_within_limits(&will.topic)
    {
        let _ = send_now(
            &mut writer,
            version,
            connack(ReasonCode::TopicNameInvalid, false, Properties::default()),
        )
        .await;
        return;
    }

    let (outbox, rx) = Outbox::new();
    let auth = Arc::new(Mutex::new(auth));
    let connection_id = gateway.next_connection_id();
    let account = identity.account_id.clone();
    let expiry_ms = session_expiry_ms(&gateway, &connect);
    let (session_present, writes) = attach_session(
        &gateway,
        &account,
        &client_id,
        connect.clean_start,
        persistent,
        LiveConnection {
            device: device.clone(),
            id: connection_id,
            outbox: outbox.clone(),
            auth: auth.clone(),
        },
    );
    // A persistent session must be on disk before the client is told it has one.
    if let Err(e) = gateway.store.write_documents(&writes).await {
        tracing::error!(error = %e, "Cannot store an MQTT session.");
        detach_session(&gateway, &account, &client_id, connection_id, expiry_ms);
        let _ = send_now(
            &mut writer,
            version,
            connack(ReasonCode::ServerUnavailable, false, Properties::default()),
        )
        .await;
        return;
    }

    let mut properties = Properties::default();
    if version == ProtocolVersion::V5 {
        properties.topic_alias_maximum = Some(TOPIC_ALIAS_MAXIMUM);
        properties.maximum_qos = Some(QoS::AtLeastOnce);
        properties.retain_available = Some(true);
        properties.maximum_packet_size = std::num::NonZeroU32::new(MAX_PACKET_BYTES as u32);
        properties.wildcard_subscription_available = Some(true);
        properties.shared_subscription_available = Some(true);
        properties.subscription_identifier_available = Some(false);
        if assigned {
            properties.assigned_client_identifier = Some(client_id.clone());
        }
    }
    if send_now(
        &mut writer,
        version,
        connack(ReasonCode::Success, session_present, properties),
    )
    .await
    .is_err()
    {
        detach_session(&gateway, &account, &client_id, connection_id, expiry_ms);
        return;
    }
    tracing::debug!(client_id, %peer, version = ?version, "MQTT client connected.");
    recorder.event(lifecycle("CONNECTED", ""));
    iot_log(LogLevel::Info, "Connect", true, None);
    gateway
        .meter
        .connected(&device, peer.ip(), gateway.clock.now_ms(), &recorder);
    let writer_task = tokio::spawn(write_loop(
        writer,
        rx,
        outbox.clone(),
        version,
        gateway.clock.clone(),
    ));
    flush_queue(&gateway, &account, &client_id).await;
    // Only the will outlives CONNECT; the rest of the packet need not stay in memory.
    let will = connect.will.take().map(Box::new);
    let keep_alive = match connect.keep_alive {
        0 => None,
        // MQTT-3.1.2-24: one and a half times the keep-alive without a packet closes it.
        secs => Some(Duration::from_millis(u64::from(secs) * 1500)),
    };
    drop(connect);

    let mut conn = Conn {
        gateway: gateway.clone(),
        version,
        account,
        client_id: client_id.clone(),
        connection_id,
        auth,
        outbox,
        aliases: HashMap::new(),
        device: device.clone(),
        peer,
        source_ip: peer.ip().to_string(),
        log_level: Mutex::new((u64::MAX, None)),
        cert_id: cert_id.to_string(),
        thing_name: (!thing_name.is_empty()).then(|| thing_name.clone()),
    };
    let ending = conn.packet_loop(&mut reader, &mut buf, keep_alive).await;
    drop(buf);
    let (send_will, reason) = match ending {
        Ending::Graceful { send_will } => (send_will, "CLIENT_INITIATED_DISCONNECT"),
        // Whoever closed it first (takeover, revocation, an error here) names the reason.
        Ending::Abrupt(reason) => (true, conn.outbox.why().map_or(reason, |w| w.1)),
    };
    // The writer stops once the outbox is closed (after what is queued; for MQTT 5, with a
    // DISCONNECT when the server ends it); a normal end sends no DISCONNECT.
    conn.outbox.close(ReasonCode::Success, reason);
    recorder.event(lifecycle("DISCONNECTED", reason));
    iot_log(LogLevel::Info, "Disconnect", true, Some(reason));
    gateway.meter.disconnected(&device, gateway.clock.now_ms());
    if send_will && let Some(will) = will {
        conn.publish_will(*will);
    }
    detach_session(
        &gateway,
        &conn.account,
        &conn.client_id,
        conn.connection_id,
        expiry_ms,
    );
    let (outbox, account) = (conn.outbox.clone(), conn.account.clone());
    drop(conn);
    let unwritten = writer_task.await.unwrap_or_default();
    let mut undelivered = outbox.take_unacked();
    undelivered.extend(unwritten);
    redeliver(&gateway, &account, &client_id, undelivered);
}

/// The client id to use, and whether Fleetward assigned it (MQTT 5 empty client id).
fn client_id_for(connect: &Connect) -> Result<(String, bool), ReasonCode> {
    if connect.client_id.len() > MAX_CLIENT_ID_BYTES {
        return Err(ReasonCode::ClientIdentifierNotValid);
    }
    if !connect.client_id.is_empty() {
        return Ok((connect.client_id.clone(), false));
    }
    // MQTT-3.1.3-7/8: an empty client id needs a clean session in 3.1.1.
    if connect.protocol_version == ProtocolVersion::V311 && !connect.clean_start {
        return Err(ReasonCode::ClientIdentifierNotValid);
    }
    Ok((format!("fleetward-{}", uuid_like()), true))
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{nanos:x}")
}

fn session_expiry_ms(gateway: &Gateway, connect: &Connect) -> i64 {
    match (
        connect.protocol_version,
        connect.properties.session_expiry_interval,
    ) {
        (ProtocolVersion::V5, Some(u32::MAX)) => gateway.config.session_expiry_ms,
        (ProtocolVersion::V5, Some(secs)) => {
            (i64::from(secs) * 1000).min(gateway.config.session_expiry_ms)
        }
        _ => gateway.config.session_expiry_ms,
    }
}

fn connack(reason_code: ReasonCode, session_present: bool, properties: Properties) -> Packet {
    Packet::ConnAck(ConnAck {
        session_present,
        reason_code,
        properties,
    })
}

/// Takes over or creates the session; returns whether a previous session is resumed.
fn attach_session(
    gateway: &Gateway,
    account: &str,
    client_id: &str,
    clean_start: bool,
    persistent: bool,
    live: LiveConnection,
) -> (bool, Vec<DocumentWrite>) {
    let mut writes = Vec::new();
    let mut state = gateway.broker.lock();
    let key = (account.to_string(), client_id.to_string());
    if let Some(old) = state.sessions.get_mut(&key)
        && let Some(previous) = old.connection.take()
    {
        // MQTT-3.1.4-3: the older connection is closed, its client told why.
        tracing::info!(client_id, "Client id taken over by a new connection.");
        previous
            .outbox
            .close(ReasonCode::SessionTakenOver, "DUPLICATE_CLIENTID");
    }
    if clean_start {
        writes.extend(drop_session(&mut state, &key));
    }
    let resumed = state.sessions.contains_key(&key);
    let session = state.sessions.entry(key).or_insert_with(|| Session {
        connection: None,
        subscriptions: HashMap::new(),
        queue: Default::default(),
        persistent,
        expires_at_ms: None,
    });
    session.connection = Some(live);
    let was_persistent = session.persistent;
    session.persistent = persistent;
    session.expires_at_ms = None;
    if persistent {
        writes.push(durable::put_session(
            account,
            client_id,
            session,
            gateway.clock.now_ms(),
        ));
    } else if was_persistent {
        writes.push(durable::delete_session(account, client_id));
    }
    (resumed && persistent, writes)
}

/// Ends a connection's hold on its session: a clean session goes away with its
/// subscriptions; a persistent one waits for its client until it expires.
fn detach_session(
    gateway: &Gateway,
    account: &str,
    client_id: &str,
    connection_id: u64,
    expiry_ms: i64,
) {
    let mut state = gateway.broker.lock();
    let key = (account.to_string(), client_id.to_string());
    let Some(session) = state.sessions.get_mut(&key) else {
        return;
    };
    if session
        .connection
        .as_ref()
        .is_some_and(|c| c.id != connection_id)
    {
        return; // taken over: the session belongs to the newer connection
    }
    session.connection = None;
    let writes = if session.persistent {
        let now = gateway.clock.now_ms();
        session.expires_at_ms = Some(now + expiry_ms);
        vec![durable::put_session(account, client_id, session, now)]
    } else {
        drop_session(&mut state, &key)
    };
    drop(state);
    durable::write_later(&gateway.store, writes);
}

/// Gives a persistent session back the QoS 1 messages its ended connection did not get
/// acknowledged: to its next connection if one has taken over, else queued (durably) for it.
/// A clean session is gone by now, and they with it.
fn redeliver(gateway: &Gateway, account: &str, client_id: &str, messages: Vec<Arc<Message>>) {
    if messages.is_empty() {
        return;
    }
    let target = crate::broker::Target {
        account,
        client_id,
        seq: &gateway.broker.next_seq,
    };
    let now = gateway.clock.now_ms();
    let mut routed = crate::broker::Routed::default();
    {
        let mut state = gateway.broker.lock();
        let key = (account.to_string(), client_id.to_string());
        let Some(session) = state.sessions.get_mut(&key).filter(|s| s.persistent) else {
            return;
        };
        for message in messages {
            crate::broker::deliver(&target, session, message, now, &mut routed);
        }
    }
    durable::write_later(&gateway.store, routed.writes);
    if !routed.waiting.is_empty() {
        tokio::spawn(crate::outbox::deliver_all(routed.waiting));
    }
}

/// Removes a session and its subscriptions; returns the store writes that forget it.
pub(crate) fn drop_session(state: &mut BrokerState, key: &(String, String)) -> Vec<DocumentWrite> {
    let Some(session) = state.sessions.remove(key) else {
        return Vec::new();
    };
    if let Some(topics) = state.accounts.get_mut(&key.0) {
        for filter in session.subscriptions.keys() {
            remove_subscription(topics, filter, &key.1);
        }
    }
    if !session.persistent {
        return Vec::new();
    }
    let mut writes = vec![durable::delete_session(&key.0, &key.1)];
    for (seq, _) in &session.queue {
        writes.push(durable::delete_queued(&key.0, &key.1, *seq));
    }
    writes
}

/// Adds a subscription to an account's tree or shared group.
pub(crate) fn add_subscription(
    topics: &mut crate::broker::AccountTopics,
    filter: &str,
    client_id: &str,
    options: SubOptions,
) {
    match fleetward_mqtt::topic::parse_shared(filter) {
        Ok(Some(shared)) => topics
            .shared
            .entry((shared.share_name.to_string(), shared.filter.to_string()))
            .or_default()
            .join(client_id.to_string()),
        _ => topics.tree.insert(filter, client_id.to_string(), options),
    }
}

fn remove_subscription(
    topics: &mut crate::broker::AccountTopics,
    filter: &str,
    client_id: &str,
) -> bool {
    match fleetward_mqtt::topic::parse_shared(filter) {
        Ok(Some(shared)) => {
            let group_key = (shared.share_name.to_string(), shared.filter.to_string());
            let Some(group) = topics.shared.get_mut(&group_key) else {
                return false;
            };
            if group.leave(&client_id.to_string()) {
                topics.shared.remove(&group_key);
            }
            true
        }
        _ => topics.tree.remove(filter, &client_id.to_string()),
    }
}

/// Sends what a resumed persistent session queued while it was offline.
async fn flush_queue(gateway: &Gateway, account: &str, client_id: &str) {
    let routed = dequeue(gateway, account, client_id);
    durable::write_later(&gateway.store, routed.writes);
    deliver_all(routed.waiting).await;
}

/// Hands a session's queued messages to its connection (under the broker's lock).
fn dequeue(gateway: &Gateway, account: &str, client_id: &str) -> crate::broker::Routed {
    let now = gateway.clock.now_ms();
    let mut routed = crate::broker::Routed::default();
    let mut state = gateway.broker.lock();
    let Some(session) = state
        .sessions
        .get_mut(&(account.to_string(), client_id.to_string()))
    else {
        return routed;
    };
    let queued: Vec<(u64, Arc<Message>)> = session.queue.drain(..).collect();
    let target = crate::broker::Target {
        account,
        client_id,
        seq: &gateway.broker.next_seq,
    };
    for (seq, message) in queued {
        routed
            .writes
            .push(durable::delete_queued(account, client_id, seq));
        if message.expires_at_ms.is_some_and(|t| t <= now) {
            continue;
        }
        crate::broker::deliver(&target, session, message, now, &mut routed);
    }
    routed
}

impl Conn {
    async fn packet_loop<R: AsyncRead + Unpin>(
        &mut self,
        reader: &mut R,
        buf: &mut BytesMut,
        keep_alive: Option<Duration>,
    ) -> Ending {
        loop {
            let read = read_packet(reader, buf, Some(self.version));
            let read = async {
                match keep_alive {
                    Some(limit) => tokio::time::timeout(limit, read).await.ok(),
                    None => Some(read.await),
                }
            };
            // Closed from outside (takeover, revocation): stop reading at once.
            let packet = tokio::select! {
                biased;
                _ = self.outbox.closed() => return Ending::Abrupt("SERVER_INITIATED_DISCONNECT"),
                packet = read => packet,
            };
            let Some(packet) = packet else {
                self.close(ReasonCode::KeepAliveTimeout, "MQTT_KEEP_ALIVE_TIMEOUT");
                return Ending::Abrupt("MQTT_KEEP_ALIVE_TIMEOUT");
            };
            let packet = match packet {
                Ok(Some(packet)) => packet,
                Ok(None) => return Ending::Abrupt("CONNECTION_LOST"),
                Err(code) => {
                    self.close(code, "CLIENT_ERROR");
                    return Ending::Abrupt("CLIENT_ERROR");
                }
            };
            match packet {
                Packet::Publish(publish) => {
                    if !self.on_publish(publish).await {
                        return Ending::Abrupt("CLIENT_ERROR");
                    }
                }
                Packet::Subscribe(subscribe) => self.on_subscribe(subscribe).await,
                Packet::Unsubscribe(unsubscribe) => self.on_unsubscribe(unsubscribe).await,
                Packet::PingReq => {
                    self.send(Packet::PingResp).await;
                }
                // Unacknowledged deliveries go back to a persistent session at the end.
                Packet::PubAck(ack) => self.outbox.acknowledged(ack.packet_id),
                Packet::Disconnect(disconnect) => {
                    return Ending::Graceful {
                        send_will: disconnect.reason_code == ReasonCode::DisconnectWithWillMessage,
                    };
                }
                // A second CONNECT (MQTT-3.1.0-2), QoS 2 flows, AUTH: not supported.
                _ => {
                    self.close(ReasonCode::ProtocolError, "CLIENT_ERROR");
                    return Ending::Abrupt("CLIENT_ERROR");
                }
            }
        }
    }

    fn now(&self) -> i64 {
        self.gateway.clock.now_ms()
    }

    /// Writes an AWS IoT log entry about this connection, at the account's levels.
    fn log(
        &self,
        level: LogLevel,
        event_type: &str,
        success: bool,
        topic: Option<&str>,
        reason: Option<&str>,
    ) {
        if self.gateway.iot_log.is_none() {
            return;
        }
        let subject = LogSubject {
            client_id: &self.client_id,
            source_ip: &self.source_ip,
            principal_id: &self.cert_id,
            thing_name: self.thing_name.as_deref(),
        };
        // The level is looked up again only after a registry change: a publish must not
        // take the registry's lock just to learn that logging is off.
        let generation = self.gateway.registry.generation();
        let mut cache = self
            .log_level
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let wanted = if cache.0 == generation {
            cache.1
        } else {
            let wanted = crate::iot_log::wanted_level(
                self.gateway.iot_log.as_ref(),
                &self.gateway.registry,
                &self.account,
                &subject,
            );
            *cache = (generation, wanted);
            wanted
        };
        drop(cache);
        if wanted.is_none_or(|w| level > w) {
            return;
        }
        let event = LogEvent {
            level,
            event_type,
            success,
            topic,
            reason,
        };
        crate::iot_log::log(
            self.gateway.iot_log.as_ref(),
            wanted,
            &self.account,
            &subject,
            self.peer.port(),
            self.now(),
            event,
        );
    }

    /// Queues a packet for the client; waits while its queue is full.
    fn send(&self, packet: Packet) -> impl Future<Output = bool> + Send + '_ {
        self.outbox.send_packet(packet)
    }

    /// Closes the connection, telling MQTT 5 clients `code`; `reason` names it in the
    /// lifecycle event.
    fn close(&self, code: ReasonCode, reason: &'static str) {
        self.outbox.close(code, reason);
    }

    fn allows(&self, action: Action, kind: &str, name: &str) -> bool {
        let now = self.now();
        self.auth
            .lock()
            .map(|mut a| a.allows(action, kind, name, now, None))
            .unwrap_or(false)
    }

    /// Handles a PUBLISH; `false` ends the connection.
    async fn on_publish(&mut self, mut publish: Publish) -> bool {
        if publish.qos == QoS::ExactlyOnce {
            // AWS IoT does not support QoS 2.
            self.close(ReasonCode::QoSNotSupported, "CLIENT_ERROR");
            return false;
        }
        // MQTT 5 topic aliases (3.3.2.3.4): a name sets the alias, an empty name uses it.
        let topic: Arc<str> = match publish.properties.topic_alias.map(NonZeroU16::get) {
            Some(alias) if alias > TOPIC_ALIAS_MAXIMUM => {
                self.close(ReasonCode::TopicAliasInvalid, "CLIENT_ERROR");
                return false;
            }
            Some(alias) if publish.topic.is_empty() => match self.aliases.get(&alias) {
                Some(topic) => topic.clone(),
                None => {
                    self.close(ReasonCode::ProtocolError, "CLIENT_ERROR");
                    return false;
                }
            },
            Some(alias) => {
                let topic: Arc<str> = publish.topic.as_str().into();
                self.aliases.insert(alias, topic.clone());
                topic
            }
            None => publish.topic.as_str().into(),
        };
        publish.properties.topic_alias = None;
        if !topic_within_limits(&topic) {
            return self
                .refuse_publish(&publish, ReasonCode::TopicNameInvalid)
                .await;
        }
        if publish.payload.len() > MAX_PAYLOAD_BYTES {
            // No PUBACK reason code says "too large": the connection is closed with 0x95.
            self.close(ReasonCode::PacketTooLarge, "CLIENT_ERROR");
            return false;
        }
        let allowed = self.allows(Action::Publish, "topic", &topic)
            && (!publish.retain || self.allows(Action::RetainPublish, "topic", &topic));
        if let Some(feed) = self.gateway.message_feed() {
            let (account, device) = &self.device.key;
            let bytes = publish.payload.len();
            feed.message(account, device, &self.client_id, &topic, bytes, allowed);
        }
        if !allowed {
            self.device.count(Count::AuthorizationFailure);
            tracing::debug!(client_id = self.client_id, topic = %topic, "iot:Publish denied.");
            self.log(
                LogLevel::Error,
                "Publish-In",
                false,
                Some(&topic),
                Some("AUTHORIZATION_FAILURE"),
            );
            return self
                .refuse_publish(&publish, ReasonCode::NotAuthorized)
                .await;
        }
        let now = self.now();
        self.log(LogLevel::Info, "Publish-In", true, Some(&topic), None);
        self.device.count(Count::MessageSent {
            bytes: publish.payload.len(),
        });
        if topic.starts_with("$aws/things/")
            && crate::reports::handle(&self.gateway, &self.account, &topic, &publish.payload, now)
        {
            if publish.qos == QoS::AtLeastOnce {
                self.send(Packet::PubAck(PubReply {
                    packet_id: publish.packet_id,
                    ..PubReply::default()
                }))
                .await;
            }
            return true;
        }
        if self
            .gateway
            .offer_to_rules(&self.account, &topic, &publish.payload)
        {
            if publish.qos == QoS::AtLeastOnce {
                self.send(Packet::PubAck(PubReply {
                    packet_id: publish.packet_id,
                    ..PubReply::default()
                }))
                .await;
            }
            return true;
        }
        let message = Arc::new(Message {
            topic,
            payload: publish.payload,
            qos: publish.qos,
            retain: publish.retain,
            expires_at_ms: publish
                .properties
                .message_expiry_interval
                .map(|s| now + i64::from(s) * 1000),
            properties: Arc::new(publish.properties),
        });
        let mut writes: Vec<DocumentWrite> =
            self.keep_retained(&message, now).into_iter().collect();
        let routed = self
            .gateway
            .broker
            .route(&self.account, Some(&self.client_id), &message, now);
        writes.extend(routed.writes);
        // Subscribers whose queues are full slow their publishers down (outbox.rs).
        deliver_all(routed.waiting).await;
        // Acknowledged means stored: retained messages and queued copies for offline
        // persistent sessions are committed before the PUBACK.
        if !writes.is_empty()
            && let Err(e) = self.gateway.store.write_documents(&writes).await
        {
            tracing::error!(error = %e, "Cannot store a publish; closing the connection.");
            self.close(ReasonCode::UnspecifiedError, "SERVER_ERROR");
            return false;
        }
        if message.qos == QoS::AtLeastOnce {
            self.send(Packet::PubAck(PubReply {
                packet_id: publish.packet_id,
                ..PubReply::default()
            }))
            .await;
        }
        true
    }

    /// Answers a refused PUBLISH as AWS IoT does: MQTT 5 gets a PUBACK reason code for QoS 1
    /// (QoS 0 is dropped); MQTT 3.1.1 has no way to say no, so the connection is closed.
    async fn refuse_publish(&self, publish: &Publish, reason: ReasonCode) -> bool {
        match self.version {
            ProtocolVersion::V5 => {
                if publish.qos == QoS::AtLeastOnce {
                    self.send(Packet::PubAck(PubReply {
                        packet_id: publish.packet_id,
                        reason_code: reason,
                        properties: Properties::default(),
                    }))
                    .await;
                }
                true
            }
            ProtocolVersion::V311 => {
                self.close(reason, "CLIENT_ERROR");
                false
            }
        }
    }

    async fn on_subscribe(&mut self, subscribe: Subscribe) {
        let mut codes = Vec::with_capacity(subscribe.subscriptions.len());
        let mut retained_for: Vec<(String, SubOptions)> = Vec::new();
        for sub in subscribe.subscriptions {
            let shared = fleetward_mqtt::topic::parse_shared(&sub.filter)
                .ok()
                .flatten();
            let plain = shared.as_ref().map(|s| s.filter).unwrap_or(&sub.filter);
            if !topic_within_limits(plain) {
                codes.push(ReasonCode::TopicFilterInvalid);
                continue;
            }
            if !self.allows(Action::Subscribe, "topicfilter", &sub.filter) {
                self.device.count(Count::AuthorizationFailure);
                self.log(
                    LogLevel::Error,
                    "Subscribe",
                    false,
                    Some(&sub.filter),
                    Some("AUTHORIZATION_FAILURE"),
                );
                codes.push(ReasonCode::NotAuthorized);
                continue;
            }
            let options = SubOptions {
                qos: sub.qos.min(QoS::AtLeastOnce),
                no_local: sub.no_local,
                retain_as_published: sub.retain_as_published,
            };
            let mut state = self.gateway.broker.lock();
            let key = (self.account.clone(), self.client_id.clone());
            let existed = state
                .sessions
                .get_mut(&key)
                .map(|s| {
                    s.subscriptions
                        .insert(sub.filter.clone(), options)
                        .is_some()
                })
                .unwrap_or(false);
            let topics = state.accounts.entry(self.account.clone()).or_default();
            add_subscription(topics, &sub.filter, &self.client_id, options);
            // Retained messages go to new non-shared subscriptions (MQTT 5 3.3.1.3).
            let send_retained = shared.is_none()
                && match sub.retain_handling {
                    RetainHandling::SendAtSubscribe => true,
                    RetainHandling::SendIfNewSubscription => !existed,
                    RetainHandling::DoNotSend => false,
                };
            if send_retained {
                retained_for.push((sub.filter.clone(), options));
            }
            self.log(LogLevel::Info, "Subscribe", true, Some(&sub.filter), None);
            codes.push(match options.qos {
                QoS::AtMostOnce => ReasonCode::Success,
                _ => ReasonCode::GrantedQoS1,
            });
        }
        // A persistent session's subscriptions are stored before the SUBACK.
        if let Some(write) = self.session_write()
            && let Err(e) = self.gateway.store.write_documents(&[write]).await
        {
            tracing::error!(error = %e, "Cannot store an MQTT session.");
        }
        self.send(Packet::SubAck(SubAck {
            packet_id: subscribe.packet_id,
            reason_codes: codes,
            properties: Properties::default(),
        }))
        .await;
        for (filter, options) in retained_for {
            self.send_retained(&filter, options).await;
        }
    }

    /// The write that stores this connection's session, if it is persistent.
    fn session_write(&self) -> Option<DocumentWrite> {
        let state = self.gateway.broker.lock();
        let session = state
            .sessions
            .get(&(self.account.clone(), self.client_id.clone()))?;
        session
            .persistent
            .then(|| durable::put_session(&self.account, &self.client_id, session, self.now()))
    }

    async fn send_retained(&self, filter: &str, options: SubOptions) {
        let now = self.now();
        let matching: Vec<Message> = {
            let state = self.gateway.broker.lock();
            let Some(topics) = state.accounts.get(&self.account) else {
                return;
            };
            topics
                .retained
                .values()
                .filter(|m| fleetward_mqtt::topic::matches(filter, &m.topic))
                .filter(|m| m.expires_at_ms.is_none_or(|t| t > now))
                .cloned()
                .collect()
        };
        for mut message in matching {
            if !self.allows(Action::Receive, "topic", &message.topic) {
                continue;
            }
            message.qos = message.qos.min(options.qos);
            message.retain = true;
            if let Offer::Full(message) = self.outbox.offer(Arc::new(message)) {
                self.outbox.deliver(message).await;
            }
        }
    }

    /// Removes the connection's subscriptions to `filters`; one reason code each.
    fn unsubscribe_all(&self, filters: &[String]) -> Vec<ReasonCode> {
        let mut state = self.gateway.broker.lock();
        let key = (self.account.clone(), self.client_id.clone());
        let mut codes = Vec::with_capacity(filters.len());
        for filter in filters {
            let had = state
                .sessions
                .get_mut(&key)
                .is_some_and(|s| s.subscriptions.remove(filter).is_some());
            if had && let Some(topics) = state.accounts.get_mut(&self.account) {
                remove_subscription(topics, filter, &self.client_id);
            }
            codes.push(if had {
                ReasonCode::Success
            } else {
                ReasonCode::NoSubscriptionExisted
            });
        }
        codes
    }

    async fn on_unsubscribe(&mut self, unsubscribe: Unsubscribe) {
        let codes = self.unsubscribe_all(&unsubscribe.filters);
        if let Some(write) = self.session_write()
            && let Err(e) = self.gateway.store.write_documents(&[write]).await
        {
            tracing::error!(error = %e, "Cannot store an MQTT session.");
        }
        self.send(Packet::UnsubAck(UnsubAck {
            packet_id: unsubscribe.packet_id,
            reason_codes: codes,
            properties: Properties::default(),
        }))
        .await;
    }

    /// Keeps (or, for an empty payload, clears) the retained message of a retained publish;
    /// returns the store write that makes it durable.
    fn keep_retained(&self, message: &Message, now: i64) -> Option<DocumentWrite> {
        if !message.retain {
            return None;
        }
        let mut state = self.gateway.broker.lock();
        let topics = state.accounts.entry(self.account.clone()).or_default();
        if message.payload.is_empty() {
            topics.retained.remove(&*message.topic);
            Some(durable::delete_retained(&self.account, &message.topic))
        } else {
            topics
                .retained
                .insert(message.topic.to_string(), message.clone());
            Some(durable::put_retained(&self.account, message, now))
        }
    }

    /// Publishes the will of a connection that ended without a clean DISCONNECT, if the
    /// client may publish to its topic.
    fn publish_will(&self, will: Will) {
        if !self.allows(Action::Publish, "topic", &will.topic)
            || (will.retain && !self.allows(Action::RetainPublish, "topic", &will.topic))
        {
            return;
        }
        let now = self.now();
        let message = Arc::new(Message {
            topic: will.topic.as_str().into(),
            payload: will.payload,
            qos: will.qos.min(QoS::AtLeastOnce),
            retain: will.retain,
            expires_at_ms: will
                .properties
                .message_expiry_interval
                .map(|s| now + i64::from(s) * 1000),
            properties: Arc::new(will.properties),
        });
        let mut writes: Vec<DocumentWrite> =
            self.keep_retained(&message, now).into_iter().collect();
        let routed = self
            .gateway
            .broker
            .route(&self.account, Some(&self.client_id), &message, now);
        writes.extend(routed.writes);
        durable::write_later(&self.gateway.store, writes);
        if !routed.waiting.is_empty() {
            tokio::spawn(deliver_all(routed.waiting));
        }
    }
}
