//! Role aliases, logging options, DescribeEndpoint and tags.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::error::{RegistryError, RegistryResult};
use crate::input::Input;
use crate::paging;
use crate::persist::{self, Changes};
use crate::records::{CertId, LoggingV1, LoggingV2, RoleAlias};
use crate::state::AccountState;
use crate::{Caller, Registry, epoch_seconds};

/// AWS quota: tags per resource.
const MAX_TAGS: usize = 50;
const LOG_LEVELS: [&str; 5] = ["DEBUG", "INFO", "ERROR", "WARN", "DISABLED"];
const LOG_TARGET_TYPES: [&str; 7] = [
    "DEFAULT",
    "THING_GROUP",
    "CLIENT_ID",
    "SOURCE_IP",
    "PRINCIPAL_ID",
    "EVENT_TYPE",
    "DEVICE_DEFENDER",
];

/// A `tags` member (`[{Key, Value}]`), checked.
pub(crate) fn tags_member(input: &Input, member: &str) -> RegistryResult<Vec<(String, String)>> {
    let Some(items) = input.opt_list(member)? else {
        return Ok(Vec::new());
    };
    let mut tags = Vec::new();
    for item in items {
        let item = Input(item);
        let key = item.req_str("Key")?;
        let value = item.opt_str("Value")?.unwrap_or("");
        if key.is_empty() || key.chars().count() > 128 || key.starts_with("aws:") {
            return Err(RegistryError::invalid(format!(
                "Tag key {key:?} must be 1 to 128 characters and must not start with aws:."
            )));
        }
        if value.chars().count() > 256 {
            return Err(RegistryError::invalid(
                "A tag value must be at most 256 characters.",
            ));
        }
        tags.push((key.to_string(), value.to_string()));
    }
    if tags.len() > MAX_TAGS {
        return Err(RegistryError::LimitExceeded(format!(
            "At most {MAX_TAGS} tags per resource."
        )));
    }
    Ok(tags)
}

/// Adds tags to a resource (a new resource's create call, or TagResource).
pub(crate) fn set_tags(
    state: &mut AccountState,
    changes: &mut Changes,
    arn: &str,
    tags: Vec<(String, String)>,
) {
    if tags.is_empty() {
        return;
    }
    let entry = state.tags.entry(arn.to_string()).or_default();
    entry.extend(tags);
    changes.put(persist::TAGS, arn, &*entry);
}

fn check_log_level(level: &str) -> RegistryResult<()> {
    if LOG_LEVELS.contains(&level) {
        Ok(())
    } else {
        Err(RegistryError::invalid(format!(
            "{level} is not a log level (DEBUG, INFO, ERROR, WARN, DISABLED)."
        )))
    }
}

fn check_role_arn(arn: &str) -> RegistryResult<()> {
    if arn.len() < 20 || arn.len() > 2048 || !arn.starts_with("arn:") || !arn.contains(":role/") {
        return Err(RegistryError::invalid(format!(
            "{arn} is not an IAM role ARN."
        )));
    }
    Ok(())
}

impl Registry {
    fn role_alias_arn(&self, account: &str, name: &str) -> String {
        self.arn(account, &format!("rolealias/{name}"))
    }

    pub async fn handle_create_role_alias(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.role_alias()?;
        let role_arn = input.req_str("roleArn")?;
        check_role_arn(role_arn)?;
        let duration = input
            .opt_i64_in("credentialDurationSeconds", 900, 43_200)?
            .unwrap_or(3_600);
        let tags = tags_member(&input, "tags")?;
        let account = &caller.account_id;
        let arn = self.role_alias_arn(account, name);
        self.mutate(account, |state, changes| {
            if state.role_aliases.contains_key(name) {
                return Err(RegistryError::already_exists(
                    format!("Role alias {name} already exists"),
                    name,
                    &arn,
                ));
            }
            let now = changes.now_ms();
            let alias = RoleAlias {
                name: name.to_string(),
                role_arn: role_arn.to_string(),
                credential_duration_seconds: duration,
                created_ms: now,
                last_modified_ms: now,
            };
            changes.put(persist::ROLE_ALIAS, name, &alias);
            set_tags(state, changes, &arn, tags);
            state.insert_role_alias(alias);
            Ok(json!({"roleAlias": name, "roleAliasArn": arn}))
        })
        .await
    }

