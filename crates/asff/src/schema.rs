//! The ASFF schema as data: which members exist, their JSON types and limits.
//!
//! Limits come from the botocore model's `AwsSecurityFinding` shape and the member
//! documentation it carries (spec §1). Every string is a `NonEmptyString` (pattern `.*\S.*`).
//! The top level rejects members the model does not define; nested objects keep members they do
//! not define (a newer SDK model may add some, and AWS's behaviour is unconfirmed). Typed
//! `Resources[].Details.<Type>` objects and a few deep sub-objects are only checked to be
//! objects: the model has ~1300 such shapes and none of them matter to the hub's rules.

use crate::enums::*;

/// A member's expected JSON type and constraints.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// A string with a non-whitespace character and a length in characters within `min..=max`.
    Str {
        min: usize,
        max: usize,
    },
    /// Exactly this string (`SchemaVersion`).
    Const(&'static str),
    /// Twelve decimal digits.
    AccountId,
    /// A product ARN (`Str` 12–2048 in the documented form).
    ProductArn,
    Enum(&'static [&'static str]),
    /// An integer (integral JSON numbers such as `5.0` are accepted, as JSON Schema does).
    Int {
        min: i64,
        max: i64,
    },
    Num,
    Bool,
    /// An ASFF timestamp string (spec §1.2).
    Timestamp,
    /// A finding type `namespace[/category[/classifier]]`.
    FindingType,
    Map(&'static MapRule),
    List {
        item: &'static Kind,
        min: usize,
        max: usize,
    },
    Obj(&'static Struct),
    /// Any JSON object, contents unchecked.
    AnyObj,
    /// Set by the service; whatever the provider sends is replaced, so it is not checked.
    ServiceSet,
}

/// A string→string map.
#[derive(Debug)]
pub(crate) struct MapRule {
    pub max_pairs: usize,
    pub key_max: usize,
    pub value_max: usize,
    /// AWS resource tags may have empty values, so `Tags` values skip the non-empty pattern.
    pub empty_values: bool,
}

/// What to do with object members the schema does not list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Extra {
    Reject,
    Keep,
    /// Keep, but they must be objects (`Resources[].Details`).
    KeepObjects,
}

#[derive(Debug)]
pub(crate) struct Struct {
    pub fields: &'static [Field],
    pub extra: Extra,
}

#[derive(Debug)]
pub(crate) struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

impl Struct {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

const fn opt(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        required: false,
    }
}

const fn req(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        required: true,
    }
}

const fn s(min: usize, max: usize) -> Kind {
    Kind::Str { min, max }
}

const fn list(item: &'static Kind, min: usize, max: usize) -> Kind {
    Kind::List { item, min, max }
}

const fn obj(st: &'static Struct) -> Kind {
    Kind::Obj(st)
}

const fn nested(fields: &'static [Field]) -> Struct {
    Struct {
        fields,
        extra: Extra::Keep,
    }
}

const ANY: usize = usize::MAX;
/// The model's `Integer` is 32-bit.
const INT: Kind = Kind::Int {
    min: i32::MIN as i64,
    max: i32::MAX as i64,
};
const RATIO: Kind = Kind::Int { min: 0, max: 100 };
const STR: Kind = s(1, ANY);
const TS: Kind = Kind::Timestamp;

static STR_ITEM: Kind = STR;
static TYPE_ITEM: Kind = Kind::FindingType;
static ANY_OBJ_ITEM: Kind = Kind::AnyObj;

/// `Types` and `FindingProviderFields.Types`: at most 50 (spec §1.1).
pub(crate) const TYPES: Kind = list(&TYPE_ITEM, 0, 50);

pub(crate) static PRODUCT_FIELDS: MapRule = MapRule {
    max_pairs: 50,
    key_max: 128,
    value_max: 2048,
    empty_values: false,
};
pub(crate) static USER_DEFINED_FIELDS: MapRule = MapRule {
    max_pairs: 50,
    key_max: 128,
    value_max: 1024,
    empty_values: false,
};
/// AWS tag limits: key ≤128, value ≤256, value may be empty; no pair limit is documented.
static TAGS: MapRule = MapRule {
    max_pairs: ANY,
    key_max: 128,
    value_max: 256,
    empty_values: true,
};
static DETAILS_OTHER: MapRule = MapRule {
    max_pairs: 50,
    key_max: 128,
    value_max: 1024,
    empty_values: false,
};

