//! A format-neutral document tree that both decoders fill in.
//!
//! JSON and CBOR reports share one schema, so both are decoded into [`Node`] and validated
//! once. The tree keeps object members in payload order and as a list (not a map) so that
//! duplicate keys stay visible: `serde_json::Value` would silently keep the last one.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::Encoding;

/// Nesting the report schema never needs: root → metrics → tcp_connections →
/// established_connections → connections → [ ] → { }. Deeper input is rejected early.
const CBOR_RECURSION_LIMIT: usize = 32;

/// Never trust a length prefix for pre-allocation: CBOR headers can claim 2^64 items.
const MAX_PREALLOC: usize = 64;

/// CBOR "self-describe" tag 55799 (RFC 8949 §3.4.6), which some encoders put in front of
/// the document; it carries no meaning, so it is skipped.
const CBOR_SELF_DESCRIBE: [u8; 3] = [0xd9, 0xd9, 0xf7];

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    /// Any integer either format can carry: CBOR reaches -2^64 and bignums up to 2^128.
    Int(i128),
    Float(f64),
    Str(String),
    Array(Vec<Node>),
    /// Members in payload order; duplicates are kept for the validator to reject.
    Object(Vec<(String, Node)>),
}

impl Node {
    /// The JSON-ish type name used in error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "boolean",
            Node::Int(_) | Node::Float(_) => "number",
            Node::Str(_) => "string",
            Node::Array(_) => "array",
            Node::Object(_) => "object",
        }
    }
}

/// Decodes one complete document; trailing bytes are an error in both encodings.
pub(crate) fn decode(payload: &[u8], enc: Encoding) -> Result<Node, String> {
    match enc {
        Encoding::Json => serde_json::from_slice(payload).map_err(|e| e.to_string()),
        Encoding::Cbor => {
            let mut rest = payload.strip_prefix(&CBOR_SELF_DESCRIBE).unwrap_or(payload);
            let node = ciborium::de::from_reader_with_recursion_limit::<Node, _>(
                &mut rest,
                CBOR_RECURSION_LIMIT,
            )
            .map_err(|e| format!("{e:?}"))?;
            if rest.is_empty() {
                Ok(node)
            } else {
                Err(format!(
                    "{} trailing bytes after the CBOR document",
                    rest.len()
                ))
            }
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON/CBOR value (byte strings and tags are not part of the report schema)")
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Int(v.into()))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Int(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        i128::try_from(v)
            .map(Node::Int)
            .map_err(|_| E::custom("integer too large"))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_PREALLOC));
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(MAX_PREALLOC));
        // Keys must be text: a CBOR map with integer keys is not a report.
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value::<Node>()?;
            members.push((key, value));
        }
        Ok(Node::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cbor(v: &ciborium::Value) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::ser::into_writer(v, &mut out).unwrap();
        out
    }

    #[test]
    fn json_keeps_duplicate_keys_and_order() {
        let node = decode(br#"{"b":1,"a":2,"b":3}"#, Encoding::Json).unwrap();
        let Node::Object(members) = node else {
            panic!()
        };
        let keys: Vec<_> = members.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a", "b"]);
    }

    #[test]
    fn json_numbers_keep_integer_and_float_apart() {
        assert_eq!(
            decode(b"18446744073709551615", Encoding::Json),
            Ok(Node::Int(u64::MAX.into()))
        );
        assert_eq!(decode(b"-5", Encoding::Json), Ok(Node::Int(-5)));
        assert_eq!(decode(b"1.5e3", Encoding::Json), Ok(Node::Float(1500.0)));
    }

    #[test]
    fn json_trailing_garbage_is_an_error() {
        assert!(decode(br#"{"a":1} x"#, Encoding::Json).is_err());
    }

    #[test]
    fn cbor_decodes_maps_arrays_and_scalars() {
        let v = ciborium::Value::Map(vec![
            ("n".into(), ciborium::Value::Integer((-3).into())),
            ("f".into(), ciborium::Value::Float(0.5)),
            ("s".into(), ciborium::Value::Text("x".into())),
            (
                "a".into(),
                ciborium::Value::Array(vec![ciborium::Value::Null]),
            ),
            ("t".into(), ciborium::Value::Bool(true)),
        ]);
        let node = decode(&cbor(&v), Encoding::Cbor).unwrap();
        assert_eq!(
            node,
            Node::Object(vec![
                ("n".into(), Node::Int(-3)),
                ("f".into(), Node::Float(0.5)),
                ("s".into(), Node::Str("x".into())),
                ("a".into(), Node::Array(vec![Node::Null])),
                ("t".into(), Node::Bool(true)),
            ])
        );
    }

    #[test]
    fn cbor_rejects_non_text_keys_bytes_tags_and_trailing_data() {
        let int_key = ciborium::Value::Map(vec![(1.into(), 2.into())]);
        assert!(decode(&cbor(&int_key), Encoding::Cbor).is_err());
        let bytes = ciborium::Value::Bytes(vec![1, 2]);
        assert!(decode(&cbor(&bytes), Encoding::Cbor).is_err());
        let tagged = ciborium::Value::Tag(1, Box::new(ciborium::Value::Integer(5.into())));
        assert!(decode(&cbor(&tagged), Encoding::Cbor).is_err());
        let mut two = cbor(&ciborium::Value::Integer(1.into()));
        two.push(0x01);
        assert!(decode(&two, Encoding::Cbor).is_err());
    }

    #[test]
    fn cbor_self_describe_prefix_is_skipped() {
        let mut payload = CBOR_SELF_DESCRIBE.to_vec();
        payload.extend(cbor(&ciborium::Value::Integer(7.into())));
        assert_eq!(decode(&payload, Encoding::Cbor), Ok(Node::Int(7)));
    }

    #[test]
    fn cbor_huge_length_prefix_does_not_allocate() {
        // Array header claiming 2^63 items, then nothing.
        let payload = [0x9b, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert!(decode(&payload, Encoding::Cbor).is_err());
        // Text header claiming 2^63 bytes.
        let payload = [0x7b, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert!(decode(&payload, Encoding::Cbor).is_err());
    }

    #[test]
    fn cbor_deep_nesting_is_refused() {
        let payload = vec![0x81; 10_000];
        assert!(decode(&payload, Encoding::Cbor).is_err());
    }

    #[test]
    fn json_deep_nesting_is_refused() {
        let payload = "[".repeat(10_000);
        assert!(decode(payload.as_bytes(), Encoding::Json).is_err());
    }
}
