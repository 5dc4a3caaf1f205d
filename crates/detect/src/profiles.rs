//! Security profile operations (spec 2.6): create, describe, update (expectedVersion and
//! the delete* flags), delete, list, attach/detach targets and their listings, and
//! ValidateSecurityProfileBehaviors.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Value, json};

use crate::compiled::Target;
use crate::error::{DetectError, DetectResult};
use crate::input::{self, epoch_seconds, opt_bool, opt_i64, opt_str, req_str};
use crate::model::{AlertTarget, Behavior, MetricToRetain, MetricsExportConfig, SecurityProfile};
use crate::validate::{Known, validate_behaviors};
use crate::{AccountConfig, Caller, Detect, persist};

/// Security profiles per target (spec 6).
pub const MAX_PROFILES_PER_TARGET: usize = 5;

fn known_of(config: &AccountConfig) -> (HashMap<String, String>, HashSet<String>) {
    (
        config
            .custom_metrics
            .values()
            .map(|m| (m.metric_name.clone(), m.metric_type.clone()))
            .collect(),
        config.dimensions.keys().cloned().collect(),
    )
}

fn behaviors_of(input: &Value, config: &AccountConfig) -> DetectResult<Option<Vec<Behavior>>> {
    let Some(raw) = input.get("behaviors").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let behaviors: Vec<Behavior> = input::decode("behaviors", raw)?;
    let (customs, dims) = known_of(config);
    let errors = validate_behaviors(
        &behaviors,
        &Known {
            custom_metrics: &customs,
            dimensions: &dims,
        },
    );
    match errors.into_iter().next() {
        Some(first) => Err(DetectError::invalid(first)),
        None => Ok(Some(behaviors)),
    }
}

/// The optional members every write takes, checked.
struct Members {
    description: Option<String>,
    alert_targets: Option<BTreeMap<String, AlertTarget>>,
    retain: Option<Vec<String>>,
    retain_v2: Option<Vec<MetricToRetain>>,
    export: Option<MetricsExportConfig>,
}

fn members(input: &Value, config: &AccountConfig) -> DetectResult<Members> {
    let description = opt_str(input, "securityProfileDescription")?.map(str::to_string);
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 1000)
    {
        return Err(DetectError::invalid(
            "securityProfileDescription must be at most 1000 characters.",
        ));
    }
    let alert_targets: Option<BTreeMap<String, AlertTarget>> = match input.get("alertTargets") {
        Some(v) if !v.is_null() => Some(input::decode("alertTargets", v)?),
        _ => None,
    };
    if let Some(targets) = &alert_targets
        && let Some(bad) = targets.keys().find(|k| *k != "SNS")
    {
        return Err(DetectError::invalid(format!(
            "alertTargets key {bad} is not valid; the only alert target type is SNS."
        )));
    }
    let retain: Option<Vec<String>> = match input.get("additionalMetricsToRetain") {
        Some(v) if !v.is_null() => Some(input::decode("additionalMetricsToRetain", v)?),
        _ => None,
    };
    let retain_v2: Option<Vec<MetricToRetain>> = match input.get("additionalMetricsToRetainV2") {
        Some(v) if !v.is_null() => Some(input::decode("additionalMetricsToRetainV2", v)?),
        _ => None,
    };
    let (customs, dims) = known_of(config);
    for m in retain_v2.iter().flatten() {
        if crate::catalog::builtin(&m.metric).is_none() && !customs.contains_key(&m.metric) {
            return Err(DetectError::invalid(format!(
                "Metric {} in additionalMetricsToRetainV2 does not exist.",
                m.metric
            )));
        }
        if let Some(d) = &m.metric_dimension
            && !dims.contains(&d.dimension_name)
        {
            return Err(DetectError::invalid(format!(
                "Dimension {} does not exist.",
                d.dimension_name
            )));
        }
    }
    let export: Option<MetricsExportConfig> = match input.get("metricsExportConfig") {
        Some(v) if !v.is_null() => Some(input::decode("metricsExportConfig", v)?),
        _ => None,
    };
    if let Some(e) = &export
        && (e.mqtt_topic.is_empty() || e.mqtt_topic.len() > 512)
    {
        return Err(DetectError::invalid(
            "metricsExportConfig.mqttTopic must be 1 to 512 characters.",
        ));
    }
    Ok(Members {
        description,
        alert_targets,
        retain,
        retain_v2,
        export,
    })
}

impl Detect {
    fn profile_arn(&self, account: &str, name: &str) -> String {
        self.arn(account, &format!("securityprofile/{name}"))
    }

