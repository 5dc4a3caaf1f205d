//! The in-memory state every read answers from: topics and subscriptions per account.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::records::{SubscriptionRecord, TopicRecord};

#[derive(Default)]
pub struct State {
    pub accounts: HashMap<String, AccountState>,
    /// Subscriptions whose delivery statistics changed since they were last stored.
    pub dirty: HashSet<(String, String)>,
}

#[derive(Default)]
pub struct AccountState {
    /// By name (ListTopics order).
    pub topics: BTreeMap<String, TopicState>,
    /// By subscription id (ListSubscriptions order).
    pub subscriptions: BTreeMap<String, SubscriptionState>,
}

pub struct TopicState {
    pub record: TopicRecord,
    /// Ids of its subscriptions (ListSubscriptionsByTopic order).
    pub subscriptions: BTreeSet<String>,
}

pub struct SubscriptionState {
    pub record: SubscriptionRecord,
    /// Deliveries in the outbox for it (DeliveriesPending).
    pub pending: u64,
    /// Throttle policy: the earliest time the next delivery may start.
    pub next_slot_ms: i64,
}

impl SubscriptionState {
    pub fn new(record: SubscriptionRecord) -> Self {
        Self {
            record,
            pending: 0,
            next_slot_ms: 0,
        }
    }
}

impl State {
    pub fn account(&self, account: &str) -> Option<&AccountState> {
        self.accounts.get(account)
    }

    pub fn account_mut(&mut self, account: &str) -> &mut AccountState {
        self.accounts.entry(account.to_string()).or_default()
    }

    pub fn topic(&self, account: &str, name: &str) -> Option<&TopicState> {
        self.accounts.get(account)?.topics.get(name)
    }

    pub fn topic_mut(&mut self, account: &str, name: &str) -> Option<&mut TopicState> {
        self.accounts.get_mut(account)?.topics.get_mut(name)
    }

    pub fn subscription(&self, account: &str, id: &str) -> Option<&SubscriptionState> {
        self.accounts.get(account)?.subscriptions.get(id)
    }

    pub fn subscription_mut(&mut self, account: &str, id: &str) -> Option<&mut SubscriptionState> {
        self.accounts.get_mut(account)?.subscriptions.get_mut(id)
    }
}

/// One page of `items` after `after` (exclusive), at most `limit`, and the token of the next
/// page (the last key returned) when more remain.
pub fn page<'a, K, V, I>(items: I, limit: usize) -> (Vec<(&'a K, &'a V)>, bool)
where
    I: Iterator<Item = (&'a K, &'a V)>,
    K: 'a,
    V: 'a,
{
    let mut out = Vec::with_capacity(limit.min(128));
    let mut more = false;
    for item in items {
        if out.len() == limit {
            more = true;
            break;
        }
        out.push(item);
    }
    (out, more)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_stop_at_the_limit_and_say_whether_more_remain() {
        let m: BTreeMap<u32, ()> = (0..5).map(|i| (i, ())).collect();
        let (first, more) = page(m.iter(), 3);
        assert_eq!(
            first.iter().map(|(k, _)| **k).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert!(more);
        let (rest, more) = page(m.range(3..), 3);
        assert_eq!(rest.len(), 2);
        assert!(!more);
    }
}
