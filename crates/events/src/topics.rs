//! Topic operations: CreateTopic, DeleteTopic, ListTopics, Get/SetTopicAttributes and tags.

use std::collections::BTreeSet;

use fleetward_model::Caller;

use crate::arn;
use crate::attributes::{self, SubscriptionCounts};
use crate::error::{SnsError, SnsResult};
use crate::persist;
use crate::records::{self, TOPIC, TopicRecord};
use crate::service::Events;
use crate::state::{State, TopicState, page};

/// SNS's default quota of standard topics per account.
const MAX_TOPICS: usize = 100_000;
const MAX_TAGS: usize = 50;
/// ListTopics and the subscription lists answer 100 per page, as SNS.
pub const PAGE_SIZE: usize = 100;

impl Events {
    /// CreateTopic: idempotent for the same name with the same attributes and tags.
    pub async fn create_topic(
        &self,
        caller: &Caller,
        name: &str,
        attributes: &[(String, String)],
        tags: &[(String, String)],
    ) -> SnsResult<String> {
        if !arn::is_valid_topic_name(name) {
            return Err(SnsError::invalid_because(
                "Topic Name",
                "must be 1 to 256 ASCII letters, digits, hyphens or underscores",
            ));
        }
        let attributes = attributes::check_create_attributes(attributes)?;
        check_tags(tags)?;
        let account = &caller.account_id;
        let topic_arn = self.topic_arn(account, name);
        let now = self.now_ms();
        let pending = {
            let mut state = self.lock();
            if let Some(existing) = state.topic(account, name) {
                let same_attributes = attributes
                    .iter()
                    .all(|(k, v)| existing.record.attributes.get(k) == Some(v));
                if !same_attributes {
                    return Err(SnsError::invalid_because(
                        "Attributes",
                        "Topic already exists with different attributes",
                    ));
                }
                let mut merged = existing.record.tags.clone();
                merge_tags(&mut merged, tags);
                if !tags.is_empty() && merged != existing.record.tags {
                    return Err(SnsError::invalid_because(
                        "Tags",
                        "Topic already exists with different tags",
                    ));
                }
                return Ok(topic_arn);
            }
            let count = state.account(account).map_or(0, |a| a.topics.len());
            if count >= MAX_TOPICS {
                return Err(SnsError::TopicLimitExceeded(
                    "Topic limit exceeded".to_string(),
                ));
            }
            let mut record = TopicRecord {
                name: name.to_string(),
                attributes,
                tags: Vec::new(),
                subscriptions_deleted: 0,
                created_ms: now,
            };
            merge_tags(&mut record.tags, tags);
            let write = persist::put(account, TOPIC, name, records::encode(&record), now);
            state.account_mut(account).topics.insert(
                name.to_string(),
                TopicState {
                    record,
                    subscriptions: BTreeSet::new(),
                },
            );
            self.writer.submit(vec![write])
        };
        pending.wait().await?;
        Ok(topic_arn)
    }

    /// DeleteTopic: the topic and its subscriptions; undelivered messages are dropped.
    /// Deleting a missing topic succeeds, as in SNS.
    pub async fn delete_topic(&self, caller: &Caller, topic_arn: &str) -> SnsResult<()> {
        let topic = self.caller_topic(caller, topic_arn, "TopicArn", "DeleteTopic")?;
        let account = &caller.account_id;
        let pending = {
            let mut state = self.lock();
            let Some(removed) = state.account_mut(account).topics.remove(&topic.name) else {
                return Ok(());
            };
            let mut writes = vec![persist::delete(account, TOPIC, &topic.name)];
            let a = state.account_mut(account);
            for id in &removed.subscriptions {
                a.subscriptions.remove(id);
                writes.push(persist::delete(account, records::SUBSCRIPTION, id));
            }
            self.writer.submit(writes)
        };
        pending.wait().await
    }

    /// ListTopics: by name, 100 per page; the token is the last name returned.
    pub fn list_topics(
        &self,
        caller: &Caller,
        next_token: Option<&str>,
    ) -> SnsResult<(Vec<String>, Option<String>)> {
        let account = &caller.account_id;
        let state = self.lock();
        let Some(a) = state.account(account) else {
            return match next_token {
                Some(_) => Err(SnsError::invalid("NextToken")),
                None => Ok((Vec::new(), None)),
            };
        };
        let items = match next_token {
            Some(token) if !arn::is_valid_topic_name(token) => {
                return Err(SnsError::invalid("NextToken"));
            }
            Some(token) => a
                .topics
                .range::<str, _>((std::ops::Bound::Excluded(token), std::ops::Bound::Unbounded)),
            None => a.topics.range::<str, _>(..),
        };
        let (rows, more) = page(items, PAGE_SIZE);
        let arns: Vec<String> = rows
            .iter()
            .map(|(name, _)| self.topic_arn(account, name))
            .collect();
        let token = more
            .then(|| rows.last().map(|(n, _)| (*n).clone()))
            .flatten();
        Ok((arns, token))
    }

    pub fn get_topic_attributes(
        &self,
        caller: &Caller,
        topic_arn: &str,
    ) -> SnsResult<Vec<(String, String)>> {
        let topic = self.caller_topic(caller, topic_arn, "TopicArn", "GetTopicAttributes")?;
        let account = &caller.account_id;
        let state = self.lock();
        let t = state
            .topic(account, &topic.name)
            .ok_or_else(SnsError::topic_not_found)?;
        let counts = counts(&state, account, t);
        Ok(attributes::topic_attributes(
            &t.record,
            &self.topic_arn(account, &topic.name),
            account,
            &counts,
        ))
    }

