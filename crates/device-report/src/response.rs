//! The `accepted` / `rejected` reply payloads (spec §3.3), in the report's encoding.
//!
//! Keys and order follow AWS's documented replies:
//! `{"thingName","reportId","status":"ACCEPTED","timestamp"}` and, for rejections,
//! `statusDetails {ErrorCode, ErrorMessage}` before `timestamp`. `reportId` is left out of
//! a rejection when the report's header could not be read, as in AWS's own example.

use crate::Encoding;
use crate::error::ReportError;

/// The reply to an accepted report; `now_ms` is epoch milliseconds.
pub fn accepted_response(thing: &str, report_id: u64, now_ms: i64, enc: Encoding) -> Vec<u8> {
    encode(
        vec![
            ("thingName", Field::Text(thing)),
            ("reportId", Field::UInt(report_id)),
            ("status", Field::Text("ACCEPTED")),
            ("timestamp", Field::Int(now_ms)),
        ],
        enc,
    )
}

/// The reply to a rejected report; `reportId` comes from [`ReportError::report_id`].
pub fn rejected_response(thing: &str, error: &ReportError, now_ms: i64, enc: Encoding) -> Vec<u8> {
    let mut fields = vec![("thingName", Field::Text(thing))];
    if let Some(id) = error.report_id {
        fields.push(("reportId", Field::UInt(id)));
    }
    fields.push(("status", Field::Text("REJECTED")));
    fields.push((
        "statusDetails",
        Field::Object(vec![
            ("ErrorCode", Field::Text(error.code)),
            ("ErrorMessage", Field::Text(&error.message)),
        ]),
    ));
    fields.push(("timestamp", Field::Int(now_ms)));
    encode(fields, enc)
}

/// The few value kinds a reply holds, written once for both encodings.
enum Field<'a> {
    Text(&'a str),
    UInt(u64),
    Int(i64),
    Object(Vec<(&'static str, Field<'a>)>),
}

fn encode(fields: Vec<(&'static str, Field<'_>)>, enc: Encoding) -> Vec<u8> {
    let object = Field::Object(fields);
    match enc {
        Encoding::Json => {
            serde_json::to_vec(&to_json(object)).expect("a JSON value always serializes")
        }
        Encoding::Cbor => {
            let mut out = Vec::new();
            ciborium::ser::into_writer(&to_cbor(object), &mut out)
                .expect("writing CBOR to a Vec cannot fail");
            out
        }
    }
}

fn to_json(field: Field<'_>) -> serde_json::Value {
    match field {
        Field::Text(s) => s.into(),
        Field::UInt(n) => n.into(),
        Field::Int(n) => n.into(),
        Field::Object(members) => serde_json::Value::Object(
            members
                .into_iter()
                .map(|(k, v)| (k.to_owned(), to_json(v)))
                .collect(),
        ),
    }
}

fn to_cbor(field: Field<'_>) -> ciborium::Value {
    match field {
        Field::Text(s) => ciborium::Value::Text(s.to_owned()),
        Field::UInt(n) => ciborium::Value::Integer(n.into()),
        Field::Int(n) => ciborium::Value::Integer(n.into()),
        Field::Object(members) => ciborium::Value::Map(
            members
                .into_iter()
                .map(|(k, v)| (ciborium::Value::Text(k.to_owned()), to_cbor(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{INVALID_PAYLOAD, THROTTLED};

    fn cbor_decode(bytes: &[u8]) -> ciborium::Value {
        ciborium::de::from_reader(bytes).unwrap()
    }

    fn text(s: &str) -> ciborium::Value {
        ciborium::Value::Text(s.into())
    }

    #[test]
    fn accepted_json_is_exact() {
        let body = accepted_response("myThing", 12334567, 1635801636023, Encoding::Json);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"thingName":"myThing","reportId":12334567,"status":"ACCEPTED","timestamp":1635801636023}"#
        );
    }

    #[test]
    fn rejected_json_is_exact() {
        let error = ReportError {
            code: INVALID_PAYLOAD,
            message: "Malformed metrics report".into(),
            report_id: Some(12334567),
        };
        let body = rejected_response("myThing", &error, 1635802047699, Encoding::Json);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            concat!(
                r#"{"thingName":"myThing","reportId":12334567,"status":"REJECTED","#,
                r#""statusDetails":{"ErrorCode":"InvalidPayload","ErrorMessage":"Malformed metrics report"},"#,
                r#""timestamp":1635802047699}"#
            )
        );
    }

    #[test]
    fn rejected_json_without_report_id_matches_aws_example() {
        let error = ReportError {
            code: INVALID_PAYLOAD,
            message: "Malformed metrics report".into(),
            report_id: None,
        };
        let body = rejected_response("myThing", &error, 1635802047699, Encoding::Json);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            concat!(
                r#"{"thingName":"myThing","status":"REJECTED","#,
                r#""statusDetails":{"ErrorCode":"InvalidPayload","ErrorMessage":"Malformed metrics report"},"#,
                r#""timestamp":1635802047699}"#
            )
        );
    }

    #[test]
    fn json_escapes_device_text() {
        let error = ReportError {
            code: THROTTLED,
            message: "a \"quoted\"\nline".into(),
            report_id: None,
        };
        let body = rejected_response("t", &error, 0, Encoding::Json);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["statusDetails"]["ErrorMessage"], "a \"quoted\"\nline");
    }

    #[test]
    fn accepted_cbor_decodes_back() {
        let body = accepted_response("dev", u64::MAX, -1, Encoding::Cbor);
        assert_eq!(
            cbor_decode(&body),
            ciborium::Value::Map(vec![
                (text("thingName"), text("dev")),
                (text("reportId"), ciborium::Value::Integer(u64::MAX.into())),
                (text("status"), text("ACCEPTED")),
                (text("timestamp"), ciborium::Value::Integer((-1).into())),
            ])
        );
    }

    #[test]
    fn rejected_cbor_decodes_back() {
        let error = ReportError {
            code: THROTTLED,
            message: "slow down".into(),
            report_id: Some(7),
        };
        let body = rejected_response("dev", &error, 42, Encoding::Cbor);
        assert_eq!(
            cbor_decode(&body),
            ciborium::Value::Map(vec![
                (text("thingName"), text("dev")),
                (text("reportId"), ciborium::Value::Integer(7.into())),
                (text("status"), text("REJECTED")),
                (
                    text("statusDetails"),
                    ciborium::Value::Map(vec![
                        (text("ErrorCode"), text("Throttled")),
                        (text("ErrorMessage"), text("slow down")),
                    ])
                ),
                (text("timestamp"), ciborium::Value::Integer(42.into())),
            ])
        );
    }
}
