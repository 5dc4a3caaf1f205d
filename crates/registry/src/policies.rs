//! IoT policies, their versions (at most five), and their attachment to certificates and
//! thing groups.

use std::collections::BTreeMap;
use std::sync::Arc;

use fleetward_policy::Policy;
use serde_json::{Value, json};

use crate::error::{RegistryError, RegistryResult};
use crate::input::Input;
use crate::paging;
use crate::persist;
use crate::records::{CertId, StoredPolicy, StoredPolicyVersion};
use crate::state::{AccountState, PolicyEntry};
use crate::{Caller, Registry, epoch_seconds, new_id};

/// AWS quotas: versions kept per policy, and policies attached to one target.
const MAX_VERSIONS: usize = 5;
const MAX_POLICIES_PER_TARGET: usize = 10;

fn policy_not_found(name: &str) -> RegistryError {
    RegistryError::not_found(format!("Policy {name} does not exist"))
}

fn compile(document: &str) -> RegistryResult<Arc<Policy>> {
    Policy::parse(document)
        .map(Arc::new)
        .map_err(|e| RegistryError::MalformedPolicy(e.message().to_string()))
}

/// The policy `name`, which must have the version `version`.
fn policy_with_version<'s>(
    state: &'s AccountState,
    name: &str,
    version: u32,
) -> RegistryResult<&'s PolicyEntry> {
    let entry = state
        .policies
        .get(name)
        .ok_or_else(|| policy_not_found(name))?;
    if !entry.stored.versions.contains_key(&version) {
        return Err(RegistryError::not_found(format!(
            "Policy {name} has no version {version}"
        )));
    }
    Ok(entry)
}

fn version_id(input: &Input) -> RegistryResult<u32> {
    let text = input.req_str("policyVersionId")?;
    text.parse()
        .map_err(|_| RegistryError::invalid(format!("{text} is not a policy version id.")))
}

/// What a policy target ARN names, once checked to exist in the account.
pub(crate) enum Target {
    Certificate,
    ThingGroup,
}

impl Registry {
    pub(crate) fn policy_arn(&self, account: &str, name: &str) -> String {
        self.arn(account, &format!("policy/{name}"))
    }

    /// Checks that `target` is a certificate or thing group ARN of this account that exists.
    pub(crate) fn resolve_target(
        &self,
        account: &str,
        state: &AccountState,
        target: &str,
    ) -> RegistryResult<Target> {
        let prefix = self.arn(account, "");
        let Some(resource) = target.strip_prefix(&prefix) else {
            return Err(RegistryError::invalid(format!(
                "{target} is not a certificate or thing group ARN of this account."
            )));
        };
        if let Some(id) = resource.strip_prefix("cert/") {
            let exists = id
                .parse::<CertId>()
                .ok()
                .is_some_and(|id| state.certificates.contains_key(&id));
            return if exists {
                Ok(Target::Certificate)
            } else {
                Err(RegistryError::not_found(format!(
                    "The certificate {id} does not exist."
                )))
            };
        }
        if let Some(group) = resource.strip_prefix("thinggroup/") {
            return if state.groups.contains_key(group) {
                Ok(Target::ThingGroup)
            } else {
                Err(RegistryError::not_found(format!(
                    "ThingGroup {group} does not exist"
                )))
            };
        }
        Err(RegistryError::invalid(format!(
            "{target} is not a certificate or thing group ARN."
        )))
    }

    pub async fn handle_create_policy(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.policy_name()?;
        let document = input.req_str("policyDocument")?;
        let compiled = compile(document)?;
        let tags = crate::misc::tags_member(&input, "tags")?;
        let account = &caller.account_id;
        let arn = self.policy_arn(account, name);
        self.mutate(account, |state, changes| {
            if state.policies.contains_key(name) {
                return Err(RegistryError::already_exists(
                    format!("Policy cannot be created - name already exists (name={name})"),
                    name,
                    &arn,
                ));
            }
            let now = changes.now_ms();
            let stored = StoredPolicy {
                name: name.to_string(),
                versions: BTreeMap::from([(1, StoredPolicyVersion { document: document.to_string(), created_ms: now })]),
                default_version: 1,
                next_version: 2,
                created_ms: now,
                last_modified_ms: now,
                generation_id: new_id(),
            };
            changes.put(persist::POLICY, name, &stored);
            crate::misc::set_tags(state, changes, &arn, tags);
            state.insert_policy(PolicyEntry { stored, compiled: BTreeMap::from([(1, compiled)]) });
            Ok(json!({"policyName": name, "policyArn": arn, "policyDocument": document, "policyVersionId": "1"}))
        })
        .await
    }

