//! Custom metrics (spec 2.8) and dimensions (spec 2.7): create, describe, update, delete,
//! list. Both are referenced by behaviors, so deleting one still in use is refused.
//!
//! The two are the same kind of thing (a named resource of an account's configuration,
//! one store document each, with an ARN and a per-account limit), so one generic
//! implementation of each operation serves both; the handlers give it what differs.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::error::{DetectError, DetectResult};
use crate::input::{self, epoch_seconds, opt_str, req_str};
use crate::model::{CustomMetric, Dimension, SecurityProfile};
use crate::profiles::with_token;
use crate::{AccountConfig, Caller, Detect, persist};

/// Custom metrics per account (adjustable in AWS).
pub const MAX_CUSTOM_METRICS: usize = 100;
/// Dimensions per account.
pub const MAX_DIMENSIONS: usize = 10;

fn string_values(input: &Value) -> DetectResult<Vec<String>> {
    let raw = input
        .get("stringValues")
        .filter(|v| !v.is_null())
        .ok_or_else(|| DetectError::invalid("stringValues is required."))?;
    let values: Vec<String> = input::decode("stringValues", raw)?;
    if values.is_empty() || values.len() > 100 {
        return Err(DetectError::invalid(
            "stringValues must hold 1 to 100 values.",
        ));
    }
    if values
        .iter()
        .any(|v| v.is_empty() || v.chars().count() > 256)
    {
        return Err(DetectError::invalid(
            "Each of stringValues must be 1 to 256 characters.",
        ));
    }
    Ok(values)
}

/// A named resource of an account's configuration, as the shared operations see it.
trait NamedResource: Clone + Serialize {
    /// As messages name it, starting a sentence ("Custom metric", "Dimension").
    const NOUN: &'static str;
    /// The plural in the limit message.
    const PLURAL: &'static str;
    /// Per account.
    const MAX: usize;
    /// The resource type in its ARN.
    const ARN_TYPE: &'static str;
    /// The store document kind.
    const DOC_KIND: &'static str;
    /// The members of a create answer naming it and its ARN.
    const NAME_MEMBER: &'static str;
    const ARN_MEMBER: &'static str;
    /// The member of a list answer.
    const LIST_MEMBER: &'static str;

    fn all(config: &AccountConfig) -> &BTreeMap<String, Self>;
    fn all_mut(config: &mut AccountConfig) -> &mut BTreeMap<String, Self>;
    fn client_request_token(&self) -> &str;
    fn set_last_modified(&mut self, now_ms: i64);
    /// The Describe… answer.
    fn describe(&self, arn: String) -> Value;
}

/// The trait members both structs have under the same field names; `$config` is where an
/// account's configuration keeps them.
macro_rules! same_named_members {
    ($config:ident) => {
        fn all(config: &AccountConfig) -> &BTreeMap<String, Self> {
            &config.$config
        }
        fn all_mut(config: &mut AccountConfig) -> &mut BTreeMap<String, Self> {
            &mut config.$config
        }
        fn client_request_token(&self) -> &str {
            &self.client_request_token
        }
        fn set_last_modified(&mut self, now_ms: i64) {
            self.last_modified_ms = now_ms;
        }
    };
}

impl NamedResource for CustomMetric {
    const NOUN: &'static str = "Custom metric";
    const PLURAL: &'static str = "custom metrics";
    const MAX: usize = MAX_CUSTOM_METRICS;
    const ARN_TYPE: &'static str = "custommetric";
    const DOC_KIND: &'static str = persist::CUSTOM_METRIC;
    const NAME_MEMBER: &'static str = "metricName";
    const ARN_MEMBER: &'static str = "metricArn";
    const LIST_MEMBER: &'static str = "metricNames";

    same_named_members!(custom_metrics);

    fn describe(&self, arn: String) -> Value {
        let mut out = json!({
            "metricName": self.metric_name,
            "metricArn": arn,
            "metricType": self.metric_type,
            "creationDate": epoch_seconds(self.creation_ms),
            "lastModifiedDate": epoch_seconds(self.last_modified_ms),
        });
        if let Some(d) = &self.display_name {
            out["displayName"] = json!(d);
        }
        out
    }
}

impl NamedResource for Dimension {
    const NOUN: &'static str = "Dimension";
    const PLURAL: &'static str = "dimensions";
    const MAX: usize = MAX_DIMENSIONS;
    const ARN_TYPE: &'static str = "dimension";
    const DOC_KIND: &'static str = persist::DIMENSION;
    const NAME_MEMBER: &'static str = "name";
    const ARN_MEMBER: &'static str = "arn";
    const LIST_MEMBER: &'static str = "dimensionNames";

    same_named_members!(dimensions);

