//! Observed values and the compiled criteria they are checked against: number comparisons,
//! CIDR sets, port sets, number and string sets. Criteria describe NORMAL behaviour (spec
//! 2.1): `check` says whether a value conforms; an empty list always conforms.

use std::collections::HashSet;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::model::MetricValue;

/// A datapoint's value as detect evaluates it.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    /// `count` and `number`.
    Number(f64),
    Ips(Vec<IpAddr>),
    Ports(Vec<u16>),
    Numbers(Vec<f64>),
    Strings(Vec<String>),
}

impl Observed {
    /// From a stored `MetricValue` JSON (`{"count": 3}`, `{"cidrs": [...]}`, ...).
    pub fn from_json(value: &serde_json::Value) -> Option<Self> {
        let obj = value.as_object()?;
        if let Some(n) = obj.get("count").or_else(|| obj.get("number")) {
            return n.as_f64().map(Self::Number);
        }
        if let Some(list) = obj.get("cidrs") {
            let ips = list
                .as_array()?
                .iter()
                .filter_map(|v| v.as_str()?.parse().ok())
                .collect();
            return Some(Self::Ips(ips));
        }
        if let Some(list) = obj.get("ports") {
            let ports = list
                .as_array()?
                .iter()
                .filter_map(|v| u16::try_from(v.as_u64()?).ok())
                .collect();
            return Some(Self::Ports(ports));
        }
        if let Some(list) = obj.get("numbers") {
            return Some(Self::Numbers(
                list.as_array()?.iter().filter_map(|v| v.as_f64()).collect(),
            ));
        }
        if let Some(list) = obj.get("strings") {
            return Some(Self::Strings(
                list.as_array()?
                    .iter()
                    .filter_map(|v| Some(v.as_str()?.to_string()))
                    .collect(),
            ));
        }
        None
    }

    /// A value of a parsed device report (no JSON round trip, no copy).
    pub fn from_report(value: fleetward_device_report::MetricValue) -> Self {
        use fleetward_device_report::MetricValue as M;
        match value {
            M::Count(n) => Self::Number(n as f64),
            M::Number(x) => Self::Number(x),
            M::Numbers(xs) => Self::Numbers(xs),
            M::Ports(p) => Self::Ports(p),
            M::Ips(ips) => Self::Ips(ips),
            M::Strings(s) => Self::Strings(s),
        }
    }

    /// As a `MetricValue` (lastViolationValue, metricValue); `integral` writes a count.
    pub fn to_metric_value(&self, integral: bool) -> MetricValue {
        let mut v = MetricValue::default();
        match self {
            Self::Number(n) if integral => v.count = Some(n.max(0.0) as u64),
            Self::Number(n) => v.number = Some(*n),
            Self::Ips(ips) => v.cidrs = Some(ips.iter().map(IpAddr::to_string).collect()),
            Self::Ports(p) => v.ports = Some(p.iter().map(|p| i64::from(*p)).collect()),
            Self::Numbers(n) => v.numbers = Some(n.clone()),
            Self::Strings(s) => v.strings = Some(s.clone()),
        }
        v
    }
}

/// A CIDR or a bare address (a host route).
pub fn parse_cidr(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Lte,
    Gt,
    Gte,
}

impl Cmp {
    pub fn parse(op: &str) -> Option<Self> {
        match op {
            "less-than" => Some(Self::Lt),
            "less-than-equals" => Some(Self::Lte),
            "greater-than" => Some(Self::Gt),
            "greater-than-equals" => Some(Self::Gte),
            _ => None,
        }
    }

    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::Lt => value < threshold,
            Self::Lte => value <= threshold,
            Self::Gt => value > threshold,
            Self::Gte => value >= threshold,
        }
    }
}

/// A behavior's static test, compiled once per profile version.
#[derive(Debug, Clone)]
pub enum Test {
    Compare(Cmp, f64),
    Cidrs {
        nets: Vec<IpNet>,
        inside: bool,
    },
    /// One bit per port.
    Ports {
        bits: Box<[u64; 1024]>,
        inside: bool,
    },
    Numbers {
        set: Vec<f64>,
        inside: bool,
    },
    Strings {
        set: HashSet<String>,
        inside: bool,
    },
}

impl Test {
    /// The test of a static criteria; `None` when operator and value do not fit (validation
    /// refuses such behaviors, so this only guards stored data).
    pub fn compile(op: &str, value: &MetricValue) -> Option<Self> {
        if let Some(cmp) = Cmp::parse(op) {
            let threshold = value.count.map(|c| c as f64).or(value.number)?;
            return Some(Self::Compare(cmp, threshold));
        }
        let inside = !op.starts_with("not-");
        match op {
            "in-cidr-set" | "not-in-cidr-set" => Some(Self::Cidrs {
                nets: value
                    .cidrs
                    .as_ref()?
                    .iter()
                    .filter_map(|c| parse_cidr(c))
                    .collect(),
                inside,
            }),
            "in-port-set" | "not-in-port-set" => {
                let mut bits = Box::new([0u64; 1024]);
                for p in value.ports.as_ref()? {
                    if let Ok(p) = usize::try_from(*p)
                        && p < 65536
                    {
                        bits[p / 64] |= 1 << (p % 64);
                    }
                }
                Some(Self::Ports { bits, inside })
            }
            "in-set" | "not-in-set" => match (&value.numbers, &value.strings) {
                (Some(n), _) => Some(Self::Numbers {
                    set: n.clone(),
                    inside,
                }),
                (_, Some(s)) => Some(Self::Strings {
                    set: s.iter().cloned().collect(),
                    inside,
                }),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether `observed` conforms (is normal). A value of another kind conforms: it is
    /// not this behavior's to judge.
    pub fn conforms(&self, observed: &Observed) -> bool {
        match (self, observed) {
            (Self::Compare(cmp, t), Observed::Number(v)) => cmp.holds(*v, *t),
            (Self::Cidrs { nets, inside }, Observed::Ips(ips)) => ips
                .iter()
                .all(|ip| nets.iter().any(|n| n.contains(ip)) == *inside),
            (Self::Ports { bits, inside }, Observed::Ports(ports)) => ports.iter().all(|p| {
                let p = usize::from(*p);
                (bits[p / 64] >> (p % 64) & 1 == 1) == *inside
            }),
            (Self::Numbers { set, inside }, Observed::Numbers(ns)) => {
                ns.iter().all(|n| set.iter().any(|s| s == n) == *inside)
            }
            (Self::Strings { set, inside }, Observed::Strings(ss)) => {
                ss.iter().all(|s| set.contains(s) == *inside)
            }
            _ => true,
        }
    }
}
