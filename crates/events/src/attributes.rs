//! Topic and subscription attributes: which may be set, how they are checked, and what
//! GetTopicAttributes / GetSubscriptionAttributes answer.

use std::collections::BTreeMap;

use crate::delivery_policy;
use crate::error::{SnsError, SnsResult};
use crate::records::{SubscriptionRecord, TopicRecord};
use crate::validate::Protocol;

const MAX_DISPLAY_NAME: usize = 100;
/// SNS's access policy size limit.
const MAX_POLICY_BYTES: usize = 30 * 1024;

/// Checks one topic attribute; `Ok(None)` means "remove it" (an empty value).
pub fn check_topic_attribute(name: &str, value: &str) -> SnsResult<Option<String>> {
    if value.is_empty() && matches!(name, "DisplayName" | "Policy" | "DeliveryPolicy") {
        return Ok(None);
    }
    match name {
        "DisplayName" => {
            if value.chars().count() > MAX_DISPLAY_NAME || value.chars().any(char::is_control) {
                return Err(SnsError::invalid_because(
                    "DisplayName",
                    "must be at most 100 printable characters",
                ));
            }
        }
        "Policy" => {
            let object = serde_json::from_str::<serde_json::Value>(value)
                .ok()
                .filter(|v| v.is_object());
            if value.len() > MAX_POLICY_BYTES || object.is_none() {
                return Err(SnsError::invalid_because(
                    "Policy",
                    "must be a JSON policy document of at most 30 KB",
                ));
            }
        }
        "DeliveryPolicy" => {
            delivery_policy::parse_topic_policy(value)?;
        }
        "SignatureVersion" => {
            if value != "1" && value != "2" {
                return Err(SnsError::invalid_because(
                    "SignatureVersion",
                    "must be 1 (SHA1withRSA) or 2 (SHA256withRSA)",
                ));
            }
        }
        _ => return Err(unsupported(name)),
    }
    Ok(Some(value.to_string()))
}

fn unsupported(name: &str) -> SnsError {
    SnsError::invalid_because(
        "AttributeName",
        format!("Fleetward does not support the attribute {name}"),
    )
}

/// CreateTopic's attributes, checked; `FifoTopic=false` is accepted (it is the default).
pub fn check_create_attributes(
    attributes: &[(String, String)],
) -> SnsResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (name, value) in attributes {
        if name == "FifoTopic" {
            if value.eq_ignore_ascii_case("false") {
                continue;
            }
            return Err(SnsError::invalid_because(
                "Attributes",
                "Fleetward supports standard topics only",
            ));
        }
        if let Some(value) = check_topic_attribute(name, value)? {
            out.insert(name.clone(), value);
        }
    }
    Ok(out)
}

/// SNS's default access policy of a topic (returned while no Policy is set).
pub fn default_policy(topic_arn: &str, account: &str) -> String {
    serde_json::json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": { "AWS": "*" },
            "Action": [
                "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                "SNS:ListSubscriptionsByTopic", "SNS:Publish"
            ],
            "Resource": topic_arn,
            "Condition": { "StringEquals": { "AWS:SourceOwner": account } }
        }]
    })
    .to_string()
}

/// Counts of a topic's subscriptions.
pub struct SubscriptionCounts {
    pub confirmed: u64,
    pub pending: u64,
}

/// GetTopicAttributes.
pub fn topic_attributes(
    topic: &TopicRecord,
    topic_arn: &str,
    account: &str,
    counts: &SubscriptionCounts,
) -> Vec<(String, String)> {
    let attr = |k: &str| topic.attributes.get(k).cloned();
    let mut out = vec![
        (
            "Policy".to_string(),
            attr("Policy").unwrap_or_else(|| default_policy(topic_arn, account)),
        ),
        ("Owner".to_string(), account.to_string()),
        ("TopicArn".to_string(), topic_arn.to_string()),
        (
            "DisplayName".to_string(),
            attr("DisplayName").unwrap_or_default(),
        ),
        (
            "SubscriptionsConfirmed".to_string(),
            counts.confirmed.to_string(),
        ),
        (
            "SubscriptionsPending".to_string(),
            counts.pending.to_string(),
        ),
        (
            "SubscriptionsDeleted".to_string(),
            topic.subscriptions_deleted.to_string(),
        ),
        (
            "EffectiveDeliveryPolicy".to_string(),
            delivery_policy::topic_effective_json(attr("DeliveryPolicy").as_deref()),
        ),
    ];
    if let Some(policy) = attr("DeliveryPolicy") {
        out.push(("DeliveryPolicy".to_string(), policy));
    }
    if let Some(version) = attr("SignatureVersion") {
        out.push(("SignatureVersion".to_string(), version));
    }
    out
}

