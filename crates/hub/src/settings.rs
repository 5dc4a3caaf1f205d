//! Per-account settings (hub state, product subscriptions, automation rules), read from the
//! store once and then served from memory; every change is written to the store first.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use fleetward_store::{Document, Store};
use serde::{Deserialize, Serialize};

use crate::automation::Rule;
use crate::error::HubResult;

pub const KIND_HUB: &str = "securityhub.hub";
pub const KIND_SUBSCRIPTION: &str = "securityhub.product-subscription";
pub const KIND_RULE: &str = "securityhub.automation-rule";
pub const HUB_KEY: &str = "default";

/// What EnableSecurityHub created.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct HubState {
    pub hub_arn: String,
    pub subscribed_at_ms: i64,
    pub auto_enable_controls: bool,
    pub control_finding_generator: String,
}

#[derive(Clone, Default)]
pub struct AccountSettings {
    pub hub: Option<HubState>,
    /// Product ARN → product subscription ARN.
    pub subscriptions: BTreeMap<String, String>,
    /// In evaluation order: RuleOrder, then the earlier UpdatedAt.
    pub rules: Vec<Arc<Rule>>,
}

pub struct SettingsCache {
    store: Arc<dyn Store>,
    cache: RwLock<HashMap<String, Arc<AccountSettings>>>,
    /// Serialises read-modify-write of one account's settings (limits, conflicts).
    pub write_lock: tokio::sync::Mutex<()>,
}

impl SettingsCache {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            cache: RwLock::new(HashMap::new()),
            write_lock: tokio::sync::Mutex::new(()),
        }
    }

    pub async fn get(&self, account_id: &str) -> HubResult<Arc<AccountSettings>> {
        if let Some(found) = self.read().get(account_id) {
            return Ok(found.clone());
        }
        let loaded = Arc::new(self.load(account_id).await?);
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        Ok(cache
            .entry(account_id.to_string())
            .or_insert(loaded)
            .clone())
    }

    /// Replaces the cached settings after the store was changed.
    pub fn replace(&self, account_id: &str, settings: AccountSettings) {
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        cache.insert(account_id.to_string(), Arc::new(settings));
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<AccountSettings>>> {
        self.cache.read().unwrap_or_else(|p| p.into_inner())
    }

    async fn load(&self, account_id: &str) -> HubResult<AccountSettings> {
        let hub = self
            .store
            .get_document(account_id, KIND_HUB, HUB_KEY)
            .await?
            .and_then(|doc| serde_json::from_str(&doc.body).ok());
        let subscriptions = self
            .store
            .list_documents(account_id, KIND_SUBSCRIPTION)
            .await?
            .into_iter()
            .map(|doc| (doc.key, doc.body))
            .collect();
        let mut rules = Vec::new();
        for doc in self.store.list_documents(account_id, KIND_RULE).await? {
            match Rule::from_document(&doc.body) {
                Ok(rule) => rules.push(Arc::new(rule)),
                Err(e) => {
                    tracing::error!(rule = %doc.key, error = %e, "Stored automation rule is unreadable; skipped.")
                }
            }
        }
        crate::automation::sort_rules(&mut rules);
        Ok(AccountSettings {
            hub,
            subscriptions,
            rules,
        })
    }
}

/// A document row for `account_id` with both timestamps at `now_ms`.
pub fn document(account_id: &str, kind: &str, key: &str, body: String, now_ms: i64) -> Document {
    Document {
        account_id: account_id.to_string(),
        kind: kind.to_string(),
        key: key.to_string(),
        body,
        created_ms: now_ms,
        updated_ms: now_ms,
    }
}
