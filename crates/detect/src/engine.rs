//! The evaluator: per device, the behaviors of the profiles attached to it, their windows and
//! consecutive-datapoint counters, and the alarm state machine of spec 2.4 (in-alarm,
//! alarm-cleared, alarm-invalidated). Pure and single-owner: the service feeds it
//! datapoints and messages in batches and turns the transitions it returns into writes,
//! alerts, hub findings and exports.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::compiled::{CompiledBehavior, CompiledProfile, Judge};
use crate::model::{EventType, Invalidation, Violation};
use crate::sets::Observed;

#[path = "engine_export.rs"]
mod export;
use crate::sketch::Sketch;

/// Two days without data invalidates an active violation (spec 2.4).
pub const NO_DATA_MS: i64 = 2 * 24 * 3600 * 1000;
/// Statistical windows rotate at least this often for behaviors without a duration.
const DEFAULT_STAT_WINDOW_MS: i64 = 300_000;
/// A percentile of fewer values than this judges nobody (too little fleet data).
const MIN_STAT_SAMPLES: u64 = 20;

/// Which groups a thing is in (with their ancestors); `None`: not a registered thing.
pub trait Membership: Send + Sync {
    fn groups(&self, account: &str, thing: &str) -> Option<Vec<String>>;
    /// Changes whenever memberships may have changed.
    fn generation(&self) -> u64;
}

/// One state change of a violation.
#[derive(Debug, Clone)]
pub struct Transition {
    pub account: Arc<str>,
    pub event: EventType,
    pub violation: Violation,
    pub value: Option<Observed>,
    pub time_ms: i64,
    pub alert_target: Option<String>,
    pub profile_arn: String,
    pub invalidation: Option<Invalidation>,
}

/// A value to export on a profile's metricsExportConfig topic.
#[derive(Debug, Clone)]
pub struct Exported {
    pub account: Arc<str>,
    pub topic: String,
    pub metric: String,
    pub thing: String,
    pub value: Observed,
    pub integral: bool,
    pub time_ms: i64,
    pub dimension: Option<(String, bool)>,
}

/// What one batch produced.
#[derive(Debug, Default)]
pub struct Output {
    pub transitions: Vec<Transition>,
    /// Active violations whose last value/time changed (persisted, coalesced).
    pub updated: Vec<(Arc<str>, Violation)>,
    pub exports: Vec<Exported>,
    /// Active violations whose hub finding is refreshed (with the profile's ARN).
    pub refreshes: Vec<(Arc<str>, Violation, String)>,
    /// Answered once everything before them is committed ([`crate::Detect::flush`]).
    pub(crate) flushed: Vec<tokio::sync::oneshot::Sender<()>>,
}

struct Slot {
    b: Arc<CompiledBehavior>,
    bad: u8,
    good: u8,
    window: VecDeque<(i64, f64)>,
    /// Messages matching the dimension since the last period datapoint.
    dimension_count: u64,
    violation: Option<Box<Violation>>,
}

struct DeviceState {
    stamp: (u64, u64),
    registered: bool,
    slots: Vec<Slot>,
    last_data_ms: i64,
}

/// The statistical window of one (profile, behavior): the previous and current period.
struct StatWindow {
    period_ms: i64,
    start_ms: i64,
    previous: Sketch,
    current: Sketch,
    threshold: Option<f64>,
    since_refresh: u32,
}

impl StatWindow {
    fn observe(&mut self, value: f64, rank: f64, now_ms: i64) -> Option<f64> {
        if now_ms - self.start_ms >= self.period_ms {
            let periods = (now_ms - self.start_ms) / self.period_ms;
            self.previous = if periods == 1 {
                std::mem::take(&mut self.current)
            } else {
                Sketch::default()
            };
            self.current = Sketch::default();
            self.start_ms += periods * self.period_ms;
            self.since_refresh = u32::MAX;
        }
        self.current.add(value);
        self.since_refresh = self.since_refresh.saturating_add(1);
        // Merging is cheap but not free: the percentile is refreshed every 64 values, and
        // always while there is little data.
        if self.since_refresh >= 64 || self.current.count() < 256 {
            let mut merged = self.previous.clone();
            merged.merge(&self.current);
            self.threshold = if merged.count() < MIN_STAT_SAMPLES {
                None
            } else {
                merged.quantile(rank)
            };
            self.since_refresh = 0;
        }
        self.threshold
    }
}

