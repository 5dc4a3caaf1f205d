//! Checks of what callers send: protocols and endpoints, subjects, messages and message
//! attributes. Each returns the SNS error a bad value gets, before anything changes.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::{SnsError, SnsResult};
use crate::records::MessageAttribute;

/// Publish's limit: message and attributes together (262,144 bytes).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
const MAX_SUBJECT_CHARS: usize = 99;
const MAX_ATTRIBUTES: usize = 10;
const MAX_ATTRIBUTE_NAME: usize = 256;
const MAX_FILE_PATH: usize = 1024;
const MAX_URL: usize = 2048;

/// The protocols Fleetward delivers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Https,
    /// A topic on Fleetward's device gateway.
    Mqtt,
    /// JSON lines appended to a file under the data dir.
    File,
    /// A delivery stream of the export service (endpoint: its ARN).
    Firehose,
}

impl Protocol {
    pub fn parse(text: &str) -> SnsResult<Self> {
        match text {
            "http" => Ok(Self::Http),
            "https" => Ok(Self::Https),
            "mqtt" => Ok(Self::Mqtt),
            "file" => Ok(Self::File),
            "firehose" => Ok(Self::Firehose),
            "email" | "email-json" | "sms" | "sqs" | "lambda" | "application" => {
                Err(SnsError::invalid_because(
                    "Protocol",
                    format!("Fleetward does not deliver to {text} endpoints"),
                ))
            }
            other => Err(SnsError::InvalidParameter(format!(
                "Invalid parameter: Amazon SNS does not support this protocol string: {other}"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
            Self::Mqtt => "mqtt",
            Self::File => "file",
            Self::Firehose => "firehose",
        }
    }

    /// HTTP/S subscriptions must confirm; the others are Fleetward's own and need not.
    pub fn needs_confirmation(self) -> bool {
        matches!(self, Self::Http | Self::Https)
    }

    pub fn is_http(self) -> bool {
        matches!(self, Self::Http | Self::Https)
    }
}

/// Checks an endpoint for its protocol.
pub fn endpoint(protocol: Protocol, endpoint: &str) -> SnsResult<()> {
    let ok = match protocol {
        Protocol::Http | Protocol::Https => {
            let url = reqwest::Url::parse(endpoint).ok();
            let scheme_ok = url.as_ref().is_some_and(|u| u.scheme() == protocol.name());
            if url.is_some() && !scheme_ok {
                return Err(SnsError::invalid_because(
                    "Endpoint",
                    "must match the specified protocol",
                ));
            }
            endpoint.len() <= MAX_URL
                && url.is_some_and(|u| u.host_str().is_some_and(|h| !h.is_empty()))
        }
        Protocol::Mqtt => is_mqtt_topic(endpoint),
        Protocol::File => relative_file_path(endpoint).is_some(),
        Protocol::Firehose => is_delivery_stream_arn(endpoint),
    };
    if ok {
        Ok(())
    } else {
        Err(SnsError::invalid("Endpoint"))
    }
}

/// `arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME`.
fn is_delivery_stream_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "firehose"
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].strip_prefix("deliverystream/").is_some_and(|n| {
            (1..=64).contains(&n.len())
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        })
}

/// A topic name the gateway routes (AWS IoT limits: 256 bytes, 7 slashes), without
/// wildcards and outside the reserved `$` topics.
fn is_mqtt_topic(topic: &str) -> bool {
    !topic.is_empty()
        && topic.len() <= 256
        && !topic.starts_with('$')
        && !topic.contains(['+', '#', '\0'])
        && topic.matches('/').count() <= 7
}

/// The endpoint of a `file` subscription as a relative path of plain components: nothing
/// absolute, no `..`, no control characters. It is joined under the notification directory.
pub fn relative_file_path(endpoint: &str) -> Option<&Path> {
    if endpoint.is_empty()
        || endpoint.len() > MAX_FILE_PATH
        || endpoint.chars().any(char::is_control)
        || endpoint.ends_with('/')
    {
        return None;
    }
    let path = Path::new(endpoint);
    path.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then_some(path)
}

/// Subject: ASCII, starting with a letter, digit or punctuation, no control characters, at
/// most 99 characters.
pub fn subject(subject: &str) -> SnsResult<()> {
    let first_ok = subject
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c.is_ascii_punctuation());
    if first_ok
        && subject.len() <= MAX_SUBJECT_CHARS
        && subject.bytes().all(|b| (0x20..0x7f).contains(&b))
    {
        Ok(())
    } else {
        Err(SnsError::invalid("Subject"))
    }
}

