//! Reading operation inputs: members, patterns and limits of the botocore shapes, answered
//! with InvalidRequestException (the `iot` model's validation error).

use serde_json::Value;

use crate::error::{MitigateResult, invalid};

pub fn opt_str<'a>(input: &'a Value, member: &str) -> MitigateResult<Option<&'a str>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(format!("{member} must be a string."))),
    }
}

pub fn req_str<'a>(input: &'a Value, member: &str) -> MitigateResult<&'a str> {
    opt_str(input, member)?.ok_or_else(|| invalid(format!("{member} is required.")))
}

pub fn opt_bool(input: &Value, member: &str) -> MitigateResult<Option<bool>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
        Some(_) => Err(invalid(format!("{member} must be a boolean."))),
    }
}

/// `maxResults`: 1–250, default 25 (spec 0).
pub fn max_results(input: &Value) -> MitigateResult<usize> {
    match input.get("maxResults") {
        None | Some(Value::Null) => Ok(25),
        Some(v) => match v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        {
            Some(n @ 1..=250) => Ok(n as usize),
            _ => Err(invalid("maxResults must be between 1 and 250.")),
        },
    }
}

/// A name of `[a-zA-Z0-9_-]+` (or `[a-zA-Z0-9:_-]+` with `colon`), 1 to `max` characters.
pub fn check_name(member: &str, value: &str, max: usize, colon: bool) -> MitigateResult<()> {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-' || (colon && c == ':');
    if value.is_empty() || value.len() > max || !value.chars().all(ok) {
        return Err(invalid(format!(
            "{member} '{}' is not valid: it must be 1 to {max} characters of {}.",
            value.chars().take(140).collect::<String>(),
            if colon {
                "[a-zA-Z0-9:_-]"
            } else {
                "[a-zA-Z0-9_-]"
            }
        )));
    }
    Ok(())
}

/// A list of strings, `min` to `max` long.
pub fn str_list<'a>(
    value: &'a Value,
    member: &str,
    min: usize,
    max: usize,
) -> MitigateResult<Vec<&'a str>> {
    let items = value
        .as_array()
        .ok_or_else(|| invalid(format!("{member} must be a list of strings.")))?;
    if items.len() < min || items.len() > max {
        return Err(invalid(format!(
            "{member} must have {min} to {max} members."
        )));
    }
    items
        .iter()
        .map(|v| {
            v.as_str()
                .ok_or_else(|| invalid(format!("{member} must be a list of strings.")))
        })
        .collect()
}

/// A timestamp member: epoch seconds (JSON number or numeric string) or ISO-8601 text, as
/// botocore sends them in bodies and query strings. Returns epoch milliseconds.
pub fn opt_timestamp(input: &Value, member: &str) -> MitigateResult<Option<i64>> {
    let bad = || invalid(format!("{member} is not a valid timestamp."));
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => seconds_to_ms(n.as_f64().ok_or_else(bad)?)
            .map(Some)
            .ok_or_else(bad),
        Some(Value::String(s)) => {
            if let Ok(secs) = s.trim().parse::<f64>() {
                return seconds_to_ms(secs).map(Some).ok_or_else(bad);
            }
            fleetward_model::timestamp::parse_rfc3339_ms(s.trim())
                .map(Some)
                .ok_or_else(bad)
        }
        Some(_) => Err(bad()),
    }
}

pub fn req_timestamp(input: &Value, member: &str) -> MitigateResult<i64> {
    opt_timestamp(input, member)?.ok_or_else(|| invalid(format!("{member} is required.")))
}

fn seconds_to_ms(secs: f64) -> Option<i64> {
    (secs.is_finite() && (0.0..=32_503_680_000.0).contains(&secs))
        .then(|| (secs * 1000.0).round() as i64)
}

/// `clientRequestToken`: `^[a-zA-Z0-9-_]+$`, 1–64 (SDKs generate one when omitted).
pub fn client_request_token(input: &Value) -> MitigateResult<String> {
    let token = req_str(input, "clientRequestToken")?;
    check_name("clientRequestToken", token, 64, false)?;
    Ok(token.to_string())
}

/// AWS `iot` JSON timestamps are epoch seconds with a fraction.
pub fn epoch_seconds(ms: i64) -> Value {
    serde_json::Number::from_f64(ms as f64 / 1000.0)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_lists_are_checked() {
        assert!(check_name("n", "a_b-1", 128, false).is_ok());
        assert!(check_name("n", "a:b", 128, false).is_err());
        assert!(check_name("n", "a:b", 128, true).is_ok());
        assert!(check_name("n", "", 128, false).is_err());
        assert!(str_list(&json!(["a"]), "l", 1, 5).is_ok());
        assert!(str_list(&json!([]), "l", 1, 5).is_err());
        assert!(str_list(&json!([1]), "l", 1, 5).is_err());
    }

    #[test]
    fn timestamps_accept_numbers_and_iso() {
        let input = json!({"a": 1.5, "b": "2024-01-04T15:25:10Z", "c": "x"});
        assert_eq!(opt_timestamp(&input, "a").unwrap(), Some(1500));
        assert_eq!(opt_timestamp(&input, "b").unwrap(), Some(1_704_381_910_000));
        assert!(opt_timestamp(&input, "c").is_err());
        assert!(req_timestamp(&input, "d").is_err());
    }
}