pub(crate) static SEVERITY: Struct = nested(&[
    opt("Product", Kind::Num),
    opt("Label", Kind::Enum(SEVERITY_LABELS)),
    opt("Normalized", RATIO),
    opt("Original", s(1, 64)),
]);

static FPF_SEVERITY: Struct = nested(&[
    opt("Label", Kind::Enum(SEVERITY_LABELS)),
    opt("Original", s(1, 64)),
]);

pub(crate) static RELATED_FINDING: Struct = nested(&[req("ProductArn", STR), req("Id", STR)]);
static RELATED_FINDING_ITEM: Kind = obj(&RELATED_FINDING);
/// `RelatedFindings`: 1–10 (spec §1.8).
pub(crate) const RELATED_FINDINGS: Kind = list(&RELATED_FINDING_ITEM, 1, 10);

pub(crate) static WORKFLOW: Struct = nested(&[opt("Status", Kind::Enum(WORKFLOW_STATUSES))]);

static NOTE: Struct = nested(&[
    req("Text", s(1, 512)),
    req("UpdatedBy", STR),
    req("UpdatedAt", TS),
]);

static RECOMMENDATION: Struct = nested(&[opt("Text", s(1, 512)), opt("Url", STR)]);
static REMEDIATION: Struct = nested(&[opt("Recommendation", obj(&RECOMMENDATION))]);

static MALWARE: Struct = nested(&[
    req("Name", s(1, 64)),
    opt("Type", Kind::Enum(MALWARE_TYPES)),
    opt("Path", s(1, 512)),
    opt("State", Kind::Enum(MALWARE_STATES)),
]);
static MALWARE_ITEM: Kind = obj(&MALWARE);

static PORT_RANGE: Struct = nested(&[opt("Begin", INT), opt("End", INT)]);
static NETWORK: Struct = nested(&[
    opt("Direction", Kind::Enum(NETWORK_DIRECTIONS)),
    opt("Protocol", s(1, 16)),
    opt("OpenPortRange", obj(&PORT_RANGE)),
    opt("SourceIpV4", STR),
    opt("SourceIpV6", STR),
    opt("SourcePort", INT),
    opt("SourceDomain", s(1, 128)),
    opt("SourceMac", STR),
    opt("DestinationIpV4", STR),
    opt("DestinationIpV6", STR),
    opt("DestinationPort", INT),
    opt("DestinationDomain", s(1, 128)),
]);

static NETWORK_PATH_COMPONENT: Struct = nested(&[
    opt("ComponentId", s(1, 32)),
    opt("ComponentType", s(1, 32)),
    opt("Egress", Kind::AnyObj),
    opt("Ingress", Kind::AnyObj),
]);
static NETWORK_PATH_ITEM: Kind = obj(&NETWORK_PATH_COMPONENT);

static PROCESS: Struct = nested(&[
    opt("Name", s(1, 64)),
    opt("Path", s(1, 512)),
    opt("Pid", INT),
    opt("ParentPid", INT),
    opt("LaunchedAt", TS),
    opt("TerminatedAt", TS),
]);

static FILE_PATHS: Struct = nested(&[
    opt("FilePath", s(1, 128)),
    opt("FileName", s(1, 128)),
    opt("ResourceId", s(1, 128)),
    opt("Hash", s(1, 128)),
]);
static FILE_PATHS_ITEM: Kind = obj(&FILE_PATHS);
static THREAT: Struct = nested(&[
    opt("Name", s(1, 128)),
    opt("Severity", s(1, 128)),
    opt("ItemCount", INT),
    opt("FilePaths", list(&FILE_PATHS_ITEM, 1, 5)),
]);
static THREAT_ITEM: Kind = obj(&THREAT);

static THREAT_INTEL_INDICATOR: Struct = nested(&[
    opt("Type", Kind::Enum(THREAT_INTEL_TYPES)),
    opt("Value", s(1, 512)),
    opt("Category", Kind::Enum(THREAT_INTEL_CATEGORIES)),
    opt("LastObservedAt", TS),
    opt("Source", s(1, 64)),
    opt("SourceUrl", STR),
]);
static THREAT_INTEL_INDICATOR_ITEM: Kind = obj(&THREAT_INTEL_INDICATOR);

