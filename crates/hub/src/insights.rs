//! Insights (spec 5): saved filters with a grouping attribute; results count matching findings
//! per value of the attribute (a finding counts under each of its values), top 100 by count.

use std::collections::HashMap;

use fleetward_findings_query::{Dialect, Filters, attribute_by_name, group_values};
use serde_json::{Value, json};

use crate::error::{HubError, HubResult};
use crate::input::{max_results, optional_str, optional_str_list, required_str};
use crate::paging::page_by_offset;
use crate::products::with_token;
use crate::settings::document;
use crate::{Caller, Hub};

const KIND_INSIGHT: &str = "securityhub.insight";
const MAX_INSIGHTS: usize = 100;
const MAX_RESULT_VALUES: usize = 100;

/// Managed insights: (number, name, GroupByAttribute, extra filters). All of them also keep
/// to active findings in workflow NEW or NOTIFIED, as AWS's do.
const MANAGED: &[(u32, &str, &str, &str)] = &[
    (
        1,
        "AWS resources with the most findings",
        "ResourceId",
        "{}",
    ),
    (
        10,
        "S3 buckets with public write or read permissions",
        "ResourceId",
        r#"{"Type":[{"Value":"Effects/Data Exposure","Comparison":"PREFIX"}],"ResourceType":[{"Value":"AwsS3Bucket","Comparison":"EQUALS"}]}"#,
    ),
    (
        14,
        "EC2 instances that have ports accessible from the Internet",
        "ResourceId",
        r#"{"Type":[{"Value":"TTPs","Comparison":"PREFIX"}],"ResourceType":[{"Value":"AwsEc2Instance","Comparison":"EQUALS"}]}"#,
    ),
    (
        16,
        "EC2 instances that have missing security patches for important vulnerabilities",
        "ResourceId",
        r#"{"Type":[{"Value":"Software and Configuration Checks/Vulnerabilities/CVE","Comparison":"PREFIX"}],"ResourceType":[{"Value":"AwsEc2Instance","Comparison":"EQUALS"}]}"#,
    ),
    (
        27,
        "AWS accounts with the most findings",
        "AwsAccountId",
        "{}",
    ),
    (28, "Products with the most findings", "ProductName", "{}"),
    (29, "Findings by severity", "SeverityLabel", "{}"),
];

fn managed_arn(n: u32) -> String {
    format!("arn:aws:securityhub:::insight/securityhub/default/{n}")
}

fn managed_insight(arn: &str) -> Option<Value> {
    let (n, name, group_by, extra) = MANAGED.iter().find(|m| managed_arn(m.0) == arn)?;
    let mut filters: Value = serde_json::from_str(extra).ok()?;
    filters["RecordState"] = json!([{ "Value": "ACTIVE", "Comparison": "EQUALS" }]);
    filters["WorkflowStatus"] = json!([
        { "Value": "NEW", "Comparison": "EQUALS" },
        { "Value": "NOTIFIED", "Comparison": "EQUALS" }
    ]);
    Some(json!({
        "InsightArn": managed_arn(*n),
        "Name": name,
        "Filters": filters,
        "GroupByAttribute": group_by,
    }))
}

fn parse_filters(filters: &Value) -> HubResult<Filters> {
    Filters::parse(filters, Dialect::GetFindings).map_err(HubError::InvalidInput)
}

fn check_group_by(attribute: &str) -> HubResult<()> {
    attribute_by_name(attribute).map(|_| ()).ok_or_else(|| {
        HubError::InvalidInput(format!(
            "GroupByAttribute {attribute} is not a finding attribute."
        ))
    })
}

impl Hub {
    pub async fn handle_create_insight(&self, caller: &Caller, input: &Value) -> HubResult<Value> {
        self.require_enabled(caller).await?;
        let name = required_str(input, "Name")?;
        let group_by = required_str(input, "GroupByAttribute")?;
        let filters = input
            .get("Filters")
            .ok_or_else(|| HubError::InvalidInput("Filters is required.".into()))?;
        parse_filters(filters)?;
        check_group_by(group_by)?;
        let _guard = self.settings.write_lock.lock().await;
        let existing = self
            .store
            .list_documents(&caller.account_id, KIND_INSIGHT)
            .await?;
        if existing.len() >= MAX_INSIGHTS {
            return Err(HubError::LimitExceeded(format!(
                "An account can have at most {MAX_INSIGHTS} custom insights."
            )));
        }
        let arn = self.arn(
            &caller.account_id,
            &format!(
                "insight/{}/custom/{}",
                caller.account_id,
                uuid::Uuid::new_v4()
            ),
        );
        let insight = json!({
            "InsightArn": arn,
            "Name": name,
            "Filters": filters,
            "GroupByAttribute": group_by,
        });
        let doc = document(
            &caller.account_id,
            KIND_INSIGHT,
            &arn,
            insight.to_string(),
            self.clock.now_ms(),
        );
        self.store.put_document(&doc).await?;
        Ok(json!({ "InsightArn": arn }))
    }

