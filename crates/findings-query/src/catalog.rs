//! The attribute catalogue: every member of the botocore shape `AwsSecurityFindingFilters`
//! with its filter type and the ASFF path its values come from.
//!
//! Paths are dotted member names; `[]` marks a list whose elements are all visited (spec 4.1:
//! the mapping from filter name to path is mechanical). A path may cross several lists
//! (`Compliance.SecurityControlParameters[].Value[]`), and the values of every element are
//! collected. `Keyword` has no path: it searches the whole record (see `filter::eval`).
//!
//! `AttrId` is the row index in [`CATALOG`]. It is stable within one build only: records are an
//! in-memory projection and are never persisted.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The filter shape an attribute takes, which is also the type of its stored values.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AttrKind {
    /// `StringFilter {Value, Comparison}`.
    String,
    /// `NumberFilter {Gte, Lte, Eq, Gt, Lt}` over doubles.
    Number,
    /// `DateFilter {Start, End, DateRange}` over timestamps (epoch milliseconds).
    Date,
    /// `MapFilter {Key, Value, Comparison}` over a string-to-string map.
    Map,
    /// `IpFilter {Cidr}` over IP addresses.
    Ip,
    /// `KeywordFilter {Value}`.
    Keyword,
    /// `BooleanFilter {Value}`.
    Boolean,
}

/// One filter attribute: an index into the catalogue.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct AttrId(pub u8);

/// One catalogue row.
pub(crate) struct AttrDef {
    pub name: &'static str,
    pub kind: AttrKind,
    pub path: &'static str,
    /// Also a member of `AutomationRulesFindingFilters` (spec 6.3).
    pub automation: bool,
    /// Low-cardinality values: the record groups them into a shared shape (see `record`).
    pub vocabulary: bool,
}

use AttrKind::{
    Boolean as B, Date as D, Ip as I, Keyword as K, Map as M, Number as N, String as S,
};

const fn row(
    name: &'static str,
    kind: AttrKind,
    path: &'static str,
    automation: bool,
    vocabulary: bool,
) -> AttrDef {
    AttrDef {
        name,
        kind,
        path,
        automation,
        vocabulary,
    }
}

/// In `AutomationRulesFindingFilters` too, or in `AwsSecurityFindingFilters` only.
const AUTO: bool = true;
const ONLY: bool = false;
/// Values are vocabulary shared by many findings (types, titles, enums, accounts) or vary.
const VOC: bool = true;
const VAR: bool = false;

/// Number of filter attributes in the current botocore model.
pub const ATTRIBUTE_COUNT: usize = 107;

