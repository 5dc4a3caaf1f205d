//! Where topic rules see published messages: every PUBLISH a device makes (once allowed) and
//! every message Fleetward publishes itself (detect's metrics export, notifications) is
//! offered to the hook. Set once at start-up; without it the gateway does nothing more.

/// The rules engine's side. `message` runs on the publish path: it must not block or wait
/// on I/O, and should cost one atomic load when no rule is enabled.
pub trait RuleHook: Send + Sync {
    fn message(&self, account: &str, topic: &str, payload: &[u8]);
}
