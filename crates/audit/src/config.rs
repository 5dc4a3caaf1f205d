//! UpdateAccountAuditConfiguration, DescribeAccountAuditConfiguration,
//! DeleteAccountAuditConfiguration (spec 1.4).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::catalog::{self, CHECKS};
use crate::error::AuditResult;
use crate::input::{invalid, opt_bool, opt_str};
use crate::model::{CheckConfig, NotificationTarget};
use crate::{Audit, Caller, persist};

impl Audit {
    pub async fn handle_update_account_audit_configuration(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let role_arn = opt_str(input, "roleArn")?;
        if let Some(arn) = role_arn {
            role_arn_ok("roleArn", arn)?;
        }
        let targets = notification_targets(input)?;
        let checks = check_configurations(input)?;

        let account = &caller.account_id;
        let mut all = self.state.lock().await;
        let state = all.entry(account.clone()).or_default();
        let first = state.config.is_none();
        let mut config = state.config.clone().unwrap_or_default();
        if first {
            if role_arn.is_none() {
                return Err(invalid(
                    "roleArn is required the first time the audit configuration is set.",
                ));
            }
            if !checks
                .as_ref()
                .is_some_and(|c| c.values().any(|c| c.enabled))
            {
                return Err(invalid(
                    "auditCheckConfigurations must enable at least one check the first time the audit configuration is set.",
                ));
            }
        }
        if let Some(arn) = role_arn {
            config.role_arn = Some(arn.to_string());
        }
        if let Some(targets) = targets {
            config.notification_targets.extend(targets);
        }
        if let Some(checks) = checks {
            for (name, check) in checks {
                if !check.enabled
                    && let Some(s) = state
                        .scheduled
                        .values()
                        .find(|s| s.target_check_names.contains(&name))
                {
                    return Err(invalid(format!(
                        "{name} cannot be disabled: the scheduled audit {} runs it.",
                        s.name
                    )));
                }
                config.checks.insert(name, check);
            }
        }
        let write = persist::put(
            account,
            persist::CONFIG,
            persist::CONFIG_KEY,
            &config,
            self.now(),
        );
        self.store.write_documents(&[write]).await?;
        state.config = Some(config);
        Ok(json!({}))
    }

    pub async fn handle_describe_account_audit_configuration(
        &self,
        caller: &Caller,
        _input: &Value,
    ) -> AuditResult<Value> {
        let all = self.state.lock().await;
        let config = all
            .get(&caller.account_id)
            .and_then(|s| s.config.clone())
            .unwrap_or_default();
        let mut checks = Map::new();
        for def in CHECKS {
            let configured = config.checks.get(def.name);
            if def.extra && configured.is_none() {
                continue;
            }
            let c = configured.cloned().unwrap_or_default();
            let mut entry = json!({"enabled": c.enabled});
            if !c.configuration.is_empty() {
                entry["configuration"] = json!(c.configuration);
            }
            checks.insert(def.name.to_string(), entry);
        }
        let mut out = json!({
            "auditNotificationTargetConfigurations": config.notification_targets,
            "auditCheckConfigurations": checks,
        });
        if let Some(arn) = &config.role_arn {
            out["roleArn"] = json!(arn);
        }
        Ok(out)
    }

    pub async fn handle_delete_account_audit_configuration(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let delete_scheduled = opt_bool(input, "deleteScheduledAudits")?.unwrap_or(false);
        let account = &caller.account_id;
        let mut all = self.state.lock().await;
        let state = all.entry(account.clone()).or_default();
        if state.config.is_none() {
            return Err(crate::error::AuditError::not_found(
                "The audit configuration of this account is not set.",
            ));
        }
        if !state.scheduled.is_empty() && !delete_scheduled {
            return Err(invalid(
                "Scheduled audits exist: delete them first or pass deleteScheduledAudits=true.",
            ));
        }
        let mut writes = vec![persist::delete(
            account,
            persist::CONFIG,
            persist::CONFIG_KEY,
        )];
        for name in state.scheduled.keys() {
            writes.push(persist::delete(account, persist::SCHEDULED, name));
        }
        self.store.write_documents(&writes).await?;
        state.config = None;
        state.scheduled.clear();
        Ok(json!({}))
    }
}