#[derive(Default)]
pub struct AccountEngine {
    profiles: Vec<Arc<CompiledProfile>>,
    /// Some profile exports metrics (else datapoints skip the export step).
    exporting: bool,
    profiles_generation: u64,
    devices: HashMap<Box<str>, DeviceState>,
    stats: HashMap<(Arc<str>, String), StatWindow>,
    /// violationId -> thing.
    by_id: HashMap<String, Box<str>>,
}

pub struct Engine {
    accounts: HashMap<Arc<str>, AccountEngine>,
    membership: Arc<dyn Membership>,
    next_export_version: u64,
}

impl Engine {
    pub fn new(membership: Arc<dyn Membership>) -> Self {
        Self {
            accounts: HashMap::new(),
            membership,
            next_export_version: 1,
        }
    }

    pub fn next_export_version(&mut self) -> u64 {
        self.next_export_version += 1;
        self.next_export_version
    }

    fn account(&mut self, account: &str) -> (&mut AccountEngine, Arc<str>) {
        let key = match self.accounts.get_key_value(account) {
            Some((k, _)) => k.clone(),
            None => {
                let k: Arc<str> = account.into();
                self.accounts.insert(k.clone(), AccountEngine::default());
                k
            }
        };
        (self.accounts.entry(key.clone()).or_default(), key)
    }

    /// Replaces an account's compiled profiles; devices re-resolve lazily, and active
    /// violations of behaviors or targets that went away are invalidated now.
    pub fn set_profiles(
        &mut self,
        account: &str,
        profiles: Vec<Arc<CompiledProfile>>,
        now_ms: i64,
        out: &mut Output,
    ) {
        let (engine, _) = self.account(account);
        engine.exporting = profiles
            .iter()
            .any(|p| p.export_topic.is_some() && !p.exports.is_empty());
        engine.profiles = profiles;
        engine.profiles_generation += 1;
        self.revalidate(account, now_ms, out);
    }

    /// Re-resolves the devices holding active violations (after profile or registry
    /// changes), invalidating those no longer monitored.
    pub fn revalidate(&mut self, account: &str, now_ms: i64, out: &mut Output) {
        let membership = self.membership.clone();
        let (engine, key) = self.account(account);
        let holders: Vec<Box<str>> = engine
            .devices
            .iter()
            .filter(|(_, d)| d.slots.iter().any(|s| s.violation.is_some()))
            .map(|(k, _)| k.clone())
            .collect();
        for thing in holders {
            engine.refresh_device(&key, &thing, membership.as_ref(), now_ms, out);
        }
    }

    /// Evaluates one datapoint of `metric` (the gateway's datapoints have no dimension).
    pub fn datapoint(
        &mut self,
        account: &str,
        thing: &str,
        metric: &str,
        value: &Observed,
        now_ms: i64,
        out: &mut Output,
    ) {
        self.report(account, thing, &[(metric, value)], now_ms, out);
    }

