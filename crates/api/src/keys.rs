//! Access keys for SigV4, read from the store and cached briefly so that a request does not
//! cost a database round trip; a revoked key stops working within `ttl`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fleetward_model::Clock;
use fleetward_store::Store;

/// A usable key: the secret to verify with and the account it acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedKey {
    pub secret_access_key: String,
    pub account_id: String,
}

pub struct KeyCache {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ttl_ms: i64,
    entries: Mutex<HashMap<String, (i64, Option<ResolvedKey>)>>,
}

impl KeyCache {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, ttl_ms: i64) -> Self {
        Self {
            store,
            clock,
            ttl_ms,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The active key with this id, if any. Unknown and inactive keys are cached too, so a
    /// flood of bad keys cannot turn into a flood of queries.
    pub async fn resolve(&self, access_key_id: &str) -> Result<Option<ResolvedKey>, String> {
        let now = self.clock.now_ms();
        if let Some((fetched, key)) = self.lock().get(access_key_id)
            && now - fetched < self.ttl_ms
        {
            return Ok(key.clone());
        }
        let row = self
            .store
            .get_access_key(access_key_id)
            .await
            .map_err(|e| e.to_string())?;
        let key = row.filter(|r| r.status == "Active").map(|r| ResolvedKey {
            secret_access_key: r.secret_access_key,
            account_id: r.account_id,
        });
        let mut entries = self.lock();
        if entries.len() > 10_000 {
            entries.clear();
        }
        entries.insert(access_key_id.to_string(), (now, key.clone()));
        Ok(key)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i64, Option<ResolvedKey>)>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
