//! Automation rules (spec 6.3): criteria over incoming findings and a FINDING_FIELDS_UPDATE
//! action, applied as findings are imported, in ascending RuleOrder (ties: earlier UpdatedAt
//! first), stopping after a matching terminal rule.

use std::sync::Arc;

use fleetward_asff::{CustomerFields, FieldChange, FindingUpdate};
use fleetward_findings_query::{Dialect, Filters, FindingRecord, Interner};
use serde_json::{Map, Value, json};

use crate::error::{HubError, HubResult};
use crate::findings::Touched;
use crate::input::{max_results, optional_str, optional_str_map, validate_tags};
use crate::paging::page_by_offset;
use crate::products::with_token;
use crate::settings::{KIND_RULE, document};
use crate::{Caller, Hub};

const MAX_RULES: usize = 100;
const MAX_BATCH: usize = 100;

/// A stored rule with its criteria and action parsed, ready to evaluate.
pub struct Rule {
    pub arn: String,
    /// The AutomationRulesConfig as returned by BatchGetAutomationRules.
    pub config: Value,
    pub order: i64,
    pub updated_at_ms: i64,
    pub enabled: bool,
    pub terminal: bool,
    pub criteria: Filters,
    pub update: FindingUpdate,
}

impl Rule {
    pub fn from_document(body: &str) -> Result<Self, String> {
        let config: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
        Self::from_config(config)
    }

    /// Validates a complete AutomationRulesConfig and parses its criteria and action.
    fn from_config(config: Value) -> Result<Self, String> {
        let text = |name: &str| config.get(name).and_then(Value::as_str).unwrap_or_default();
        for member in ["RuleName", "Description"] {
            let value = text(member);
            if value.trim().is_empty() {
                return Err(format!("{member} is required."));
            }
        }
        if text("RuleName").chars().count() > 256 || text("Description").chars().count() > 1024 {
            return Err(
                "RuleName must be at most 256 and Description at most 1024 characters.".into(),
            );
        }
        let order = config
            .get("RuleOrder")
            .and_then(Value::as_i64)
            .filter(|o| (1..=1000).contains(o))
            .ok_or("RuleOrder must be an integer between 1 and 1000.")?;
        let enabled = match text("RuleStatus") {
            "ENABLED" => true,
            "DISABLED" => false,
            other => {
                return Err(format!(
                    "RuleStatus must be ENABLED or DISABLED, not '{other}'."
                ));
            }
        };
        let terminal = match config.get("IsTerminal") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err("IsTerminal must be a boolean.".into()),
        };
        let criteria = Filters::parse(
            config.get("Criteria").ok_or("Criteria is required.")?,
            Dialect::AutomationRules,
        )?;
        let update = parse_actions(config.get("Actions"))?;
        let updated_at_ms = config
            .get("UpdatedAt")
            .and_then(Value::as_str)
            .and_then(fleetward_model::timestamp::parse_rfc3339_ms)
            .unwrap_or(0);
        Ok(Self {
            arn: text("RuleArn").to_string(),
            order,
            updated_at_ms,
            enabled,
            terminal,
            criteria,
            update,
            config,
        })
    }

    fn metadata(&self) -> Value {
        let mut meta = self.config.clone();
        if let Some(map) = meta.as_object_mut() {
            map.remove("Criteria");
            map.remove("Actions");
        }
        meta
    }
}

/// `Actions`: exactly one FINDING_FIELDS_UPDATE action.
fn parse_actions(actions: Option<&Value>) -> Result<FindingUpdate, String> {
    let list = actions
        .and_then(Value::as_array)
        .ok_or("Actions is required and must be a list.")?;
    let [action] = list.as_slice() else {
        return Err("Actions must contain exactly one action.".into());
    };
    if action.get("Type").and_then(Value::as_str) != Some("FINDING_FIELDS_UPDATE") {
        return Err("The action Type must be FINDING_FIELDS_UPDATE.".into());
    }
    let update = action
        .get("FindingFieldsUpdate")
        .ok_or("FINDING_FIELDS_UPDATE needs FindingFieldsUpdate.")?;
    fleetward_asff::parse_finding_update(update)
}