    fn describe(&self, account: &str, p: &SecurityProfile) -> Value {
        let mut out = json!({
            "securityProfileName": p.name,
            "securityProfileArn": self.profile_arn(account, &p.name),
            "behaviors": p.behaviors,
            "version": p.version,
            "creationDate": epoch_seconds(p.creation_ms),
            "lastModifiedDate": epoch_seconds(p.last_modified_ms),
        });
        if let Some(d) = &p.description {
            out["securityProfileDescription"] = json!(d);
        }
        if let Some(t) = &p.alert_targets {
            out["alertTargets"] = json!(t);
        }
        if let Some(r) = &p.additional_metrics_to_retain {
            out["additionalMetricsToRetain"] = json!(r);
        }
        if let Some(r) = &p.additional_metrics_to_retain_v2 {
            out["additionalMetricsToRetainV2"] = json!(r);
        }
        if let Some(e) = &p.metrics_export_config {
            out["metricsExportConfig"] = json!(e);
        }
        out
    }

    /// Stores a profile, then applies it to memory and the evaluator.
    async fn save_profile(
        &self,
        account: &str,
        configs: &mut HashMap<String, AccountConfig>,
        profile: SecurityProfile,
    ) -> DetectResult<()> {
        let write = persist::put(
            account,
            persist::PROFILE,
            &profile.name,
            &profile,
            self.now(),
        );
        self.store.write_documents(&[write]).await?;
        let config = configs.entry(account.to_string()).or_default();
        config.profiles.insert(profile.name.clone(), profile);
        self.recompile(account, config);
        Ok(())
    }

    pub async fn handle_create_security_profile(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let account = &caller.account_id;
        let name = req_str(input, "securityProfileName")?;
        input::check_name("securityProfileName", name)?;
        let mut configs = self.config.lock().await;
        let config = configs.entry(account.clone()).or_default();
        let behaviors = behaviors_of(input, config)?.unwrap_or_default();
        let m = members(input, config)?;
        let arn = self.profile_arn(account, name);
        if config.profiles.contains_key(name) {
            return Err(DetectError::ResourceAlreadyExists {
                message: format!("Security profile {name} already exists."),
                resource_id: name.to_string(),
                resource_arn: arn,
            });
        }
        let now = self.now();
        let ml_started_ms = behaviors
            .iter()
            .filter(|b| b.criteria_type() == crate::model::CriteriaType::MachineLearning)
            .map(|b| (b.name.clone(), now))
            .collect();
        let profile = SecurityProfile {
            name: name.to_string(),
            description: m.description,
            behaviors,
            alert_targets: m.alert_targets,
            additional_metrics_to_retain: m.retain,
            additional_metrics_to_retain_v2: m.retain_v2,
            metrics_export_config: m.export,
            version: 1,
            creation_ms: now,
            last_modified_ms: now,
            targets: Vec::new(),
            ml_started_ms,
        };
        self.save_profile(account, &mut configs, profile).await?;
        Ok(json!({"securityProfileName": name, "securityProfileArn": arn}))
    }

    pub async fn handle_describe_security_profile(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let name = req_str(input, "securityProfileName")?;
        let configs = self.config.lock().await;
        let profile = configs
            .get(&caller.account_id)
            .and_then(|c| c.profiles.get(name))
            .ok_or_else(|| not_found(name))?;
        Ok(self.describe(&caller.account_id, profile))
    }

