//! Report validation: header and the standard `metrics` block (spec §3.2).

use std::net::{IpAddr, SocketAddr};

use crate::Encoding;
use crate::custom::parse_custom_metrics;
use crate::error::ReportError;
use crate::keys::{self, Key, Obj};
use crate::model::{
    Connection, DeviceMetrics, EstablishedConnections, ListeningPort, ListeningPorts, NetworkStats,
    Report,
};
use crate::numbers::{MAX_COUNT, integer};
use crate::tree::{self, Node};

/// AWS IoT Core's MQTT payload limit (128 KB); the broker never passes more, but the
/// parser does not rely on that.
pub const MAX_PAYLOAD_BYTES: usize = 128 * 1024;

/// Cap on every list and on the number of custom metrics in one report (UNCONFIRMED:
/// AWS documents none; its sample agent sends at most 50 entries per list).
pub const MAX_LIST_ENTRIES: usize = 1_000;

/// Longest `version` string accepted; `"1.0"` is the only version in use.
const MAX_VERSION_LEN: usize = 16;

/// Longest excerpt of device-supplied text quoted back in an error message.
const QUOTE_LIMIT: usize = 100;

/// Parses and validates one report.
///
/// Every failure is an `InvalidPayload` [`ReportError`]; once the header's `report_id` has
/// been read it is carried in the error so the `rejected` reply can echo it. Custom-metric
/// data that breaks AWS's data requirements does not fail the report: it lands in
/// [`Report::dropped_custom_metrics`].
pub fn parse_report(payload: &[u8], enc: Encoding) -> Result<Report, ReportError> {
    // The common JSON report takes the one-pass scanner; anything it does not take (valid
    // or not) is decided, and any rejection worded, by the full parser below.
    if matches!(enc, Encoding::Json)
        && let Some(report) = crate::fast::scan(payload)
    {
        return Ok(report);
    }
    parse_full(payload, enc)
}

/// The full parser: document tree, then validation with AWS-style error messages.
pub(crate) fn parse_full(payload: &[u8], enc: Encoding) -> Result<Report, ReportError> {
    if payload.is_empty() {
        return Err(ReportError::malformed("the payload is empty"));
    }
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(ReportError::malformed(format!(
            "the payload is {} bytes, the limit is {MAX_PAYLOAD_BYTES}",
            payload.len()
        )));
    }
    let root = tree::decode(payload, enc).map_err(|e| {
        ReportError::malformed(format!(
            "not valid {}: {}",
            enc.as_str().to_uppercase(),
            cut(&e)
        ))
    })?;
    let obj = Obj::new(
        &root,
        "",
        &[keys::HEADER, keys::METRICS, keys::CUSTOM_METRICS],
    )?;

    let header = Obj::new(
        obj.require(keys::HEADER)?,
        "header",
        &[keys::REPORT_ID, keys::VERSION],
    )?;
    let report_id = integer(
        header.require(keys::REPORT_ID)?,
        "header.report_id",
        1,
        MAX_COUNT,
    )?;
    let (version, metrics, (custom_metrics, dropped_custom_metrics)) =
        parse_body(&obj, &header).map_err(|e| e.with_report_id(Some(report_id)))?;
    Ok(Report {
        report_id,
        version,
        metrics,
        custom_metrics,
        dropped_custom_metrics,
    })
}

type Body = (String, Option<DeviceMetrics>, crate::custom::CustomMetrics);

/// Everything after `report_id`, so that one `map_err` can attach the id to any error.
fn parse_body(root: &Obj<'_>, header: &Obj<'_>) -> Result<Body, ReportError> {
    let version = parse_version(header.require(keys::VERSION)?)?;
    let metrics = optional(root, keys::METRICS)
        .map(parse_metrics)
        .transpose()?;
    let custom = optional(root, keys::CUSTOM_METRICS)
        .map(parse_custom_metrics)
        .transpose()?;
    if metrics.is_none() && custom.is_none() {
        return Err(ReportError::malformed(
            "a report needs a metrics (\"metrics\"/\"met\") or custom_metrics (\"custom_metrics\"/\"cmet\") block",
        ));
    }
    Ok((version, metrics, custom.unwrap_or_default()))
}

/// Whether [`parse_version`] accepts `v`.
pub(crate) fn version_ok(v: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    v.len() <= MAX_VERSION_LEN
        && v.split_once('.').is_some_and(|(major, minor)| {
            digits(major) && digits(minor) && major.parse::<u32>() == Ok(1)
        })
}

