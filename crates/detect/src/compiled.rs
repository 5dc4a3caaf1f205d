//! Security profiles compiled for evaluation: each behavior's test, window, thresholds and
//! dimension filters, built once per profile change so evaluating a datapoint only compares.

use std::sync::Arc;

use crate::catalog::{self, Kind};
use crate::model::{Behavior, CriteriaType, SecurityProfile};
use crate::sets::{Cmp, Test};

/// What a security profile is attached to (spec 2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Group(String),
    AllThings,
    Registered,
    Unregistered,
}

impl Target {
    /// Parses `arn:aws:iot:REGION:ACCOUNT:thinggroup/NAME` and the `all/...` forms.
    pub fn parse(arn: &str, region: &str, account: &str) -> Option<Self> {
        let prefix = format!("arn:aws:iot:{region}:{account}:");
        let rest = arn.strip_prefix(&prefix)?;
        match rest {
            "all/things" => Some(Self::AllThings),
            "all/registered-things" => Some(Self::Registered),
            "all/unregistered-things" => Some(Self::Unregistered),
            _ => {
                let name = rest.strip_prefix("thinggroup/")?;
                (!name.is_empty() && !name.contains('/')).then(|| Self::Group(name.to_string()))
            }
        }
    }

    /// Whether a device with these groups (`None`: not a registered thing) is targeted.
    pub fn covers(&self, groups: Option<&[String]>) -> bool {
        match self {
            Self::AllThings => true,
            Self::Registered => groups.is_some(),
            Self::Unregistered => groups.is_none(),
            Self::Group(g) => groups.is_some_and(|gs| gs.iter().any(|x| x == g)),
        }
    }
}

/// How a behavior's datapoint is judged.
#[derive(Debug, Clone)]
pub enum Judge {
    Static(Test),
    /// Compare with the percentile `rank` of the profile's devices.
    Statistical(Cmp, f64),
    /// Stored, not evaluated (ML models are a later issue; status PENDING_BUILD).
    MachineLearning,
}

/// A TOPIC_FILTER dimension resolved to its filters.
#[derive(Debug, Clone)]
pub struct TopicDimension {
    pub name: String,
    pub filters: Vec<String>,
    pub not_in: bool,
}

impl TopicDimension {
    /// Whether a message on `topic` by `client_id` counts (IN: matches a filter; NOT_IN:
    /// matches none). `${iot:ClientId}` is substituted first.
    pub fn counts(&self, topic: &str, client_id: &str) -> bool {
        let matched = self.filters.iter().any(|f| {
            if f.contains("${iot:ClientId}") {
                topic_matches(&f.replace("${iot:ClientId}", client_id), topic)
            } else {
                topic_matches(f, topic)
            }
        });
        matched != self.not_in
    }
}

