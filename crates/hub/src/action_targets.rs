//! Custom actions (action targets, spec 6.1): named targets that findings can be sent to.

use serde_json::{Value, json};

use crate::error::{HubError, HubResult};
use crate::input::{max_results, optional_str, optional_str_list, required_str};
use crate::paging::page_by_offset;
use crate::products::with_token;
use crate::settings::document;
use crate::{Caller, Hub};

const KIND_ACTION_TARGET: &str = "securityhub.action-target";
const MAX_ACTION_TARGETS: usize = 50;

fn not_found(arn: &str) -> HubError {
    HubError::ResourceNotFound(format!("Action target {arn} was not found."))
}

fn check_name(name: &str) -> HubResult<()> {
    if name.chars().count() > 20 {
        return Err(HubError::InvalidInput(
            "Name must be at most 20 characters.".into(),
        ));
    }
    Ok(())
}

fn check_description(description: &str) -> HubResult<()> {
    if description.chars().count() > 256 {
        return Err(HubError::InvalidInput(
            "Description must be at most 256 characters.".into(),
        ));
    }
    Ok(())
}

impl Hub {
    fn action_target_arn(&self, account_id: &str, id: &str) -> String {
        self.arn(account_id, &format!("action/custom/{id}"))
    }

    /// The Id part of an action target ARN of this account.
    fn action_target_id<'a>(&self, account_id: &str, arn: &'a str) -> HubResult<&'a str> {
        let prefix = self.action_target_arn(account_id, "");
        arn.strip_prefix(prefix.as_str())
            .filter(|id| !id.is_empty())
            .ok_or_else(|| not_found(arn))
    }

    /// The ARN and Id of the action target an Update or Delete request names.
    async fn addressed_action_target<'a>(
        &self,
        caller: &Caller,
        input: &'a Value,
    ) -> HubResult<(&'a str, &'a str)> {
        self.require_enabled(caller).await?;
        let arn = required_str(input, "ActionTargetArn")?;
        Ok((arn, self.action_target_id(&caller.account_id, arn)?))
    }

    pub async fn handle_create_action_target(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        self.require_enabled(caller).await?;
        let name = required_str(input, "Name")?;
        let description = required_str(input, "Description")?;
        let id = required_str(input, "Id")?;
        check_name(name)?;
        check_description(description)?;
        if id.len() > 20 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(HubError::InvalidInput(
                "Id must be 1-20 alphanumeric characters.".into(),
            ));
        }
        let _guard = self.settings.write_lock.lock().await;
        let count = self
            .store
            .list_documents(&caller.account_id, KIND_ACTION_TARGET)
            .await?
            .len();
        if count >= MAX_ACTION_TARGETS {
            return Err(HubError::LimitExceeded(format!(
                "An account can have at most {MAX_ACTION_TARGETS} custom actions."
            )));
        }
        let arn = self.action_target_arn(&caller.account_id, id);
        let target = json!({ "ActionTargetArn": arn, "Name": name, "Description": description });
        let doc = document(
            &caller.account_id,
            KIND_ACTION_TARGET,
            id,
            target.to_string(),
            self.clock.now_ms(),
        );
        if !self.store.insert_document(&doc).await? {
            return Err(HubError::ResourceConflict(format!(
                "An action target with Id {id} already exists."
            )));
        }
        Ok(json!({ "ActionTargetArn": arn }))
    }

    pub async fn handle_describe_action_targets(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        self.require_enabled(caller).await?;
        let all: Vec<Value> = self
            .store
            .list_documents(&caller.account_id, KIND_ACTION_TARGET)
            .await?
            .into_iter()
            .filter_map(|doc| serde_json::from_str(&doc.body).ok())
            .collect();
        let targets = match optional_str_list(input, "ActionTargetArns")? {
            Some(arns) if !arns.is_empty() => {
                let mut picked = Vec::new();
                for arn in arns {
                    let found = all.iter().find(|t| t["ActionTargetArn"] == arn.as_str());
                    match found {
                        Some(target) => picked.push(target.clone()),
                        None => {
                            return Err(not_found(&arn));
                        }
                    }
                }
                picked
            }
            _ => all,
        };
        let next = optional_str(input, "NextToken")?;
        let (page, next) = page_by_offset(&targets, next, max_results(input, 100)?)?;
        Ok(with_token(json!({ "ActionTargets": page }), next))
    }

    pub async fn handle_update_action_target(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        let (arn, id) = self.addressed_action_target(caller, input).await?;
        let name = optional_str(input, "Name")?;
        let description = optional_str(input, "Description")?;
        if let Some(name) = name {
            check_name(name)?;
        }
        if let Some(description) = description {
            check_description(description)?;
        }
        let _guard = self.settings.write_lock.lock().await;
        let Some(doc) = self
            .store
            .get_document(&caller.account_id, KIND_ACTION_TARGET, id)
            .await?
        else {
            return Err(not_found(arn));
        };
        let mut target: Value =
            serde_json::from_str(&doc.body).map_err(|e| HubError::Internal(e.to_string()))?;
        if let Some(name) = name {
            target["Name"] = Value::String(name.to_string());
        }
        if let Some(description) = description {
            target["Description"] = Value::String(description.to_string());
        }
        let updated = document(
            &caller.account_id,
            KIND_ACTION_TARGET,
            id,
            target.to_string(),
            self.clock.now_ms(),
        );
        self.store.put_document(&updated).await?;
        Ok(json!({}))
    }

    pub async fn handle_delete_action_target(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        let (arn, id) = self.addressed_action_target(caller, input).await?;
        if !self
            .store
            .delete_document(&caller.account_id, KIND_ACTION_TARGET, id)
            .await?
        {
            return Err(not_found(arn));
        }
        Ok(json!({ "ActionTargetArn": arn }))
    }
}
