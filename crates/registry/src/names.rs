//! Validation of names and values against the patterns and lengths of the botocore model.

use crate::error::{RegistryError, RegistryResult};

fn check(
    what: &str,
    value: &str,
    min: usize,
    max: usize,
    allowed: impl Fn(char) -> bool,
) -> RegistryResult<()> {
    let length = value.chars().count();
    if length < min || length > max {
        return Err(RegistryError::invalid(format!(
            "{what} must be {min} to {max} characters long; got {length}."
        )));
    }
    if let Some(bad) = value.chars().find(|c| !allowed(*c)) {
        return Err(RegistryError::invalid(format!(
            "{what} contains the character {bad:?}, which is not allowed."
        )));
    }
    Ok(())
}

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-')
}

/// `ThingName`, `ThingGroupName` and `ThingTypeName`: `[a-zA-Z0-9:_-]+`, 1..128.
pub fn thing_like_name(what: &str, value: &str) -> RegistryResult<()> {
    check(what, value, 1, 128, name_char)
}

/// `PolicyName`: `[\w+=,.@-]+`, 1..128.
pub fn policy_name(value: &str) -> RegistryResult<()> {
    check("policyName", value, 1, 128, |c| {
        c.is_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | '-')
    })
}

/// `RoleAlias`: `[\w=,@-]+`, 1..128.
pub fn role_alias(value: &str) -> RegistryResult<()> {
    check("roleAlias", value, 1, 128, |c| {
        c.is_alphanumeric() || matches!(c, '_' | '=' | ',' | '@' | '-')
    })
}

/// `AttributeName`: `[a-zA-Z0-9_.,@/:#-]+`, up to 128.
pub fn attribute_name(value: &str) -> RegistryResult<()> {
    check("attribute name", value, 1, 128, |c| {
        c.is_ascii_alphanumeric() || "_.,@/:#-".contains(c)
    })
}

/// `AttributeValue`: `[a-zA-Z0-9_.,@/:#=\[\]-]*`, up to 800.
pub fn attribute_value(value: &str) -> RegistryResult<()> {
    check("attribute value", value, 0, 800, |c| {
        c.is_ascii_alphanumeric() || "_.,@/:#=[]-".contains(c)
    })
}

/// Descriptions: printable characters and spaces, up to 2028.
pub fn description(what: &str, value: &str) -> RegistryResult<()> {
    check(what, value, 0, 2028, |c| c == ' ' || !c.is_control())
}

/// `CertificateId`: 64 hex characters (AWS also accepts a `0x` prefix in the pattern, but
/// ids it issues never have one). Returns the lowercase id.
pub fn certificate_id(value: &str) -> RegistryResult<String> {
    if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(RegistryError::invalid(format!(
            "{value:?} is not a certificate id: it must be 64 hexadecimal characters."
        )));
    }
    Ok(value.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thing_names_follow_the_model() {
        assert!(thing_like_name("thingName", "sensor-1:a_b").is_ok());
        assert!(thing_like_name("thingName", "").is_err());
        assert!(thing_like_name("thingName", "has space").is_err());
        assert!(thing_like_name("thingName", "slash/no").is_err());
        assert!(thing_like_name("thingName", &"a".repeat(128)).is_ok());
        assert!(thing_like_name("thingName", &"a".repeat(129)).is_err());
    }

    #[test]
    fn policy_names_allow_their_punctuation() {
        assert!(policy_name("My.Policy+v=1,a@b-c_d").is_ok());
        assert!(policy_name("no/slash").is_err());
        assert!(role_alias("alias=1,a@b").is_ok());
        assert!(role_alias("no.dot").is_err());
    }

    #[test]
    fn attributes_and_ids() {
        assert!(attribute_name("model#1").is_ok());
        assert!(attribute_value("").is_ok());
        assert!(attribute_value("a b").is_err());
        assert_eq!(certificate_id(&"AB".repeat(32)).unwrap(), "ab".repeat(32));
        assert!(certificate_id("abc").is_err());
    }
}
