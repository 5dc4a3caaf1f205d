//! GetFindings (spec 4): filters, sort criteria and paging over the in-memory index; only the
//! returned page is read from the store.
//!
//! Paging is by key, not offset: the token holds the sort key of the last finding returned and
//! a watermark (the highest seq when the first page was asked for), so findings imported while
//! a client pages are neither returned twice nor shift the pages; findings created after the
//! first page are left out of that walk.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::Bound;
use std::sync::atomic::Ordering as AtomicOrdering;

use fleetward_findings_query::{
    Dialect, Filters, SortCriterion, SortValue, attribute_by_name, parse_sort_criteria, sort_value,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{HubError, HubResult};
use crate::index::{AccountIndex, Entry};
use crate::input::{max_results, optional_str};
use crate::paging;
use crate::{Caller, Hub};

/// One page of a query: seqs in order, and the token for the next page.
pub(crate) struct Page {
    pub seqs: Vec<i64>,
    pub next: Option<String>,
}

/// Which part of the result a request asks for.
struct Window {
    max: usize,
    cursor: Option<Cursor>,
}

#[derive(Serialize, Deserialize)]
struct Cursor {
    /// Hash of the filters and sort criteria the token belongs to.
    h: u64,
    /// Highest seq visible to this walk.
    w: i64,
    /// Sort values of the last finding returned.
    k: Vec<Value>,
    /// Its seq (the tie-break).
    s: i64,
}

impl Hub {
    pub async fn handle_get_findings(&self, caller: &Caller, input: &Value) -> HubResult<Value> {
        self.get_findings_walking(caller, input, WALK_BEFORE_SCAN)
            .await
    }

    /// GetFindings whose UpdatedAt walk scans after `walk_before_scan` findings.
    pub(crate) async fn get_findings_walking(
        &self,
        caller: &Caller,
        input: &Value,
        walk_before_scan: usize,
    ) -> HubResult<Value> {
        self.require_enabled(caller).await?;
        let empty = json!({});
        let filters_json = input.get("Filters").unwrap_or(&empty);
        let filters =
            Filters::parse(filters_json, Dialect::GetFindings).map_err(HubError::InvalidInput)?;
        let sort_json = input.get("SortCriteria").cloned().unwrap_or(Value::Null);
        let mut sort = if sort_json.is_null() {
            Vec::new()
        } else {
            parse_sort_criteria(&sort_json).map_err(HubError::InvalidInput)?
        };
        if sort.is_empty() {
            sort.push(default_sort());
        }
        let max = max_results(input, 100)?;
        let request_hash = {
            let mut hasher = DefaultHasher::new();
            filters_json.to_string().hash(&mut hasher);
            sort_json.to_string().hash(&mut hasher);
            hasher.finish()
        };
        let cursor = match optional_str(input, "NextToken")? {
            Some(token) => {
                let cursor: Cursor = paging::decode(token)?;
                if cursor.h != request_hash {
                    return Err(HubError::InvalidInput(
                        "The NextToken does not belong to these filters and sort criteria.".into(),
                    ));
                }
                Some(cursor)
            }
            None => None,
        };
        let page = self.query_page(
            &caller.account_id,
            &filters,
            &sort,
            Window { max, cursor },
            request_hash,
            walk_before_scan,
        );
        let findings = self.load_bodies(&page.seqs).await?;
        let mut output = json!({ "Findings": findings });
        if let Some(next) = page.next {
            output["NextToken"] = Value::String(next);
        }
        Ok(output)
    }

    /// Reads the bodies of `seqs` from the store, in the order given.
    pub(crate) async fn load_bodies(&self, seqs: &[i64]) -> HubResult<Vec<Value>> {
        if seqs.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows = self.store.get_findings_by_seq(seqs).await?;
        rows.sort_by_key(|r| seqs.iter().position(|s| *s == r.seq));
        rows.into_iter()
            .map(|r| {
                serde_json::from_str(&r.body)
                    .map_err(|e| HubError::Internal(format!("stored finding {}: {e}", r.seq)))
            })
            .collect()
    }

    /// Seqs of every finding of the account matching `filters` (insights, UpdateFindings).
    pub(crate) fn matching_seqs(&self, account_id: &str, filters: &Filters) -> Vec<i64> {
        let now = self.clock.now_ms();
        let index = self.read_index();
        let Some(account) = index.account(account_id) else {
            return Vec::new();
        };
        let prepared = filters.prepare(&index.interner);
        match identity_candidates(account, filters) {
            Some(seqs) => seqs
                .into_iter()
                .filter(|seq| {
                    account
                        .entries
                        .get(seq)
                        .is_some_and(|e| prepared.matches(&e.record, now))
                })
                .collect(),
            None => account
                .entries
                .iter()
                .filter(|(_, e)| prepared.matches(&e.record, now))
                .map(|(seq, _)| *seq)
                .collect(),
        }
    }

    /// One page; in UpdatedAt order the walk gives up on filling it after `walk_before_scan`
    /// findings and scans instead (a parameter so that tests can compare both ways).
    fn query_page(
        &self,
        account_id: &str,
        filters: &Filters,
        sort: &[SortCriterion],
        window: Window,
        request_hash: u64,
        walk_before_scan: usize,
    ) -> Page {
        let Window { max, cursor } = window;
        let now = self.clock.now_ms();
        let index = self.read_index();
        let Some(account) = index.account(account_id) else {
            return Page {
                seqs: Vec::new(),
                next: None,
            };
        };
        let watermark = cursor
            .as_ref()
            .map_or_else(|| self.next_seq.load(AtomicOrdering::SeqCst) - 1, |c| c.w);
        let prepared = filters.prepare(&index.interner);
        let matches = |seq: i64| -> bool {
            seq <= watermark
                && account
                    .entries
                    .get(&seq)
                    .is_some_and(|e| prepared.matches(&e.record, now))
        };
        let by_updated = sort.len() == 1 && Some(sort[0].attr) == attribute_by_name("UpdatedAt");
        // A filter naming the findings by Id walks those few instead of the whole account.
        let candidates = identity_candidates(account, filters);
        let candidates_by_updated: Option<BTreeSet<(i64, i64)>> = candidates.as_ref().map(|seqs| {
            seqs.iter()
                .filter_map(|seq| account.entries.get(seq).map(|e| (e.updated_at_ms, *seq)))
                .collect()
        });
        let mut picked: Vec<(i64, Vec<Value>)> = Vec::with_capacity(max + 1);
        if by_updated {
            let order = candidates_by_updated
                .as_ref()
                .unwrap_or(&account.by_updated);
            let after = cursor
                .as_ref()
                .map(|c| (c.k.first().and_then(date_of).unwrap_or(0), c.s));
            let descending = sort[0].descending;
            let walk: Box<dyn Iterator<Item = &(i64, i64)>> = match (descending, after) {
                (true, Some(key)) => Box::new(order.range(..key).rev()),
                (true, None) => Box::new(order.iter().rev()),
                (false, Some(key)) => {
                    Box::new(order.range((Bound::Excluded(key), Bound::Unbounded)))
                }
                (false, None) => Box::new(order.iter()),
            };
            let mut walked = 0;
            let mut too_few = false;
            for &(updated, seq) in walk {
                walked += 1;
                if walked > walk_before_scan && candidates.is_none() {
                    too_few = true;
                    break;
                }
                if matches(seq) {
                    picked.push((seq, vec![json!({ "d": updated })]));
                    if picked.len() > max {
                        break;
                    }
                }
            }
            if too_few {
                let order = UpdatedOrder { descending, after };
                picked = scan_in_updated_order(account, watermark, order, max + 1, |e| {
                    prepared.matches(&e.record, now)
                })
                .into_iter()
                .map(|(updated, seq)| (seq, vec![json!({ "d": updated })]))
                .collect();
            }
        } else {
            // In memory order, not by seq: one pass over the table instead of a lookup each.
            let entries: Box<dyn Iterator<Item = (i64, &Entry)>> = match &candidates {
                Some(seqs) => Box::new(
                    seqs.iter()
                        .filter_map(|seq| account.entries.get(seq).map(|e| (*seq, e))),
                ),
                None => Box::new(account.entries.iter().map(|(seq, e)| (*seq, e))),
            };
            let mut all: Vec<(i64, Vec<SortValue<'_>>)> = entries
                .filter(|(seq, e)| *seq <= watermark && prepared.matches(&e.record, now))
                .map(|(seq, e)| {
                    let key = sort
                        .iter()
                        .map(|c| sort_value(&e.record, &index.interner, c.attr))
                        .collect();
                    (seq, key)
                })
                .collect();
            all.sort_by(|a, b| compare_keys(sort, a, b));
            let start = match &cursor {
                Some(c) => {
                    let last: (i64, Vec<SortValue<'_>>) =
                        (c.s, c.k.iter().map(sort_value_from_json).collect());
                    all.partition_point(|item| compare_keys(sort, item, &last) != Ordering::Greater)
                }
                None => 0,
            };
            picked = all
                .into_iter()
                .skip(start)
                .take(max + 1)
                .map(|(seq, key)| (seq, key.iter().map(sort_value_to_json).collect()))
                .collect();
        }
        let next = if picked.len() > max {
            picked.truncate(max);
            picked.last().map(|(seq, key)| {
                paging::encode(&Cursor {
                    h: request_hash,
                    w: watermark,
                    k: key.clone(),
                    s: *seq,
                })
            })
        } else {
            None
        };
        Page {
            seqs: picked.into_iter().map(|(seq, _)| seq).collect(),
            next,
        }
    }
}

/// How many findings the UpdatedAt walk looks at before it gives up on filling the page early
/// and scans instead (a few milliseconds of walking).
const WALK_BEFORE_SCAN: usize = 20_000;

/// A walk in UpdatedAt order: its direction, and the (UpdatedAt, seq) it resumes after.
#[derive(Clone, Copy)]
struct UpdatedOrder {
    descending: bool,
    after: Option<(i64, i64)>,
}

impl UpdatedOrder {
    fn comes_after_cursor(self, key: (i64, i64)) -> bool {
        match self.after {
            None => true,
            Some(last) if self.descending => key < last,
            Some(last) => key > last,
        }
    }

    fn compare(self, a: &(i64, i64), b: &(i64, i64)) -> Ordering {
        if self.descending { b.cmp(a) } else { a.cmp(b) }
    }
}

/// The first `count` matching (UpdatedAt, seq) in `order`, found by one pass over the entries
/// in memory order. For filters that match too few findings for the ordered walk to stop
/// early: the walk looks every finding up by seq, a cache miss apiece; this pass reads the
/// table in the order it lies in memory.
fn scan_in_updated_order(
    account: &AccountIndex,
    watermark: i64,
    order: UpdatedOrder,
    count: usize,
    matches: impl Fn(&Entry) -> bool,
) -> Vec<(i64, i64)> {
    if count == 0 {
        return Vec::new();
    }
    let mut hits: Vec<(i64, i64)> = account
        .entries
        .iter()
        .filter(|(seq, e)| {
            **seq <= watermark && order.comes_after_cursor((e.updated_at_ms, **seq)) && matches(e)
        })
        .map(|(seq, e)| (e.updated_at_ms, *seq))
        .collect();
    if hits.len() > count {
        hits.select_nth_unstable_by(count - 1, |a, b| order.compare(a, b));
        hits.truncate(count);
    }
    hits.sort_unstable_by(|a, b| order.compare(a, b));
    hits
}

/// When the filters pin `Id` to EQUALS values, the seqs that may hold those findings (one
/// identity lookup per Id and ProductArn: the ProductArn filter's EQUALS values, or every
/// product the account has findings of); sorted, without duplicates. A superset: each must
/// still match the filters.
fn identity_candidates(account: &AccountIndex, filters: &Filters) -> Option<Vec<i64>> {
    let ids = filters.required_equals(attribute_by_name("Id")?)?;
    let products: Vec<String> =
        match attribute_by_name("ProductArn").and_then(|a| filters.required_equals(a)) {
            Some(products) => products,
            None => account.products().map(str::to_string).collect(),
        };
    let mut seqs: Vec<i64> = products
        .iter()
        .flat_map(|product| {
            ids.iter()
                .flat_map(move |id| account.seqs_with_identity(product, id))
        })
        .collect();
    seqs.sort_unstable();
    seqs.dedup();
    Some(seqs)
}

/// GetFindings without SortCriteria: most recently updated first (AWS leaves it unspecified).
fn default_sort() -> SortCriterion {
    SortCriterion {
        attr: attribute_by_name("UpdatedAt").unwrap_or(fleetward_findings_query::AttrId(0)),
        descending: true,
    }
}

/// Orders by each criterion (missing values last either way), then by seq.
fn compare_keys(
    sort: &[SortCriterion],
    a: &(i64, Vec<SortValue<'_>>),
    b: &(i64, Vec<SortValue<'_>>),
) -> Ordering {
    for (i, criterion) in sort.iter().enumerate() {
        let ordering = a.1[i].compare(&b.1[i], criterion.descending);
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    a.0.cmp(&b.0)
}

fn date_of(v: &Value) -> Option<i64> {
    v.get("d").and_then(Value::as_i64)
}

fn sort_value_to_json(v: &SortValue) -> Value {
    match v {
        SortValue::Missing => Value::Null,
        SortValue::Num(n) => json!({ "n": n }),
        SortValue::Date(d) => json!({ "d": d }),
        SortValue::Str(s) => json!({ "s": s }),
    }
}

fn sort_value_from_json(v: &Value) -> SortValue<'static> {
    if let Some(n) = v.get("n").and_then(Value::as_f64) {
        SortValue::Num(n)
    } else if let Some(d) = date_of(v) {
        SortValue::Date(d)
    } else if let Some(s) = v.get("s").and_then(Value::as_str) {
        SortValue::Str(s.to_string().into())
    } else {
        SortValue::Missing
    }
}