    pub async fn handle_describe_role_alias(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let name = Input(input).role_alias()?;
        let account = &caller.account_id;
        self.read(account, |state| {
            let a = state
                .role_aliases
                .get(name)
                .ok_or_else(|| alias_not_found(name))?;
            Ok(json!({"roleAliasDescription": {
                "roleAlias": a.name,
                "roleAliasArn": self.role_alias_arn(account, name),
                "roleArn": a.role_arn,
                "owner": account,
                "credentialDurationSeconds": a.credential_duration_seconds,
                "creationDate": epoch_seconds(a.created_ms),
                "lastModifiedDate": epoch_seconds(a.last_modified_ms),
            }}))
        })
    }

    pub async fn handle_update_role_alias(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.role_alias()?;
        let role_arn = input.opt_str("roleArn")?;
        if let Some(arn) = role_arn {
            check_role_arn(arn)?;
        }
        let duration = input.opt_i64_in("credentialDurationSeconds", 900, 43_200)?;
        let account = &caller.account_id;
        self.mutate(account, |state, changes| {
            let mut alias = state
                .role_aliases
                .get(name)
                .ok_or_else(|| alias_not_found(name))?
                .clone();
            if let Some(arn) = role_arn {
                alias.role_arn = arn.to_string();
            }
            if let Some(d) = duration {
                alias.credential_duration_seconds = d;
            }
            alias.last_modified_ms = changes.now_ms();
            changes.put(persist::ROLE_ALIAS, name, &alias);
            state.insert_role_alias(alias);
            Ok(json!({"roleAlias": name, "roleAliasArn": self.role_alias_arn(account, name)}))
        })
        .await
    }

