//! `RecordStore`: many records packed back to back in one buffer.
//!
//! Boxed records cost an allocation each (allocator header and rounding, ~16–24 bytes, plus the
//! 16-byte box) and lie wherever the allocator put them, so a scan takes a cache miss per
//! record. The store keeps them contiguous in slot order (8 bytes of index per slot), which the
//! hardware prefetcher follows. Replacing or removing a record leaves its old bytes dead until
//! the next compaction, which runs by itself once dead bytes exceed a quarter of the buffer and
//! rewrites records in slot order.

use super::{FindingRecord, RecordRef};

/// A record's stable address in a [`RecordStore`].
pub type Slot = u32;

/// Contiguous storage for records, addressed by slot.
#[derive(Default, Debug)]
pub struct RecordStore {
    bytes: Vec<u8>,
    /// `(start, len)` of each slot's record; `len == 0` marks a vacant slot (records are never
    /// empty).
    spans: Vec<(u32, u32)>,
    vacant: Vec<Slot>,
    dead: usize,
}

impl RecordStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores a record and returns its slot (reusing vacant slots). `None` if the store would
    /// exceed 4 GiB or 2^32 slots.
    pub fn insert(&mut self, rec: impl Into<RecordStoreInput>) -> Option<Slot> {
        let rec = rec.into();
        let span = self.append(&rec.0)?;
        match self.vacant.pop() {
            Some(slot) => {
                if let Some(s) = self.spans.get_mut(slot as usize) {
                    *s = span;
                }
                Some(slot)
            }
            None => {
                let slot = Slot::try_from(self.spans.len()).ok()?;
                self.spans.push(span);
                Some(slot)
            }
        }
    }

    /// Replaces the record in `slot`; `false` if the slot is vacant or out of range.
    pub fn replace(&mut self, slot: Slot, rec: impl Into<RecordStoreInput>) -> bool {
        if self.get(slot).is_none() {
            return false;
        }
        let rec = rec.into();
        let Some(span) = self.append(&rec.0) else {
            return false;
        };
        if let Some(s) = self.spans.get_mut(slot as usize) {
            self.dead += s.1 as usize;
            *s = span;
        }
        self.maybe_compact();
        true
    }

    /// Removes the record in `slot`; its slot number may be reused by a later insert.
    pub fn remove(&mut self, slot: Slot) -> bool {
        let Some(s) = self.spans.get_mut(slot as usize).filter(|s| s.1 != 0) else {
            return false;
        };
        self.dead += s.1 as usize;
        *s = (0, 0);
        self.vacant.push(slot);
        self.maybe_compact();
        true
    }

    /// The record in `slot`.
    pub fn get(&self, slot: Slot) -> Option<RecordRef<'_>> {
        let &(start, len) = self.spans.get(slot as usize).filter(|s| s.1 != 0)?;
        let buf = self
            .bytes
            .get(start as usize..(start as usize).checked_add(len as usize)?)?;
        Some(RecordRef { buf })
    }

    /// Every stored record with its slot, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (Slot, RecordRef<'_>)> + '_ {
        self.iter_range(0..self.spans.len())
    }

    /// The stored records whose slots fall in `slots` (split `0..slot_count()` to scan on
    /// several threads).
    pub fn iter_range(
        &self,
        slots: std::ops::Range<usize>,
    ) -> impl Iterator<Item = (Slot, RecordRef<'_>)> + '_ {
        slots.filter_map(|i| {
            let slot = Slot::try_from(i).ok()?;
            Some((slot, self.get(slot)?))
        })
    }

    /// One past the highest slot ever used (vacant slots included).
    pub fn slot_count(&self) -> usize {
        self.spans.len()
    }

    /// Number of stored records.
    pub fn len(&self) -> usize {
        self.spans.len() - self.vacant.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes held, by capacity.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
            + self.spans.capacity() * size_of::<(u32, u32)>()
            + self.vacant.capacity() * size_of::<Slot>()
    }

    /// Releases spare capacity (after a bulk load).
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.spans.shrink_to_fit();
        self.vacant.shrink_to_fit();
    }

    /// Rewrites live records back to back in slot order and releases spare capacity.
    pub fn compact(&mut self) {
        let live = self.bytes.len() - self.dead;
        let mut bytes = Vec::with_capacity(live);
        for span in &mut self.spans {
            if span.1 == 0 {
                continue;
            }
            let (start, len) = (span.0 as usize, span.1 as usize);
            let Some(b) = self.bytes.get(start..start + len) else {
                *span = (0, 0);
                continue;
            };
            // Fits: the compacted buffer is no larger than the current one.
            span.0 = bytes.len() as u32;
            bytes.extend_from_slice(b);
        }
        self.bytes = bytes;
        self.dead = 0;
        self.spans.shrink_to_fit();
    }

    fn append(&mut self, rec: &[u8]) -> Option<(u32, u32)> {
        let start = u32::try_from(self.bytes.len()).ok()?;
        let len = u32::try_from(rec.len()).ok()?;
        u32::try_from(self.bytes.len().checked_add(rec.len())?).ok()?;
        self.bytes.extend_from_slice(rec);
        Some((start, len))
    }

    fn maybe_compact(&mut self) {
        if self.dead > 4096 && self.dead * 4 > self.bytes.len() {
            self.compact();
        }
    }
}

