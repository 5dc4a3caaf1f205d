//! Reading request members with the model's constraints, failing with the AWS validation
//! message (`Value 'x' at 'path' failed to satisfy constraint: ...`).

use serde_json::{Map, Value};

use crate::error::{ExportError, ExportResult};

/// A JSON object being read, with the camel-cased path AWS quotes in validation messages.
pub struct Fields<'a> {
    map: Option<&'a Map<String, Value>>,
    path: String,
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn constraint(value: &dyn std::fmt::Display, path: &str, rule: &str) -> ExportError {
    ExportError::invalid(format!(
        "1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: {rule}"
    ))
}

impl<'a> Fields<'a> {
    /// The request body; must be a JSON object.
    pub fn root(value: &'a Value) -> ExportResult<Self> {
        match value {
            Value::Object(map) => Ok(Self {
                map: Some(map),
                path: String::new(),
            }),
            Value::Null => Ok(Self {
                map: None,
                path: String::new(),
            }),
            _ => Err(ExportError::invalid(
                "The request body must be a JSON object.",
            )),
        }
    }

    fn member_path(&self, name: &str) -> String {
        if self.path.is_empty() {
            lower_first(name)
        } else {
            format!("{}.{}", self.path, lower_first(name))
        }
    }

    pub fn raw(&self, name: &str) -> Option<&'a Value> {
        self.map.and_then(|m| m.get(name)).filter(|v| !v.is_null())
    }

    pub fn has(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    pub fn object(&self, name: &str) -> ExportResult<Option<Fields<'a>>> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Fields {
                map: Some(map),
                path: self.member_path(name),
            })),
            Some(_) => Err(ExportError::invalid(format!(
                "{} must be a structure.",
                self.member_path(name)
            ))),
        }
    }

    pub fn required_object(&self, name: &str) -> ExportResult<Fields<'a>> {
        self.object(name)?.ok_or_else(|| self.missing(name))
    }

    pub fn missing(&self, name: &str) -> ExportError {
        constraint(&"null", &self.member_path(name), "Member must not be null")
    }

    pub fn string(&self, name: &str) -> ExportResult<Option<&'a str>> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(ExportError::invalid(format!(
                "Value {other} at '{}' must be a string.",
                self.member_path(name)
            ))),
        }
    }

    pub fn required_string(&self, name: &str) -> ExportResult<&'a str> {
        self.string(name)?.ok_or_else(|| self.missing(name))
    }

    /// A string of `min..=max` characters.
    pub fn bounded_string(
        &self,
        name: &str,
        min: usize,
        max: usize,
    ) -> ExportResult<Option<&'a str>> {
        let Some(s) = self.string(name)? else {
            return Ok(None);
        };
        let len = s.chars().count();
        if len < min {
            return Err(constraint(
                &s,
                &self.member_path(name),
                &format!("Member must have length greater than or equal to {min}"),
            ));
        }
        if len > max {
            return Err(constraint(
                &s,
                &self.member_path(name),
                &format!("Member must have length less than or equal to {max}"),
            ));
        }
        Ok(Some(s))
    }

    /// One of the model's enum values.
    pub fn enum_value(&self, name: &str, allowed: &[&str]) -> ExportResult<Option<&'a str>> {
        let Some(s) = self.string(name)? else {
            return Ok(None);
        };
        if allowed.contains(&s) {
            Ok(Some(s))
        } else {
            Err(constraint(
                &s,
                &self.member_path(name),
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            ))
        }
    }

    /// An integer in `min..=max`.
    pub fn int(&self, name: &str, min: i64, max: i64) -> ExportResult<Option<i64>> {
        let Some(value) = self.raw(name) else {
            return Ok(None);
        };
        let Some(n) = value.as_i64() else {
            return Err(ExportError::invalid(format!(
                "Value {value} at '{}' must be an integer.",
                self.member_path(name)
            )));
        };
        if n < min {
            return Err(constraint(
                &n,
                &self.member_path(name),
                &format!("Member must have value greater than or equal to {min}"),
            ));
        }
        if n > max {
            return Err(constraint(
                &n,
                &self.member_path(name),
                &format!("Member must have value less than or equal to {max}"),
            ));
        }
        Ok(Some(n))
    }

    pub fn bool(&self, name: &str) -> ExportResult<Option<bool>> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(ExportError::invalid(format!(
                "Value {other} at '{}' must be a boolean.",
                self.member_path(name)
            ))),
        }
    }

    /// A list of structures, with the model's length limits.
    pub fn list(&self, name: &str, min: usize, max: usize) -> ExportResult<Vec<Fields<'a>>> {
        let Some(value) = self.raw(name) else {
            return Ok(Vec::new());
        };
        let Some(items) = value.as_array() else {
            return Err(ExportError::invalid(format!(
                "{} must be a list.",
                self.member_path(name)
            )));
        };
        if items.len() < min || items.len() > max {
            return Err(constraint(
                &items.len(),
                &self.member_path(name),
                &format!("Member must have length between {min} and {max}"),
            ));
        }
        let path = self.member_path(name);
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(map) => Ok(Fields {
                    map: Some(map),
                    path: format!("{path}.{}.member", i + 1),
                }),
                _ => Err(ExportError::invalid(format!(
                    "{path} must hold structures."
                ))),
            })
            .collect()
    }

    /// A list of strings, with the model's length limits.
    pub fn string_list(&self, name: &str, min: usize, max: usize) -> ExportResult<Vec<&'a str>> {
        let Some(value) = self.raw(name) else {
            return Ok(Vec::new());
        };
        let items = value.as_array().filter(|a| a.iter().all(Value::is_string));
        let Some(items) = items else {
            return Err(ExportError::invalid(format!(
                "{} must be a list of strings.",
                self.member_path(name)
            )));
        };
        if items.len() < min || items.len() > max {
            return Err(constraint(
                &items.len(),
                &self.member_path(name),
                &format!("Member must have length between {min} and {max}"),
            ));
        }
        Ok(items.iter().filter_map(Value::as_str).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn range_errors_quote_the_camel_cased_path() {
        let body = json!({"SplunkDestinationConfiguration": {"BufferingHints": {"SizeInMBs": 9}}});
        let root = Fields::root(&body).unwrap();
        let hints = root
            .required_object("SplunkDestinationConfiguration")
            .unwrap()
            .required_object("BufferingHints")
            .unwrap();
        let e = hints.int("SizeInMBs", 1, 5).unwrap_err().to_string();
        assert!(
            e.contains("splunkDestinationConfiguration.bufferingHints.sizeInMBs"),
            "{e}"
        );
        assert!(e.contains("less than or equal to 5"), "{e}");
    }

    #[test]
    fn enums_and_types_are_checked() {
        let body = json!({"T": "Json", "N": "5"});
        let root = Fields::root(&body).unwrap();
        assert!(root.enum_value("T", &["Raw", "Event"]).is_err());
        assert!(root.int("N", 0, 9).is_err());
        assert!(root.required_string("Missing").is_err());
    }
}