pub fn role_arn_ok(member: &str, arn: &str) -> AuditResult<()> {
    if !(20..=2048).contains(&arn.len()) {
        return Err(invalid(format!("{member} must be 20 to 2048 characters.")));
    }
    Ok(())
}

fn notification_targets(
    input: &Value,
) -> AuditResult<Option<BTreeMap<String, NotificationTarget>>> {
    let Some(value) = input
        .get("auditNotificationTargetConfigurations")
        .filter(|v| !v.is_null())
    else {
        return Ok(None);
    };
    let Some(map) = value.as_object() else {
        return Err(invalid(
            "auditNotificationTargetConfigurations must be a map.",
        ));
    };
    let mut out = BTreeMap::new();
    for (kind, target) in map {
        if kind != "SNS" {
            return Err(invalid(format!(
                "Unknown audit notification type {kind}: the only type is SNS."
            )));
        }
        if !target.is_object() {
            return Err(invalid("An audit notification target must be a structure."));
        }
        let target_arn = opt_str(target, "targetArn")?;
        let role_arn = opt_str(target, "roleArn")?;
        let enabled = opt_bool(target, "enabled")?.unwrap_or(false);
        if target_arn.is_some_and(|a| a.len() > 2048) {
            return Err(invalid("targetArn must be at most 2048 characters."));
        }
        if let Some(arn) = role_arn {
            role_arn_ok("roleArn", arn)?;
        }
        if enabled && target_arn.is_none() {
            return Err(invalid(
                "An enabled SNS notification target needs a targetArn.",
            ));
        }
        out.insert(
            kind.clone(),
            NotificationTarget {
                target_arn: target_arn.map(str::to_string),
                role_arn: role_arn.map(str::to_string),
                enabled,
            },
        );
    }
    Ok(Some(out))
}

fn check_configurations(input: &Value) -> AuditResult<Option<BTreeMap<String, CheckConfig>>> {
    let Some(value) = input
        .get("auditCheckConfigurations")
        .filter(|v| !v.is_null())
    else {
        return Ok(None);
    };
    let Some(map) = value.as_object() else {
        return Err(invalid("auditCheckConfigurations must be a map."));
    };
    let mut out = BTreeMap::new();
    for (name, config) in map {
        let (_, def) = catalog::find(name)
            .ok_or_else(|| invalid(format!("Unknown audit check name: {name}.")))?;
        if !config.is_object() {
            return Err(invalid(format!(
                "The configuration of {name} must be a structure."
            )));
        }
        let enabled = opt_bool(config, "enabled")?.unwrap_or(false);
        let mut values = BTreeMap::new();
        if let Some(custom) = config.get("configuration").filter(|v| !v.is_null()) {
            let Some(custom) = custom.as_object() else {
                return Err(invalid(format!(
                    "The configuration of {name} must be a map."
                )));
            };
            for (key, value) in custom {
                let Some((_, _, min, max)) = def.config.iter().find(|(n, ..)| n == key) else {
                    return Err(invalid(format!("{name} has no configuration {key}.")));
                };
                let text = value
                    .as_str()
                    .ok_or_else(|| invalid(format!("{key} must be a string.")))?;
                let days: i64 = text
                    .parse()
                    .map_err(|_| invalid(format!("{key} must be a whole number of days.")))?;
                if !(*min..=*max).contains(&days) {
                    return Err(invalid(format!("{key} must be between {min} and {max}.")));
                }
                values.insert(key.clone(), days.to_string());
            }
        }
        out.insert(
            name.clone(),
            CheckConfig {
                enabled,
                configuration: values,
            },
        );
    }
    Ok(Some(out))
}
