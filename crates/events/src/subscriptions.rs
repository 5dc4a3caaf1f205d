//! Subscription operations: Subscribe, ConfirmSubscription, Unsubscribe, the two list
//! operations and Get/SetSubscriptionAttributes.

use std::collections::BTreeMap;
use std::ops::Bound;

use fleetward_model::Caller;
use fleetward_store::DocumentWrite;
use rand::RngCore;

use crate::arn;
use crate::attributes;
use crate::envelope;
use crate::error::{SnsError, SnsResult};
use crate::outbox::OutboxMessage;
use crate::persist;
use crate::records::{self, MessageKind, MessageRecord, SUBSCRIPTION, SubscriptionRecord, TOPIC};
use crate::service::Events;
use crate::state::{State, SubscriptionState, page};
use crate::topics::PAGE_SIZE;
use crate::validate::{self, Protocol};

/// What Subscribe answers for a subscription that waits for confirmation.
pub const PENDING_CONFIRMATION: &str = "pending confirmation";
/// What the list operations show instead of a pending subscription's ARN.
pub const PENDING_IN_LISTS: &str = "PendingConfirmation";
/// SNS: a confirmation token (and an unconfirmed subscription) lasts three days.
const TOKEN_LIFETIME_MS: i64 = 3 * 86_400_000;
const MAX_SUBSCRIPTIONS_PER_TOPIC: usize = 100_000;

/// One row of ListSubscriptions / ListSubscriptionsByTopic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionSummary {
    pub subscription_arn: String,
    pub owner: String,
    pub protocol: String,
    pub endpoint: String,
    pub topic_arn: String,
}

impl Events {
    /// Subscribe. HTTP/S subscriptions are pending until confirmed (a SubscriptionConfirmation
    /// is sent through the outbox); `mqtt` and `file` ones are confirmed at once.
    pub async fn subscribe(
        &self,
        caller: &Caller,
        topic_arn: &str,
        protocol: &str,
        endpoint: Option<&str>,
        requested: &[(String, String)],
        return_arn: bool,
    ) -> SnsResult<String> {
        let topic = self.caller_topic(caller, topic_arn, "TopicArn", "Subscribe")?;
        let protocol = Protocol::parse(protocol)?;
        let endpoint = endpoint.ok_or_else(|| SnsError::invalid("Endpoint"))?;
        validate::endpoint(protocol, endpoint)?;
        let mut wanted = BTreeMap::new();
        for (name, value) in requested {
            if let Some(v) = attributes::check_subscription_attribute(protocol, name, value)? {
                wanted.insert(name.clone(), v);
            }
        }
        let account = &caller.account_id;
        let now = self.now_ms();
        let (answer, pending, message) = {
            let mut state = self.lock();
            let t = state
                .topic(account, &topic.name)
                .ok_or_else(SnsError::topic_not_found)?;
            let existing = t
                .subscriptions
                .iter()
                .filter_map(|id| state.subscription(account, id))
                .find(|s| s.record.protocol == protocol.name() && s.record.endpoint == endpoint)
                .map(|s| s.record.clone());
            if existing.is_none() && t.subscriptions.len() >= MAX_SUBSCRIPTIONS_PER_TOPIC {
                return Err(SnsError::SubscriptionLimitExceeded(
                    "Subscription limit exceeded".to_string(),
                ));
            }
            let mut record = match existing {
                Some(found) if found.attributes != wanted && !requested.is_empty() => {
                    return Err(SnsError::invalid_because(
                        "Attributes",
                        "Subscription already exists with different attributes",
                    ));
                }
                Some(found) if found.confirmed => {
                    return Ok(self.subscription_arn(account, &topic.name, &found.id));
                }
                // Pending: a new confirmation request, with the same token and a new lifetime.
                Some(found) => found,
                None => SubscriptionRecord {
                    id: uuid::Uuid::new_v4().to_string(),
                    topic: topic.name.clone(),
                    protocol: protocol.name().to_string(),
                    endpoint: endpoint.to_string(),
                    confirmed: !protocol.needs_confirmation(),
                    token: random_token(),
                    token_expires_ms: 0,
                    confirmation_authenticated: false,
                    authenticate_on_unsubscribe: false,
                    unsubscribe_token: random_token(),
                    attributes: wanted,
                    stats: Default::default(),
                    created_ms: now,
                },
            };
            record.token_expires_ms = now + TOKEN_LIFETIME_MS;
            let sub_arn = self.subscription_arn(account, &topic.name, &record.id);
            let answer = if record.confirmed || return_arn {
                sub_arn
            } else {
                PENDING_CONFIRMATION.to_string()
            };
            let mut writes = vec![persist::put(
                account,
                SUBSCRIPTION,
                &record.id,
                records::encode(&record),
                now,
            )];
            let id = record.id.clone();
            let confirmed = record.confirmed;
            let token = record.token.clone();
            let a = state.account_mut(account);
            match a.subscriptions.get_mut(&id) {
                Some(slot) => slot.record = record,
                None => {
                    a.subscriptions
                        .insert(id.clone(), SubscriptionState::new(record));
                }
            }
            if let Some(t) = a.topics.get_mut(&topic.name) {
                t.subscriptions.insert(id.clone());
            }
            let message = (!confirmed).then(|| {
                let topic_arn = self.topic_arn(account, &topic.name);
                let record = MessageRecord {
                    kind: MessageKind::SubscriptionConfirmation,
                    topic: topic.name.clone(),
                    message_id: uuid::Uuid::new_v4().to_string(),
                    subject: None,
                    message: envelope::confirmation_text(&topic_arn),
                    per_protocol: None,
                    attributes: Vec::new(),
                    timestamp_ms: now,
                    token: Some(token),
                    targets: vec![id],
                };
                let (message, write) = self.stage(&mut state, account, record);
                writes.push(write);
                message
            });
            (answer, self.writer.submit(writes), message)
        };
        if let Err(e) = pending.wait().await {
            if let Some(message) = message {
                self.unstage(&message);
            }
            return Err(e);
        }
        if let Some(message) = message {
            self.launch(message);
        }
        Ok(answer)
    }

