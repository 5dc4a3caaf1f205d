//! The wire and stored shapes of detect (botocore `iot` 2015-05-28 member names): behaviors,
//! criteria, metric values, security profiles, custom metrics, dimensions, violations.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `MetricValue`: exactly the members the model has; absent ones are not written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricValue {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidrs: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numbers: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strings: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatisticalThreshold {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistic: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineLearningDetectionConfig {
    pub confidence_level: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BehaviorCriteria {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison_operator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<MetricValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consecutive_datapoints_to_alarm: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consecutive_datapoints_to_clear: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistical_threshold: Option<StatisticalThreshold>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ml_detection_config: Option<MachineLearningDetectionConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricDimension {
    pub dimension_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
}

impl MetricDimension {
    /// `NOT_IN`, else `IN` (a null operator means IN).
    pub fn is_not_in(&self) -> bool {
        self.operator.as_deref() == Some("NOT_IN")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Behavior {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_dimension: Option<MetricDimension>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub criteria: Option<BehaviorCriteria>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppress_alerts: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_metric: Option<bool>,
}

/// `BehaviorCriteriaType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CriteriaType {
    Static,
    Statistical,
    MachineLearning,
}

impl CriteriaType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Static => "STATIC",
            Self::Statistical => "STATISTICAL",
            Self::MachineLearning => "MACHINE_LEARNING",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "STATIC" => Some(Self::Static),
            "STATISTICAL" => Some(Self::Statistical),
            "MACHINE_LEARNING" => Some(Self::MachineLearning),
            _ => None,
        }
    }
}

impl Behavior {
    pub fn criteria_type(&self) -> CriteriaType {
        match &self.criteria {
            Some(c) if c.ml_detection_config.is_some() => CriteriaType::MachineLearning,
            Some(c) if c.statistical_threshold.is_some() => CriteriaType::Statistical,
            _ => CriteriaType::Static,
        }
    }

    pub fn suppressed(&self) -> bool {
        self.suppress_alerts == Some(true)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertTarget {
    pub alert_target_arn: String,
    pub role_arn: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricToRetain {
    pub metric: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_dimension: Option<MetricDimension>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_metric: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsExportConfig {
    pub mqtt_topic: String,
    pub role_arn: String,
}

/// A security profile as stored (and described).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityProfile {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub behaviors: Vec<Behavior>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_targets: Option<BTreeMap<String, AlertTarget>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_metrics_to_retain: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_metrics_to_retain_v2: Option<Vec<MetricToRetain>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_export_config: Option<MetricsExportConfig>,
    pub version: i64,
    pub creation_ms: i64,
    pub last_modified_ms: i64,
    /// Attached target ARNs.
    #[serde(default)]
    pub targets: Vec<String>,
    /// When each ML behavior started collecting (GetBehaviorModelTrainingSummaries).
    #[serde(default)]
    pub ml_started_ms: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomMetric {
    pub metric_name: String,
    pub metric_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub client_request_token: String,
    pub creation_ms: i64,
    pub last_modified_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dimension {
    pub name: String,
    #[serde(rename = "type")]
    pub dimension_type: String,
    pub string_values: Vec<String>,
    pub client_request_token: String,
    pub creation_ms: i64,
    pub last_modified_ms: i64,
}

/// `ViolationEventType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "in-alarm")]
    InAlarm,
    #[serde(rename = "alarm-cleared")]
    AlarmCleared,
    #[serde(rename = "alarm-invalidated")]
    AlarmInvalidated,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InAlarm => "in-alarm",
            Self::AlarmCleared => "alarm-cleared",
            Self::AlarmInvalidated => "alarm-invalidated",
        }
    }
}

/// An active violation as kept in memory and stored (one document per violation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    pub violation_id: String,
    pub thing_name: String,
    pub security_profile_name: String,
    pub behavior: Behavior,
    pub last_violation_value: Option<MetricValue>,
    pub verification_state: Option<String>,
    pub verification_state_description: Option<String>,
    pub last_violation_ms: i64,
    pub violation_start_ms: i64,
    /// Last datapoint of the device for this behavior (the two-day invalidation).
    pub last_data_ms: i64,
    /// When the hub finding was last written (refreshed before the 90-day expiry).
    pub hub_updated_ms: i64,
    /// Whether the thing is registered (the hub's Resources type and wording).
    pub registered: bool,
}

/// A violation event (history), stored one document per event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ViolationEvent {
    pub violation_id: String,
    pub thing_name: String,
    pub security_profile_name: String,
    pub behavior: Behavior,
    pub metric_value: Option<MetricValue>,
    pub violation_event_type: EventType,
    pub verification_state: Option<String>,
    pub verification_state_description: Option<String>,
    pub violation_event_ms: i64,
    pub violation_start_ms: i64,
    pub registered: bool,
}

/// Why an active violation was invalidated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalidation {
    NoData,
    ProfileDetached,
    BehaviorRemoved,
    NoLongerTargeted,
}
