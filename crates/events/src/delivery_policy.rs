//! HTTP/S delivery policies: the topic's `DeliveryPolicy` (`{"http": {...}}`), the
//! subscription's (`{"healthyRetryPolicy": ..., "throttlePolicy": ..., "requestPolicy": ...}`),
//! the effective policy of a subscription, and the retry schedule it implies.
//!
//! SNS's default (and AWS's documented limits): 3 retries 20 s apart, linear backoff; at
//! most 100 retries, delays of 1 to 3,600 s, and the whole schedule within 3,600 s.

use serde_json::{Map, Value, json};

use crate::error::{SnsError, SnsResult};

pub const DEFAULT_CONTENT_TYPE: &str = "text/plain; charset=UTF-8";
const MAX_RETRIES: u64 = 100;
const MAX_DELAY_S: u64 = 3_600;
const MAX_TOTAL_S: u64 = 3_600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    Linear,
    Arithmetic,
    Geometric,
    Exponential,
}

impl Backoff {
    fn name(self) -> &'static str {
        match self {
            Self::Linear => "linear",
            Self::Arithmetic => "arithmetic",
            Self::Geometric => "geometric",
            Self::Exponential => "exponential",
        }
    }

    /// How far (0..=1) the `i`-th of `n` backoff retries is from the minimum to the maximum
    /// delay. AWS does not publish the curves; these are ours (see the README).
    fn fraction(self, i: u64, n: u64) -> f64 {
        if n <= 1 {
            return 0.0;
        }
        let g = |x: u64| -> f64 {
            let x = x as f64;
            match self {
                Self::Linear => x,
                Self::Arithmetic => x * (x + 1.0) / 2.0,
                Self::Geometric => 2f64.powf(x) - 1.0,
                Self::Exponential => x.exp() - 1.0,
            }
        };
        g(i) / g(n - 1)
    }
}

/// A `healthyRetryPolicy`, delays in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub min_delay: u64,
    pub max_delay: u64,
    pub num_retries: u64,
    pub num_no_delay: u64,
    pub num_min_delay: u64,
    pub num_max_delay: u64,
    pub backoff: Backoff,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            min_delay: 20,
            max_delay: 20,
            num_retries: 3,
            num_no_delay: 0,
            num_min_delay: 0,
            num_max_delay: 0,
            backoff: Backoff::Linear,
        }
    }
}

impl RetryPolicy {
    /// The delay in milliseconds before retry number `retry` (1-based), or `None` when the
    /// retries are spent. Phases: immediate, pre-backoff (minimum delay), backoff, post-backoff
    /// (maximum delay).
    pub fn delay_before_retry_ms(&self, retry: u64) -> Option<u64> {
        if retry == 0 || retry > self.num_retries {
            return None;
        }
        let backoff_retries =
            self.num_retries - self.num_no_delay - self.num_min_delay - self.num_max_delay;
        let seconds = if retry <= self.num_no_delay {
            0.0
        } else if retry <= self.num_no_delay + self.num_min_delay {
            self.min_delay as f64
        } else if retry <= self.num_no_delay + self.num_min_delay + backoff_retries {
            let i = retry - self.num_no_delay - self.num_min_delay - 1;
            let span = (self.max_delay - self.min_delay) as f64;
            self.min_delay as f64 + span * self.backoff.fraction(i, backoff_retries)
        } else {
            self.max_delay as f64
        };
        Some((seconds * 1000.0).round() as u64)
    }

    fn total_seconds(&self) -> u64 {
        (1..=self.num_retries)
            .filter_map(|r| self.delay_before_retry_ms(r))
            .sum::<u64>()
            / 1000
    }

    fn to_json(self) -> Value {
        json!({
            "minDelayTarget": self.min_delay,
            "maxDelayTarget": self.max_delay,
            "numRetries": self.num_retries,
            "numMaxDelayRetries": self.num_max_delay,
            "numNoDelayRetries": self.num_no_delay,
            "numMinDelayRetries": self.num_min_delay,
            "backoffFunction": self.backoff.name(),
        })
    }

