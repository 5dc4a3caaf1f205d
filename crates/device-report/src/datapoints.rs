//! The Detect datapoints a report yields, named as Device Defender metrics (spec §2.2).

use std::collections::HashSet;
use std::hash::Hash;
use std::net::IpAddr;

use crate::model::{CustomValue, ListeningPorts, Report};

pub const ALL_BYTES_IN: &str = "aws:all-bytes-in";
pub const ALL_BYTES_OUT: &str = "aws:all-bytes-out";
pub const ALL_PACKETS_IN: &str = "aws:all-packets-in";
pub const ALL_PACKETS_OUT: &str = "aws:all-packets-out";
pub const LISTENING_TCP_PORTS: &str = "aws:listening-tcp-ports";
pub const NUM_LISTENING_TCP_PORTS: &str = "aws:num-listening-tcp-ports";
pub const LISTENING_UDP_PORTS: &str = "aws:listening-udp-ports";
pub const NUM_LISTENING_UDP_PORTS: &str = "aws:num-listening-udp-ports";
pub const NUM_ESTABLISHED_TCP_CONNECTIONS: &str = "aws:num-established-tcp-connections";
pub const DESTINATION_IP_ADDRESSES: &str = "aws:destination-ip-addresses";

/// One datapoint's value, shaped like the API's `MetricValue` member it is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricValue {
    /// `count`: device-side counts and deltas.
    Count(i64),
    /// `number`: custom `number` metrics.
    Number(f64),
    /// `numbers`: custom `number-list` metrics.
    Numbers(Vec<f64>),
    /// `ports`: listening TCP/UDP ports, deduplicated.
    Ports(Vec<u16>),
    /// `cidrs` (as addresses): destination IPs and custom `ip-address-list` metrics,
    /// deduplicated, IPv4-mapped IPv6 written as IPv4 so IPv4 CIDRs match them.
    Ips(Vec<IpAddr>),
    /// `strings`: custom `string-list` metrics.
    Strings(Vec<String>),
}