    /// ConfirmSubscription, signed (`caller`) or through the SubscribeURL (`None`). A token
    /// already used answers the same ARN again.
    pub async fn confirm_subscription(
        &self,
        caller: Option<&Caller>,
        topic_arn: &str,
        token: &str,
        authenticate_on_unsubscribe: Option<&str>,
    ) -> SnsResult<String> {
        let topic = match caller {
            Some(c) => self.caller_topic(c, topic_arn, "TopicArn", "ConfirmSubscription")?,
            None => {
                let topic = arn::parse_topic(topic_arn, "TopicArn")?;
                if topic.region != self.region() {
                    return Err(SnsError::topic_not_found());
                }
                topic
            }
        };
        if token.is_empty() || token.len() > 1024 {
            return Err(SnsError::invalid("Token"));
        }
        let lock_unsubscribe = caller.is_some()
            && authenticate_on_unsubscribe.is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let account = &topic.account;
        let now = self.now_ms();
        let pending = {
            let mut state = self.lock();
            let t = state
                .topic(account, &topic.name)
                .ok_or_else(SnsError::topic_not_found)?;
            let id = t
                .subscriptions
                .iter()
                .filter_map(|id| state.subscription(account, id))
                .find(|s| same_secret(&s.record.token, token))
                .map(|s| s.record.id.clone())
                .ok_or_else(|| SnsError::invalid("Token"))?;
            let sub = state
                .subscription_mut(account, &id)
                .ok_or_else(|| SnsError::invalid("Token"))?;
            let sub_arn = self.subscription_arn(account, &topic.name, &id);
            if sub.record.confirmed {
                return Ok(sub_arn);
            }
            if sub.record.token_expires_ms < now {
                return Err(SnsError::invalid_because("Token", "the token has expired"));
            }
            let mut record = sub.record.clone();
            record.confirmed = true;
            record.confirmation_authenticated = caller.is_some();
            record.authenticate_on_unsubscribe = lock_unsubscribe;
            let write = persist::put(account, SUBSCRIPTION, &id, records::encode(&record), now);
            sub.record = record;
            (sub_arn, self.writer.submit(vec![write]))
        };
        pending.1.wait().await?;
        Ok(pending.0)
    }