/// Model order; the three `ResourceOwner*`/`ResourceProvider` rows are the newest members.
#[rustfmt::skip]
pub(crate) static CATALOG: [AttrDef; ATTRIBUTE_COUNT] = [
    //  name                                            kind ASFF path                                                   automation? values?
    row("ProductArn",                                     S, "ProductArn",                                               AUTO, VOC),
    row("AwsAccountId",                                   S, "AwsAccountId",                                             AUTO, VOC),
    row("Id",                                             S, "Id",                                                       AUTO, VAR),
    row("GeneratorId",                                    S, "GeneratorId",                                              AUTO, VOC),
    row("Region",                                         S, "Region",                                                   ONLY, VOC),
    row("Type",                                           S, "Types[]",                                                  AUTO, VOC),
    row("FirstObservedAt",                                D, "FirstObservedAt",                                          AUTO, VAR),
    row("LastObservedAt",                                 D, "LastObservedAt",                                           AUTO, VAR),
    row("CreatedAt",                                      D, "CreatedAt",                                                AUTO, VAR),
    row("UpdatedAt",                                      D, "UpdatedAt",                                                AUTO, VAR),
    row("SeverityProduct",                                N, "Severity.Product",                                         ONLY, VOC),
    row("SeverityNormalized",                             N, "Severity.Normalized",                                      ONLY, VOC),
    row("SeverityLabel",                                  S, "Severity.Label",                                           AUTO, VOC),
    row("Confidence",                                     N, "Confidence",                                               AUTO, VOC),
    row("Criticality",                                    N, "Criticality",                                              AUTO, VOC),
    row("Title",                                          S, "Title",                                                    AUTO, VOC),
    row("Description",                                    S, "Description",                                              AUTO, VOC),
    row("RecommendationText",                             S, "Remediation.Recommendation.Text",                          ONLY, VOC),
    row("SourceUrl",                                      S, "SourceUrl",                                                AUTO, VOC),
    row("ProductFields",                                  M, "ProductFields",                                            ONLY, VAR),
    // Spec 4.1: the current model doc says these filter the top-level names, not the
    // `aws/securityhub/ProductName|CompanyName` product fields.
    row("ProductName",                                    S, "ProductName",                                              AUTO, VOC),
    row("CompanyName",                                    S, "CompanyName",                                              AUTO, VOC),
    row("UserDefinedFields",                              M, "UserDefinedFields",                                        AUTO, VAR),
    row("MalwareName",                                    S, "Malware[].Name",                                           ONLY, VAR),
    row("MalwareType",                                    S, "Malware[].Type",                                           ONLY, VOC),
    row("MalwarePath",                                    S, "Malware[].Path",                                           ONLY, VAR),
    row("MalwareState",                                   S, "Malware[].State",                                          ONLY, VOC),
    row("NetworkDirection",                               S, "Network.Direction",                                        ONLY, VOC),
    row("NetworkProtocol",                                S, "Network.Protocol",                                         ONLY, VOC),
    row("NetworkSourceIpV4",                              I, "Network.SourceIpV4",                                       ONLY, VAR),
    row("NetworkSourceIpV6",                              I, "Network.SourceIpV6",                                       ONLY, VAR),
    row("NetworkSourcePort",                              N, "Network.SourcePort",                                       ONLY, VAR),
    row("NetworkSourceDomain",                            S, "Network.SourceDomain",                                     ONLY, VAR),
    row("NetworkSourceMac",                               S, "Network.SourceMac",                                        ONLY, VAR),
    row("NetworkDestinationIpV4",                         I, "Network.DestinationIpV4",                                  ONLY, VAR),
    row("NetworkDestinationIpV6",                         I, "Network.DestinationIpV6",                                  ONLY, VAR),
    row("NetworkDestinationPort",                         N, "Network.DestinationPort",                                  ONLY, VAR),
    row("NetworkDestinationDomain",                       S, "Network.DestinationDomain",                                ONLY, VAR),
    row("ProcessName",                                    S, "Process.Name",                                             ONLY, VAR),
    row("ProcessPath",                                    S, "Process.Path",                                             ONLY, VAR),
    row("ProcessPid",                                     N, "Process.Pid",                                              ONLY, VAR),
    row("ProcessParentPid",                               N, "Process.ParentPid",                                        ONLY, VAR),
    row("ProcessLaunchedAt",                              D, "Process.LaunchedAt",                                       ONLY, VAR),
    row("ProcessTerminatedAt",                            D, "Process.TerminatedAt",                                     ONLY, VAR),
    row("ThreatIntelIndicatorType",                       S, "ThreatIntelIndicators[].Type",                             ONLY, VOC),
    row("ThreatIntelIndicatorValue",                      S, "ThreatIntelIndicators[].Value",                            ONLY, VAR),
    row("ThreatIntelIndicatorCategory",                   S, "ThreatIntelIndicators[].Category",                         ONLY, VOC),
    row("ThreatIntelIndicatorLastObservedAt",             D, "ThreatIntelIndicators[].LastObservedAt",                   ONLY, VAR),
    row("ThreatIntelIndicatorSource",                     S, "ThreatIntelIndicators[].Source",                           ONLY, VOC),
    row("ThreatIntelIndicatorSourceUrl",                  S, "ThreatIntelIndicators[].SourceUrl",                        ONLY, VAR),
    row("ResourceType",                                   S, "Resources[].Type",                                         AUTO, VOC),
    row("ResourceId",                                     S, "Resources[].Id",                                           AUTO, VAR),
    row("ResourcePartition",                              S, "Resources[].Partition",                                    AUTO, VOC),
    row("ResourceRegion",                                 S, "Resources[].Region",                                       AUTO, VOC),
    row("ResourceTags",                                   M, "Resources[].Tags",                                         AUTO, VAR),
    row("ResourceAwsEc2InstanceType",                     S, "Resources[].Details.AwsEc2Instance.Type",                  ONLY, VOC),
    row("ResourceAwsEc2InstanceImageId",                  S, "Resources[].Details.AwsEc2Instance.ImageId",               ONLY, VAR),
    row("ResourceAwsEc2InstanceIpV4Addresses",            I, "Resources[].Details.AwsEc2Instance.IpV4Addresses[]",       ONLY, VAR),
    row("ResourceAwsEc2InstanceIpV6Addresses",            I, "Resources[].Details.AwsEc2Instance.IpV6Addresses[]",       ONLY, VAR),
    row("ResourceAwsEc2InstanceKeyName",                  S, "Resources[].Details.AwsEc2Instance.KeyName",               ONLY, VAR),
    row("ResourceAwsEc2InstanceIamInstanceProfileArn",    S, "Resources[].Details.AwsEc2Instance.IamInstanceProfileArn", ONLY, VAR),
    row("ResourceAwsEc2InstanceVpcId",                    S, "Resources[].Details.AwsEc2Instance.VpcId",                 ONLY, VAR),
    row("ResourceAwsEc2InstanceSubnetId",                 S, "Resources[].Details.AwsEc2Instance.SubnetId",              ONLY, VAR),
    row("ResourceAwsEc2InstanceLaunchedAt",               D, "Resources[].Details.AwsEc2Instance.LaunchedAt",            ONLY, VAR),
    row("ResourceAwsS3BucketOwnerId",                     S, "Resources[].Details.AwsS3Bucket.OwnerId",                  ONLY, VAR),
    row("ResourceAwsS3BucketOwnerName",                   S, "Resources[].Details.AwsS3Bucket.OwnerName",                ONLY, VAR),
    row("ResourceAwsIamAccessKeyUserName",                S, "Resources[].Details.AwsIamAccessKey.UserName",             ONLY, VAR),
    row("ResourceAwsIamAccessKeyPrincipalName",           S, "Resources[].Details.AwsIamAccessKey.PrincipalName",        ONLY, VAR),
    row("ResourceAwsIamAccessKeyStatus",                  S, "Resources[].Details.AwsIamAccessKey.Status",               ONLY, VOC),
    row("ResourceAwsIamAccessKeyCreatedAt",               D, "Resources[].Details.AwsIamAccessKey.CreatedAt",            ONLY, VAR),
    row("ResourceAwsIamUserUserName",                     S, "Resources[].Details.AwsIamUser.UserName",                  ONLY, VAR),
    row("ResourceContainerName",                          S, "Resources[].Details.Container.Name",                       ONLY, VAR),
    row("ResourceContainerImageId",                       S, "Resources[].Details.Container.ImageId",                    ONLY, VAR),
    row("ResourceContainerImageName",                     S, "Resources[].Details.Container.ImageName",                  ONLY, VAR),
    row("ResourceContainerLaunchedAt",                    D, "Resources[].Details.Container.LaunchedAt",                 ONLY, VAR),
    row("ResourceDetailsOther",                           M, "Resources[].Details.Other",                                AUTO, VAR),
    row("ComplianceStatus",                               S, "Compliance.Status",                                        AUTO, VOC),
    row("VerificationState",                              S, "VerificationState",                                        AUTO, VOC),
    // Deprecated sibling of WorkflowStatus (spec 1.5), still a top-level member.
    row("WorkflowState",                                  S, "WorkflowState",                                            ONLY, VOC),
    row("WorkflowStatus",                                 S, "Workflow.Status",                                          AUTO, VOC),
    row("RecordState",                                    S, "RecordState",                                              AUTO, VOC),
    row("RelatedFindingsProductArn",                      S, "RelatedFindings[].ProductArn",                             AUTO, VAR),
    row("RelatedFindingsId",                              S, "RelatedFindings[].Id",                                     AUTO, VAR),
    row("NoteText",                                       S, "Note.Text",                                                AUTO, VAR),
    row("NoteUpdatedAt",                                  D, "Note.UpdatedAt",                                           AUTO, VAR),
    row("NoteUpdatedBy",                                  S, "Note.UpdatedBy",                                           AUTO, VOC),
    row("Keyword",                                        K, "",                                                         ONLY, VAR),
    row("FindingProviderFieldsConfidence",                N, "FindingProviderFields.Confidence",                         ONLY, VOC),
    row("FindingProviderFieldsCriticality",               N, "FindingProviderFields.Criticality",                        ONLY, VOC),
    row("FindingProviderFieldsRelatedFindingsId",         S, "FindingProviderFields.RelatedFindings[].Id",               ONLY, VAR),
    row("FindingProviderFieldsRelatedFindingsProductArn", S, "FindingProviderFields.RelatedFindings[].ProductArn",       ONLY, VAR),
    row("FindingProviderFieldsSeverityLabel",             S, "FindingProviderFields.Severity.Label",                     ONLY, VOC),
    row("FindingProviderFieldsSeverityOriginal",          S, "FindingProviderFields.Severity.Original",                  ONLY, VOC),
    row("FindingProviderFieldsTypes",                     S, "FindingProviderFields.Types[]",                            ONLY, VOC),
    row("Sample",                                         B, "Sample",                                                   ONLY, VOC),
    row("ComplianceSecurityControlId",                    S, "Compliance.SecurityControlId",                             AUTO, VOC),
    row("ComplianceAssociatedStandardsId",                S, "Compliance.AssociatedStandards[].StandardsId",             AUTO, VOC),
    row("VulnerabilitiesExploitAvailable",                S, "Vulnerabilities[].ExploitAvailable",                       ONLY, VOC),
    row("VulnerabilitiesFixAvailable",                    S, "Vulnerabilities[].FixAvailable",                           ONLY, VOC),
    row("ComplianceSecurityControlParametersName",        S, "Compliance.SecurityControlParameters[].Name",              ONLY, VOC),
    row("ComplianceSecurityControlParametersValue",       S, "Compliance.SecurityControlParameters[].Value[]",           ONLY, VAR),
    row("AwsAccountName",                                 S, "AwsAccountName",                                           AUTO, VOC),
    row("ResourceApplicationName",                        S, "Resources[].ApplicationName",                              AUTO, VOC),
    row("ResourceApplicationArn",                         S, "Resources[].ApplicationArn",                               AUTO, VOC),
    row("ResourceOwnerAccountId",                         S, "Resources[].Owner.Account.Id",                             AUTO, VOC),
    row("ResourceOwnerOrgId",                             S, "Resources[].Owner.Org.Id",                                 AUTO, VOC),
    row("ResourceProvider",                               S, "Resources[].Provider",                                     AUTO, VOC),
];

