//! Building an operation's input document from an HTTP request, the way botocore's
//! rest-json serializer spread it: JSON body members, URI labels and query-string members.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::route::query_pairs;

/// How a query-string member is typed in the model.
#[derive(Debug, Clone, Copy)]
pub enum QueryKind {
    String,
    Integer,
    Boolean,
    StringList,
    /// Not a query member: the value of the HTTP header named `wire`.
    Header,
}

/// A query-string member: the name on the wire and the member name in the input shape.
#[derive(Debug, Clone, Copy)]
pub struct QueryMember {
    pub wire: &'static str,
    pub member: &'static str,
    pub kind: QueryKind,
}

pub const fn q(wire: &'static str, member: &'static str, kind: QueryKind) -> QueryMember {
    QueryMember { wire, member, kind }
}

/// Merges body, labels and query members into one JSON object.
pub fn build_input(
    body: &[u8],
    labels: HashMap<&'static str, String>,
    raw_query: &str,
    headers: &[(&str, &str)],
    query_members: &[QueryMember],
) -> Result<Value, ApiError> {
    let mut input = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match crate::json_tree::parse_value(body) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                return Err(ApiError::invalid_input(
                    "The request body must be a JSON object.",
                ));
            }
            Err(e) => {
                return Err(ApiError::new(
                    400,
                    "SerializationException",
                    format!("The request body is not valid JSON: {e}"),
                ));
            }
        }
    };
    for (name, value) in labels {
        input.insert(name.to_string(), Value::String(value));
    }
    for member in query_members
        .iter()
        .filter(|m| matches!(m.kind, QueryKind::Header))
    {
        if let Some((_, value)) = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(member.wire))
        {
            input.insert(member.member.to_string(), Value::String(value.to_string()));
        }
    }
    for (key, value) in query_pairs(raw_query) {
        let Some(member) = query_members
            .iter()
            .find(|m| m.wire == key && !matches!(m.kind, QueryKind::Header))
        else {
            continue;
        };
        let parsed = match member.kind {
            QueryKind::String => Value::String(value),
            QueryKind::Integer => value.parse::<i64>().map(Value::from).map_err(|_| {
                ApiError::invalid_input(format!("{} must be an integer.", member.member))
            })?,
            QueryKind::Boolean => match value.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => {
                    return Err(ApiError::invalid_input(format!(
                        "{} must be true or false.",
                        member.member
                    )));
                }
            },
            QueryKind::Header => continue,
            QueryKind::StringList => {
                let entry = input
                    .entry(member.member.to_string())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = entry {
                    items.push(Value::String(value));
                }
                continue;
            }
        };
        input.insert(member.member.to_string(), parsed);
    }
    Ok(Value::Object(input))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_body_labels_and_query() {
        let mut labels = HashMap::new();
        labels.insert("ResourceArn", "arn:x".to_string());
        let input = build_input(
            br#"{"Tags":{"a":"b"}}"#,
            labels,
            "tagKeys=a&tagKeys=b&MaxResults=5&Other=1",
            &[],
            &[
                q("tagKeys", "TagKeys", QueryKind::StringList),
                q("MaxResults", "MaxResults", QueryKind::Integer),
            ],
        )
        .unwrap();
        assert_eq!(
            input,
            serde_json::json!({"Tags":{"a":"b"},"ResourceArn":"arn:x","TagKeys":["a","b"],"MaxResults":5})
        );
    }

    #[test]
    fn header_and_boolean_members() {
        let members = [
            q("x-amzn-principal", "principal", QueryKind::Header),
            q("recursive", "recursive", QueryKind::Boolean),
        ];
        let input = build_input(
            b"",
            HashMap::new(),
            "recursive=true&x-amzn-principal=ignored",
            &[("X-Amzn-Principal", "arn:cert")],
            &members,
        )
        .unwrap();
        assert_eq!(
            input,
            serde_json::json!({"principal": "arn:cert", "recursive": true})
        );
        assert!(build_input(b"", HashMap::new(), "recursive=yes", &[], &members).is_err());
    }

    #[test]
    fn rejects_non_object_bodies_and_bad_integers() {
        assert!(build_input(b"[1]", HashMap::new(), "", &[], &[]).is_err());
        assert_eq!(
            build_input(b"{nope", HashMap::new(), "", &[], &[])
                .unwrap_err()
                .code,
            "SerializationException"
        );
        let members = [q("MaxResults", "MaxResults", QueryKind::Integer)];
        assert!(build_input(b"", HashMap::new(), "MaxResults=x", &[], &members).is_err());
    }
}