    /// Unsubscribe by a caller of the subscription's account.
    pub async fn unsubscribe(&self, caller: &Caller, subscription_arn: &str) -> SnsResult<()> {
        let sub = self.caller_subscription(caller, subscription_arn, "Unsubscribe")?;
        self.remove_subscription(&sub.topic.account, &sub.topic.name, &sub.id, None)
            .await
    }

    /// Unsubscribe through the UnsubscribeURL of a message: the token proves the caller got
    /// it from us; refused when the subscription was confirmed with AuthenticateOnUnsubscribe.
    pub async fn unsubscribe_with_token(
        &self,
        subscription_arn: &str,
        token: &str,
    ) -> SnsResult<()> {
        let sub = arn::parse_subscription(subscription_arn, "SubscriptionArn")?;
        if sub.topic.region != self.region() {
            return Err(SnsError::subscription_not_found());
        }
        self.remove_subscription(&sub.topic.account, &sub.topic.name, &sub.id, Some(token))
            .await
    }

    async fn remove_subscription(
        &self,
        account: &str,
        topic: &str,
        id: &str,
        token: Option<&str>,
    ) -> SnsResult<()> {
        let now = self.now_ms();
        let pending = {
            let mut state = self.lock();
            let s = state
                .subscription(account, id)
                .filter(|s| s.record.topic == topic)
                .ok_or_else(SnsError::subscription_not_found)?;
            if let Some(token) = token {
                if s.record.authenticate_on_unsubscribe {
                    return Err(SnsError::AuthorizationError(
                        "This subscription can only be removed by an authenticated Unsubscribe call"
                            .to_string(),
                    ));
                }
                if !same_secret(&s.record.unsubscribe_token, token) {
                    return Err(SnsError::AuthorizationError(
                        "The unsubscribe token is not valid".to_string(),
                    ));
                }
            }
            let writes = remove(&mut state, account, id, now);
            self.writer.submit(writes)
        };
        pending.wait().await
    }

    pub fn list_subscriptions(
        &self,
        caller: &Caller,
        next_token: Option<&str>,
    ) -> SnsResult<(Vec<SubscriptionSummary>, Option<String>)> {
        check_token(next_token)?;
        let account = &caller.account_id;
        let state = self.lock();
        let Some(a) = state.account(account) else {
            return Ok((Vec::new(), None));
        };
        let items = match next_token {
            Some(t) => a
                .subscriptions
                .range::<str, _>((Bound::Excluded(t), Bound::Unbounded)),
            None => a.subscriptions.range::<str, _>(..),
        };
        let (rows, more) = page(items, PAGE_SIZE);
        let token = more
            .then(|| rows.last().map(|(id, _)| (*id).clone()))
            .flatten();
        let rows = rows
            .into_iter()
            .map(|(_, s)| self.summary(account, &s.record))
            .collect();
        Ok((rows, token))
    }

    pub fn list_subscriptions_by_topic(
        &self,
        caller: &Caller,
        topic_arn: &str,
        next_token: Option<&str>,
    ) -> SnsResult<(Vec<SubscriptionSummary>, Option<String>)> {
        let topic = self.caller_topic(caller, topic_arn, "TopicArn", "ListSubscriptionsByTopic")?;
        check_token(next_token)?;
        let account = &caller.account_id;
        let state = self.lock();
        let t = state
            .topic(account, &topic.name)
            .ok_or_else(SnsError::topic_not_found)?;
        let ids: Vec<&String> = match next_token {
            Some(token) => t
                .subscriptions
                .range::<str, _>((Bound::Excluded(token), Bound::Unbounded))
                .take(PAGE_SIZE + 1)
                .collect(),
            None => t.subscriptions.iter().take(PAGE_SIZE + 1).collect(),
        };
        let more = ids.len() > PAGE_SIZE;
        let ids = &ids[..ids.len().min(PAGE_SIZE)];
        let token = more.then(|| ids.last().map(|id| (*id).clone())).flatten();
        let rows = ids
            .iter()
            .filter_map(|id| state.subscription(account, id))
            .map(|s| self.summary(account, &s.record))
            .collect();
        Ok((rows, token))
    }

