//! The JSON documents SNS sends to HTTP/S endpoints, and the strings it signs.
//!
//! String to sign (SNS "Verifying the signatures of Amazon SNS messages"): each signed field's
//! name, a newline, its value, a newline, in byte order of the names; a `Notification` signs
//! Message, MessageId, Subject (only if present), Timestamp, TopicArn, Type; a
//! `SubscriptionConfirmation` signs Message, MessageId, SubscribeURL, Timestamp, Token,
//! TopicArn, Type.

use serde_json::{Map, Value};

use crate::records::{MessageKind, MessageRecord};
use crate::signing::SignatureVersion;

/// What differs per delivery: the URLs and the signature.
pub struct Delivery<'a> {
    pub topic_arn: &'a str,
    pub message: &'a str,
    pub signature_version: SignatureVersion,
    pub signature: &'a str,
    pub signing_cert_url: &'a str,
    /// Notifications only.
    pub unsubscribe_url: &'a str,
    /// Confirmations only.
    pub subscribe_url: &'a str,
}

/// The string SNS signs for this message.
pub fn string_to_sign(
    record: &MessageRecord,
    message: &str,
    topic_arn: &str,
    subscribe_url: &str,
) -> String {
    let timestamp = fleetward_model::timestamp::format_ms(record.timestamp_ms);
    let mut fields: Vec<(&str, &str)> =
        vec![("Message", message), ("MessageId", &record.message_id)];
    match record.kind {
        MessageKind::Notification => {
            if let Some(subject) = &record.subject {
                fields.push(("Subject", subject));
            }
            fields.push(("Timestamp", &timestamp));
        }
        MessageKind::SubscriptionConfirmation => {
            fields.push(("SubscribeURL", subscribe_url));
            fields.push(("Timestamp", &timestamp));
            fields.push(("Token", record.token.as_deref().unwrap_or_default()));
        }
    }
    fields.push(("TopicArn", topic_arn));
    fields.push(("Type", record.kind.type_name()));
    let mut out = String::with_capacity(message.len() + 256);
    for (name, value) in fields {
        out.push_str(name);
        out.push('\n');
        out.push_str(value);
        out.push('\n');
    }
    out
}

/// The JSON body, members in SNS's order.
pub fn body(record: &MessageRecord, delivery: &Delivery<'_>) -> String {
    let mut m = Map::new();
    let mut put = |k: &str, v: &str| {
        m.insert(k.to_string(), Value::String(v.to_string()));
    };
    put("Type", record.kind.type_name());
    put("MessageId", &record.message_id);
    match record.kind {
        MessageKind::Notification => {
            put("TopicArn", delivery.topic_arn);
            if let Some(subject) = &record.subject {
                put("Subject", subject);
            }
            put("Message", delivery.message);
        }
        MessageKind::SubscriptionConfirmation => {
            put("Token", record.token.as_deref().unwrap_or_default());
            put("TopicArn", delivery.topic_arn);
            put("Message", delivery.message);
            put("SubscribeURL", delivery.subscribe_url);
        }
    }
    put(
        "Timestamp",
        &fleetward_model::timestamp::format_ms(record.timestamp_ms),
    );
    put("SignatureVersion", delivery.signature_version.number());
    put("Signature", delivery.signature);
    put("SigningCertURL", delivery.signing_cert_url);
    if record.kind == MessageKind::Notification {
        put("UnsubscribeURL", delivery.unsubscribe_url);
        if !record.attributes.is_empty() {
            let attributes: Map<String, Value> = record
                .attributes
                .iter()
                .map(|a| {
                    let value = serde_json::json!({ "Type": a.data_type, "Value": a.value });
                    (a.name.clone(), value)
                })
                .collect();
            m.insert("MessageAttributes".into(), Value::Object(attributes));
        }
    }
    Value::Object(m).to_string()
}

/// The text a subscription confirmation carries, as SNS words it.
pub fn confirmation_text(topic_arn: &str) -> String {
    format!(
        "You have chosen to subscribe to the topic {topic_arn}.\n\
         To confirm the subscription, visit the SubscribeURL included in this message."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::MessageAttribute;

    fn record(kind: MessageKind, subject: Option<&str>) -> MessageRecord {
        MessageRecord {
            kind,
            topic: "t".into(),
            message_id: "id-1".into(),
            subject: subject.map(str::to_string),
            message: "hello".into(),
            per_protocol: None,
            attributes: vec![],
            timestamp_ms: 0,
            token: (kind == MessageKind::SubscriptionConfirmation).then(|| "tok".to_string()),
            targets: vec![],
        }
    }

    #[test]
    fn notification_strings_to_sign_include_the_subject_only_if_present() {
        let r = record(MessageKind::Notification, Some("subj"));
        assert_eq!(
            string_to_sign(&r, "hello", "arn:t", ""),
            "Message\nhello\nMessageId\nid-1\nSubject\nsubj\nTimestamp\n1970-01-01T00:00:00.000Z\nTopicArn\narn:t\nType\nNotification\n"
        );
        let r = record(MessageKind::Notification, None);
        assert!(!string_to_sign(&r, "hello", "arn:t", "").contains("Subject"));
    }

    #[test]
    fn confirmation_strings_to_sign_have_url_and_token() {
        let r = record(MessageKind::SubscriptionConfirmation, None);
        assert_eq!(
            string_to_sign(&r, "m", "arn:t", "http://x/?a"),
            "Message\nm\nMessageId\nid-1\nSubscribeURL\nhttp://x/?a\nTimestamp\n1970-01-01T00:00:00.000Z\nToken\ntok\nTopicArn\narn:t\nType\nSubscriptionConfirmation\n"
        );
    }

    #[test]
    fn bodies_have_sns_members_in_order() {
        let mut r = record(MessageKind::Notification, Some("s"));
        r.attributes.push(MessageAttribute {
            name: "severity".into(),
            data_type: "String".into(),
            value: "HIGH".into(),
        });
        let d = Delivery {
            topic_arn: "arn:t",
            message: "hello",
            signature_version: SignatureVersion::V1,
            signature: "c2ln",
            signing_cert_url: "http://h/cert.pem",
            unsubscribe_url: "http://h/?Action=Unsubscribe",
            subscribe_url: "",
        };
        let text = body(&r, &d);
        let v: Value = serde_json::from_str(&text).unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "Type",
                "MessageId",
                "TopicArn",
                "Subject",
                "Message",
                "Timestamp",
                "SignatureVersion",
                "Signature",
                "SigningCertURL",
                "UnsubscribeURL",
                "MessageAttributes"
            ]
        );
        assert_eq!(v["MessageAttributes"]["severity"]["Value"], "HIGH");
        let c = record(MessageKind::SubscriptionConfirmation, None);
        let v: Value = serde_json::from_str(&body(&c, &d)).unwrap();
        assert_eq!(v["Token"], "tok");
        assert!(v.get("UnsubscribeURL").is_none());
    }
}
