//! What is stored: one document per topic, per subscription, per pending message, and small
//! progress documents of the outbox. Names, not ARNs, are stored, so a document never
//! repeats its account.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Key: the topic name.
pub const TOPIC: &str = "sns.topic";
/// Key: the subscription id (the UUID that ends its ARN).
pub const SUBSCRIPTION: &str = "sns.subscription";
/// Key: the message's outbox sequence number, zero-padded (keys sort in publish order).
pub const MESSAGE: &str = "sns.message";
/// Key `SEQ|SUBSCRIPTION-ID`: this target of the message is finished (delivered or given up).
pub const DONE: &str = "sns.done";
/// Key `SEQ|SUBSCRIPTION-ID`: failed attempts so far and when the next one is due.
pub const RETRY: &str = "sns.retry";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicRecord {
    pub name: String,
    /// Attributes the owner set (DisplayName, Policy, DeliveryPolicy, SignatureVersion).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// In the order they were first set.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// Subscriptions removed since the topic was created (SubscriptionsDeleted).
    #[serde(default)]
    pub subscriptions_deleted: u64,
    pub created_ms: i64,
}

/// Delivery status of a subscription (Fleetward's own subscription attributes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryStats {
    /// Messages delivered.
    pub succeeded: u64,
    /// Messages given up after the retry budget was spent.
    pub failed: u64,
    /// Attempts that failed (each retried one counts).
    pub failed_attempts: u64,
    /// `SUCCESS`, `RETRYING` or `FAILURE`; empty before the first attempt.
    #[serde(default)]
    pub last_status: String,
    #[serde(default)]
    pub last_attempt_ms: i64,
    /// Why the last failed attempt failed (status code, connection error...).
    #[serde(default)]
    pub last_error: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionRecord {
    pub id: String,
    pub topic: String,
    pub protocol: String,
    pub endpoint: String,
    pub confirmed: bool,
    /// The confirmation token while the subscription is pending, then kept so that a second
    /// ConfirmSubscription with it answers the same ARN.
    pub token: String,
    pub token_expires_ms: i64,
    #[serde(default)]
    pub confirmation_authenticated: bool,
    #[serde(default)]
    pub authenticate_on_unsubscribe: bool,
    /// Proves an unsigned unsubscribe request came from a message we sent.
    pub unsubscribe_token: String,
    /// Attributes the owner set (RawMessageDelivery, DeliveryPolicy).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub stats: DeliveryStats,
    pub created_ms: i64,
}

impl SubscriptionRecord {
    pub fn raw_delivery(&self) -> bool {
        self.attributes
            .get("RawMessageDelivery")
            .is_some_and(|v| v == "true")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageKind {
    Notification,
    SubscriptionConfirmation,
}

impl MessageKind {
    pub fn type_name(self) -> &'static str {
        match self {
            Self::Notification => "Notification",
            Self::SubscriptionConfirmation => "SubscriptionConfirmation",
        }
    }
}

/// A message attribute as Publish took it; binary values base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageAttribute {
    pub name: String,
    pub data_type: String,
    pub value: String,
}

/// A message in the outbox, with the subscriptions it goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub kind: MessageKind,
    pub topic: String,
    pub message_id: String,
    #[serde(default)]
    pub subject: Option<String>,
    pub message: String,
    /// MessageStructure=json: the message per protocol (`default` for the rest).
    #[serde(default)]
    pub per_protocol: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub attributes: Vec<MessageAttribute>,
    pub timestamp_ms: i64,
    /// SubscriptionConfirmation: the token.
    #[serde(default)]
    pub token: Option<String>,
    /// Subscription ids.
    pub targets: Vec<String>,
}

impl MessageRecord {
    /// The text a subscription of `protocol` receives.
    pub fn message_for(&self, protocol: &str) -> &str {
        self.per_protocol
            .as_ref()
            .and_then(|m| m.get(protocol).or_else(|| m.get("default")))
            .map(String::as_str)
            .unwrap_or(&self.message)
    }
}

/// Retry progress of one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryRecord {
    pub failures: u64,
    pub next_ms: i64,
}

pub fn message_key(seq: u64) -> String {
    format!("{seq:020}")
}

pub fn target_key(seq: u64, subscription_id: &str) -> String {
    format!("{seq:020}|{subscription_id}")
}

/// Splits a [`target_key`].
pub fn parse_target_key(key: &str) -> Option<(u64, &str)> {
    let (seq, id) = key.split_once('|')?;
    Some((seq.parse().ok()?, id))
}

pub fn encode<T: Serialize>(record: &T) -> String {
    serde_json::to_string(record).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structured_messages_pick_the_protocol_then_default() {
        let mut record = MessageRecord {
            kind: MessageKind::Notification,
            topic: "t".into(),
            message_id: "m".into(),
            subject: None,
            message: "plain".into(),
            per_protocol: None,
            attributes: vec![],
            timestamp_ms: 0,
            token: None,
            targets: vec![],
        };
        assert_eq!(record.message_for("http"), "plain");
        record.per_protocol = Some(BTreeMap::from([
            ("default".to_string(), "d".to_string()),
            ("https".to_string(), "s".to_string()),
        ]));
        assert_eq!(record.message_for("https"), "s");
        assert_eq!(record.message_for("http"), "d");
    }

    #[test]
    fn target_keys_round_trip_and_sort_by_sequence() {
        let key = target_key(42, "abc");
        assert_eq!(parse_target_key(&key), Some((42, "abc")));
        assert!(message_key(9) < message_key(10));
        assert_eq!(parse_target_key("x"), None);
    }
}