    fn parse(value: &Value, path: &str) -> SnsResult<Self> {
        let object = value
            .as_object()
            .ok_or_else(|| bad(format!("{path} must be an object")))?;
        let mut policy = Self::default();
        for (key, value) in object {
            let number = || {
                value
                    .as_u64()
                    .ok_or_else(|| bad(format!("{path}.{key} must be a non-negative integer")))
            };
            match key.as_str() {
                "minDelayTarget" => policy.min_delay = number()?,
                "maxDelayTarget" => policy.max_delay = number()?,
                "numRetries" => policy.num_retries = number()?,
                "numNoDelayRetries" => policy.num_no_delay = number()?,
                "numMinDelayRetries" => policy.num_min_delay = number()?,
                "numMaxDelayRetries" => policy.num_max_delay = number()?,
                "backoffFunction" => {
                    policy.backoff = match value.as_str() {
                        Some("linear") => Backoff::Linear,
                        Some("arithmetic") => Backoff::Arithmetic,
                        Some("geometric") => Backoff::Geometric,
                        Some("exponential") => Backoff::Exponential,
                        _ => {
                            return Err(bad(format!(
                                "{path}.backoffFunction must be linear, arithmetic, geometric or exponential"
                            )));
                        }
                    }
                }
                other => return Err(bad(format!("{path}.{other} is not a retry policy member"))),
            }
        }
        // A policy that sets only one bound moves the other with it, as both default to 20.
        if object.contains_key("maxDelayTarget") && !object.contains_key("minDelayTarget") {
            policy.min_delay = policy.min_delay.min(policy.max_delay);
        }
        if object.contains_key("minDelayTarget") && !object.contains_key("maxDelayTarget") {
            policy.max_delay = policy.max_delay.max(policy.min_delay);
        }
        policy.check(path)?;
        Ok(policy)
    }

    fn check(&self, path: &str) -> SnsResult<()> {
        if self.num_retries > MAX_RETRIES {
            return Err(bad(format!(
                "{path}.numRetries must be at most {MAX_RETRIES}"
            )));
        }
        if self.min_delay < 1 {
            return Err(bad(format!("{path}.minDelayTarget must be at least 1")));
        }
        if self.max_delay > MAX_DELAY_S {
            return Err(bad(format!(
                "{path}.maxDelayTarget must be at most {MAX_DELAY_S}"
            )));
        }
        if self.min_delay > self.max_delay {
            return Err(bad(format!(
                "{path}.minDelayTarget must not exceed maxDelayTarget"
            )));
        }
        let phases = self.num_no_delay + self.num_min_delay + self.num_max_delay;
        if phases > self.num_retries {
            return Err(bad(format!(
                "{path}: numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries must not exceed numRetries"
            )));
        }
        if self.total_seconds() > MAX_TOTAL_S {
            return Err(bad(format!(
                "{path}: the retries must fit within {MAX_TOTAL_S} seconds"
            )));
        }
        Ok(())
    }
}

/// The parts of a delivery policy a topic or a subscription may set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyParts {
    pub retry: Option<RetryPolicy>,
    pub max_receives_per_second: Option<u64>,
    pub content_type: Option<String>,
    /// Topic only: subscriptions' own policies are ignored.
    pub disable_overrides: bool,
}

/// What deliveries to one subscription use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectivePolicy {
    pub retry: RetryPolicy,
    pub max_receives_per_second: Option<u64>,
    pub content_type: String,
}

fn bad(reason: String) -> SnsError {
    SnsError::invalid_because("DeliveryPolicy", reason)
}

fn parse_object(text: &str) -> SnsResult<Map<String, Value>> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(bad("must be a JSON object".to_string())),
    }
}

fn parse_throttle(value: &Value, path: &str) -> SnsResult<Option<u64>> {
    let rate = value
        .get("maxReceivesPerSecond")
        .and_then(Value::as_u64)
        .filter(|r| *r >= 1)
        .ok_or_else(|| {
            bad(format!(
                "{path}.maxReceivesPerSecond must be a positive integer"
            ))
        })?;
    Ok(Some(rate))
}

fn parse_request(value: &Value, path: &str) -> SnsResult<Option<String>> {
    let content_type = value
        .get("headerContentType")
        .and_then(Value::as_str)
        .filter(|t| is_media_type(t))
        .ok_or_else(|| bad(format!("{path}.headerContentType must be a media type")))?;
    Ok(Some(content_type.to_string()))
}

/// `type/subtype` with optional parameters, printable ASCII: it becomes a header value.
fn is_media_type(text: &str) -> bool {
    let essence = text.split(';').next().unwrap_or_default().trim();
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    text.len() <= 128
        && text.bytes().all(|b| (0x20..0x7f).contains(&b))
        && essence
            .split_once('/')
            .is_some_and(|(t, s)| token(t) && token(s))
}

