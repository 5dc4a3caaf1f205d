//! Reading a policy document: JSON structure, AWS's validation rules and limits, and
//! compilation of each statement.

use serde_json::{Map, Value as Json};

use crate::action::ActionSet;
use crate::condition::{Condition, parse_conditions};
use crate::context::AuthContext;
use crate::error::{PolicyError, malformed};
use crate::pattern::{Missing, Pattern, Syntax};

/// AWS's limit for an IoT policy document, counted without whitespace.
pub const MAX_DOCUMENT_CHARS: usize = 2048;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StatementEffect {
    Allow,
    Deny,
}

/// One compiled statement.
#[derive(Clone, Debug)]
pub(crate) struct Statement {
    pub(crate) effect: StatementEffect,
    pub(crate) actions: ActionSet,
    /// `NotResource`: the statement applies to resources matching none of the patterns.
    not_resource: bool,
    resources: Box<[Pattern]>,
    conditions: Box<[Condition]>,
}

impl Statement {
    /// Whether the statement applies to `resource` in `ctx` (the action was already checked).
    pub(crate) fn applies<M: Missing>(
        &self,
        resource: &str,
        ctx: &AuthContext<'_>,
        missing: &mut M,
    ) -> bool {
        let listed = self
            .resources
            .iter()
            .any(|p| p.matches(resource, ctx, false, missing));
        listed != self.not_resource && self.conditions.iter().all(|c| c.eval(ctx, missing))
    }
}

/// The document's language version: 2008-10-17 has no policy variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyVersion {
    V2012_10_17,
    V2008_10_17,
}

pub(crate) struct Parsed {
    pub(crate) version: PolicyVersion,
    pub(crate) statements: Vec<Statement>,
}

pub(crate) fn parse_document(doc: &str) -> Result<Parsed, PolicyError> {
    let size = doc.chars().filter(|c| !c.is_whitespace()).count();
    if size == 0 {
        return malformed("The policy document is empty");
    }
    if size > MAX_DOCUMENT_CHARS {
        return malformed(format!(
            "The policy document is {size} characters long (excluding whitespace); the maximum is {MAX_DOCUMENT_CHARS}"
        ));
    }
    let json: Json = serde_json::from_str(doc)
        .map_err(|e| PolicyError::new(format!("The policy document is not valid JSON: {e}")))?;
    let Json::Object(top) = json else {
        return malformed("The policy document must be a JSON object");
    };
    only_known(&top, &["Version", "Id", "Statement"], "policy")?;

    // IAM: without Version the 2008-10-17 rules apply.
    let version = match top.get("Version") {
        None => PolicyVersion::V2008_10_17,
        Some(Json::String(v)) if v == "2012-10-17" => PolicyVersion::V2012_10_17,
        Some(Json::String(v)) if v == "2008-10-17" => PolicyVersion::V2008_10_17,
        Some(other) => {
            return malformed(format!(
                "Unsupported policy Version {other}: use \"2012-10-17\""
            ));
        }
    };
    if top.get("Id").is_some_and(|id| !id.is_string()) {
        return malformed("Id must be a string");
    }
    let variables = version == PolicyVersion::V2012_10_17;
    let statements = match top.get("Statement") {
        None => return malformed("The policy document has no Statement"),
        Some(Json::Array(items)) if items.is_empty() => {
            return malformed("Statement must contain at least one statement");
        }
        Some(Json::Array(items)) => items
            .iter()
            .map(|s| parse_statement(s, variables))
            .collect::<Result<_, _>>()?,
        Some(s @ Json::Object(_)) => vec![parse_statement(s, variables)?],
        Some(_) => return malformed("Statement must be an object or an array of objects"),
    };
    Ok(Parsed {
        version,
        statements,
    })
}

fn parse_statement(raw: &Json, variables: bool) -> Result<Statement, PolicyError> {
    let Json::Object(st) = raw else {
        return malformed("Each statement must be a JSON object");
    };
    if st.contains_key("Principal") || st.contains_key("NotPrincipal") {
        return malformed("IoT policy statements cannot contain Principal or NotPrincipal");
    }
    only_known(
        st,
        &[
            "Sid",
            "Effect",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Condition",
        ],
        "statement",
    )?;
    if st.get("Sid").is_some_and(|s| !s.is_string()) {
        return malformed("Sid must be a string");
    }
    let effect = match st.get("Effect") {
        Some(Json::String(e)) if e == "Allow" => StatementEffect::Allow,
        Some(Json::String(e)) if e == "Deny" => StatementEffect::Deny,
        Some(other) => {
            return malformed(format!(
                "Invalid Effect {other}: it must be \"Allow\" or \"Deny\""
            ));
        }
        None => return malformed("A statement is missing Effect"),
    };

    let (action_field, not_action) = exactly_one(st, "Action", "NotAction")?;
    let mut actions = ActionSet::default();
    for a in string_list(
        action_field,
        if not_action { "NotAction" } else { "Action" },
    )? {
        actions = actions.union(ActionSet::from_pattern(a)?);
    }
    if not_action {
        actions = actions.complement();
    }

    let (resource_field, not_resource) = exactly_one(st, "Resource", "NotResource")?;
    let name = if not_resource {
        "NotResource"
    } else {
        "Resource"
    };
    let resources = string_list(resource_field, name)?
        .into_iter()
        .map(|r| {
            if r != "*" && !r.starts_with("arn:") {
                return malformed(format!("Invalid {name} '{r}': it must be '*' or an ARN"));
            }
            Ok(Pattern::parse(
                r,
                Syntax {
                    wildcards: true,
                    variables,
                },
            ))
        })
        .collect::<Result<_, _>>()?;

    let conditions = match st.get("Condition") {
        Some(block) => parse_conditions(block, variables)?,
        None => Vec::new(),
    };
    Ok(Statement {
        effect,
        actions,
        not_resource,
        resources,
        conditions: conditions.into_boxed_slice(),
    })
}