    /// Evaluates the datapoints of one device report together: the account, the device and
    /// its attached behaviors are looked up once.
    pub fn report(
        &mut self,
        account: &str,
        thing: &str,
        points: &[(&str, &Observed)],
        now_ms: i64,
        out: &mut Output,
    ) {
        let membership = self.membership.clone();
        let (engine, key) = self.account(account);
        if engine.profiles.is_empty() {
            return;
        }
        engine.refresh_device(&key, thing, membership.as_ref(), now_ms, out);
        if engine.exporting {
            for (metric, value) in points {
                engine.export(&key, thing, metric, value, now_ms, out);
            }
        }
        let before = out.transitions.len();
        let Some(device) = engine.devices.get_mut(thing) else {
            return;
        };
        device.last_data_ms = now_ms;
        // Dimensioned counts to export: (profile, metric, dimension, not_in, count).
        let mut dimensioned: Vec<(String, String, String, bool, f64)> = Vec::new();
        for (metric, value) in points {
            for slot in device.slots.iter_mut() {
                if slot.b.metric != *metric || slot.b.per_message {
                    continue;
                }
                let value = match (&slot.b.dimension, value) {
                    // A dimensioned count takes the messages that matched its filters.
                    (Some(dim), Observed::Number(_)) => {
                        let count = std::mem::take(&mut slot.dimension_count) as f64;
                        if engine.exporting {
                            dimensioned.push((
                                slot.b.profile.to_string(),
                                slot.b.metric.clone(),
                                dim.name.clone(),
                                dim.not_in,
                                count,
                            ));
                        }
                        Cow::Owned(Observed::Number(count))
                    }
                    (_, other) => Cow::Borrowed(*other),
                };
                judge(
                    &key,
                    thing,
                    device.registered,
                    slot,
                    &mut engine.stats,
                    &engine.profiles,
                    value,
                    now_ms,
                    out,
                );
            }
        }
        engine.index(thing, &out.transitions[before..]);
        for (profile, metric, dimension, not_in, count) in dimensioned {
            engine.export_dimensioned(
                &key,
                thing,
                (&profile, &metric),
                (&dimension, not_in),
                count,
                now_ms,
                out,
            );
        }
    }

    /// One message sent (or denied, `authorized == false`) by a device: per-message
    /// aws:message-byte-size behaviors, and TOPIC_FILTER dimension counters.
    #[allow(clippy::too_many_arguments)]
    pub fn message(
        &mut self,
        account: &str,
        thing: &str,
        client_id: &str,
        topic: &str,
        bytes: usize,
        authorized: bool,
        now_ms: i64,
        out: &mut Output,
    ) {
        let membership = self.membership.clone();
        let (engine, key) = self.account(account);
        if engine.profiles.is_empty() {
            return;
        }
        engine.refresh_device(&key, thing, membership.as_ref(), now_ms, out);
        let before = out.transitions.len();
        let Some(device) = engine.devices.get_mut(thing) else {
            return;
        };
        for slot in device.slots.iter_mut() {
            let counts = slot
                .b
                .dimension
                .as_ref()
                .is_none_or(|d| d.counts(topic, client_id));
            if !counts {
                continue;
            }
            match slot.b.metric.as_str() {
                "aws:message-byte-size" if authorized => {
                    device.last_data_ms = now_ms;
                    let value = Cow::Owned(Observed::Number(bytes as f64));
                    judge(
                        &key,
                        thing,
                        device.registered,
                        slot,
                        &mut engine.stats,
                        &engine.profiles,
                        value,
                        now_ms,
                        out,
                    );
                }
                "aws:num-messages-sent" if authorized && slot.b.dimension.is_some() => {
                    slot.dimension_count += 1;
                }
                "aws:num-authorization-failures" if !authorized && slot.b.dimension.is_some() => {
                    slot.dimension_count += 1;
                }
                _ => {}
            }
        }
        engine.index(thing, &out.transitions[before..]);
    }

    /// Invalidates violations of devices silent for two days.
    pub fn expire_silent(&mut self, now_ms: i64, out: &mut Output) {
        for (key, engine) in self.accounts.iter_mut() {
            for device in engine.devices.values_mut() {
                for slot in device.slots.iter_mut() {
                    let silent = slot.violation.as_ref().is_some_and(|v| {
                        now_ms - v.last_data_ms.max(device.last_data_ms) > NO_DATA_MS
                    });
                    if silent {
                        let profile_arn = arn_of(&engine.profiles, &slot.b.profile);
                        let alert = alert_of(&engine.profiles, &slot.b.profile);
                        invalidate(
                            key,
                            slot,
                            Invalidation::NoData,
                            profile_arn,
                            alert,
                            now_ms,
                            out,
                        );
                    }
                }
            }
            let active: std::collections::HashSet<&str> = engine
                .devices
                .values()
                .flat_map(|d| d.slots.iter().filter_map(|s| s.violation.as_deref()))
                .map(|v| v.violation_id.as_str())
                .collect();
            engine.by_id.retain(|id, _| active.contains(id.as_str()));
        }
    }

