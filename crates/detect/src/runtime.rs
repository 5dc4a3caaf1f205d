//! The running parts: one task evaluates queued datapoints and messages in batches; one
//! commits each batch's transitions (violations, events and outbox entries in ONE
//! transaction, so a restart neither loses nor repeats an in-alarm) and publishes metrics
//! exports; one delivers alerts and hub findings from the outbox, so that a slow delivery
//! does not hold up the next commit; a sweep invalidates silent or unmonitored violations and
//! refreshes hub findings before their 90-day expiry.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use fleetward_store::DocumentWrite;
use serde_json::json;
use tokio::sync::mpsc;

use crate::engine::Output;
use crate::model::{EventType, Violation, ViolationEvent};
use crate::outputs::{self, Pending};
use crate::{Caller, Detect, Feed, persist};

/// How long a batch of transitions may wait to be committed.
const COMMIT_EVERY: Duration = Duration::from_millis(20);
/// Hub findings expire 90 days after their last update; refresh well before.
const HUB_REFRESH_MS: i64 = 80 * 24 * 3600 * 1000;
/// Violation events are kept 30 days (spec 2.5).
const EVENT_RETENTION_MS: i64 = 30 * 24 * 3600 * 1000;
const SWEEP_EVERY: Duration = Duration::from_secs(5);
const RETRY_EVERY: Duration = Duration::from_secs(15);
/// Delivery attempts of one outbox entry before it is given up (logged).
const MAX_ATTEMPTS: u32 = 20;

/// Outbox entries (account, key) committed and handed to the deliverer but not delivered
/// yet: the periodic retry, which reads the outbox from the store, leaves them alone.
type InFlight = Arc<Mutex<HashSet<(String, String)>>>;

/// Committed outbox entries on their way to the deliverer.
type Committed = Vec<(String, String, Pending)>;

pub fn start(
    detect: Arc<Detect>,
    feed: mpsc::Receiver<Feed>,
    outputs: mpsc::UnboundedReceiver<Output>,
) {
    let in_flight = InFlight::default();
    let (committed_tx, committed_rx) = mpsc::unbounded_channel();
    tokio::spawn(evaluate_forever(detect.clone(), feed));
    tokio::spawn(write_forever(
        detect.clone(),
        outputs,
        committed_tx,
        in_flight.clone(),
    ));
    tokio::spawn(deliver_forever(detect.clone(), committed_rx, in_flight));
    tokio::spawn(sweep_forever(detect));
}

async fn evaluate_forever(detect: Arc<Detect>, mut rx: mpsc::Receiver<Feed>) {
    let mut batch = Vec::with_capacity(4096);
    while rx.recv_many(&mut batch, 4096).await > 0 {
        let now = detect.now();
        let mut out = Output::default();
        {
            let mut engine = detect.engine.lock().unwrap_or_else(PoisonError::into_inner);
            for feed in batch.drain(..) {
                match feed {
                    Feed::Datapoint {
                        account,
                        thing,
                        metric,
                        value,
                    } => engine.datapoint(&account, &thing, &metric, &value, now, &mut out),
                    Feed::Message {
                        account,
                        thing,
                        client_id,
                        topic,
                        bytes,
                        authorized,
                    } => engine.message(
                        &account, &thing, &client_id, &topic, bytes, authorized, now, &mut out,
                    ),
                    Feed::Flush(done) => out.flushed.push(done),
                }
            }
        }
        if !out.is_empty() {
            let _ = detect.output_tx.send(out);
        }
    }
}

impl Output {
    pub fn is_empty(&self) -> bool {
        self.transitions.is_empty()
            && self.updated.is_empty()
            && self.exports.is_empty()
            && self.refreshes.is_empty()
            && self.flushed.is_empty()
    }
}

async fn write_forever(
    detect: Arc<Detect>,
    mut rx: mpsc::UnboundedReceiver<Output>,
    committed: mpsc::UnboundedSender<Committed>,
    in_flight: InFlight,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + COMMIT_EVERY;
        while batch.len() < 256 {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(more)) => batch.push(more),
                _ => break,
            }
        }
        let flushed: Vec<_> = batch
            .iter_mut()
            .flat_map(|o| std::mem::take(&mut o.flushed))
            .collect();
        let pending = commit(&detect, batch, &in_flight).await;
        for done in flushed {
            let _ = done.send(());
        }
        if !pending.is_empty() {
            let _ = committed.send(pending);
        }
    }
}

