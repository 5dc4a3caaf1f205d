//! Reading operation inputs (members, patterns, limits of the botocore shapes), answered
//! with InvalidRequestException.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{DetectError, DetectResult};

pub fn opt_str<'a>(input: &'a Value, member: &str) -> DetectResult<Option<&'a str>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(DetectError::invalid(format!("{member} must be a string."))),
    }
}

pub fn req_str<'a>(input: &'a Value, member: &str) -> DetectResult<&'a str> {
    opt_str(input, member)?.ok_or_else(|| DetectError::invalid(format!("{member} is required.")))
}

pub fn opt_bool(input: &Value, member: &str) -> DetectResult<Option<bool>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
        Some(_) => Err(DetectError::invalid(format!("{member} must be a boolean."))),
    }
}

pub fn opt_i64(input: &Value, member: &str) -> DetectResult<Option<i64>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .map(Some)
            .ok_or_else(|| DetectError::invalid(format!("{member} must be an integer."))),
    }
}

/// `maxResults`: `min`–`max`, default `default`.
pub fn max_results(input: &Value, max: usize, default: usize) -> DetectResult<usize> {
    match opt_i64(input, "maxResults")? {
        None => Ok(default),
        Some(n) if n >= 1 && n as usize <= max => Ok(n as usize),
        Some(_) => Err(DetectError::invalid(format!(
            "maxResults must be between 1 and {max}."
        ))),
    }
}

/// Decodes a member into a model shape; type errors are the caller's.
pub fn decode<T: DeserializeOwned>(member: &str, value: &Value) -> DetectResult<T> {
    serde_json::from_value(value.clone())
        .map_err(|e| DetectError::invalid(format!("{member} is not valid: {e}")))
}

/// `[a-zA-Z0-9:_-]+`, 1–128: profile, behavior, custom metric and dimension names.
pub fn check_name(member: &str, value: &str) -> DetectResult<()> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-');
    if value.is_empty() || value.len() > 128 || !value.chars().all(ok) {
        return Err(DetectError::invalid(format!(
            "{member} '{}' is not valid: it must be 1 to 128 characters of [a-zA-Z0-9:_-].",
            value.chars().take(140).collect::<String>()
        )));
    }
    Ok(())
}

/// `clientRequestToken`: `^[a-zA-Z0-9-_]+$`, 1–64.
pub fn check_token(value: &str) -> DetectResult<()> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-');
    if value.is_empty() || value.len() > 64 || !value.chars().all(ok) {
        return Err(DetectError::invalid(
            "clientRequestToken must be 1 to 64 characters of [a-zA-Z0-9-_].",
        ));
    }
    Ok(())
}

/// A timestamp member: ISO-8601 (botocore's query strings) or epoch seconds.
pub fn timestamp_ms(input: &Value, member: &str) -> DetectResult<Option<i64>> {
    let bad = || DetectError::invalid(format!("{member} is not a timestamp."));
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(|s| Some((s * 1000.0) as i64))
            .ok_or_else(bad),
        Some(Value::String(s)) => fleetward_model::timestamp::parse_rfc3339_ms(s)
            .or_else(|| s.parse::<f64>().ok().map(|secs| (secs * 1000.0) as i64))
            .map(Some)
            .ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

/// AWS `iot` JSON timestamps: epoch seconds with a fraction.
pub fn epoch_seconds(ms: i64) -> Value {
    serde_json::Number::from_f64(ms as f64 / 1000.0)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// Opaque page token: the key to continue after.
pub fn encode_token(key: &str) -> String {
    let mut out = String::with_capacity(key.len() * 2);
    for b in key.bytes() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

pub fn decode_token(input: &Value) -> DetectResult<Option<String>> {
    let Some(token) = opt_str(input, "nextToken")? else {
        return Ok(None);
    };
    let bad = || DetectError::invalid("The nextToken is not valid.");
    if token.len() % 2 != 0 {
        return Err(bad());
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes.ok_or_else(bad)?)
        .map(Some)
        .map_err(|_| bad())
}

/// One page of sorted `(key, item)` after the token: items and the next token.
pub fn page<T: Clone>(
    items: &[(String, T)],
    after: Option<&str>,
    limit: usize,
) -> (Vec<T>, Option<String>) {
    let start = match after {
        Some(a) => items.partition_point(|(k, _)| k.as_str() <= a),
        None => 0,
    };
    let slice = &items[start.min(items.len())..];
    let taken: Vec<T> = slice.iter().take(limit).map(|(_, v)| v.clone()).collect();
    let next = (slice.len() > limit).then(|| encode_token(&slice[limit - 1].0));
    (taken, next)
}