    fn describe(&self, arn: String) -> Value {
        json!({
            "name": self.name,
            "arn": arn,
            "type": self.dimension_type,
            "stringValues": self.string_values,
            "creationDate": epoch_seconds(self.creation_ms),
            "lastModifiedDate": epoch_seconds(self.last_modified_ms),
        })
    }
}

fn not_found<R: NamedResource>(name: &str) -> DetectError {
    DetectError::not_found(format!("{} {name} does not exist.", R::NOUN))
}

/// The generic operations, under the configuration lock and written through to the store
/// before they answer.
impl Detect {
    fn resource_arn<R: NamedResource>(&self, account: &str, name: &str) -> String {
        self.arn(account, &format!("{}/{name}", R::ARN_TYPE))
    }

    /// Create…: `make` builds the resource at the given time. An existing one is answered
    /// as created when this is the same request again (the same non-empty token, and
    /// `same_request` says the rest matches).
    async fn create_resource<R: NamedResource>(
        &self,
        account: &str,
        name: &str,
        token: &str,
        same_request: impl Fn(&R) -> bool,
        make: impl FnOnce(i64) -> R,
    ) -> DetectResult<Value> {
        let arn = self.resource_arn::<R>(account, name);
        let (name_member, arn_member) = (R::NAME_MEMBER, R::ARN_MEMBER);
        let mut configs = self.config.lock().await;
        let config = configs.entry(account.to_string()).or_default();
        if let Some(existing) = R::all(config).get(name) {
            // The same request again (same token) is answered as the first time.
            if !token.is_empty()
                && existing.client_request_token() == token
                && same_request(existing)
            {
                return Ok(json!({name_member: name, arn_member: arn}));
            }
            return Err(DetectError::ResourceAlreadyExists {
                message: format!("{} {name} already exists.", R::NOUN),
                resource_id: name.to_string(),
                resource_arn: arn,
            });
        }
        if R::all(config).len() >= R::MAX {
            return Err(DetectError::LimitExceeded(format!(
                "An account can have at most {} {}.",
                R::MAX,
                R::PLURAL
            )));
        }
        let now = self.now();
        let resource = make(now);
        self.store
            .write_documents(&[persist::put(account, R::DOC_KIND, name, &resource, now)])
            .await?;
        R::all_mut(config).insert(name.to_string(), resource);
        Ok(json!({name_member: name, arn_member: arn}))
    }

    async fn describe_resource<R: NamedResource>(
        &self,
        caller: &Caller,
        name: &str,
    ) -> DetectResult<Value> {
        let configs = self.config.lock().await;
        let r = configs
            .get(&caller.account_id)
            .and_then(|c| R::all(c).get(name))
            .ok_or_else(|| not_found::<R>(name))?;
        Ok(r.describe(self.resource_arn::<R>(&caller.account_id, name)))
    }

    /// Update…: `change` applies the update, `then` follows up on the changed
    /// configuration (under the same lock). Answers as Describe… would.
    async fn update_resource<R: NamedResource>(
        &self,
        account: &str,
        name: &str,
        change: impl FnOnce(&mut R),
        then: impl FnOnce(&AccountConfig),
    ) -> DetectResult<Value> {
        let mut configs = self.config.lock().await;
        let config = configs.entry(account.to_string()).or_default();
        let mut r = R::all(config)
            .get(name)
            .cloned()
            .ok_or_else(|| not_found::<R>(name))?;
        let now = self.now();
        change(&mut r);
        r.set_last_modified(now);
        self.store
            .write_documents(&[persist::put(account, R::DOC_KIND, name, &r, now)])
            .await?;
        let out = r.describe(self.resource_arn::<R>(account, name));
        R::all_mut(config).insert(name.to_string(), r);
        then(config);
        Ok(out)
    }

    /// Delete…: refused while a security profile `uses` it; deleting what does not exist
    /// succeeds.
    async fn delete_resource<R: NamedResource>(
        &self,
        account: &str,
        name: &str,
        uses: impl Fn(&SecurityProfile) -> bool,
    ) -> DetectResult<Value> {
        let mut configs = self.config.lock().await;
        let config = configs.entry(account.to_string()).or_default();
        if let Some(p) = config.profiles.values().find(|p| uses(p)) {
            return Err(DetectError::invalid(format!(
                "{} {name} is used by security profile {}; remove it there first.",
                R::NOUN,
                p.name
            )));
        }
        if R::all_mut(config).remove(name).is_some() {
            self.store
                .write_documents(&[persist::delete(account, R::DOC_KIND, name)])
                .await?;
        }
        Ok(json!({}))
    }

    async fn list_resources<R: NamedResource>(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let limit = input::max_results(input, 250, 25)?;
        let after = input::decode_token(input)?;
        let configs = self.config.lock().await;
        let items: Vec<(String, String)> = configs
            .get(&caller.account_id)
            .map(|c| R::all(c).keys().map(|k| (k.clone(), k.clone())).collect())
            .unwrap_or_default();
        let (page, next) = input::page(&items, after.as_deref(), limit);
        let member = R::LIST_MEMBER;
        Ok(with_token(json!({ member: page }), next))
    }
}

