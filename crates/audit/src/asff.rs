//! Audit findings and check summaries as ASFF, in the shape AWS IoT Device Defender sends
//! them to Security Hub (seed 002): ids, product, types, severity, title, description,
//! console link, product fields and resources.

use serde_json::{Map, Value, json};

use crate::catalog::CheckDef;
use crate::model::{CheckDetails, CheckRunStatus, Finding, Task, TaskType};

pub const PRODUCT_NAME: &str = "IoT Device Defender - Audit";
pub const COMPANY_NAME: &str = "AWS";

/// What every ASFF record of a task shares.
pub struct Context<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub console_base_url: &'a str,
    pub task: &'a Task,
}

impl Context<'_> {
    pub fn product_arn(&self) -> String {
        format!(
            "arn:aws:securityhub:{}::product/aws/iot-device-defender-audit",
            self.region
        )
    }

    fn console(&self, fragment: &str) -> String {
        format!(
            "{}/console/iot/home?region={}#/{fragment}",
            self.console_base_url.trim_end_matches('/'),
            self.region
        )
    }

    fn results_url(&self, check: &str) -> String {
        self.console(&format!("dd/audit/results/{}/{check}", self.task.task_id))
    }
}

/// The hub id of an audit finding: the same resource, check and reason keep one hub finding
/// across audits (`ACCOUNT/RESOURCE_TYPE/RESOURCE/CHECK/REASON`).
pub fn finding_id(account_id: &str, f: &Finding) -> String {
    let path = f.non_compliant_resource.resource_identifier.path();
    let id = format!(
        "{account_id}/{}/{path}/{}/{}",
        f.non_compliant_resource.resource_type, f.check_name, f.reason_for_non_compliance_code
    );
    if id.chars().count() <= 512 {
        return id;
    }
    // ASFF ids are at most 512 characters: a long resource name is replaced by its digest.
    let digest = ring::digest::digest(&ring::digest::SHA256, path.as_bytes());
    format!(
        "{account_id}/{}/{}/{}/{}",
        f.non_compliant_resource.resource_type,
        hex::encode(digest.as_ref()),
        f.check_name,
        f.reason_for_non_compliance_code
    )
}

/// The hub id of a check summary: one per check and kind of task (and scheduled audit).
pub fn summary_id(account_id: &str, task: &Task, check: &str) -> String {
    match (&task.task_type, &task.scheduled_audit_name) {
        (TaskType::Scheduled, Some(name)) => {
            format!("{account_id}/SCHEDULED_AUDIT_TASK/{name}/{check}")
        }
        _ => format!("{account_id}/ON_DEMAND_AUDIT_TASK/{check}"),
    }
}

fn base(
    ctx: &Context<'_>,
    def: &CheckDef,
    id: String,
    generator: &str,
    updated_ms: i64,
    archived: bool,
) -> Map<String, Value> {
    let at = fleetward_model::timestamp::format_ms(updated_ms);
    let severity = def.severity;
    let mut m = Map::new();
    m.insert("SchemaVersion".into(), json!("2018-10-08"));
    m.insert("Id".into(), json!(id));
    m.insert("ProductArn".into(), json!(ctx.product_arn()));
    m.insert("ProductName".into(), json!(PRODUCT_NAME));
    m.insert("CompanyName".into(), json!(COMPANY_NAME));
    m.insert("Region".into(), json!(ctx.region));
    m.insert("GeneratorId".into(), json!(generator));
    m.insert("AwsAccountId".into(), json!(ctx.account_id));
    m.insert("Types".into(), json!([def.finding_type]));
    m.insert("CreatedAt".into(), json!(at));
    m.insert("UpdatedAt".into(), json!(at));
    m.insert(
        "Severity".into(),
        json!({"Label": severity.as_str(), "Normalized": severity.normalized()}),
    );
    m.insert(
        "RecordState".into(),
        json!(if archived { "ARCHIVED" } else { "ACTIVE" }),
    );
    m.insert(
        "FindingProviderFields".into(),
        json!({"Severity": {"Label": severity.as_str()}, "Types": [def.finding_type]}),
    );
    m
}

fn text(value: &str, max: usize) -> String {
    value.chars().take(max).collect()
}

