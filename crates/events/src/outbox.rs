//! Delivering what the outbox holds: one job per (message, subscription), sent, retried by
//! the subscription's effective delivery policy, and finished durably.
//!
//! A message document is committed before Publish answers. When a target finishes
//! (delivered, or its retries are spent) a small `sns.done` document records it; the last
//! target deletes the message and those records. A failed attempt stores its retry count and
//! due time (`sns.retry`), so a restart resumes the schedule instead of starting it over.
//! These progress writes are not awaited: after a crash a message may be delivered again
//! (at least once, as SNS).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::delivery_policy::{self, EffectivePolicy};
use crate::envelope;
use crate::persist;
use crate::records::{self, DONE, MESSAGE, MessageKind, MessageRecord, RETRY, RetryRecord};
use crate::service::Events;
use crate::signing::SignatureVersion;
use crate::sinks::HttpDelivery;
use crate::validate::Protocol;

/// Messages with undelivered targets (a gauge on /metrics).
#[derive(Default)]
pub struct Outbox {
    messages: AtomicUsize,
}

impl Outbox {
    pub fn added(&self) {
        let now = self.messages.fetch_add(1, Ordering::Relaxed) + 1;
        metrics::gauge!("fleetward_sns_outbox_messages").set(now as f64);
    }

    fn remove(&self) {
        let now = self
            .messages
            .fetch_sub(1, Ordering::Relaxed)
            .saturating_sub(1);
        metrics::gauge!("fleetward_sns_outbox_messages").set(now as f64);
    }
}

pub struct OutboxMessage {
    pub seq: u64,
    pub account: String,
    pub record: MessageRecord,
    progress: Mutex<Progress>,
    /// The signature of the common message text (most messages: every target gets it).
    signature: OnceLock<(SignatureVersion, String)>,
    /// When Publish accepted it, for the publish-to-delivery histogram.
    accepted: std::time::Instant,
}

struct Progress {
    remaining: usize,
    /// Progress documents to delete with the message.
    extra: Vec<(&'static str, String)>,
}

impl OutboxMessage {
    pub fn new(
        seq: u64,
        account: String,
        record: MessageRecord,
        remaining: usize,
        extra: Vec<(&'static str, String)>,
    ) -> Arc<Self> {
        Arc::new(Self {
            seq,
            account,
            record,
            progress: Mutex::new(Progress { remaining, extra }),
            signature: OnceLock::new(),
            accepted: std::time::Instant::now(),
        })
    }
}

/// One delivery to make.
pub struct Job {
    pub message: Arc<OutboxMessage>,
    pub subscription_id: String,
    /// Failed attempts so far.
    pub failures: u64,
}

impl Job {
    pub fn new(message: Arc<OutboxMessage>, subscription_id: String, failures: u64) -> Self {
        Self {
            message,
            subscription_id,
            failures,
        }
    }
}

/// Where and how one job is delivered, read from the state at the attempt.
struct Target {
    protocol: Protocol,
    endpoint: String,
    raw: bool,
    topic_arn: String,
    subscription_arn: String,
    unsubscribe_url: String,
    policy: EffectivePolicy,
    signature_version: SignatureVersion,
    throttle_wait_ms: u64,
}

impl Events {
    /// Delivers `job` after `delay_ms`.
    pub(crate) fn dispatch(&self, job: Job, delay_ms: u64) {
        let Some(me) = self.me.upgrade() else {
            return;
        };
        tokio::spawn(async move {
            if delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            }
            me.deliver(job).await;
        });
    }

    async fn deliver(self: Arc<Self>, job: Job) {
        let Some(target) = self.target(&job) else {
            // Unsubscribed or topic deleted meanwhile: nothing to deliver to.
            self.finish(&job);
            return;
        };
        if target.throttle_wait_ms > 0 {
            tokio::time::sleep(Duration::from_millis(target.throttle_wait_ms)).await;
        }
        let result = match self.permits.acquire().await {
            Ok(_permit) => self.send(&job, &target).await,
            Err(_) => return,
        };
        self.record_outcome(job, &target, result);
    }

