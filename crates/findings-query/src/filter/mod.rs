//! Filters: the parsed, validated form of an `AwsSecurityFindingFilters` (GetFindings,
//! insights, UpdateFindings) or `AutomationRulesFindingFilters` (automation rule criteria)
//! object, and its evaluation against records.
//!
//! Semantics (spec 4.1–4.5), shared by both dialects:
//! - Different attributes are AND-ed; an attribute's list of filters is combined as below.
//! - String and map filters: positive comparisons (`EQUALS`, `PREFIX`, `CONTAINS`) are OR-ed,
//!   negative ones (`NOT_EQUALS`, `PREFIX_NOT_EQUALS`, `NOT_CONTAINS`) AND-ed, and the two
//!   groups AND-ed: `(p1 OR p2) AND NOT n1 AND NOT n2`. Values are case-sensitive.
//! - Multi-valued attributes (any path through a list, e.g. `Type`, `Resource*`, `Malware*`):
//!   a positive comparison holds when ANY value satisfies it, a negative one when NO value
//!   satisfies its positive counterpart (so `ResourceType NOT_EQUALS AwsIamPolicy` excludes a
//!   finding that has an IAM policy among other resources).
//! - A missing attribute fails positive comparisons and passes negative ones.
//! - Number, date, IP, boolean and keyword filters are positive: a list of them is OR-ed, and
//!   a finding matches when any of its values satisfies any filter. Inside one NumberFilter,
//!   all bounds given are AND-ed; inside one DateFilter, `Start`, `End` and `DateRange` are
//!   AND-ed.
//! - `Sample` reads as `false` when the finding has none.
//!
//! [`Filters::matches`] compares bytes and suits evaluating a few records (automation rules on
//! ingest). For scans, [`Filters::prepare`] first resolves every comparison against the
//! interner once, so interned values are tested by symbol without touching their bytes.

mod eval;
mod parse;
mod prepare;
mod rules;
#[cfg(test)]
mod tests;

use ipnet::IpNet;

pub use prepare::PreparedFilters;

use crate::catalog::AttrId;
use crate::interner::Sym;

/// Which filter object is being parsed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dialect {
    /// `AwsSecurityFindingFilters`: all 107 attributes. `CONTAINS`/`NOT_CONTAINS` are accepted
    /// as a superset of AWS, which documents them for automation rules only (spec 4.2).
    GetFindings,
    /// `AutomationRulesFindingFilters`: the 41 automation criteria only (spec 6.3).
    AutomationRules,
}

/// A validated filter set, ready to match records.
#[derive(Clone, Debug, Default)]
pub struct Filters {
    /// Sorted by attribute, one per attribute, so evaluation is one pass over a record.
    conds: Vec<Cond>,
}

#[derive(Clone, Debug)]
pub(crate) struct Cond {
    pub attr: AttrId,
    pub test: Test,
}

#[derive(Clone, Debug)]
pub(crate) enum Test {
    Str(StrTest),
    Num(Vec<NumRange>),
    Date(Vec<DateCond>),
    Map(MapTest),
    Ip(Vec<IpNet>),
    Bool(Vec<bool>),
    Keyword(KeywordTest),
}

/// Positive operations (any must hold for some value) and negated ones, each stored as its
/// positive counterpart (no value may satisfy any of them). `*_syms` answer the same question
/// for interned values once prepared.
#[derive(Clone, Debug, Default)]
pub(crate) struct StrTest {
    pub pos: Vec<StrOp>,
    pub neg: Vec<StrOp>,
    pub pos_syms: SymSet,
    pub neg_syms: SymSet,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct MapTest {
    pub pos: Vec<MapOp>,
    pub neg: Vec<MapOp>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct KeywordTest {
    pub words: Vec<Box<str>>,
    pub syms: SymSet,
}

/// How a string value is compared, negation factored out.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Match {
    Equals,
    Prefix,
    Contains,
}

#[derive(Clone, Debug)]
pub(crate) struct StrOp {
    pub how: Match,
    pub value: Box<str>,
}

#[derive(Clone, Debug)]
pub(crate) struct MapOp {
    pub key: Box<str>,
    pub how: Match,
    pub value: Box<str>,
    pub key_sym: SymSet,
    pub value_syms: SymSet,
}

/// The interned strings satisfying a comparison, decided when filters are prepared.
#[derive(Clone, Debug, Default)]
pub(crate) enum SymSet {
    /// Not prepared: compare the symbol's bytes.
    #[default]
    Unresolved,
    /// Exactly these symbols (equality comparisons: at most one symbol per value).
    Few(Vec<Sym>),
    /// A bitmap over every symbol of the interner.
    Bits(Box<[u64]>),
}

impl SymSet {
    /// `Some(answer)` when resolved, `None` to fall back to comparing bytes.
    #[inline]
    pub fn contains(&self, s: Sym) -> Option<bool> {
        match self {
            SymSet::Unresolved => None,
            SymSet::Few(v) => Some(v.contains(&s)),
            SymSet::Bits(b) => {
                let i = usize::try_from(s).ok()?;
                b.get(i / 64).map(|w| w & (1 << (i % 64)) != 0)
            }
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct NumRange {
    pub gte: Option<f64>,
    pub lte: Option<f64>,
    pub eq: Option<f64>,
    pub gt: Option<f64>,
    pub lt: Option<f64>,
}

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DateCond {
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub range: Option<DateRange>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct DateRange {
    pub days: i64,
    pub older_than: bool,
}

impl Filters {
    /// Parses and validates a filters object (`null` = no filters). The error is the message
    /// for an `InvalidInputException` and names the attribute and the problem.
    pub fn parse(v: &serde_json::Value, dialect: Dialect) -> Result<Filters, String> {
        parse::parse(v, dialect)
    }

    /// True when no attribute is filtered (every finding matches).
    pub fn is_empty(&self) -> bool {
        self.conds.is_empty()
    }

    /// The filtered attributes, in catalogue order.
    pub fn attributes(&self) -> impl Iterator<Item = AttrId> + '_ {
        self.conds.iter().map(|c| c.attr)
    }

    /// If the filters require attribute `a` to EQUAL one of a set of values (only positive
    /// `EQUALS` string filters on `a`), those values. An index on `a` then yields a superset of
    /// the matches: candidates must still go through [`Filters::matches`].
    pub fn required_equals(&self, a: AttrId) -> Option<Vec<String>> {
        let cond = self.conds.iter().find(|c| c.attr == a)?;
        let Test::Str(t) = &cond.test else {
            return None;
        };
        let only_equals =
            t.neg.is_empty() && !t.pos.is_empty() && t.pos.iter().all(|op| op.how == Match::Equals);
        only_equals.then(|| t.pos.iter().map(|op| op.value.to_string()).collect())
    }
}