static DETAILS: Struct = Struct {
    fields: &[opt("Other", Kind::Map(&DETAILS_OTHER))],
    extra: Extra::KeepObjects,
};
static RESOURCE: Struct = nested(&[
    req("Type", s(1, 256)),
    req("Id", STR),
    opt("Partition", Kind::Enum(PARTITIONS)),
    opt("Region", s(1, 16)),
    opt("ResourceRole", STR),
    opt("Tags", Kind::Map(&TAGS)),
    opt("DataClassification", Kind::AnyObj),
    opt("Details", obj(&DETAILS)),
    opt("ApplicationName", STR),
    opt("ApplicationArn", STR),
    opt("Provider", Kind::Enum(RESOURCE_PROVIDERS)),
    opt("Owner", Kind::AnyObj),
]);
static RESOURCE_ITEM: Kind = obj(&RESOURCE);

static STATUS_REASON: Struct = nested(&[req("ReasonCode", STR), opt("Description", STR)]);
static STATUS_REASON_ITEM: Kind = obj(&STATUS_REASON);
static ASSOCIATED_STANDARD: Struct = nested(&[opt("StandardsId", STR)]);
static ASSOCIATED_STANDARD_ITEM: Kind = obj(&ASSOCIATED_STANDARD);
static CONTROL_PARAMETER: Struct =
    nested(&[opt("Name", STR), opt("Value", list(&STR_ITEM, 0, ANY))]);
static CONTROL_PARAMETER_ITEM: Kind = obj(&CONTROL_PARAMETER);
static COMPLIANCE: Struct = nested(&[
    opt("Status", Kind::Enum(COMPLIANCE_STATUSES)),
    opt("RelatedRequirements", list(&STR_ITEM, 0, 32)),
    opt("StatusReasons", list(&STATUS_REASON_ITEM, 0, ANY)),
    opt("SecurityControlId", STR),
    opt(
        "AssociatedStandards",
        list(&ASSOCIATED_STANDARD_ITEM, 0, ANY),
    ),
    opt(
        "SecurityControlParameters",
        list(&CONTROL_PARAMETER_ITEM, 0, ANY),
    ),
]);

static VENDOR: Struct = nested(&[
    req("Name", STR),
    opt("Url", STR),
    opt("VendorSeverity", STR),
    opt("VendorCreatedAt", TS),
    opt("VendorUpdatedAt", TS),
]);
static VULNERABILITY: Struct = nested(&[
    req("Id", STR),
    opt("VulnerablePackages", list(&ANY_OBJ_ITEM, 0, ANY)),
    opt("Cvss", list(&ANY_OBJ_ITEM, 0, ANY)),
    opt("RelatedVulnerabilities", list(&STR_ITEM, 0, ANY)),
    opt("Vendor", obj(&VENDOR)),
    opt("ReferenceUrls", list(&STR_ITEM, 0, ANY)),
    opt("FixAvailable", Kind::Enum(FIX_AVAILABLE)),
    opt("EpssScore", Kind::Num),
    opt("ExploitAvailable", Kind::Enum(EXPLOIT_AVAILABLE)),
    opt("LastKnownExploitAt", TS),
    opt("CodeVulnerabilities", list(&ANY_OBJ_ITEM, 0, ANY)),
]);
static VULNERABILITY_ITEM: Kind = obj(&VULNERABILITY);

static PATCH_SUMMARY: Struct = nested(&[
    req("Id", s(1, 256)),
    opt("InstalledCount", INT),
    opt("MissingCount", INT),
    opt("FailedCount", INT),
    opt("InstalledOtherCount", INT),
    opt("InstalledRejectedCount", INT),
    opt("InstalledPendingReboot", INT),
    opt("OperationStartTime", TS),
    opt("OperationEndTime", TS),
    opt("RebootOption", s(1, 256)),
    opt("Operation", s(1, 256)),
]);

static ACTION: Struct = nested(&[
    opt("ActionType", STR),
    opt("NetworkConnectionAction", Kind::AnyObj),
    opt("AwsApiCallAction", Kind::AnyObj),
    opt("DnsRequestAction", Kind::AnyObj),
    opt("PortProbeAction", Kind::AnyObj),
]);

pub(crate) static FINDING_PROVIDER_FIELDS: Struct = nested(&[
    opt("Confidence", RATIO),
    opt("Criticality", RATIO),
    opt("RelatedFindings", RELATED_FINDINGS),
    opt("Severity", obj(&FPF_SEVERITY)),
    opt("Types", TYPES),
]);

static GENERATOR_DETAILS: Struct = nested(&[
    opt("Name", STR),
    opt("Description", STR),
    opt("Labels", list(&STR_ITEM, 0, 10)),
]);

