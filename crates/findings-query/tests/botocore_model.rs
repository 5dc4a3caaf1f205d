//! The catalogue against the wire contract: the botocore model's `AwsSecurityFindingFilters`
//! and `AutomationRulesFindingFilters` members and filter types, and the ASFF path of every
//! attribute resolved through the model's `AwsSecurityFinding` shape.
//!
//! The installed botocore may predate the newest members, so the 107 names of the current
//! model (spec 4.1) are also embedded and checked exactly.

use std::process::Command;

use fleetward_findings_query::{
    ATTRIBUTE_COUNT, AttrKind, all_attributes, attribute_by_name, attribute_kind, attribute_name,
    attribute_path, is_automation_criterion,
};
use serde_json::Value;

/// The 107 members of `AwsSecurityFindingFilters` in the 2026-08 model (spec 4.1).
const MODEL_107: &str = "ProductArn AwsAccountId Id GeneratorId Region Type FirstObservedAt \
LastObservedAt CreatedAt UpdatedAt SeverityProduct SeverityNormalized SeverityLabel Confidence \
Criticality Title Description RecommendationText SourceUrl ProductFields ProductName CompanyName \
UserDefinedFields MalwareName MalwareType MalwarePath MalwareState NetworkDirection \
NetworkProtocol NetworkSourceIpV4 NetworkSourceIpV6 NetworkSourcePort NetworkSourceDomain \
NetworkSourceMac NetworkDestinationIpV4 NetworkDestinationIpV6 NetworkDestinationPort \
NetworkDestinationDomain ProcessName ProcessPath ProcessPid ProcessParentPid ProcessLaunchedAt \
ProcessTerminatedAt ThreatIntelIndicatorType ThreatIntelIndicatorValue \
ThreatIntelIndicatorCategory ThreatIntelIndicatorLastObservedAt ThreatIntelIndicatorSource \
ThreatIntelIndicatorSourceUrl ResourceType ResourceId ResourcePartition ResourceRegion \
ResourceTags ResourceAwsEc2InstanceType ResourceAwsEc2InstanceImageId \
ResourceAwsEc2InstanceIpV4Addresses ResourceAwsEc2InstanceIpV6Addresses \
ResourceAwsEc2InstanceKeyName ResourceAwsEc2InstanceIamInstanceProfileArn \
ResourceAwsEc2InstanceVpcId ResourceAwsEc2InstanceSubnetId ResourceAwsEc2InstanceLaunchedAt \
ResourceAwsS3BucketOwnerId ResourceAwsS3BucketOwnerName ResourceAwsIamAccessKeyUserName \
ResourceAwsIamAccessKeyPrincipalName ResourceAwsIamAccessKeyStatus \
ResourceAwsIamAccessKeyCreatedAt ResourceAwsIamUserUserName ResourceContainerName \
ResourceContainerImageId ResourceContainerImageName ResourceContainerLaunchedAt \
ResourceDetailsOther ComplianceStatus VerificationState WorkflowState WorkflowStatus RecordState \
RelatedFindingsProductArn RelatedFindingsId NoteText NoteUpdatedAt NoteUpdatedBy Keyword \
FindingProviderFieldsConfidence FindingProviderFieldsCriticality \
FindingProviderFieldsRelatedFindingsId FindingProviderFieldsRelatedFindingsProductArn \
FindingProviderFieldsSeverityLabel FindingProviderFieldsSeverityOriginal \
FindingProviderFieldsTypes Sample ComplianceSecurityControlId ComplianceAssociatedStandardsId \
VulnerabilitiesExploitAvailable VulnerabilitiesFixAvailable \
ComplianceSecurityControlParametersName ComplianceSecurityControlParametersValue AwsAccountName \
ResourceApplicationName ResourceApplicationArn ResourceOwnerAccountId ResourceOwnerOrgId \
ResourceProvider";

/// The 41 members of `AutomationRulesFindingFilters` (spec 6.3).
const AUTOMATION_41: &str = "ProductArn AwsAccountId Id GeneratorId Type FirstObservedAt \
LastObservedAt CreatedAt UpdatedAt Confidence Criticality Title Description SourceUrl \
ProductName CompanyName SeverityLabel ResourceType ResourceId ResourcePartition ResourceRegion \
ResourceTags ResourceDetailsOther ComplianceStatus ComplianceSecurityControlId \
ComplianceAssociatedStandardsId VerificationState WorkflowStatus RecordState \
RelatedFindingsProductArn RelatedFindingsId NoteText NoteUpdatedAt NoteUpdatedBy \
UserDefinedFields ResourceApplicationArn ResourceApplicationName AwsAccountName \
ResourceProvider ResourceOwnerAccountId ResourceOwnerOrgId";

