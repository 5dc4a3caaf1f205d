//! The interner: one copy of each shared string, addressed by a `u32` symbol, plus the same
//! for record *shapes* (the encoded block of a record's vocabulary attributes, see `record`).
//!
//! Each table keeps its byte strings back to back in one arena; the hash table stores only
//! symbol ids and hashes the arena slice when probing, so nothing is stored twice. Tables are
//! append-only: symbols stay valid for the interner's whole life, which is what lets records
//! hold them.
//!
//! What gets interned is decided by a *second-occurrence admission filter*: a fixed table of
//! 64-bit fingerprints of values seen once. A value is interned the second time it is seen
//! (while its fingerprint is still in the table); until then the record stores it inline.
//! Shared values (titles, types, enums, ARNs of busy resources) become symbols after their first
//! repeat, while values that never repeat never reach the append-only arenas. The filter costs
//! a fixed `ADMISSION_SLOTS * 8` bytes.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

/// A symbol: the index of an interned string.
pub type Sym = u32;

const ADMISSION_SLOTS: usize = 1 << 18;

/// String → symbol table shared by all records of one store.
// Tests clone one to compare two encoders from the same state (the hasher is randomly seeded).
#[cfg_attr(test, derive(Clone))]
pub struct Interner {
    strings: Arena,
    shapes: Arena,
    hasher: DefaultHashBuilder,
    /// Fingerprints of values seen once; 0 = empty slot.
    admission: Box<[u64]>,
}

/// Append-only byte strings with a content-addressed index.
#[derive(Default)]
#[cfg_attr(test, derive(Clone))]
struct Arena {
    bytes: Vec<u8>,
    /// `ends[s]` is the offset where symbol `s` ends; it starts where `s - 1` ends.
    ends: Vec<u32>,
    table: HashTable<Sym>,
}

impl Arena {
    fn get(&self, sym: Sym) -> Option<&[u8]> {
        slice(&self.bytes, &self.ends, sym)
    }

    fn find(&self, h: u64, s: &[u8]) -> Option<Sym> {
        self.table.find(h, |&sym| self.get(sym) == Some(s)).copied()
    }

    /// `None` only when the arena is full (4 GiB).
    fn insert(&mut self, h: u64, s: &[u8], hasher: &DefaultHashBuilder) -> Option<Sym> {
        let end = u32::try_from(self.bytes.len().checked_add(s.len())?).ok()?;
        let sym = Sym::try_from(self.ends.len()).ok()?;
        self.bytes.extend_from_slice(s);
        self.ends.push(end);
        let Arena { bytes, ends, table } = self;
        table.insert_unique(h, sym, |&other| {
            hasher.hash_one(slice(bytes, ends, other).unwrap_or_default())
        });
        Some(sym)
    }

    fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
            + self.ends.capacity() * size_of::<u32>()
            // hashbrown: one slot plus one control byte per bucket.
            + self.table.capacity() * (size_of::<Sym>() + 1)
    }
}

fn slice<'a>(bytes: &'a [u8], ends: &[u32], sym: Sym) -> Option<&'a [u8]> {
    let i = usize::try_from(sym).ok()?;
    let end = usize::try_from(*ends.get(i)?).ok()?;
    let start = match i.checked_sub(1) {
        Some(p) => usize::try_from(*ends.get(p)?).ok()?,
        None => 0,
    };
    bytes.get(start..end)
}

impl Default for Interner {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Interner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interner")
            .field("strings", &self.strings.ends.len())
            .field("shapes", &self.shapes.ends.len())
            .finish()
    }
}

/// Which table a value is admitted to; salts the fingerprint so a string and a shape with the
/// same bytes are not mistaken for each other.
#[derive(Clone, Copy)]
enum Table {
    Strings,
    Shapes,
}

impl Interner {
    pub fn new() -> Self {
        Interner {
            strings: Arena::default(),
            shapes: Arena::default(),
            hasher: DefaultHashBuilder::default(),
            admission: vec![0u64; ADMISSION_SLOTS].into_boxed_slice(),
        }
    }

    /// Number of interned strings.
    pub fn len(&self) -> usize {
        self.strings.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strings.ends.is_empty()
    }

    /// Number of interned record shapes.
    pub fn shape_count(&self) -> usize {
        self.shapes.ends.len()
    }

    /// Heap bytes held (arenas, offsets, hash tables, admission filter), by capacity.
    pub fn heap_bytes(&self) -> usize {
        self.strings.heap_bytes()
            + self.shapes.heap_bytes()
            + self.admission.len() * size_of::<u64>()
    }

    /// The string of a symbol; `""` for a symbol this interner never issued.
    pub fn resolve(&self, s: Sym) -> &str {
        self.bytes_of(s)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    pub(crate) fn bytes_of(&self, s: Sym) -> Option<&[u8]> {
        self.strings.get(s)
    }

    /// Every interned string in symbol order, read sequentially from the arena.
    pub(crate) fn symbols(&self) -> impl Iterator<Item = (Sym, &[u8])> + '_ {
        let a = &self.strings;
        let starts = std::iter::once(0).chain(a.ends.iter().copied());
        starts
            .zip(a.ends.iter().copied())
            .zip(0..)
            .filter_map(|((start, end), sym)| {
                let r = usize::try_from(start).ok()?..usize::try_from(end).ok()?;
                Some((sym, a.bytes.get(r)?))
            })
    }