    pub async fn handle_update_security_profile(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let account = &caller.account_id;
        let name = req_str(input, "securityProfileName")?;
        let expected = opt_i64(input, "expectedVersion")?;
        let mut configs = self.config.lock().await;
        let config = configs.entry(account.clone()).or_default();
        let behaviors = behaviors_of(input, config)?;
        let m = members(input, config)?;
        let mut profile = config
            .profiles
            .get(name)
            .cloned()
            .ok_or_else(|| not_found(name))?;
        if let Some(v) = expected
            && v != profile.version
        {
            return Err(DetectError::VersionConflict(format!(
                "The version of security profile {name} is {}, not {v}.",
                profile.version
            )));
        }
        for (flag, given) in [
            ("deleteBehaviors", behaviors.is_some()),
            ("deleteAlertTargets", m.alert_targets.is_some()),
            (
                "deleteAdditionalMetricsToRetain",
                m.retain.is_some() || m.retain_v2.is_some(),
            ),
            ("deleteMetricsExportConfig", m.export.is_some()),
        ] {
            if opt_bool(input, flag)? == Some(true) && given {
                return Err(DetectError::invalid(format!(
                    "{flag} cannot be true when the same field is also given."
                )));
            }
        }
        let now = self.now();
        if let Some(b) = behaviors {
            for ml in b
                .iter()
                .filter(|b| b.criteria_type() == crate::model::CriteriaType::MachineLearning)
            {
                profile.ml_started_ms.entry(ml.name.clone()).or_insert(now);
            }
            profile.behaviors = b;
        }
        if opt_bool(input, "deleteBehaviors")? == Some(true) {
            profile.behaviors.clear();
        }
        if m.description.is_some() {
            profile.description = m.description;
        }
        if m.alert_targets.is_some() {
            profile.alert_targets = m.alert_targets;
        }
        if opt_bool(input, "deleteAlertTargets")? == Some(true) {
            profile.alert_targets = None;
        }
        if m.retain.is_some() {
            profile.additional_metrics_to_retain = m.retain;
        }
        if m.retain_v2.is_some() {
            profile.additional_metrics_to_retain_v2 = m.retain_v2;
        }
        if opt_bool(input, "deleteAdditionalMetricsToRetain")? == Some(true) {
            profile.additional_metrics_to_retain = None;
            profile.additional_metrics_to_retain_v2 = None;
        }
        if m.export.is_some() {
            profile.metrics_export_config = m.export;
        }
        if opt_bool(input, "deleteMetricsExportConfig")? == Some(true) {
            profile.metrics_export_config = None;
        }
        let names: HashSet<&str> = profile.behaviors.iter().map(|b| b.name.as_str()).collect();
        profile
            .ml_started_ms
            .retain(|k, _| names.contains(k.as_str()));
        profile.version += 1;
        profile.last_modified_ms = now;
        let out = self.describe(account, &profile);
        self.save_profile(account, &mut configs, profile).await?;
        Ok(out)
    }

    pub async fn handle_delete_security_profile(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let account = &caller.account_id;
        let name = req_str(input, "securityProfileName")?;
        let expected = opt_i64(input, "expectedVersion")?;
        let mut configs = self.config.lock().await;
        let config = configs.entry(account.clone()).or_default();
        let Some(profile) = config.profiles.get(name) else {
            return Ok(json!({}));
        };
        if let Some(v) = expected
            && v != profile.version
        {
            return Err(DetectError::VersionConflict(format!(
                "The version of security profile {name} is {}, not {v}.",
                profile.version
            )));
        }
        self.store
            .write_documents(&[persist::delete(account, persist::PROFILE, name)])
            .await?;
        config.profiles.remove(name);
        self.recompile(account, config);
        Ok(json!({}))
    }

