//! Create/Describe/Update/Delete/ListAuditSuppressions (spec 1.8). A suppression marks the
//! findings of its (check, resource) `isSuppressed` in the audits that run while it is active;
//! they no longer count toward the check's compliance.

use serde_json::{Value, json};

use crate::error::{AuditError, AuditResult};
use crate::input::{
    invalid, known_check, max_results, opt_bool, opt_str, opt_timestamp, req_str,
    resource_identifier,
};
use crate::model::{Suppression, suppression_key};
use crate::{Audit, Caller, persist};

/// Fleetward's limit on suppressions per account (AWS does not document its own).
const MAX_SUPPRESSIONS: usize = 10_000;

fn key_members(input: &Value) -> AuditResult<(String, crate::model::ResourceIdentifier)> {
    let check = req_str(input, "checkName")?;
    known_check(check)?;
    let resource = resource_identifier(input, "resourceIdentifier")?
        .ok_or_else(|| invalid("resourceIdentifier is required."))?;
    Ok((check.to_string(), resource))
}

fn description(input: &Value) -> AuditResult<Option<String>> {
    let Some(d) = opt_str(input, "description")? else {
        return Ok(None);
    };
    if d.chars().count() > 1000 || d.chars().any(|c| c.is_control()) {
        return Err(invalid(
            "description must be at most 1000 printable characters.",
        ));
    }
    Ok(Some(d.to_string()))
}

/// `expirationDate` and `suppressIndefinitely`: exactly one applies (an indefinite
/// suppression has no expiration date, a dated one must end in the future).
fn lifetime(input: &Value, now: i64) -> AuditResult<(Option<i64>, Option<bool>)> {
    let expiration = opt_timestamp(input, "expirationDate")?;
    let indefinitely = opt_bool(input, "suppressIndefinitely")?;
    if expiration.is_some() && indefinitely == Some(true) {
        return Err(invalid(
            "Specify either expirationDate or suppressIndefinitely=true, not both.",
        ));
    }
    if let Some(e) = expiration
        && e <= now
    {
        return Err(invalid("expirationDate must be in the future."));
    }
    Ok((expiration, indefinitely))
}

