//! Compact sorted collections for the few attributes, groups and principals of each thing.
//! A `BTreeMap` allocates a node of eleven slots for even one entry; a registry of a million
//! things holds a million of these, so a sorted `Vec` saves hundreds of megabytes.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A sorted map of strings, serialised as a JSON object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmallMap(Vec<(String, String)>);

impl SmallMap {
    fn position(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.position(key).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    pub fn insert(&mut self, key: String, value: String) {
        match self.position(&key) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (key, value)),
        }
        self.0.shrink_to_fit();
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        let i = self.position(key).ok()?;
        let (_, value) = self.0.remove(i);
        self.0.shrink_to_fit();
        Some(value)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries as `(name, value)` pairs, as the policy engine reads thing attributes.
    pub fn as_pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

impl From<BTreeMap<String, String>> for SmallMap {
    fn from(map: BTreeMap<String, String>) -> Self {
        let mut entries: Vec<(String, String)> = map.into_iter().collect();
        entries.shrink_to_fit();
        Self(entries)
    }
}

impl Serialize for SmallMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for SmallMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::<String, String>::deserialize(deserializer).map(Self::from)
    }
}

/// A sorted set of strings, serialised as a JSON array.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmallSet(Vec<String>);

impl SmallSet {
    pub fn contains(&self, value: &str) -> bool {
        self.0.binary_search_by(|v| v.as_str().cmp(value)).is_ok()
    }

    /// `false` if it was there already.
    pub fn insert(&mut self, value: String) -> bool {
        match self.0.binary_search(&value) {
            Ok(_) => false,
            Err(i) => {
                self.0.insert(i, value);
                self.0.shrink_to_fit();
                true
            }
        }
    }

    pub fn remove(&mut self, value: &str) -> bool {
        match self.0.binary_search_by(|v| v.as_str().cmp(value)) {
            Ok(i) => {
                self.0.remove(i);
                self.0.shrink_to_fit();
                true
            }
            Err(_) => false,
        }
    }

    pub fn iter(&self) -> std::slice::Iter<'_, String> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a SmallSet {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Serialize for SmallSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SmallSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut values = Vec::<String>::deserialize(deserializer)?;
        values.sort();
        values.dedup();
        values.shrink_to_fit();
        Ok(Self(values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_stays_sorted_and_round_trips_as_an_object() {
        let mut map = SmallMap::default();
        map.insert("b".into(), "2".into());
        map.insert("a".into(), "1".into());
        map.insert("b".into(), "3".into());
        assert_eq!(map.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(map.get("b").map(String::as_str), Some("3"));
        let text = serde_json::to_string(&map).unwrap();
        assert_eq!(text, r#"{"a":"1","b":"3"}"#);
        assert_eq!(serde_json::from_str::<SmallMap>(&text).unwrap(), map);
        assert_eq!(map.remove("a").as_deref(), Some("1"));
        assert_eq!(map.len(), 1);
    }

    #[test]
    fn set_dedups_and_sorts() {
        let set: SmallSet = serde_json::from_str(r#"["z","a","z"]"#).unwrap();
        assert_eq!(set.iter().collect::<Vec<_>>(), ["a", "z"]);
        let mut set = set;
        assert!(!set.insert("a".into()));
        assert!(set.remove("z"));
        assert!(set.contains("a") && set.len() == 1);
    }
}
