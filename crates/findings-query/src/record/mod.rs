//! `FindingRecord`: the compact in-memory projection of one finding's filterable values.
//!
//! A record is one boxed byte buffer, so a million of them cost one allocation each and no
//! per-field overhead. Values are grouped in two sorted sections: the *shape* holds the
//! vocabulary attributes (catalogue column `VOC`) whose values are all symbols or numbers, the
//! *own* section everything else. Many findings share a shape (same product, check, account,
//! region, severity, workflow and record state), so the shape is interned like a string and a
//! record whose shape has been seen before only holds its symbol.
//!
//! ```text
//! record  := shape:varint own-entry*     shape = 1 + symbol of an interned shape, or
//!          | 0 len:varint shape-entry* own-entry*   a first-seen shape kept locally
//! entry   := attr:u8  len:varint  value* (values fill exactly `len` bytes; sorted by attr)
//! String  := h:varint                    h & 3 selects the form, a = h >> 2 its argument:
//!            0 SYM       interned symbol a
//!            1 INLINE    a UTF-8 bytes follow
//!            2 PREFIXED  interned symbol a, then len:varint and len bytes: the value is the
//!                        symbol's string followed by the bytes (`arn:...:user/` + `bob`)
//!            3 EXT       a & 1 = 0: DUP, the same string as the INLINE value whose header is
//!                        at offset a >> 1 of the own section (one string used twice is stored
//!                        once); a & 1 = 1: DERIVED, a >> 1 = 0 means "<ProductArn>/<Id>" of
//!                        this record (map values only)
//! Number  := h:varint                    h & 1 = 0: integer zigzag(h >> 1); 1: 8-byte f64 LE follows
//! Date    := zigzag varint               epoch milliseconds
//! Map     := String(key) String(value)   one pair per value
//! Ip      := 4 + 4 bytes | 6 + 16 bytes
//! Boolean := 0 | 1
//! ```
//!
//! Strings are interned through the interner's admission filter (shared values become symbols
//! after their second sighting), except finding `Id`s, which are unique by construction. A
//! value that stays inline tries the same for its prefix up to the last separator, so unique
//! ids built from a shared stem (`prowler-aws-<check>-<account>-<region>-<hash>`, resource ARNs)
//! store only their distinct tail. Values
//! of the wrong JSON type for their attribute and unparsable dates/IPs are left out, so they
//! behave as missing.

mod decode;
pub(crate) mod encode;
mod store;

pub use store::{RecordStore, RecordStoreInput, Slot};

pub(crate) use decode::{
    BoolValues, DateValues, Entries, Entry, IpValues, MapCursor, MapPairs, NumValues, Str,
    StrValues, find, section_sizes,
};

use serde_json::Value;

use crate::interner::Interner;

pub(crate) mod tags {
    pub const STR_SYM: u64 = 0;
    pub const STR_INLINE: u64 = 1;
    pub const STR_PREFIXED: u64 = 2;
    pub const STR_EXT: u64 = 3;
    pub const EXT_DUP: u64 = 0;
    pub const EXT_DERIVED: u64 = 1;
    pub const DERIVED_FINDING_ID: u64 = 0;
}

/// Where a record's bytes go (see [`FindingRecord::layout`]).
#[derive(Clone, Debug)]
pub struct RecordLayout {
    /// The shape is interned (shared) rather than stored in the record.
    pub shared_shape: bool,
    pub shape_bytes: usize,
    pub own_bytes: usize,
    /// Payload bytes per present attribute (entry headers excluded).
    pub attributes: Vec<(crate::catalog::AttrId, usize)>,
}

/// The filterable values of one finding, decoded on the fly by filters, sorting and grouping.
#[derive(Clone, PartialEq, Eq)]
pub struct FindingRecord {
    pub(crate) buf: Box<[u8]>,
}

impl std::fmt::Debug for FindingRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FindingRecord")
            .field("bytes", &self.buf.len())
            .finish()
    }
}

impl FindingRecord {
    /// Extracts every filterable value of a stored (normalised) ASFF finding. Never fails:
    /// anything that is not where or what the catalogue expects is simply not recorded.
    pub fn from_finding(finding: &Value, interner: &mut Interner) -> FindingRecord {
        encode::encode(finding, interner)
    }

    /// A record with no values (every attribute missing).
    pub fn empty() -> FindingRecord {
        FindingRecord {
            buf: Box::new([0, 0]),
        }
    }

    /// A borrowed view, the form every reader takes.
    pub fn view(&self) -> RecordRef<'_> {
        RecordRef { buf: &self.buf }
    }

    /// Heap bytes owned by the record (its one buffer; the allocator adds its own header).
    pub fn heap_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Memory diagnostics: the size of the record's shape (shared when interned) and each
    /// attribute's payload bytes.
    pub fn layout(&self, interner: &Interner) -> RecordLayout {
        let (shape_bytes, own_bytes) = section_sizes(&self.buf, interner);
        RecordLayout {
            shared_shape: self.buf.first().is_some_and(|&b| b != 0),
            shape_bytes,
            own_bytes,
            attributes: Entries::new(&self.buf, interner)
                .map(|e| (e.attr, e.end - e.start))
                .collect(),
        }
    }
}

/// A borrowed record: from a [`FindingRecord`] or a [`RecordStore`]. Every reader
/// (`matches`, `sort_value`, `group_values`, ...) takes `impl Into<RecordRef>`, so
/// `&FindingRecord` works directly.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    pub(crate) buf: &'a [u8],
}

impl std::fmt::Debug for RecordRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordRef")
            .field("bytes", &self.buf.len())
            .finish()
    }
}

impl RecordRef<'_> {
    /// Bytes of the record (its own encoding; a shared shape is not counted).
    pub fn heap_bytes(&self) -> usize {
        self.buf.len()
    }

    /// An owned copy.
    pub fn to_owned_record(&self) -> FindingRecord {
        FindingRecord {
            buf: self.buf.into(),
        }
    }
}

impl<'a> From<&'a FindingRecord> for RecordRef<'a> {
    fn from(r: &'a FindingRecord) -> Self {
        r.view()
    }
}

/// For iterator closures, which see `&&FindingRecord`.
impl<'a> From<&&'a FindingRecord> for RecordRef<'a> {
    fn from(r: &&'a FindingRecord) -> Self {
        r.view()
    }
}

impl<'a> From<&RecordRef<'a>> for RecordRef<'a> {
    fn from(r: &RecordRef<'a>) -> Self {
        *r
    }
}

#[cfg(test)]
pub(crate) mod tests;