/// MQTT topic filter matching (`+` one level, `#` the rest).
pub fn topic_matches(filter: &str, topic: &str) -> bool {
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[derive(Debug)]
pub struct CompiledBehavior {
    pub profile: Arc<str>,
    pub behavior: Behavior,
    pub metric: String,
    pub judge: Judge,
    pub dimension: Option<TopicDimension>,
    pub duration_ms: Option<i64>,
    pub to_alarm: u8,
    pub to_clear: u8,
    /// Values are counts (written as `count`, not `number`).
    pub integral: bool,
    /// Evaluated per message (aws:message-byte-size), not per period.
    pub per_message: bool,
}

impl CompiledBehavior {
    pub fn criteria_type(&self) -> CriteriaType {
        self.behavior.criteria_type()
    }
}

/// A metric the profile exports (behaviors and retained metrics with `exportMetric`).
#[derive(Debug, Clone)]
pub struct Export {
    pub metric: String,
    pub dimension: Option<TopicDimension>,
}

#[derive(Debug)]
pub struct CompiledProfile {
    pub name: Arc<str>,
    pub arn: String,
    pub targets: Vec<Target>,
    pub behaviors: Vec<Arc<CompiledBehavior>>,
    pub alert_target: Option<String>,
    pub export_topic: Option<String>,
    pub exports: Vec<Export>,
}

/// Compiles a stored profile; `dimension` looks up a dimension's filters, `custom_kind` a
/// custom metric's kind.
pub fn compile(
    profile: &SecurityProfile,
    arn: String,
    region: &str,
    account: &str,
    dimension: &dyn Fn(&str) -> Option<Vec<String>>,
    custom_kind: &dyn Fn(&str) -> Option<Kind>,
) -> CompiledProfile {
    let name: Arc<str> = profile.name.as_str().into();
    let resolve_dim = |b: &Option<crate::model::MetricDimension>| {
        b.as_ref().map(|d| TopicDimension {
            name: d.dimension_name.clone(),
            filters: dimension(&d.dimension_name).unwrap_or_default(),
            not_in: d.is_not_in(),
        })
    };
    let mut behaviors = Vec::new();
    let mut exports = Vec::new();
    for b in &profile.behaviors {
        let Some(metric) = b.metric.clone() else {
            continue;
        };
        let criteria = b.criteria.clone().unwrap_or_default();
        let kind = catalog::builtin(&metric)
            .map(|d| d.kind)
            .or_else(|| custom_kind(&metric));
        let judge = match b.criteria_type() {
            CriteriaType::MachineLearning => Judge::MachineLearning,
            CriteriaType::Statistical => {
                let op = criteria.comparison_operator.as_deref().and_then(Cmp::parse);
                let rank = criteria
                    .statistical_threshold
                    .as_ref()
                    .and_then(|t| t.statistic.as_deref())
                    .and_then(catalog::statistic_rank);
                match (op, rank) {
                    (Some(op), Some(rank)) => Judge::Statistical(op, rank),
                    _ => continue,
                }
            }
            CriteriaType::Static => {
                let test = criteria
                    .comparison_operator
                    .as_deref()
                    .zip(criteria.value.as_ref())
                    .and_then(|(op, v)| Test::compile(op, v));
                match test {
                    Some(t) => Judge::Static(t),
                    None => continue,
                }
            }
        };
        if b.export_metric == Some(true) {
            exports.push(Export {
                metric: metric.clone(),
                dimension: resolve_dim(&b.metric_dimension),
            });
        }
        behaviors.push(Arc::new(CompiledBehavior {
            profile: name.clone(),
            per_message: metric == catalog::MESSAGE_BYTE_SIZE,
            integral: kind == Some(Kind::Count),
            dimension: resolve_dim(&b.metric_dimension),
            duration_ms: criteria.duration_seconds.map(|s| s * 1000),
            to_alarm: criteria
                .consecutive_datapoints_to_alarm
                .unwrap_or(1)
                .clamp(1, 10) as u8,
            to_clear: criteria
                .consecutive_datapoints_to_clear
                .unwrap_or(1)
                .clamp(1, 10) as u8,
            judge,
            metric,
            behavior: b.clone(),
        }));
    }
    for retained in profile.additional_metrics_to_retain_v2.iter().flatten() {
        if retained.export_metric == Some(true) {
            exports.push(Export {
                metric: retained.metric.clone(),
                dimension: resolve_dim(&retained.metric_dimension),
            });
        }
    }
    CompiledProfile {
        name,
        arn,
        targets: profile
            .targets
            .iter()
            .filter_map(|t| Target::parse(t, region, account))
            .collect(),
        behaviors,
        alert_target: profile
            .alert_targets
            .as_ref()
            .and_then(|t| t.get("SNS"))
            .map(|t| t.alert_target_arn.clone()),
        export_topic: profile
            .metrics_export_config
            .as_ref()
            .map(|c| c.mqtt_topic.clone()),
        exports,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_topic_filters() {
        let t = Target::parse("arn:aws:iot:us-east-1:1:thinggroup/g", "us-east-1", "1");
        assert_eq!(t, Some(Target::Group("g".into())));
        assert!(Target::parse("arn:aws:iot:us-east-1:2:all/things", "us-east-1", "1").is_none());
        let groups = vec!["g".to_string()];
        assert!(t.unwrap().covers(Some(&groups)));
        assert!(Target::Unregistered.covers(None));
        assert!(!Target::Registered.covers(None));
        assert!(topic_matches("a/+/c", "a/b/c"));
        assert!(topic_matches("a/#", "a/b/c"));
        assert!(!topic_matches("a/+", "a/b/c"));
        let dim = TopicDimension {
            name: "d".into(),
            filters: vec!["dev/${iot:ClientId}/#".into()],
            not_in: false,
        };
        assert!(dim.counts("dev/me/x", "me"));
        assert!(!dim.counts("dev/you/x", "me"));
    }
}
