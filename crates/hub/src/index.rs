//! The in-memory findings index: for every stored finding its filterable values (a compact
//! [`FindingRecord`]), its identity hash and its place in UpdatedAt order. The JSON bodies stay
//! in the store; a query reads only the page it returns.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use fleetward_findings_query::{FindingRecord, Interner};
use fleetward_store::{Store, StoredFinding};
use serde_json::Value;

use crate::error::HubResult;

/// One finding's in-memory part.
pub struct Entry {
    pub updated_at_ms: i64,
    /// The later of UpdatedAt and the last import; retention counts from here (spec 1.6).
    pub retain_from_ms: i64,
    pub archived: bool,
    pub key_hash: u64,
    pub record: FindingRecord,
}

#[derive(Default)]
pub struct AccountIndex {
    pub entries: HashMap<i64, Entry>,
    /// Hash of (ProductArn, Id) → seq. One seq per hash keeps this small; the rare second
    /// finding whose identity hashes the same goes to `collisions`.
    by_key: HashMap<u64, i64>,
    collisions: HashMap<u64, Vec<i64>>,
    /// (UpdatedAt, seq), the default sort order of GetFindings.
    pub by_updated: BTreeSet<(i64, i64)>,
    /// Every ProductArn this account has imported findings for since start (a handful: only
    /// enabled products may import). Never shrinks; it turns a filter on Id alone into one
    /// identity lookup per product.
    products: HashSet<String>,
}

impl AccountIndex {
    /// Seqs that may hold the finding (ProductArn, Id): a superset, since identities are
    /// hashed; callers still match each against the filters.
    pub fn seqs_with_identity(&self, product_arn: &str, id: &str) -> impl Iterator<Item = i64> {
        self.seqs_with_key(key_hash(product_arn, id))
    }

    /// Seqs that may hold the finding whose identity hashes to `hash`.
    fn seqs_with_key(&self, hash: u64) -> impl Iterator<Item = i64> {
        let more = self.collisions.get(&hash).map_or(&[][..], Vec::as_slice);
        self.by_key
            .get(&hash)
            .copied()
            .into_iter()
            .chain(more.iter().copied())
    }

    /// The ProductArns seen in this account (see `products`).
    pub fn products(&self) -> impl Iterator<Item = &str> {
        self.products.iter().map(String::as_str)
    }
}

#[derive(Default)]
pub struct FindingsIndex {
    pub interner: Interner,
    accounts: HashMap<String, AccountIndex>,
    len: usize,
}

/// The identity of a finding within an account.
pub fn key_hash(product_arn: &str, id: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    product_arn.hash(&mut hasher);
    id.hash(&mut hasher);
    hasher.finish()
}

/// What the index keeps of a stored finding besides its record.
#[derive(Clone)]
pub struct EntryMeta {
    pub seq: i64,
    pub updated_at_ms: i64,
    pub retain_from_ms: i64,
    pub archived: bool,
    pub key_hash: u64,
}

impl EntryMeta {
    pub fn of(finding: &Value, seq: i64, updated_at_ms: i64) -> Self {
        let processed = finding
            .get("ProcessedAt")
            .and_then(Value::as_str)
            .and_then(fleetward_model::timestamp::parse_rfc3339_ms)
            .unwrap_or(updated_at_ms);
        let text = |name: &str| {
            finding
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        Self {
            seq,
            updated_at_ms,
            retain_from_ms: processed.max(updated_at_ms),
            archived: text("RecordState") == "ARCHIVED",
            key_hash: key_hash(text("ProductArn"), text("Id")),
        }
    }
}

impl FindingsIndex {
    /// Builds the index from every stored finding; returns it and the highest seq.
    pub async fn load(store: &dyn Store) -> HubResult<(Self, i64)> {
        let mut index = Self::default();
        let mut after = 0;
        loop {
            let batch = store.scan_findings(after, 2_000).await?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for stored in &batch {
                index.insert_stored(stored);
            }
        }
        tracing::info!(findings = index.len, "Findings index loaded.");
        metrics::gauge!("fleetward_hub_findings_stored").set(index.len as f64);
        Ok((index, after))
    }

