//! Parses request bodies into a `serde_json::Value` with every object and array allocated once,
//! at its final size.
//!
//! serde_json's own `Value` visitor grows each object one member at a time: the index table is
//! rehashed and the entry list reallocated several times for a 20-member object, which was about
//! 8% of the server's CPU on BatchImportFindings (100 findings of ~2 KB per request). Here the
//! members of all open containers are gathered on one scratch stack shared by every nesting
//! level, and each container is built when it closes, exactly sized. The result is the same
//! `Value` serde_json builds (a repeated key keeps its first position and its last value), and
//! errors are serde_json's own, from the same deserializer.

use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// `serde_json::from_slice::<Value>`, with exactly sized containers.
pub fn parse_value(bytes: &[u8]) -> serde_json::Result<Value> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let mut scratch = Scratch::default();
    let value = Tree {
        scratch: &mut scratch,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// Members and items of the containers still open, innermost last.
#[derive(Default)]
struct Scratch {
    members: Vec<(String, Value)>,
    items: Vec<Value>,
}

struct Tree<'s> {
    scratch: &'s mut Scratch,
}

impl<'de> DeserializeSeed<'de> for Tree<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Tree<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // As serde_json: a non-finite float (which JSON text cannot produce) becomes null.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let scratch = self.scratch;
        let base = scratch.items.len();
        while let Some(item) = seq.next_element_seed(Tree {
            scratch: &mut *scratch,
        })? {
            scratch.items.push(item);
        }
        // `drain` knows its length: the vector is allocated once.
        Ok(Value::Array(scratch.items.drain(base..).collect()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let scratch = self.scratch;
        let base = scratch.members.len();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Tree {
                scratch: &mut *scratch,
            })?;
            scratch.members.push((key, value));
        }
        let mut object = Map::with_capacity(scratch.members.len() - base);
        for (key, value) in scratch.members.drain(base..) {
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_as_serde_json(text: &str) {
        let ours = parse_value(text.as_bytes());
        let theirs = serde_json::from_str::<Value>(text);
        match (ours, theirs) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b, "{text}");
                // Same member order too (preserve_order), not only equal maps.
                assert_eq!(a.to_string(), b.to_string(), "{text}");
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text}"),
            (a, b) => panic!("{text}: ours {a:?}, serde_json {b:?}"),
        }
    }

    #[test]
    fn builds_the_value_serde_json_builds() {
        for text in [
            "{}",
            "[]",
            "null",
            "true",
            "-12",
            "18446744073709551615",
            "1.5e300",
            "-0.0",
            r#""text with \"escapes\" \u00e9 \ud83d\ude00""#,
            r#"{"b":1,"a":[1,{"c":[],"d":{}},"x"],"e":{"f":{"g":[[],[[]]]}}}"#,
            r#"{"dup":1,"other":2,"dup":3}"#,
            r#"[{"a":1},{"a":2,"b":[true,false,null]}]"#,
            r#" { "Findings" : [ { "Id" : "x" , "Severity" : { "Label" : "LOW" } } ] } "#,
        ] {
            same_as_serde_json(text);
        }
    }

    #[test]
    fn reports_serde_json_errors() {
        for text in [
            "",
            "{",
            "[1,]",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            "{} trailing",
            r#""\x""#,
            "[1e999999]",
            r#"{"a":"unterminated}"#,
            &"[".repeat(200),
        ] {
            same_as_serde_json(text);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_json_round_trips(text in r#"[\[\]{}":,0-9a-c \-.e]{0,40}"#) {
            same_as_serde_json(&text);
        }
    }
}
