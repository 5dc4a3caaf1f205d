//! The HTTP API of Fleetward: one listener, one request pipeline for every AWS service
//! (SigV4 authentication, routing by the service in the credential scope, one error mapping),
//! plus the unauthenticated `/health` and Prometheus `/metrics` endpoints, and SNS's
//! unsigned SubscribeURL, UnsubscribeURL and signing certificate.

mod auth;
mod error;
mod firehose;
mod iot;
mod json_tree;
mod keys;
mod pipeline;
mod route;
mod securityhub;
mod sns;
mod wire;

pub use error::ApiError;
pub use keys::KeyCache;
pub use pipeline::{AppState, router};
