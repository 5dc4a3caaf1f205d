//! Evaluating [`Filters`] against a record: one forward pass over the record's entries, the
//! conditions taken in attribute order, stopping at the first that fails.

use std::net::IpAddr;

use ipnet::IpNet;

use super::{
    Cond, DateCond, Filters, KeywordTest, MapOp, MapTest, Match, NumRange, StrOp, StrTest, SymSet,
    Test,
};
use crate::catalog::{AttrKind, attribute_kind};
use crate::interner::Interner;
use crate::record::{
    BoolValues, DateValues, Entries, Entry, IpValues, MapCursor, MapPairs, NumValues, RecordRef,
    Str, StrValues,
};

const DAY_MS: i64 = 86_400_000;

impl Filters {
    /// Does the record match? `now_ms` anchors `DateRange` (WITHIN / OLDER_THAN N days).
    pub fn matches<'a>(
        &self,
        rec: impl Into<RecordRef<'a>>,
        interner: &Interner,
        now_ms: i64,
    ) -> bool {
        self.matches_bytes(rec.into().buf, interner, now_ms)
    }

    pub(super) fn matches_bytes(&self, rec: &[u8], interner: &Interner, now_ms: i64) -> bool {
        let mut entries = Entries::new(rec, interner);
        let mut keywords = None;
        for Cond { attr, test } in &self.conds {
            if let Test::Keyword(k) = test {
                // Needs the whole record: run it after the cheap conditions.
                keywords = Some(k);
                continue;
            }
            let entry = entries.seek(*attr);
            if !test.holds(entry, rec, interner, now_ms) {
                return false;
            }
        }
        keywords.is_none_or(|k| keyword_matches(k, rec, interner))
    }
}

impl Test {
    pub(super) fn holds(
        &self,
        entry: Option<Entry<'_>>,
        rec: &[u8],
        interner: &Interner,
        now_ms: i64,
    ) -> bool {
        match self {
            Test::Str(t) => str_holds(t, entry, rec, interner),
            Test::Map(t) => map_holds(t, entry, rec, interner),
            Test::Num(ranges) => entry
                .is_some_and(|e| NumValues::new(e).any(|v| ranges.iter().any(|r| r.contains(v)))),
            Test::Date(conds) => entry.is_some_and(|e| {
                DateValues::new(e).any(|v| conds.iter().any(|c| c.contains(v, now_ms)))
            }),
            Test::Ip(nets) => entry.is_some_and(|e| {
                IpValues::new(e).any(|ip: IpAddr| nets.iter().any(|n: &IpNet| n.contains(&ip)))
            }),
            Test::Bool(wanted) => {
                // A finding without `Sample` is not a sample.
                let mut values = entry.map(BoolValues::new).into_iter().flatten().peekable();
                if values.peek().is_none() {
                    wanted.contains(&false)
                } else {
                    values.any(|v| wanted.contains(&v))
                }
            }
            Test::Keyword(k) => keyword_matches(k, rec, interner),
        }
    }
}

/// `(some value satisfies a positive op) AND (no value satisfies a negated op)`; with the
/// attribute missing, positives fail and negatives pass.
fn str_holds(t: &StrTest, entry: Option<Entry<'_>>, rec: &[u8], i: &Interner) -> bool {
    let Some(e) = entry else {
        return t.pos.is_empty();
    };
    let any = |ops: &[StrOp], syms: &SymSet| {
        StrValues::new(e).any(|v| {
            if let Str::Sym(s) = v
                && let Some(hit) = syms.contains(s)
            {
                return hit;
            }
            v.with_parts(rec, i, |head, tail| {
                ops.iter()
                    .any(|op| compare_parts(op.how, &op.value, head, tail))
            })
        })
    };
    (t.pos.is_empty() || any(&t.pos, &t.pos_syms))
        && (t.neg.is_empty() || !any(&t.neg, &t.neg_syms))
}

fn map_holds(t: &MapTest, entry: Option<Entry<'_>>, rec: &[u8], i: &Interner) -> bool {
    let Some(e) = entry else {
        return t.pos.is_empty();
    };
    let holds = |op: &MapOp| some_pair_matches(op, MapCursor::new(e), rec, i);
    (t.pos.is_empty() || t.pos.iter().any(holds)) && !t.neg.iter().any(holds)
}

