//! What audit and detect mitigation tasks have in common: the `taskId` and paging inputs,
//! the idempotent start, describe and cancel over one account's tasks of a kind, and the
//! offset-paged answers. The kind-specific parts (targets, plans, statistics, listings
//! with their own filters) stay in `audit_tasks.rs` and `detect_tasks.rs`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::error::{MitigateError, MitigateResult, invalid, not_found};
use crate::input::{check_name, opt_str, req_str, req_timestamp};
use crate::model::{AuditTask, DetectTask, Execution, TaskStatus};
use crate::{AccountState, Caller, Mitigate, persist};

/// One kind of mitigation task, as the shared operations need to see it.
pub(crate) trait TaskKind: Clone + Serialize {
    /// The kind as the messages name it ("audit" or "detect"), also the metrics label.
    const NAME: &'static str;
    /// The kind with its article, starting a sentence ("An audit", "A detect").
    const A_NAME: &'static str;
    /// The store document kind the tasks are kept under.
    const DOC_KIND: &'static str;
    /// AWS quota: tasks of this kind running at once (spec 6).
    const MAX_RUNNING: usize;

    fn tasks(state: &AccountState) -> &BTreeMap<String, Self>;
    fn tasks_mut(state: &mut AccountState) -> &mut BTreeMap<String, Self>;
    fn task_id(&self) -> &str;
    fn client_request_token(&self) -> &str;
    fn status(&self) -> TaskStatus;
    /// The status as this kind's API spells it.
    fn status_str(&self) -> &'static str;
    /// Marks the task canceled at `now_ms`; its runner stops at the next batch.
    fn cancel(&mut self, now_ms: i64);
}

/// Both task structs have the same fields for what the trait reads; only the names, the
/// map they live in and the status spelling differ.
macro_rules! task_kind {
    ($task:ty, $name:literal, $a_name:literal, $doc_kind:expr, $max:literal, $map:ident, $status_str:ident) => {
        impl TaskKind for $task {
            const NAME: &'static str = $name;
            const A_NAME: &'static str = $a_name;
            const DOC_KIND: &'static str = $doc_kind;
            const MAX_RUNNING: usize = $max;

            fn tasks(state: &AccountState) -> &BTreeMap<String, Self> {
                &state.$map
            }
            fn tasks_mut(state: &mut AccountState) -> &mut BTreeMap<String, Self> {
                &mut state.$map
            }
            fn task_id(&self) -> &str {
                &self.task_id
            }
            fn client_request_token(&self) -> &str {
                &self.client_request_token
            }
            fn status(&self) -> TaskStatus {
                self.status
            }
            fn status_str(&self) -> &'static str {
                self.status.$status_str()
            }
            fn cancel(&mut self, now_ms: i64) {
                self.status = TaskStatus::Canceled;
                self.cancel_requested = true;
                self.end_ms = Some(now_ms);
            }
        }
    };
}

// (task, names, document kind, AWS quota of tasks running at once, state map, status spelling)
task_kind!(
    AuditTask,
    "audit",
    "An audit",
    persist::AUDIT_TASK,
    10,
    audit_tasks,
    audit_str
);
task_kind!(
    DetectTask,
    "detect",
    "A detect",
    persist::DETECT_TASK,
    5,
    detect_tasks,
    detect_str
);

/// The required `taskId` member.
pub(crate) fn task_id(input: &Value) -> MitigateResult<&str> {
    let id = req_str(input, "taskId")?;
    check_name("taskId", id, 128, false)?;
    Ok(id)
}

fn task_not_found<T: TaskKind>(id: &str) -> MitigateError {
    not_found(format!(
        "The {} mitigation actions task {id} does not exist.",
        T::NAME
    ))
}

/// A retried start with the same token answers as the first did; another request for the
/// same task id is refused.
pub(crate) fn same_request<T: TaskKind>(
    existing: &T,
    token: &str,
    id: &str,
) -> MitigateResult<Value> {
    if existing.client_request_token() == token {
        Ok(json!({"taskId": id}))
    } else {
        Err(MitigateError::TaskAlreadyExists(format!(
            "{} mitigation actions task with id {id} already exists.",
            T::A_NAME
        )))
    }
}

/// A start's early answer, from the state it holds the lock of, when a task with this id
/// already exists (see [`same_request`]).
pub(crate) fn existing_start<T: TaskKind>(
    state: Option<&AccountState>,
    id: &str,
    token: &str,
) -> Option<MitigateResult<Value>> {
    let existing = T::tasks(state?).get(id)?;
    Some(same_request(existing, token, id))
}