    /// Puts a stored active violation back (restart): its slot is in alarm.
    pub fn restore(&mut self, account: &str, violation: Violation, now_ms: i64, out: &mut Output) {
        let membership = self.membership.clone();
        let (engine, key) = self.account(account);
        engine.refresh_device(
            &key,
            &violation.thing_name,
            membership.as_ref(),
            now_ms,
            out,
        );
        let thing: Box<str> = violation.thing_name.as_str().into();
        let device = engine
            .devices
            .entry(thing.clone())
            .or_insert_with(|| DeviceState {
                stamp: (0, 0),
                registered: violation.registered,
                slots: Vec::new(),
                last_data_ms: violation.last_data_ms,
            });
        device.last_data_ms = device.last_data_ms.max(violation.last_data_ms);
        let slot = device.slots.iter_mut().find(|s| {
            *s.b.profile == *violation.security_profile_name
                && s.b.behavior.name == violation.behavior.name
        });
        match slot {
            Some(slot) => {
                slot.bad = slot.b.to_alarm;
                engine.by_id.insert(violation.violation_id.clone(), thing);
                slot.violation = Some(Box::new(violation));
            }
            None => {
                let profile = engine
                    .profiles
                    .iter()
                    .find(|p| *p.name == *violation.security_profile_name);
                out.transitions.push(Transition {
                    account: key.clone(),
                    event: EventType::AlarmInvalidated,
                    profile_arn: profile.map(|p| p.arn.clone()).unwrap_or_default(),
                    alert_target: profile.and_then(|p| p.alert_target.clone()),
                    invalidation: Some(match profile {
                        None => Invalidation::ProfileDetached,
                        Some(_) => Invalidation::BehaviorRemoved,
                    }),
                    violation,
                    value: None,
                    time_ms: now_ms,
                });
            }
        }
    }

    pub fn account_ids(&self) -> Vec<String> {
        self.accounts.keys().map(|k| k.to_string()).collect()
    }

    /// Active violations whose hub finding was written more than `age_ms` ago: marked
    /// refreshed now and returned for a hub update.
    pub fn due_for_refresh(&mut self, now_ms: i64, age_ms: i64, out: &mut Output) {
        for (key, engine) in self.accounts.iter_mut() {
            for device in engine.devices.values_mut() {
                for slot in device.slots.iter_mut() {
                    if let Some(v) = slot.violation.as_deref_mut()
                        && now_ms - v.hub_updated_ms > age_ms
                    {
                        v.hub_updated_ms = now_ms;
                        out.refreshes.push((
                            key.clone(),
                            v.clone(),
                            arn_of(&engine.profiles, &slot.b.profile),
                        ));
                    }
                }
            }
        }
    }