pub fn sort_rules(rules: &mut [Arc<Rule>]) {
    rules.sort_by_key(|r| (r.order, r.updated_at_ms));
}

/// Runs the enabled rules over one finding; returns the changes of each rule that applied.
pub fn apply_rules(
    rules: &[Arc<Rule>],
    finding: &mut Touched,
    now_ms: i64,
    interner: &mut Interner,
) -> Vec<(String, Vec<FieldChange>)> {
    let mut applied = Vec::new();
    for rule in rules.iter().filter(|r| r.enabled) {
        let record = FindingRecord::from_finding(&finding.body, interner);
        if !rule.criteria.matches(&record, interner, now_ms) {
            continue;
        }
        let (body, customer, changes) = fleetward_asff::apply_update(
            &finding.body,
            CustomerFields(finding.customer_fields),
            &rule.update,
            now_ms,
        );
        finding.body = body;
        finding.customer_fields = customer.0;
        applied.push((rule.arn.clone(), changes));
        if rule.terminal {
            break;
        }
    }
    applied
}

fn arn_list(input: &Value) -> HubResult<Vec<String>> {
    let list = input
        .get("AutomationRulesArns")
        .and_then(Value::as_array)
        .ok_or_else(|| HubError::InvalidInput("AutomationRulesArns is required.".into()))?;
    if list.is_empty() || list.len() > MAX_BATCH {
        return Err(HubError::InvalidInput(format!(
            "AutomationRulesArns must contain between 1 and {MAX_BATCH} ARNs."
        )));
    }
    Ok(list
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect())
}

fn unprocessed(arn: &str, code: i64, message: &str) -> Value {
    json!({ "RuleArn": arn, "ErrorCode": code, "ErrorMessage": message })
}

impl Hub {
    pub async fn handle_create_automation_rule(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        self.require_enabled(caller).await?;
        let tags = optional_str_map(input, "Tags")?;
        if let Some(tags) = &tags {
            validate_tags(tags)?;
        }
        let now = self.clock.now_ms();
        let arn = self.arn(
            &caller.account_id,
            &format!("automation-rule/{}", uuid::Uuid::new_v4()),
        );
        let stamp = fleetward_model::timestamp::format_ms(now);
        let mut config = Map::new();
        config.insert("RuleArn".into(), json!(arn));
        config.insert(
            "RuleStatus".into(),
            json!(optional_str(input, "RuleStatus")?.unwrap_or("ENABLED")),
        );
        for member in [
            "RuleOrder",
            "RuleName",
            "Description",
            "Criteria",
            "Actions",
        ] {
            if let Some(value) = input.get(member) {
                config.insert(member.into(), value.clone());
            }
        }
        config.insert(
            "IsTerminal".into(),
            json!(input.get("IsTerminal").unwrap_or(&json!(false))),
        );
        config.insert("CreatedAt".into(), json!(stamp));
        config.insert("UpdatedAt".into(), json!(stamp));
        config.insert("CreatedBy".into(), json!(caller.identity));
        let rule = Rule::from_config(Value::Object(config)).map_err(HubError::InvalidInput)?;

        let _guard = self.settings.write_lock.lock().await;
        let mut settings = (*self.settings.get(&caller.account_id).await?).clone();
        if settings.rules.len() >= MAX_RULES {
            return Err(HubError::LimitExceeded(format!(
                "An account can have at most {MAX_RULES} automation rules."
            )));
        }
        let doc = document(
            &caller.account_id,
            KIND_RULE,
            &arn,
            rule.config.to_string(),
            now,
        );
        self.store.put_document(&doc).await?;
        settings.rules.push(Arc::new(rule));
        sort_rules(&mut settings.rules);
        self.settings.replace(&caller.account_id, settings);
        drop(_guard);
        if let Some(tags) = tags {
            self.merge_tags(&caller.account_id, &arn, &tags).await?;
        }
        Ok(json!({ "RuleArn": arn }))
    }