fn only_known(obj: &Map<String, Json>, known: &[&str], what: &str) -> Result<(), PolicyError> {
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => malformed(format!("Unknown {what} element '{k}'")),
        None => Ok(()),
    }
}

/// The one of `a` / `b` present; `true` means `b` (the `Not...` form).
fn exactly_one<'j>(
    st: &'j Map<String, Json>,
    a: &str,
    b: &str,
) -> Result<(&'j Json, bool), PolicyError> {
    match (st.get(a), st.get(b)) {
        (Some(v), None) => Ok((v, false)),
        (None, Some(v)) => Ok((v, true)),
        (Some(_), Some(_)) => malformed(format!("A statement cannot have both {a} and {b}")),
        (None, None) => malformed(format!("A statement is missing {a}")),
    }
}

fn string_list<'j>(v: &'j Json, name: &str) -> Result<Vec<&'j str>, PolicyError> {
    let list = match v {
        Json::String(s) => vec![s.as_str()],
        Json::Array(items) => items
            .iter()
            .map(|i| match i {
                Json::String(s) => Ok(s.as_str()),
                _ => malformed(format!("{name} entries must be strings")),
            })
            .collect::<Result<_, _>>()?,
        _ => return malformed(format!("{name} must be a string or an array of strings")),
    };
    if list.is_empty() {
        return malformed(format!("{name} must not be empty"));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(doc: &str) -> String {
        match parse_document(doc) {
            Ok(_) => panic!("accepted: {doc}"),
            Err(e) => e.message().to_owned(),
        }
    }

    #[test]
    fn accepts_single_statement_object_and_scalars() {
        let p = parse_document(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}}"#,
        )
        .unwrap();
        assert_eq!(p.version, PolicyVersion::V2012_10_17);
        assert_eq!(p.statements.len(), 1);
        assert_eq!(p.statements[0].resources.len(), 1);
    }

    #[test]
    fn missing_version_means_2008() {
        let p = parse_document(r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#)
            .unwrap();
        assert_eq!(p.version, PolicyVersion::V2008_10_17);
    }

    #[test]
    fn rejects_with_client_messages() {
        assert!(err("").contains("empty"));
        assert!(err("{").contains("not valid JSON"));
        assert!(err("[]").contains("JSON object"));
        assert!(err(r#"{"Version":"2012-10-17"}"#).contains("no Statement"));
        assert!(err(r#"{"Version":"2012-10-17","Statement":[]}"#).contains("at least one"));
        assert!(err(r#"{"Version":"2020-01-01","Statement":[]}"#).contains("Version"));
        let st = |s: &str| format!(r#"{{"Version":"2012-10-17","Statement":[{s}]}}"#);
        assert!(err(&st(r#"{"Action":"iot:*","Resource":"*"}"#)).contains("Effect"));
        assert!(
            err(&st(r#"{"Effect":"allow","Action":"iot:*","Resource":"*"}"#)).contains("Effect")
        );
        assert!(err(&st(r#"{"Effect":"Allow","Resource":"*"}"#)).contains("missing Action"));
        assert!(err(&st(r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#)).contains("iot:"));
        assert!(err(&st(r#"{"Effect":"Allow","Action":[],"Resource":"*"}"#)).contains("empty"));
        assert!(
            err(&st(
                r#"{"Effect":"Allow","Action":"iot:*","NotAction":"iot:Connect","Resource":"*"}"#
            ))
            .contains("both")
        );
        assert!(err(&st(r#"{"Effect":"Allow","Action":"iot:*"}"#)).contains("missing Resource"));
        assert!(
            err(&st(
                r#"{"Effect":"Allow","Action":"iot:*","Resource":"topic/a"}"#
            ))
            .contains("ARN")
        );
        assert!(
            err(&st(r#"{"Effect":"Allow","Action":"iot:*","Resource":[1]}"#)).contains("strings")
        );
        assert!(
            err(&st(
                r#"{"Effect":"Allow","Principal":"*","Action":"iot:*","Resource":"*"}"#
            ))
            .contains("Principal")
        );
        assert!(
            err(&st(
                r#"{"Effect":"Allow","Action":"iot:*","Resource":"*","Extra":1}"#
            ))
            .contains("Extra")
        );
        assert!(
            err(&st(
                r#"{"Effect":"Allow","Action":"iot:*","Resource":"*","Condition":{"Foo":{}}}"#
            ))
            .contains("Foo")
        );
    }

    #[test]
    fn size_limit_ignores_whitespace() {
        let pad = |n: usize| {
            let head = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:r:a:client/"#;
            let tail = r#""}]}"#;
            let fill = n - head.len() - tail.len();
            format!("{head}{}{tail}", "x".repeat(fill))
        };
        assert!(parse_document(&pad(MAX_DOCUMENT_CHARS)).is_ok());
        assert!(err(&pad(MAX_DOCUMENT_CHARS + 1)).contains("maximum"));
        let spaced = pad(MAX_DOCUMENT_CHARS).replace(',', " ,\n\t ");
        assert!(parse_document(&spaced).is_ok());
    }
}
