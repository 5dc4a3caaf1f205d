//! Test-only: a report serializer (the inverse of `parse_report`) and JSON→CBOR conversion,
//! so every JSON fixture also runs as CBOR.

use serde_json::{Map, Value, json};

use crate::Encoding;
use crate::keys::{self, Key};
use crate::model::{
    Connection, CustomValue, DeviceMetrics, EstablishedConnections, ListeningPort, ListeningPorts,
    NetworkStats, Report,
};

/// Chooses long or short names, key by key.
pub(crate) struct KeyStyle {
    state: u64,
    mode: Mode,
}

#[derive(Clone, Copy)]
enum Mode {
    Long,
    Short,
    Mixed,
}

impl KeyStyle {
    pub(crate) fn long() -> Self {
        KeyStyle {
            state: 0,
            mode: Mode::Long,
        }
    }

    pub(crate) fn short() -> Self {
        KeyStyle {
            state: 0,
            mode: Mode::Short,
        }
    }

    /// Long or short at random, per key, from `seed`.
    pub(crate) fn mixed(seed: u64) -> Self {
        KeyStyle {
            state: seed | 1,
            mode: Mode::Mixed,
        }
    }

    fn name(&mut self, key: Key) -> String {
        let short = match self.mode {
            Mode::Long => false,
            Mode::Short => true,
            Mode::Mixed => {
                // xorshift64: deterministic per seed, no dependency.
                self.state ^= self.state << 13;
                self.state ^= self.state >> 7;
                self.state ^= self.state << 17;
                self.state & 1 == 1
            }
        };
        (if short { key.short } else { key.long }).to_owned()
    }
}

/// Writes a report the way an agent would; the custom block appears when there are custom
/// metrics or no standard metrics (a report needs one of the two).
pub(crate) fn report_to_json(report: &Report, style: &mut KeyStyle) -> Value {
    let mut root = Map::new();
    let mut header = Map::new();
    header.insert(style.name(keys::REPORT_ID), json!(report.report_id));
    header.insert(style.name(keys::VERSION), json!(report.version));
    root.insert(style.name(keys::HEADER), Value::Object(header));
    if let Some(m) = &report.metrics {
        root.insert(style.name(keys::METRICS), metrics_to_json(m, style));
    }
    if !report.custom_metrics.is_empty() || report.metrics.is_none() {
        let custom = report
            .custom_metrics
            .iter()
            .map(|(name, value)| (name.clone(), json!([custom_to_json(value)])))
            .collect();
        root.insert(style.name(keys::CUSTOM_METRICS), Value::Object(custom));
    }
    Value::Object(root)
}

fn metrics_to_json(m: &DeviceMetrics, style: &mut KeyStyle) -> Value {
    let mut out = Map::new();
    if let Some(ec) = &m.established_connections {
        let mut tc = Map::new();
        tc.insert(
            style.name(keys::ESTABLISHED_CONNECTIONS),
            established_to_json(ec, style),
        );
        out.insert(style.name(keys::TCP_CONNECTIONS), Value::Object(tc));
    }
    if let Some(p) = &m.listening_tcp_ports {
        out.insert(
            style.name(keys::LISTENING_TCP_PORTS),
            listening_to_json(p, style),
        );
    }
    if let Some(p) = &m.listening_udp_ports {
        out.insert(
            style.name(keys::LISTENING_UDP_PORTS),
            listening_to_json(p, style),
        );
    }
    if let Some(ns) = &m.network_stats {
        out.insert(style.name(keys::NETWORK_STATS), stats_to_json(ns, style));
    }
    Value::Object(out)
}

fn established_to_json(ec: &EstablishedConnections, style: &mut KeyStyle) -> Value {
    let mut out = Map::new();
    if let Some(list) = &ec.connections {
        let items = list.iter().map(|c| connection_to_json(c, style)).collect();
        out.insert(style.name(keys::CONNECTIONS), Value::Array(items));
    }
    if let Some(t) = ec.total {
        out.insert(style.name(keys::TOTAL), json!(t));
    }
    Value::Object(out)
}

