//! Which sessions receive a publish: a tree of topic-filter levels, so matching a topic costs
//! its number of levels, not the number of subscriptions.
//!
//! Shared subscriptions (`$share/GROUP/FILTER`, MQTT 5 4.8.2) are kept per (group, filter)
//! and answered by one member in turn.

use std::collections::HashMap;
use std::hash::Hash;

struct Node<K, V> {
    children: HashMap<Box<str>, Node<K, V>>,
    /// Subscriptions whose filter ends here.
    here: HashMap<K, V>,
    /// Subscriptions whose filter ends with `#` here (matching this level and everything below).
    multi: HashMap<K, V>,
}

impl<K, V> Default for Node<K, V> {
    fn default() -> Self {
        Self {
            children: HashMap::new(),
            here: HashMap::new(),
            multi: HashMap::new(),
        }
    }
}

impl<K, V> Node<K, V> {
    fn is_empty(&self) -> bool {
        self.children.is_empty() && self.here.is_empty() && self.multi.is_empty()
    }
}

/// Non-shared subscriptions: subscriber `K` with options `V` per filter.
pub struct SubscriptionTree<K, V> {
    root: Node<K, V>,
    len: usize,
}

impl<K, V> Default for SubscriptionTree<K, V> {
    fn default() -> Self {
        Self {
            root: Node::default(),
            len: 0,
        }
    }
}

impl<K: Eq + Hash + Clone, V> SubscriptionTree<K, V> {
    /// Number of (subscriber, filter) pairs.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds or replaces `key`'s subscription to `filter` (a valid filter: checked by the caller).
    pub fn insert(&mut self, filter: &str, key: K, value: V) {
        let mut node = &mut self.root;
        let mut levels = filter.split('/').peekable();
        while let Some(level) = levels.next() {
            if level == "#" && levels.peek().is_none() {
                if node.multi.insert(key, value).is_none() {
                    self.len += 1;
                }
                return;
            }
            node = node.children.entry(level.into()).or_default();
        }
        if node.here.insert(key, value).is_none() {
            self.len += 1;
        }
    }

    /// Removes `key`'s subscription to `filter`; `false` if there was none.
    pub fn remove(&mut self, filter: &str, key: &K) -> bool {
        let levels: Vec<&str> = filter.split('/').collect();
        let removed = remove_at(&mut self.root, &levels, key);
        if removed {
            self.len -= 1;
        }
        removed
    }

    /// Calls `f` for every subscription matching `topic` (a valid topic name). A subscriber
    /// with several matching filters is reported once per filter; the caller merges them (MQTT
    /// lets the server deliver once with the highest QoS, 3.3.5).
    pub fn for_each_match(&self, topic: &str, mut f: impl FnMut(&K, &V)) {
        let levels: Vec<&str> = topic.split('/').collect();
        // MQTT 4.7.2: wildcards at the first level do not match topics starting with `$`.
        let dollar = topic.starts_with('$');
        walk(&self.root, &levels, 0, dollar, &mut f);
    }
}

fn walk<K, V>(
    node: &Node<K, V>,
    levels: &[&str],
    depth: usize,
    dollar: bool,
    f: &mut impl FnMut(&K, &V),
) {
    let wildcards_allowed = !(dollar && depth == 0);
    if wildcards_allowed {
        // `a/#` also matches `a` itself (MQTT 4.7.1.2).
        for (k, v) in &node.multi {
            f(k, v);
        }
    }
    let Some((level, rest)) = levels.split_first() else {
        for (k, v) in &node.here {
            f(k, v);
        }
        return;
    };
    if let Some(child) = node.children.get(*level) {
        walk(child, rest, depth + 1, dollar, f);
    }
    if wildcards_allowed && let Some(plus) = node.children.get("+") {
        walk(plus, rest, depth + 1, dollar, f);
    }
}

fn remove_at<K: Eq + Hash, V>(node: &mut Node<K, V>, levels: &[&str], key: &K) -> bool {
    match levels {
        [] => node.here.remove(key).is_some(),
        ["#"] => node.multi.remove(key).is_some(),
        [level, rest @ ..] => {
            let Some(child) = node.children.get_mut(*level) else {
                return false;
            };
            let removed = remove_at(child, rest, key);
            if child.is_empty() {
                node.children.remove(*level);
            }
            removed
        }
    }
}