/// Delivers committed entries as they come (all that queued meanwhile at once), and retries
/// the outbox's undelivered entries every [`RETRY_EVERY`] (those of before a restart too).
async fn deliver_forever(
    detect: Arc<Detect>,
    mut rx: mpsc::UnboundedReceiver<Committed>,
    in_flight: InFlight,
) {
    let mut attempts: HashMap<(String, String), u32> = HashMap::new();
    retry_outbox(&detect, &mut attempts, &in_flight).await;
    let mut retry = tokio::time::interval(RETRY_EVERY);
    loop {
        tokio::select! {
            next = rx.recv() => {
                let Some(mut pending) = next else { return };
                while let Ok(more) = rx.try_recv() {
                    pending.extend(more);
                }
                let keys: Vec<(String, String)> =
                    pending.iter().map(|(a, k, _)| (a.clone(), k.clone())).collect();
                let started = std::time::Instant::now();
                deliver(&detect, pending, &mut attempts).await;
                metrics::histogram!("fleetward_detect_delivery_seconds")
                    .record(started.elapsed().as_secs_f64());
                let mut in_flight = in_flight.lock().unwrap_or_else(PoisonError::into_inner);
                for key in &keys {
                    in_flight.remove(key);
                }
            }
            _ = retry.tick() => retry_outbox(&detect, &mut attempts, &in_flight).await,
        }
    }
}

