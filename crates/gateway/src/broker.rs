//! The broker's shared state: sessions, subscriptions, retained messages, and routing a
//! publish to the sessions that should receive it.
//!
//! Topics are per account, as in AWS IoT: a device only ever sees its own account's topics.
//! All of it sits behind one mutex, held only for in-memory work (never across I/O): a
//! publish is routed by pushing messages into each receiving connection's bounded queue;
//! deliveries to full queues are handed back to the publisher to wait for outside it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use fleetward_mqtt::{Properties, QoS};
use fleetward_policy::Action;

use fleetward_store::DocumentWrite;

use crate::auth::ConnectionAuth;
use crate::durable;
use crate::metrics::{Count, DeviceMeter};
use crate::outbox::{Offer, Outbox};
use crate::subscriptions::{SharedGroup, SubscriptionTree};

/// A message on its way to subscribers.
#[derive(Debug, Clone)]
pub struct Message {
    pub topic: Arc<str>,
    pub payload: Bytes,
    pub qos: QoS,
    pub retain: bool,
    /// MQTT 5 properties that travel with the message (user properties, content type, ...).
    pub properties: Arc<Properties>,
    /// When the message expires (MQTT 5 message expiry), epoch ms.
    pub expires_at_ms: Option<i64>,
}

/// A subscription's options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubOptions {
    pub qos: QoS,
    pub no_local: bool,
    pub retain_as_published: bool,
}

/// A session's live connection.
pub struct LiveConnection {
    pub id: u64,
    /// Where its messages go; also how it is closed from outside (takeover, revocation).
    pub outbox: Arc<Outbox>,
    pub auth: Arc<Mutex<ConnectionAuth>>,
    /// Whose metrics this connection's messages count towards.
    pub device: Arc<DeviceMeter>,
}

/// MQTT session state, kept while connected and, for persistent sessions, after.
pub struct Session {
    pub connection: Option<LiveConnection>,
    pub subscriptions: HashMap<String, SubOptions>,
    /// QoS 1 messages that arrived while offline, with their sequence numbers in the store.
    pub queue: VecDeque<(u64, Arc<Message>)>,
    pub persistent: bool,
    /// For an offline persistent session: when it is discarded, epoch ms.
    pub expires_at_ms: Option<i64>,
}

/// The most QoS 1 messages queued for an offline session; older ones are dropped first.
pub const MAX_QUEUED: usize = 1_000;

#[derive(Default)]
pub struct AccountTopics {
    pub tree: SubscriptionTree<String, SubOptions>,
    /// (share name, filter) -> members.
    pub shared: HashMap<(String, String), SharedGroup<String>>,
    pub retained: BTreeMap<String, Message>,
}

#[derive(Default)]
pub struct BrokerState {
    /// (account, client id) -> session.
    pub sessions: HashMap<(String, String), Session>,
    pub accounts: HashMap<String, AccountTopics>,
}

#[derive(Default)]
pub struct Broker {
    state: Mutex<BrokerState>,
    /// Sequence numbers of queued messages (their store keys).
    pub next_seq: std::sync::atomic::AtomicU64,
}

impl Broker {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, BrokerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Routes a message published in `account` by `sender` (a client id; `None` for
    /// Fleetward's own messages, such as Device Defender report replies).
    pub fn route(
        &self,
        account: &str,
        sender: Option<&str>,
        message: &Arc<Message>,
        now_ms: i64,
    ) -> Routed {
        let mut routed = Routed::default();
        let mut state = self.lock();
        let BrokerState { sessions, accounts } = &mut *state;
        let Some(topics) = accounts.get_mut(account) else {
            return routed;
        };
        // Each session gets the message once, at the highest QoS of its matching filters.
        let mut targets: Vec<(String, QoS)> = Vec::new();
        topics
            .tree
            .for_each_match(&message.topic, |client, options| {
                if options.no_local && sender == Some(client.as_str()) {
                    return;
                }
                match targets.iter_mut().find(|(c, _)| c == client) {
                    Some((_, qos)) => *qos = (*qos).max(options.qos),
                    None => targets.push((client.clone(), options.qos)),
                }
            });
        for ((_, filter), group) in topics.shared.iter_mut() {
            if fleetward_mqtt::topic::matches(filter, &message.topic) {
                let usable = |client: &String| {
                    sessions
                        .get(&(account.to_string(), client.clone()))
                        .is_some_and(|s| s.connection.is_some() || s.persistent)
                };
                if let Some(client) = group.pick(usable)
                    && !targets.iter().any(|(c, _)| *c == client)
                {
                    targets.push((client, QoS::AtLeastOnce));
                }
            }
        }
        // Retain is set only when a retained message is sent because of a new subscription
        // (MQTT-3.3.1-9), so subscribers get a copy without it: one per QoS, shared by all.
        let mut copies: [Option<Arc<Message>>; 3] = [None, None, None];
        let mut key = (account.to_string(), String::new());
        for (client, sub_qos) in targets {
            key.1 = client;
            let Some(session) = sessions.get_mut(&key) else {
                continue;
            };
            let qos = message.qos.min(sub_qos);
            let copy = copies[qos as usize]
                .get_or_insert_with(|| {
                    let mut copy = Message::clone(message);
                    copy.qos = qos;
                    copy.retain = false;
                    Arc::new(copy)
                })
                .clone();
            let target = Target {
                account,
                client_id: &key.1,
                seq: &self.next_seq,
            };
            deliver(&target, session, copy, now_ms, &mut routed);
        }
        routed
    }
}

/// What routing a message left to do outside the broker's lock.
#[derive(Default)]
pub struct Routed {
    /// Store writes that make the queueing for offline persistent sessions durable.
    pub writes: Vec<DocumentWrite>,
    /// Deliveries to live connections whose queues were full: the publisher waits for
    /// room ([`crate::outbox::deliver_all`]).
    pub waiting: Vec<(Arc<Outbox>, Arc<Message>)>,
}

/// Whose session a message is delivered to, and where queue numbers come from.
pub struct Target<'a> {
    pub account: &'a str,
    pub client_id: &'a str,
    pub seq: &'a std::sync::atomic::AtomicU64,
}

/// Hands a message to a session: to its connection if it has one and may receive it, else
/// to its queue if it is persistent and the message is QoS 1 (adding the store writes that
/// keep the queue).
pub fn deliver(
    target: &Target<'_>,
    session: &mut Session,
    message: Arc<Message>,
    now_ms: i64,
    routed: &mut Routed,
) {
    if let Some(connection) = &session.connection {
        let allowed = connection
            .auth
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .allows(Action::Receive, "topic", &message.topic, now_ms, None);
        if !allowed {
            connection.device.count(Count::AuthorizationFailure);
            return;
        }
        connection.device.count(Count::MessageReceived);
        if let Offer::Full(message) = connection.outbox.offer(message) {
            routed.waiting.push((connection.outbox.clone(), message));
        }
        return;
    }
    if session.persistent && message.qos == QoS::AtLeastOnce {
        if session.queue.len() == MAX_QUEUED
            && let Some((old, _)) = session.queue.pop_front()
        {
            routed.writes.push(durable::delete_queued(
                target.account,
                target.client_id,
                old,
            ));
        }
        let seq = target
            .seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        routed.writes.push(durable::put_queued(
            target.account,
            target.client_id,
            seq,
            &message,
            now_ms,
        ));
        session.queue.push_back((seq, message));
    }
}
