//! The AWS query protocol's request side: form-encoded parameters (body and query string),
//! with maps as `Name.entry.N.key/value` and lists as `Name.member.N[.Member]`.

use std::collections::{BTreeMap, HashMap};

use fleetward_events::{AttributeInput, SnsError};

use crate::route::query_pairs;

/// The parameters of one request; a name given twice keeps its last value.
pub struct Params(HashMap<String, String>);

impl Params {
    /// Query-string parameters, then the form body's (a form body wins).
    pub fn parse(raw_query: &str, body: &[u8]) -> Params {
        let mut map = HashMap::new();
        for (k, v) in query_pairs(raw_query) {
            map.insert(k, v);
        }
        if let Ok(text) = std::str::from_utf8(body) {
            for (k, v) in query_pairs(text.trim()) {
                map.insert(k, v);
            }
        }
        Params(map)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A required parameter: missing is "Invalid parameter: NAME", as SNS answers.
    pub fn required(&self, name: &str) -> Result<&str, SnsError> {
        self.get(name).ok_or_else(|| SnsError::invalid(name))
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, SnsError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(SnsError::invalid(name)),
        }
    }

    /// Entries `PREFIX.N.FIELD` grouped by N (1, 2, ...), in N order.
    fn indexed(&self, prefix: &str) -> Result<Vec<HashMap<&str, &str>>, SnsError> {
        let mut groups: BTreeMap<u32, HashMap<&str, &str>> = BTreeMap::new();
        let dotted = format!("{prefix}.");
        for (key, value) in &self.0 {
            let Some(rest) = key.strip_prefix(&dotted) else {
                continue;
            };
            let (index, field) = rest.split_once('.').unwrap_or((rest, ""));
            let index: u32 = index
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| SnsError::invalid(prefix))?;
            groups.entry(index).or_default().insert(field, value);
        }
        Ok(groups.into_values().collect())
    }

    /// A map member: `NAME.entry.N.key` / `NAME.entry.N.value`.
    pub fn map(&self, name: &str) -> Result<Vec<(String, String)>, SnsError> {
        self.indexed(&format!("{name}.entry"))?
            .into_iter()
            .map(|entry| match (entry.get("key"), entry.get("value")) {
                (Some(k), v) => Ok((k.to_string(), v.unwrap_or(&"").to_string())),
                _ => Err(SnsError::invalid(name)),
            })
            .collect()
    }

    /// `Tags.member.N.Key` / `.Value`.
    pub fn tags(&self, name: &str) -> Result<Vec<(String, String)>, SnsError> {
        self.indexed(&format!("{name}.member"))?
            .into_iter()
            .map(|m| match (m.get("Key"), m.get("Value")) {
                (Some(k), Some(v)) => Ok((k.to_string(), v.to_string())),
                _ => Err(SnsError::invalid(name)),
            })
            .collect()
    }

    /// `NAME.member.N` strings.
    pub fn strings(&self, name: &str) -> Result<Vec<String>, SnsError> {
        self.indexed(&format!("{name}.member"))?
            .into_iter()
            .map(|m| {
                m.get("")
                    .map(|v| v.to_string())
                    .ok_or_else(|| SnsError::invalid(name))
            })
            .collect()
    }

    /// `MessageAttributes.entry.N.Name` / `.Value.DataType|StringValue|BinaryValue`.
    pub fn message_attributes(&self) -> Result<Vec<AttributeInput>, SnsError> {
        self.indexed("MessageAttributes.entry")?
            .into_iter()
            .map(|m| {
                let name = m.get("Name").ok_or_else(|| SnsError::invalid("MessageAttributes"))?;
                let data_type = m
                    .get("Value.DataType")
                    .ok_or_else(|| {
                        SnsError::ParameterValueInvalid(format!(
                            "The message attribute '{name}' must contain a non-empty message attribute type."
                        ))
                    })?;
                Ok(AttributeInput {
                    name: name.to_string(),
                    data_type: data_type.to_string(),
                    string_value: m.get("Value.StringValue").map(|v| v.to_string()),
                    binary_value: m.get("Value.BinaryValue").map(|v| v.to_string()),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_grouped_by_index_in_order() {
        let p = Params::parse(
            "",
            b"Action=CreateTopic&Name=t&Attributes.entry.2.key=B&Attributes.entry.2.value=2\
              &Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=Hello+World\
              &Tags.member.1.Key=team&Tags.member.1.Value=sec&TagKeys.member.1=a&TagKeys.member.2=b",
        );
        assert_eq!(p.required("Name").unwrap(), "t");
        assert_eq!(
            p.map("Attributes").unwrap(),
            vec![
                ("DisplayName".to_string(), "Hello World".to_string()),
                ("B".to_string(), "2".to_string())
            ]
        );
        assert_eq!(p.tags("Tags").unwrap(), vec![("team".into(), "sec".into())]);
        assert_eq!(p.strings("TagKeys").unwrap(), vec!["a", "b"]);
        assert_eq!(
            p.required("Missing").unwrap_err().to_string(),
            "Invalid parameter: Missing"
        );
    }

    #[test]
    fn message_attributes_and_bad_indexes() {
        let p = Params::parse(
            "",
            b"MessageAttributes.entry.1.Name=sev&MessageAttributes.entry.1.Value.DataType=String\
              &MessageAttributes.entry.1.Value.StringValue=HIGH",
        );
        let attrs = p.message_attributes().unwrap();
        assert_eq!(attrs[0].name, "sev");
        assert_eq!(attrs[0].string_value.as_deref(), Some("HIGH"));
        let bad = Params::parse("", b"Attributes.entry.x.key=a");
        assert!(bad.map("Attributes").is_err());
        let zero = Params::parse("", b"Tags.member.0.Key=a&Tags.member.0.Value=b");
        assert!(zero.tags("Tags").is_err());
        assert!(
            Params::parse("", b"ReturnSubscriptionArn=maybe")
                .boolean("ReturnSubscriptionArn")
                .is_err()
        );
    }

    proptest::proptest! {
        /// Any query string or body parses without panicking, and member lists either parse or
        /// answer InvalidParameter.
        #[test]
        fn any_form_parses(query in "\\PC{0,80}", body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120)) {
            let p = Params::parse(&query, &body);
            for name in ["Attributes", "Tags", "TagKeys"] {
                let _ = p.map(name);
                let _ = p.tags(name);
                let _ = p.strings(name);
            }
            if let Err(e) = p.message_attributes() {
                proptest::prop_assert!(matches!(e.code(), "InvalidParameter" | "ParameterValueInvalid"));
            }
        }
    }
}