/// Commits a batch; returns the outbox entries to deliver (marked in flight before the
/// commit, so that the retry never sees them unmarked).
async fn commit(detect: &Detect, batch: Vec<Output>, in_flight: &InFlight) -> Committed {
    let now = detect.now();
    // Last write per document wins: an update after an in-alarm, a delete after an update.
    let mut writes: Vec<DocumentWrite> = Vec::new();
    let mut latest: HashMap<(String, String), usize> = HashMap::new();
    let mut push =
        |writes: &mut Vec<DocumentWrite>, account: &str, id: &str, w: DocumentWrite| match latest
            .get(&(account.to_string(), id.to_string()))
        {
            Some(i) => writes[*i] = w,
            None => {
                latest.insert((account.to_string(), id.to_string()), writes.len());
                writes.push(w);
            }
        };
    let mut pending = Vec::new();
    let mut exports = Vec::new();
    for out in batch {
        for t in &out.transitions {
            if t.event == EventType::InAlarm {
                push(
                    &mut writes,
                    &t.account,
                    &t.violation.violation_id,
                    persist::put(
                        &t.account,
                        persist::VIOLATION,
                        &t.violation.violation_id,
                        &t.violation,
                        now,
                    ),
                );
            }
        }
        for (account, v) in &out.updated {
            push(
                &mut writes,
                account,
                &v.violation_id,
                persist::put(account, persist::VIOLATION, &v.violation_id, v, now),
            );
        }
        for (account, v, profile_arn) in &out.refreshes {
            push(
                &mut writes,
                account,
                &v.violation_id,
                persist::put(account, persist::VIOLATION, &v.violation_id, v, now),
            );
            let event = event_of(
                v,
                EventType::InAlarm,
                v.last_violation_ms,
                v.last_violation_value.clone(),
            );
            let key = persist::event_key(now, &v.violation_id, "refresh");
            let entry = Pending {
                event,
                alert_target: None,
                profile_arn: profile_arn.clone(),
                refresh_only: true,
            };
            writes.push(persist::put(account, persist::OUTBOX, &key, &entry, now));
            pending.push((account.to_string(), key, entry));
        }
        for t in out.transitions {
            let value = t
                .value
                .as_ref()
                .map(|v| v.to_metric_value(integral(&t.violation)));
            let event = event_of(
                &t.violation,
                t.event,
                t.time_ms,
                value.or(t.violation.last_violation_value.clone()),
            );
            if t.event != EventType::InAlarm {
                push(
                    &mut writes,
                    &t.account,
                    &t.violation.violation_id,
                    persist::delete(&t.account, persist::VIOLATION, &t.violation.violation_id),
                );
            }
            let key = persist::event_key(t.time_ms, &t.violation.violation_id, t.event.as_str());
            writes.push(persist::put(&t.account, persist::EVENT, &key, &event, now));
            let entry = Pending {
                event,
                alert_target: t.alert_target.clone(),
                profile_arn: t.profile_arn.clone(),
                refresh_only: false,
            };
            writes.push(persist::put(&t.account, persist::OUTBOX, &key, &entry, now));
            pending.push((t.account.to_string(), key, entry));
        }
        exports.extend(out.exports);
    }
    in_flight
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .extend(pending.iter().map(|(a, k, _)| (a.clone(), k.clone())));
    if !writes.is_empty() {
        let started = std::time::Instant::now();
        let mut delay = Duration::from_millis(100);
        loop {
            match detect.store.write_documents(&writes).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::error!(error = %e, writes = writes.len(), "Cannot commit detect violations; retrying.");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
        metrics::counter!("fleetward_detect_commits_total").increment(1);
        metrics::histogram!("fleetward_detect_commit_seconds")
            .record(started.elapsed().as_secs_f64());
    }
    publish_exports(detect, exports).await;
    pending
}

fn integral(v: &Violation) -> bool {
    v.behavior
        .metric
        .as_deref()
        .and_then(crate::catalog::builtin)
        .is_some_and(|d| d.kind == crate::catalog::Kind::Count)
}

fn event_of(
    v: &Violation,
    event: EventType,
    time_ms: i64,
    value: Option<crate::model::MetricValue>,
) -> ViolationEvent {
    ViolationEvent {
        violation_id: v.violation_id.clone(),
        thing_name: v.thing_name.clone(),
        security_profile_name: v.security_profile_name.clone(),
        behavior: v.behavior.clone(),
        metric_value: value,
        violation_event_type: event,
        verification_state: v.verification_state.clone(),
        verification_state_description: v.verification_state_description.clone(),
        violation_event_ms: time_ms,
        violation_start_ms: v.violation_start_ms,
        registered: v.registered,
    }
}

/// Groups exports per (account, topic) into messages of at most 100 metrics.
async fn publish_exports(detect: &Detect, exports: Vec<crate::engine::Exported>) {
    if exports.is_empty() {
        return;
    }
    let Some(exporter) = detect.exporter.get() else {
        return;
    };
    let mut groups: HashMap<(String, String), Vec<&crate::engine::Exported>> = HashMap::new();
    for e in &exports {
        groups
            .entry((e.account.to_string(), e.topic.clone()))
            .or_default()
            .push(e);
    }
    for ((account, topic), items) in groups {
        for chunk in items.chunks(100) {
            let versioned: Vec<(u64, &crate::engine::Exported)> = {
                let mut engine = detect.engine.lock().unwrap_or_else(PoisonError::into_inner);
                chunk
                    .iter()
                    .map(|e| (engine.next_export_version(), *e))
                    .collect()
            };
            if let Err(e) = exporter
                .publish(&account, &topic, outputs::export_json(&versioned))
                .await
            {
                tracing::warn!(account, topic, error = %e, "Metrics export not published.");
            }
        }
    }
}

/// Delivers outbox entries (alert, then hub finding) and deletes the delivered ones.
/// Alerts sent at once: each is a durable SNS publish of its own, and the SNS writer commits
/// those that arrive together in one transaction, so a burst needs few commits, not one
/// after another per 32 (which put p99 of a 200-alert burst over a second).
const ALERT_CONCURRENCY: usize = 256;
/// BatchImportFindings takes at most 100 findings.
const FINDINGS_PER_IMPORT: usize = 100;

/// Sends the alerts (concurrently) and the hub findings (one import per account and 100
/// findings) of outbox entries, then clears the delivered ones from the outbox. An entry
/// whose alert or finding failed is retried whole.
async fn deliver(
    detect: &Detect,
    pending: Vec<(String, String, Pending)>,
    attempts: &mut HashMap<(String, String), u32>,
) {
    let mut results: Vec<Result<(), String>> = Vec::with_capacity(pending.len());
    for chunk in pending.chunks(ALERT_CONCURRENCY) {
        let sends = chunk
            .iter()
            .map(|(account, _, entry)| send_alert(detect, account, entry));
        results.extend(futures::future::join_all(sends).await);
    }
    let mut by_account: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (account, _, _)) in pending.iter().enumerate() {
        if results[i].is_ok() {
            by_account.entry(account.as_str()).or_default().push(i);
        }
    }
    for (account, indexes) in by_account {
        for chunk in import_chunks(&indexes, |i| &pending[i].2.event.violation_id) {
            let chunk = chunk.as_slice();
            let findings: Vec<serde_json::Value> = chunk
                .iter()
                .map(|&i| finding(detect, account, &pending[i].2))
                .collect();
            match import_findings(detect, account, findings).await {
                Ok(refused) => {
                    for &i in chunk {
                        if let Some(reason) = refused.get(&pending[i].2.event.violation_id) {
                            results[i] = Err(format!("hub refused the finding: {reason}"));
                        }
                    }
                }
                Err(e) => {
                    for &i in chunk {
                        results[i] = Err(e.clone());
                    }
                }
            }
        }
    }
    let mut done = Vec::new();
    for ((account, key, _), result) in pending.into_iter().zip(results) {
        match result {
            Ok(()) => {
                attempts.remove(&(account.clone(), key.clone()));
                done.push(persist::delete(&account, persist::OUTBOX, &key));
            }
            Err(e) => {
                let n = attempts.entry((account.clone(), key.clone())).or_insert(0);
                *n += 1;
                if *n >= MAX_ATTEMPTS {
                    tracing::error!(account, key, error = %e, "Violation alert/finding given up.");
                    attempts.remove(&(account.clone(), key.clone()));
                    done.push(persist::delete(&account, persist::OUTBOX, &key));
                } else {
                    tracing::warn!(account, key, error = %e, "Violation alert/finding not delivered; retrying.");
                }
            }
        }
    }
    if !done.is_empty()
        && let Err(e) = detect.store.write_documents(&done).await
    {
        tracing::warn!(error = %e, "Cannot clear the detect outbox; entries will be delivered again.");
    }
}