/// MessageStructure=json: a JSON object of strings with a `default` entry.
pub fn structured_message(message: &str) -> SnsResult<BTreeMap<String, String>> {
    let parsed: serde_json::Value = serde_json::from_str(message)
        .map_err(|_| SnsError::invalid("Message Structure - JSON message body failed to parse"))?;
    let object = parsed.as_object().ok_or_else(|| {
        SnsError::invalid("Message Structure - JSON message body failed to parse")
    })?;
    let mut out = BTreeMap::new();
    for (key, value) in object {
        let text = value.as_str().ok_or_else(|| {
            SnsError::invalid("Message Structure - JSON message values must be strings")
        })?;
        out.insert(key.clone(), text.to_string());
    }
    if !out.contains_key("default") {
        return Err(SnsError::invalid(
            "Message Structure - No default entry in JSON message body",
        ));
    }
    Ok(out)
}

/// A message attribute as the request carried it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributeInput {
    pub name: String,
    pub data_type: String,
    pub string_value: Option<String>,
    /// Base64, as the query protocol carries blobs.
    pub binary_value: Option<String>,
}

/// Checks message attributes; returns them as stored (binary values re-encoded base64).
pub fn message_attributes(inputs: &[AttributeInput]) -> SnsResult<Vec<MessageAttribute>> {
    if inputs.len() > MAX_ATTRIBUTES {
        return Err(SnsError::invalid_because(
            "MessageAttributes",
            format!(
                "Number of message attributes [{}] exceeds the allowed maximum [{MAX_ATTRIBUTES}].",
                inputs.len()
            ),
        ));
    }
    let mut out: Vec<MessageAttribute> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let name = &input.name;
        let invalid = |why: String| SnsError::ParameterValueInvalid(why);
        if !is_attribute_name(name) {
            return Err(invalid(format!(
                "The message attribute name '{name}' is invalid."
            )));
        }
        if out.iter().any(|a| &a.name == name) {
            return Err(invalid(format!(
                "The message attribute '{name}' appears more than once."
            )));
        }
        let base = input.data_type.split('.').next().unwrap_or_default();
        let custom = input.data_type.get(base.len()..).unwrap_or_default();
        let array = input.data_type == "String.Array";
        if !matches!(base, "String" | "Number" | "Binary")
            || (!array && !custom.is_empty() && !is_custom_label(&custom[1..]))
        {
            return Err(invalid(format!(
                "The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
            )));
        }
        let value = if base == "Binary" {
            let raw = input.binary_value.as_deref().unwrap_or_default();
            let bytes = STANDARD.decode(raw).unwrap_or_default();
            if bytes.is_empty() {
                return Err(invalid(format!(
                    "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{}'.",
                    input.data_type
                )));
            }
            STANDARD.encode(bytes)
        } else {
            let text = input.string_value.clone().unwrap_or_default();
            if text.is_empty() {
                return Err(invalid(format!(
                    "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{}'.",
                    input.data_type
                )));
            }
            if base == "Number" && text.trim().parse::<f64>().map_or(true, |n| !n.is_finite()) {
                return Err(invalid(format!(
                    "The message attribute '{name}' with type 'Number' must contain a valid numerical value."
                )));
            }
            if array
                && !serde_json::from_str::<serde_json::Value>(&text).is_ok_and(|v| v.is_array())
            {
                return Err(invalid(format!(
                    "The message attribute '{name}' with type 'String.Array' must contain a JSON array."
                )));
            }
            text
        };
        out.push(MessageAttribute {
            name: name.clone(),
            data_type: input.data_type.clone(),
            value,
        });
    }
    Ok(out)
}

/// Bytes the attributes count against the message size limit: name, type and value.
pub fn attributes_size(attributes: &[MessageAttribute]) -> usize {
    attributes
        .iter()
        .map(|a| a.name.len() + a.data_type.len() + a.value.len())
        .sum()
}

fn is_attribute_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !name.is_empty()
        && name.len() <= MAX_ATTRIBUTE_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.")
}

