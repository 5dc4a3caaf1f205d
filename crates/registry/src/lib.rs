//! The IoT registry: things, thing types, thing groups, certificates, CA certificates,
//! policies and their attachments, role aliases and logging options, with the semantics of
//! the AWS `iot` API (botocore `iot` 2015-05-28).
//!
//! Each account's registry lives in memory (the gateway authorizes every MQTT action from it
//! and cannot wait on a database) and is written through to the store: see `persist.rs` for
//! how a change becomes durable before it is acknowledged. Operations are `handle_<operation>`
//! methods taking the operation's input document and returning its output document.

mod audit_view;
mod authorization;
mod certificates;
mod detect_view;
mod error;
mod gateway;
mod groups;
mod input;
mod metric_values;
mod misc;
mod mitigation;
mod names;
mod paging;
mod persist;
mod policies;
mod principals;
mod records;
mod small;
mod state;
#[cfg(test)]
mod tests;
mod things;

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use fleetward_ca::CertificateAuthority;
use fleetward_model::Clock;
use fleetward_store::Store;
use serde_json::Value;

pub use audit_view::{
    AuditCaCertificate, AuditCertificate, AuditLogging, AuditPolicy, AuditRoleAlias, AuditView,
};
pub use authorization::certificate_context;
pub use error::{RegistryError, RegistryResult};
pub use fleetward_model::Caller;
pub use gateway::{DeviceIdentity, LogLevel, LogSubject, PolicySet, Refusal, ThingSnapshot};
pub use records::{CertId, CertStatus};

use persist::{Changes, Writer};
use state::AccountState;

/// Where devices and credential-provider clients connect (DescribeEndpoint).
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// The device gateway's address, e.g. `localhost:8883`.
    pub data: String,
    /// The credentials provider's address (served by the API listener).
    pub credential_provider: String,
}

/// The registry of one Fleetward node.
pub struct Registry {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    region: String,
    ca: Arc<CertificateAuthority>,
    endpoints: Endpoints,
    accounts: RwLock<HashMap<String, AccountState>>,
    writer: Writer,
    /// Bumped after every committed change (see `gateway.rs`).
    generation: tokio::sync::watch::Sender<u64>,
    generation_now: std::sync::atomic::AtomicU64,
}

impl Registry {
    /// Opens the registry, loading every account's records from the store.
    pub async fn open(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        region: &str,
        ca: Arc<CertificateAuthority>,
        endpoints: Endpoints,
    ) -> RegistryResult<Self> {
        let mut accounts = HashMap::new();
        for account in store.list_accounts().await? {
            let state = AccountState::load(store.as_ref(), &account.account_id).await?;
            accounts.insert(account.account_id, state);
        }
        Ok(Self {
            writer: Writer::start(store.clone()),
            store,
            clock,
            region: region.to_string(),
            ca,
            endpoints,
            accounts: RwLock::new(accounts),
            generation: tokio::sync::watch::Sender::new(0),
            generation_now: std::sync::atomic::AtomicU64::new(0),
        })
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn certificate_authority(&self) -> &Arc<CertificateAuthority> {
        &self.ca
    }

    /// Number of things and certificates held, over all accounts.
    pub fn counts(&self) -> (usize, usize) {
        let accounts = self.accounts.read().unwrap_or_else(PoisonError::into_inner);
        accounts.values().fold((0, 0), |(t, c), a| {
            (t + a.things.len(), c + a.certificates.len())
        })
    }

    /// `arn:aws:iot:REGION:ACCOUNT:RESOURCE`.
    fn arn(&self, account_id: &str, resource: &str) -> String {
        fleetward_model::arn("iot", &self.region, account_id, resource)
    }

    /// Runs a read against one account's registry (an account with nothing yet reads as
    /// empty).
    fn read<T>(&self, account_id: &str, f: impl FnOnce(&AccountState) -> T) -> T {
        let accounts = self.accounts.read().unwrap_or_else(PoisonError::into_inner);
        match accounts.get(account_id) {
            Some(state) => f(state),
            None => f(&AccountState::default()),
        }
    }

    /// Runs a change against one account's registry: `f` checks everything first, then
    /// changes memory and records the store writes; the answer waits for their commit.
    /// If the commit fails, the account is reloaded from the store so memory does not keep
    /// a change the store refused.
    async fn mutate<T>(
        &self,
        account_id: &str,
        f: impl FnOnce(&mut AccountState, &mut Changes) -> RegistryResult<T>,
    ) -> RegistryResult<T> {
        let now_ms = self.clock.now_ms();
        let (output, pending) = {
            let mut accounts = self
                .accounts
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let state = accounts.entry(account_id.to_string()).or_default();
            let mut changes = Changes::new(account_id, now_ms);
            let output = f(state, &mut changes)?;
            (output, self.writer.submit(changes.writes))
        };
        if let Err(e) = pending.wait().await {
            tracing::error!(account_id, error = %e, "Registry commit failed; reloading the account.");
            match AccountState::load(self.store.as_ref(), account_id).await {
                Ok(fresh) => {
                    let mut accounts = self
                        .accounts
                        .write()
                        .unwrap_or_else(PoisonError::into_inner);
                    accounts.insert(account_id.to_string(), fresh);
                }
                Err(reload) => {
                    tracing::error!(account_id, error = %reload, "Registry reload failed.");
                }
            }
            self.bump_generation();
            return Err(e);
        }
        self.bump_generation();
        Ok(output)
    }
}

/// AWS `iot` JSON timestamps are epoch seconds with a fraction.
fn epoch_seconds(ms: i64) -> Value {
    serde_json::Number::from_f64(ms as f64 / 1000.0)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