/// Splits entries (in order) into imports of at most [`FINDINGS_PER_IMPORT`] findings with
/// no violation twice in one import, so a later event of a violation (its clear) is
/// imported after the earlier one (its in-alarm) and wins.
fn import_chunks<'a>(indexes: &[usize], id: impl Fn(usize) -> &'a str) -> Vec<Vec<usize>> {
    let mut chunks: Vec<Vec<usize>> = Vec::new();
    let mut ids: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for &i in indexes {
        let full = chunks
            .last()
            .is_none_or(|c| c.len() == FINDINGS_PER_IMPORT || ids.contains(id(i)));
        if full {
            chunks.push(Vec::new());
            ids.clear();
        }
        ids.insert(id(i));
        if let Some(chunk) = chunks.last_mut() {
            chunk.push(i);
        }
    }
    chunks
}

/// The profile's SNS alert of an entry, unless suppressed or only a hub refresh.
async fn send_alert(detect: &Detect, account: &str, entry: &Pending) -> Result<(), String> {
    let event = &entry.event;
    if !entry.refresh_only
        && !event.behavior.suppressed()
        && let (Some(target), Some(notifier)) = (&entry.alert_target, &detect.notifier)
    {
        notifier
            .publish(
                account,
                target,
                "AWS IoT Device Defender violation",
                &outputs::alert_json(event),
            )
            .await?;
    }
    Ok(())
}

fn finding(detect: &Detect, account: &str, entry: &Pending) -> serde_json::Value {
    let updated = if entry.refresh_only {
        detect.now()
    } else {
        entry.event.violation_event_ms
    };
    outputs::finding_json(
        account,
        &detect.region,
        &detect.console_base_url,
        &entry.profile_arn,
        &entry.event,
        updated,
    )
}

/// One BatchImportFindings; the findings refused (by Id, with the reason) to retry. A hub
/// not enabled, or not accepting detect, takes nothing, and that is not retried.
async fn import_findings(
    detect: &Detect,
    account: &str,
    findings: Vec<serde_json::Value>,
) -> Result<HashMap<String, String>, String> {
    let caller = Caller {
        account_id: account.to_string(),
        identity: "iot-device-defender-detect".to_string(),
    };
    let out = match detect
        .hub
        .handle_batch_import_findings(&caller, json!({ "Findings": findings }))
        .await
    {
        Ok(out) => out,
        Err(e) if e.code() == "InvalidAccessException" => return Ok(HashMap::new()),
        Err(e) => return Err(e.to_string()),
    };
    let mut refused = HashMap::new();
    for failed in out["FailedFindings"].as_array().into_iter().flatten() {
        let reason = failed["ErrorMessage"].as_str().unwrap_or("").to_string();
        let not_taken =
            reason.contains("not") && (reason.contains("enabled") || reason.contains("subscribed"));
        if let (Some(id), false) = (failed["Id"].as_str(), not_taken) {
            refused.insert(id.to_string(), reason);
        }
    }
    Ok(refused)
}