/// The datapoints of an accepted report, built-in metrics first, then custom metrics by
/// name. A part the report left out yields nothing; an empty list yields an empty value,
/// which Detect treats as compliant (troubleshooting guide).
///
/// Counts come from `total` when sent, else from the list length (inferred: AWS maps the
/// count metrics to `total`, and agents that sample lists send the true count there).
pub fn datapoints(report: &Report) -> Vec<(String, MetricValue)> {
    datapoint_refs(report)
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

/// [`datapoints`] with the names borrowed (built-in names are static, custom names point
/// into the report): no allocation per metric name, for the hot path.
pub fn datapoint_refs(report: &Report) -> Vec<(&str, MetricValue)> {
    let mut out = Vec::with_capacity(10 + report.custom_metrics.len());
    let mut push = |name: &'static str, value: MetricValue| out.push((name, value));

    if let Some(m) = &report.metrics {
        if let Some(ns) = &m.network_stats {
            for (name, value) in [
                (ALL_BYTES_IN, ns.bytes_in),
                (ALL_BYTES_OUT, ns.bytes_out),
                (ALL_PACKETS_IN, ns.packets_in),
                (ALL_PACKETS_OUT, ns.packets_out),
            ] {
                if let Some(v) = value {
                    push(name, count(v));
                }
            }
        }
        for (ports, list_name, count_name) in [
            (
                &m.listening_tcp_ports,
                LISTENING_TCP_PORTS,
                NUM_LISTENING_TCP_PORTS,
            ),
            (
                &m.listening_udp_ports,
                LISTENING_UDP_PORTS,
                NUM_LISTENING_UDP_PORTS,
            ),
        ] {
            if let Some(ListeningPorts { ports, total }) = ports {
                if let Some(list) = ports {
                    push(
                        list_name,
                        MetricValue::Ports(dedup(list.iter().filter_map(|p| p.port))),
                    );
                }
                if let Some(n) = total.or(ports.as_ref().map(|l| l.len() as u64)) {
                    push(count_name, count(n));
                }
            }
        }
        if let Some(ec) = &m.established_connections {
            let n = ec.total.or(ec.connections.as_ref().map(|l| l.len() as u64));
            if let Some(n) = n {
                push(NUM_ESTABLISHED_TCP_CONNECTIONS, count(n));
            }
            if let Some(list) = &ec.connections {
                let ips = list.iter().map(|c| c.remote_addr.ip().to_canonical());
                push(DESTINATION_IP_ADDRESSES, MetricValue::Ips(dedup(ips)));
            }
        }
    }

    for (name, value) in &report.custom_metrics {
        let value = match value {
            CustomValue::Number(n) => MetricValue::Number(*n),
            CustomValue::NumberList(ns) => MetricValue::Numbers(ns.clone()),
            CustomValue::StringList(ss) => MetricValue::Strings(ss.clone()),
            CustomValue::IpList(ips) => {
                MetricValue::Ips(dedup(ips.iter().map(|ip| ip.to_canonical())))
            }
        };
        out.push((name.as_str(), value));
    }
    out
}

/// Counts were range-checked to `i64::MAX` when parsed.
fn count(n: u64) -> MetricValue {
    MetricValue::Count(i64::try_from(n).unwrap_or(i64::MAX))
}

/// First occurrence wins; agents repeat ports and connections to the same peer. Short
/// lists (the usual case) are checked by a scan rather than a hash set.
fn dedup<T: Copy + Eq + Hash>(items: impl Iterator<Item = T>) -> Vec<T> {
    const SCAN_LIMIT: usize = 16;
    let mut out: Vec<T> = Vec::new();
    let mut seen: Option<HashSet<T>> = None;
    for item in items {
        let fresh = match &mut seen {
            Some(set) => set.insert(item),
            None if out.len() < SCAN_LIMIT => !out.contains(&item),
            None => {
                let mut set: HashSet<T> = out.iter().copied().collect();
                let fresh = set.insert(item);
                seen = Some(set);
                fresh
            }
        };
        if fresh {
            out.push(item);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Connection, DeviceMetrics, EstablishedConnections, ListeningPort};

    fn report(metrics: DeviceMetrics, custom: Vec<(String, CustomValue)>) -> Report {
        Report {
            report_id: 1,
            version: "1.0".into(),
            metrics: Some(metrics),
            custom_metrics: custom,
            dropped_custom_metrics: vec![],
        }
    }

    fn conn(addr: &str) -> Connection {
        Connection {
            remote_addr: addr.parse().unwrap(),
            local_port: None,
            local_interface: None,
        }
    }

    #[test]
    fn absent_parts_yield_nothing() {
        assert!(datapoints(&report(DeviceMetrics::default(), vec![])).is_empty());
        let empty_blocks = DeviceMetrics {
            established_connections: Some(EstablishedConnections::default()),
            listening_tcp_ports: Some(ListeningPorts::default()),
            ..DeviceMetrics::default()
        };
        assert!(datapoints(&report(empty_blocks, vec![])).is_empty());
    }

    #[test]
    fn counts_fall_back_to_list_length() {
        let m = DeviceMetrics {
            established_connections: Some(EstablishedConnections {
                connections: Some(vec![conn("10.0.0.1:1"), conn("10.0.0.2:1")]),
                total: None,
            }),
            listening_udp_ports: Some(ListeningPorts {
                ports: Some(vec![
                    ListeningPort {
                        port: Some(53),
                        interface: None,
                    },
                    ListeningPort {
                        port: None,
                        interface: Some("eth0".into()),
                    },
                    ListeningPort {
                        port: Some(53),
                        interface: Some("eth1".into()),
                    },
                ]),
                total: None,
            }),
            ..DeviceMetrics::default()
        };
        let points = datapoints(&report(m, vec![]));
        assert!(points.contains(&(LISTENING_UDP_PORTS.into(), MetricValue::Ports(vec![53]))));
        assert!(points.contains(&(NUM_LISTENING_UDP_PORTS.into(), MetricValue::Count(3))));
        assert!(points.contains(&(
            NUM_ESTABLISHED_TCP_CONNECTIONS.into(),
            MetricValue::Count(2)
        )));
    }

    #[test]
    fn total_alone_gives_a_count_but_no_list() {
        let m = DeviceMetrics {
            listening_tcp_ports: Some(ListeningPorts {
                ports: None,
                total: Some(4),
            }),
            ..DeviceMetrics::default()
        };
        assert_eq!(
            datapoints(&report(m, vec![])),
            vec![(NUM_LISTENING_TCP_PORTS.to_owned(), MetricValue::Count(4))]
        );
    }

    #[test]
    fn ips_are_deduplicated_and_canonical() {
        let m = DeviceMetrics {
            established_connections: Some(EstablishedConnections {
                connections: Some(vec![
                    conn("[::ffff:10.0.0.1]:443"),
                    conn("10.0.0.1:80"),
                    conn("[2001:db8::1]:80"),
                ]),
                total: Some(3),
            }),
            ..DeviceMetrics::default()
        };
        let custom = vec![(
            "peers".to_owned(),
            CustomValue::IpList(vec![
                "::ffff:192.0.2.1".parse().unwrap(),
                "192.0.2.1".parse().unwrap(),
            ]),
        )];
        let points = datapoints(&report(m, custom));
        let v4 = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(points.contains(&(
            DESTINATION_IP_ADDRESSES.into(),
            MetricValue::Ips(vec![v4("10.0.0.1"), v4("2001:db8::1")])
        )));
        assert!(points.contains(&("peers".into(), MetricValue::Ips(vec![v4("192.0.2.1")]))));
    }
}
