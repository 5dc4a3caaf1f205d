//! Behavior validation (spec 2.3): the messages ValidateSecurityProfileBehaviors returns,
//! and the first of which Create/UpdateSecurityProfile refuse with InvalidRequestException.

use std::collections::{HashMap, HashSet};

use crate::catalog::{self, Kind};
use crate::model::{Behavior, CriteriaType, MetricValue};

/// Behaviors per security profile.
pub const MAX_BEHAVIORS: usize = 100;
/// Value elements (counts, IPs, ports, numbers, strings) per security profile.
pub const MAX_VALUE_ELEMENTS: usize = 1000;

/// What validation needs to know about the account: its custom metrics (name → type) and
/// dimension names.
pub struct Known<'a> {
    pub custom_metrics: &'a HashMap<String, String>,
    pub dimensions: &'a HashSet<String>,
}

/// The metric's value kind, if the metric exists for this account.
pub fn metric_kind(metric: &str, known: &Known<'_>) -> Option<Kind> {
    match catalog::builtin(metric) {
        Some(def) => Some(def.kind),
        None => known
            .custom_metrics
            .get(metric)
            .and_then(|t| Kind::of_custom_type(t)),
    }
}

/// Every problem of a list of behaviors, in order; empty when valid.
pub fn validate_behaviors(behaviors: &[Behavior], known: &Known<'_>) -> Vec<String> {
    let mut errors = Vec::new();
    if behaviors.len() > MAX_BEHAVIORS {
        errors.push(format!(
            "A security profile can have at most {MAX_BEHAVIORS} behaviors; {} were given.",
            behaviors.len()
        ));
    }
    let mut names = HashSet::new();
    let mut elements = 0usize;
    for b in behaviors {
        if !names.insert(b.name.as_str()) {
            errors.push(format!("Behavior name {} is used more than once.", b.name));
        }
        elements += validate_one(b, known, &mut errors);
    }
    if elements > MAX_VALUE_ELEMENTS {
        errors.push(format!(
            "A security profile can have at most {MAX_VALUE_ELEMENTS} behavior value elements; {elements} were given."
        ));
    }
    errors
}

