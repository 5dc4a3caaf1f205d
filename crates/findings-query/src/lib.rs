//! The findings filter engine shared by GetFindings, insights, UpdateFindings and automation
//! rules: the attribute catalogue, compact in-memory finding records, filter parsing and
//! evaluation, sort keys and insight grouping. Pure and synchronous.
//!
//! The hub keeps one [`FindingRecord`] per finding (a few hundred bytes: shared strings live
//! once in the [`Interner`]) and answers any filter by scanning them:
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
//! ```

mod access;
mod catalog;
mod codec;
mod filter;
mod group;
mod interner;
mod path;
mod record;
mod sort;
mod timestamp;

pub use access::{
    first_date, first_number, first_string, map_value, string_values, updated_at_ms,
};
pub use catalog::{
    ATTRIBUTE_COUNT, AttrId, AttrKind, all_attributes, attribute_by_name, attribute_kind,
    attribute_name, attribute_path, attrs, is_automation_criterion,
};
pub use filter::{Dialect, Filters, PreparedFilters};
pub use group::group_values;
pub use interner::{Interner, Sym};
pub use record::{FindingRecord, RecordLayout};
pub use sort::{
    SortCriterion, SortKey, SortValue, compare_records, parse_sort_criteria, sort_key, sort_value,
};
pub use timestamp::parse_timestamp_ms;
