//! Notification topics: the SNS role of Fleetward.
//!
//! Topics and subscriptions per account live in memory and are written through to the store
//! (acknowledged only after commit). Publish, and [`Events::publish_internal`] for audit,
//! detect and mitigation, commit the message to a durable outbox before answering; delivery
//! jobs then send it to each confirmed subscription and retry failures by the SNS delivery
//! policy, surviving restarts. Protocols: `http`/`https` (the SNS confirmation handshake and
//! signed JSON documents), `mqtt` (a topic on the device gateway, through [`MqttSink`]) and
//! `file` (JSON lines under `DATA_DIR/notifications`).
//!
//! Layout: `service` (start-up, shared checks), `topics`, `subscriptions`, `publish` (the
//! operations), `outbox` (delivery and retries), `envelope` (SNS documents and strings to
//! sign), `signing` (the RSA signing key and its certificate), `sinks` (HTTP, MQTT, files),
//! `delivery_policy`, `attributes`, `validate`, `records` and `persist` (what is stored).

mod arn;
mod attributes;
mod delivery_policy;
mod envelope;
mod error;
mod outbox;
mod persist;
mod publish;
mod records;
mod service;
mod signing;
mod signing_pool;
mod sinks;
mod state;
mod subscriptions;
mod topics;
mod validate;

#[cfg(test)]
mod tests;

pub use error::{SnsError, SnsResult};
pub use publish::PublishInput;
pub use service::{Events, EventsConfig};
pub use signing::{
    CERT_FILE as SIGNING_CERT_FILE, KEY_FILE as SIGNING_KEY_FILE, SignatureVersion, Signer,
};
pub use sinks::{FirehoseSink, MqttSink};
pub use subscriptions::{PENDING_CONFIRMATION, PENDING_IN_LISTS, SubscriptionSummary};
pub use validate::AttributeInput;