/// `AwsSecurityFinding`: the 45 members of the model (spec §1.11) plus nothing else.
pub(crate) static FINDING: Struct = Struct {
    fields: &[
        req("SchemaVersion", Kind::Const("2018-10-08")),
        req("Id", s(1, 512)),
        req("ProductArn", Kind::ProductArn),
        opt("ProductName", s(1, 128)),
        opt("CompanyName", s(1, 128)),
        opt("Region", s(1, 16)),
        req("GeneratorId", s(1, 512)),
        req("AwsAccountId", Kind::AccountId),
        opt("Types", TYPES),
        opt("FirstObservedAt", TS),
        opt("LastObservedAt", TS),
        req("CreatedAt", TS),
        req("UpdatedAt", TS),
        opt("Severity", obj(&SEVERITY)),
        opt("Confidence", RATIO),
        opt("Criticality", RATIO),
        req("Title", s(1, 256)),
        req("Description", s(1, 1024)),
        opt("Remediation", obj(&REMEDIATION)),
        opt("SourceUrl", STR),
        opt("ProductFields", Kind::Map(&PRODUCT_FIELDS)),
        opt("UserDefinedFields", Kind::Map(&USER_DEFINED_FIELDS)),
        opt("Malware", list(&MALWARE_ITEM, 0, 5)),
        opt("Network", obj(&NETWORK)),
        opt("NetworkPath", list(&NETWORK_PATH_ITEM, 0, ANY)),
        opt("Process", obj(&PROCESS)),
        opt("Threats", list(&THREAT_ITEM, 1, 32)),
        opt(
            "ThreatIntelIndicators",
            list(&THREAT_INTEL_INDICATOR_ITEM, 1, 5),
        ),
        req("Resources", list(&RESOURCE_ITEM, 1, 32)),
        opt("Compliance", obj(&COMPLIANCE)),
        opt("VerificationState", Kind::Enum(VERIFICATION_STATES)),
        opt("WorkflowState", Kind::Enum(WORKFLOW_STATES)),
        opt("Workflow", obj(&WORKFLOW)),
        opt("RecordState", Kind::Enum(RECORD_STATES)),
        opt("RelatedFindings", RELATED_FINDINGS),
        opt("Note", obj(&NOTE)),
        opt("Vulnerabilities", list(&VULNERABILITY_ITEM, 0, ANY)),
        opt("PatchSummary", obj(&PATCH_SUMMARY)),
        opt("Action", obj(&ACTION)),
        opt("FindingProviderFields", obj(&FINDING_PROVIDER_FIELDS)),
        opt("Sample", Kind::Bool),
        opt("GeneratorDetails", obj(&GENERATOR_DETAILS)),
        opt("ProcessedAt", Kind::ServiceSet),
        opt("AwsAccountName", s(1, 50)),
        opt("Detection", Kind::AnyObj),
    ],
    extra: Extra::Reject,
};

static NOTE_UPDATE: Struct = nested(&[req("Text", s(1, 512)), req("UpdatedBy", STR)]);
static SEVERITY_UPDATE: Struct = nested(&[
    opt("Normalized", RATIO),
    opt("Product", Kind::Num),
    opt("Label", Kind::Enum(SEVERITY_LABELS)),
]);

/// The update members shared by `BatchUpdateFindings` and automation-rule `FindingFieldsUpdate`
/// (spec §3, §6.3). Other members (`FindingIdentifiers`) are the caller's business.
pub(crate) static FINDING_UPDATE: Struct = Struct {
    fields: &[
        opt("Note", obj(&NOTE_UPDATE)),
        opt("Severity", obj(&SEVERITY_UPDATE)),
        opt("VerificationState", Kind::Enum(VERIFICATION_STATES)),
        opt("Confidence", RATIO),
        opt("Criticality", RATIO),
        opt("Types", TYPES),
        opt("UserDefinedFields", Kind::Map(&USER_DEFINED_FIELDS)),
        opt("Workflow", obj(&WORKFLOW)),
        opt("RelatedFindings", RELATED_FINDINGS),
    ],
    extra: Extra::Keep,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_has_the_45_model_members_and_10_required() {
        assert_eq!(FINDING.fields.len(), 45);
        let required: Vec<_> = FINDING
            .fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name)
            .collect();
        assert_eq!(
            required,
            [
                "SchemaVersion",
                "Id",
                "ProductArn",
                "GeneratorId",
                "AwsAccountId",
                "CreatedAt",
                "UpdatedAt",
                "Title",
                "Description",
                "Resources"
            ]
        );
        let mut names: Vec<_> = FINDING.fields.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 45, "duplicate member");
    }
}
