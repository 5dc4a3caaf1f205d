//! Reading an operation's input document (body, URI labels and query members merged by the
//! API layer) with `iot`'s validation errors.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{RegistryError, RegistryResult};

/// Typed access to the members of one input document.
pub struct Input<'a>(pub &'a Value);

impl<'a> Input<'a> {
    pub fn get(&self, member: &str) -> Option<&'a Value> {
        self.0.get(member).filter(|v| !v.is_null())
    }

    pub fn opt_str(&self, member: &str) -> RegistryResult<Option<&'a str>> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(RegistryError::invalid(format!(
                "{member} must be a string."
            ))),
        }
    }

    pub fn req_str(&self, member: &str) -> RegistryResult<&'a str> {
        self.opt_str(member)?.ok_or_else(|| missing(member))
    }

    /// A required thing, thing group or thing type name, checked against the model.
    pub fn thing_name(&self, member: &str) -> RegistryResult<&'a str> {
        let name = self.req_str(member)?;
        crate::names::thing_like_name(member, name)?;
        Ok(name)
    }

    /// The required `policyName`, checked against the model.
    pub fn policy_name(&self) -> RegistryResult<&'a str> {
        let name = self.req_str("policyName")?;
        crate::names::policy_name(name)?;
        Ok(name)
    }

    /// The required `roleAlias`, checked against the model.
    pub fn role_alias(&self) -> RegistryResult<&'a str> {
        let name = self.req_str("roleAlias")?;
        crate::names::role_alias(name)?;
        Ok(name)
    }

    pub fn opt_bool(&self, member: &str) -> RegistryResult<Option<bool>> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            // Query-string booleans arrive as text.
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(RegistryError::invalid(format!(
                "{member} must be a boolean."
            ))),
        }
    }

    pub fn bool_or(&self, member: &str, default: bool) -> RegistryResult<bool> {
        Ok(self.opt_bool(member)?.unwrap_or(default))
    }

    pub fn opt_i64(&self, member: &str) -> RegistryResult<Option<i64>> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| RegistryError::invalid(format!("{member} must be an integer."))),
            Some(Value::String(s)) => s
                .parse()
                .map(Some)
                .map_err(|_| RegistryError::invalid(format!("{member} must be an integer."))),
            Some(_) => Err(RegistryError::invalid(format!(
                "{member} must be an integer."
            ))),
        }
    }

    /// An integer member within `[min, max]`.
    pub fn opt_i64_in(&self, member: &str, min: i64, max: i64) -> RegistryResult<Option<i64>> {
        match self.opt_i64(member)? {
            Some(v) if v < min || v > max => Err(RegistryError::invalid(format!(
                "{member} must be between {min} and {max}; got {v}."
            ))),
            other => Ok(other),
        }
    }

    pub fn opt_object(&self, member: &str) -> RegistryResult<Option<Input<'a>>> {
        match self.get(member) {
            None => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(Input(v))),
            Some(_) => Err(RegistryError::invalid(format!(
                "{member} must be an object."
            ))),
        }
    }

    pub fn opt_str_list(&self, member: &str) -> RegistryResult<Option<Vec<&'a str>>> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str().ok_or_else(|| {
                        RegistryError::invalid(format!("{member} must be a list of strings."))
                    })
                })
                .collect::<RegistryResult<Vec<_>>>()
                .map(Some),
            Some(_) => Err(RegistryError::invalid(format!(
                "{member} must be a list of strings."
            ))),
        }
    }

    pub fn opt_list(&self, member: &str) -> RegistryResult<Option<&'a Vec<Value>>> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(_) => Err(RegistryError::invalid(format!("{member} must be a list."))),
        }
    }

    /// A map of string to string (`attributes`).
    pub fn opt_string_map(&self, member: &str) -> RegistryResult<Option<BTreeMap<String, String>>> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(RegistryError::invalid(format!(
                        "The values of {member} must be strings."
                    ))),
                })
                .collect::<RegistryResult<BTreeMap<_, _>>>()
                .map(Some),
            Some(_) => Err(RegistryError::invalid(format!(
                "{member} must be a map of strings."
            ))),
        }
    }
}

pub fn missing(member: &str) -> RegistryError {
    RegistryError::invalid(format!("{member} is required."))
}
