//! Violations (spec 2.5): ListActiveViolations (from memory), ListViolationEvents (stored
//! history), PutVerificationStateOnViolation, GetBehaviorModelTrainingSummaries, and the
//! query mitigation uses.

use std::sync::PoisonError;

use serde_json::{Value, json};

use crate::error::{DetectError, DetectResult};
use crate::input::{self, epoch_seconds, opt_bool, opt_str, req_str};
use crate::model::{Behavior, CriteriaType, Violation, ViolationEvent};
use crate::profiles::with_token;
use crate::{Caller, Detect, outputs, persist};

const STATES: &[&str] = &[
    "FALSE_POSITIVE",
    "BENIGN_POSITIVE",
    "TRUE_POSITIVE",
    "UNKNOWN",
];

/// Which violations mitigation wants.
#[derive(Debug, Clone, Default)]
pub struct ViolationQuery {
    /// Only these ids (None: any).
    pub violation_ids: Option<Vec<String>>,
    /// Only violations of behaviors with these names (None: any).
    pub behavior_names: Option<Vec<String>>,
    /// Only violations with an event in `[start_ms, end_ms]`.
    pub window_ms: Option<(i64, i64)>,
    pub active_only: bool,
    pub include_suppressed: bool,
}

/// One violation as mitigation sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ViolationRecord {
    pub violation_id: String,
    pub thing_name: String,
    pub security_profile_name: String,
    pub behavior: Behavior,
    pub violation_start_ms: i64,
    pub last_event_ms: i64,
    pub active: bool,
    pub suppressed: bool,
}

struct Filters<'a> {
    thing: Option<&'a str>,
    profile: Option<&'a str>,
    criteria: Option<CriteriaType>,
    suppressed: bool,
    state: Option<&'a str>,
}

fn filters(input: &Value) -> DetectResult<Filters<'_>> {
    let criteria = match opt_str(input, "behaviorCriteriaType")? {
        Some(c) => Some(CriteriaType::parse(c).ok_or_else(|| {
            DetectError::invalid(format!(
                "behaviorCriteriaType {c} is not STATIC, STATISTICAL or MACHINE_LEARNING."
            ))
        })?),
        None => None,
    };
    let state = opt_str(input, "verificationState")?;
    if let Some(s) = state
        && !STATES.contains(&s)
    {
        return Err(DetectError::invalid(format!(
            "verificationState {s} is not valid."
        )));
    }
    Ok(Filters {
        thing: opt_str(input, "thingName")?,
        profile: opt_str(input, "securityProfileName")?,
        criteria,
        suppressed: opt_bool(input, "listSuppressedAlerts")?.unwrap_or(false),
        state,
    })
}

impl Filters<'_> {
    fn keep(&self, thing: &str, profile: &str, behavior: &Behavior, state: Option<&str>) -> bool {
        self.thing.is_none_or(|t| t == thing)
            && self.profile.is_none_or(|p| p == profile)
            && self.criteria.is_none_or(|c| c == behavior.criteria_type())
            && (self.suppressed || !behavior.suppressed())
            && self.state.is_none_or(|s| s == state.unwrap_or("UNKNOWN"))
    }
}

fn active_json(v: &Violation) -> Value {
    let mut out = json!({
        "violationId": v.violation_id,
        "thingName": v.thing_name,
        "securityProfileName": v.security_profile_name,
        "behavior": v.behavior,
        "verificationState": v.verification_state.as_deref().unwrap_or("UNKNOWN"),
        "lastViolationTime": epoch_seconds(v.last_violation_ms),
        "violationStartTime": epoch_seconds(v.violation_start_ms),
    });
    if let Some(value) = &v.last_violation_value {
        out["lastViolationValue"] = json!(value);
    }
    if let Some(d) = &v.verification_state_description {
        out["verificationStateDescription"] = json!(d);
    }
    out
}

impl Detect {
    /// Every active violation of an account.
    pub fn active_violations(&self, account: &str) -> Vec<Violation> {
        let engine = self.engine.lock().unwrap_or_else(PoisonError::into_inner);
        engine.active(account).into_iter().cloned().collect()
    }