/// An audit finding; `archived` when the resource is suppressed or no longer non-compliant.
pub fn finding(
    ctx: &Context<'_>,
    def: &CheckDef,
    f: &Finding,
    updated_ms: i64,
    archived: bool,
) -> Value {
    let resource = &f.non_compliant_resource;
    let rid = &resource.resource_identifier;
    let mut m = base(
        ctx,
        def,
        finding_id(ctx.account_id, f),
        &f.finding_id,
        updated_ms,
        archived,
    );
    m.insert(
        "Title".into(),
        json!(text(
            &format!("{}: {}", f.check_name, f.reason_for_non_compliance_code),
            256
        )),
    );
    let name = match &rid.policy_version_identifier {
        Some(p) => format!(
            "{}:{}",
            p.policy_name.as_deref().unwrap_or_default(),
            p.policy_version_id.as_deref().unwrap_or_default()
        ),
        None => rid.path(),
    };
    m.insert(
        "Description".into(),
        json!(text(
            &format!(
                "{} {name} is reported as non-compliant for {} by Audit task {}. The non-compliant reason is {}",
                resource.resource_type, f.check_name, f.task_id, f.reason_for_non_compliance
            ),
            1024
        )),
    );
    let mut fields = Map::new();
    let mut field = |k: &str, v: &str| {
        fields.insert(k.to_string(), json!(text(v, 2048)));
    };
    field("CheckName", &f.check_name);
    field("TaskId", &f.task_id);
    field("TaskType", ctx.task.task_type.as_str());
    if let Some(s) = &ctx.task.scheduled_audit_name {
        field("ScheduledAuditName", s);
    }
    field(
        "IsSuppressed",
        if f.is_suppressed { "true" } else { "false" },
    );
    field(
        "ReasonForNonComplianceCode",
        &f.reason_for_non_compliance_code,
    );
    field("ResourceType", &resource.resource_type);
    field("FindingId", &f.finding_id);
    field("ReportType", "AuditFinding");
    field("TaskStartTime", &f.task_start_ms.to_string());
    let (url, resources) = resource_fields(ctx, f, &mut field);
    m.insert("SourceUrl".into(), json!(url));
    m.insert("ProductFields".into(), Value::Object(fields));
    m.insert("Resources".into(), json!(resources));
    Value::Object(m)
}

/// The resource-specific product fields, console link and ASFF resources of a finding.
fn resource_fields(
    ctx: &Context<'_>,
    f: &Finding,
    field: &mut impl FnMut(&str, &str),
) -> (String, Vec<Value>) {
    let rid = &f.non_compliant_resource.resource_identifier;
    let region = ctx.region;
    let resource = |ty: &str, id: &str, other: Value| {
        let mut r = json!({"Type": ty, "Id": text(id, 512), "Partition": "aws", "Region": region});
        if other.as_object().is_some_and(|o| !o.is_empty()) {
            r["Details"] = json!({"Other": other});
        }
        r
    };
    if let Some(p) = &rid.policy_version_identifier {
        let name = p.policy_name.as_deref().unwrap_or_default();
        let version = p.policy_version_id.as_deref().unwrap_or_default();
        field("PolicyName", name);
        field("PolicyVersionId", version);
        return (
            ctx.console(&format!("policy/{}", encode(name))),
            vec![resource(
                "AwsIotPolicy",
                name,
                json!({"PolicyVersionId": version}),
            )],
        );
    }
    if let Some(id) = &rid.device_certificate_id {
        field("DeviceCertificateId", id);
        return (
            ctx.console(&format!("certificate/{id}")),
            vec![resource("AwsIotCertificate", id, json!({}))],
        );
    }
    if let Some(id) = &rid.ca_certificate_id {
        field("CaCertificateId", id);
        return (
            ctx.console(&format!("cacertificate/{id}")),
            vec![resource("AwsIotCaCertificate", id, json!({}))],
        );
    }
    if let Some(arn) = &rid.role_alias_arn {
        field("RoleAliasArn", arn);
        let name = arn.rsplit('/').next().unwrap_or(arn);
        return (
            ctx.console(&format!("rolealias/{}", encode(name))),
            vec![resource("AwsIotRoleAlias", arn, json!({}))],
        );
    }
    if let Some(account) = &rid.account {
        field("Account", account);
        return (
            ctx.console("settings/logging"),
            vec![resource(
                "AwsAccount",
                &format!("AWS::::Account:{account}"),
                json!({}),
            )],
        );
    }
    let results = ctx.results_url(&f.check_name);
    if let Some(id) = &rid.client_id {
        field("ClientId", id);
        return (
            results,
            vec![resource(
                "Other",
                &format!("ClientId:{id}"),
                json!({"ClientId": text(id, 1024)}),
            )],
        );
    }
    if let Some(id) = &rid.cognito_identity_pool_id {
        field("CognitoIdentityPoolId", id);
        return (
            results,
            vec![resource("AwsCognitoIdentityPool", id, json!({}))],
        );
    }
    if let Some(i) = &rid.issuer_certificate_identifier {
        let subject = i.issuer_certificate_subject.as_deref().unwrap_or_default();
        let issuer = i.issuer_id.as_deref().unwrap_or_default();
        let serial = i
            .issuer_certificate_serial_number
            .as_deref()
            .unwrap_or_default();
        field("IssuerCertificateSubject", subject);
        field("IssuerId", issuer);
        field("IssuerCertificateSerialNumber", serial);
        return (
            results,
            vec![resource(
                "AwsIotCaCertificate",
                issuer,
                json!({"IssuerCertificateSerialNumber": serial}),
            )],
        );
    }
    let other = rid.path();
    (results, vec![resource("Other", &other, json!({}))])
}