impl Detect {
    pub async fn handle_create_custom_metric(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let account = &caller.account_id;
        let name = req_str(input, "metricName")?;
        input::check_name("metricName", name)?;
        if name.starts_with("aws:") {
            return Err(DetectError::invalid(
                "Custom metric names cannot start with aws:.",
            ));
        }
        let metric_type = req_str(input, "metricType")?;
        if crate::catalog::Kind::of_custom_type(metric_type).is_none() {
            return Err(DetectError::invalid(format!(
                "metricType {metric_type} is not one of string-list, ip-address-list, number-list, number."
            )));
        }
        let display = opt_str(input, "displayName")?;
        if display.is_some_and(|d| d.chars().count() > 128) {
            return Err(DetectError::invalid(
                "displayName must be at most 128 characters.",
            ));
        }
        let token = opt_str(input, "clientRequestToken")?.unwrap_or("");
        if !token.is_empty() {
            input::check_token(token)?;
        }
        self.create_resource(
            account,
            name,
            token,
            |existing: &CustomMetric| existing.metric_type == metric_type,
            |now| CustomMetric {
                metric_name: name.to_string(),
                metric_type: metric_type.to_string(),
                display_name: display.map(str::to_string),
                client_request_token: token.to_string(),
                creation_ms: now,
                last_modified_ms: now,
            },
        )
        .await
    }

    pub async fn handle_describe_custom_metric(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let name = req_str(input, "metricName")?;
        self.describe_resource::<CustomMetric>(caller, name).await
    }

    pub async fn handle_update_custom_metric(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let name = req_str(input, "metricName")?;
        let display = req_str(input, "displayName")?;
        if display.chars().count() > 128 {
            return Err(DetectError::invalid(
                "displayName must be at most 128 characters.",
            ));
        }
        self.update_resource(
            &caller.account_id,
            name,
            |m: &mut CustomMetric| m.display_name = Some(display.to_string()),
            |_| {},
        )
        .await
    }

    pub async fn handle_delete_custom_metric(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let name = req_str(input, "metricName")?;
        self.delete_resource::<CustomMetric>(&caller.account_id, name, |p| {
            p.behaviors
                .iter()
                .any(|b| b.metric.as_deref() == Some(name))
                || p.additional_metrics_to_retain_v2
                    .iter()
                    .flatten()
                    .any(|r| r.metric == name)
        })
        .await
    }

    pub async fn handle_list_custom_metrics(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        self.list_resources::<CustomMetric>(caller, input).await
    }

    pub async fn handle_create_dimension(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let account = &caller.account_id;
        let name = req_str(input, "name")?;
        input::check_name("name", name)?;
        let dimension_type = req_str(input, "type")?;
        if dimension_type != "TOPIC_FILTER" {
            return Err(DetectError::invalid("type must be TOPIC_FILTER."));
        }
        let values = string_values(input)?;
        let token = opt_str(input, "clientRequestToken")?.unwrap_or("");
        if !token.is_empty() {
            input::check_token(token)?;
        }
        self.create_resource(
            account,
            name,
            token,
            |existing: &Dimension| existing.string_values == values,
            |now| Dimension {
                name: name.to_string(),
                dimension_type: dimension_type.to_string(),
                string_values: values.clone(),
                client_request_token: token.to_string(),
                creation_ms: now,
                last_modified_ms: now,
            },
        )
        .await
    }

    pub async fn handle_describe_dimension(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let name = req_str(input, "name")?;
        self.describe_resource::<Dimension>(caller, name).await
    }

    pub async fn handle_update_dimension(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let account = &caller.account_id;
        let name = req_str(input, "name")?;
        let values = string_values(input)?;
        self.update_resource(
            account,
            name,
            |d: &mut Dimension| d.string_values = values,
            // Behaviors using it now filter with the new values.
            |config| self.recompile(account, config),
        )
        .await
    }

    pub async fn handle_delete_dimension(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let name = req_str(input, "name")?;
        let uses = |d: &Option<crate::model::MetricDimension>| {
            d.as_ref().is_some_and(|d| d.dimension_name == name)
        };
        self.delete_resource::<Dimension>(&caller.account_id, name, |p| {
            p.behaviors.iter().any(|b| uses(&b.metric_dimension))
                || p.additional_metrics_to_retain_v2
                    .iter()
                    .flatten()
                    .any(|r| uses(&r.metric_dimension))
        })
        .await
    }

    pub async fn handle_list_dimensions(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        self.list_resources::<Dimension>(caller, input).await
    }
}
