//! Preparing filters for a scan over many records.
//!
//! - Every string comparison is answered once per interned string instead of once per record:
//!   equality becomes a symbol comparison; `PREFIX`, `CONTAINS` and `Keyword` become a bitmap
//!   over the interner's symbols (one per attribute and polarity for string filters, so at most
//!   ~20 bitmaps of `symbols / 8` bytes). Values stored inline are still compared by bytes.
//! - Every condition on an attribute that lives in a record's shared shape is decided once per
//!   shape: most records are then rejected (or half-accepted) from their first bytes, without
//!   reading the shape at all.

use super::eval::{compare, has_word, keyword_in};
use super::{Cond, Filters, Match, StrOp, SymSet, Test};
use crate::catalog::{AttrKind, attribute_kind};
use crate::interner::Interner;
use crate::record::{Entries, RecordRef};

/// Filters resolved against one interner; the borrow keeps the interner unchanged meanwhile.
#[derive(Debug)]
pub struct PreparedFilters<'i> {
    filters: Filters,
    interner: &'i Interner,
    /// Per interned shape: do the conditions it decides hold, and which conditions it decides.
    shapes: Vec<Verdict>,
}

#[derive(Clone, Copy, Debug)]
struct Verdict {
    pass: bool,
    /// Bit `i`: condition `i`'s attribute is in the shape.
    decided: u16,
    /// A `Keyword` filter is satisfied by a value in the shape.
    keyword: bool,
}

impl Filters {
    /// Resolves the filters against `interner` for a scan over many records. Costs one pass
    /// over the interned strings per `PREFIX`/`CONTAINS`/`Keyword` group and one evaluation per
    /// interned shape.
    pub fn prepare<'i>(&self, interner: &'i Interner) -> PreparedFilters<'i> {
        let mut filters = self.clone();
        for cond in &mut filters.conds {
            match &mut cond.test {
                Test::Str(t) => {
                    t.pos_syms = resolve_ops(&t.pos, interner);
                    t.neg_syms = resolve_ops(&t.neg, interner);
                }
                Test::Map(t) => {
                    for op in t.pos.iter_mut().chain(t.neg.iter_mut()) {
                        op.key_sym = SymSet::Few(interner.lookup(&op.key).into_iter().collect());
                        op.value_syms = resolve(interner, op.how, &op.value);
                    }
                }
                Test::Keyword(k) => {
                    k.syms = bits(interner, |b| {
                        std::str::from_utf8(b).is_ok_and(|t| has_word(&k.words, t))
                    });
                }
                _ => {}
            }
        }
        // Parsing allows at most 10 attributes, so the decided-mask never overflows.
        let shapes = if filters.conds.len() <= 16 {
            interner
                .shapes()
                .map(|shape| verdict(&filters.conds, shape, interner))
                .collect()
        } else {
            Vec::new()
        };
        PreparedFilters {
            filters,
            interner,
            shapes,
        }
    }
}

/// Evaluates the conditions whose attribute is in `shape`. Dates (which depend on `now`) and
/// keywords (which span the whole record) are never decided here; dates are never in shapes.
fn verdict(conds: &[Cond], shape: &[u8], interner: &Interner) -> Verdict {
    let empty: &[u8] = &[0, 0];
    let mut entries = Entries::of_shape(shape);
    let mut v = Verdict {
        pass: true,
        decided: 0,
        keyword: false,
    };
    for (i, Cond { attr, test }) in conds.iter().enumerate() {
        if let Test::Keyword(k) = test {
            v.keyword = keyword_in(k, Entries::of_shape(shape), empty, interner);
            continue;
        }
        if attribute_kind(*attr) == AttrKind::Date {
            continue;
        }
        if let Some(e) = entries.seek(*attr) {
            v.decided |= 1 << i;
            v.pass &= test.holds(Some(e), empty, interner, 0);
        }
    }
    v
}

impl PreparedFilters<'_> {
    /// Same answer as [`Filters::matches`] with the interner given to `prepare`.
    pub fn matches<'a>(&self, rec: impl Into<RecordRef<'a>>, now_ms: i64) -> bool {
        let rec = rec.into().buf;
        let Some((shape, mut own)) = Entries::own_of_shared(rec) else {
            return self.filters.matches_bytes(rec, self.interner, now_ms);
        };
        let Some(v) = usize::try_from(shape).ok().and_then(|s| self.shapes.get(s)) else {
            return self.filters.matches_bytes(rec, self.interner, now_ms);
        };
        if !v.pass {
            return false;
        }
        let mut keywords = None;
        for (i, Cond { attr, test }) in self.filters.conds.iter().enumerate() {
            if v.decided & (1 << i) != 0 {
                continue;
            }
            if let Test::Keyword(k) = test {
                keywords = Some(k);
                continue;
            }
            // Not in the shape, so in the own section or missing.
            if !test.holds(own.seek(*attr), rec, self.interner, now_ms) {
                return false;
            }
        }
        // The shape's strings were searched once; only the record's own ones remain.
        v.keyword
            || keywords.is_none_or(|k| {
                Entries::own_of_shared(rec)
                    .is_some_and(|(_, own)| keyword_in(k, own, rec, self.interner))
            })
    }

    /// The filters this was prepared from.
    pub fn filters(&self) -> &Filters {
        &self.filters
    }
}

fn resolve_ops(ops: &[StrOp], interner: &Interner) -> SymSet {
    if ops.is_empty() {
        return SymSet::Unresolved;
    }
    if ops.iter().all(|op| op.how == Match::Equals) {
        return SymSet::Few(
            ops.iter()
                .filter_map(|op| interner.lookup(&op.value))
                .collect(),
        );
    }
    bits(interner, |b| {
        ops.iter().any(|op| compare(op.how, &op.value, b))
    })
}

fn resolve(interner: &Interner, how: Match, value: &str) -> SymSet {
    match how {
        Match::Equals => SymSet::Few(interner.lookup(value).into_iter().collect()),
        _ => bits(interner, |b| compare(how, value, b)),
    }
}

fn bits(interner: &Interner, pred: impl Fn(&[u8]) -> bool) -> SymSet {
    let mut words = vec![0u64; interner.len().div_ceil(64)];
    for (sym, b) in interner.symbols() {
        if pred(b)
            && let Some(w) = usize::try_from(sym)
                .ok()
                .and_then(|i| words.get_mut(i / 64))
        {
            *w |= 1 << (sym % 64);
        }
    }
    SymSet::Bits(words.into_boxed_slice())
}