    pub async fn handle_batch_get_automation_rules(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        let settings = self.require_enabled(caller).await?;
        let mut rules = Vec::new();
        let mut missing = Vec::new();
        for arn in arn_list(input)? {
            match settings.rules.iter().find(|r| r.arn == arn) {
                Some(rule) => rules.push(rule.config.clone()),
                None => missing.push(unprocessed(&arn, 404, "Automation rule not found.")),
            }
        }
        Ok(json!({ "Rules": rules, "UnprocessedAutomationRules": missing }))
    }

    pub async fn handle_list_automation_rules(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        let settings = self.require_enabled(caller).await?;
        let metadata: Vec<Value> = settings.rules.iter().map(|r| r.metadata()).collect();
        let next = optional_str(input, "NextToken")?;
        let (page, next) = page_by_offset(&metadata, next, max_results(input, 100)?)?;
        Ok(with_token(json!({ "AutomationRulesMetadata": page }), next))
    }

    pub async fn handle_batch_update_automation_rules(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        self.require_enabled(caller).await?;
        let items = input
            .get("UpdateAutomationRulesRequestItems")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                HubError::InvalidInput("UpdateAutomationRulesRequestItems is required.".into())
            })?;
        if items.is_empty() || items.len() > MAX_BATCH {
            return Err(HubError::InvalidInput(format!(
                "UpdateAutomationRulesRequestItems must contain between 1 and {MAX_BATCH} items."
            )));
        }
        let _guard = self.settings.write_lock.lock().await;
        let now = self.clock.now_ms();
        let mut settings = (*self.settings.get(&caller.account_id).await?).clone();
        let mut processed = Vec::new();
        let mut failed = Vec::new();
        for item in items {
            let arn = item
                .get("RuleArn")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let Some(position) = settings.rules.iter().position(|r| r.arn == arn) else {
                failed.push(unprocessed(arn, 404, "Automation rule not found."));
                continue;
            };
            let mut config = settings.rules[position].config.clone();
            for member in [
                "RuleStatus",
                "RuleOrder",
                "Description",
                "RuleName",
                "IsTerminal",
                "Criteria",
                "Actions",
            ] {
                if let Some(value) = item.get(member) {
                    config[member] = value.clone();
                }
            }
            config["UpdatedAt"] = json!(fleetward_model::timestamp::format_ms(now));
            match Rule::from_config(config) {
                Ok(rule) => {
                    let doc = document(
                        &caller.account_id,
                        KIND_RULE,
                        arn,
                        rule.config.to_string(),
                        now,
                    );
                    self.store.put_document(&doc).await?;
                    settings.rules[position] = Arc::new(rule);
                    processed.push(json!(arn));
                }
                Err(message) => failed.push(unprocessed(arn, 400, &message)),
            }
        }
        sort_rules(&mut settings.rules);
        self.settings.replace(&caller.account_id, settings);
        Ok(json!({ "ProcessedAutomationRules": processed, "UnprocessedAutomationRules": failed }))
    }

    pub async fn handle_batch_delete_automation_rules(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        self.require_enabled(caller).await?;
        let arns = arn_list(input)?;
        let _guard = self.settings.write_lock.lock().await;
        let mut settings = (*self.settings.get(&caller.account_id).await?).clone();
        let mut processed = Vec::new();
        let mut failed = Vec::new();
        for arn in arns {
            if self
                .store
                .delete_document(&caller.account_id, KIND_RULE, &arn)
                .await?
            {
                settings.rules.retain(|r| r.arn != arn);
                self.delete_tags(&caller.account_id, &arn).await?;
                processed.push(json!(arn));
            } else {
                failed.push(unprocessed(&arn, 404, "Automation rule not found."));
            }
        }
        self.settings.replace(&caller.account_id, settings);
        Ok(json!({ "ProcessedAutomationRules": processed, "UnprocessedAutomationRules": failed }))
    }
}
