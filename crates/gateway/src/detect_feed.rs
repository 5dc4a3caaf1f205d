//! The live feed Device Defender detect evaluates: every datapoint the gateway records, and
//! (only while detect asks for them) every message a device publishes or is refused, for
//! per-message aws:message-byte-size and TOPIC_FILTER dimensions. Set once at start-up;
//! without it the gateway does nothing more than before.

use std::sync::{Arc, OnceLock};

use fleetward_store::Datapoint;

pub trait DetectFeed: Send + Sync {
    /// A datapoint, as it is handed to the recorder.
    fn datapoint(&self, point: &Datapoint);
    /// Whether [`DetectFeed::message`] is wanted now (an atomic load on the publish path).
    fn wants_messages(&self) -> bool;
    /// A PUBLISH by `device` (its thing, or its client id) on `topic`, allowed or refused.
    fn message(
        &self,
        account: &str,
        device: &str,
        client_id: &str,
        topic: &str,
        bytes: usize,
        authorized: bool,
    );
}

/// Shared by the gateway and its recorder; empty until detect is wired.
pub type FeedSlot = Arc<OnceLock<Arc<dyn DetectFeed>>>;
