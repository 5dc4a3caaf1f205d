//! TagResource, UntagResource, ListTagsForResource on the hub and its automation rules.

use serde_json::{Map, Value, json};

use crate::error::{HubError, HubResult};
use crate::input::{optional_str_list, optional_str_map, required_str, validate_tags};
use crate::settings::document;
use crate::{Caller, Hub};

const KIND_TAGS: &str = "securityhub.tags";
const MAX_TAGS: usize = 50;

impl Hub {
    /// Tags can be put on the account's hub and on its automation rules.
    async fn check_taggable(&self, caller: &Caller, arn: &str) -> HubResult<()> {
        if !arn.starts_with("arn:aws:securityhub:") {
            return Err(HubError::InvalidInput(format!(
                "ResourceArn {arn} is not a Security Hub ARN."
            )));
        }
        let settings = self.settings.get(&caller.account_id).await?;
        let is_hub = settings.hub.as_ref().is_some_and(|h| h.hub_arn == arn);
        let is_rule = settings.rules.iter().any(|r| r.arn == arn);
        if is_hub || is_rule {
            Ok(())
        } else {
            Err(HubError::ResourceNotFound(format!(
                "Resource {arn} was not found."
            )))
        }
    }

    async fn tags_of(&self, account_id: &str, arn: &str) -> HubResult<Map<String, Value>> {
        Ok(self
            .store
            .get_document(account_id, KIND_TAGS, arn)
            .await?
            .and_then(|doc| serde_json::from_str(&doc.body).ok())
            .unwrap_or_default())
    }

    /// Adds `tags` to the resource's tags (a key given again gets the new value).
    pub(crate) async fn merge_tags(
        &self,
        account_id: &str,
        arn: &str,
        tags: &Map<String, Value>,
    ) -> HubResult<()> {
        let mut current = self.tags_of(account_id, arn).await?;
        current.extend(tags.clone());
        if current.len() > MAX_TAGS {
            return Err(HubError::InvalidInput(format!(
                "A resource can have at most {MAX_TAGS} tags."
            )));
        }
        let body = Value::Object(current).to_string();
        let doc = document(account_id, KIND_TAGS, arn, body, self.clock.now_ms());
        self.store.put_document(&doc).await?;
        Ok(())
    }

    pub(crate) async fn delete_tags(&self, account_id: &str, arn: &str) -> HubResult<()> {
        self.store
            .delete_document(account_id, KIND_TAGS, arn)
            .await?;
        Ok(())
    }

    pub async fn handle_tag_resource(&self, caller: &Caller, input: &Value) -> HubResult<Value> {
        let arn = required_str(input, "ResourceArn")?;
        let tags = optional_str_map(input, "Tags")?
            .ok_or_else(|| HubError::InvalidInput("Tags is required.".into()))?;
        validate_tags(&tags)?;
        self.check_taggable(caller, arn).await?;
        let _guard = self.settings.write_lock.lock().await;
        self.merge_tags(&caller.account_id, arn, &tags).await?;
        Ok(json!({}))
    }

    pub async fn handle_untag_resource(&self, caller: &Caller, input: &Value) -> HubResult<Value> {
        let arn = required_str(input, "ResourceArn")?;
        let keys = optional_str_list(input, "TagKeys")?.unwrap_or_default();
        if keys.is_empty() || keys.len() > MAX_TAGS {
            return Err(HubError::InvalidInput(format!(
                "TagKeys must contain between 1 and {MAX_TAGS} keys."
            )));
        }
        self.check_taggable(caller, arn).await?;
        let _guard = self.settings.write_lock.lock().await;
        let mut current = self.tags_of(&caller.account_id, arn).await?;
        for key in &keys {
            current.remove(key);
        }
        let doc = document(
            &caller.account_id,
            KIND_TAGS,
            arn,
            Value::Object(current).to_string(),
            self.clock.now_ms(),
        );
        self.store.put_document(&doc).await?;
        Ok(json!({}))
    }

    pub async fn handle_list_tags_for_resource(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        let arn = required_str(input, "ResourceArn")?;
        self.check_taggable(caller, arn).await?;
        let tags = self.tags_of(&caller.account_id, arn).await?;
        Ok(json!({ "Tags": tags }))
    }
}