    fn insert_stored(&mut self, stored: &StoredFinding) {
        match serde_json::from_str::<Value>(&stored.body) {
            Ok(body) => {
                let meta = EntryMeta::of(&body, stored.seq, stored.updated_at_ms);
                self.upsert(&stored.account_id, meta, &body);
                self.note_product(&stored.account_id, &stored.product_arn);
            }
            Err(e) => {
                tracing::error!(seq = stored.seq, error = %e, "Stored finding is not JSON; not indexed.")
            }
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn account(&self, account_id: &str) -> Option<&AccountIndex> {
        self.accounts.get(account_id)
    }

    /// Records that `account_id` has findings of `product_arn` (after they are upserted).
    pub fn note_product(&mut self, account_id: &str, product_arn: &str) {
        if let Some(account) = self.accounts.get_mut(account_id)
            && !account.products.contains(product_arn)
        {
            account.products.insert(product_arn.to_string());
        }
    }

    /// Seqs that may hold the finding with this identity hash.
    pub fn candidates(&self, account_id: &str, key_hash: u64) -> Vec<i64> {
        self.accounts
            .get(account_id)
            .map_or_else(Vec::new, |account| {
                account.seqs_with_key(key_hash).collect()
            })
    }

    /// Adds or replaces the finding `meta.seq` of `account_id`.
    pub fn upsert(&mut self, account_id: &str, meta: EntryMeta, body: &Value) {
        let record = FindingRecord::from_finding(body, &mut self.interner);
        self.upsert_record(account_id, meta, record);
    }

    /// Like [`Self::upsert`] with a record built beforehand (outside the write path).
    pub fn upsert_record(&mut self, account_id: &str, meta: EntryMeta, record: FindingRecord) {
        if !self.accounts.contains_key(account_id) {
            self.accounts
                .insert(account_id.to_string(), AccountIndex::default());
        }
        let Some(account) = self.accounts.get_mut(account_id) else {
            return;
        };
        if let Some(old) = account.entries.remove(&meta.seq) {
            account.by_updated.remove(&(old.updated_at_ms, meta.seq));
        } else {
            self.len += 1;
            match account.by_key.get(&meta.key_hash) {
                Some(&first) if first != meta.seq => account
                    .collisions
                    .entry(meta.key_hash)
                    .or_default()
                    .push(meta.seq),
                Some(_) => {}
                None => {
                    account.by_key.insert(meta.key_hash, meta.seq);
                }
            }
        }
        account.by_updated.insert((meta.updated_at_ms, meta.seq));
        account.entries.insert(
            meta.seq,
            Entry {
                updated_at_ms: meta.updated_at_ms,
                retain_from_ms: meta.retain_from_ms,
                archived: meta.archived,
                key_hash: meta.key_hash,
                record,
            },
        );
    }

    pub fn remove(&mut self, account_id: &str, seq: i64) {
        let Some(account) = self.accounts.get_mut(account_id) else {
            return;
        };
        let Some(old) = account.entries.remove(&seq) else {
            return;
        };
        self.len -= 1;
        account.by_updated.remove(&(old.updated_at_ms, seq));
        let hash = old.key_hash;
        if account.by_key.get(&hash) == Some(&seq) {
            account.by_key.remove(&hash);
            // Promote a colliding finding so that lookups still find it.
            if let Some(more) = account.collisions.get_mut(&hash) {
                if let Some(next) = more.pop() {
                    account.by_key.insert(hash, next);
                }
                if more.is_empty() {
                    account.collisions.remove(&hash);
                }
            }
        } else if let Some(more) = account.collisions.get_mut(&hash) {
            more.retain(|s| *s != seq);
            if more.is_empty() {
                account.collisions.remove(&hash);
            }
        }
    }

    /// (account, seq) of findings whose retention has run out at `now_ms`.
    pub fn expired(&self, now_ms: i64, active_ms: i64, archived_ms: i64) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for (account_id, account) in &self.accounts {
            for (seq, entry) in &account.entries {
                let keep = if entry.archived {
                    archived_ms
                } else {
                    active_ms
                };
                if entry.retain_from_ms + keep < now_ms {
                    out.push((account_id.clone(), *seq));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(seq: i64, key_hash: u64, updated: i64) -> EntryMeta {
        EntryMeta {
            seq,
            updated_at_ms: updated,
            retain_from_ms: updated,
            archived: false,
            key_hash,
        }
    }

    #[test]
    fn colliding_identities_are_both_found_and_removed_cleanly() {
        let mut index = FindingsIndex::default();
        let body = json!({"Id": "a"});
        index.upsert("000000000000", meta(1, 42, 10), &body);
        index.upsert("000000000000", meta(2, 42, 20), &body);
        let mut found = index.candidates("000000000000", 42);
        found.sort();
        assert_eq!(found, vec![1, 2]);
        index.remove("000000000000", 1);
        assert_eq!(index.candidates("000000000000", 42), vec![2]);
        index.remove("000000000000", 2);
        assert!(index.candidates("000000000000", 42).is_empty());
        assert_eq!(index.len(), 0);
    }

    #[test]
    fn replacing_a_finding_moves_it_in_updated_order() {
        let mut index = FindingsIndex::default();
        let body = json!({"Id": "a"});
        index.upsert("000000000000", meta(1, 7, 10), &body);
        index.upsert("000000000000", meta(1, 7, 30), &body);
        let account = index.account("000000000000").unwrap();
        assert_eq!(
            account.by_updated.iter().collect::<Vec<_>>(),
            vec![&(30, 1)]
        );
        assert_eq!(index.len(), 1);
    }

    #[test]
    fn expiry_depends_on_record_state() {
        let mut index = FindingsIndex::default();
        let body = json!({"Id": "a"});
        index.upsert("000000000000", meta(1, 1, 0), &body);
        let mut archived = meta(2, 2, 0);
        archived.archived = true;
        index.upsert("000000000000", archived, &body);
        assert_eq!(
            index.expired(50, 100, 40),
            vec![("000000000000".to_string(), 2)]
        );
    }
}