/// Parses a topic's `DeliveryPolicy` attribute.
pub fn parse_topic_policy(text: &str) -> SnsResult<PolicyParts> {
    let root = parse_object(text)?;
    let mut parts = PolicyParts::default();
    for (key, value) in &root {
        if key != "http" {
            // Other protocols' policies cannot be changed in SNS either.
            return Err(bad(format!("{key} delivery policies cannot be set")));
        }
        let http = value
            .as_object()
            .ok_or_else(|| bad("http must be an object".to_string()))?;
        for (member, value) in http {
            match member.as_str() {
                "defaultHealthyRetryPolicy" => {
                    parts.retry = Some(RetryPolicy::parse(value, "http.defaultHealthyRetryPolicy")?)
                }
                "defaultThrottlePolicy" => {
                    parts.max_receives_per_second =
                        parse_throttle(value, "http.defaultThrottlePolicy")?
                }
                "defaultRequestPolicy" => {
                    parts.content_type = parse_request(value, "http.defaultRequestPolicy")?
                }
                "disableSubscriptionOverrides" => {
                    parts.disable_overrides = value.as_bool().ok_or_else(|| {
                        bad("http.disableSubscriptionOverrides must be a boolean".to_string())
                    })?
                }
                // AWS accepts and ignores it (no sickly policy exists any more).
                "defaultSicklyRetryPolicy" if value.is_null() => {}
                other => return Err(bad(format!("http.{other} is not a delivery policy member"))),
            }
        }
    }
    Ok(parts)
}

/// Parses a subscription's `DeliveryPolicy` attribute.
pub fn parse_subscription_policy(text: &str) -> SnsResult<PolicyParts> {
    let root = parse_object(text)?;
    let mut parts = PolicyParts::default();
    for (key, value) in &root {
        match key.as_str() {
            "healthyRetryPolicy" => {
                parts.retry = Some(RetryPolicy::parse(value, "healthyRetryPolicy")?)
            }
            "throttlePolicy" => {
                parts.max_receives_per_second = parse_throttle(value, "throttlePolicy")?
            }
            "requestPolicy" => parts.content_type = parse_request(value, "requestPolicy")?,
            "sicklyRetryPolicy" | "guaranteed" if value.is_null() || value == false => {}
            other => return Err(bad(format!("{other} is not a delivery policy member"))),
        }
    }
    Ok(parts)
}

/// The policy deliveries to a subscription follow: the subscription's parts where it has
/// them (unless the topic disables overrides), else the topic's, else SNS's defaults.
pub fn effective(topic: Option<&str>, subscription: Option<&str>) -> EffectivePolicy {
    // Both were validated when set; an unreadable stored one falls back to the defaults.
    let topic = topic
        .and_then(|t| parse_topic_policy(t).ok())
        .unwrap_or_default();
    let sub = match subscription {
        Some(s) if !topic.disable_overrides => parse_subscription_policy(s).unwrap_or_default(),
        _ => PolicyParts::default(),
    };
    EffectivePolicy {
        retry: sub.retry.or(topic.retry).unwrap_or_default(),
        max_receives_per_second: sub
            .max_receives_per_second
            .or(topic.max_receives_per_second),
        content_type: sub
            .content_type
            .or(topic.content_type)
            .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_string()),
    }
}

/// The topic's `EffectiveDeliveryPolicy` attribute.
pub fn topic_effective_json(topic: Option<&str>) -> String {
    let parts = topic
        .and_then(|t| parse_topic_policy(t).ok())
        .unwrap_or_default();
    let mut http = Map::new();
    http.insert(
        "defaultHealthyRetryPolicy".into(),
        parts.retry.unwrap_or_default().to_json(),
    );
    http.insert(
        "disableSubscriptionOverrides".into(),
        Value::Bool(parts.disable_overrides),
    );
    if let Some(rate) = parts.max_receives_per_second {
        http.insert(
            "defaultThrottlePolicy".into(),
            json!({ "maxReceivesPerSecond": rate }),
        );
    }
    http.insert(
        "defaultRequestPolicy".into(),
        json!({ "headerContentType": parts.content_type.as_deref().unwrap_or(DEFAULT_CONTENT_TYPE) }),
    );
    json!({ "http": http }).to_string()
}