    pub async fn handle_list_security_profiles(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let dimension = opt_str(input, "dimensionName")?;
        let metric = opt_str(input, "metricName")?;
        if dimension.is_some() && metric.is_some() {
            return Err(DetectError::invalid(
                "dimensionName and metricName cannot both be given.",
            ));
        }
        let limit = input::max_results(input, 250, 25)?;
        let after = input::decode_token(input)?;
        let configs = self.config.lock().await;
        let items: Vec<(String, Value)> = configs
            .get(&caller.account_id)
            .map(|c| {
                c.profiles
                    .values()
                    .filter(|p| {
                        dimension.is_none_or(|d| {
                            p.behaviors.iter().any(|b| {
                                b.metric_dimension.as_ref().is_some_and(|m| m.dimension_name == d)
                            })
                        }) && metric.is_none_or(|m| {
                            p.behaviors.iter().any(|b| b.metric.as_deref() == Some(m))
                                || p.additional_metrics_to_retain_v2
                                    .iter()
                                    .flatten()
                                    .any(|r| r.metric == m)
                        })
                    })
                    .map(|p| {
                        (p.name.clone(), json!({"name": p.name, "arn": self.profile_arn(&caller.account_id, &p.name)}))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let (page, next) = input::page(&items, after.as_deref(), limit);
        Ok(with_token(
            json!({"securityProfileIdentifiers": page}),
            next,
        ))
    }

    /// The target ARN, checked: its form, its account and (for a group) that it exists.
    fn target_of(&self, account: &str, arn: &str) -> DetectResult<Target> {
        let target = Target::parse(arn, &self.region, account).ok_or_else(|| {
            DetectError::invalid(format!(
                "{arn} is not a security profile target of this account."
            ))
        })?;
        if let Target::Group(g) = &target
            && !self.registry.thing_group_exists(account, g)
        {
            return Err(DetectError::not_found(format!(
                "Thing group {g} does not exist."
            )));
        }
        Ok(target)
    }

    pub async fn handle_attach_security_profile(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let account = &caller.account_id;
        let name = req_str(input, "securityProfileName")?;
        let arn = req_str(input, "securityProfileTargetArn")?;
        let mut configs = self.config.lock().await;
        let config = configs.entry(account.clone()).or_default();
        let mut profile = config
            .profiles
            .get(name)
            .cloned()
            .ok_or_else(|| not_found(name))?;
        self.target_of(account, arn)?;
        if profile.targets.iter().any(|t| t == arn) {
            return Ok(json!({}));
        }
        let attached = config
            .profiles
            .values()
            .filter(|p| p.targets.iter().any(|t| t == arn))
            .count();
        if attached >= MAX_PROFILES_PER_TARGET {
            return Err(DetectError::LimitExceeded(format!(
                "{arn} already has {MAX_PROFILES_PER_TARGET} security profiles attached."
            )));
        }
        profile.targets.push(arn.to_string());
        self.save_profile(account, &mut configs, profile).await?;
        Ok(json!({}))
    }

    pub async fn handle_detach_security_profile(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let account = &caller.account_id;
        let name = req_str(input, "securityProfileName")?;
        let arn = req_str(input, "securityProfileTargetArn")?;
        let mut configs = self.config.lock().await;
        let config = configs.entry(account.clone()).or_default();
        let mut profile = config
            .profiles
            .get(name)
            .cloned()
            .ok_or_else(|| not_found(name))?;
        if !profile.targets.iter().any(|t| t == arn) {
            return Err(DetectError::not_found(format!(
                "Security profile {name} is not attached to {arn}."
            )));
        }
        profile.targets.retain(|t| t != arn);
        self.save_profile(account, &mut configs, profile).await?;
        Ok(json!({}))
    }

    pub async fn handle_list_targets_for_security_profile(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let name = req_str(input, "securityProfileName")?;
        let limit = input::max_results(input, 250, 25)?;
        let after = input::decode_token(input)?;
        let configs = self.config.lock().await;
        let profile = configs
            .get(&caller.account_id)
            .and_then(|c| c.profiles.get(name))
            .ok_or_else(|| not_found(name))?;
        let mut items: Vec<(String, Value)> = profile
            .targets
            .iter()
            .map(|t| (t.clone(), json!({"arn": t})))
            .collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let (page, next) = input::page(&items, after.as_deref(), limit);
        Ok(with_token(json!({"securityProfileTargets": page}), next))
    }

    pub async fn handle_list_security_profiles_for_target(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let account = &caller.account_id;
        let arn = req_str(input, "securityProfileTargetArn")?;
        let recursive = opt_bool(input, "recursive")?.unwrap_or(false);
        let limit = input::max_results(input, 250, 25)?;
        let after = input::decode_token(input)?;
        let target = self.target_of(account, arn)?;
        // Recursive: the group's ancestors' profiles apply to its things too.
        let mut arns = vec![arn.to_string()];
        if recursive && let Target::Group(g) = &target {
            for parent in self.registry.detect_group_ancestors(account, g) {
                arns.push(self.arn(account, &format!("thinggroup/{parent}")));
            }
        }
        let configs = self.config.lock().await;
        let mut items: Vec<(String, Value)> = Vec::new();
        if let Some(c) = configs.get(account) {
            for t in &arns {
                for p in c.profiles.values().filter(|p| p.targets.contains(t)) {
                    items.push((
                        format!("{t}\u{0}{}", p.name),
                        json!({
                            "securityProfileIdentifier": {"name": p.name, "arn": self.profile_arn(account, &p.name)},
                            "target": {"arn": t},
                        }),
                    ));
                }
            }
        }
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let (page, next) = input::page(&items, after.as_deref(), limit);
        Ok(with_token(
            json!({"securityProfileTargetMappings": page}),
            next,
        ))
    }

    pub async fn handle_validate_security_profile_behaviors(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let raw = input
            .get("behaviors")
            .filter(|v| !v.is_null())
            .ok_or_else(|| DetectError::invalid("behaviors is required."))?;
        let behaviors: Vec<Behavior> = input::decode("behaviors", raw)?;
        let configs = self.config.lock().await;
        let empty = AccountConfig::default();
        let config = configs.get(&caller.account_id).unwrap_or(&empty);
        let (customs, dims) = known_of(config);
        let errors = validate_behaviors(
            &behaviors,
            &Known {
                custom_metrics: &customs,
                dimensions: &dims,
            },
        );
        Ok(json!({
            "valid": errors.is_empty(),
            "validationErrors": errors.iter().map(|e| json!({"errorMessage": e})).collect::<Vec<_>>(),
        }))
    }
}

pub(crate) fn not_found(name: &str) -> DetectError {
    DetectError::not_found(format!("Security profile {name} does not exist."))
}

pub(crate) fn with_token(mut out: Value, next: Option<String>) -> Value {
    if let Some(token) = next {
        out["nextToken"] = json!(token);
    }
    out
}
