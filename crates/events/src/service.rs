//! The notification service: its parts, start-up (state and outbox restored from the store)
//! and the checks every operation shares.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use fleetward_ca::CertificateAuthority;
use fleetward_model::{Caller, Clock};
use fleetward_store::Store;

use crate::arn::{self, SubscriptionArn, TopicArn};
use crate::error::{SnsError, SnsResult};
use crate::outbox::{Job, Outbox, OutboxMessage};
use crate::persist::{self, Writer};
use crate::records::{
    self, DONE, MESSAGE, MessageRecord, RETRY, RetryRecord, SUBSCRIPTION, SubscriptionRecord,
    TOPIC, TopicRecord,
};
use crate::signing::Signer;
use crate::signing_pool::SigningPool;
use crate::sinks::{FileSink, FirehoseSink, HttpSender, MqttSink};
use crate::state::{State, SubscriptionState, TopicState};

/// How often changed delivery statistics are stored.
const STATS_FLUSH_EVERY: Duration = Duration::from_secs(1);
/// How often expired pending subscriptions are removed.
const PENDING_SWEEP_EVERY_MS: i64 = 60_000;

/// Settings of the notification service.
pub struct EventsConfig {
    pub region: String,
    /// Holds the signing key and certificate, and `notifications/` for `file` subscriptions.
    pub data_dir: PathBuf,
    /// The API listener as subscribers reach it (`http://host:port`): SubscribeURL,
    /// UnsubscribeURL and SigningCertURL start with it.
    pub public_url: String,
    /// Deliveries in flight at once, all subscriptions together.
    pub max_in_flight: usize,
}

impl EventsConfig {
    pub fn new(region: &str, data_dir: PathBuf, public_url: &str) -> Self {
        Self {
            region: region.to_string(),
            data_dir,
            public_url: public_url.trim_end_matches('/').to_string(),
            max_in_flight: 512,
        }
    }
}

/// Topics, subscriptions and the durable outbox behind the `sns` API and the internal
/// publish path.
pub struct Events {
    pub(crate) me: Weak<Events>,
    pub(crate) config: EventsConfig,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) writer: Writer,
    pub(crate) state: Mutex<State>,
    pub(crate) signer: Arc<Signer>,
    pub(crate) http: HttpSender,
    pub(crate) files: FileSink,
    pub(crate) mqtt: Option<Arc<dyn MqttSink>>,
    /// The export service, for `firehose` subscriptions (set once at start).
    pub(crate) firehose: std::sync::OnceLock<Arc<dyn FirehoseSink>>,
    pub(crate) outbox: Outbox,
    pub(crate) permits: tokio::sync::Semaphore,
    /// RSA signing is the CPU-heavy step: made on threads of its own, one per core.
    pub(crate) signing: SigningPool,
    pub(crate) next_seq: AtomicU64,
}

impl Events {
    /// Restores topics, subscriptions and undelivered messages from the store, then starts
    /// delivering what was pending. `mqtt`: the device gateway, for `mqtt` subscriptions.
    pub async fn open(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        ca: &CertificateAuthority,
        mqtt: Option<Arc<dyn MqttSink>>,
        config: EventsConfig,
    ) -> Result<Arc<Events>, String> {
        let now = clock.now_ms();
        let dir = config.data_dir.clone();
        // At first start this generates an RSA key: a moment, once.
        let signer = Arc::new(Signer::load_or_create(&dir, ca, now)?);
        let signing = SigningPool::start(
            signer.clone(),
            std::thread::available_parallelism().map_or(2, |n| n.get()),
        )?;
        let http = HttpSender::new(Some(ca.root_pem()))?;
        let files = FileSink::new(config.data_dir.join("notifications"));
        let loaded = load(store.as_ref()).await.map_err(|e| e.to_string())?;
        let events = Arc::new_cyclic(|me| Events {
            me: me.clone(),
            permits: tokio::sync::Semaphore::new(config.max_in_flight.max(1)),
            signing,
            config,
            clock,
            writer: Writer::start(store),
            state: Mutex::new(State::default()),
            signer,
            http,
            files,
            mqtt,
            firehose: std::sync::OnceLock::new(),
            outbox: Outbox::default(),
            next_seq: AtomicU64::new(loaded.max_seq + 1),
        });
        let jobs = events.install(loaded);
        tracing::info!(pending = jobs.len(), "Notification topics loaded.");
        for (job, delay_ms) in jobs {
            events.dispatch(job, delay_ms);
        }
        tokio::spawn(maintain_forever(Arc::downgrade(&events)));
        Ok(events)
    }

    /// Connects `firehose` subscriptions to the export service (once).
    pub fn set_firehose_sink(&self, sink: Arc<dyn FirehoseSink>) {
        let _ = self.firehose.set(sink);
    }

