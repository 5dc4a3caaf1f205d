//! A validated device-side metrics report (spec §3.2), independent of key style and encoding.

use std::net::{IpAddr, SocketAddr};

/// One accepted report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// `header.report_id`: positive, at most `i64::MAX`.
    pub report_id: u64,
    /// `header.version`, e.g. `"1.0"`.
    pub version: String,
    /// The `metrics` block; `None` when the report carries only custom metrics.
    pub metrics: Option<DeviceMetrics>,
    /// Conforming custom metrics, in payload order.
    pub custom_metrics: Vec<(String, CustomValue)>,
    /// Custom metrics that were well formed but whose data AWS would not retain
    /// (see [`DroppedCustomMetric`]); the report is still accepted.
    pub dropped_custom_metrics: Vec<DroppedCustomMetric>,
}

/// The `metrics` block. Every part is optional; an absent part yields no datapoint.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceMetrics {
    /// `tcp_connections.established_connections`.
    pub established_connections: Option<EstablishedConnections>,
    /// `listening_tcp_ports`.
    pub listening_tcp_ports: Option<ListeningPorts>,
    /// `listening_udp_ports`.
    pub listening_udp_ports: Option<ListeningPorts>,
    /// `network_stats`.
    pub network_stats: Option<NetworkStats>,
}

/// TCP connections in the ESTABLISHED state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EstablishedConnections {
    /// `connections`; `None` when the list was left out (not the same as empty).
    pub connections: Option<Vec<Connection>>,
    /// `total`: agents may send a sample of the list with the true count here.
    pub total: Option<u64>,
}

/// One established connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    /// `remote_addr`, `"ip:port"` on the wire.
    pub remote_addr: SocketAddr,
    /// `local_port`.
    pub local_port: Option<u16>,
    /// `local_interface`, an interface name such as `eth0`.
    pub local_interface: Option<String>,
}

/// Listening TCP or UDP ports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListeningPorts {
    /// `ports`; `None` when the list was left out (not the same as empty).
    pub ports: Option<Vec<ListeningPort>>,
    /// `total`: may exceed the list length when the agent sampled the list.
    pub total: Option<u64>,
}

/// One listening port entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ListeningPort {
    /// `port`, 1..=65535 (the AWS table marks it optional, so an entry may lack it).
    pub port: Option<u16>,
    /// `interface`.
    pub interface: Option<String>,
}

/// `network_stats`: deltas since the previous report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetworkStats {
    pub bytes_in: Option<u64>,
    pub bytes_out: Option<u64>,
    pub packets_in: Option<u64>,
    pub packets_out: Option<u64>,
}

/// The typed value of one custom metric (`CustomMetricType`).
#[derive(Debug, Clone, PartialEq)]
pub enum CustomValue {
    /// `[{"number": n}]`, type `number`.
    Number(f64),
    /// `[{"number_list": [...]}]`, type `number-list`.
    NumberList(Vec<f64>),
    /// `[{"string_list": [...]}]`, type `string-list`.
    StringList(Vec<String>),
    /// `[{"ip_list": [...]}]`, type `ip-address-list`.
    IpList(Vec<IpAddr>),
}

/// A custom metric accepted on the wire but not retained, as AWS documents for data that
/// breaks the custom-metric data requirements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedCustomMetric {
    /// The metric name as sent.
    pub name: String,
    /// Which requirement it broke, for logs.
    pub reason: &'static str,
}
