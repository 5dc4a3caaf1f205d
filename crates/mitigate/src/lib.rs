//! Device Defender mitigation actions (spec `device-defender.md` section 4 and the
//! mitigation operations of 5.1): the six action types, applied for real to the registry
//! (which the gateway follows) and to SNS topics; audit mitigation tasks over audit findings
//! and detect mitigation tasks over detect violations.
//!
//! State: each account's actions and tasks live in memory and are written through to the
//! store (one document each) before an operation answers; executions are only in the store,
//! one document per finding (or violation) of a task, so that a task's are one key range.
//! Tasks are durable: a task in progress when the node stopped resumes at start from its
//! stored cursor (effects are idempotent, so a repeated batch changes nothing twice).

mod action_ops;
mod actions;
mod applicability;
mod audit_runner;
mod audit_source;
mod audit_tasks;
mod detect_runner;
mod detect_tasks;
mod effects;
mod error;
mod input;
mod model;
mod persist;
mod retention;
mod sources;
mod task_kind;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use fleetward_model::Clock;
use fleetward_registry::Registry;
use fleetward_store::Store;

pub use actions::{ActionParams, ActionType};
pub use applicability::{allowed_for_check, allowed_for_violations};
pub use audit_source::AuditFindings;
pub use effects::BLANK_POLICY;
pub use error::{MitigateError, MitigateResult};
pub use fleetward_model::Caller;
pub use sources::{
    AuditTaskInfo, Finding, FindingSource, MemoryViolations, PublishError, RecordingPublisher,
    TopicPublisher, Violation, ViolationSource,
};

use actions::StoredAction;
use model::{AuditTask, DetectTask, TaskStatus};

/// (account, task id).
type TaskRef = (String, String);

/// How mitigation runs.
#[derive(Debug, Clone)]
pub struct MitigateOptions {
    /// Findings read and acted on per batch (one registry commit per action per batch).
    pub batch: usize,
}

impl Default for MitigateOptions {
    fn default() -> Self {
        Self { batch: 250 }
    }
}

/// One account's mitigation state.
#[derive(Default)]
struct AccountState {
    actions: BTreeMap<String, StoredAction>,
    audit_tasks: BTreeMap<String, AuditTask>,
    detect_tasks: BTreeMap<String, DetectTask>,
}

/// The mitigation service of one node.
pub struct Mitigate {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    region: String,
    registry: Arc<Registry>,
    findings: Arc<dyn FindingSource>,
    /// Detect's violations; `None` until detect is connected.
    violations: RwLock<Option<Arc<dyn ViolationSource>>>,
    publisher: Option<Arc<dyn TopicPublisher>>,
    options: MitigateOptions,
    /// All accounts' state. Changes write the store while holding it, so memory and store
    /// change in the same order.
    state: tokio::sync::Mutex<HashMap<String, AccountState>>,
}

impl Mitigate {
    /// Opens the service, loading every account's actions and tasks. Call
    /// [`Mitigate::start`] to resume tasks that were in progress.
    pub async fn open(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        region: &str,
        registry: Arc<Registry>,
        findings: Arc<dyn FindingSource>,
        publisher: Option<Arc<dyn TopicPublisher>>,
        options: MitigateOptions,
    ) -> MitigateResult<Arc<Self>> {
        let mut accounts = HashMap::new();
        for account in store.list_accounts().await? {
            let id = account.account_id;
            let mut state = AccountState::default();
            for a in persist::load_all::<StoredAction>(store.as_ref(), &id, persist::ACTION).await?
            {
                state.actions.insert(a.name.clone(), a);
            }
            for t in
                persist::load_all::<AuditTask>(store.as_ref(), &id, persist::AUDIT_TASK).await?
            {
                state.audit_tasks.insert(t.task_id.clone(), t);
            }
            for t in
                persist::load_all::<DetectTask>(store.as_ref(), &id, persist::DETECT_TASK).await?
            {
                state.detect_tasks.insert(t.task_id.clone(), t);
            }
            accounts.insert(id, state);
        }
        Ok(Arc::new(Self {
            store,
            clock,
            region: region.to_string(),
            registry,
            findings,
            violations: RwLock::new(None),
            publisher,
            options,
            state: tokio::sync::Mutex::new(accounts),
        }))
    }

    /// Connects detect's violations (detect mitigation tasks need them).
    pub fn set_violation_source(&self, source: Arc<dyn ViolationSource>) {
        *self.violations.write().unwrap_or_else(|p| p.into_inner()) = Some(source);
    }

    fn violation_source(&self) -> Option<Arc<dyn ViolationSource>> {
        self.violations
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Resumes every task that was in progress when the node stopped.
    pub async fn start(self: &Arc<Self>) {
        let (audit, detect): (Vec<TaskRef>, Vec<TaskRef>) = {
            let all = self.state.lock().await;
            let mut audit = Vec::new();
            let mut detect = Vec::new();
            for (account, state) in all.iter() {
                for t in state.audit_tasks.values() {
                    if t.status == TaskStatus::InProgress {
                        audit.push((account.clone(), t.task_id.clone()));
                    }
                }
                for t in state.detect_tasks.values() {
                    if t.status == TaskStatus::InProgress {
                        detect.push((account.clone(), t.task_id.clone()));
                    }
                }
            }
            (audit, detect)
        };
        for (account, task) in audit {
            tracing::info!(%account, %task, "Resuming audit mitigation task.");
            self.spawn_audit_task(&account, &task);
        }
        for (account, task) in detect {
            tracing::info!(%account, %task, "Resuming detect mitigation task.");
            self.spawn_detect_task(&account, &task);
        }
        self.spawn_retention();
    }

    fn arn(&self, account_id: &str, resource: &str) -> String {
        fleetward_model::arn("iot", &self.region, account_id, resource)
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}
