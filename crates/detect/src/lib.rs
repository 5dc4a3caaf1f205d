//! Device Defender detect: security profiles and their behaviors (static, statistical; ML
//! behaviors are stored with model status PENDING_BUILD and not evaluated), custom metrics,
//! dimensions, the evaluation of every device's datapoints, violations with the in-alarm /
//! alarm-cleared / alarm-invalidated events, alerts to SNS topics, findings in the hub and
//! metrics export (spec/device-defender.md 2.1–2.8, 2.10 and the Detect operations of 5.1).
//!
//! # Feeding
//! The gateway hands every datapoint it records to [`Detect::feed_datapoint`] and, when
//! [`Detect::wants_messages`] says a profile needs them, every message to
//! [`Detect::feed_message`]. Both only queue; one task evaluates in batches (see
//! `engine.rs`), another commits the resulting transitions in one transaction per batch and
//! then delivers alerts and hub findings from a durable outbox (`runtime.rs`).
//!
//! # Public API for mitigation (issue 8)
//! - [`Detect::find_violations`] with a [`ViolationQuery`]: violations by ids, by behavior
//!   names and a time window (`violationEventOccurrenceRange`), active only or not, with or
//!   without suppressed alerts. Each answer is a [`ViolationRecord`] (id, thing, profile,
//!   behavior, start and last event times, whether still active and whether suppressed).
//! - [`Detect::active_violations`]: every active violation of an account.

mod catalog;
mod compiled;
pub mod engine;
mod error;
mod feed_queue;
mod input;
pub mod model;
mod outputs;
mod persist;
mod profiles;
mod resources;
mod runtime;
pub mod sets;
pub mod sketch;
mod validate;
mod violations;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use fleetward_hub::Hub;
use fleetward_model::Clock;
use fleetward_registry::Registry;
use fleetward_store::Store;
use tokio::sync::mpsc;

use crate::feed_queue::FeedQueue;

pub use catalog::Kind as MetricKind;
pub use compiled::{CompiledProfile, Target, compile};
pub use engine::{Engine, Membership, Output};
pub use error::{DetectError, DetectResult};
pub use fleetward_model::Caller;
pub use model::{Behavior, CustomMetric, Dimension, SecurityProfile, Violation};
pub use sets::Observed;
pub use violations::{ViolationQuery, ViolationRecord};

/// Where alerts go: the notification topics' durable internal publish.
#[async_trait::async_trait]
pub trait AlertNotifier: Send + Sync {
    async fn publish(
        &self,
        account_id: &str,
        topic_arn: &str,
        subject: &str,
        message_json: &str,
    ) -> Result<(), String>;
}

/// Where exported metrics go: an MQTT publish of Fleetward's own through the gateway.
#[async_trait::async_trait]
pub trait MetricsPublisher: Send + Sync {
    async fn publish(&self, account_id: &str, topic: &str, payload: Vec<u8>) -> Result<(), String>;
}

/// One account's detect configuration (memory mirror of the stored documents).
#[derive(Debug, Default, Clone)]
pub(crate) struct AccountConfig {
    pub profiles: BTreeMap<String, SecurityProfile>,
    pub custom_metrics: BTreeMap<String, CustomMetric>,
    pub dimensions: BTreeMap<String, Dimension>,
}

/// Inputs (datapoints, messages) waiting for evaluation at most; beyond, new ones are
/// dropped and counted. About a second of a busy gateway's datapoints (10 per report at
/// 20,000 reports/s is 200,000/s; evaluation runs at several times that).
pub const FEED_CAPACITY: usize = 262_144;

/// An input of the evaluator.
pub(crate) enum Feed {
    Datapoint {
        account: String,
        thing: String,
        metric: String,
        value: Observed,
    },
    Message {
        account: String,
        thing: String,
        client_id: String,
        topic: String,
        bytes: usize,
        authorized: bool,
    },
    /// Answered once everything queued before it is evaluated and committed.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// The registry as detect's view of thing membership.
struct RegistryMembership(Arc<Registry>);

impl Membership for RegistryMembership {
    fn groups(&self, account: &str, thing: &str) -> Option<Vec<String>> {
        self.0.detect_thing_groups(account, thing)
    }

    fn generation(&self) -> u64 {
        self.0.generation()
    }
}

pub struct Detect {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) region: String,
    pub(crate) registry: Arc<Registry>,
    pub(crate) hub: Arc<Hub>,
    pub(crate) notifier: Option<Arc<dyn AlertNotifier>>,
    pub(crate) exporter: OnceLock<Arc<dyn MetricsPublisher>>,
    pub(crate) console_base_url: String,
    pub(crate) config: tokio::sync::Mutex<HashMap<String, AccountConfig>>,
    pub(crate) engine: Mutex<Engine>,
    feed: FeedQueue<Feed>,
    feed_rx: Mutex<Option<mpsc::Receiver<Feed>>>,
    pub(crate) output_tx: mpsc::UnboundedSender<Output>,
    output_rx: Mutex<Option<mpsc::UnboundedReceiver<Output>>>,
    wants_messages: Arc<AtomicBool>,
}

