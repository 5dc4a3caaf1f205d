//! A topic rule as stored (one store document per rule) and the validation of the
//! `TopicRulePayload` members that Fleetward supports: the SQL form of `sql.rs`, and
//! `firehose` actions into this account's delivery streams.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::error::{RuleError, RuleResult};
use super::sql;

/// Store document kind of topic rules; key = rule name.
pub const RULE_KIND: &str = "export.topic_rule";
const SQL_VERSIONS: [&str; 3] = ["2015-10-08", "2016-03-23", "beta"];
const DEFAULT_SQL_VERSION: &str = "2015-10-08";
const MAX_ACTIONS: usize = 10;
const SEPARATORS: [&str; 4] = ["\n", "\t", "\r\n", ","];

/// A `firehose` action: where matching messages go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirehoseTarget {
    pub role_arn: String,
    pub delivery_stream_name: String,
    pub separator: Option<String>,
    pub batch_mode: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleDoc {
    pub name: String,
    pub sql: String,
    /// None: the rule has no FROM clause and is reached only through Basic Ingest.
    pub topic_filter: Option<String>,
    pub description: Option<String>,
    pub targets: Vec<FirehoseTarget>,
    pub rule_disabled: bool,
    pub sql_version: String,
    pub tags: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

pub fn valid_name(name: &str) -> RuleResult<()> {
    let ok = (1..=128).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(RuleError::invalid(format!(
            "1 validation error detected: Value '{name}' at 'ruleName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_]+$ and have length 1 to 128"
        )))
    }
}

pub fn rule_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:iot:{region}:{account}:rule/{name}")
}

fn string_member<'a>(obj: &'a Map<String, Value>, name: &str) -> RuleResult<Option<&'a str>> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(RuleError::invalid(format!("{name} must be a string."))),
    }
}

fn firehose_target(action: &Map<String, Value>) -> RuleResult<FirehoseTarget> {
    let role_arn = string_member(action, "roleArn")?
        .filter(|s| s.starts_with("arn:"))
        .ok_or_else(|| RuleError::invalid("firehose.roleArn must be an ARN."))?;
    let name = string_member(action, "deliveryStreamName")?
        .ok_or_else(|| RuleError::invalid("firehose.deliveryStreamName is required."))?;
    let name_ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
    if !name_ok {
        return Err(RuleError::invalid(format!(
            "firehose.deliveryStreamName '{name}' must be 1 to 64 characters of [a-zA-Z0-9_.-]."
        )));
    }
    let separator = string_member(action, "separator")?;
    if let Some(s) = separator
        && !SEPARATORS.contains(&s)
    {
        return Err(RuleError::invalid(
            "firehose.separator must be one of '\\n', '\\t', '\\r\\n' or ','.",
        ));
    }
    let batch_mode = match action.get("batchMode") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(RuleError::invalid("firehose.batchMode must be a boolean.")),
    };
    Ok(FirehoseTarget {
        role_arn: role_arn.to_string(),
        delivery_stream_name: name.to_string(),
        separator: separator.map(str::to_string),
        batch_mode,
    })
}

fn targets(payload: &Map<String, Value>) -> RuleResult<Vec<FirehoseTarget>> {
    let actions = match payload.get("actions") {
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) => {
            return Err(RuleError::invalid("topicRulePayload.actions is required."));
        }
        Some(_) => return Err(RuleError::invalid("actions must be a list.")),
    };
    if actions.len() > MAX_ACTIONS {
        return Err(RuleError::invalid(format!(
            "A rule has at most {MAX_ACTIONS} actions."
        )));
    }
    let mut out = Vec::with_capacity(actions.len());
    for action in actions {
        let Some(action) = action.as_object() else {
            return Err(RuleError::invalid("Each action must be an object."));
        };
        let mut kinds = action.iter().filter(|(_, v)| !v.is_null());
        match (kinds.next(), kinds.next()) {
            (Some((kind, Value::Object(body))), None) if kind == "firehose" => {
                out.push(firehose_target(body)?)
            }
            (Some((kind, _)), None) => {
                return Err(RuleError::invalid(format!(
                    "Fleetward supports only the firehose rule action, not '{kind}'."
                )));
            }
            _ => {
                return Err(RuleError::invalid(
                    "Each action must name exactly one action type.",
                ));
            }
        }
    }
    Ok(out)
}

/// Validates a `TopicRulePayload` (the request body, whose members botocore spreads at the
/// top level) into a rule named `name`; nothing is stored here.
pub fn from_payload(
    name: &str,
    payload: &Value,
    now_ms: i64,
    tags: Option<String>,
) -> RuleResult<RuleDoc> {
    let payload = payload
        .as_object()
        .ok_or_else(|| RuleError::invalid("topicRulePayload must be an object."))?;
    let sql_text = string_member(payload, "sql")?
        .ok_or_else(|| RuleError::invalid("topicRulePayload.sql is required."))?;
    let statement = sql::parse(sql_text)?;
    let description = string_member(payload, "description")?;
    let rule_disabled = match payload.get("ruleDisabled") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(RuleError::invalid("ruleDisabled must be a boolean.")),
    };
    let sql_version = string_member(payload, "awsIotSqlVersion")?.unwrap_or(DEFAULT_SQL_VERSION);
    if !SQL_VERSIONS.contains(&sql_version) {
        return Err(RuleError::invalid(format!(
            "awsIotSqlVersion must be one of {SQL_VERSIONS:?}."
        )));
    }
    if payload.get("errorAction").is_some_and(|v| !v.is_null()) {
        return Err(RuleError::invalid(
            "Fleetward does not support errorAction; failed rule deliveries are counted on /metrics and logged.",
        ));
    }
    Ok(RuleDoc {
        name: name.to_string(),
        sql: sql_text.to_string(),
        topic_filter: statement.topic_filter,
        description: description.map(str::to_string),
        targets: targets(payload)?,
        rule_disabled,
        sql_version: sql_version.to_string(),
        tags,
        created_ms: now_ms,
        updated_ms: now_ms,
    })
}