fn is_custom_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 256
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols() {
        assert_eq!(Protocol::parse("https").unwrap(), Protocol::Https);
        let err = Protocol::parse("carrier-pigeon").unwrap_err();
        assert_eq!(err.code(), "InvalidParameter");
        assert!(err.to_string().contains("carrier-pigeon"));
        assert_eq!(
            Protocol::parse("sqs").unwrap_err().code(),
            "InvalidParameter"
        );
    }

    #[test]
    fn http_endpoints_must_be_urls_of_their_scheme() {
        assert!(endpoint(Protocol::Http, "http://127.0.0.1:8080/hook").is_ok());
        assert!(endpoint(Protocol::Https, "https://example.com").is_ok());
        for bad in ["", "not a url", "http://", "ftp://x", "https://x"] {
            assert!(endpoint(Protocol::Http, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn mqtt_endpoints_are_plain_topics() {
        assert!(endpoint(Protocol::Mqtt, "alerts/high").is_ok());
        for bad in ["", "a/+/b", "a/#", "$aws/things/x", "a/b/c/d/e/f/g/h/i"] {
            assert!(endpoint(Protocol::Mqtt, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn firehose_endpoints_are_delivery_stream_arns() {
        assert!(
            endpoint(
                Protocol::Firehose,
                "arn:aws:firehose:us-east-1:000000000000:deliverystream/to-splunk"
            )
            .is_ok()
        );
        for bad in [
            "to-splunk",
            "arn:aws:firehose:us-east-1:0:deliverystream/x",
            "arn:aws:sns:us-east-1:000000000000:deliverystream/x",
            "arn:aws:firehose:us-east-1:000000000000:deliverystream/a b",
        ] {
            assert!(endpoint(Protocol::Firehose, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn file_endpoints_stay_under_the_directory() {
        assert!(endpoint(Protocol::File, "alerts.jsonl").is_ok());
        assert!(endpoint(Protocol::File, "team/alerts.jsonl").is_ok());
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "./x", "a/", "a\nb"] {
            assert!(endpoint(Protocol::File, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn subjects() {
        assert!(subject("Audit finished").is_ok());
        assert!(subject("[alarm] x").is_ok());
        for bad in ["", " leading space", "two\nlines", "é", &"x".repeat(100)] {
            assert!(subject(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn structured_messages_need_a_default() {
        let m = structured_message(r#"{"default":"d","http":"h"}"#).unwrap();
        assert_eq!(m["http"], "h");
        assert!(structured_message(r#"{"http":"h"}"#).is_err());
        assert!(structured_message("not json").is_err());
        assert!(structured_message(r#"{"default":1}"#).is_err());
    }

    #[test]
    fn message_attributes_are_checked() {
        let attr = |name: &str, t: &str, s: Option<&str>, b: Option<&str>| AttributeInput {
            name: name.into(),
            data_type: t.into(),
            string_value: s.map(str::to_string),
            binary_value: b.map(str::to_string),
        };
        let ok = message_attributes(&[
            attr("severity", "String", Some("HIGH"), None),
            attr("count", "Number", Some("3"), None),
            attr("blob", "Binary", None, Some("AQID")),
            attr("tags", "String.Array", Some(r#"["a"]"#), None),
            attr("custom", "String.mine", Some("x"), None),
        ])
        .unwrap();
        assert_eq!(ok.len(), 5);
        for bad in [
            attr("AWS.x", "String", Some("v"), None),
            attr("a..b", "String", Some("v"), None),
            attr("n", "Number", Some("abc"), None),
            attr("s", "String", Some(""), None),
            attr("s", "Date", Some("x"), None),
            attr("b", "Binary", None, Some("!!")),
            attr("arr", "String.Array", Some("x"), None),
        ] {
            let err = message_attributes(std::slice::from_ref(&bad)).unwrap_err();
            assert_eq!(err.code(), "ParameterValueInvalid", "{bad:?}");
        }
        let many: Vec<_> = (0..11)
            .map(|i| attr(&format!("a{i}"), "String", Some("v"), None))
            .collect();
        assert!(message_attributes(&many).is_err());
    }

    proptest::proptest! {
        /// Outside input never panics the checks; what they accept is what they claim.
        #[test]
        fn checks_never_panic(text in "\\PC{0,64}", bytes in proptest::collection::vec(0u8..128, 0..64)) {
            let ascii = String::from_utf8_lossy(&bytes).into_owned();
            for protocol in [Protocol::Http, Protocol::Https, Protocol::Mqtt, Protocol::File] {
                let _ = endpoint(protocol, &text);
                let _ = endpoint(protocol, &ascii);
            }
            if let Some(path) = relative_file_path(&text) {
                proptest::prop_assert!(path.is_relative());
                proptest::prop_assert!(!path.components().any(|c| c.as_os_str() == ".."));
            }
            let _ = subject(&text);
            let _ = structured_message(&text);
            let _ = crate::delivery_policy::parse_topic_policy(&text);
            let _ = crate::delivery_policy::parse_subscription_policy(&ascii);
            let _ = message_attributes(&[AttributeInput {
                name: text.clone(),
                data_type: ascii.clone(),
                string_value: Some(text.clone()),
                binary_value: Some(ascii.clone()),
            }]);
        }
    }
}