    /// Every interned shape in symbol order.
    pub(crate) fn shapes(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.shapes.ends.len()).filter_map(|i| self.shapes.get(Sym::try_from(i).ok()?))
    }

    pub(crate) fn shape(&self, s: Sym) -> Option<&[u8]> {
        self.shapes.get(s)
    }

    /// The symbol of `s` if it is already interned.
    pub fn lookup(&self, s: &str) -> Option<Sym> {
        let h = self.hasher.hash_one(s.as_bytes());
        self.strings.find(h, s.as_bytes())
    }

    /// Interns `s` unconditionally; `None` only if the arena is full (4 GiB).
    pub fn intern(&mut self, s: &str) -> Option<Sym> {
        let h = self.hasher.hash_one(s.as_bytes());
        match self.strings.find(h, s.as_bytes()) {
            Some(sym) => Some(sym),
            None => self.strings.insert(h, s.as_bytes(), &self.hasher),
        }
    }

    /// The symbol of `s` if it is interned or has been seen before (then interning it now);
    /// otherwise remembers the sighting and returns `None`: the caller stores `s` inline.
    pub(crate) fn intern_if_repeated(&mut self, s: &str) -> Option<Sym> {
        self.admit(Table::Strings, s.as_bytes())
    }

    /// Same as [`Interner::intern_if_repeated`], for a record shape.
    pub(crate) fn intern_shape_if_repeated(&mut self, shape: &[u8]) -> Option<Sym> {
        self.admit(Table::Shapes, shape)
    }

    fn admit(&mut self, which: Table, v: &[u8]) -> Option<Sym> {
        let h = self.hasher.hash_one(v);
        let arena = match which {
            Table::Strings => &mut self.strings,
            Table::Shapes => &mut self.shapes,
        };
        if let Some(sym) = arena.find(h, v) {
            return Some(sym);
        }
        // Slot from the low bits; fingerprint = the hash, salted per table, never 0 (empty).
        let slot = (h as usize) & (ADMISSION_SLOTS - 1);
        let fp = (h ^ (which as u64)).rotate_left(17) | 1;
        if self.admission[slot] == fp {
            self.admission[slot] = 0;
            arena.insert(h, v, &self.hasher)
        } else {
            self.admission[slot] = fp;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_once_and_resolves() {
        let mut i = Interner::new();
        let a = i.intern("alpha").unwrap();
        let b = i.intern("beta").unwrap();
        assert_ne!(a, b);
        assert_eq!(i.intern("alpha"), Some(a));
        assert_eq!(i.resolve(a), "alpha");
        assert_eq!(i.resolve(b), "beta");
        assert_eq!(i.lookup("beta"), Some(b));
        assert_eq!(i.lookup("gamma"), None);
        assert_eq!(i.resolve(99), "");
        assert_eq!(i.len(), 2);
    }

    #[test]
    fn empty_string_is_a_valid_symbol() {
        let mut i = Interner::new();
        let e = i.intern("").unwrap();
        let x = i.intern("x").unwrap();
        assert_eq!(i.resolve(e), "");
        assert_eq!(i.resolve(x), "x");
    }

    #[test]
    fn admission_interns_on_the_second_sighting() {
        let mut i = Interner::new();
        assert_eq!(i.intern_if_repeated("shared title"), None);
        let s = i
            .intern_if_repeated("shared title")
            .expect("second sighting interns");
        assert_eq!(i.intern_if_repeated("shared title"), Some(s));
        assert_eq!(i.intern_if_repeated("unique-1"), None);
        assert_eq!(i.intern_if_repeated("unique-2"), None);
        assert_eq!(i.len(), 1);
    }

    #[test]
    fn shapes_and_strings_are_separate_tables() {
        let mut i = Interner::new();
        assert_eq!(i.intern_if_repeated("abc"), None);
        // Same bytes as a shape: a first sighting for the shape table.
        assert_eq!(i.intern_shape_if_repeated(b"abc"), None);
        let shape = i.intern_shape_if_repeated(b"abc").unwrap();
        assert_eq!(i.shape(shape), Some(&b"abc"[..]));
        assert_eq!(i.shape_count(), 1);
        assert_eq!(i.len(), 0);
    }

    #[test]
    fn many_symbols_survive_table_growth() {
        let mut i = Interner::new();
        let syms: Vec<_> = (0..10_000)
            .map(|n| i.intern(&format!("v{n}")).unwrap())
            .collect();
        for (n, s) in syms.iter().enumerate() {
            assert_eq!(i.resolve(*s), format!("v{n}"));
            assert_eq!(i.lookup(&format!("v{n}")), Some(*s));
        }
        assert!(i.heap_bytes() > ADMISSION_SLOTS * 8);
    }
}