impl Detect {
    /// Loads every account's profiles, custom metrics, dimensions and active violations.
    pub async fn open(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        region: &str,
        registry: Arc<Registry>,
        hub: Arc<Hub>,
        notifier: Option<Arc<dyn AlertNotifier>>,
        console_base_url: &str,
    ) -> DetectResult<Arc<Self>> {
        let (feed, feed_rx) = FeedQueue::new(FEED_CAPACITY);
        let (output_tx, output_rx) = mpsc::unbounded_channel();
        let membership: Arc<dyn Membership> = Arc::new(RegistryMembership(registry.clone()));
        let detect = Arc::new(Self {
            engine: Mutex::new(Engine::new(membership)),
            store,
            clock,
            region: region.to_string(),
            registry,
            hub,
            notifier,
            exporter: OnceLock::new(),
            console_base_url: console_base_url.to_string(),
            config: tokio::sync::Mutex::new(HashMap::new()),
            feed,
            feed_rx: Mutex::new(Some(feed_rx)),
            output_tx,
            output_rx: Mutex::new(Some(output_rx)),
            wants_messages: Arc::new(AtomicBool::new(false)),
        });
        detect.load().await?;
        Ok(detect)
    }

    /// Starts evaluation, the batch writer and delivery, and the periodic sweeps.
    pub fn start(self: &Arc<Self>) {
        let feed = self
            .feed_rx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let outputs = self
            .output_rx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let (Some(feed), Some(outputs)) = (feed, outputs) {
            runtime::start(self.clone(), feed, outputs);
        }
    }

    pub fn set_exporter(&self, exporter: Arc<dyn MetricsPublisher>) {
        let _ = self.exporter.set(exporter);
    }

    /// Whether some profile evaluates per message (aws:message-byte-size, dimensions).
    pub fn wants_messages(&self) -> bool {
        self.wants_messages.load(Ordering::Relaxed)
    }

    /// The same answer as a shared flag, for a caller on a hot path that holds no `Detect`.
    pub fn wants_messages_flag(&self) -> Arc<AtomicBool> {
        self.wants_messages.clone()
    }

    /// A datapoint recorded by the gateway (`value_json` is a `MetricValue` document).
    /// Evaluation time is detect's own clock (tests move it).
    pub fn feed_datapoint(&self, account: &str, thing: &str, metric: &str, value_json: &str) {
        let Some(value) = serde_json::from_str(value_json)
            .ok()
            .and_then(|v| Observed::from_json(&v))
        else {
            return;
        };
        self.feed.offer(Feed::Datapoint {
            account: account.to_string(),
            thing: thing.to_string(),
            metric: metric.to_string(),
            value,
        });
    }

    /// Inputs dropped so far because the evaluation queue was full.
    pub fn dropped_inputs(&self) -> u64 {
        self.feed.dropped()
    }

    /// A message a device published (`authorized`) or was refused.
    pub fn feed_message(
        &self,
        account: &str,
        thing: &str,
        client_id: &str,
        topic: &str,
        bytes: usize,
        authorized: bool,
    ) {
        self.feed.offer(Feed::Message {
            account: account.to_string(),
            thing: thing.to_string(),
            client_id: client_id.to_string(),
            topic: topic.to_string(),
            bytes,
            authorized,
        });
    }

    /// Waits until everything fed so far is evaluated and its violations are committed
    /// (shutdown: a violation seen before a clean stop is there after the restart).
    pub async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.feed.send(Feed::Flush(tx)).await {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), rx).await;
        }
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn arn(&self, account: &str, resource: &str) -> String {
        fleetward_model::arn("iot", &self.region, account, resource)
    }

    /// Recompiles an account's profiles into the engine (after any configuration change).
    pub(crate) fn recompile(&self, account: &str, config: &AccountConfig) {
        let dims = |name: &str| config.dimensions.get(name).map(|d| d.string_values.clone());
        let kinds = |name: &str| {
            config
                .custom_metrics
                .get(name)
                .and_then(|m| catalog::Kind::of_custom_type(&m.metric_type))
        };
        let compiled: Vec<Arc<CompiledProfile>> = config
            .profiles
            .values()
            .filter(|p| !p.targets.is_empty())
            .map(|p| {
                let arn = self.arn(account, &format!("securityprofile/{}", p.name));
                Arc::new(compile(p, arn, &self.region, account, &dims, &kinds))
            })
            .collect();
        let per_message = compiled.iter().any(|p| {
            p.behaviors
                .iter()
                .any(|b| b.per_message || b.dimension.is_some())
        });
        if per_message {
            self.wants_messages.store(true, Ordering::Relaxed);
        }
        let mut out = Output::default();
        self.engine
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .set_profiles(account, compiled, self.now(), &mut out);
        let _ = self.output_tx.send(out);
    }

    async fn load(&self) -> DetectResult<()> {
        let accounts = self.store.list_accounts().await?;
        let mut configs = self.config.lock().await;
        for account in accounts {
            let id = account.account_id;
            let mut config = AccountConfig::default();
            for (name, p) in
                persist::load_all::<SecurityProfile>(self.store.as_ref(), &id, persist::PROFILE)
                    .await?
            {
                config.profiles.insert(name, p);
            }
            for (name, m) in
                persist::load_all::<CustomMetric>(self.store.as_ref(), &id, persist::CUSTOM_METRIC)
                    .await?
            {
                config.custom_metrics.insert(name, m);
            }
            for (name, d) in
                persist::load_all::<Dimension>(self.store.as_ref(), &id, persist::DIMENSION).await?
            {
                config.dimensions.insert(name, d);
            }
            self.recompile(&id, &config);
            let violations =
                persist::load_all::<Violation>(self.store.as_ref(), &id, persist::VIOLATION)
                    .await?;
            let now = self.now();
            let mut out = Output::default();
            {
                let mut engine = self.engine.lock().unwrap_or_else(PoisonError::into_inner);
                for (_, v) in violations {
                    engine.restore(&id, v, now, &mut out);
                }
            }
            let _ = self.output_tx.send(out);
            configs.insert(id, config);
        }
        Ok(())
    }
}