/// Checks one subscription attribute for a subscription of `protocol`; `Ok(None)` removes it.
pub fn check_subscription_attribute(
    protocol: Protocol,
    name: &str,
    value: &str,
) -> SnsResult<Option<String>> {
    match name {
        "RawMessageDelivery" => {
            let value = value.to_ascii_lowercase();
            if value != "true" && value != "false" {
                return Err(SnsError::invalid_because(
                    "RawMessageDelivery",
                    "must be true or false",
                ));
            }
            if value == "true" && protocol == Protocol::File {
                return Err(SnsError::invalid_because(
                    "RawMessageDelivery",
                    "file subscriptions always get the JSON document (one line per message)",
                ));
            }
            Ok(Some(value))
        }
        "DeliveryPolicy" => {
            if !protocol.is_http() {
                return Err(SnsError::invalid_because(
                    "DeliveryPolicy",
                    "only http and https subscriptions take a delivery policy",
                ));
            }
            if value.is_empty() {
                return Ok(None);
            }
            delivery_policy::parse_subscription_policy(value)?;
            Ok(Some(value.to_string()))
        }
        _ => Err(unsupported(name)),
    }
}

/// GetSubscriptionAttributes: SNS's members, then Fleetward's delivery status (see README).
pub fn subscription_attributes(
    sub: &SubscriptionRecord,
    topic: &TopicRecord,
    arns: (&str, &str),
    account: &str,
    pending_deliveries: u64,
) -> Vec<(String, String)> {
    let (subscription_arn, topic_arn) = arns;
    let mut out: Vec<(String, String)> = vec![
        ("SubscriptionArn".into(), subscription_arn.into()),
        ("TopicArn".into(), topic_arn.into()),
        ("Owner".into(), account.into()),
        ("Protocol".into(), sub.protocol.clone()),
        ("Endpoint".into(), sub.endpoint.clone()),
        (
            "ConfirmationWasAuthenticated".into(),
            sub.confirmation_authenticated.to_string(),
        ),
        ("PendingConfirmation".into(), (!sub.confirmed).to_string()),
        ("RawMessageDelivery".into(), sub.raw_delivery().to_string()),
    ];
    if let Some(policy) = sub.attributes.get("DeliveryPolicy") {
        out.push(("DeliveryPolicy".into(), policy.clone()));
    }
    if Protocol::parse(&sub.protocol).is_ok_and(Protocol::is_http) {
        let effective = delivery_policy::effective(
            topic.attributes.get("DeliveryPolicy").map(String::as_str),
            sub.attributes.get("DeliveryPolicy").map(String::as_str),
        );
        out.push((
            "EffectiveDeliveryPolicy".into(),
            delivery_policy::subscription_effective_json(&effective),
        ));
    }
    let stats = &sub.stats;
    out.push(("DeliveriesSucceeded".into(), stats.succeeded.to_string()));
    out.push(("DeliveriesFailed".into(), stats.failed.to_string()));
    out.push((
        "DeliveryAttemptsFailed".into(),
        stats.failed_attempts.to_string(),
    ));
    out.push(("DeliveriesPending".into(), pending_deliveries.to_string()));
    if !stats.last_status.is_empty() {
        out.push(("LastDeliveryStatus".into(), stats.last_status.clone()));
        out.push((
            "LastDeliveryAttempt".into(),
            fleetward_model::timestamp::format_ms(stats.last_attempt_ms),
        ));
    }
    if !stats.last_error.is_empty() {
        out.push(("LastDeliveryError".into(), stats.last_error.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_attributes_are_checked() {
        assert_eq!(
            check_topic_attribute("DisplayName", "Alerts").unwrap(),
            Some("Alerts".into())
        );
        assert_eq!(check_topic_attribute("DisplayName", "").unwrap(), None);
        assert!(check_topic_attribute("Policy", "{not json").is_err());
        assert!(check_topic_attribute("SignatureVersion", "3").is_err());
        assert!(check_topic_attribute("KmsMasterKeyId", "alias/x").is_err());
        assert!(check_create_attributes(&[("FifoTopic".into(), "true".into())]).is_err());
        assert!(
            check_create_attributes(&[("FifoTopic".into(), "false".into())])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn subscription_attributes_depend_on_the_protocol() {
        assert!(check_subscription_attribute(Protocol::Http, "RawMessageDelivery", "TRUE").is_ok());
        assert!(
            check_subscription_attribute(Protocol::File, "RawMessageDelivery", "true").is_err()
        );
        assert!(check_subscription_attribute(Protocol::Mqtt, "DeliveryPolicy", "{}").is_err());
        assert!(
            check_subscription_attribute(
                Protocol::Https,
                "DeliveryPolicy",
                r#"{"healthyRetryPolicy":{"numRetries":1}}"#
            )
            .is_ok()
        );
        assert!(check_subscription_attribute(Protocol::Http, "FilterPolicy", "{}").is_err());
    }

    #[test]
    fn the_default_policy_names_the_topic_and_owner() {
        let p: serde_json::Value =
            serde_json::from_str(&default_policy("arn:aws:sns:r:1:t", "1")).unwrap();
        assert_eq!(p["Statement"][0]["Resource"], "arn:aws:sns:r:1:t");
        assert_eq!(
            p["Statement"][0]["Condition"]["StringEquals"]["AWS:SourceOwner"],
            "1"
        );
    }
}