    pub async fn set_topic_attributes(
        &self,
        caller: &Caller,
        topic_arn: &str,
        name: &str,
        value: Option<&str>,
    ) -> SnsResult<()> {
        let topic = self.caller_topic(caller, topic_arn, "TopicArn", "SetTopicAttributes")?;
        let checked = attributes::check_topic_attribute(name, value.unwrap_or_default())?;
        self.update_topic(&caller.account_id, &topic.name, |record| {
            match checked {
                Some(v) => record.attributes.insert(name.to_string(), v),
                None => record.attributes.remove(name),
            };
            Ok(())
        })
        .await
    }

    pub async fn tag_resource(
        &self,
        caller: &Caller,
        resource_arn: &str,
        tags: &[(String, String)],
    ) -> SnsResult<()> {
        let topic = self.tagged_topic(caller, resource_arn, "TagResource")?;
        check_tags(tags)?;
        self.update_topic(&caller.account_id, &topic, |record| {
            let mut merged = record.tags.clone();
            merge_tags(&mut merged, tags);
            if merged.len() > MAX_TAGS {
                return Err(SnsError::TagLimitExceeded(
                    "Could not complete request: tag quota of per resource exceeded".to_string(),
                ));
            }
            record.tags = merged;
            Ok(())
        })
        .await
        .map_err(not_found_as_resource)
    }

    pub async fn untag_resource(
        &self,
        caller: &Caller,
        resource_arn: &str,
        keys: &[String],
    ) -> SnsResult<()> {
        let topic = self.tagged_topic(caller, resource_arn, "UntagResource")?;
        if keys.iter().any(|k| !is_tag_key(k)) {
            return Err(SnsError::invalid("TagKeys"));
        }
        self.update_topic(&caller.account_id, &topic, |record| {
            record.tags.retain(|(k, _)| !keys.contains(k));
            Ok(())
        })
        .await
        .map_err(not_found_as_resource)
    }

    pub fn list_tags_for_resource(
        &self,
        caller: &Caller,
        resource_arn: &str,
    ) -> SnsResult<Vec<(String, String)>> {
        let topic = self.tagged_topic(caller, resource_arn, "ListTagsForResource")?;
        let state = self.lock();
        state
            .topic(&caller.account_id, &topic)
            .map(|t| t.record.tags.clone())
            .ok_or_else(resource_not_found)
    }

    /// The tag operations name a missing topic `ResourceNotFound`.
    fn tagged_topic(&self, caller: &Caller, resource_arn: &str, action: &str) -> SnsResult<String> {
        let topic = self.caller_topic(caller, resource_arn, "ResourceArn", action)?;
        Ok(topic.name)
    }

    /// Applies `change` to a copy of the topic record; stores and installs it if it succeeds.
    async fn update_topic(
        &self,
        account: &str,
        name: &str,
        change: impl FnOnce(&mut TopicRecord) -> SnsResult<()>,
    ) -> SnsResult<()> {
        let now = self.now_ms();
        let pending = {
            let mut state = self.lock();
            let topic = state
                .topic_mut(account, name)
                .ok_or_else(SnsError::topic_not_found)?;
            let mut record = topic.record.clone();
            change(&mut record)?;
            if record == topic.record {
                return Ok(());
            }
            let write = persist::put(account, TOPIC, name, records::encode(&record), now);
            topic.record = record;
            self.writer.submit(vec![write])
        };
        pending.wait().await
    }
}

fn not_found_as_resource(e: SnsError) -> SnsError {
    match e {
        SnsError::NotFound(_) => resource_not_found(),
        other => other,
    }
}

fn resource_not_found() -> SnsError {
    SnsError::ResourceNotFound("Resource does not exist".to_string())
}

pub(crate) fn counts(state: &State, account: &str, topic: &TopicState) -> SubscriptionCounts {
    let mut counts = SubscriptionCounts {
        confirmed: 0,
        pending: 0,
    };
    for id in &topic.subscriptions {
        match state.subscription(account, id) {
            Some(s) if s.record.confirmed => counts.confirmed += 1,
            Some(_) => counts.pending += 1,
            None => {}
        }
    }
    counts
}

/// Sets each tag, keeping the position of keys already present.
fn merge_tags(existing: &mut Vec<(String, String)>, tags: &[(String, String)]) {
    for (key, value) in tags {
        match existing.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value.clone(),
            None => existing.push((key.clone(), value.clone())),
        }
    }
}

fn is_tag_key(key: &str) -> bool {
    !key.is_empty() && key.chars().count() <= 128 && !key.starts_with("aws:")
}

/// Keys 1-128 characters (not `aws:`), values up to 256, at most 50 per request.
fn check_tags(tags: &[(String, String)]) -> SnsResult<()> {
    if tags.len() > MAX_TAGS {
        return Err(SnsError::TagLimitExceeded(
            "Could not complete request: tag quota of per resource exceeded".to_string(),
        ));
    }
    for (key, value) in tags {
        if !is_tag_key(key) {
            return Err(SnsError::invalid_because(
                "Tags",
                format!("invalid tag key '{key}'"),
            ));
        }
        if value.chars().count() > 256 {
            return Err(SnsError::invalid_because(
                "Tags",
                format!("the value of tag '{key}' is longer than 256 characters"),
            ));
        }
    }
    Ok(())
}