/// A check summary of a task (`ReportType` CheckSummary). Active when the check found
/// unsuppressed non-compliant resources or failed; archived otherwise and when the task was
/// canceled.
pub fn summary(
    ctx: &Context<'_>,
    def: &CheckDef,
    details: &CheckDetails,
    updated_ms: i64,
    archived: bool,
) -> Value {
    let task = ctx.task;
    let check = def.name;
    let mut m = base(
        ctx,
        def,
        summary_id(ctx.account_id, task, check),
        &task.task_id,
        updated_ms,
        archived,
    );
    let n = details.non_compliant_resources_count;
    let total = details.total_resources_count;
    let status = details.check_run_status;
    let title = match status {
        CheckRunStatus::CompletedCompliant | CheckRunStatus::CompletedNonCompliant => {
            format!("{check} Summary: Completed with {n} non-compliant resources")
        }
        CheckRunStatus::Failed => format!("{check} Summary: Failed"),
        _ => format!("{check} Summary: Canceled"),
    };
    m.insert("Title".into(), json!(text(&title, 256)));
    let percent = if total == 0 {
        0.0
    } else {
        n as f64 * 100.0 / total as f64
    };
    let opening = match (&task.task_type, &task.scheduled_audit_name) {
        (TaskType::Scheduled, Some(name)) => format!(
            "Task {} of {} scheduled Audit {name}",
            task.task_id,
            task.scheduled_frequency
                .as_deref()
                .unwrap_or("")
                .to_ascii_lowercase()
        ),
        _ => format!("On-demand Audit task {}", task.task_id),
    };
    let description = match status {
        CheckRunStatus::Failed => format!(
            "{opening} could not complete {check}: {}",
            details.message.as_deref().unwrap_or("the check failed.")
        ),
        CheckRunStatus::CompletedCompliant | CheckRunStatus::CompletedNonCompliant => format!(
            "{opening} completes. {n} non-compliant resources are found for {check} out of {total} resources in the account. The percentage of non-compliant resources is {}%.",
            format_percent(percent)
        ),
        _ => format!("{opening} was canceled before {check} completed."),
    };
    m.insert("Description".into(), json!(text(&description, 1024)));
    m.insert("SourceUrl".into(), json!(ctx.results_url(check)));
    let mut fields = Map::new();
    fields.insert("TaskId".into(), json!(task.task_id));
    fields.insert("TaskType".into(), json!(task.task_type.as_str()));
    if let Some(s) = &task.scheduled_audit_name {
        fields.insert("ScheduledAuditName".into(), json!(s));
    }
    fields.insert("CheckName".into(), json!(check));
    fields.insert("ReportType".into(), json!("CheckSummary"));
    fields.insert("CheckRunStatus".into(), json!(status.as_str()));
    // The misspelt key is what Device Defender sends (seed 002); consumers match on it.
    fields.insert("NonComopliantResourcesCount".into(), json!(n.to_string()));
    fields.insert(
        "SuppressedNonCompliantResourcesCount".into(),
        json!(details.suppressed_non_compliant_resources_count.to_string()),
    );
    fields.insert("TotalResourcesCount".into(), json!(total.to_string()));
    m.insert("ProductFields".into(), Value::Object(fields));
    m.insert(
        "Resources".into(),
        json!([{"Type": "AwsIotAuditTask", "Id": task.task_id, "Region": ctx.region}]),
    );
    Value::Object(m)
}

/// `0.2`, `12.5`, `100`: one decimal, no trailing zero.
fn format_percent(p: f64) -> String {
    let text = format!("{p:.1}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Percent-encodes what is not safe in a URL fragment path segment.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~+=,@".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages() {
        assert_eq!(format_percent(0.2), "0.2");
        assert_eq!(format_percent(100.0), "100");
        assert_eq!(format_percent(0.0), "0");
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }
}