/// A subscription's `EffectiveDeliveryPolicy` attribute.
pub fn subscription_effective_json(policy: &EffectivePolicy) -> String {
    let mut root = Map::new();
    root.insert("healthyRetryPolicy".into(), policy.retry.to_json());
    if let Some(rate) = policy.max_receives_per_second {
        root.insert(
            "throttlePolicy".into(),
            json!({ "maxReceivesPerSecond": rate }),
        );
    }
    root.insert(
        "requestPolicy".into(),
        json!({ "headerContentType": policy.content_type }),
    );
    Value::Object(root).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_three_retries_twenty_seconds_apart() {
        let p = RetryPolicy::default();
        let delays: Vec<_> = (1..=4).map(|r| p.delay_before_retry_ms(r)).collect();
        assert_eq!(delays, vec![Some(20_000), Some(20_000), Some(20_000), None]);
    }

    #[test]
    fn phases_come_in_order() {
        let p = RetryPolicy {
            min_delay: 1,
            max_delay: 10,
            num_retries: 8,
            num_no_delay: 1,
            num_min_delay: 2,
            num_max_delay: 1,
            backoff: Backoff::Linear,
        };
        let delays: Vec<_> = (1..=8)
            .map(|r| p.delay_before_retry_ms(r).unwrap() / 1000)
            .collect();
        // immediate, pre-backoff ×2, backoff ×4 from 1 to 10, post-backoff.
        assert_eq!(delays, vec![0, 1, 1, 1, 4, 7, 10, 10]);
    }

    #[test]
    fn backoff_curves_rise_from_min_to_max() {
        for backoff in [
            Backoff::Linear,
            Backoff::Arithmetic,
            Backoff::Geometric,
            Backoff::Exponential,
        ] {
            let p = RetryPolicy {
                min_delay: 2,
                max_delay: 60,
                num_retries: 6,
                backoff,
                ..RetryPolicy::default()
            };
            let d: Vec<u64> = (1..=6)
                .map(|r| p.delay_before_retry_ms(r).unwrap())
                .collect();
            assert_eq!(d[0], 2_000, "{backoff:?}");
            assert_eq!(d[5], 60_000, "{backoff:?}");
            assert!(d.windows(2).all(|w| w[0] <= w[1]), "{backoff:?} {d:?}");
        }
    }

    #[test]
    fn topic_policies_parse_and_validate() {
        let parts = parse_topic_policy(
            r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":5,"minDelayTarget":1,"maxDelayTarget":2},
                "disableSubscriptionOverrides":true,
                "defaultRequestPolicy":{"headerContentType":"application/json"}}}"#,
        )
        .unwrap();
        assert_eq!(parts.retry.unwrap().num_retries, 5);
        assert!(parts.disable_overrides);
        assert_eq!(parts.content_type.as_deref(), Some("application/json"));
        for bad in [
            "[]",
            "nope",
            r#"{"sqs":{}}"#,
            r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":101}}}"#,
            r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":0}}}"#,
            r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":30,"maxDelayTarget":10}}}"#,
            r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":100,"minDelayTarget":60,"maxDelayTarget":60}}}"#,
            r#"{"http":{"defaultHealthyRetryPolicy":{"backoffFunction":"random"}}}"#,
            r#"{"http":{"defaultRequestPolicy":{"headerContentType":"bad\r\nX: y"}}}"#,
            r#"{"http":{"defaultThrottlePolicy":{"maxReceivesPerSecond":0}}}"#,
        ] {
            let err = parse_topic_policy(bad).unwrap_err();
            assert_eq!(err.code(), "InvalidParameter", "{bad}");
        }
    }

    #[test]
    fn a_lone_bound_moves_the_other() {
        let p = parse_subscription_policy(r#"{"healthyRetryPolicy":{"maxDelayTarget":5}}"#)
            .unwrap()
            .retry
            .unwrap();
        assert_eq!((p.min_delay, p.max_delay), (5, 5));
    }

    #[test]
    fn subscription_parts_override_the_topic_unless_disabled() {
        let topic = r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":7}}}"#;
        let sub = r#"{"healthyRetryPolicy":{"numRetries":2},"throttlePolicy":{"maxReceivesPerSecond":5}}"#;
        let e = effective(Some(topic), Some(sub));
        assert_eq!(e.retry.num_retries, 2);
        assert_eq!(e.max_receives_per_second, Some(5));
        assert_eq!(e.content_type, DEFAULT_CONTENT_TYPE);
        let locked = r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":7},"disableSubscriptionOverrides":true}}"#;
        assert_eq!(effective(Some(locked), Some(sub)).retry.num_retries, 7);
        assert_eq!(effective(None, None).retry, RetryPolicy::default());
    }

    #[test]
    fn effective_json_has_every_member() {
        let v: Value = serde_json::from_str(&topic_effective_json(None)).unwrap();
        assert_eq!(v["http"]["defaultHealthyRetryPolicy"]["numRetries"], 3);
        assert_eq!(v["http"]["defaultHealthyRetryPolicy"]["minDelayTarget"], 20);
        assert_eq!(
            v["http"]["defaultHealthyRetryPolicy"]["backoffFunction"],
            "linear"
        );
        assert_eq!(v["http"]["disableSubscriptionOverrides"], false);
        let s: Value =
            serde_json::from_str(&subscription_effective_json(&effective(None, None))).unwrap();
        assert_eq!(s["healthyRetryPolicy"]["maxDelayTarget"], 20);
    }
}
