//! The iot topic-rule operations: CreateTopicRule, GetTopicRule, ListTopicRules,
//! ReplaceTopicRule and DeleteTopicRule. Each change is stored before the in-memory index
//! (which the publish path reads) is updated.

use fleetward_model::Caller;
use fleetward_store::Document;
use serde_json::{Value, json};

use super::error::{RuleError, RuleResult};
use super::model::{self, RULE_KIND, RuleDoc};
use crate::service::Export;

const MAX_LIST_RESULTS: i64 = 10_000;

fn rule_name(input: &Value) -> RuleResult<&str> {
    let name = input
        .get("ruleName")
        .and_then(Value::as_str)
        .ok_or_else(|| RuleError::invalid("ruleName is required."))?;
    model::valid_name(name)?;
    Ok(name)
}

fn document(account: &str, rule: &RuleDoc) -> RuleResult<Document> {
    Ok(Document {
        account_id: account.to_string(),
        kind: RULE_KIND.to_string(),
        key: rule.name.clone(),
        body: serde_json::to_string(rule).map_err(|e| RuleError::Internal(e.to_string()))?,
        created_ms: rule.created_ms,
        updated_ms: rule.updated_ms,
    })
}

impl Export {
    /// Loads every account's rules into the index (at open).
    pub(crate) async fn load_rules(&self) -> RuleResult<()> {
        for account in self.store().list_accounts().await? {
            for doc in self
                .store()
                .list_documents(&account.account_id, RULE_KIND)
                .await?
            {
                match serde_json::from_str::<RuleDoc>(&doc.body) {
                    Ok(rule) => self.rules().set(&account.account_id, &doc.key, Some(rule)),
                    Err(e) => {
                        tracing::error!(account = %account.account_id, key = %doc.key, error = %e, "Unreadable topic rule; skipped.");
                    }
                }
            }
        }
        Ok(())
    }

    pub async fn handle_create_topic_rule(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RuleResult<Value> {
        let account = &caller.account_id;
        let name = rule_name(input)?;
        let tags = input
            .get("tags")
            .and_then(Value::as_str)
            .map(str::to_string);
        let rule = model::from_payload(name, input, self.now_ms(), tags)?;
        let _guard = self.lock().await;
        if self.rules().get(account, name).is_some() {
            let arn = model::rule_arn(self.region(), account, name);
            return Err(RuleError::ResourceAlreadyExists {
                message: format!("Topic rule {name} already exists."),
                resource_id: name.to_string(),
                resource_arn: arn,
            });
        }
        self.store()
            .put_document(&document(account, &rule)?)
            .await?;
        self.rules().set(account, name, Some(rule));
        Ok(json!({}))
    }

    pub async fn handle_replace_topic_rule(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RuleResult<Value> {
        let account = &caller.account_id;
        let name = rule_name(input)?;
        let _guard = self.lock().await;
        let old = self
            .rules()
            .get(account, name)
            .ok_or_else(|| RuleError::no_rule(name))?;
        let mut rule = model::from_payload(name, input, self.now_ms(), old.tags.clone())?;
        rule.created_ms = old.created_ms;
        self.store()
            .put_document(&document(account, &rule)?)
            .await?;
        self.rules().set(account, name, Some(rule));
        Ok(json!({}))
    }

    pub async fn handle_get_topic_rule(&self, caller: &Caller, input: &Value) -> RuleResult<Value> {
        let account = &caller.account_id;
        let name = rule_name(input)?;
        let rule = self
            .rules()
            .get(account, name)
            .ok_or_else(|| RuleError::no_rule(name))?;
        Ok(json!({
            "ruleArn": model::rule_arn(self.region(), account, name),
            "rule": rule.to_topic_rule(),
        }))
    }

    pub async fn handle_delete_topic_rule(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RuleResult<Value> {
        let account = &caller.account_id;
        let name = rule_name(input)?;
        let _guard = self.lock().await;
        if self.rules().get(account, name).is_none() {
            return Err(RuleError::no_rule(name));
        }
        self.store()
            .delete_document(account, RULE_KIND, name)
            .await?;
        self.rules().set(account, name, None);
        Ok(json!({}))
    }

    /// Rules sorted by name; `nextToken` is the last name returned.
    pub async fn handle_list_topic_rules(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RuleResult<Value> {
        let account = &caller.account_id;
        let max = match input.get("maxResults") {
            None | Some(Value::Null) => MAX_LIST_RESULTS,
            Some(v) => v
                .as_i64()
                .filter(|n| (1..=MAX_LIST_RESULTS).contains(n))
                .ok_or_else(|| {
                    RuleError::invalid(format!(
                        "maxResults must be between 1 and {MAX_LIST_RESULTS}."
                    ))
                })?,
        } as usize;
        let after = input.get("nextToken").and_then(Value::as_str);
        let topic = input.get("topic").and_then(Value::as_str);
        let disabled = input.get("ruleDisabled").and_then(Value::as_bool);
        let matching: Vec<_> = self
            .rules()
            .list(account)
            .into_iter()
            .filter(|r| after.is_none_or(|a| r.name.as_str() > a))
            .filter(|r| topic.is_none_or(|t| r.topic_filter.as_deref() == Some(t)))
            .filter(|r| disabled.is_none_or(|d| r.rule_disabled == d))
            .collect();
        let page: Vec<Value> = matching
            .iter()
            .take(max)
            .map(|r| r.to_list_item(model::rule_arn(self.region(), account, &r.name)))
            .collect();
        let mut out = json!({ "rules": page });
        if matching.len() > max
            && let Some(last) = matching.get(max - 1)
        {
            out["nextToken"] = json!(last.name);
        }
        Ok(out)
    }
}
