//! Reading operation inputs: members, patterns and limits of the botocore shapes, answered
//! with InvalidRequestException (the `iot` model has no other validation error).

use serde_json::Value;

use crate::catalog;
use crate::error::{AuditError, AuditResult};
use crate::model::{IssuerCertificateIdentifier, PolicyVersionIdentifier, ResourceIdentifier};

pub fn invalid(message: impl Into<String>) -> AuditError {
    AuditError::InvalidRequest(message.into())
}

pub fn opt_str<'a>(input: &'a Value, member: &str) -> AuditResult<Option<&'a str>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(format!("{member} must be a string."))),
    }
}

pub fn req_str<'a>(input: &'a Value, member: &str) -> AuditResult<&'a str> {
    opt_str(input, member)?.ok_or_else(|| invalid(format!("{member} is required.")))
}

pub fn opt_bool(input: &Value, member: &str) -> AuditResult<Option<bool>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid(format!("{member} must be a boolean."))),
    }
}

/// `maxResults`: 1–250, default 25 (spec 0).
pub fn max_results(input: &Value) -> AuditResult<usize> {
    match input.get("maxResults") {
        None | Some(Value::Null) => Ok(25),
        Some(v) => match v.as_i64() {
            Some(n @ 1..=250) => Ok(n as usize),
            _ => Err(invalid("maxResults must be between 1 and 250.")),
        },
    }
}

/// `[a-zA-Z0-9_-]+`, 1–128: scheduled audit names and finding ids.
pub fn check_name_pattern(
    member: &str,
    value: &str,
    max: usize,
    dash_only: bool,
) -> AuditResult<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || (!dash_only && c == '_');
    if value.is_empty() || value.len() > max || !value.chars().all(ok_char) {
        return Err(invalid(format!(
            "{member} '{}' is not valid: it must be 1 to {max} characters of {}.",
            value.chars().take(140).collect::<String>(),
            if dash_only {
                "[a-zA-Z0-9-]"
            } else {
                "[a-zA-Z0-9_-]"
            }
        )));
    }
    Ok(())
}

/// A timestamp member: epoch seconds (JSON number or numeric string) or ISO-8601 text, as
/// botocore sends them in bodies and query strings. Returns epoch milliseconds.
pub fn opt_timestamp(input: &Value, member: &str) -> AuditResult<Option<i64>> {
    let bad = || invalid(format!("{member} is not a valid timestamp."));
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            let secs = n.as_f64().ok_or_else(bad)?;
            seconds_to_ms(secs).map(Some).ok_or_else(bad)
        }
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

fn seconds_to_ms(secs: f64) -> Option<i64> {
    (secs.is_finite() && (0.0..=32_503_680_000.0).contains(&secs))
        .then(|| (secs * 1000.0).round() as i64)
}

/// An `AuditCheckName` the catalogue knows.
pub fn known_check(name: &str) -> AuditResult<usize> {
    catalog::find(name)
        .map(|(i, _)| i)
        .ok_or_else(|| invalid(format!("Unknown audit check name: {name}.")))
}

/// `targetCheckNames`: a non-empty list of known check names, without repeats.
pub fn target_check_names(input: &Value) -> AuditResult<Option<Vec<String>>> {
    let Some(value) = input.get("targetCheckNames").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let Some(items) = value.as_array() else {
        return Err(invalid("targetCheckNames must be a list of check names."));
    };
    if items.is_empty() {
        return Err(invalid("targetCheckNames must name at least one check."));
    }
    let mut names = Vec::new();
    for item in items {
        let name = item
            .as_str()
            .ok_or_else(|| invalid("targetCheckNames must be a list of check names."))?;
        known_check(name)?;
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    Ok(Some(names))
}

/// A `ResourceIdentifier` member with exactly one member set, each within its shape.
pub fn resource_identifier(input: &Value, member: &str) -> AuditResult<Option<ResourceIdentifier>> {
    let Some(value) = input.get(member).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    if !value.is_object() {
        return Err(invalid(format!("{member} must be a structure.")));
    }
    let id: ResourceIdentifier = serde_json::from_value(value.clone())
        .map_err(|e| invalid(format!("{member} is not a valid ResourceIdentifier: {e}")))?;
    if let Some(unknown) = value.as_object().and_then(|o| {
        o.keys().find(|k| {
            ![
                "deviceCertificateId",
                "caCertificateId",
                "cognitoIdentityPoolId",
                "clientId",
                "policyVersionIdentifier",
                "account",
                "iamRoleArn",
                "roleAliasArn",
                "issuerCertificateIdentifier",
                "deviceCertificateArn",
            ]
            .contains(&k.as_str())
        })
    }) {
        return Err(invalid(format!("Unknown member {unknown} in {member}.")));
    }
    if id.member_count() != 1 {
        return Err(invalid(format!("{member} must have exactly one member.")));
    }
    validate_identifier(&id)?;
    Ok(Some(id.normalized()))
}

fn validate_identifier(id: &ResourceIdentifier) -> AuditResult<()> {
    for (name, cert) in [
        ("deviceCertificateId", &id.device_certificate_id),
        ("caCertificateId", &id.ca_certificate_id),
    ] {
        if let Some(v) = cert {
            let hex = v.strip_prefix("0x").unwrap_or(v);
            if v.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(invalid(format!(
                    "{name} must be 64 hexadecimal characters."
                )));
            }
        }
    }
    if let Some(a) = &id.account
        && !fleetward_model::is_valid_account_id(a)
    {
        return Err(invalid("account must be 12 digits."));
    }
    if let Some(arn) = &id.iam_role_arn
        && !(20..=2048).contains(&arn.len())
    {
        return Err(invalid("iamRoleArn must be 20 to 2048 characters."));
    }
    if let Some(arn) = &id.role_alias_arn
        && !(1..=2048).contains(&arn.len())
    {
        return Err(invalid("roleAliasArn must be 1 to 2048 characters."));
    }
    for (name, text) in [
        ("clientId", &id.client_id),
        ("cognitoIdentityPoolId", &id.cognito_identity_pool_id),
        ("deviceCertificateArn", &id.device_certificate_arn),
    ] {
        if text
            .as_ref()
            .is_some_and(|t| t.is_empty() || t.len() > 2048)
        {
            return Err(invalid(format!("{name} must be 1 to 2048 characters.")));
        }
    }
    if let Some(p) = &id.policy_version_identifier {
        policy_version(p)?;
    }
    if let Some(i) = &id.issuer_certificate_identifier {
        issuer(i)?;
    }
    Ok(())
}