/// Well-known attributes the hub and the record encoder refer to directly.
pub mod attrs {
    use super::AttrId;
    pub const PRODUCT_ARN: AttrId = AttrId(0);
    pub const ID: AttrId = AttrId(2);
    pub const UPDATED_AT: AttrId = AttrId(9);
    pub const SEVERITY_LABEL: AttrId = AttrId(12);
    pub const TITLE: AttrId = AttrId(15);
    pub const DESCRIPTION: AttrId = AttrId(16);
    pub const RESOURCE_ID: AttrId = AttrId(51);
    pub const WORKFLOW_STATUS: AttrId = AttrId(79);
    pub const RECORD_STATE: AttrId = AttrId(80);
    pub const KEYWORD: AttrId = AttrId(86);
}

pub(crate) fn def(a: AttrId) -> &'static AttrDef {
    // Out-of-range ids can only be built by hand (`AttrId(255)`); map them to a harmless row
    // rather than panicking.
    CATALOG
        .get(usize::from(a.0))
        .unwrap_or(&CATALOG[usize::from(attrs::KEYWORD.0)])
}

/// Looks up one of the 107 `AwsSecurityFindingFilters` member names (case-sensitive).
pub fn attribute_by_name(name: &str) -> Option<AttrId> {
    static BY_NAME: OnceLock<HashMap<&'static str, AttrId>> = OnceLock::new();
    BY_NAME
        .get_or_init(|| {
            CATALOG
                .iter()
                .enumerate()
                .filter_map(|(i, d)| u8::try_from(i).ok().map(|i| (d.name, AttrId(i))))
                .collect()
        })
        .get(name)
        .copied()
}

