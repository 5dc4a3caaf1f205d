//! The AWS Security Finding Format: validation, normalisation and the import and update rules.
//!
//! Pure functions over `serde_json::Value` (no I/O, no async), following
//! `spec/security-hub.md` §1–§3 and §6.3:
//!
//! - [`validate_finding`]: one finding as received in `BatchImportFindings`;
//! - [`prepare_new`]: a new finding as stored;
//! - [`merge_import`]: a provider re-import of a stored finding;
//! - [`parse_finding_update`] / [`apply_update`] ([`apply_update_owned`] saves a copy):
//!   `BatchUpdateFindings` and automation-rule actions;
//! - [`diff`]: finding-history changes between two stored versions.
//!
//! # Decisions where AWS's behaviour is unconfirmed
//!
//! Validation:
//! - Types: AWS's own pattern `^([^/]+)(/[^/]+){0,2}$` (1–3 non-empty segments); the namespace
//!   is not checked, so Device Defender's `Software and Configuration Check/...` and prowler's
//!   compliance ids pass.
//! - Severity and Types may each come from the top level or from `FindingProviderFields`.
//! - Unknown top-level members are rejected; unknown members of nested objects are kept (a newer
//!   SDK model may add them). Typed `Resources[].Details.<Type>` objects, `Action` sub-objects,
//!   vulnerability packages/CVSS, `DataClassification`, `Owner` and `Detection` are only
//!   checked to be objects.
//! - `Resources[].Partition` accepts the newer model's six values and `Provider` `AWS|Azure`.
//! - Tag values may be empty (AWS tags allow it), ≤256 characters; keys ≤128.
//! - ProcessedAt (and Region, ProductName, CompanyName, AwsAccountName when well-typed) from the
//!   provider are overwritten; ProcessedAt is not validated at all.
//! - Integral floats (`50.0`) are accepted as integers and stored as integers.
//! - Timestamps: `T`/`t`/space separator, `Z`/`z`; no leap seconds; years 0000–9999 in UTC.
//! - 240 KB = 245,760 bytes of compact JSON; the `aws/securityhub/*` keys the service injects
//!   are not counted against the 50 ProductFields pairs.
//!
//! Import and update:
//! - A re-import replaces every provider-owned member, including ones it leaves out; CreatedAt
//!   follows the provider; a missing RecordState means ACTIVE (so it re-opens an archived
//!   finding and resets its workflow).
//! - UpdatedAt is compared after rounding to milliseconds; equal is stale.
//! - On creation, a top-level Severity whose Label equals FPF's keeps its Normalized/Product.
//! - A Compliance PASSED → FAILED/WARNING/NOT_AVAILABLE change does not reset SUPPRESSED.
//! - UserDefinedFields updates are merged into the stored map; every update member marks its
//!   customer bit, even when the value does not change.
//! - History paths are dotted leaves (`Workflow.Status`); arrays are whole values.

mod diff;
mod enums;
mod merge;
mod normalize;
mod product_arn;
mod provider_fields;
mod schema;
mod size;
mod timestamp;
mod update;
mod validate;

#[cfg(test)]
mod fixtures;

pub use diff::diff;
pub use enums::{RecordState, SeverityLabel, VerificationState, WorkflowStatus};
pub use merge::{ImportOutcome, merge_import};
pub use normalize::{ImportContext, prepare_new};
pub use product_arn::{ProductArn, parse_product_arn};
pub use size::{FINDING_SIZE_EXCEEDED, MAX_FINDING_BYTES, check_size, json_len};
pub use timestamp::{format_timestamp, normalize_timestamp, parse_timestamp};
pub use update::{
    FindingUpdate, NoteUpdate, RelatedFinding, SeverityUpdate, apply_update, apply_update_owned,
    finding_update_to_json, parse_finding_update,
};
pub use validate::{FORMAT_ERROR_PREFIX, validate_finding};

use std::ops::{BitOr, BitOrAssign};

/// Which top-level fields a customer (`BatchUpdateFindings` or an automation rule) has changed;
/// stored as an i64 beside the finding. The first five decide whether a provider's
/// `FindingProviderFields` value still reaches the top level (spec §2.4); the rest are kept for
/// history and display (those fields are customer-owned after creation anyway).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct CustomerFields(pub i64);

impl CustomerFields {
    pub const NONE: Self = Self(0);
    pub const CONFIDENCE: Self = Self(1);
    pub const CRITICALITY: Self = Self(1 << 1);
    pub const RELATED_FINDINGS: Self = Self(1 << 2);
    pub const SEVERITY: Self = Self(1 << 3);
    pub const TYPES: Self = Self(1 << 4);
    pub const NOTE: Self = Self(1 << 5);
    pub const USER_DEFINED_FIELDS: Self = Self(1 << 6);
    pub const VERIFICATION_STATE: Self = Self(1 << 7);
    pub const WORKFLOW: Self = Self(1 << 8);

    const NAMES: [(Self, &'static str); 9] = [
        (Self::CONFIDENCE, "Confidence"),
        (Self::CRITICALITY, "Criticality"),
        (Self::RELATED_FINDINGS, "RelatedFindings"),
        (Self::SEVERITY, "Severity"),
        (Self::TYPES, "Types"),
        (Self::NOTE, "Note"),
        (Self::USER_DEFINED_FIELDS, "UserDefinedFields"),
        (Self::VERIFICATION_STATE, "VerificationState"),
        (Self::WORKFLOW, "Workflow"),
    ];

    /// True when every bit of `other` is set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The ASFF names of the marked fields, in a fixed order.
    pub fn field_names(self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(bit, _)| self.contains(*bit))
            .map(|(_, name)| *name)
            .collect()
    }
}

impl BitOr for CustomerFields {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitOrAssign for CustomerFields {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

/// One entry of finding history (`FindingHistoryUpdate`): the dotted field path and the values
/// before and after (strings as they are, other values as compact JSON; `None` when absent).
/// See [`diff`] for the path form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    pub updated_field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_field_bits_compose() {
        let mut c = CustomerFields::default();
        assert!(c.is_empty());
        c |= CustomerFields::SEVERITY;
        let c = c | CustomerFields::WORKFLOW;
        assert!(c.contains(CustomerFields::SEVERITY));
        assert!(!c.contains(CustomerFields::TYPES));
        assert!(!c.contains(CustomerFields::SEVERITY | CustomerFields::TYPES));
        assert_eq!(c.field_names(), ["Severity", "Workflow"]);
        assert_eq!(c.0, 8 | 256);
    }
}
