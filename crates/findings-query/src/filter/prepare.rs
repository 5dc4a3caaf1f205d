//! Preparing filters for a scan: every string comparison is answered once per interned string
//! instead of once per record. Equality becomes a symbol comparison; `PREFIX`, `CONTAINS` and
//! `Keyword` become a bitmap over the interner's symbols (one bitmap per attribute and polarity
//! for string filters, so at most ~20 bitmaps of `symbols / 8` bytes each). Values stored inline
//! in records are still compared by bytes.

use super::eval::{compare, has_word};
use super::{Filters, Match, StrOp, SymSet, Test};
use crate::interner::Interner;
use crate::record::FindingRecord;

/// Filters resolved against one interner; the borrow keeps the interner unchanged meanwhile.
#[derive(Debug)]
pub struct PreparedFilters<'i> {
    filters: Filters,
    interner: &'i Interner,
}

impl Filters {
    /// Resolves the filters against `interner` for a scan over many records. Costs one pass
    /// over the interned strings per `PREFIX`/`CONTAINS`/`Keyword` group; equality costs a
    /// hash lookup per value.
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
        PreparedFilters { filters, interner }
    }
}

impl PreparedFilters<'_> {
    /// Same answer as [`Filters::matches`] with the interner given to `prepare`.
    pub fn matches(&self, rec: &FindingRecord, now_ms: i64) -> bool {
        self.filters.matches(rec, self.interner, now_ms)
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
        return SymSet::Few(ops.iter().filter_map(|op| interner.lookup(&op.value)).collect());
    }
    bits(interner, |b| ops.iter().any(|op| compare(op.how, &op.value, b)))
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
            && let Some(w) = usize::try_from(sym).ok().and_then(|i| words.get_mut(i / 64))
        {
            *w |= 1 << (sym % 64);
        }
    }
    SymSet::Bits(words.into_boxed_slice())
}
