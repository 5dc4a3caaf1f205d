//! The findings filter engine shared by GetFindings, insights, UpdateFindings and automation
//! rules: the attribute catalogue, compact in-memory finding records, filter parsing and
//! evaluation, sort keys and insight grouping. Pure and synchronous.
//!
//! The hub keeps one [`FindingRecord`] per finding (about 220 bytes for a 2 KB finding: shared
//! strings and whole groups of shared values live once in the [`Interner`]) and answers any
//! filter by scanning them, after [`Filters::prepare`]:
//!
//! ```
//! use fleetward_findings_query::{Dialect, FindingRecord, Filters, Interner};
//! use serde_json::json;
//!
//! let mut interner = Interner::new();
//! let finding = json!({"Id": "f-1", "Severity": {"Label": "HIGH"}, "RecordState": "ACTIVE"});
//! let rec = FindingRecord::from_finding(&finding, &mut interner);
//! let filters = Filters::parse(
//!     &json!({"SeverityLabel": [{"Value": "HIGH", "Comparison": "EQUALS"}]}),
//!     Dialect::GetFindings,
//! )
//! .unwrap();
//! assert!(filters.matches(&rec, &interner, 0));
//! assert!(filters.prepare(&interner).matches(&rec, 0));
//! ```
//!
//! Decisions where AWS is silent or odd (each also documented where it is implemented):
//! - `CONTAINS`/`NOT_CONTAINS` are accepted in GetFindings filters too, as a superset (AWS
//!   documents them for automation rules only, spec 4.2); `CONTAINS_WORD` (V2 only) is
//!   rejected in both dialects. A missing `Comparison` means `EQUALS`.
//! - Multi-valued attributes: positive comparisons need ANY value to match, negative ones need
//!   NO value to match their positive form. A missing attribute fails positive filters and
//!   passes negative ones; `Sample` missing reads as `false`.
//! - Number/date/IP/boolean/keyword filters in one list are OR-ed; bounds inside one
//!   NumberFilter or DateFilter are AND-ed. Date `Start`/`End` are inclusive; `DateRange`
//!   `WITHIN n` = at or after `now - n days` (future timestamps included), `OLDER_THAN n` =
//!   before it. An `IpFilter` `Cidr` may be a bare address (/32 or /128).
//! - Map filter combination rules (spec 4.2) apply per key.
//! - `Keyword`: the value occurs as a whole word (case-sensitive) in some string value or map
//!   value of the finding.
//! - `ProductName`/`CompanyName` filter the top-level fields (spec 4.1).
//! - Sorting uses an attribute's first value; findings without one sort last in both orders.
//! - Insight grouping counts a finding once under each distinct value (spec 5).
//! - Limits: 10 attributes (non-empty lists) and 20 filters per attribute.

mod access;
mod catalog;
mod codec;
mod filter;
mod group;
mod interner;
mod path;
mod plan;
mod record;
mod sort;
mod timestamp;

pub use access::{first_date, first_number, first_string, map_value, string_values, updated_at_ms};
pub use catalog::{
    ATTRIBUTE_COUNT, AttrId, AttrKind, all_attributes, attribute_by_name, attribute_kind,
    attribute_name, attribute_path, attrs, is_automation_criterion,
};
pub use filter::{Dialect, Filters, PreparedFilters};
pub use group::group_values;
pub use interner::{Interner, Sym};
pub use record::{FindingRecord, RecordLayout, RecordRef, RecordStore, RecordStoreInput, Slot};
pub use sort::{
    SortCriterion, SortKey, SortValue, compare_records, parse_sort_criteria, sort_key, sort_value,
    top_k,
};
pub use timestamp::parse_timestamp_ms;