    pub async fn handle_get_policy(&self, caller: &Caller, input: &Value) -> RegistryResult<Value> {
        let name = Input(input).policy_name()?;
        let account = &caller.account_id;
        self.read(account, |state| {
            let entry = state
                .policies
                .get(name)
                .ok_or_else(|| policy_not_found(name))?;
            let p = &entry.stored;
            let document = p
                .versions
                .get(&p.default_version)
                .map(|v| v.document.as_str())
                .unwrap_or("");
            Ok(json!({
                "policyName": p.name,
                "policyArn": self.policy_arn(account, name),
                "policyDocument": document,
                "defaultVersionId": p.default_version.to_string(),
                "creationDate": epoch_seconds(p.created_ms),
                "lastModifiedDate": epoch_seconds(p.last_modified_ms),
                "generationId": p.generation_id,
            }))
        })
    }

    pub async fn handle_delete_policy(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let name = Input(input).policy_name()?;
        let account = &caller.account_id;
        self.mutate(account, |state, changes| {
            let entry = state.policies.get(name).ok_or_else(|| policy_not_found(name))?;
            if entry.stored.versions.len() > 1 {
                return Err(RegistryError::DeleteConflict(format!(
                    "Cannot delete the policy {name} because it has non-default versions; delete them first."
                )));
            }
            if state.policy_targets.get(name).is_some_and(|t| !t.is_empty()) {
                return Err(RegistryError::DeleteConflict(format!(
                    "The policy {name} is attached to one or more targets; detach it first."
                )));
            }
            changes.delete(persist::POLICY, name);
            let arn = self.policy_arn(account, name);
            if state.tags.remove(&arn).is_some() {
                changes.delete(persist::TAGS, &arn);
            }
            state.remove_policy(name);
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_list_policies(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let limit = paging::page_size(&input, "pageSize")?;
        let ascending = input.bool_or("ascendingOrder", false)?;
        let after = paging::decode(&input, "marker")?
            .map(|c| paging::parse_created_cursor(&c, "marker"))
            .transpose()?;
        let account = &caller.account_id;
        Ok(self.read(account, |state| {
            let (page, more) =
                paging::page_of(&state.policies_by_created, after.as_ref(), ascending, limit);
            let items: Vec<Value> = page
                .iter()
                .map(|(_, n)| json!({"policyName": n, "policyArn": self.policy_arn(account, n)}))
                .collect();
            let mut out = json!({"policies": items});
            if more && let Some((ms, n)) = page.last() {
                out["nextMarker"] = json!(paging::encode(&paging::created_cursor(*ms, n)));
            }
            out
        }))
    }

    pub async fn handle_create_policy_version(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.policy_name()?;
        let document = input.req_str("policyDocument")?;
        let set_default = input.bool_or("setAsDefault", false)?;
        let compiled = compile(document)?;
        let account = &caller.account_id;
        self.mutate(account, |state, changes| {
            let entry = state
                .policies
                .get(name)
                .ok_or_else(|| policy_not_found(name))?;
            if entry.stored.versions.len() >= MAX_VERSIONS {
                return Err(RegistryError::VersionsLimitExceeded(format!(
                    "The policy {name} already has the maximum number of versions ({MAX_VERSIONS})"
                )));
            }
            let mut entry = entry.clone();
            let now = changes.now_ms();
            let version = entry.stored.next_version;
            entry.stored.next_version += 1;
            entry.stored.versions.insert(
                version,
                StoredPolicyVersion {
                    document: document.to_string(),
                    created_ms: now,
                },
            );
            entry.compiled.insert(version, compiled);
            if set_default {
                entry.stored.default_version = version;
            }
            entry.stored.last_modified_ms = now;
            entry.stored.generation_id = new_id();
            changes.put(persist::POLICY, name, &entry.stored);
            state.insert_policy(entry);
            Ok(json!({
                "policyArn": self.policy_arn(account, name),
                "policyDocument": document,
                "policyVersionId": version.to_string(),
                "isDefaultVersion": set_default,
            }))
        })
        .await
    }

    pub async fn handle_get_policy_version(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.policy_name()?;
        let version = version_id(&input)?;
        let account = &caller.account_id;
        self.read(account, |state| {
            let entry = policy_with_version(state, name, version)?;
            let p = &entry.stored;
            let v = &p.versions[&version];
            Ok(json!({
                "policyArn": self.policy_arn(account, name),
                "policyName": name,
                "policyDocument": v.document,
                "policyVersionId": version.to_string(),
                "isDefaultVersion": version == p.default_version,
                "creationDate": epoch_seconds(v.created_ms),
                "lastModifiedDate": epoch_seconds(p.last_modified_ms),
                "generationId": p.generation_id,
            }))
        })
    }

    pub async fn handle_list_policy_versions(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let name = Input(input).policy_name()?;
        self.read(&caller.account_id, |state| {
            let entry = state
                .policies
                .get(name)
                .ok_or_else(|| policy_not_found(name))?;
            let p = &entry.stored;
            // Newest first, as AWS lists them.
            let versions: Vec<Value> = p
                .versions
                .iter()
                .rev()
                .map(|(id, v)| {
                    json!({
                        "versionId": id.to_string(),
                        "isDefaultVersion": *id == p.default_version,
                        "createDate": epoch_seconds(v.created_ms),
                    })
                })
                .collect();
            Ok(json!({"policyVersions": versions}))
        })
    }

    pub async fn handle_set_default_policy_version(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.policy_name()?;
        let version = version_id(&input)?;
        self.mutate(&caller.account_id, |state, changes| {
            let entry = policy_with_version(state, name, version)?;
            let mut entry = entry.clone();
            entry.stored.default_version = version;
            entry.stored.last_modified_ms = changes.now_ms();
            entry.stored.generation_id = new_id();
            changes.put(persist::POLICY, name, &entry.stored);
            state.insert_policy(entry);
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_delete_policy_version(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.policy_name()?;
        let version = version_id(&input)?;
        self.mutate(&caller.account_id, |state, changes| {
            let entry = policy_with_version(state, name, version)?;
            if entry.stored.default_version == version {
                return Err(RegistryError::DeleteConflict(
                    "Cannot delete the default version of a policy; use DeletePolicy.".into(),
                ));
            }
            let mut entry = entry.clone();
            entry.stored.versions.remove(&version);
            entry.compiled.remove(&version);
            entry.stored.last_modified_ms = changes.now_ms();
            changes.put(persist::POLICY, name, &entry.stored);
            state.insert_policy(entry);
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_attach_policy(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.policy_name()?;
        let target = input.req_str("target")?;
        let account = &caller.account_id;
        self.mutate(account, |state, changes| {
            if !state.policies.contains_key(name) {
                return Err(policy_not_found(name));
            }
            self.resolve_target(account, state, target)?;
            if state
                .target_policies
                .get(target)
                .is_some_and(|p| p.contains(name))
            {
                return Ok(json!({}));
            }
            if state.policies_of(target).count() >= MAX_POLICIES_PER_TARGET {
                return Err(RegistryError::LimitExceeded(format!(
                    "At most {MAX_POLICIES_PER_TARGET} policies can be attached to {target}."
                )));
            }
            changes.put_raw(
                persist::POLICY_TARGET,
                &format!("{name}|{target}"),
                "{}".into(),
            );
            state.attach(name, target);
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_detach_policy(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.policy_name()?;
        let target = input.req_str("target")?;
        self.mutate(&caller.account_id, |state, changes| {
            if !state.policies.contains_key(name) {
                return Err(policy_not_found(name));
            }
            if state
                .target_policies
                .get(target)
                .is_some_and(|p| p.contains(name))
            {
                changes.delete(persist::POLICY_TARGET, &format!("{name}|{target}"));
                state.detach(name, target);
            }
            Ok(json!({}))
        })
        .await
    }

    /// The policies attached to a target and, with `recursive` on a thing group, to its
    /// ancestors (nearest first).
    pub(crate) fn attached_policy_names(
        &self,
        account: &str,
        state: &AccountState,
        target: &str,
        recursive: bool,
    ) -> Vec<String> {
        let mut names: Vec<String> = state.policies_of(target).cloned().collect();
        if recursive && let Some(group) = target.strip_prefix(&self.arn(account, "thinggroup/")) {
            for ancestor in state.ancestors(group) {
                let arn = self.group_arn(account, &ancestor.name);
                for p in state.policies_of(&arn) {
                    if !names.contains(p) {
                        names.push(p.clone());
                    }
                }
            }
        }
        names
    }

    pub async fn handle_list_attached_policies(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let target = input.req_str("target")?;
        let recursive = input.bool_or("recursive", false)?;
        let limit = paging::page_size(&input, "pageSize")?;
        let after = paging::decode(&input, "marker")?;
        let account = &caller.account_id;
        self.read(account, |state| {
            self.resolve_target(account, state, target)?;
            let mut names = self.attached_policy_names(account, state, target, recursive);
            names.sort();
            let (page, more) = paging::page_after(names.iter(), after.as_deref(), limit);
            let items: Vec<Value> = page
                .iter()
                .map(|n| json!({"policyName": n, "policyArn": self.policy_arn(account, n)}))
                .collect();
            let mut out = json!({"policies": items});
            if more && let Some(last) = page.last() {
                out["nextMarker"] = json!(paging::encode(last));
            }
            Ok(out)
        })
    }

    pub async fn handle_list_targets_for_policy(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.policy_name()?;
        let limit = paging::page_size(&input, "pageSize")?;
        let after = paging::decode(&input, "marker")?;
        self.read(&caller.account_id, |state| {
            if !state.policies.contains_key(name) {
                return Err(policy_not_found(name));
            }
            let targets = state.policy_targets.get(name).into_iter().flatten();
            let (page, more) = paging::page_after(targets, after.as_deref(), limit);
            let mut out = json!({"targets": page});
            if more && let Some(last) = page.last() {
                out["nextMarker"] = json!(paging::encode(last));
            }
            Ok(out)
        })
    }
}
