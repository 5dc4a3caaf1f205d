//! Publish (the API) and the internal publish path of audit, detect and mitigation: both
//! answer only once the message is committed to the outbox.

use std::sync::Arc;

use fleetward_model::Caller;
use fleetward_store::DocumentWrite;

use crate::arn;
use crate::error::{SnsError, SnsResult};
use crate::outbox::OutboxMessage;
use crate::persist;
use crate::records::{self, MESSAGE, MessageKind, MessageRecord};
use crate::service::Events;
use crate::state::State;
use crate::validate::{self, AttributeInput, MAX_MESSAGE_BYTES};

/// A Publish request.
#[derive(Debug, Clone, Default)]
pub struct PublishInput {
    pub topic_arn: Option<String>,
    pub target_arn: Option<String>,
    pub phone_number: Option<String>,
    pub message: Option<String>,
    pub subject: Option<String>,
    pub message_structure: Option<String>,
    pub attributes: Vec<AttributeInput>,
    pub message_group_id: Option<String>,
    pub message_deduplication_id: Option<String>,
}

impl Events {
    /// Publish: checks everything, then commits the message with one delivery per confirmed
    /// subscription and returns its MessageId.
    pub async fn publish(&self, caller: &Caller, input: PublishInput) -> SnsResult<String> {
        if input.phone_number.is_some() {
            return Err(SnsError::invalid_because(
                "PhoneNumber",
                "Fleetward does not send SMS",
            ));
        }
        let arn_text = match (&input.topic_arn, &input.target_arn) {
            (Some(t), None) | (None, Some(t)) => t.clone(),
            (Some(_), Some(_)) => {
                return Err(SnsError::invalid_because(
                    "TopicArn or TargetArn",
                    "both may not be specified",
                ));
            }
            (None, None) => {
                return Err(SnsError::invalid_because(
                    "TopicArn or TargetArn",
                    "one must be specified",
                ));
            }
        };
        let parameter = if input.topic_arn.is_some() {
            "TopicArn"
        } else {
            "TargetArn"
        };
        let topic = self.caller_topic(caller, &arn_text, parameter, "Publish")?;
        if input.message_group_id.is_some() || input.message_deduplication_id.is_some() {
            return Err(SnsError::invalid_because(
                "MessageGroupId",
                "The request includes MessageGroupId or MessageDeduplicationId, which only FIFO topics take",
            ));
        }
        let message = input.message.unwrap_or_default();
        if message.is_empty() {
            return Err(SnsError::invalid("Empty message"));
        }
        let per_protocol = match input.message_structure.as_deref() {
            None => None,
            Some("json") => Some(validate::structured_message(&message)?),
            Some(_) => return Err(SnsError::invalid("MessageStructure")),
        };
        if let Some(subject) = &input.subject {
            validate::subject(subject)?;
        }
        let attributes = validate::message_attributes(&input.attributes)?;
        if message.len() + validate::attributes_size(&attributes) > MAX_MESSAGE_BYTES {
            return Err(SnsError::invalid("Message too long"));
        }
        let record = MessageRecord {
            kind: MessageKind::Notification,
            topic: topic.name.clone(),
            message_id: uuid::Uuid::new_v4().to_string(),
            subject: input.subject,
            message,
            per_protocol,
            attributes,
            timestamp_ms: self.now_ms(),
            token: None,
            targets: Vec::new(),
        };
        self.enqueue(&caller.account_id, record).await
    }

    /// The internal publish path: a notification from Fleetward itself (audit finished, alarm,
    /// mitigation) to a topic of `account`, as durable as Publish.
    pub async fn publish_internal(
        &self,
        account: &str,
        topic_arn: &str,
        subject: Option<&str>,
        message: &str,
    ) -> SnsResult<String> {
        let topic = arn::parse_topic(topic_arn, "TopicArn")?;
        if topic.account != account || topic.region != self.region() {
            return Err(SnsError::topic_not_found());
        }
        if message.is_empty() {
            return Err(SnsError::invalid("Empty message"));
        }
        if message.len() > MAX_MESSAGE_BYTES {
            return Err(SnsError::invalid("Message too long"));
        }
        if let Some(subject) = subject {
            validate::subject(subject)?;
        }
        let record = MessageRecord {
            kind: MessageKind::Notification,
            topic: topic.name,
            message_id: uuid::Uuid::new_v4().to_string(),
            subject: subject.map(str::to_string),
            message: message.to_string(),
            per_protocol: None,
            attributes: Vec::new(),
            timestamp_ms: self.now_ms(),
            token: None,
            targets: Vec::new(),
        };
        self.enqueue(account, record).await
    }

    /// Targets the topic's confirmed subscriptions, commits, then starts delivering.
    async fn enqueue(&self, account: &str, mut record: MessageRecord) -> SnsResult<String> {
        let message_id = record.message_id.clone();
        let (message, pending) = {
            let mut state = self.lock();
            let topic = state
                .topic(account, &record.topic)
                .ok_or_else(SnsError::topic_not_found)?;
            record.targets = topic
                .subscriptions
                .iter()
                .filter(|id| {
                    state
                        .subscription(account, id)
                        .is_some_and(|s| s.record.confirmed)
                })
                .cloned()
                .collect();
            metrics::counter!("fleetward_sns_messages_published_total").increment(1);
            if record.targets.is_empty() {
                // Nobody to deliver to: nothing to keep, as in SNS.
                return Ok(message_id);
            }
            let (message, write) = self.stage(&mut state, account, record);
            (message, self.writer.submit(vec![write]))
        };
        if let Err(e) = pending.wait().await {
            self.unstage(&message);
            return Err(e);
        }
        self.launch(message);
        Ok(message_id)
    }

    /// Gives the message its sequence number and counts it as pending for its targets;
    /// returns it with the write that stores it.
    pub(crate) fn stage(
        &self,
        state: &mut State,
        account: &str,
        record: MessageRecord,
    ) -> (Arc<OutboxMessage>, DocumentWrite) {
        let seq = self.next_seq();
        let now = self.now_ms();
        for target in &record.targets {
            if let Some(sub) = state.subscription_mut(account, target) {
                sub.pending += 1;
            }
        }
        let write = persist::put(
            account,
            MESSAGE,
            &records::message_key(seq),
            records::encode(&record),
            now,
        );
        let targets = record.targets.len();
        let message = OutboxMessage::new(seq, account.to_string(), record, targets, Vec::new());
        (message, write)
    }

    /// Undoes [`Events::stage`] when the commit failed.
    pub(crate) fn unstage(&self, message: &OutboxMessage) {
        let mut state = self.lock();
        for target in &message.record.targets {
            if let Some(sub) = state.subscription_mut(&message.account, target) {
                sub.pending = sub.pending.saturating_sub(1);
            }
        }
    }
}