/// Some pair has `op.key` and a value satisfying `op`; values of other keys are skipped.
fn some_pair_matches(op: &MapOp, mut pairs: MapCursor<'_>, rec: &[u8], i: &Interner) -> bool {
    while let Some(k) = pairs.next_key() {
        let key_ok = match k {
            Str::Sym(s) if let Some(hit) = op.key_sym.contains(s) => hit,
            _ => k.with_parts(rec, i, |h, t| compare_parts(Match::Equals, &op.key, h, t)),
        };
        if !key_ok {
            if pairs.skip_value().is_none() {
                return false;
            }
            continue;
        }
        let Some(v) = pairs.value() else {
            return false;
        };
        let hit = match v {
            Str::Sym(s) if let Some(hit) = op.value_syms.contains(s) => hit,
            _ => v.with_parts(rec, i, |h, t| compare_parts(op.how, &op.value, h, t)),
        };
        if hit {
            return true;
        }
    }
    false
}

pub(crate) fn compare(how: Match, want: &str, have: &[u8]) -> bool {
    compare_parts(how, want, have, &[])
}

/// Compares `want` with the value `head ++ tail` without concatenating.
fn compare_parts(how: Match, want: &str, head: &[u8], tail: &[u8]) -> bool {
    let want = want.as_bytes();
    match how {
        Match::Equals => {
            want.len() == head.len() + tail.len()
                && want.starts_with(head)
                && want[head.len()..] == *tail
        }
        Match::Prefix => match want.split_at_checked(head.len()) {
            Some((w_head, w_tail)) => w_head == head && tail.starts_with(w_tail),
            None => head.starts_with(want),
        },
        Match::Contains => {
            contains(head, want)
                || contains(tail, want)
                // Occurrences spanning the boundary.
                || (1..want.len()).any(|k| head.ends_with(&want[..k]) && tail.starts_with(&want[k..]))
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

impl NumRange {
    fn contains(&self, v: f64) -> bool {
        self.gte.is_none_or(|b| v >= b)
            && self.lte.is_none_or(|b| v <= b)
            && self.eq.is_none_or(|b| v == b)
            && self.gt.is_none_or(|b| v > b)
            && self.lt.is_none_or(|b| v < b)
    }
}

impl DateCond {
    /// `Start`/`End` are inclusive. `WITHIN n` = not before `now - n days` (later values,
    /// including timestamps in the future from skewed clocks, count as within); `OLDER_THAN n`
    /// = strictly before `now - n days`.
    fn contains(&self, v: i64, now_ms: i64) -> bool {
        self.start.is_none_or(|s| v >= s)
            && self.end.is_none_or(|e| v <= e)
            && self.range.is_none_or(|r| {
                let cutoff = now_ms.saturating_sub(r.days.saturating_mul(DAY_MS));
                if r.older_than {
                    v < cutoff
                } else {
                    v >= cutoff
                }
            })
    }
}

/// `Keyword`: some string value of the finding (any string attribute or map value) contains
/// the keyword as a whole word: the characters around the occurrence, if any, are not
/// alphanumeric or `_`. Case-sensitive like every other string comparison (spec 4.2).
pub(super) fn keyword_matches(k: &KeywordTest, rec: &[u8], i: &Interner) -> bool {
    keyword_in(k, Entries::new(rec, i), rec, i)
}

/// `Keyword` over some entries of `rec` (all of them, one section, or a shape).
pub(super) fn keyword_in(
    k: &KeywordTest,
    mut entries: Entries<'_>,
    rec: &[u8],
    i: &Interner,
) -> bool {
    let value_has = |v: Str<'_>| {
        if let Str::Sym(s) = v
            && let Some(hit) = k.syms.contains(s)
        {
            return hit;
        }
        has_word(&k.words, &v.text(rec, i))
    };
    entries.any(|e| match attribute_kind(e.attr) {
        AttrKind::String => StrValues::new(e).any(value_has),
        AttrKind::Map => MapPairs::new(e).any(|(_, v)| value_has(v)),
        _ => false,
    })
}

pub(crate) fn has_word(words: &[Box<str>], text: &str) -> bool {
    words.iter().any(|w| contains_word(text, w))
}

fn contains_word(text: &str, word: &str) -> bool {
    let is_word_char = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, m)| {
        let before = text[..i].chars().next_back();
        let after = text[i + m.len()..].chars().next();
        !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
    })
}