    pub async fn handle_list_active_violations(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let f = filters(input)?;
        let limit = input::max_results(input, 250, 25)?;
        let after = input::decode_token(input)?;
        if let Some(p) = f.profile {
            let configs = self.config.lock().await;
            if !configs
                .get(&caller.account_id)
                .is_some_and(|c| c.profiles.contains_key(p))
            {
                return Err(crate::profiles::not_found(p));
            }
        }
        let active = self.active_violations(&caller.account_id);
        // AWS answers ResourceNotFound for a thing that does not exist; a device that is no
        // registered thing but has violations (unregistered-things targets) is listed.
        if let Some(thing) = f.thing
            && !active.iter().any(|v| v.thing_name == thing)
            && self
                .registry
                .detect_thing_groups(&caller.account_id, thing)
                .is_none()
        {
            return Err(DetectError::not_found(format!(
                "Thing {thing} does not exist."
            )));
        }
        let mut items: Vec<(String, Value)> = active
            .iter()
            .filter(|v| {
                f.keep(
                    &v.thing_name,
                    &v.security_profile_name,
                    &v.behavior,
                    v.verification_state.as_deref(),
                )
            })
            .map(|v| (v.violation_id.clone(), active_json(v)))
            .collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let (page, next) = input::page(&items, after.as_deref(), limit);
        Ok(with_token(json!({"activeViolations": page}), next))
    }

    /// Stored events in `[start, end]`, in time order.
    async fn events_between(
        &self,
        account: &str,
        start_ms: i64,
        end_ms: i64,
    ) -> DetectResult<Vec<(String, ViolationEvent)>> {
        let mut out = Vec::new();
        let mut after = Some(persist::event_key(start_ms - 1, "~", "~"));
        let stop = persist::event_key(end_ms + 1, "", "");
        loop {
            let page = persist::page(
                self.store.as_ref(),
                account,
                persist::EVENT,
                after.as_deref(),
                1000,
            )
            .await?;
            let full = page.len() == 1000;
            for doc in &page {
                if doc.key >= stop {
                    return Ok(out);
                }
                out.push((doc.key.clone(), persist::decode(doc)?));
            }
            match page.last() {
                Some(last) if full => after = Some(last.key.clone()),
                _ => return Ok(out),
            }
        }
    }

    pub async fn handle_list_violation_events(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let f = filters(input)?;
        let start = input::timestamp_ms(input, "startTime")?
            .ok_or_else(|| DetectError::invalid("startTime is required."))?;
        let end = input::timestamp_ms(input, "endTime")?
            .ok_or_else(|| DetectError::invalid("endTime is required."))?;
        if end < start {
            return Err(DetectError::invalid("endTime is before startTime."));
        }
        let limit = input::max_results(input, 250, 25)?;
        let after = input::decode_token(input)?;
        let verifications = persist::load_all::<(String, Option<String>)>(
            self.store.as_ref(),
            &caller.account_id,
            persist::VERIFICATION,
        )
        .await?;
        let active = self.active_violations(&caller.account_id);
        let state_of = |id: &str| -> Option<(String, Option<String>)> {
            active
                .iter()
                .find(|v| v.violation_id == id)
                .and_then(|v| {
                    v.verification_state
                        .clone()
                        .map(|s| (s, v.verification_state_description.clone()))
                })
                .or_else(|| {
                    verifications
                        .iter()
                        .find(|(k, _)| k == id)
                        .map(|(_, s)| s.clone())
                })
        };
        let items: Vec<(String, Value)> = self
            .events_between(&caller.account_id, start, end)
            .await?
            .into_iter()
            .filter_map(|(key, mut e)| {
                if let Some((s, d)) = state_of(&e.violation_id) {
                    e.verification_state = Some(s);
                    e.verification_state_description = d;
                }
                f.keep(
                    &e.thing_name,
                    &e.security_profile_name,
                    &e.behavior,
                    e.verification_state.as_deref(),
                )
                .then(|| (key, outputs::event_json(&e)))
            })
            .collect();
        let (page, next) = input::page(&items, after.as_deref(), limit);
        Ok(with_token(json!({"violationEvents": page}), next))
    }

