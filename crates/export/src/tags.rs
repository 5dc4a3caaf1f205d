//! TagDeliveryStream, UntagDeliveryStream, ListTagsForDeliveryStream: at most 50 tags per
//! stream, keys 1–128 characters not starting with `aws:`, values up to 256.

use fleetward_model::Caller;
use serde_json::{Value, json};

use crate::config::fields::Fields;
use crate::error::{ExportError, ExportResult};
use crate::service::Export;

const MAX_TAGS: usize = 50;

fn allowed(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@%".contains(c)
}

fn check_key(key: &str) -> ExportResult<()> {
    let len = key.chars().count();
    if !(1..=128).contains(&len) || key.starts_with("aws:") || !key.chars().all(allowed) {
        return Err(ExportError::invalid(format!(
            "1 validation error detected: Value '{key}' at 'tags.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?!aws:)[\\p{{L}}\\p{{Z}}\\p{{N}}_.:\\/=+\\-@%]*$ and have length 1 to 128"
        )));
    }
    Ok(())
}

fn check_value(value: &str) -> ExportResult<()> {
    if value.chars().count() > 256 || !value.chars().all(allowed) {
        return Err(ExportError::invalid(format!(
            "1 validation error detected: Value '{value}' at 'tags.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[\\p{{L}}\\p{{Z}}\\p{{N}}_.:\\/=+\\-@%]*$ and have length at most 256"
        )));
    }
    Ok(())
}

/// The tag list member `name` (`min` entries at least), validated, sorted, last value wins.
pub fn read_tags(f: &Fields<'_>, name: &str, min: usize) -> ExportResult<Vec<(String, String)>> {
    let mut tags: Vec<(String, String)> = Vec::new();
    for tag in f.list(name, min, MAX_TAGS)? {
        let key = tag.required_string("Key")?;
        let value = tag.string("Value")?.unwrap_or("");
        check_key(key)?;
        check_value(value)?;
        tags.retain(|(k, _)| k != key);
        tags.push((key.to_string(), value.to_string()));
    }
    tags.sort();
    Ok(tags)
}

impl Export {
    pub async fn handle_tag_delivery_stream(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> ExportResult<Value> {
        let f = Fields::root(input)?;
        let name = f.required_string("DeliveryStreamName")?;
        if !f.has("Tags") {
            return Err(f.missing("Tags"));
        }
        let new = read_tags(&f, "Tags", 1)?;
        let _guard = self.lock().await;
        let stream = self.get(&caller.account_id, name)?;
        let mut doc = stream.snapshot();
        for (k, v) in new {
            doc.tags.retain(|(key, _)| *key != k);
            doc.tags.push((k, v));
        }
        if doc.tags.len() > MAX_TAGS {
            return Err(ExportError::LimitExceeded(format!(
                "A delivery stream can have at most {MAX_TAGS} tags."
            )));
        }
        doc.tags.sort();
        self.save(&caller.account_id, &doc).await?;
        stream.set(doc);
        Ok(json!({}))
    }

    pub async fn handle_untag_delivery_stream(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> ExportResult<Value> {
        let f = Fields::root(input)?;
        let name = f.required_string("DeliveryStreamName")?;
        if !f.has("TagKeys") {
            return Err(f.missing("TagKeys"));
        }
        let keys = f.string_list("TagKeys", 1, MAX_TAGS)?;
        for key in &keys {
            check_key(key)?;
        }
        let _guard = self.lock().await;
        let stream = self.get(&caller.account_id, name)?;
        let mut doc = stream.snapshot();
        doc.tags.retain(|(k, _)| !keys.contains(&k.as_str()));
        self.save(&caller.account_id, &doc).await?;
        stream.set(doc);
        Ok(json!({}))
    }

    pub async fn handle_list_tags_for_delivery_stream(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> ExportResult<Value> {
        let f = Fields::root(input)?;
        let name = f.required_string("DeliveryStreamName")?;
        let after = f.bounded_string("ExclusiveStartTagKey", 1, 128)?;
        let limit = f.int("Limit", 1, 50)?.unwrap_or(50) as usize;
        let doc = self.get(&caller.account_id, name)?.snapshot();
        let rest: Vec<&(String, String)> = doc
            .tags
            .iter()
            .filter(|(k, _)| after.is_none_or(|a| k.as_str() > a))
            .collect();
        let tags: Vec<Value> = rest
            .iter()
            .take(limit)
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect();
        Ok(json!({"Tags": tags, "HasMoreTags": rest.len() > limit}))
    }
}