/// Checks one behavior; returns its number of value elements.
fn validate_one(b: &Behavior, known: &Known<'_>, errors: &mut Vec<String>) -> usize {
    let name = &b.name;
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-');
    if name.is_empty() || name.len() > 128 || !name.chars().all(ok_char) {
        errors.push(format!(
            "Behavior name '{name}' must be 1 to 128 characters of [a-zA-Z0-9:_-]."
        ));
    }
    let Some(metric) = b.metric.as_deref() else {
        errors.push(format!("Behavior {name}: metric is required."));
        return 0;
    };
    let builtin = catalog::builtin(metric);
    let Some(kind) = metric_kind(metric, known) else {
        errors.push(format!(
            "Behavior {name}: metric {metric} is neither a Device Defender metric nor a custom metric of this account."
        ));
        return 0;
    };
    let Some(criteria) = &b.criteria else {
        errors.push(format!("Behavior {name}: criteria is required."));
        return 0;
    };
    if let Some(dim) = &b.metric_dimension {
        if builtin.is_none_or(|d| !d.dimension) {
            errors.push(format!(
                "Behavior {name}: metric {metric} does not support dimensions."
            ));
        }
        if !known.dimensions.contains(&dim.dimension_name) {
            errors.push(format!(
                "Behavior {name}: dimension {} does not exist.",
                dim.dimension_name
            ));
        }
        if let Some(op) = dim.operator.as_deref()
            && op != "IN"
            && op != "NOT_IN"
        {
            errors.push(format!(
                "Behavior {name}: dimension operator {op} is not IN or NOT_IN."
            ));
        }
    }
    for (member, value) in [
        (
            "consecutiveDatapointsToAlarm",
            criteria.consecutive_datapoints_to_alarm,
        ),
        (
            "consecutiveDatapointsToClear",
            criteria.consecutive_datapoints_to_clear,
        ),
    ] {
        if let Some(n) = value
            && !(1..=10).contains(&n)
        {
            errors.push(format!(
                "Behavior {name}: {member} must be between 1 and 10."
            ));
        }
    }
    let given = [
        criteria.value.is_some(),
        criteria.statistical_threshold.is_some(),
        criteria.ml_detection_config.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    if given != 1 {
        errors.push(format!(
            "Behavior {name}: criteria must have exactly one of value, statisticalThreshold and mlDetectionConfig."
        ));
        return 0;
    }
    match b.criteria_type() {
        CriteriaType::MachineLearning => {
            let ml_ok = match builtin {
                Some(d) => d.ml,
                None => kind == Kind::Number,
            };
            if !ml_ok {
                errors.push(format!(
                    "Behavior {name}: metric {metric} is not supported by ML Detect."
                ));
            }
            if let Some(cfg) = &criteria.ml_detection_config
                && !matches!(cfg.confidence_level.as_str(), "LOW" | "MEDIUM" | "HIGH")
            {
                errors.push(format!(
                    "Behavior {name}: confidenceLevel must be LOW, MEDIUM or HIGH."
                ));
            }
            if criteria.comparison_operator.is_some() || criteria.duration_seconds.is_some() {
                errors.push(format!(
                    "Behavior {name}: ML behaviors take no comparisonOperator or durationSeconds."
                ));
            }
            0
        }
        criteria_type => {
            let Some(op) = criteria.comparison_operator.as_deref() else {
                errors.push(format!("Behavior {name}: comparisonOperator is required."));
                return 0;
            };
            if !kind.operators().contains(&op) {
                errors.push(format!(
                    "Behavior {name}: comparisonOperator {op} cannot be used with metric {metric}; use one of {}.",
                    kind.operators().join(", ")
                ));
            }
            let windowed = builtin.map_or(kind == Kind::Number, |d| d.windowed);
            if let Some(d) = criteria.duration_seconds {
                if !windowed {
                    errors.push(format!(
                        "Behavior {name}: durationSeconds cannot be used with metric {metric}."
                    ));
                } else if !catalog::DURATIONS.contains(&d) {
                    errors.push(format!(
                        "Behavior {name}: durationSeconds must be one of 300, 600, 900, 1800, 3600."
                    ));
                }
            }
            if criteria_type == CriteriaType::Statistical {
                if !kind.is_numeric() {
                    errors.push(format!(
                        "Behavior {name}: statistical thresholds need a numeric metric."
                    ));
                }
                let statistic = criteria
                    .statistical_threshold
                    .as_ref()
                    .and_then(|t| t.statistic.as_deref());
                if statistic.and_then(catalog::statistic_rank).is_none() {
                    errors.push(format!(
                        "Behavior {name}: statistic must be one of {}.",
                        catalog::STATISTICS
                            .iter()
                            .map(|(s, _)| *s)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                return 0;
            }
            match &criteria.value {
                Some(v) => check_value(name, kind, v, errors),
                None => 0,
            }
        }
    }
}

/// The value holds exactly the member of the metric's kind, with valid elements.
fn check_value(name: &str, kind: Kind, v: &MetricValue, errors: &mut Vec<String>) -> usize {
    let members = [
        ("count", v.count.is_some()),
        ("cidrs", v.cidrs.is_some()),
        ("ports", v.ports.is_some()),
        ("number", v.number.is_some()),
        ("numbers", v.numbers.is_some()),
        ("strings", v.strings.is_some()),
    ];
    let present: Vec<&str> = members.iter().filter(|m| m.1).map(|m| m.0).collect();
    let wanted = kind.value_member();
    if present != [wanted] {
        errors.push(format!(
            "Behavior {name}: the value must give exactly {wanted} for this metric."
        ));
        return 0;
    }
    match kind {
        Kind::Count | Kind::Number => {
            if v.number.is_some_and(|n| !n.is_finite()) {
                errors.push(format!("Behavior {name}: value.number must be finite."));
            }
            1
        }
        Kind::Ports => {
            let ports = v.ports.as_deref().unwrap_or_default();
            if ports.iter().any(|p| !(0..=65535).contains(p)) {
                errors.push(format!(
                    "Behavior {name}: ports must be between 0 and 65535."
                ));
            }
            ports.len()
        }
        Kind::Cidrs => {
            let cidrs = v.cidrs.as_deref().unwrap_or_default();
            for c in cidrs {
                if crate::sets::parse_cidr(c).is_none() {
                    errors.push(format!("Behavior {name}: {c} is not a CIDR or IP address."));
                }
            }
            cidrs.len()
        }
        Kind::Numbers => {
            let numbers = v.numbers.as_deref().unwrap_or_default();
            if numbers.iter().any(|n| !n.is_finite()) {
                errors.push(format!("Behavior {name}: numbers must be finite."));
            }
            numbers.len()
        }
        Kind::Strings => v.strings.as_deref().unwrap_or_default().len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(behaviors: serde_json::Value) -> Vec<String> {
        let customs: HashMap<String, String> = [("cpu".to_string(), "number".to_string())].into();
        let dims: HashSet<String> = ["topics".to_string()].into();
        let behaviors: Vec<Behavior> = serde_json::from_value(behaviors).unwrap();
        validate_behaviors(
            &behaviors,
            &Known {
                custom_metrics: &customs,
                dimensions: &dims,
            },
        )
    }

    #[test]
    fn valid_behaviors_of_every_kind_pass() {
        let errors = check(json!([
            {"name": "ports", "metric": "aws:listening-tcp-ports",
             "criteria": {"comparisonOperator": "in-port-set", "value": {"ports": [443, 8883]}}},
            {"name": "sent", "metric": "aws:num-messages-sent",
             "metricDimension": {"dimensionName": "topics", "operator": "NOT_IN"},
             "criteria": {"comparisonOperator": "less-than", "value": {"count": 5}, "durationSeconds": 300}},
            {"name": "stat", "metric": "aws:all-bytes-out",
             "criteria": {"comparisonOperator": "less-than", "statisticalThreshold": {"statistic": "p90"}, "durationSeconds": 900}},
            {"name": "ml", "metric": "aws:num-messages-sent",
             "criteria": {"mlDetectionConfig": {"confidenceLevel": "HIGH"}}},
            {"name": "cpu", "metric": "cpu",
             "criteria": {"comparisonOperator": "greater-than", "value": {"number": 0.5}}},
        ]));
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn wrong_operators_values_durations_and_names_are_reported() {
        let errors = check(json!([
            {"name": "a", "metric": "aws:listening-tcp-ports",
             "criteria": {"comparisonOperator": "less-than", "value": {"ports": [70000]}}},
            {"name": "b", "metric": "aws:num-messages-sent",
             "criteria": {"comparisonOperator": "less-than", "value": {"count": 5}, "durationSeconds": 7}},
            {"name": "c", "metric": "aws:nope",
             "criteria": {"comparisonOperator": "less-than", "value": {"count": 5}}},
            {"name": "a", "metric": "aws:source-ip-address",
             "criteria": {"comparisonOperator": "in-cidr-set", "value": {"cidrs": ["not-an-ip"]}}},
            {"name": "d", "metric": "aws:num-disconnects",
             "metricDimension": {"dimensionName": "missing"},
             "criteria": {"comparisonOperator": "less-than", "value": {"count": 5}, "consecutiveDatapointsToAlarm": 11}},
        ]));
        assert_eq!(errors.len(), 9, "{errors:?}");
        assert!(errors[0].contains("less-than cannot be used"));
        assert!(errors[1].contains("65535"));
        assert!(errors[2].contains("durationSeconds"));
        assert!(errors[3].contains("aws:nope"));
        assert!(errors[4].contains("more than once"));
    }
}