#[test]
fn catalogue_is_exactly_the_current_model() {
    let mut names: Vec<&str> = MODEL_107.split_whitespace().collect();
    assert_eq!(names.len(), 107);
    assert_eq!(ATTRIBUTE_COUNT, 107);
    for n in &names {
        let a = attribute_by_name(n).unwrap_or_else(|| panic!("{n} missing from the catalogue"));
        assert_eq!(attribute_name(a), *n);
    }
    let mut ours: Vec<&str> = all_attributes().map(attribute_name).collect();
    names.sort_unstable();
    ours.sort_unstable();
    assert_eq!(names, ours);
    let mut auto: Vec<&str> = AUTOMATION_41.split_whitespace().collect();
    let mut ours_auto: Vec<&str> = all_attributes()
        .filter(|a| is_automation_criterion(*a))
        .map(attribute_name)
        .collect();
    auto.sort_unstable();
    ours_auto.sort_unstable();
    assert_eq!(auto, ours_auto);
}

/// Loads the installed botocore securityhub model through Python, if both are available.
fn botocore_shapes() -> Option<Value> {
    let script = "import botocore,os,gzip,json,sys\n\
d=os.path.join(os.path.dirname(botocore.__file__),'data','securityhub','2018-10-26')\n\
p=os.path.join(d,'service-2.json')\n\
m=json.load(open(p)) if os.path.exists(p) else json.load(gzip.open(p+'.gz'))\n\
json.dump(m['shapes'],sys.stdout)";
    let out = Command::new("python3").args(["-c", script]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

fn kind_of_filter_shape(shape: &str) -> Option<AttrKind> {
    Some(match shape {
        "StringFilterList" => AttrKind::String,
        "NumberFilterList" => AttrKind::Number,
        "DateFilterList" => AttrKind::Date,
        "MapFilterList" => AttrKind::Map,
        "IpFilterList" => AttrKind::Ip,
        "KeywordFilterList" => AttrKind::Keyword,
        "BooleanFilterList" => AttrKind::Boolean,
        _ => return None,
    })
}

#[test]
fn catalogue_matches_the_installed_botocore_model() {
    let Some(shapes) = botocore_shapes() else {
        eprintln!("botocore not installed: checked against the embedded list only");
        return;
    };
    let members = |shape: &str| {
        shapes[shape]["members"]
            .as_object()
            .cloned()
            .unwrap_or_default()
    };
    let filters = members("AwsSecurityFindingFilters");
    assert!(
        filters.len() >= 104,
        "unexpected model: {} filter members",
        filters.len()
    );
    for (name, m) in &filters {
        let a = attribute_by_name(name).unwrap_or_else(|| panic!("{name} missing"));
        let shape = m["shape"].as_str().unwrap_or_default();
        assert_eq!(
            Some(attribute_kind(a)),
            kind_of_filter_shape(shape),
            "{name}"
        );
    }
    for name in members("AutomationRulesFindingFilters").keys() {
        let a = attribute_by_name(name).unwrap_or_else(|| panic!("{name} missing"));
        assert!(is_automation_criterion(a), "{name}");
    }
    // Every path resolves member by member through AwsSecurityFinding, ending on a leaf of
    // the attribute's type; attributes newer than the installed model are skipped.
    for a in all_attributes().filter(|a| filters.contains_key(attribute_name(*a))) {
        let path = attribute_path(a);
        if path.is_empty() {
            continue;
        }
        let mut shape = "AwsSecurityFinding".to_string();
        for seg in path.split('.') {
            let (member, list) = match seg.strip_suffix("[]") {
                Some(m) => (m, true),
                None => (seg, false),
            };
            let next = shapes[shape.as_str()]["members"][member]["shape"]
                .as_str()
                .unwrap_or_else(|| panic!("{}: no member {member} in {shape}", attribute_name(a)))
                .to_string();
            let is_list = shapes[next.as_str()]["type"] == "list";
            assert_eq!(is_list, list, "{}: [] marker on {seg}", attribute_name(a));
            shape = if is_list {
                shapes[next.as_str()]["member"]["shape"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            } else {
                next
            };
        }
        let leaf = shapes[shape.as_str()]["type"].as_str().unwrap_or_default();
        let want = match attribute_kind(a) {
            AttrKind::String | AttrKind::Date | AttrKind::Ip => "string",
            AttrKind::Number if leaf == "double" => "double",
            AttrKind::Number => "integer",
            AttrKind::Map => "map",
            AttrKind::Boolean => "boolean",
            AttrKind::Keyword => unreachable!(),
        };
        assert_eq!(leaf, want, "{}: leaf type", attribute_name(a));
    }
}