impl RuleDoc {
    fn actions_json(&self) -> Value {
        let actions: Vec<Value> = self
            .targets
            .iter()
            .map(|t| {
                let mut body = json!({
                    "roleArn": t.role_arn,
                    "deliveryStreamName": t.delivery_stream_name,
                    "batchMode": t.batch_mode,
                });
                if let Some(s) = &t.separator {
                    body["separator"] = json!(s);
                }
                json!({ "firehose": body })
            })
            .collect();
        Value::Array(actions)
    }

    /// The `TopicRule` shape of GetTopicRule.
    pub fn to_topic_rule(&self) -> Value {
        let mut out = json!({
            "ruleName": self.name,
            "sql": self.sql,
            "createdAt": self.created_ms as f64 / 1000.0,
            "actions": self.actions_json(),
            "ruleDisabled": self.rule_disabled,
            "awsIotSqlVersion": self.sql_version,
        });
        if let Some(d) = &self.description {
            out["description"] = json!(d);
        }
        out
    }

    /// The `TopicRuleListItem` shape of ListTopicRules.
    pub fn to_list_item(&self, arn: String) -> Value {
        let mut out = json!({
            "ruleArn": arn,
            "ruleName": self.name,
            "createdAt": self.created_ms as f64 / 1000.0,
            "ruleDisabled": self.rule_disabled,
        });
        if let Some(filter) = &self.topic_filter {
            out["topicPattern"] = json!(filter);
        }
        out
    }

    /// Whether a message on `topic` triggers this rule: its FROM filter matches, or the
    /// topic is the rule's Basic Ingest topic `$aws/rules/<name>[/...]`.
    pub fn triggered_by(&self, topic: &str) -> bool {
        if let Some(rest) = topic.strip_prefix(super::BASIC_INGEST_PREFIX) {
            let name = rest.split('/').next().unwrap_or("");
            return name == self.name;
        }
        self.topic_filter
            .as_deref()
            .is_some_and(|f| sql::matches(f, topic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(actions: Value) -> Value {
        json!({"sql": "SELECT * FROM 'a/#'", "actions": actions})
    }

    #[test]
    fn accepts_firehose_actions() {
        let doc = from_payload(
            "r1",
            &payload(json!([{"firehose": {
                "roleArn": "arn:aws:iam::000000000000:role/r",
                "deliveryStreamName": "s-1",
                "separator": "\n",
                "batchMode": true
            }}])),
            5_000,
            None,
        )
        .unwrap();
        assert_eq!(doc.topic_filter.as_deref(), Some("a/#"));
        assert!(doc.triggered_by("a/b"));
        assert!(doc.triggered_by("$aws/rules/r1"));
        assert!(doc.triggered_by("$aws/rules/r1/sub/topic"));
        assert!(!doc.triggered_by("$aws/rules/r10"));
        assert!(!doc.triggered_by("b"));
        assert_eq!(doc.targets[0].separator.as_deref(), Some("\n"));
        assert!(doc.targets[0].batch_mode);
        assert_eq!(doc.sql_version, DEFAULT_SQL_VERSION);
        let rule = doc.to_topic_rule();
        assert_eq!(rule["actions"][0]["firehose"]["deliveryStreamName"], "s-1");
        assert_eq!(rule["createdAt"], 5.0);
    }

    #[test]
    fn refuses_what_is_not_supported() {
        let role = "arn:aws:iam::000000000000:role/r";
        for actions in [
            json!([{"lambda": {"functionArn": "arn:aws:lambda:x"}}]),
            json!([{"firehose": {"roleArn": role}}]),
            json!([{"firehose": {"roleArn": "nope", "deliveryStreamName": "s"}}]),
            json!([{"firehose": {"roleArn": role, "deliveryStreamName": "s", "separator": ";"}}]),
            json!([{"firehose": {"roleArn": role, "deliveryStreamName": "s"}, "sns": {}}]),
            json!("x"),
        ] {
            let err = from_payload("r", &payload(actions.clone()), 0, None).unwrap_err();
            assert!(
                matches!(err, RuleError::InvalidRequest(_)),
                "{actions}: {err:?}"
            );
        }
        let bad_sql = json!({"sql": "SELECT a FROM 'x'", "actions": []});
        assert!(matches!(
            from_payload("r", &bad_sql, 0, None),
            Err(RuleError::SqlParse(_))
        ));
        assert!(valid_name("ok_Name1").is_ok());
        assert!(valid_name("bad-name").is_err());
        assert!(valid_name("").is_err());
    }
}