/// Delivers what the outbox still holds (after a restart or failed deliveries).
async fn retry_outbox(
    detect: &Detect,
    attempts: &mut HashMap<(String, String), u32>,
    in_flight: &InFlight,
) {
    let Ok(accounts) = detect.store.list_accounts().await else {
        return;
    };
    for account in accounts {
        let id = account.account_id;
        match persist::load_all::<Pending>(detect.store.as_ref(), &id, persist::OUTBOX).await {
            Ok(entries) if !entries.is_empty() => {
                let pending: Committed = {
                    let in_flight = in_flight.lock().unwrap_or_else(PoisonError::into_inner);
                    entries
                        .into_iter()
                        .filter(|(k, _)| !in_flight.contains(&(id.clone(), k.clone())))
                        .map(|(k, p)| (id.clone(), k, p))
                        .collect()
                };
                if !pending.is_empty() {
                    deliver(detect, pending, attempts).await;
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(account = id, error = %e, "Cannot read the detect outbox."),
        }
    }
}

async fn sweep_forever(detect: Arc<Detect>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    let mut generation = detect.registry.generation();
    let mut last_retention = 0i64;
    loop {
        every.tick().await;
        let now = detect.now();
        let mut out = Output::default();
        {
            let mut engine = detect.engine.lock().unwrap_or_else(PoisonError::into_inner);
            engine.expire_silent(now, &mut out);
            let current = detect.registry.generation();
            if current != generation {
                generation = current;
                for account in engine.account_ids() {
                    engine.revalidate(&account, now, &mut out);
                }
            }
            engine.due_for_refresh(now, HUB_REFRESH_MS, &mut out);
        }
        if !out.is_empty() {
            let _ = detect.output_tx.send(out);
        }
        if now - last_retention > 3_600_000 {
            last_retention = now;
            drop_old_events(&detect, now - EVENT_RETENTION_MS).await;
        }
    }
}

async fn drop_old_events(detect: &Detect, before_ms: i64) {
    let Ok(accounts) = detect.store.list_accounts().await else {
        return;
    };
    let cutoff = persist::event_key(before_ms, "", "");
    for account in accounts {
        loop {
            let Ok(page) = persist::page(
                detect.store.as_ref(),
                &account.account_id,
                persist::EVENT,
                None,
                1000,
            )
            .await
            else {
                break;
            };
            let old: Vec<DocumentWrite> = page
                .iter()
                .take_while(|d| d.key < cutoff)
                .map(|d| persist::delete(&account.account_id, persist::EVENT, &d.key))
                .collect();
            if old.is_empty() || detect.store.write_documents(&old).await.is_err() {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_never_repeat_a_violation_and_hold_at_most_100() {
        let ids: Vec<String> = (0..250).map(|i| format!("v{}", i % 120)).collect();
        let indexes: Vec<usize> = (0..ids.len()).collect();
        let chunks = import_chunks(&indexes, |i| ids[i].as_str());
        assert_eq!(chunks.concat(), indexes, "order kept, nothing lost");
        for chunk in &chunks {
            assert!(chunk.len() <= FINDINGS_PER_IMPORT);
            let unique: std::collections::HashSet<&str> =
                chunk.iter().map(|&i| ids[i].as_str()).collect();
            assert_eq!(unique.len(), chunk.len());
        }
        assert_eq!(
            chunks.iter().map(Vec::len).collect::<Vec<_>>(),
            [100, 100, 50]
        );
        // An in-alarm and the clear of the same violation go in separate imports, in order.
        let ids = ["a", "b", "a", "c"];
        assert_eq!(
            import_chunks(&[0, 1, 2, 3], |i| ids[i]),
            vec![vec![0, 1], vec![2, 3]]
        );
    }
}