    /// Every active violation of an account.
    pub fn active(&self, account: &str) -> Vec<&Violation> {
        self.accounts
            .get(account)
            .map(|e| {
                e.devices
                    .values()
                    .flat_map(|d| d.slots.iter().filter_map(|s| s.violation.as_deref()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// An active violation by id, to change its verification state.
    pub fn active_mut(&mut self, account: &str, violation_id: &str) -> Option<&mut Violation> {
        let engine = self.accounts.get_mut(account)?;
        let thing = engine.by_id.get(violation_id)?.clone();
        engine
            .devices
            .get_mut(&thing)?
            .slots
            .iter_mut()
            .filter_map(|s| s.violation.as_deref_mut())
            .find(|v| v.violation_id == violation_id)
    }

    /// Devices and behavior slots held (memory accounting in the benchmark).
    pub fn sizes(&self) -> (usize, usize) {
        self.accounts.values().fold((0, 0), |(d, s), e| {
            (
                d + e.devices.len(),
                s + e.devices.values().map(|d| d.slots.len()).sum::<usize>(),
            )
        })
    }
}

impl AccountEngine {
    /// Keeps the violation-id index in step with a device's transitions.
    fn index(&mut self, thing: &str, transitions: &[Transition]) {
        for t in transitions {
            match t.event {
                EventType::InAlarm => {
                    self.by_id
                        .insert(t.violation.violation_id.clone(), thing.into());
                }
                _ => {
                    self.by_id.remove(&t.violation.violation_id);
                }
            }
        }
    }

    /// Makes sure the device's slots match the profiles attached to it now.
    fn refresh_device(
        &mut self,
        account: &Arc<str>,
        thing: &str,
        membership: &dyn Membership,
        now_ms: i64,
        out: &mut Output,
    ) {
        let stamp = (self.profiles_generation, membership.generation());
        if self.devices.get(thing).is_some_and(|d| d.stamp == stamp) {
            return;
        }
        let groups = membership.groups(account, thing);
        let attached: Vec<&Arc<CompiledProfile>> = self
            .profiles
            .iter()
            .filter(|p| p.targets.iter().any(|t| t.covers(groups.as_deref())))
            .collect();
        let device = self
            .devices
            .entry(thing.into())
            .or_insert_with(|| DeviceState {
                stamp: (0, 0),
                registered: groups.is_some(),
                slots: Vec::new(),
                last_data_ms: now_ms,
            });
        device.stamp = stamp;
        device.registered = groups.is_some();
        let mut old: Vec<Slot> = std::mem::take(&mut device.slots);
        for profile in &attached {
            for b in &profile.behaviors {
                let kept = old
                    .iter()
                    .position(|s| s.b.profile == b.profile && s.b.behavior.name == b.behavior.name);
                let slot = match kept {
                    Some(i) => {
                        let mut s = old.swap_remove(i);
                        if s.b.behavior.criteria != b.behavior.criteria {
                            s.window.clear();
                        }
                        s.b = b.clone();
                        s
                    }
                    None => Slot {
                        b: b.clone(),
                        bad: 0,
                        good: 0,
                        window: VecDeque::new(),
                        dimension_count: 0,
                        violation: None,
                    },
                };
                device.slots.push(slot);
            }
        }
        // Slots left over are no longer monitored: their violations are invalidated.
        for mut slot in old {
            if slot.violation.is_none() {
                continue;
            }
            let still_profile = self.profiles.iter().find(|p| p.name == slot.b.profile);
            let reason = match still_profile {
                None => Invalidation::ProfileDetached,
                Some(p)
                    if !p
                        .behaviors
                        .iter()
                        .any(|b| b.behavior.name == slot.b.behavior.name) =>
                {
                    Invalidation::BehaviorRemoved
                }
                Some(_) => Invalidation::NoLongerTargeted,
            };
            let arn = still_profile.map(|p| p.arn.clone()).unwrap_or_default();
            let alert = still_profile.and_then(|p| p.alert_target.clone());
            if let Some(v) = &slot.violation {
                self.by_id.remove(&v.violation_id);
            }
            invalidate(account, &mut slot, reason, arn, alert, now_ms, out);
        }
        // A device no profile watches keeps its (empty) entry: its next datapoints are
        // skipped by the stamp check instead of asking the registry again.
    }
}

fn arn_of(profiles: &[Arc<CompiledProfile>], name: &str) -> String {
    profiles
        .iter()
        .find(|p| &*p.name == name)
        .map(|p| p.arn.clone())
        .unwrap_or_default()
}

fn alert_of(profiles: &[Arc<CompiledProfile>], name: &str) -> Option<String> {
    profiles
        .iter()
        .find(|p| &*p.name == name)
        .and_then(|p| p.alert_target.clone())
}

fn invalidate(
    account: &Arc<str>,
    slot: &mut Slot,
    reason: Invalidation,
    profile_arn: String,
    alert_target: Option<String>,
    now_ms: i64,
    out: &mut Output,
) {
    let Some(violation) = slot.violation.take() else {
        return;
    };
    slot.bad = 0;
    slot.good = 0;
    out.transitions.push(Transition {
        account: account.clone(),
        event: EventType::AlarmInvalidated,
        violation: *violation,
        value: None,
        time_ms: now_ms,
        alert_target,
        profile_arn,
        invalidation: Some(reason),
    });
}

/// The datapoint of a behavior (windowed sum or the value itself), judged, and the state
/// machine stepped.
#[allow(clippy::too_many_arguments)]
fn judge(
    account: &Arc<str>,
    thing: &str,
    registered: bool,
    slot: &mut Slot,
    stats: &mut HashMap<(Arc<str>, String), StatWindow>,
    profiles: &[Arc<CompiledProfile>],
    value: Cow<'_, Observed>,
    now_ms: i64,
    out: &mut Output,
) {
    let b = &slot.b;
    let value = match (b.duration_ms, value.as_ref()) {
        (Some(window), Observed::Number(n)) => {
            slot.window.push_back((now_ms, *n));
            while slot
                .window
                .front()
                .is_some_and(|(t, _)| *t <= now_ms - window)
            {
                slot.window.pop_front();
            }
            Cow::Owned(Observed::Number(slot.window.iter().map(|(_, v)| v).sum()))
        }
        _ => value,
    };
    let conforms = match &b.judge {
        Judge::MachineLearning => return,
        Judge::Static(test) => test.conforms(&value),
        Judge::Statistical(cmp, rank) => {
            let Observed::Number(n) = *value else {
                return;
            };
            let window = stats
                .entry((b.profile.clone(), b.behavior.name.clone()))
                .or_insert_with(|| {
                    let period_ms = b.duration_ms.unwrap_or(DEFAULT_STAT_WINDOW_MS);
                    StatWindow {
                        period_ms,
                        start_ms: now_ms - now_ms.rem_euclid(period_ms),
                        previous: Sketch::default(),
                        current: Sketch::default(),
                        threshold: None,
                        since_refresh: 0,
                    }
                });
            match window.observe(n, *rank, now_ms) {
                Some(threshold) => cmp.holds(n, threshold),
                None => true,
            }
        }
    };
    if conforms {
        slot.bad = 0;
        slot.good = slot.good.saturating_add(1);
        if slot.violation.is_some() && slot.good >= b.to_clear {
            let Some(mut violation) = slot.violation.take() else {
                return;
            };
            violation.last_data_ms = now_ms;
            out.transitions.push(Transition {
                account: account.clone(),
                event: EventType::AlarmCleared,
                violation: *violation,
                value: Some(value.into_owned()),
                time_ms: now_ms,
                alert_target: alert_of(profiles, &b.profile),
                profile_arn: arn_of(profiles, &b.profile),
                invalidation: None,
            });
            slot.good = 0;
        }
        return;
    }
    slot.good = 0;
    slot.bad = slot.bad.saturating_add(1);
    let shown = value.to_metric_value(b.integral);
    match slot.violation.as_deref_mut() {
        Some(active) => {
            active.last_violation_value = Some(shown);
            active.last_violation_ms = now_ms;
            active.last_data_ms = now_ms;
            out.updated.push((account.clone(), active.clone()));
        }
        None if slot.bad >= b.to_alarm => {
            let violation = Violation {
                violation_id: uuid::Uuid::new_v4().simple().to_string(),
                thing_name: thing.to_string(),
                security_profile_name: b.profile.to_string(),
                behavior: b.behavior.clone(),
                last_violation_value: Some(shown),
                verification_state: None,
                verification_state_description: None,
                last_violation_ms: now_ms,
                violation_start_ms: now_ms,
                last_data_ms: now_ms,
                hub_updated_ms: now_ms,
                registered,
            };
            out.transitions.push(Transition {
                account: account.clone(),
                event: EventType::InAlarm,
                violation: violation.clone(),
                value: Some(value.into_owned()),
                time_ms: now_ms,
                alert_target: alert_of(profiles, &b.profile),
                profile_arn: arn_of(profiles, &b.profile),
                invalidation: None,
            });
            slot.violation = Some(Box::new(violation));
        }
        None => {}
    }
}
