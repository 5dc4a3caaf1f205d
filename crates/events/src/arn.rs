//! Topic and subscription ARNs: `arn:aws:sns:REGION:ACCOUNT:TOPIC` and
//! `arn:aws:sns:REGION:ACCOUNT:TOPIC:SUBSCRIPTION-ID`.

use crate::error::{SnsError, SnsResult};

/// Longest topic name SNS accepts (standard topics).
pub const MAX_TOPIC_NAME: usize = 256;

/// A parsed topic ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicArn {
    pub region: String,
    pub account: String,
    pub name: String,
}

/// A parsed subscription ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionArn {
    pub topic: TopicArn,
    pub id: String,
}

pub fn topic_arn(region: &str, account: &str, name: &str) -> String {
    fleetward_model::arn("sns", region, account, name)
}

/// Topic names: 1 to 256 ASCII letters, digits, hyphens and underscores.
pub fn is_valid_topic_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_TOPIC_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Splits `arn:aws:sns:REGION:ACCOUNT:REST` into (region, account, rest).
fn split(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:sns:")?;
    let (region, rest) = rest.split_once(':')?;
    let (account, rest) = rest.split_once(':')?;
    if region.is_empty() || !fleetward_model::is_valid_account_id(account) {
        return None;
    }
    Some((region, account, rest))
}

/// Parses a topic ARN; `parameter` names the request member in the error.
pub fn parse_topic(arn: &str, parameter: &str) -> SnsResult<TopicArn> {
    match split(arn) {
        Some((region, account, name)) if is_valid_topic_name(name) => Ok(TopicArn {
            region: region.to_string(),
            account: account.to_string(),
            name: name.to_string(),
        }),
        _ => Err(SnsError::invalid(parameter)),
    }
}

/// Parses a subscription ARN; `parameter` names the request member in the error.
pub fn parse_subscription(arn: &str, parameter: &str) -> SnsResult<SubscriptionArn> {
    let parsed = split(arn).and_then(|(region, account, rest)| {
        let (name, id) = rest.split_once(':')?;
        let id_ok = uuid::Uuid::parse_str(id).is_ok();
        (is_valid_topic_name(name) && id_ok).then(|| SubscriptionArn {
            topic: TopicArn {
                region: region.to_string(),
                account: account.to_string(),
                name: name.to_string(),
            },
            id: id.to_string(),
        })
    });
    parsed.ok_or_else(|| SnsError::invalid(parameter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_arns_round_trip() {
        let arn = topic_arn("us-east-1", "000000000000", "alerts_1-x");
        let parsed = parse_topic(&arn, "TopicArn").unwrap();
        assert_eq!(parsed.name, "alerts_1-x");
        assert_eq!(
            topic_arn(&parsed.region, &parsed.account, &parsed.name),
            arn
        );
    }

    #[test]
    fn bad_topic_arns_are_invalid_parameters() {
        for bad in [
            "",
            "arn:aws:sns:us-east-1:000000000000:",
            "arn:aws:sns:us-east-1:123:name",
            "arn:aws:sqs:us-east-1:000000000000:name",
            "arn:aws:sns:us-east-1:000000000000:na me",
            "arn:aws:sns::000000000000:name",
        ] {
            let err = parse_topic(bad, "TopicArn").unwrap_err();
            assert_eq!(err.to_string(), "Invalid parameter: TopicArn", "{bad}");
        }
    }

    #[test]
    fn subscription_arns_carry_topic_and_id() {
        let id = uuid::Uuid::new_v4().to_string();
        let arn = format!("arn:aws:sns:us-east-1:000000000000:t:{id}");
        let parsed = parse_subscription(&arn, "SubscriptionArn").unwrap();
        assert_eq!(parsed.topic.name, "t");
        assert_eq!(parsed.id, id);
        assert!(parse_subscription("arn:aws:sns:us-east-1:000000000000:t", "S").is_err());
        assert!(parse_subscription("arn:aws:sns:us-east-1:000000000000:t:x", "S").is_err());
        assert!(parse_subscription("pending confirmation", "S").is_err());
    }

    #[test]
    fn topic_names_follow_sns_rules() {
        assert!(is_valid_topic_name("a"));
        assert!(is_valid_topic_name(&"a".repeat(256)));
        assert!(!is_valid_topic_name(&"a".repeat(257)));
        assert!(!is_valid_topic_name("x.fifo"));
        assert!(!is_valid_topic_name("é"));
    }
}