    fn target(&self, job: &Job) -> Option<Target> {
        let account = &job.message.account;
        let now = self.now_ms();
        let mut state = self.lock();
        let topic_name = state
            .subscription(account, &job.subscription_id)?
            .record
            .topic
            .clone();
        let topic = state.topic(account, &topic_name)?;
        let topic_policy = topic.record.attributes.get("DeliveryPolicy").cloned();
        let signature_version = SignatureVersion::from_attribute(
            topic
                .record
                .attributes
                .get("SignatureVersion")
                .map(String::as_str),
        );
        let sub = state.subscription_mut(account, &job.subscription_id)?;
        // Notifications go to confirmed subscriptions, confirmation requests to pending ones.
        let wants_confirmed = job.message.record.kind == MessageKind::Notification;
        if sub.record.confirmed != wants_confirmed {
            return None;
        }
        let protocol = Protocol::parse(&sub.record.protocol).ok()?;
        // Only HTTP/S delivery policies can be changed (as in SNS).
        let policy = if protocol.is_http() {
            delivery_policy::effective(
                topic_policy.as_deref(),
                sub.record
                    .attributes
                    .get("DeliveryPolicy")
                    .map(String::as_str),
            )
        } else {
            delivery_policy::effective(None, None)
        };
        let throttle_wait_ms = match policy.max_receives_per_second {
            Some(rate) => {
                let slot = sub.next_slot_ms.max(now);
                sub.next_slot_ms = slot + (1000 / rate as i64).max(1);
                (slot - now) as u64
            }
            None => 0,
        };
        let record = &sub.record;
        let subscription_arn = format!("{}:{}", self.topic_arn(account, &record.topic), record.id);
        Some(Target {
            protocol,
            endpoint: record.endpoint.clone(),
            raw: record.raw_delivery(),
            topic_arn: self.topic_arn(account, &record.topic),
            unsubscribe_url: self.unsubscribe_url(&subscription_arn, &record.unsubscribe_token),
            subscription_arn,
            policy,
            signature_version,
            throttle_wait_ms,
        })
    }

    async fn send(self: &Arc<Self>, job: &Job, target: &Target) -> Result<(), String> {
        let record = &job.message.record;
        let message = record.message_for(target.protocol.name());
        let raw = target.raw && record.kind == MessageKind::Notification;
        let body = if raw {
            message.to_string()
        } else {
            self.signed_body(job, target).await?
        };
        match target.protocol {
            Protocol::Http | Protocol::Https => {
                let notification = record.kind == MessageKind::Notification;
                self.http
                    .send(HttpDelivery {
                        url: &target.endpoint,
                        body,
                        content_type: &target.policy.content_type,
                        message_type: record.kind.type_name(),
                        message_id: &record.message_id,
                        topic_arn: &target.topic_arn,
                        subscription_arn: notification.then_some(target.subscription_arn.as_str()),
                        raw,
                    })
                    .await
            }
            Protocol::Mqtt => match &self.mqtt {
                Some(sink) => {
                    sink.publish(&job.message.account, &target.endpoint, body.into_bytes())
                        .await
                }
                None => Err("no device gateway is running".to_string()),
            },
            Protocol::File => self.files.append(&target.endpoint, body).await,
            Protocol::Firehose => match self.firehose.get() {
                Some(sink) => {
                    sink.put(&job.message.account, &target.endpoint, body.into_bytes())
                        .await
                }
                None => Err("the export service is not running".to_string()),
            },
        }
    }

    /// The SNS JSON document, signed. RSA signing takes a while: it runs on the signing
    /// threads, and a message's signature is made once for all its targets.
    async fn signed_body(self: &Arc<Self>, job: &Job, target: &Target) -> Result<String, String> {
        let record = &job.message.record;
        let message = record.message_for(target.protocol.name()).to_string();
        let subscribe_url = match &record.token {
            Some(token) => self.subscribe_url(&target.topic_arn, token),
            None => String::new(),
        };
        let version = target.signature_version;
        let shared = record.per_protocol.is_none();
        let cached = job
            .message
            .signature
            .get()
            .filter(|(v, _)| shared && *v == version)
            .map(|(_, s)| s.clone());
        let signature = match cached {
            Some(signature) => signature,
            None => {
                let to_sign =
                    envelope::string_to_sign(record, &message, &target.topic_arn, &subscribe_url);
                let signature = self.signing.sign(version, to_sign).await?;
                if shared {
                    let _ = job.message.signature.set((version, signature.clone()));
                }
                signature
            }
        };
        let cert_url = self.signing_cert_url();
        Ok(envelope::body(
            record,
            &envelope::Delivery {
                topic_arn: &target.topic_arn,
                message: &message,
                signature_version: version,
                signature: &signature,
                signing_cert_url: &cert_url,
                unsubscribe_url: &target.unsubscribe_url,
                subscribe_url: &subscribe_url,
            },
        ))
    }

