//! Custom metrics (spec 2.8) and dimensions (spec 2.7): create, describe, update, delete,
//! list. Both are referenced by behaviors, so deleting one still in use is refused.

use serde_json::{Value, json};

use crate::error::{DetectError, DetectResult};
use crate::input::{self, epoch_seconds, opt_str, req_str};
use crate::model::{CustomMetric, Dimension};
use crate::profiles::with_token;
use crate::{Caller, Detect, persist};

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

impl Detect {
    fn describe_metric(&self, account: &str, m: &CustomMetric) -> Value {
        let mut out = json!({
            "metricName": m.metric_name,
            "metricArn": self.arn(account, &format!("custommetric/{}", m.metric_name)),
            "metricType": m.metric_type,
            "creationDate": epoch_seconds(m.creation_ms),
            "lastModifiedDate": epoch_seconds(m.last_modified_ms),
        });
        if let Some(d) = &m.display_name {
            out["displayName"] = json!(d);
        }
        out
    }

    fn describe_dimension(&self, account: &str, d: &Dimension) -> Value {
        json!({
            "name": d.name,
            "arn": self.arn(account, &format!("dimension/{}", d.name)),
            "type": d.dimension_type,
            "stringValues": d.string_values,
            "creationDate": epoch_seconds(d.creation_ms),
            "lastModifiedDate": epoch_seconds(d.last_modified_ms),
        })
    }

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
        let arn = self.arn(account, &format!("custommetric/{name}"));
        let mut configs = self.config.lock().await;
        let config = configs.entry(account.clone()).or_default();
        if let Some(existing) = config.custom_metrics.get(name) {
            // The same request again (same token) is answered as the first time.
            if !token.is_empty()
                && existing.client_request_token == token
                && existing.metric_type == metric_type
            {
                return Ok(json!({"metricName": name, "metricArn": arn}));
            }
            return Err(DetectError::ResourceAlreadyExists {
                message: format!("Custom metric {name} already exists."),
                resource_id: name.to_string(),
                resource_arn: arn,
            });
        }
        if config.custom_metrics.len() >= MAX_CUSTOM_METRICS {
            return Err(DetectError::LimitExceeded(format!(
                "An account can have at most {MAX_CUSTOM_METRICS} custom metrics."
            )));
        }
        let now = self.now();
        let metric = CustomMetric {
            metric_name: name.to_string(),
            metric_type: metric_type.to_string(),
            display_name: display.map(str::to_string),
            client_request_token: token.to_string(),
            creation_ms: now,
            last_modified_ms: now,
        };
        self.store
            .write_documents(&[persist::put(
                account,
                persist::CUSTOM_METRIC,
                name,
                &metric,
                now,
            )])
            .await?;
        config.custom_metrics.insert(name.to_string(), metric);
        Ok(json!({"metricName": name, "metricArn": arn}))
    }

    pub async fn handle_describe_custom_metric(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let name = req_str(input, "metricName")?;
        let configs = self.config.lock().await;
        let m = configs
            .get(&caller.account_id)
            .and_then(|c| c.custom_metrics.get(name))
            .ok_or_else(|| {
                DetectError::not_found(format!("Custom metric {name} does not exist."))
            })?;
        Ok(self.describe_metric(&caller.account_id, m))
    }

    pub async fn handle_update_custom_metric(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let account = &caller.account_id;
        let name = req_str(input, "metricName")?;
        let display = req_str(input, "displayName")?;
        if display.chars().count() > 128 {
            return Err(DetectError::invalid(
                "displayName must be at most 128 characters.",
            ));
        }
        let mut configs = self.config.lock().await;
        let config = configs.entry(account.clone()).or_default();
        let mut m = config.custom_metrics.get(name).cloned().ok_or_else(|| {
            DetectError::not_found(format!("Custom metric {name} does not exist."))
        })?;
        let now = self.now();
        m.display_name = Some(display.to_string());
        m.last_modified_ms = now;
        self.store
            .write_documents(&[persist::put(account, persist::CUSTOM_METRIC, name, &m, now)])
            .await?;
        let out = self.describe_metric(account, &m);
        config.custom_metrics.insert(name.to_string(), m);
        Ok(out)
    }

    pub async fn handle_delete_custom_metric(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let account = &caller.account_id;
        let name = req_str(input, "metricName")?;
        let mut configs = self.config.lock().await;
        let config = configs.entry(account.clone()).or_default();
        if let Some(p) = config.profiles.values().find(|p| {
            p.behaviors
                .iter()
                .any(|b| b.metric.as_deref() == Some(name))
                || p.additional_metrics_to_retain_v2
                    .iter()
                    .flatten()
                    .any(|r| r.metric == name)
        }) {
            return Err(DetectError::invalid(format!(
                "Custom metric {name} is used by security profile {}; remove it there first.",
                p.name
            )));
        }
        if config.custom_metrics.remove(name).is_some() {
            self.store
                .write_documents(&[persist::delete(account, persist::CUSTOM_METRIC, name)])
                .await?;
        }
        Ok(json!({}))
    }

    pub async fn handle_list_custom_metrics(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let limit = input::max_results(input, 250, 25)?;
        let after = input::decode_token(input)?;
        let configs = self.config.lock().await;
        let items: Vec<(String, String)> = configs
            .get(&caller.account_id)
            .map(|c| {
                c.custom_metrics
                    .keys()
                    .map(|k| (k.clone(), k.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let (page, next) = input::page(&items, after.as_deref(), limit);
        Ok(with_token(json!({"metricNames": page}), next))
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
        let arn = self.arn(account, &format!("dimension/{name}"));
        let mut configs = self.config.lock().await;
        let config = configs.entry(account.clone()).or_default();
        if let Some(existing) = config.dimensions.get(name) {
            if !token.is_empty()
                && existing.client_request_token == token
                && existing.string_values == values
            {
                return Ok(json!({"name": name, "arn": arn}));
            }
            return Err(DetectError::ResourceAlreadyExists {
                message: format!("Dimension {name} already exists."),
                resource_id: name.to_string(),
                resource_arn: arn,
            });
        }
        if config.dimensions.len() >= MAX_DIMENSIONS {
            return Err(DetectError::LimitExceeded(format!(
                "An account can have at most {MAX_DIMENSIONS} dimensions."
            )));
        }
        let now = self.now();
        let d = Dimension {
            name: name.to_string(),
            dimension_type: dimension_type.to_string(),
            string_values: values,
            client_request_token: token.to_string(),
            creation_ms: now,
            last_modified_ms: now,
        };
        self.store
            .write_documents(&[persist::put(account, persist::DIMENSION, name, &d, now)])
            .await?;
        config.dimensions.insert(name.to_string(), d);
        Ok(json!({"name": name, "arn": arn}))
    }

    pub async fn handle_describe_dimension(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let name = req_str(input, "name")?;
        let configs = self.config.lock().await;
        let d = configs
            .get(&caller.account_id)
            .and_then(|c| c.dimensions.get(name))
            .ok_or_else(|| DetectError::not_found(format!("Dimension {name} does not exist.")))?;
        Ok(self.describe_dimension(&caller.account_id, d))
    }

    pub async fn handle_update_dimension(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let account = &caller.account_id;
        let name = req_str(input, "name")?;
        let values = string_values(input)?;
        let mut configs = self.config.lock().await;
        let config = configs.entry(account.clone()).or_default();
        let mut d =
            config.dimensions.get(name).cloned().ok_or_else(|| {
                DetectError::not_found(format!("Dimension {name} does not exist."))
            })?;
        let now = self.now();
        d.string_values = values;
        d.last_modified_ms = now;
        self.store
            .write_documents(&[persist::put(account, persist::DIMENSION, name, &d, now)])
            .await?;
        let out = self.describe_dimension(account, &d);
        config.dimensions.insert(name.to_string(), d);
        // Behaviors using it now filter with the new values.
        self.recompile(account, config);
        Ok(out)
    }

    pub async fn handle_delete_dimension(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let account = &caller.account_id;
        let name = req_str(input, "name")?;
        let mut configs = self.config.lock().await;
        let config = configs.entry(account.clone()).or_default();
        let uses = |d: &Option<crate::model::MetricDimension>| {
            d.as_ref().is_some_and(|d| d.dimension_name == name)
        };
        if let Some(p) = config.profiles.values().find(|p| {
            p.behaviors.iter().any(|b| uses(&b.metric_dimension))
                || p.additional_metrics_to_retain_v2
                    .iter()
                    .flatten()
                    .any(|r| uses(&r.metric_dimension))
        }) {
            return Err(DetectError::invalid(format!(
                "Dimension {name} is used by security profile {}; remove it there first.",
                p.name
            )));
        }
        if config.dimensions.remove(name).is_some() {
            self.store
                .write_documents(&[persist::delete(account, persist::DIMENSION, name)])
                .await?;
        }
        Ok(json!({}))
    }

    pub async fn handle_list_dimensions(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> DetectResult<Value> {
        let limit = input::max_results(input, 250, 25)?;
        let after = input::decode_token(input)?;
        let configs = self.config.lock().await;
        let items: Vec<(String, String)> = configs
            .get(&caller.account_id)
            .map(|c| {
                c.dimensions
                    .keys()
                    .map(|k| (k.clone(), k.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let (page, next) = input::page(&items, after.as_deref(), limit);
        Ok(with_token(json!({"dimensionNames": page}), next))
    }
}
