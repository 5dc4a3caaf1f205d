//! Device Defender audit (spec `device-defender.md` sections 1 and 5.1): the account audit
//! configuration, on-demand and scheduled audit tasks running the 17 checks (and Fleetward's
//! own, off by default), findings kept 90 days, suppressions, the audit-report notification,
//! and every finding and check summary delivered to the hub as ASFF.
//!
//! State: each account's configuration, tasks, scheduled audits and suppressions live in
//! memory and are written through to the store (one document each) before an operation
//! answers; findings are only in the store, keyed so that a task's, and a check's, findings
//! are one key range. Tasks are durable: a task in progress when the node stopped is resumed
//! at start (its unfinished checks run again), and results not yet delivered to the hub or
//! notified are delivered by the background worker, retried until accepted.

mod admin_docs;
mod asff;
mod background;
pub mod catalog;
mod checks;
mod config;
mod crl;
mod delivery;
mod error;
mod facts;
mod findings;
mod input;
mod inputs;
pub mod keys;
mod model;
mod notify;
mod persist;
mod runner;
mod schedule;
mod scheduled;
mod suppressions;
mod tasks;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use fleetward_hub::Hub;
use fleetward_model::Clock;
use fleetward_registry::{CertId, Registry};
use fleetward_store::Store;

pub use admin_docs::{IamRoleDoc, IdentityPoolDoc, delete as delete_admin_document};
pub use admin_docs::{list as list_admin_documents, put_crl, put_iam_role, put_identity_pool};
pub use error::{AuditError, AuditResult};
pub use fleetward_model::Caller;
pub use notify::{AuditNotifier, RecordingNotifier};

use model::{AccountConfig, ScheduledAudit, Suppression, Task};

/// How an audit node is set up.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// Where the weak-key blocklist files are (`DATA_DIR/openssl-blacklist`).
    pub blocklist_dir: Option<PathBuf>,
    /// The start of console links in hub findings, e.g. `http://127.0.0.1:7440`.
    pub console_base_url: String,
    /// Fetch CRLs from certificates' distribution points over HTTP.
    pub fetch_crls: bool,
    /// How long a fetched CRL is used before it is fetched again (its nextUpdate may be sooner).
    pub crl_refresh_ms: i64,
}

impl Default for AuditOptions {
    fn default() -> Self {
        Self {
            blocklist_dir: None,
            console_base_url: "http://127.0.0.1:7440".into(),
            fetch_crls: true,
            crl_refresh_ms: 24 * 3_600_000,
        }
    }
}

/// One account's audit state.
#[derive(Default)]
struct AccountAudit {
    config: Option<AccountConfig>,
    tasks: BTreeMap<String, Task>,
    scheduled: BTreeMap<String, ScheduledAudit>,
    suppressions: BTreeMap<String, Suppression>,
    /// Check name → the last task whose results of that check reached the hub.
    hub_pointer: BTreeMap<String, String>,
}

/// The audit service of one node.
pub struct Audit {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    region: String,
    registry: Arc<Registry>,
    hub: Arc<Hub>,
    /// Where audit reports go; `None` until a notification service is connected.
    notifier: Option<Arc<dyn AuditNotifier>>,
    options: AuditOptions,
    /// All accounts' state. Changes write the store while holding it, so memory and store
    /// change in the same order.
    state: tokio::sync::Mutex<HashMap<String, AccountAudit>>,
    /// Cancellation flags of running tasks.
    running: Mutex<HashMap<String, Arc<AtomicBool>>>,
    /// Facts of device certificates by id (an id's DER never changes).
    cert_facts: Mutex<HashMap<CertId, Arc<facts::CertFacts>>>,
    blocklist: Mutex<Arc<keys::Blocklist>>,
    /// Wakes the background worker (new results to deliver, schedule changes).
    wake: tokio::sync::Notify,
    /// Hub delivery back-off per account.
    backoff: delivery::Backoff,
    http: reqwest::Client,
}

impl Audit {
    /// Opens the audit service, loading every account's audit state from the store. Call
    /// [`Audit::start`] to resume interrupted tasks and run the background worker.
    pub async fn open(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        region: &str,
        registry: Arc<Registry>,
        hub: Arc<Hub>,
        notifier: Option<Arc<dyn AuditNotifier>>,
        options: AuditOptions,
    ) -> AuditResult<Arc<Self>> {
        let mut accounts = HashMap::new();
        for account in store.list_accounts().await? {
            let id = account.account_id;
            let state = load_account(store.as_ref(), &id).await?;
            accounts.insert(id, state);
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(15))
            .build()
            .map_err(|e| AuditError::Internal(format!("HTTP client: {e}")))?;
        Ok(Arc::new(Self {
            store,
            clock,
            region: region.to_string(),
            registry,
            hub,
            notifier,
            options,
            state: tokio::sync::Mutex::new(accounts),
            running: Mutex::new(HashMap::new()),
            cert_facts: Mutex::new(HashMap::new()),
            blocklist: Mutex::new(Arc::new(keys::Blocklist::default())),
            wake: tokio::sync::Notify::new(),
            backoff: delivery::Backoff::default(),
            http,
        }))
    }

    fn arn(&self, account_id: &str, resource: &str) -> String {
        fleetward_model::arn("iot", &self.region, account_id, resource)
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}

async fn load_account(store: &dyn Store, account_id: &str) -> AuditResult<AccountAudit> {
    let mut state = AccountAudit::default();
    for (_, config) in
        persist::load_all::<AccountConfig>(store, account_id, persist::CONFIG).await?
    {
        state.config = Some(config);
    }
    for (key, task) in persist::load_all::<Task>(store, account_id, persist::TASK).await? {
        state.tasks.insert(key, task);
    }
    for (key, s) in
        persist::load_all::<ScheduledAudit>(store, account_id, persist::SCHEDULED).await?
    {
        state.scheduled.insert(key, s);
    }
    for (key, s) in
        persist::load_all::<Suppression>(store, account_id, persist::SUPPRESSION).await?
    {
        state.suppressions.insert(key, s);
    }
    for (key, task) in persist::load_all::<String>(store, account_id, persist::HUB_POINTER).await? {
        state.hub_pointer.insert(key, task);
    }
    Ok(state)
}