/// `Major.Minor`; only major version 1 exists, so others are refused (UNCONFIRMED).
fn parse_version(node: &Node) -> Result<String, ReportError> {
    let Node::Str(v) = node else {
        return Err(ReportError::malformed(format!(
            "header.version must be a string such as \"1.0\", got {}",
            node.kind()
        )));
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let well_formed = v.len() <= MAX_VERSION_LEN
        && v.split_once('.')
            .is_some_and(|(major, minor)| digits(major) && digits(minor));
    if !well_formed {
        return Err(ReportError::malformed(format!(
            "header.version must look like \"1.0\" (Major.Minor), got {}",
            quote(v)
        )));
    }
    if v.split_once('.')
        .and_then(|(major, _)| major.parse::<u32>().ok())
        != Some(1)
    {
        return Err(ReportError::malformed(format!(
            "header.version {} is not supported, only 1.x is",
            quote(v)
        )));
    }
    Ok(v.clone())
}

fn parse_metrics(node: &Node) -> Result<DeviceMetrics, ReportError> {
    let m = Obj::new(
        node,
        "metrics",
        &[
            keys::TCP_CONNECTIONS,
            keys::LISTENING_TCP_PORTS,
            keys::LISTENING_UDP_PORTS,
            keys::NETWORK_STATS,
        ],
    )?;
    let established_connections = match optional(&m, keys::TCP_CONNECTIONS) {
        Some(tc) => {
            let path = m.child(&keys::TCP_CONNECTIONS);
            let tc = Obj::new(tc, &path, &[keys::ESTABLISHED_CONNECTIONS])?;
            optional(&tc, keys::ESTABLISHED_CONNECTIONS)
                .map(|ec| parse_established(ec, &tc.child(&keys::ESTABLISHED_CONNECTIONS)))
                .transpose()?
        }
        None => None,
    };
    let ports = |key: Key| {
        optional(&m, key)
            .map(|n| parse_listening(n, &m.child(&key)))
            .transpose()
    };
    Ok(DeviceMetrics {
        established_connections,
        listening_tcp_ports: ports(keys::LISTENING_TCP_PORTS)?,
        listening_udp_ports: ports(keys::LISTENING_UDP_PORTS)?,
        network_stats: optional(&m, keys::NETWORK_STATS)
            .map(|n| parse_network_stats(n, &m.child(&keys::NETWORK_STATS)))
            .transpose()?,
    })
}

fn parse_established(node: &Node, path: &str) -> Result<EstablishedConnections, ReportError> {
    let ec = Obj::new(node, path, &[keys::CONNECTIONS, keys::TOTAL])?;
    let connections = match optional(&ec, keys::CONNECTIONS) {
        Some(list_node) => {
            let path = ec.child(&keys::CONNECTIONS);
            let items = list(list_node, &path)?;
            let parsed = items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_connection(item, &format!("{path}[{i}]")));
            Some(parsed.collect::<Result<Vec<_>, _>>()?)
        }
        None => None,
    };
    Ok(EstablishedConnections {
        connections,
        total: count(&ec, keys::TOTAL)?,
    })
}

fn parse_connection(node: &Node, path: &str) -> Result<Connection, ReportError> {
    let c = Obj::new(
        node,
        path,
        &[keys::REMOTE_ADDR, keys::LOCAL_PORT, keys::LOCAL_INTERFACE],
    )?;
    let addr_path = c.child(&keys::REMOTE_ADDR);
    let remote_addr = parse_remote_addr(&string(c.require(keys::REMOTE_ADDR)?, &addr_path)?)
        .ok_or_else(|| {
            ReportError::malformed(format!("{addr_path} must be \"ip:port\" (IPv4 or IPv6)"))
        })?;
    let local_port = optional(&c, keys::LOCAL_PORT)
        .map(|n| integer(n, &c.child(&keys::LOCAL_PORT), 0, u16::MAX.into()))
        .transpose()?
        .map(|p| u16::try_from(p).expect("range checked"));
    let local_interface = optional(&c, keys::LOCAL_INTERFACE)
        .map(|n| string(n, &c.child(&keys::LOCAL_INTERFACE)))
        .transpose()?;
    Ok(Connection {
        remote_addr,
        local_port,
        local_interface,
    })
}