fn policy_version(p: &PolicyVersionIdentifier) -> AuditResult<()> {
    let name_ok = p.policy_name.as_deref().is_some_and(|n| {
        (1..=128).contains(&n.len())
            && n.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c))
    });
    let version_ok = p
        .policy_version_id
        .as_deref()
        .is_none_or(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()));
    if !name_ok || !version_ok {
        return Err(invalid(
            "policyVersionIdentifier needs a valid policyName and a numeric policyVersionId.",
        ));
    }
    Ok(())
}

fn issuer(i: &IssuerCertificateIdentifier) -> AuditResult<()> {
    let subject_ok = i
        .issuer_certificate_subject
        .as_deref()
        .is_none_or(|s| s.len() <= 1000);
    let id_ok = i.issuer_id.as_deref().is_none_or(|s| {
        let hex = s.strip_prefix("0x").unwrap_or(s);
        s.len() <= 64 && !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit())
    });
    let serial_ok = i
        .issuer_certificate_serial_number
        .as_deref()
        .is_none_or(|s| s.len() <= 20 && s.chars().all(|c| c.is_ascii_hexdigit() || c == ':'));
    if !(subject_ok && id_ok && serial_ok) {
        return Err(invalid("issuerCertificateIdentifier is not valid."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_accept_numbers_and_iso() {
        let input = json!({"a": 1.5, "b": "2024-01-04T15:25:10Z", "c": "1700000000", "d": "x"});
        assert_eq!(opt_timestamp(&input, "a").unwrap(), Some(1500));
        assert_eq!(opt_timestamp(&input, "b").unwrap(), Some(1_704_381_910_000));
        assert_eq!(opt_timestamp(&input, "c").unwrap(), Some(1_700_000_000_000));
        assert!(opt_timestamp(&input, "d").is_err());
        assert_eq!(opt_timestamp(&input, "e").unwrap(), None);
    }

    #[test]
    fn identifiers_need_exactly_one_valid_member() {
        let ok =
            json!({"r": {"policyVersionIdentifier": {"policyName": "p", "policyVersionId": "1"}}});
        assert!(resource_identifier(&ok, "r").unwrap().is_some());
        for bad in [
            json!({"r": {}}),
            json!({"r": {"account": "1", "clientId": "c"}}),
            json!({"r": {"account": "12345678901"}}),
            json!({"r": {"deviceCertificateId": "abc"}}),
            json!({"r": {"nope": "x"}}),
            json!({"r": "x"}),
        ] {
            assert!(resource_identifier(&bad, "r").is_err(), "{bad}");
        }
    }

    #[test]
    fn check_names_are_known_and_listed() {
        assert!(target_check_names(&json!({"targetCheckNames": []})).is_err());
        assert!(target_check_names(&json!({"targetCheckNames": ["NOPE"]})).is_err());
        assert_eq!(
            target_check_names(
                &json!({"targetCheckNames": ["LOGGING_DISABLED_CHECK", "LOGGING_DISABLED_CHECK"]})
            )
            .unwrap()
            .unwrap(),
            ["LOGGING_DISABLED_CHECK"]
        );
    }
}
