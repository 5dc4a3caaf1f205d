//! The findings hub: what AWS Security Hub does with ASFF findings, on Fleetward's store.
//!
//! Findings live in the store as JSON; their filterable values also live in memory in a
//! [`index::FindingsIndex`] so that GetFindings, insights and automation rules never scan the
//! database. Small per-account settings (hub state, product subscriptions, automation rules)
//! are cached in memory and written through to the store.

mod action_targets;
mod automation;
mod error;
mod finding_events;
mod findings;
mod hub_state;
mod index;
mod input;
mod insights;
mod paging;
mod products;
mod retention;
mod settings;
mod tags;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use fleetward_model::Clock;
use fleetward_store::Store;

pub use error::{HubError, HubResult};
pub use finding_events::FindingEvents;
pub use products::{DEVICE_DEFENDER_AUDIT, DEVICE_DEFENDER_DETECT};
pub use retention::RetentionReport;

pub use fleetward_model::Caller;

/// The Security Hub service of one Fleetward node.
pub struct Hub {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    region: String,
    settings: settings::SettingsCache,
    index: std::sync::RwLock<index::FindingsIndex>,
    /// Finding writes are serialised: the merge rules read the stored finding and the index
    /// must change in the same order as the store.
    write_lock: tokio::sync::Mutex<()>,
    next_seq: AtomicI64,
    /// Receives every written finding (finding_events.rs); empty until wired.
    events: std::sync::OnceLock<Arc<dyn FindingEvents>>,
}

impl Hub {
    /// Opens the hub, rebuilding the in-memory findings index from the store.
    pub async fn open(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        region: &str,
    ) -> HubResult<Self> {
        let (index, scanned_max) = index::FindingsIndex::load(store.as_ref()).await?;
        // The store's high-water mark also counts deleted findings: a seq is never reused.
        let max_seq = scanned_max.max(store.max_finding_seq().await?);
        Ok(Self {
            settings: settings::SettingsCache::new(store.clone()),
            store,
            clock,
            region: region.to_string(),
            index: std::sync::RwLock::new(index),
            write_lock: tokio::sync::Mutex::new(()),
            next_seq: AtomicI64::new(max_seq + 1),
            events: std::sync::OnceLock::new(),
        })
    }

    /// Wires the receiver of `Security Hub Findings - Imported` events (once, at start-up).
    pub fn set_finding_events(&self, events: Arc<dyn FindingEvents>) {
        let _ = self.events.set(events);
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// Number of findings held, over all accounts.
    pub fn finding_count(&self) -> usize {
        self.read_index().len()
    }

    fn read_index(&self) -> std::sync::RwLockReadGuard<'_, index::FindingsIndex> {
        self.index.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_index(&self) -> std::sync::RwLockWriteGuard<'_, index::FindingsIndex> {
        self.index.write().unwrap_or_else(|p| p.into_inner())
    }

    fn arn(&self, account_id: &str, resource: &str) -> String {
        fleetward_model::arn("securityhub", &self.region, account_id, resource)
    }

    /// Fails with InvalidAccessException unless the caller's account has the hub enabled.
    async fn require_enabled(&self, caller: &Caller) -> HubResult<Arc<settings::AccountSettings>> {
        let settings = self.settings.get(&caller.account_id).await?;
        if settings.hub.is_none() {
            return Err(HubError::not_subscribed(&caller.account_id));
        }
        Ok(settings)
    }
}
