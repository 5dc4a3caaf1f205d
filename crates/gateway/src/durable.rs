//! What of the broker survives a restart: persistent sessions (their subscriptions and the
//! QoS 1 messages queued for them while offline) and retained messages, each a store
//! document. Changes a client is told about (PUBACK, SUBACK) are committed first; the rest
//! (wills, report replies, dequeues) are written in the background.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use fleetward_mqtt::{PayloadFormat, Properties, QoS};
use fleetward_store::{Document, DocumentWrite, Store};
use serde::{Deserialize, Serialize};

use crate::broker::{BrokerState, Message, Session, SubOptions};

pub const SESSION: &str = "mqtt.session";
/// Key `CLIENT_ID|SEQ` (SEQ zero-padded, so keys sort in queue order).
pub const QUEUED: &str = "mqtt.queued";
/// Key: the topic.
pub const RETAINED: &str = "mqtt.retained";

#[derive(Serialize, Deserialize)]
struct StoredSession {
    subscriptions: Vec<StoredSubscription>,
    #[serde(default)]
    expires_at_ms: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct StoredSubscription {
    filter: String,
    qos: u8,
    no_local: bool,
    retain_as_published: bool,
}

/// A message with the MQTT 5 properties that travel with it.
#[derive(Serialize, Deserialize)]
struct StoredMessage {
    topic: String,
    payload: String,
    qos: u8,
    retain: bool,
    #[serde(default)]
    expires_at_ms: Option<i64>,
    #[serde(default)]
    user_properties: Vec<(String, String)>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    response_topic: Option<String>,
    #[serde(default)]
    correlation_data: Option<String>,
    #[serde(default)]
    utf8_payload: bool,
}

fn doc(account: &str, kind: &str, key: &str, body: String, now_ms: i64) -> DocumentWrite {
    DocumentWrite::Put(Document {
        account_id: account.to_string(),
        kind: kind.to_string(),
        key: key.to_string(),
        body,
        created_ms: now_ms,
        updated_ms: now_ms,
    })
}

fn delete(account: &str, kind: &str, key: &str) -> DocumentWrite {
    DocumentWrite::Delete {
        account_id: account.to_string(),
        kind: kind.to_string(),
        key: key.to_string(),
    }
}

pub fn queued_key(client_id: &str, seq: u64) -> String {
    format!("{client_id}|{seq:020}")
}

fn encode_message(message: &Message) -> String {
    let p = &message.properties;
    let stored = StoredMessage {
        topic: message.topic.to_string(),
        payload: STANDARD.encode(&message.payload),
        qos: message.qos as u8,
        retain: message.retain,
        expires_at_ms: message.expires_at_ms,
        user_properties: p.user_properties.clone(),
        content_type: p.content_type.clone(),
        response_topic: p.response_topic.clone(),
        correlation_data: p.correlation_data.as_ref().map(|d| STANDARD.encode(d)),
        utf8_payload: p.payload_format_indicator == Some(PayloadFormat::Utf8),
    };
    serde_json::to_string(&stored).expect("messages serialise")
}

fn decode_message(body: &str) -> Option<Message> {
    let stored: StoredMessage = serde_json::from_str(body).ok()?;
    let properties = Properties {
        user_properties: stored.user_properties,
        content_type: stored.content_type,
        response_topic: stored.response_topic,
        correlation_data: stored
            .correlation_data
            .and_then(|d| STANDARD.decode(d).ok())
            .map(Bytes::from),
        payload_format_indicator: stored.utf8_payload.then_some(PayloadFormat::Utf8),
        ..Properties::default()
    };
    Some(Message {
        topic: stored.topic.as_str().into(),
        payload: Bytes::from(STANDARD.decode(stored.payload).ok()?),
        qos: QoS::from_bits(stored.qos)?,
        retain: stored.retain,
        properties: Arc::new(properties),
        expires_at_ms: stored.expires_at_ms,
    })
}

/// The write that stores a queued message.
pub fn put_queued(
    account: &str,
    client_id: &str,
    seq: u64,
    message: &Message,
    now_ms: i64,
) -> DocumentWrite {
    doc(
        account,
        QUEUED,
        &queued_key(client_id, seq),
        encode_message(message),
        now_ms,
    )
}

pub fn delete_queued(account: &str, client_id: &str, seq: u64) -> DocumentWrite {
    delete(account, QUEUED, &queued_key(client_id, seq))
}

pub fn put_retained(account: &str, message: &Message, now_ms: i64) -> DocumentWrite {
    doc(
        account,
        RETAINED,
        &message.topic,
        encode_message(message),
        now_ms,
    )
}

pub fn delete_retained(account: &str, topic: &str) -> DocumentWrite {
    delete(account, RETAINED, topic)
}

/// The write that stores a persistent session's subscriptions and expiry.
pub fn put_session(
    account: &str,
    client_id: &str,
    session: &Session,
    now_ms: i64,
) -> DocumentWrite {
    let stored = StoredSession {
        subscriptions: session
            .subscriptions
            .iter()
            .map(|(filter, o)| StoredSubscription {
                filter: filter.clone(),
                qos: o.qos as u8,
                no_local: o.no_local,
                retain_as_published: o.retain_as_published,
            })
            .collect(),
        expires_at_ms: session.expires_at_ms,
    };
    doc(
        account,
        SESSION,
        client_id,
        serde_json::to_string(&stored).expect("sessions serialise"),
        now_ms,
    )
}

pub fn delete_session(account: &str, client_id: &str) -> DocumentWrite {
    delete(account, SESSION, client_id)
}

/// Writes in the background, logging a failure (for changes nobody was promised).
pub fn write_later(store: &Arc<dyn Store>, writes: Vec<DocumentWrite>) {
    if writes.is_empty() {
        return;
    }
    let store = store.clone();
    tokio::spawn(async move {
        if let Err(e) = store.write_documents(&writes).await {
            tracing::error!(error = %e, "Cannot store MQTT session state.");
        }
    });
}

/// Rebuilds offline persistent sessions, their queues and retained messages from the store;
/// returns the highest queue sequence number seen.
pub async fn restore(
    store: &dyn Store,
    state: &mut BrokerState,
    now_ms: i64,
) -> Result<u64, String> {
    let mut max_seq = 0;
    for account in store.list_accounts().await.map_err(|e| e.to_string())? {
        let account_id = account.account_id;
        for d in all(store, &account_id, RETAINED).await? {
            if let Some(message) = decode_message(&d.body) {
                let topics = state.accounts.entry(account_id.clone()).or_default();
                topics.retained.insert(d.key.clone(), message);
            }
        }
        let mut queues: HashMap<String, VecDeque<(u64, Arc<Message>)>> = HashMap::new();
        for d in all(store, &account_id, QUEUED).await? {
            let Some((client, seq)) = d.key.rsplit_once('|') else {
                continue;
            };
            let (Ok(seq), Some(message)) = (seq.parse::<u64>(), decode_message(&d.body)) else {
                continue;
            };
            max_seq = max_seq.max(seq);
            queues
                .entry(client.to_string())
                .or_default()
                .push_back((seq, Arc::new(message)));
        }
        for d in all(store, &account_id, SESSION).await? {
            let Ok(stored) = serde_json::from_str::<StoredSession>(&d.body) else {
                continue;
            };
            let client_id = d.key.clone();
            let mut session = Session {
                connection: None,
                subscriptions: HashMap::new(),
                queue: queues.remove(&client_id).unwrap_or_default(),
                persistent: true,
                // A session that was live when the node stopped starts its expiry now.
                expires_at_ms: Some(stored.expires_at_ms.unwrap_or(now_ms + 3_600_000)),
            };
            let topics = state.accounts.entry(account_id.clone()).or_default();
            for sub in stored.subscriptions {
                let options = SubOptions {
                    qos: QoS::from_bits(sub.qos).unwrap_or(QoS::AtMostOnce),
                    no_local: sub.no_local,
                    retain_as_published: sub.retain_as_published,
                };
                crate::connection::add_subscription(topics, &sub.filter, &client_id, options);
                session.subscriptions.insert(sub.filter, options);
            }
            state
                .sessions
                .insert((account_id.clone(), client_id), session);
        }
    }
    Ok(max_seq)
}

async fn all(store: &dyn Store, account: &str, kind: &str) -> Result<Vec<Document>, String> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list_documents_page(account, kind, after.as_deref(), 5_000)
            .await
            .map_err(|e| e.to_string())?;
        let full = page.len() == 5_000;
        after = page.last().map(|d| d.key.clone());
        out.extend(page);
        if !full {
            return Ok(out);
        }
    }
}