impl Audit {
    pub async fn handle_create_audit_suppression(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let (check, resource) = key_members(input)?;
        let token = req_str(input, "clientRequestToken")?;
        if token.is_empty()
            || token.len() > 64
            || !token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                "clientRequestToken must be 1 to 64 characters of [a-zA-Z0-9-_].",
            ));
        }
        let now = self.now();
        let (expiration, indefinitely) = lifetime(input, now)?;
        if expiration.is_none() && indefinitely != Some(true) {
            return Err(invalid(
                "A suppression needs an expirationDate or suppressIndefinitely=true.",
            ));
        }
        let description = description(input)?;
        let account = &caller.account_id;
        let key = suppression_key(&check, &resource);
        let mut all = self.state.lock().await;
        let state = all.entry(account.clone()).or_default();
        if let Some(existing) = state.suppressions.get(&key) {
            // The same request retried (same token) succeeds again without change.
            if existing.client_request_token == token {
                return Ok(json!({}));
            }
            return Err(AuditError::ResourceAlreadyExists {
                message: format!("A suppression of {check} for this resource already exists."),
                resource_id: key.clone(),
                resource_arn: String::new(),
            });
        }
        if state.suppressions.len() >= MAX_SUPPRESSIONS {
            return Err(AuditError::LimitExceeded(format!(
                "At most {MAX_SUPPRESSIONS} audit suppressions per account."
            )));
        }
        let suppression = Suppression {
            check_name: check,
            resource_identifier: resource,
            expiration_ms: expiration,
            suppress_indefinitely: indefinitely == Some(true),
            description,
            client_request_token: token.to_string(),
            created_ms: now,
        };
        let write = persist::put(account, persist::SUPPRESSION, &key, &suppression, now);
        self.store.write_documents(&[write]).await?;
        state.suppressions.insert(key, suppression);
        Ok(json!({}))
    }

    pub async fn handle_describe_audit_suppression(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let (check, resource) = key_members(input)?;
        let all = self.state.lock().await;
        all.get(&caller.account_id)
            .and_then(|s| s.suppressions.get(&suppression_key(&check, &resource)))
            .map(Suppression::to_wire)
            .ok_or_else(|| {
                AuditError::not_found(format!("No suppression of {check} for this resource."))
            })
    }

    pub async fn handle_update_audit_suppression(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let (check, resource) = key_members(input)?;
        let now = self.now();
        let (expiration, indefinitely) = lifetime(input, now)?;
        let description = description(input)?;
        let account = &caller.account_id;
        let key = suppression_key(&check, &resource);
        let mut all = self.state.lock().await;
        let state = all.entry(account.clone()).or_default();
        let mut updated = state.suppressions.get(&key).cloned().ok_or_else(|| {
            AuditError::not_found(format!("No suppression of {check} for this resource."))
        })?;
        if let Some(e) = expiration {
            updated.expiration_ms = Some(e);
            updated.suppress_indefinitely = false;
        }
        match indefinitely {
            Some(true) => {
                updated.suppress_indefinitely = true;
                updated.expiration_ms = None;
            }
            Some(false) if expiration.is_none() && updated.expiration_ms.is_none() => {
                return Err(invalid(
                    "A suppression that is no longer indefinite needs an expirationDate.",
                ));
            }
            Some(false) => updated.suppress_indefinitely = false,
            None => {}
        }
        if description.is_some() {
            updated.description = description;
        }
        let write = persist::put(account, persist::SUPPRESSION, &key, &updated, now);
        self.store.write_documents(&[write]).await?;
        state.suppressions.insert(key, updated);
        Ok(json!({}))
    }

    /// Deleting a suppression that does not exist succeeds (the model declares no
    /// ResourceNotFoundException for it).
    pub async fn handle_delete_audit_suppression(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let (check, resource) = key_members(input)?;
        let account = &caller.account_id;
        let key = suppression_key(&check, &resource);
        let mut all = self.state.lock().await;
        let state = all.entry(account.clone()).or_default();
        if state.suppressions.contains_key(&key) {
            self.store
                .write_documents(&[persist::delete(account, persist::SUPPRESSION, &key)])
                .await?;
            state.suppressions.remove(&key);
        }
        Ok(json!({}))
    }

    pub async fn handle_list_audit_suppressions(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let check = opt_str(input, "checkName")?;
        if let Some(c) = check {
            known_check(c)?;
        }
        let resource = resource_identifier(input, "resourceIdentifier")?.map(|r| r.key());
        let ascending = opt_bool(input, "ascendingOrder")?.unwrap_or(true);
        let limit = max_results(input)?;
        let offset: usize = match opt_str(input, "nextToken")? {
            Some(t) => t
                .parse()
                .map_err(|_| invalid("The nextToken is not valid."))?,
            None => 0,
        };
        let all = self.state.lock().await;
        let mut list: Vec<&Suppression> = all
            .get(&caller.account_id)
            .map(|s| s.suppressions.values().collect())
            .unwrap_or_default();
        list.retain(|s| {
            check.is_none_or(|c| s.check_name == c)
                && resource
                    .as_ref()
                    .is_none_or(|k| &s.resource_identifier.key() == k)
        });
        // Sorted by expiration date; indefinite suppressions last (they never expire).
        list.sort_by_key(|s| (s.expiration_ms.unwrap_or(i64::MAX), s.key()));
        if !ascending {
            list.reverse();
        }
        let page: Vec<Value> = list
            .iter()
            .skip(offset)
            .take(limit)
            .map(|s| s.to_wire())
            .collect();
        let mut out = json!({"suppressions": page});
        if offset + limit < list.len() {
            out["nextToken"] = json!((offset + limit).to_string());
        }
        Ok(out)
    }
}