    fn summary(&self, account: &str, record: &SubscriptionRecord) -> SubscriptionSummary {
        SubscriptionSummary {
            subscription_arn: if record.confirmed {
                self.subscription_arn(account, &record.topic, &record.id)
            } else {
                PENDING_IN_LISTS.to_string()
            },
            owner: account.to_string(),
            protocol: record.protocol.clone(),
            endpoint: record.endpoint.clone(),
            topic_arn: self.topic_arn(account, &record.topic),
        }
    }

    pub fn get_subscription_attributes(
        &self,
        caller: &Caller,
        subscription_arn: &str,
    ) -> SnsResult<Vec<(String, String)>> {
        let sub =
            self.caller_subscription(caller, subscription_arn, "GetSubscriptionAttributes")?;
        let account = &caller.account_id;
        let state = self.lock();
        let s = state
            .subscription(account, &sub.id)
            .filter(|s| s.record.topic == sub.topic.name)
            .ok_or_else(SnsError::subscription_not_found)?;
        let topic = state
            .topic(account, &sub.topic.name)
            .ok_or_else(SnsError::subscription_not_found)?;
        let topic_arn = self.topic_arn(account, &sub.topic.name);
        Ok(attributes::subscription_attributes(
            &s.record,
            &topic.record,
            (subscription_arn, &topic_arn),
            account,
            s.pending,
        ))
    }

    pub async fn set_subscription_attributes(
        &self,
        caller: &Caller,
        subscription_arn: &str,
        name: &str,
        value: Option<&str>,
    ) -> SnsResult<()> {
        let sub =
            self.caller_subscription(caller, subscription_arn, "SetSubscriptionAttributes")?;
        let account = &caller.account_id;
        let now = self.now_ms();
        let pending = {
            let mut state = self.lock();
            let s = state
                .subscription_mut(account, &sub.id)
                .filter(|s| s.record.topic == sub.topic.name)
                .ok_or_else(SnsError::subscription_not_found)?;
            let protocol = Protocol::parse(&s.record.protocol)?;
            let checked = attributes::check_subscription_attribute(
                protocol,
                name,
                value.unwrap_or_default(),
            )?;
            let mut record = s.record.clone();
            match checked {
                Some(v) => record.attributes.insert(name.to_string(), v),
                None => record.attributes.remove(name),
            };
            let write = persist::put(
                account,
                SUBSCRIPTION,
                &sub.id,
                records::encode(&record),
                now,
            );
            s.record = record;
            self.writer.submit(vec![write])
        };
        pending.wait().await
    }

    /// Registers a staged message's jobs with the outbox after its commit.
    pub(crate) fn launch(&self, message: std::sync::Arc<OutboxMessage>) {
        self.outbox.added();
        for target in &message.record.targets {
            let job = crate::outbox::Job::new(message.clone(), target.clone(), 0);
            self.dispatch(job, 0);
        }
    }
}

/// Removes a subscription from memory; returns the store writes (the subscription deleted,
/// the topic's SubscriptionsDeleted counted).
pub(crate) fn remove(state: &mut State, account: &str, id: &str, now: i64) -> Vec<DocumentWrite> {
    let Some(removed) = state.account_mut(account).subscriptions.remove(id) else {
        return Vec::new();
    };
    let mut writes = vec![persist::delete(account, SUBSCRIPTION, id)];
    if let Some(topic) = state.topic_mut(account, &removed.record.topic) {
        topic.subscriptions.remove(id);
        topic.record.subscriptions_deleted += 1;
        writes.push(persist::put(
            account,
            TOPIC,
            &topic.record.name,
            records::encode(&topic.record),
            now,
        ));
    }
    writes
}

/// A NextToken of the subscription lists is a subscription id.
fn check_token(token: Option<&str>) -> SnsResult<()> {
    match token {
        Some(t) if uuid::Uuid::parse_str(t).is_err() => Err(SnsError::invalid("NextToken")),
        _ => Ok(()),
    }
}

/// 32 random bytes, hex.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert_eq!(random_token().len(), 64);
    }
}