/// The model member name of an attribute.
pub fn attribute_name(a: AttrId) -> &'static str {
    def(a).name
}

/// The filter type of an attribute.
pub fn attribute_kind(a: AttrId) -> AttrKind {
    def(a).kind
}

/// The ASFF path the attribute's values come from (empty for `Keyword`).
pub fn attribute_path(a: AttrId) -> &'static str {
    def(a).path
}

/// Whether the attribute's values are low-cardinality vocabulary (kept in record shapes).
pub(crate) fn is_vocabulary(a: AttrId) -> bool {
    def(a).vocabulary
}

/// Whether the attribute is also an `AutomationRulesFindingFilters` criterion.
pub fn is_automation_criterion(a: AttrId) -> bool {
    def(a).automation
}

/// Every attribute, in catalogue order.
pub fn all_attributes() -> impl Iterator<Item = AttrId> {
    (0..ATTRIBUTE_COUNT).filter_map(|i| u8::try_from(i).ok().map(AttrId))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_ids_point_at_their_rows() {
        let pairs = [
            (attrs::PRODUCT_ARN, "ProductArn"),
            (attrs::ID, "Id"),
            (attrs::UPDATED_AT, "UpdatedAt"),
            (attrs::SEVERITY_LABEL, "SeverityLabel"),
            (attrs::TITLE, "Title"),
            (attrs::DESCRIPTION, "Description"),
            (attrs::RESOURCE_ID, "ResourceId"),
            (attrs::WORKFLOW_STATUS, "WorkflowStatus"),
            (attrs::RECORD_STATE, "RecordState"),
            (attrs::KEYWORD, "Keyword"),
        ];
        for (id, name) in pairs {
            assert_eq!(attribute_name(id), name);
            assert_eq!(attribute_by_name(name), Some(id));
        }
    }

    #[test]
    fn kind_counts_match_spec_4_1() {
        let count = |k| CATALOG.iter().filter(|d| d.kind == k).count();
        assert_eq!(count(S), 74);
        assert_eq!(count(D), 11);
        assert_eq!(count(N), 10);
        assert_eq!(count(M), 4);
        assert_eq!(count(I), 6);
        assert_eq!(count(K), 1);
        assert_eq!(count(B), 1);
    }

    #[test]
    fn names_are_unique_and_automation_has_41() {
        let mut names: Vec<_> = CATALOG.iter().map(|d| d.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ATTRIBUTE_COUNT);
        assert_eq!(CATALOG.iter().filter(|d| d.automation).count(), 41);
    }

    #[test]
    fn vocabulary_never_holds_dates_maps_or_ids() {
        // Prepared filters decide shape-resident conditions once per shape, without `now`.
        for d in CATALOG.iter().filter(|d| d.vocabulary) {
            assert!(!matches!(d.kind, D | M | K), "{}", d.name);
        }
        assert!(!is_vocabulary(attrs::ID));
        assert!(!is_vocabulary(attrs::RESOURCE_ID));
        assert!(is_vocabulary(attrs::RECORD_STATE));
    }

    #[test]
    fn paths_follow_the_names() {
        let p = |n| attribute_path(attribute_by_name(n).unwrap());
        assert_eq!(
            p("ResourceAwsEc2InstanceIpV4Addresses"),
            "Resources[].Details.AwsEc2Instance.IpV4Addresses[]"
        );
        assert_eq!(p("Type"), "Types[]");
        assert_eq!(p("ResourceTags"), "Resources[].Tags");
        assert_eq!(
            p("FindingProviderFieldsSeverityLabel"),
            "FindingProviderFields.Severity.Label"
        );
        assert_eq!(
            p("ComplianceAssociatedStandardsId"),
            "Compliance.AssociatedStandards[].StandardsId"
        );
        assert_eq!(p("ResourceOwnerOrgId"), "Resources[].Owner.Org.Id");
        assert!(attribute_by_name("title").is_none());
        assert_eq!(attribute_name(AttrId(250)), "Keyword");
    }
}
