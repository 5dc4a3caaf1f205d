//! The device gateway: where devices connect, over MQTT with mutual TLS, as they would to AWS
//! IoT Core. A device is let in only with a registered, ACTIVE certificate (by SHA-256
//! fingerprint, the AWS certificate id), and every action is decided by its IoT policies.

mod auth;
mod broker;
mod connection;
mod detect_feed;
mod durable;
mod events;
mod gateway;
mod iot_log;
mod limits;
mod metrics;
mod outbox;
mod reports;
mod rule_hook;
mod subscriptions;
mod tls;
mod wire_io;

pub use detect_feed::DetectFeed;
pub use gateway::{Gateway, GatewayConfig};
pub use rule_hook::RuleHook;
pub use subscriptions::{SharedGroup, SubscriptionTree};
pub use tls::{RegistryClientVerifier, server_config};