/// What [`RecordStore::insert`] accepts: an owned record or a borrowed one.
pub struct RecordStoreInput(Box<[u8]>);

impl From<FindingRecord> for RecordStoreInput {
    fn from(r: FindingRecord) -> Self {
        RecordStoreInput(r.buf)
    }
}

impl From<&FindingRecord> for RecordStoreInput {
    fn from(r: &FindingRecord) -> Self {
        RecordStoreInput(r.buf.clone())
    }
}

impl From<RecordRef<'_>> for RecordStoreInput {
    fn from(r: RecordRef<'_>) -> Self {
        RecordStoreInput(r.buf.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interner::Interner;
    use crate::{attrs, first_string};
    use serde_json::json;

    fn rec(i: &mut Interner, id: &str) -> FindingRecord {
        FindingRecord::from_finding(&json!({"Id": id, "Title": "t"}), i)
    }

    #[test]
    fn insert_replace_remove_compact() {
        let mut i = Interner::new();
        let mut store = RecordStore::new();
        let slots: Vec<Slot> = (0..1000)
            .map(|n| store.insert(rec(&mut i, &format!("id-{n}"))).unwrap())
            .collect();
        assert_eq!(store.len(), 1000);
        fn id(s: &RecordStore, i: &Interner, slot: Slot) -> Option<String> {
            s.get(slot)
                .and_then(|r| first_string(r, i, attrs::ID).map(|c| c.into_owned()))
        }
        assert_eq!(id(&store, &i, slots[7]).as_deref(), Some("id-7"));
        // Replace every record several times: compaction keeps the buffer bounded.
        for round in 0..5 {
            for (n, &slot) in slots.iter().enumerate() {
                assert!(store.replace(slot, rec(&mut i, &format!("id-{n}-r{round}"))));
            }
        }
        assert!(store.bytes.len() < 2 * store.iter().map(|(_, r)| r.heap_bytes()).sum::<usize>());
        assert_eq!(id(&store, &i, slots[999]).as_deref(), Some("id-999-r4"));
        assert!(store.remove(slots[3]));
        assert!(!store.remove(slots[3]));
        assert!(store.get(slots[3]).is_none());
        assert!(!store.replace(slots[3], rec(&mut i, "x")));
        assert_eq!(store.len(), 999);
        let reused = store.insert(rec(&mut i, "new")).unwrap();
        assert_eq!(reused, slots[3]);
        assert_eq!(id(&store, &i, reused).as_deref(), Some("new"));
        store.compact();
        assert_eq!(store.iter().count(), 1000);
        assert_eq!(id(&store, &i, slots[500]).as_deref(), Some("id-500-r4"));
        assert!(store.get(5000).is_none());
    }
}