/// The required `startTime` and `endTime` of a task listing, in order.
pub(crate) fn time_range(input: &Value) -> MitigateResult<(i64, i64)> {
    let start = req_timestamp(input, "startTime")?;
    let end = req_timestamp(input, "endTime")?;
    if end < start {
        return Err(invalid("endTime must not be before startTime."));
    }
    Ok((start, end))
}

/// A `nextToken` that is an offset into the full result (0 without one).
pub(crate) fn offset_token(input: &Value) -> MitigateResult<usize> {
    match opt_str(input, "nextToken")? {
        Some(t) => t
            .parse()
            .map_err(|_| invalid("The nextToken is not valid.")),
        None => Ok(0),
    }
}

/// `limit` items from `offset` as the `member` list, with the next offset as `nextToken`
/// when more follow.
pub(crate) fn offset_page<T>(
    items: &[T],
    offset: usize,
    limit: usize,
    member: &str,
    show: impl Fn(&T) -> Value,
) -> Value {
    let page: Vec<Value> = items.iter().skip(offset).take(limit).map(show).collect();
    let mut out = json!({ member: page });
    if offset + limit < items.len() {
        out["nextToken"] = json!((offset + limit).to_string());
    }
    out
}

/// Adds an execution's `errorCode` and `message`, where it has them, to its row.
pub(crate) fn add_execution_error(row: &mut Value, execution: &Execution) {
    if let Some(c) = &execution.error_code {
        row["errorCode"] = json!(c);
    }
    if let Some(m) = &execution.message {
        row["message"] = json!(m);
    }
}

impl Mitigate {
    /// The task as it is now, if it (still) exists.
    pub(crate) async fn current_task<T: TaskKind>(&self, account: &str, id: &str) -> Option<T> {
        let all = self.state.lock().await;
        T::tasks(all.get(account)?).get(id).cloned()
    }

    /// Stores a new task, within the quota of tasks running at once. Returns false (without
    /// storing) when a retry of the same start got there first; the caller then answers as
    /// that start did and does not run the task again.
    pub(crate) async fn insert_new_task<T: TaskKind>(
        &self,
        account: &str,
        task: T,
        token: &str,
        now_ms: i64,
    ) -> MitigateResult<bool> {
        {
            let id = task.task_id().to_string();
            let mut all = self.state.lock().await;
            let state = all.entry(account.to_string()).or_default();
            if let Some(existing) = T::tasks(state).get(&id) {
                return same_request(existing, token, &id).map(|_| false);
            }
            let running = T::tasks(state)
                .values()
                .filter(|t| t.status() == TaskStatus::InProgress)
                .count();
            if running >= T::MAX_RUNNING {
                return Err(MitigateError::LimitExceeded(format!(
                    "At most {} {} mitigation actions tasks can run at once.",
                    T::MAX_RUNNING,
                    T::NAME
                )));
            }
            let write = persist::put(account, T::DOC_KIND, &id, &task, now_ms);
            self.store.write_documents(&[write]).await?;
            T::tasks_mut(state).insert(id, task);
        }
        metrics::counter!("fleetward_mitigation_tasks_started_total", "kind" => T::NAME)
            .increment(1);
        Ok(true)
    }

    /// Describe…MitigationActionsTask: the task shown by `show`.
    pub(crate) async fn describe_task<T: TaskKind>(
        &self,
        caller: &Caller,
        input: &Value,
        show: impl Fn(&T) -> Value,
    ) -> MitigateResult<Value> {
        let id = task_id(input)?;
        let all = self.state.lock().await;
        all.get(&caller.account_id)
            .and_then(|s| T::tasks(s).get(id))
            .map(show)
            .ok_or_else(|| task_not_found::<T>(id))
    }

    /// Cancel…MitigationActionsTask: only a task in progress can be canceled.
    pub(crate) async fn cancel_task<T: TaskKind>(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> MitigateResult<Value> {
        let id = task_id(input)?;
        let account = &caller.account_id;
        let mut all = self.state.lock().await;
        let state = all.entry(account.clone()).or_default();
        let task = T::tasks(state)
            .get(id)
            .ok_or_else(|| task_not_found::<T>(id))?;
        if task.status() != TaskStatus::InProgress {
            return Err(invalid(format!(
                "The {} mitigation actions task {id} is {} and cannot be canceled.",
                T::NAME,
                task.status_str()
            )));
        }
        let mut task = task.clone();
        task.cancel(self.now());
        let write = persist::put(account, T::DOC_KIND, id, &task, self.now());
        self.store.write_documents(&[write]).await?;
        T::tasks_mut(state).insert(id.to_string(), task);
        Ok(json!({}))
    }
}