    pub async fn handle_put_verification_state_on_violation(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let account = &caller.account_id;
        let id = req_str(input, "violationId")?;
        let state = req_str(input, "verificationState")?;
        if !STATES.contains(&state) {
            return Err(DetectError::invalid(format!(
                "verificationState {state} is not valid."
            )));
        }
        let description = opt_str(input, "verificationStateDescription")?;
        if description.is_some_and(|d| d.chars().count() > 1000 || d.chars().any(char::is_control))
        {
            return Err(DetectError::invalid(
                "verificationStateDescription must be at most 1000 characters without control characters.",
            ));
        }
        let now = self.now();
        let updated = {
            let mut engine = self.engine.lock().unwrap_or_else(PoisonError::into_inner);
            engine.active_mut(account, id).map(|v| {
                v.verification_state = Some(state.to_string());
                v.verification_state_description = description.map(str::to_string);
                v.clone()
            })
        };
        let record = (state.to_string(), description.map(str::to_string));
        let mut writes = vec![persist::put(
            account,
            persist::VERIFICATION,
            id,
            &record,
            now,
        )];
        if let Some(v) = &updated {
            writes.push(persist::put(account, persist::VIOLATION, id, v, now));
        }
        self.store.write_documents(&writes).await?;
        Ok(json!({}))
    }

    pub async fn handle_get_behavior_model_training_summaries(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let name = opt_str(input, "securityProfileName")?;
        let limit = input::max_results(input, 10, 10)?;
        let after = input::decode_token(input)?;
        let configs = self.config.lock().await;
        let config = configs.get(&caller.account_id);
        if let Some(n) = name
            && !config.is_some_and(|c| c.profiles.contains_key(n))
        {
            return Err(crate::profiles::not_found(n));
        }
        let mut items: Vec<(String, Value)> = Vec::new();
        for p in config.iter().flat_map(|c| c.profiles.values()) {
            if name.is_some_and(|n| n != p.name) {
                continue;
            }
            for b in p
                .behaviors
                .iter()
                .filter(|b| b.criteria_type() == CriteriaType::MachineLearning)
            {
                let started = p
                    .ml_started_ms
                    .get(&b.name)
                    .copied()
                    .unwrap_or(p.creation_ms);
                items.push((
                    format!("{}\u{0}{}", p.name, b.name),
                    json!({
                        "securityProfileName": p.name,
                        "behaviorName": b.name,
                        "trainingDataCollectionStartDate": epoch_seconds(started),
                        "modelStatus": "PENDING_BUILD",
                        "datapointsCollectionPercentage": 0.0,
                    }),
                ));
            }
        }
        let (page, next) = input::page(&items, after.as_deref(), limit);
        Ok(with_token(json!({"summaries": page}), next))
    }

    /// Violations for mitigation (see the crate documentation).
    pub async fn find_violations(
        &self,
        account: &str,
        query: &ViolationQuery,
    ) -> DetectResult<Vec<ViolationRecord>> {
        let wanted = |id: &str, behavior: &Behavior| {
            query
                .violation_ids
                .as_ref()
                .is_none_or(|ids| ids.iter().any(|i| i == id))
                && query
                    .behavior_names
                    .as_ref()
                    .is_none_or(|n| n.contains(&behavior.name))
                && (query.include_suppressed || !behavior.suppressed())
        };
        let mut out: Vec<ViolationRecord> = Vec::new();
        for v in self.active_violations(account) {
            let in_window = query
                .window_ms
                .is_none_or(|(s, e)| v.violation_start_ms <= e && v.last_violation_ms >= s);
            if wanted(&v.violation_id, &v.behavior) && in_window {
                out.push(ViolationRecord {
                    suppressed: v.behavior.suppressed(),
                    violation_id: v.violation_id,
                    thing_name: v.thing_name,
                    security_profile_name: v.security_profile_name,
                    behavior: v.behavior,
                    violation_start_ms: v.violation_start_ms,
                    last_event_ms: v.last_violation_ms,
                    active: true,
                });
            }
        }
        if query.active_only {
            return Ok(out);
        }
        let (start, end) = query.window_ms.unwrap_or((0, i64::MAX / 4));
        for (_, e) in self.events_between(account, start, end).await? {
            if !wanted(&e.violation_id, &e.behavior) {
                continue;
            }
            match out.iter_mut().find(|r| r.violation_id == e.violation_id) {
                Some(r) => r.last_event_ms = r.last_event_ms.max(e.violation_event_ms),
                None => out.push(ViolationRecord {
                    suppressed: e.behavior.suppressed(),
                    active: false,
                    violation_id: e.violation_id,
                    thing_name: e.thing_name,
                    security_profile_name: e.security_profile_name,
                    behavior: e.behavior,
                    violation_start_ms: e.violation_start_ms,
                    last_event_ms: e.violation_event_ms,
                }),
            }
        }
        Ok(out)
    }
}