    fn record_outcome(&self, job: Job, target: &Target, result: Result<(), String>) {
        let now = self.now_ms();
        let protocol = target.protocol.name();
        let retry_in = match &result {
            Ok(()) => None,
            Err(_) => target.policy.retry.delay_before_retry_ms(job.failures + 1),
        };
        {
            let account = &job.message.account;
            let mut state = self.lock();
            if let Some(sub) = state.subscription_mut(account, &job.subscription_id) {
                let stats = &mut sub.record.stats;
                stats.last_attempt_ms = now;
                match &result {
                    Ok(()) => {
                        stats.succeeded += 1;
                        stats.last_status = "SUCCESS".into();
                    }
                    Err(e) => {
                        stats.failed_attempts += 1;
                        stats.last_error = e.clone();
                        if retry_in.is_some() {
                            stats.last_status = "RETRYING".into();
                        } else {
                            stats.failed += 1;
                            stats.last_status = "FAILURE".into();
                        }
                    }
                }
                state
                    .dirty
                    .insert((account.clone(), job.subscription_id.clone()));
            }
        }
        match (&result, retry_in) {
            (Ok(()), _) => {
                metrics::counter!("fleetward_sns_deliveries_total", "protocol" => protocol, "outcome" => "delivered").increment(1);
                metrics::histogram!("fleetward_sns_publish_to_delivery_seconds")
                    .record(job.message.accepted.elapsed().as_secs_f64());
                self.finish(&job);
            }
            (Err(e), Some(delay)) => {
                tracing::debug!(subscription = %target.subscription_arn, error = %e, delay, "Delivery failed; will retry.");
                metrics::counter!("fleetward_sns_delivery_attempts_failed_total", "protocol" => protocol).increment(1);
                let failures = job.failures + 1;
                let retry = RetryRecord {
                    failures,
                    next_ms: now + delay as i64,
                };
                self.writer.submit_later(vec![persist::put(
                    &job.message.account,
                    RETRY,
                    &records::target_key(job.message.seq, &job.subscription_id),
                    records::encode(&retry),
                    now,
                )]);
                self.dispatch(Job { failures, ..job }, delay);
            }
            (Err(e), None) => {
                tracing::warn!(subscription = %target.subscription_arn, error = %e,
                    attempts = job.failures + 1, "Delivery failed; retries spent, message dropped.");
                metrics::counter!("fleetward_sns_delivery_attempts_failed_total", "protocol" => protocol).increment(1);
                metrics::counter!("fleetward_sns_deliveries_total", "protocol" => protocol, "outcome" => "failed").increment(1);
                let job = Job {
                    failures: job.failures + 1,
                    ..job
                };
                self.finish(&job);
            }
        }
    }

    /// This target is done: record it, or delete the message when it was the last.
    fn finish(&self, job: &Job) {
        let message = &job.message;
        let key = records::target_key(message.seq, &job.subscription_id);
        {
            let mut state = self.lock();
            if let Some(sub) = state.subscription_mut(&message.account, &job.subscription_id) {
                sub.pending = sub.pending.saturating_sub(1);
            }
        }
        let mut progress = message.progress.lock().unwrap_or_else(|p| p.into_inner());
        progress.remaining = progress.remaining.saturating_sub(1);
        if job.failures > 0 {
            progress.extra.push((RETRY, key.clone()));
        }
        // Queued under the progress lock: a DONE record is never queued after the delete.
        if progress.remaining == 0 {
            let mut writes = vec![persist::delete(
                &message.account,
                MESSAGE,
                &records::message_key(message.seq),
            )];
            writes.extend(
                progress
                    .extra
                    .drain(..)
                    .map(|(kind, key)| persist::delete(&message.account, kind, &key)),
            );
            self.writer.submit_later(writes);
            self.outbox.remove();
        } else {
            self.writer.submit_later(vec![persist::put(
                &message.account,
                DONE,
                &key,
                String::from("{}"),
                self.now_ms(),
            )]);
            progress.extra.push((DONE, key));
        }
    }
}