    async fn insight(&self, caller: &Caller, arn: &str) -> HubResult<Value> {
        if let Some(managed) = managed_insight(arn) {
            return Ok(managed);
        }
        self.store
            .get_document(&caller.account_id, KIND_INSIGHT, arn)
            .await?
            .and_then(|doc| serde_json::from_str(&doc.body).ok())
            .ok_or_else(|| HubError::ResourceNotFound(format!("Insight {arn} was not found.")))
    }

    pub async fn handle_get_insights(&self, caller: &Caller, input: &Value) -> HubResult<Value> {
        self.require_enabled(caller).await?;
        let insights: Vec<Value> = match optional_str_list(input, "InsightArns")? {
            Some(arns) if !arns.is_empty() => {
                let mut found = Vec::new();
                for arn in arns {
                    found.push(self.insight(caller, &arn).await?);
                }
                found
            }
            _ => self
                .store
                .list_documents(&caller.account_id, KIND_INSIGHT)
                .await?
                .into_iter()
                .filter_map(|doc| serde_json::from_str(&doc.body).ok())
                .collect(),
        };
        let next = optional_str(input, "NextToken")?;
        let (page, next) = page_by_offset(&insights, next, max_results(input, 100)?)?;
        Ok(with_token(json!({ "Insights": page }), next))
    }

    pub async fn handle_get_insight_results(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        self.require_enabled(caller).await?;
        let arn = required_str(input, "InsightArn")?;
        let insight = self.insight(caller, arn).await?;
        let filters = parse_filters(&insight["Filters"])?;
        let group_by = insight["GroupByAttribute"].as_str().unwrap_or_default();
        let attribute = attribute_by_name(group_by).ok_or_else(|| {
            HubError::InvalidInput(format!("GroupByAttribute {group_by} is not valid."))
        })?;
        let now = self.clock.now_ms();
        let mut counts: HashMap<String, i64> = HashMap::new();
        {
            let index = self.read_index();
            if let Some(account) = index.account(&caller.account_id) {
                let prepared = filters.prepare(&index.interner);
                for entry in account.entries.values() {
                    if prepared.matches(&entry.record, now) {
                        for value in group_values(&entry.record, &index.interner, attribute) {
                            *counts.entry(value).or_default() += 1;
                        }
                    }
                }
            }
        }
        let mut values: Vec<(String, i64)> = counts.into_iter().collect();
        values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        values.truncate(MAX_RESULT_VALUES);
        let result_values: Vec<Value> = values
            .into_iter()
            .map(|(value, count)| json!({ "GroupByAttributeValue": value, "Count": count }))
            .collect();
        Ok(json!({
            "InsightResults": {
                "InsightArn": arn,
                "GroupByAttribute": group_by,
                "ResultValues": result_values,
            }
        }))
    }

    pub async fn handle_update_insight(&self, caller: &Caller, input: &Value) -> HubResult<Value> {
        self.require_enabled(caller).await?;
        let arn = required_str(input, "InsightArn")?;
        if managed_insight(arn).is_some() {
            return Err(HubError::InvalidInput(
                "Managed insights cannot be changed.".into(),
            ));
        }
        let _guard = self.settings.write_lock.lock().await;
        let mut insight = self.insight(caller, arn).await?;
        if let Some(name) = optional_str(input, "Name")? {
            insight["Name"] = Value::String(name.to_string());
        }
        if let Some(filters) = input.get("Filters") {
            parse_filters(filters)?;
            insight["Filters"] = filters.clone();
        }
        if let Some(group_by) = optional_str(input, "GroupByAttribute")? {
            check_group_by(group_by)?;
            insight["GroupByAttribute"] = Value::String(group_by.to_string());
        }
        let doc = document(
            &caller.account_id,
            KIND_INSIGHT,
            arn,
            insight.to_string(),
            self.clock.now_ms(),
        );
        self.store.put_document(&doc).await?;
        Ok(json!({}))
    }

    pub async fn handle_delete_insight(&self, caller: &Caller, input: &Value) -> HubResult<Value> {
        self.require_enabled(caller).await?;
        let arn = required_str(input, "InsightArn")?;
        if managed_insight(arn).is_some() {
            return Err(HubError::InvalidInput(
                "Managed insights cannot be deleted.".into(),
            ));
        }
        if !self
            .store
            .delete_document(&caller.account_id, KIND_INSIGHT, arn)
            .await?
        {
            return Err(HubError::ResourceNotFound(format!(
                "Insight {arn} was not found."
            )));
        }
        Ok(json!({ "InsightArn": arn }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_insights_parse_and_keep_to_active_new_findings() {
        for (n, ..) in MANAGED {
            let insight = managed_insight(&managed_arn(*n)).unwrap();
            assert!(parse_filters(&insight["Filters"]).is_ok(), "insight {n}");
            assert!(check_group_by(insight["GroupByAttribute"].as_str().unwrap()).is_ok());
            assert_eq!(insight["Filters"]["RecordState"][0]["Value"], "ACTIVE");
        }
        assert!(managed_insight("arn:aws:securityhub:::insight/securityhub/default/999").is_none());
    }
}
