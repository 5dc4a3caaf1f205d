//! The metric catalogue of spec 2.2 and 2.8: each metric's value kind, the operators it
//! takes, whether it is counted over `durationSeconds`, and what it supports.

/// What kind of value a metric carries (and so which operators and `MetricValue` member).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `count` compared with lt/lte/gt/gte.
    Count,
    /// Custom `number`: `number` compared with lt/lte/gt/gte.
    Number,
    /// IP lists: `cidrs`, in-cidr-set / not-in-cidr-set.
    Cidrs,
    /// Port lists: `ports`, in-port-set / not-in-port-set.
    Ports,
    /// Custom `number-list`: `numbers`, in-set / not-in-set.
    Numbers,
    /// Custom `string-list`: `strings`, in-set / not-in-set.
    Strings,
}

impl Kind {
    pub fn operators(self) -> &'static [&'static str] {
        match self {
            Self::Count | Self::Number => &[
                "less-than",
                "less-than-equals",
                "greater-than",
                "greater-than-equals",
            ],
            Self::Cidrs => &["in-cidr-set", "not-in-cidr-set"],
            Self::Ports => &["in-port-set", "not-in-port-set"],
            Self::Numbers | Self::Strings => &["in-set", "not-in-set"],
        }
    }

    /// The `MetricValue` member a behavior of this kind gives.
    pub fn value_member(self) -> &'static str {
        match self {
            Self::Count => "count",
            Self::Number => "number",
            Self::Cidrs => "cidrs",
            Self::Ports => "ports",
            Self::Numbers => "numbers",
            Self::Strings => "strings",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Self::Count | Self::Number)
    }

    /// The kind of a custom metric type (`CustomMetricType`).
    pub fn of_custom_type(t: &str) -> Option<Self> {
        match t {
            "number" => Some(Self::Number),
            "number-list" => Some(Self::Numbers),
            "string-list" => Some(Self::Strings),
            "ip-address-list" => Some(Self::Cidrs),
            _ => None,
        }
    }
}

/// One built-in metric.
#[derive(Debug, Clone, Copy)]
pub struct MetricDef {
    pub name: &'static str,
    pub kind: Kind,
    /// Counted over a `durationSeconds` window (which is then required for static rules).
    pub windowed: bool,
    /// Takes a TOPIC_FILTER dimension.
    pub dimension: bool,
    /// Supported by ML Detect.
    pub ml: bool,
}

const fn m(name: &'static str, kind: Kind, windowed: bool, dimension: bool, ml: bool) -> MetricDef {
    MetricDef {
        name,
        kind,
        windowed,
        dimension,
        ml,
    }
}

pub const METRICS: &[MetricDef] = &[
    // Cloud-side (spec 2.2).
    m("aws:message-byte-size", Kind::Count, false, true, true),
    m("aws:num-messages-sent", Kind::Count, true, true, true),
    m("aws:num-messages-received", Kind::Count, true, true, true),
    m(
        "aws:num-authorization-failures",
        Kind::Count,
        true,
        true,
        true,
    ),
    m("aws:source-ip-address", Kind::Cidrs, false, true, false),
    m(
        "aws:num-connection-attempts",
        Kind::Count,
        true,
        false,
        true,
    ),
    m("aws:num-disconnects", Kind::Count, true, false, true),
    m("aws:disconnect-duration", Kind::Count, true, false, false),
    // Device-side.
    m("aws:all-bytes-out", Kind::Count, true, false, true),
    m("aws:all-bytes-in", Kind::Count, true, false, true),
    m("aws:all-packets-out", Kind::Count, true, false, true),
    m("aws:all-packets-in", Kind::Count, true, false, true),
    m(
        "aws:num-listening-tcp-ports",
        Kind::Count,
        true,
        false,
        true,
    ),
    m(
        "aws:num-listening-udp-ports",
        Kind::Count,
        true,
        false,
        true,
    ),
    m(
        "aws:num-established-tcp-connections",
        Kind::Count,
        true,
        false,
        true,
    ),
    m("aws:listening-tcp-ports", Kind::Ports, false, false, false),
    m("aws:listening-udp-ports", Kind::Ports, false, false, false),
    m(
        "aws:destination-ip-addresses",
        Kind::Cidrs,
        false,
        false,
        false,
    ),
];

/// The `durationSeconds` values AWS accepts.
pub const DURATIONS: &[i64] = &[300, 600, 900, 1800, 3600];

/// The percentiles of `statisticalThreshold.statistic`.
pub const STATISTICS: &[(&str, f64)] = &[
    ("p0", 0.0),
    ("p0.1", 0.001),
    ("p0.01", 0.0001),
    ("p1", 0.01),
    ("p10", 0.10),
    ("p50", 0.50),
    ("p90", 0.90),
    ("p99", 0.99),
    ("p99.9", 0.999),
    ("p99.99", 0.9999),
    ("p100", 1.0),
];

pub fn builtin(name: &str) -> Option<&'static MetricDef> {
    METRICS.iter().find(|d| d.name == name)
}

pub fn statistic_rank(statistic: &str) -> Option<f64> {
    STATISTICS
        .iter()
        .find(|(s, _)| *s == statistic)
        .map(|(_, q)| *q)
}

/// The metrics that take a value per message rather than per period.
pub const MESSAGE_BYTE_SIZE: &str = "aws:message-byte-size";
