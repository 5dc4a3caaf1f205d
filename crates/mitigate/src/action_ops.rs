//! CreateMitigationAction, DescribeMitigationAction, UpdateMitigationAction,
//! DeleteMitigationAction, ListMitigationActions (spec 4.1).

use serde_json::{Value, json};

use crate::actions::{ActionParams, ActionType, StoredAction, role_arn};
use crate::error::{MitigateError, MitigateResult, invalid, not_found};
use crate::input::{check_name, epoch_seconds, max_results, opt_str, req_str};
use crate::{Caller, Mitigate, persist};

/// AWS quota: mitigation actions per account (spec 6).
const MAX_ACTIONS: usize = 100;

fn action_name(input: &Value) -> MitigateResult<&str> {
    let name = req_str(input, "actionName")?;
    check_name("actionName", name, 128, false)?;
    Ok(name)
}

fn action_not_found(name: &str) -> MitigateError {
    not_found(format!("The mitigation action {name} does not exist."))
}

/// `tags`: a list of `{Key, Value}`.
fn tags(input: &Value) -> MitigateResult<Vec<Value>> {
    match input.get("tags") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            for tag in items {
                let key = tag.get("Key").and_then(Value::as_str);
                if key.is_none_or(|k| k.is_empty() || k.len() > 128)
                    || tag.get("Value").is_some_and(|v| !v.is_string())
                {
                    return Err(invalid(
                        "Each tag needs a Key of 1 to 128 characters and a string Value.",
                    ));
                }
            }
            Ok(items.clone())
        }
        Some(_) => Err(invalid("tags must be a list.")),
    }
}

impl Mitigate {
    pub async fn handle_create_mitigation_action(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> MitigateResult<Value> {
        let name = action_name(input)?;
        let role = req_str(input, "roleArn")?;
        role_arn("roleArn", role)?;
        let params = ActionParams::parse(
            input
                .get("actionParams")
                .filter(|v| !v.is_null())
                .ok_or_else(|| invalid("actionParams is required."))?,
        )?;
        let tags = tags(input)?;
        let account = &caller.account_id;
        let arn = self.arn(account, &format!("mitigationaction/{name}"));
        let mut all = self.state.lock().await;
        let state = all.entry(account.clone()).or_default();
        if let Some(existing) = state.actions.get(name) {
            return Err(MitigateError::ResourceAlreadyExists {
                message: format!("The mitigation action {name} already exists."),
                resource_id: existing.id.clone(),
                resource_arn: existing.arn.clone(),
            });
        }
        if state.actions.len() >= MAX_ACTIONS {
            return Err(MitigateError::LimitExceeded(format!(
                "An account can have at most {MAX_ACTIONS} mitigation actions."
            )));
        }
        let now = self.now();
        let action = StoredAction {
            name: name.to_string(),
            id: uuid::Uuid::new_v4().to_string(),
            arn,
            role_arn: role.to_string(),
            params: params.to_wire(),
            tags,
            created_ms: now,
            modified_ms: now,
        };
        let write = persist::put(account, persist::ACTION, name, &action, now);
        self.store.write_documents(&[write]).await?;
        let out = json!({"actionArn": action.arn, "actionId": action.id});
        state.actions.insert(name.to_string(), action);
        Ok(out)
    }

    pub async fn handle_describe_mitigation_action(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> MitigateResult<Value> {
        let name = action_name(input)?;
        let all = self.state.lock().await;
        all.get(&caller.account_id)
            .and_then(|s| s.actions.get(name))
            .map(StoredAction::describe)
            .ok_or_else(|| action_not_found(name))
    }

    pub async fn handle_update_mitigation_action(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> MitigateResult<Value> {
        let name = action_name(input)?;
        let role = opt_str(input, "roleArn")?;
        if let Some(r) = role {
            role_arn("roleArn", r)?;
        }
        let params = input
            .get("actionParams")
            .filter(|v| !v.is_null())
            .map(ActionParams::parse)
            .transpose()?;
        let account = &caller.account_id;
        let mut all = self.state.lock().await;
        let state = all.entry(account.clone()).or_default();
        let mut action = state
            .actions
            .get(name)
            .cloned()
            .ok_or_else(|| action_not_found(name))?;
        if let Some(r) = role {
            action.role_arn = r.to_string();
        }
        if let Some(p) = params {
            action.params = p.to_wire();
        }
        action.modified_ms = self.now();
        let write = persist::put(account, persist::ACTION, name, &action, action.modified_ms);
        self.store.write_documents(&[write]).await?;
        let out = json!({"actionArn": action.arn, "actionId": action.id});
        state.actions.insert(name.to_string(), action);
        Ok(out)
    }

    /// Deleting an action that does not exist succeeds (the model declares no
    /// ResourceNotFoundException for it). Tasks keep the definition they started with.
    pub async fn handle_delete_mitigation_action(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> MitigateResult<Value> {
        let name = action_name(input)?;
        let account = &caller.account_id;
        let mut all = self.state.lock().await;
        let state = all.entry(account.clone()).or_default();
        if state.actions.contains_key(name) {
            let write = persist::delete(account, persist::ACTION, name);
            self.store.write_documents(&[write]).await?;
            state.actions.remove(name);
        }
        Ok(json!({}))
    }

    /// In name order; the token is the last name returned.
    pub async fn handle_list_mitigation_actions(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> MitigateResult<Value> {
        let action_type = opt_str(input, "actionType")?
            .map(|t| {
                ActionType::parse(t).ok_or_else(|| invalid(format!("Unknown actionType {t}.")))
            })
            .transpose()?;
        let limit = max_results(input)?;
        let after = opt_str(input, "nextToken")?;
        let all = self.state.lock().await;
        let mut page: Vec<&StoredAction> = Vec::new();
        let mut more = false;
        if let Some(state) = all.get(&caller.account_id) {
            let matching = state
                .actions
                .values()
                .filter(|a| after.is_none_or(|t| a.name.as_str() > t))
                .filter(|a| action_type.is_none_or(|t| a.action_type() == Some(t)));
            for a in matching {
                if page.len() == limit {
                    more = true;
                    break;
                }
                page.push(a);
            }
        }
        let mut out = json!({"actionIdentifiers": page.iter().map(|a| json!({
            "actionName": a.name,
            "actionArn": a.arn,
            "creationDate": epoch_seconds(a.created_ms),
        })).collect::<Vec<_>>()});
        if more && let Some(last) = page.last() {
            out["nextToken"] = json!(last.name);
        }
        Ok(out)
    }
}