    pub async fn handle_delete_role_alias(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let name = Input(input).role_alias()?;
        let account = &caller.account_id;
        self.mutate(account, |state, changes| {
            if state.remove_role_alias(name).is_none() {
                return Err(alias_not_found(name));
            }
            changes.delete(persist::ROLE_ALIAS, name);
            let arn = self.role_alias_arn(account, name);
            if state.tags.remove(&arn).is_some() {
                changes.delete(persist::TAGS, &arn);
            }
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_list_role_aliases(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let limit = paging::page_size(&input, "pageSize")?;
        // The model: "ascending alphabetical order" when set; descending otherwise.
        let ascending = input.bool_or("ascendingOrder", false)?;
        let after = paging::decode(&input, "marker")?;
        Ok(self.read(&caller.account_id, |state| {
            let names: std::collections::BTreeSet<&String> = state.role_aliases.keys().collect();
            let (page, more) = paging::page_of(&names, after.as_ref().as_ref(), ascending, limit);
            let mut out = json!({"roleAliases": page});
            if more && let Some(last) = page.last() {
                out["nextMarker"] = json!(paging::encode(last));
            }
            out
        }))
    }

    // ---- logging ----

    pub async fn handle_set_logging_options(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        // `loggingOptionsPayload` is the HTTP payload in the model: SDKs send its members as
        // the whole body. A body that wraps them is accepted too.
        let payload = input.opt_object("loggingOptionsPayload")?.unwrap_or(input);
        let role_arn = payload.req_str("roleArn")?;
        check_role_arn(role_arn)?;
        let level = payload.opt_str("logLevel")?.unwrap_or("ERROR");
        check_log_level(level)?;
        self.mutate(&caller.account_id, |state, changes| {
            let options = LoggingV1 {
                role_arn: Some(role_arn.to_string()),
                log_level: level.to_string(),
            };
            changes.put(persist::LOGGING, "v1", &options);
            state.logging_v1 = Some(options);
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_get_logging_options(
        &self,
        caller: &Caller,
        _input: &Value,
    ) -> RegistryResult<Value> {
        Ok(
            self.read(&caller.account_id, |state| match &state.logging_v1 {
                Some(o) => json!({"roleArn": o.role_arn, "logLevel": o.log_level}),
                None => json!({}),
            }),
        )
    }

    pub async fn handle_set_v2_logging_options(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let role_arn = input.opt_str("roleArn")?;
        if let Some(arn) = role_arn {
            check_role_arn(arn)?;
        }
        let level = input.opt_str("defaultLogLevel")?;
        if let Some(l) = level {
            check_log_level(l)?;
        }
        let disable_all = input.opt_bool("disableAllLogs")?;
        self.mutate(&caller.account_id, |state, changes| {
            let current = state.logging_v2.clone().unwrap_or(LoggingV2 {
                role_arn: None,
                default_log_level: "ERROR".into(),
                disable_all_logs: false,
            });
            let options = LoggingV2 {
                role_arn: role_arn.map(str::to_string).or(current.role_arn),
                default_log_level: level
                    .map(str::to_string)
                    .unwrap_or(current.default_log_level),
                disable_all_logs: disable_all.unwrap_or(current.disable_all_logs),
            };
            changes.put(persist::LOGGING, "v2", &options);
            state.logging_v2 = Some(options);
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_get_v2_logging_options(
        &self,
        caller: &Caller,
        _input: &Value,
    ) -> RegistryResult<Value> {
        self.read(&caller.account_id, |state| match &state.logging_v2 {
            Some(o) => {
                let mut out = json!({"defaultLogLevel": o.default_log_level, "disableAllLogs": o.disable_all_logs});
                if let Some(arn) = &o.role_arn {
                    out["roleArn"] = json!(arn);
                }
                Ok(out)
            }
            None => Err(RegistryError::NotConfigured("V2 logging is not configured.".into())),
        })
    }

    pub async fn handle_set_v2_logging_level(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let target = input
            .opt_object("logTarget")?
            .ok_or_else(|| crate::input::missing("logTarget"))?;
        let target_type = target.req_str("targetType")?;
        if !LOG_TARGET_TYPES.contains(&target_type) {
            return Err(RegistryError::invalid(format!(
                "{target_type} is not a log target type."
            )));
        }
        let target_name = target.opt_str("targetName")?.unwrap_or("");
        let level = input.req_str("logLevel")?;
        check_log_level(level)?;
        self.mutate(&caller.account_id, |state, changes| {
            if state.logging_v2.is_none() {
                return Err(RegistryError::NotConfigured(
                    "V2 logging is not configured; call SetV2LoggingOptions first.".into(),
                ));
            }
            if target_type == "THING_GROUP" && !state.groups.contains_key(target_name) {
                return Err(RegistryError::invalid(format!(
                    "Thing group {target_name} does not exist."
                )));
            }
            changes.put(
                persist::LOG_LEVEL,
                &format!("{target_type}|{target_name}"),
                &level,
            );
            state.log_levels.insert(
                (target_type.to_string(), target_name.to_string()),
                level.to_string(),
            );
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_list_v2_logging_levels(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let only = input.opt_str("targetType")?;
        let limit = paging::page_size(&input, "maxResults")?;
        let after = paging::decode(&input, "nextToken")?;
        if let Some(t) = only
            && !LOG_TARGET_TYPES.contains(&t)
        {
            return Err(RegistryError::invalid(format!(
                "{t} is not a log target type."
            )));
        }
        self.read(&caller.account_id, |state| {
            if state.logging_v2.is_none() {
                return Err(RegistryError::NotConfigured("V2 logging is not configured.".into()));
            }
            let mut page: Vec<(&(String, String), &String)> = state
                .log_levels
                .iter()
                .filter(|((t, _), _)| only.is_none_or(|o| o == t))
                .filter(|((t, n), _)| after.as_deref().is_none_or(|a| format!("{t}|{n}").as_str() > a))
                .take(limit + 1)
                .collect();
            let more = page.len() > limit;
            page.truncate(limit);
            let items: Vec<Value> = page
                .iter()
                .map(|((t, n), level)| json!({"logTarget": {"targetType": t, "targetName": n}, "logLevel": level}))
                .collect();
            let mut out = json!({"logTargetConfigurations": items});
            if more && let Some(((t, n), _)) = page.last() {
                out["nextToken"] = json!(paging::encode(&format!("{t}|{n}")));
            }
            Ok(out)
        })
    }

    pub async fn handle_delete_v2_logging_level(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let target_type = input.req_str("targetType")?;
        let target_name = input.req_str("targetName")?;
        self.mutate(&caller.account_id, |state, changes| {
            let key = (target_type.to_string(), target_name.to_string());
            if state.log_levels.remove(&key).is_some() {
                changes.delete(persist::LOG_LEVEL, &format!("{target_type}|{target_name}"));
            }
            Ok(json!({}))
        })
        .await
    }

    // ---- endpoint ----

    pub async fn handle_describe_endpoint(
        &self,
        _caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let address = match Input(input).opt_str("endpointType")? {
            None | Some("iot:Data") | Some("iot:Data-ATS") | Some("iot:Jobs") => {
                &self.endpoints.data
            }
            Some("iot:CredentialProvider") => &self.endpoints.credential_provider,
            Some(other) => {
                return Err(RegistryError::invalid(format!(
                    "{other} is not an endpoint type (iot:Data, iot:Data-ATS, iot:CredentialProvider, iot:Jobs)."
                )));
            }
        };
        Ok(json!({"endpointAddress": address}))
    }

    // ---- tags ----

    /// Checks that a taggable resource with this ARN exists in the account.
    fn check_taggable(&self, account: &str, state: &AccountState, arn: &str) -> RegistryResult<()> {
        let resource = arn
            .strip_prefix(&self.arn(account, ""))
            .ok_or_else(|| RegistryError::not_found(format!("Resource {arn} does not exist.")))?;
        let (kind, name) = resource
            .split_once('/')
            .ok_or_else(|| RegistryError::invalid(format!("{arn} is not a resource ARN.")))?;
        let exists = match kind {
            "thing" => state.things.contains_key(name),
            "thinggroup" => state.groups.contains_key(name),
            "thingtype" => state.thing_types.contains_key(name),
            "policy" => state.policies.contains_key(name),
            "rolealias" => state.role_aliases.contains_key(name),
            "cacert" => name
                .parse::<CertId>()
                .ok()
                .is_some_and(|id| state.ca_certificates.contains_key(&id)),
            _ => {
                return Err(RegistryError::invalid(format!(
                    "Resources of type {kind} cannot be tagged."
                )));
            }
        };
        if exists {
            Ok(())
        } else {
            Err(RegistryError::not_found(format!(
                "Resource {arn} does not exist."
            )))
        }
    }

    pub async fn handle_tag_resource(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let arn = input.req_str("resourceArn")?;
        let tags = tags_member(&input, "tags")?;
        if input.get("tags").is_none() {
            return Err(crate::input::missing("tags"));
        }
        let account = &caller.account_id;
        self.mutate(account, |state, changes| {
            self.check_taggable(account, state, arn)?;
            let mut merged = state.tags.get(arn).cloned().unwrap_or_default();
            merged.extend(tags);
            if merged.len() > MAX_TAGS {
                return Err(RegistryError::LimitExceeded(format!(
                    "At most {MAX_TAGS} tags per resource."
                )));
            }
            changes.put(persist::TAGS, arn, &merged);
            state.tags.insert(arn.to_string(), merged);
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_untag_resource(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let arn = input.req_str("resourceArn")?;
        let keys = input
            .opt_str_list("tagKeys")?
            .ok_or_else(|| crate::input::missing("tagKeys"))?;
        let account = &caller.account_id;
        self.mutate(account, |state, changes| {
            self.check_taggable(account, state, arn)?;
            let mut tags: BTreeMap<String, String> =
                state.tags.get(arn).cloned().unwrap_or_default();
            for k in keys {
                tags.remove(k);
            }
            if tags.is_empty() {
                changes.delete(persist::TAGS, arn);
                state.tags.remove(arn);
            } else {
                changes.put(persist::TAGS, arn, &tags);
                state.tags.insert(arn.to_string(), tags);
            }
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_list_tags_for_resource(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let arn = Input(input).req_str("resourceArn")?;
        let account = &caller.account_id;
        self.read(account, |state| {
            self.check_taggable(account, state, arn)?;
            let tags: Vec<Value> = state
                .tags
                .get(arn)
                .into_iter()
                .flatten()
                .map(|(k, v)| json!({"Key": k, "Value": v}))
                .collect();
            Ok(json!({"tags": tags}))
        })
    }
}

fn alias_not_found(name: &str) -> RegistryError {
    RegistryError::not_found(format!("Role alias {name} does not exist"))
}