    /// Puts the loaded records in memory; returns the deliveries still to make.
    fn install(&self, loaded: Loaded) -> Vec<(Job, u64)> {
        let now = self.clock.now_ms();
        let mut state = self.lock();
        for (account, topic) in loaded.topics {
            state.account_mut(&account).topics.insert(
                topic.name.clone(),
                TopicState {
                    record: topic,
                    subscriptions: BTreeSet::new(),
                },
            );
        }
        for (account, sub) in loaded.subscriptions {
            let Some(topic) = state.topic_mut(&account, &sub.topic) else {
                continue;
            };
            topic.subscriptions.insert(sub.id.clone());
            state
                .account_mut(&account)
                .subscriptions
                .insert(sub.id.clone(), SubscriptionState::new(sub));
        }
        let mut jobs = Vec::new();
        let mut cleanup = Vec::new();
        for (account, seq, record) in loaded.messages {
            let done = loaded.done.get(&(account.clone(), seq));
            let todo: Vec<String> = record
                .targets
                .iter()
                .filter(|t| done.is_none_or(|d| !d.contains(*t)))
                .cloned()
                .collect();
            let mut extra: Vec<(&'static str, String)> = Vec::new();
            for target in &record.targets {
                if done.is_some_and(|d| d.contains(target)) {
                    extra.push((DONE, records::target_key(seq, target)));
                }
                if loaded
                    .retries
                    .contains_key(&(account.clone(), seq, target.clone()))
                {
                    extra.push((RETRY, records::target_key(seq, target)));
                }
            }
            if todo.is_empty() {
                cleanup.push(persist::delete(
                    &account,
                    MESSAGE,
                    &records::message_key(seq),
                ));
                cleanup.extend(
                    extra
                        .iter()
                        .map(|(k, key)| persist::delete(&account, k, key)),
                );
                continue;
            }
            let message = OutboxMessage::new(seq, account.clone(), record, todo.len(), extra);
            for target in todo {
                if let Some(sub) = state.subscription_mut(&account, &target) {
                    sub.pending += 1;
                }
                let retry = loaded.retries.get(&(account.clone(), seq, target.clone()));
                let failures = retry.map_or(0, |r| r.failures);
                let delay = retry.map_or(0, |r| (r.next_ms - now).max(0) as u64);
                jobs.push((Job::new(message.clone(), target, failures), delay));
            }
            self.outbox.added();
        }
        self.writer.submit_later(cleanup);
        jobs
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere must not take the whole service down with a poisoned lock.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn region(&self) -> &str {
        &self.config.region
    }

    pub(crate) fn topic_arn(&self, account: &str, name: &str) -> String {
        arn::topic_arn(&self.config.region, account, name)
    }

    pub(crate) fn subscription_arn(&self, account: &str, topic: &str, id: &str) -> String {
        format!("{}:{id}", self.topic_arn(account, topic))
    }

    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::Relaxed)
    }

    /// Parses a topic ARN of this region and checks the caller owns it: another account's
    /// topic is an AuthorizationError whether or not it exists (nothing leaks across accounts).
    pub(crate) fn caller_topic(
        &self,
        caller: &Caller,
        arn_text: &str,
        parameter: &str,
        action: &str,
    ) -> SnsResult<TopicArn> {
        let topic = arn::parse_topic(arn_text, parameter)?;
        self.check_access(caller, &topic, arn_text, action)?;
        Ok(topic)
    }

    pub(crate) fn caller_subscription(
        &self,
        caller: &Caller,
        arn_text: &str,
        action: &str,
    ) -> SnsResult<SubscriptionArn> {
        let sub = arn::parse_subscription(arn_text, "SubscriptionArn")?;
        self.check_access(caller, &sub.topic, arn_text, action)?;
        Ok(sub)
    }

    fn check_access(
        &self,
        caller: &Caller,
        topic: &TopicArn,
        arn_text: &str,
        action: &str,
    ) -> SnsResult<()> {
        if topic.region != self.config.region {
            return Err(SnsError::NotFound(format!(
                "Resource {arn_text} is not in region {}",
                self.config.region
            )));
        }
        if topic.account != caller.account_id {
            return Err(SnsError::AuthorizationError(format!(
                "User: {} is not authorized to perform: SNS:{action} on resource: {arn_text}",
                caller.identity
            )));
        }
        Ok(())
    }

    /// `SigningCertURL`.
    pub fn signing_cert_url(&self) -> String {
        format!(
            "{}/{}",
            self.config.public_url,
            self.signer.certificate_file_name()
        )
    }

    /// The signing certificate (then the issuing CA) when `file_name` is the last segment of
    /// the current `SigningCertURL`.
    pub fn signing_certificate(&self, file_name: &str) -> Option<&str> {
        (file_name == self.signer.certificate_file_name()).then(|| self.signer.certificate_pem())
    }