/// `1.2.3.4:80` and `[::1]:80`, plus the unbracketed `::1:80` that an agent formatting
/// `"%s:%u"` would send for IPv6 (the port is required, so the last colon splits).
pub(crate) fn parse_remote_addr(s: &str) -> Option<SocketAddr> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Some(addr);
    }
    let (ip, port) = s.rsplit_once(':')?;
    match (ip.parse::<IpAddr>().ok()?, port.parse::<u16>().ok()?) {
        (ip @ IpAddr::V6(_), port) => Some(SocketAddr::new(ip, port)),
        _ => None,
    }
}

fn parse_listening(node: &Node, path: &str) -> Result<ListeningPorts, ReportError> {
    let lp = Obj::new(node, path, &[keys::PORTS, keys::TOTAL])?;
    let ports = match optional(&lp, keys::PORTS) {
        Some(list_node) => {
            let path = lp.child(&keys::PORTS);
            let items = list(list_node, &path)?;
            let parsed = items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_port(item, &format!("{path}[{i}]")));
            Some(parsed.collect::<Result<Vec<_>, _>>()?)
        }
        None => None,
    };
    Ok(ListeningPorts {
        ports,
        total: count(&lp, keys::TOTAL)?,
    })
}

fn parse_port(node: &Node, path: &str) -> Result<ListeningPort, ReportError> {
    let p = Obj::new(node, path, &[keys::PORT, keys::INTERFACE])?;
    // The spec says "ports should be numbers greater than 0": port 0 is refused.
    let port = optional(&p, keys::PORT)
        .map(|n| integer(n, &p.child(&keys::PORT), 1, u16::MAX.into()))
        .transpose()?
        .map(|v| u16::try_from(v).expect("range checked"));
    let interface = optional(&p, keys::INTERFACE)
        .map(|n| string(n, &p.child(&keys::INTERFACE)))
        .transpose()?;
    Ok(ListeningPort { port, interface })
}

fn parse_network_stats(node: &Node, path: &str) -> Result<NetworkStats, ReportError> {
    let ns = Obj::new(
        node,
        path,
        &[
            keys::BYTES_IN,
            keys::BYTES_OUT,
            keys::PACKETS_IN,
            keys::PACKETS_OUT,
        ],
    )?;
    Ok(NetworkStats {
        bytes_in: count(&ns, keys::BYTES_IN)?,
        bytes_out: count(&ns, keys::BYTES_OUT)?,
        packets_in: count(&ns, keys::PACKETS_IN)?,
        packets_out: count(&ns, keys::PACKETS_OUT)?,
    })
}

/// An optional field; `null` counts as absent (agents built on cJSON print NaN as null).
pub(crate) fn optional<'a>(obj: &Obj<'a>, key: Key) -> Option<&'a Node> {
    obj.get(key).filter(|n| !matches!(n, Node::Null))
}

/// An optional non-negative count (totals and network deltas).
fn count(obj: &Obj<'_>, key: Key) -> Result<Option<u64>, ReportError> {
    optional(obj, key)
        .map(|n| integer(n, &obj.child(&key), 0, MAX_COUNT))
        .transpose()
}

/// A list of at most [`MAX_LIST_ENTRIES`] items.
pub(crate) fn list<'a>(node: &'a Node, path: &str) -> Result<&'a [Node], ReportError> {
    match node {
        Node::Array(items) if items.len() <= MAX_LIST_ENTRIES => Ok(items),
        Node::Array(items) => Err(ReportError::malformed(format!(
            "{path} has {} entries, the limit is {MAX_LIST_ENTRIES}",
            items.len()
        ))),
        other => Err(ReportError::malformed(format!(
            "{path} must be an array, got {}",
            other.kind()
        ))),
    }
}

pub(crate) fn string(node: &Node, path: &str) -> Result<String, ReportError> {
    match node {
        Node::Str(s) => Ok(s.clone()),
        other => Err(ReportError::malformed(format!(
            "{path} must be a string, got {}",
            other.kind()
        ))),
    }
}

/// Device text quoted in an error, cut short so a reply never balloons.
pub(crate) fn quote(s: &str) -> String {
    let short = cut(s);
    if short.len() < s.len() {
        format!("{short:?}…")
    } else {
        format!("{s:?}")
    }
}

/// The first [`QUOTE_LIMIT`] characters of `s`.
fn cut(s: &str) -> &str {
    s.char_indices()
        .nth(QUOTE_LIMIT)
        .map_or(s, |(end, _)| &s[..end])
}
