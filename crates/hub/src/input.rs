//! Reading members of an operation's input document, with errors in the AWS shape.

use serde_json::{Map, Value};

use crate::error::{HubError, HubResult};

/// A required, non-blank string member.
pub fn required_str<'a>(input: &'a Value, member: &str) -> HubResult<&'a str> {
    optional_str(input, member)?
        .ok_or_else(|| HubError::InvalidInput(format!("{member} is required.")))
}

/// An optional string member; present but blank or not a string is an error.
pub fn optional_str<'a>(input: &'a Value, member: &str) -> HubResult<Option<&'a str>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s)),
        Some(Value::String(_)) => Err(HubError::InvalidInput(format!(
            "{member} must contain a non-whitespace character."
        ))),
        Some(_) => Err(HubError::InvalidInput(format!(
            "{member} must be a string."
        ))),
    }
}

pub fn optional_bool(input: &Value, member: &str) -> HubResult<Option<bool>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(HubError::InvalidInput(format!(
            "{member} must be a boolean."
        ))),
    }
}

/// An optional integer member within `[min, max]`.
pub fn optional_int(input: &Value, member: &str, min: i64, max: i64) -> HubResult<Option<i64>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(HubError::InvalidInput(format!(
                "{member} must be an integer between {min} and {max}."
            ))),
        },
    }
}

/// `MaxResults` (1–100) with the default page size.
pub fn max_results(input: &Value, default: usize) -> HubResult<usize> {
    Ok(optional_int(input, "MaxResults", 1, 100)?.map_or(default, |n| n as usize))
}

/// An optional list of strings.
pub fn optional_str_list(input: &Value, member: &str) -> HubResult<Option<Vec<String>>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    HubError::InvalidInput(format!("{member} must be a list of strings."))
                })
            })
            .collect::<HubResult<Vec<_>>>()
            .map(Some),
        Some(_) => Err(HubError::InvalidInput(format!("{member} must be a list."))),
    }
}

/// An optional string-to-string map.
pub fn optional_str_map(input: &Value, member: &str) -> HubResult<Option<Map<String, Value>>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) if map.values().all(Value::is_string) => Ok(Some(map.clone())),
        Some(_) => Err(HubError::InvalidInput(format!(
            "{member} must be a map of strings to strings."
        ))),
    }
}

/// Tags: 1–50 pairs, keys 1–128 characters not starting with `aws:`, values ≤ 256.
pub fn validate_tags(tags: &Map<String, Value>) -> HubResult<()> {
    if tags.is_empty() || tags.len() > 50 {
        return Err(HubError::InvalidInput(
            "Tags must contain between 1 and 50 tags.".into(),
        ));
    }
    for (key, value) in tags {
        let value = value.as_str().unwrap_or_default();
        if key.is_empty() || key.chars().count() > 128 || key.starts_with("aws:") {
            return Err(HubError::InvalidInput(format!(
                "Tag key '{key}' must be 1-128 characters and must not start with 'aws:'."
            )));
        }
        if value.chars().count() > 256 {
            return Err(HubError::InvalidInput(format!(
                "The value of tag '{key}' must be at most 256 characters."
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_must_be_present_and_non_blank() {
        let input = json!({"A": "x", "B": " ", "C": 1});
        assert_eq!(required_str(&input, "A").unwrap(), "x");
        assert!(required_str(&input, "B").is_err());
        assert!(required_str(&input, "C").is_err());
        assert!(required_str(&input, "D").is_err());
        assert_eq!(optional_str(&input, "D").unwrap(), None);
    }

    #[test]
    fn max_results_is_bounded() {
        assert_eq!(max_results(&json!({}), 100).unwrap(), 100);
        assert_eq!(max_results(&json!({"MaxResults": 7}), 100).unwrap(), 7);
        assert!(max_results(&json!({"MaxResults": 0}), 100).is_err());
        assert!(max_results(&json!({"MaxResults": 101}), 100).is_err());
    }

    #[test]
    fn tags_are_limited() {
        let ok = json!({"team": "sec"});
        assert!(validate_tags(ok.as_object().unwrap()).is_ok());
        let reserved = json!({"aws:x": "y"});
        assert!(validate_tags(reserved.as_object().unwrap()).is_err());
        let empty = json!({});
        assert!(validate_tags(empty.as_object().unwrap()).is_err());
    }
}