    pub(crate) fn subscribe_url(&self, topic_arn: &str, token: &str) -> String {
        format!(
            "{}/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}",
            self.config.public_url
        )
    }

    pub(crate) fn unsubscribe_url(&self, subscription_arn: &str, token: &str) -> String {
        format!(
            "{}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}&Token={token}",
            self.config.public_url
        )
    }

    /// Stores what is queued (delivery progress and statistics) before a clean stop, so a
    /// restart delivers nothing twice.
    pub async fn flush(&self) {
        self.maintain(false);
        if let Err(e) = self.writer.barrier().wait().await {
            tracing::error!(error = %e, "Cannot store notification state at shutdown.");
        }
    }

    /// Stores changed delivery statistics and removes pending subscriptions whose
    /// confirmation token expired.
    fn maintain(&self, sweep: bool) {
        let now = self.now_ms();
        let mut state = self.lock();
        let dirty: Vec<(String, String)> = state.dirty.drain().collect();
        let mut writes = Vec::new();
        for (account, id) in dirty {
            if let Some(sub) = state.subscription(&account, &id) {
                writes.push(persist::put(
                    &account,
                    SUBSCRIPTION,
                    &id,
                    records::encode(&sub.record),
                    now,
                ));
            }
        }
        if sweep {
            let expired: Vec<(String, String)> = state
                .accounts
                .iter()
                .flat_map(|(account, a)| {
                    a.subscriptions
                        .values()
                        .filter(|s| !s.record.confirmed && s.record.token_expires_ms < now)
                        .map(|s| (account.clone(), s.record.id.clone()))
                        .collect::<Vec<_>>()
                })
                .collect();
            for (account, id) in expired {
                writes.extend(crate::subscriptions::remove(&mut state, &account, &id, now));
            }
        }
        self.writer.submit_later(writes);
    }
}

async fn maintain_forever(events: Weak<Events>) {
    let mut every = tokio::time::interval(STATS_FLUSH_EVERY);
    let mut last_sweep = 0;
    loop {
        every.tick().await;
        let Some(events) = events.upgrade() else {
            return;
        };
        let now = events.now_ms();
        let sweep = now - last_sweep >= PENDING_SWEEP_EVERY_MS;
        if sweep {
            last_sweep = now;
        }
        events.maintain(sweep);
    }
}

/// Everything stored, read at start.
#[derive(Default)]
struct Loaded {
    topics: Vec<(String, TopicRecord)>,
    subscriptions: Vec<(String, SubscriptionRecord)>,
    messages: Vec<(String, u64, MessageRecord)>,
    done: HashMap<(String, u64), HashSet<String>>,
    retries: HashMap<(String, u64, String), RetryRecord>,
    max_seq: u64,
}

async fn load(store: &dyn Store) -> SnsResult<Loaded> {
    let mut loaded = Loaded::default();
    for account in store.list_accounts().await? {
        let account = account.account_id;
        for doc in persist::load_all(store, &account, TOPIC).await? {
            if let Some(topic) = persist::decode::<TopicRecord>(&doc) {
                loaded.topics.push((account.clone(), topic));
            }
        }
        for doc in persist::load_all(store, &account, SUBSCRIPTION).await? {
            if let Some(sub) = persist::decode::<SubscriptionRecord>(&doc) {
                loaded.subscriptions.push((account.clone(), sub));
            }
        }
        for doc in persist::load_all(store, &account, MESSAGE).await? {
            let (Ok(seq), Some(record)) = (
                doc.key.parse::<u64>(),
                persist::decode::<MessageRecord>(&doc),
            ) else {
                continue;
            };
            loaded.max_seq = loaded.max_seq.max(seq);
            loaded.messages.push((account.clone(), seq, record));
        }
        for doc in persist::load_all(store, &account, DONE).await? {
            if let Some((seq, id)) = records::parse_target_key(&doc.key) {
                loaded.max_seq = loaded.max_seq.max(seq);
                loaded
                    .done
                    .entry((account.clone(), seq))
                    .or_default()
                    .insert(id.to_string());
            }
        }
        for doc in persist::load_all(store, &account, RETRY).await? {
            let (Some((seq, id)), Some(retry)) = (
                records::parse_target_key(&doc.key),
                persist::decode::<RetryRecord>(&doc),
            ) else {
                continue;
            };
            loaded.max_seq = loaded.max_seq.max(seq);
            loaded
                .retries
                .insert((account.clone(), seq, id.to_string()), retry);
        }
    }
    // Publish order across accounts, so the oldest pending messages go first.
    loaded.messages.sort_by_key(|(_, seq, _)| *seq);
    Ok(loaded)
}
