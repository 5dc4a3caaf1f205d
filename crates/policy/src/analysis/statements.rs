//! A lenient reading of policy statements for static analysis: IoT policies and IAM policies
//! share the statement grammar (`Effect`, `Action`/`NotAction`, `Resource`/`NotResource`,
//! `Condition`), and the analyses only need the strings, not a compiled evaluator.

use serde_json::Value;

/// One statement as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawStatement {
    pub allow: bool,
    pub actions: Vec<String>,
    pub not_action: bool,
    pub resources: Vec<String>,
    pub not_resource: bool,
    /// `"Bool": {"iot:Connection.Thing.IsAttached": "true"}` is present.
    pub requires_attached_thing: bool,
}

impl RawStatement {
    /// Whether the statement's actions cover `action` (`service:Name`, case-insensitive).
    pub fn covers(&self, action: &str) -> bool {
        let listed = self.actions.iter().any(|p| glob(p, action, true));
        listed != self.not_action
    }
}

/// Reads the statements of a policy document; `Err` when it is not a policy document at all.
pub(crate) fn statements(document: &str) -> Result<Vec<RawStatement>, String> {
    let json: Value = serde_json::from_str(document)
        .map_err(|e| format!("The policy document is not valid JSON: {e}"))?;
    let list = match json.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(item @ Value::Object(_)) => vec![item.clone()],
        _ => return Err("The policy document has no Statement".into()),
    };
    list.iter().map(statement).collect()
}

fn statement(raw: &Value) -> Result<RawStatement, String> {
    let allow = match raw.get("Effect").and_then(Value::as_str) {
        Some("Allow") => true,
        Some("Deny") => false,
        _ => return Err("A statement has no valid Effect".into()),
    };
    let (actions, not_action) = either(raw, "Action", "NotAction")?;
    let (resources, not_resource) = either(raw, "Resource", "NotResource")?;
    Ok(RawStatement {
        allow,
        actions,
        not_action,
        resources,
        not_resource,
        requires_attached_thing: requires_attached_thing(raw.get("Condition")),
    })
}

fn either(raw: &Value, plain: &str, negated: &str) -> Result<(Vec<String>, bool), String> {
    match (raw.get(plain), raw.get(negated)) {
        (Some(v), None) => Ok((strings(v)?, false)),
        (None, Some(v)) => Ok((strings(v)?, true)),
        _ => Err(format!(
            "A statement needs exactly one of {plain} and {negated}"
        )),
    }
}

fn strings(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| "Action and Resource entries must be strings".to_string())
            })
            .collect(),
        _ => Err("Action and Resource must be a string or a list of strings".into()),
    }
}

/// `Bool` (or `Bool...IfExists` is not enough: the key must be present) with
/// `iot:Connection.Thing.IsAttached` = `true`.
fn requires_attached_thing(condition: Option<&Value>) -> bool {
    let Some(Value::Object(operators)) = condition else {
        return false;
    };
    operators
        .iter()
        .filter(|(op, _)| op.as_str() == "Bool")
        .filter_map(|(_, keys)| keys.as_object())
        .flat_map(|keys| keys.iter())
        .any(|(key, value)| {
            key.eq_ignore_ascii_case("iot:Connection.Thing.IsAttached")
                && match value {
                    Value::String(s) => s.eq_ignore_ascii_case("true"),
                    Value::Bool(b) => *b,
                    Value::Array(items) => {
                        !items.is_empty()
                            && items.iter().all(|i| {
                                i.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
                                    || i.as_bool() == Some(true)
                            })
                    }
                    _ => false,
                }
        })
}

/// IAM wildcard matching: `*` any run of characters, `?` exactly one.
pub(crate) fn glob(pattern: &str, text: &str, fold_case: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if fold_case {
            a.to_lowercase().eq(b.to_lowercase())
        } else {
            a == b
        }
    };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && eq(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_like_iam() {
        assert!(glob("iot:*", "iot:Connect", false));
        assert!(glob("IOT:conn*", "iot:Connect", true));
        assert!(!glob("iot:Conn", "iot:Connect", false));
        assert!(glob("a?c*", "abcdef", false));
        assert!(glob("*/#", "building/#", false));
        assert!(!glob("building/*", "other/x", false));
    }

    #[test]
    fn reads_single_and_listed_statements() {
        let one = statements(r#"{"Statement":{"Effect":"Allow","Action":"iot:*","Resource":"*"}}"#)
            .unwrap();
        assert_eq!(one.len(), 1);
        assert!(one[0].allow && one[0].covers("iot:Publish"));
        let two = statements(
            r#"{"Statement":[{"Effect":"Deny","NotAction":["iot:Receive"],"NotResource":"arn:x",
            "Condition":{"Bool":{"iot:Connection.Thing.IsAttached":["true"]}}}]}"#,
        )
        .unwrap();
        assert!(!two[0].allow && two[0].not_resource && two[0].requires_attached_thing);
        assert!(two[0].covers("iot:Publish") && !two[0].covers("iot:Receive"));
        assert!(statements("[]").is_err());
        assert!(statements(r#"{"Statement":[{"Effect":"Maybe"}]}"#).is_err());
    }
}