/// A shared subscription's members; each message goes to one of them, in turn.
pub struct SharedGroup<K> {
    members: Vec<K>,
    next: usize,
}

impl<K: Eq + Clone> SharedGroup<K> {
    pub fn new() -> Self {
        Self {
            members: Vec::new(),
            next: 0,
        }
    }

    pub fn join(&mut self, key: K) {
        if !self.members.contains(&key) {
            self.members.push(key);
        }
    }

    /// `true` if the group is now empty.
    pub fn leave(&mut self, key: &K) -> bool {
        self.members.retain(|m| m != key);
        self.members.is_empty()
    }

    /// The member to deliver the next message to, skipping those `usable` refuses (e.g.
    /// offline without a session); round robin.
    pub fn pick(&mut self, mut usable: impl FnMut(&K) -> bool) -> Option<K> {
        for _ in 0..self.members.len() {
            let i = self.next % self.members.len();
            self.next = self.next.wrapping_add(1);
            if usable(&self.members[i]) {
                return Some(self.members[i].clone());
            }
        }
        None
    }
}

impl<K: Eq + Clone> Default for SharedGroup<K> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(tree: &SubscriptionTree<&'static str, u8>, topic: &str) -> Vec<&'static str> {
        let mut out = Vec::new();
        tree.for_each_match(topic, |k, _| out.push(*k));
        out.sort();
        out
    }

    /// The reference semantics of MQTT 4.7, written the obvious way.
    fn reference(filter: &str, topic: &str) -> bool {
        if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
            return false;
        }
        let f: Vec<&str> = filter.split('/').collect();
        let t: Vec<&str> = topic.split('/').collect();
        for (i, level) in f.iter().enumerate() {
            if *level == "#" {
                return true;
            }
            match t.get(i) {
                Some(tl) if *level == "+" || level == tl => {}
                _ => return false,
            }
        }
        f.len() == t.len()
    }

    #[test]
    fn wildcards_follow_mqtt_4_7() {
        let filters = [
            "a/b", "a/+", "a/#", "#", "+/+", "+", "a/+/c", "$SYS/#", "+/b", "a/b/#", "/+", "",
            "a//b",
        ];
        let topics = [
            "a/b",
            "a",
            "a/b/c",
            "a/x/c",
            "$SYS/x",
            "$aws/things/t",
            "b",
            "/x",
            "",
            "a//b",
        ];
        let mut tree = SubscriptionTree::default();
        for f in filters {
            tree.insert(f, f, 0u8);
        }
        for t in topics {
            let mut expected: Vec<&str> = filters
                .iter()
                .copied()
                .filter(|f| reference(f, t))
                .collect();
            expected.sort();
            assert_eq!(matches(&tree, t), expected, "topic {t:?}");
        }
        assert_eq!(tree.len(), filters.len());
    }

    #[test]
    fn remove_prunes_and_replace_does_not_double_count() {
        let mut tree = SubscriptionTree::default();
        tree.insert("a/b", "s1", 0u8);
        tree.insert("a/b", "s1", 1u8);
        tree.insert("a/#", "s2", 0u8);
        assert_eq!(tree.len(), 2);
        let mut qos = None;
        tree.for_each_match("a/b", |k, v| {
            if *k == "s1" {
                qos = Some(*v);
            }
        });
        assert_eq!(qos, Some(1));
        assert!(tree.remove("a/b", &"s1"));
        assert!(!tree.remove("a/b", &"s1"));
        assert!(tree.remove("a/#", &"s2"));
        assert!(tree.is_empty());
        assert!(tree.root.is_empty(), "empty branches are pruned");
    }

    #[test]
    fn shared_groups_rotate_and_skip_unusable_members() {
        let mut group = SharedGroup::new();
        group.join("a");
        group.join("b");
        group.join("c");
        let picks: Vec<_> = (0..4).map(|_| group.pick(|m| *m != "b").unwrap()).collect();
        assert_eq!(picks, ["a", "c", "a", "c"]);
        assert!(!group.leave(&"a"));
        assert!(!group.leave(&"c"));
        assert_eq!(group.pick(|_| true), Some("b"));
        assert!(group.leave(&"b"));
        assert_eq!(group.pick(|_| true), None);
    }
}