fn connection_to_json(c: &Connection, style: &mut KeyStyle) -> Value {
    let mut out = Map::new();
    out.insert(
        style.name(keys::REMOTE_ADDR),
        json!(c.remote_addr.to_string()),
    );
    if let Some(p) = c.local_port {
        out.insert(style.name(keys::LOCAL_PORT), json!(p));
    }
    if let Some(i) = &c.local_interface {
        out.insert(style.name(keys::LOCAL_INTERFACE), json!(i));
    }
    Value::Object(out)
}

fn listening_to_json(lp: &ListeningPorts, style: &mut KeyStyle) -> Value {
    let mut out = Map::new();
    if let Some(list) = &lp.ports {
        let items = list.iter().map(|p| port_to_json(p, style)).collect();
        out.insert(style.name(keys::PORTS), Value::Array(items));
    }
    if let Some(t) = lp.total {
        out.insert(style.name(keys::TOTAL), json!(t));
    }
    Value::Object(out)
}

fn port_to_json(p: &ListeningPort, style: &mut KeyStyle) -> Value {
    let mut out = Map::new();
    if let Some(i) = &p.interface {
        out.insert(style.name(keys::INTERFACE), json!(i));
    }
    if let Some(port) = p.port {
        out.insert(style.name(keys::PORT), json!(port));
    }
    Value::Object(out)
}

fn stats_to_json(ns: &NetworkStats, style: &mut KeyStyle) -> Value {
    let mut out = Map::new();
    for (key, value) in [
        (keys::BYTES_IN, ns.bytes_in),
        (keys::BYTES_OUT, ns.bytes_out),
        (keys::PACKETS_IN, ns.packets_in),
        (keys::PACKETS_OUT, ns.packets_out),
    ] {
        if let Some(v) = value {
            out.insert(style.name(key), json!(v));
        }
    }
    Value::Object(out)
}

fn custom_to_json(value: &CustomValue) -> Value {
    match value {
        CustomValue::Number(n) => json!({ "number": n }),
        CustomValue::NumberList(ns) => json!({ "number_list": ns }),
        CustomValue::StringList(ss) => json!({ "string_list": ss }),
        CustomValue::IpList(ips) => {
            let ips: Vec<String> = ips.iter().map(ToString::to_string).collect();
            json!({ "ip_list": ips })
        }
    }
}

/// The same document as a CBOR data model value: integers stay integers, floats floats.
pub(crate) fn json_to_cbor(v: &Value) -> ciborium::Value {
    match v {
        Value::Null => ciborium::Value::Null,
        Value::Bool(b) => ciborium::Value::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => ciborium::Value::Integer(u.into()),
            (None, Some(i), _) => ciborium::Value::Integer(i.into()),
            (None, None, Some(f)) => ciborium::Value::Float(f),
            _ => unreachable!("a JSON number is u64, i64 or f64"),
        },
        Value::String(s) => ciborium::Value::Text(s.clone()),
        Value::Array(items) => ciborium::Value::Array(items.iter().map(json_to_cbor).collect()),
        Value::Object(members) => ciborium::Value::Map(
            members
                .iter()
                .map(|(k, v)| (ciborium::Value::Text(k.clone()), json_to_cbor(v)))
                .collect(),
        ),
    }
}

/// Bytes as a device would publish them.
pub(crate) fn encode(v: &Value, enc: Encoding) -> Vec<u8> {
    match enc {
        Encoding::Json => serde_json::to_vec(v).unwrap(),
        Encoding::Cbor => {
            let mut out = Vec::new();
            ciborium::ser::into_writer(&json_to_cbor(v), &mut out).unwrap();
            out
        }
    }
}

/// Parses a JSON fixture text and returns it in `enc`.
pub(crate) fn fixture(json_text: &str, enc: Encoding) -> Vec<u8> {
    let v: Value = serde_json::from_str(json_text).unwrap();
    encode(&v, enc)
}
