//! EnableSecurityHub, DisableSecurityHub, DescribeHub, UpdateSecurityHubConfiguration.
//!
//! Disabling keeps findings, insights and action targets (AWS retains them for its retention
//! window); enabling again brings them back.

use serde_json::{Value, json};

use crate::error::{HubError, HubResult};
use crate::input::{optional_bool, optional_str, optional_str_map, validate_tags};
use crate::settings::{HUB_KEY, HubState, KIND_HUB, document};
use crate::{Caller, Hub};

const GENERATORS: [&str; 2] = ["STANDARD_CONTROL", "SECURITY_CONTROL"];

impl Hub {
    pub async fn handle_enable_security_hub(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        let generator = control_finding_generator(input)?.unwrap_or("SECURITY_CONTROL");
        optional_bool(input, "EnableDefaultStandards")?;
        let tags = optional_str_map(input, "Tags")?;
        if let Some(tags) = &tags {
            validate_tags(tags)?;
        }
        self.enable_hub(&caller.account_id, generator).await?;
        if let Some(tags) = tags {
            let hub_arn = self.arn(&caller.account_id, "hub/default");
            self.merge_tags(&caller.account_id, &hub_arn, &tags).await?;
        }
        Ok(json!({}))
    }

    /// Enables the hub for an account (used by EnableSecurityHub and on first start).
    pub async fn enable_hub(&self, account_id: &str, generator: &str) -> HubResult<()> {
        let _guard = self.settings.write_lock.lock().await;
        let mut settings = (*self.settings.get(account_id).await?).clone();
        if settings.hub.is_some() {
            return Err(HubError::ResourceConflict(
                "Account is already subscribed to Security Hub".into(),
            ));
        }
        let state = HubState {
            hub_arn: self.arn(account_id, "hub/default"),
            subscribed_at_ms: self.clock.now_ms(),
            auto_enable_controls: true,
            control_finding_generator: generator.to_string(),
        };
        self.save_hub_state(account_id, &state).await?;
        settings.hub = Some(state);
        self.settings.replace(account_id, settings);
        Ok(())
    }

    /// Whether the account has the hub enabled.
    pub async fn is_enabled(&self, account_id: &str) -> HubResult<bool> {
        Ok(self.settings.get(account_id).await?.hub.is_some())
    }

    pub async fn handle_disable_security_hub(&self, caller: &Caller) -> HubResult<Value> {
        let _guard = self.settings.write_lock.lock().await;
        let mut settings = (*self.settings.get(&caller.account_id).await?).clone();
        if settings.hub.is_none() {
            return Err(HubError::not_subscribed(&caller.account_id));
        }
        self.settings
            .store()
            .delete_document(&caller.account_id, KIND_HUB, HUB_KEY)
            .await?;
        settings.hub = None;
        self.settings.replace(&caller.account_id, settings);
        Ok(json!({}))
    }

    pub async fn handle_describe_hub(&self, caller: &Caller, input: &Value) -> HubResult<Value> {
        let settings = self.require_enabled(caller).await?;
        let Some(hub) = &settings.hub else {
            return Err(HubError::not_subscribed(&caller.account_id));
        };
        if let Some(arn) = optional_str(input, "HubArn")?
            && arn != hub.hub_arn
        {
            return Err(HubError::ResourceNotFound(format!(
                "The request was rejected because no hub was found with ARN {arn}."
            )));
        }
        Ok(json!({
            "HubArn": hub.hub_arn,
            "SubscribedAt": fleetward_model::timestamp::format_ms(hub.subscribed_at_ms),
            "AutoEnableControls": hub.auto_enable_controls,
            "ControlFindingGenerator": hub.control_finding_generator,
        }))
    }

    pub async fn handle_update_security_hub_configuration(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        let auto_enable = optional_bool(input, "AutoEnableControls")?;
        let generator = control_finding_generator(input)?;
        let _guard = self.settings.write_lock.lock().await;
        let mut settings = (*self.require_enabled(caller).await?).clone();
        let Some(hub) = settings.hub.as_mut() else {
            return Err(HubError::not_subscribed(&caller.account_id));
        };
        if let Some(auto_enable) = auto_enable {
            hub.auto_enable_controls = auto_enable;
        }
        if let Some(generator) = generator {
            hub.control_finding_generator = generator.to_string();
        }
        let state = hub.clone();
        self.save_hub_state(&caller.account_id, &state).await?;
        self.settings.replace(&caller.account_id, settings);
        Ok(json!({}))
    }

    async fn save_hub_state(&self, account_id: &str, state: &HubState) -> HubResult<()> {
        let body = serde_json::to_string(state).map_err(|e| HubError::Internal(e.to_string()))?;
        let doc = document(account_id, KIND_HUB, HUB_KEY, body, self.clock.now_ms());
        self.settings.store().put_document(&doc).await?;
        Ok(())
    }
}

fn control_finding_generator(input: &Value) -> HubResult<Option<&str>> {
    match optional_str(input, "ControlFindingGenerator")? {
        Some(g) if !GENERATORS.contains(&g) => Err(HubError::InvalidInput(format!(
            "ControlFindingGenerator must be one of {GENERATORS:?}."
        ))),
        other => Ok(other),
    }
}
