//! Property tests: valid reports round-trip through serialize → parse in both encodings and
//! any key style; parsing arbitrary or mangled bytes never panics.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

use proptest::collection::vec;
use proptest::prelude::*;

use crate::test_support::{KeyStyle, encode, report_to_json};
use crate::{
    Connection, CustomValue, DeviceMetrics, Encoding, EstablishedConnections, ListeningPort,
    ListeningPorts, NetworkStats, Report, datapoints, parse_report,
};

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![Just(Encoding::Json), Just(Encoding::Cbor)]
}

fn count() -> impl Strategy<Value = u64> {
    prop_oneof![0..1000u64, 0..=i64::MAX as u64]
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|v| IpAddr::V4(Ipv4Addr::from(v))),
        any::<u128>().prop_map(|v| IpAddr::V6(Ipv6Addr::from(v))),
    ]
}

fn socket_addr() -> impl Strategy<Value = SocketAddr> {
    (ip(), any::<u16>()).prop_map(|(ip, port)| match ip {
        // Flow info and scope ids are not part of the "ip:port" wire form.
        IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, 0)),
        v4 => SocketAddr::new(v4, port),
    })
}

fn text() -> impl Strategy<Value = String> {
    ".{0,12}"
}

fn connection() -> impl Strategy<Value = Connection> {
    (
        socket_addr(),
        proptest::option::of(any::<u16>()),
        proptest::option::of(text()),
    )
        .prop_map(|(remote_addr, local_port, local_interface)| Connection {
            remote_addr,
            local_port,
            local_interface,
        })
}

fn listening_ports() -> impl Strategy<Value = ListeningPorts> {
    let port = (
        proptest::option::of(1..=u16::MAX),
        proptest::option::of(text()),
    )
        .prop_map(|(port, interface)| ListeningPort { port, interface });
    (
        proptest::option::of(vec(port, 0..8)),
        proptest::option::of(count()),
    )
        .prop_map(|(ports, total)| ListeningPorts { ports, total })
}

fn metrics() -> impl Strategy<Value = DeviceMetrics> {
    let established = (
        proptest::option::of(vec(connection(), 0..8)),
        proptest::option::of(count()),
    )
        .prop_map(|(connections, total)| EstablishedConnections { connections, total });
    let stats =
        proptest::array::uniform4(proptest::option::of(count())).prop_map(|s| NetworkStats {
            bytes_in: s[0],
            bytes_out: s[1],
            packets_in: s[2],
            packets_out: s[3],
        });
    (
        proptest::option::of(established),
        proptest::option::of(listening_ports()),
        proptest::option::of(listening_ports()),
        proptest::option::of(stats),
    )
        .prop_map(
            |(established_connections, tcp, udp, network_stats)| DeviceMetrics {
                established_connections,
                listening_tcp_ports: tcp,
                listening_udp_ports: udp,
                network_stats,
            },
        )
}

/// Numbers that meet the 15-significant-digit rule: a decimal with at most 15 digits reads
/// back from a double unchanged.
fn conforming_number() -> impl Strategy<Value = f64> {
    (-999_999_999_999_999i64..=999_999_999_999_999, -30i32..30)
        .prop_map(|(mantissa, exp)| format!("{mantissa}e{exp}").parse().unwrap())
}

fn custom_value() -> impl Strategy<Value = CustomValue> {
    prop_oneof![
        conforming_number().prop_map(CustomValue::Number),
        vec(conforming_number(), 0..6).prop_map(CustomValue::NumberList),
        vec("[A-Za-z0-9:_./-]{0,10}", 0..6).prop_map(CustomValue::StringList),
        vec(ip(), 0..6).prop_map(CustomValue::IpList),
    ]
}

fn custom_metrics() -> impl Strategy<Value = Vec<(String, CustomValue)>> {
    vec(("[a-zA-Z0-9_-][a-zA-Z0-9:_-]{0,20}", custom_value()), 0..6).prop_map(|mut metrics| {
        let mut seen = std::collections::HashSet::new();
        metrics.retain(|(name, _)| seen.insert(name.clone()));
        metrics
    })
}

pub(crate) fn report() -> impl Strategy<Value = Report> {
    (
        1..=i64::MAX as u64,
        (0u32..20).prop_map(|minor| format!("1.{minor}")),
        proptest::option::of(metrics()),
        custom_metrics(),
    )
        .prop_map(|(report_id, version, metrics, custom_metrics)| Report {
            report_id,
            version,
            metrics,
            custom_metrics,
            dropped_custom_metrics: vec![],
        })
}

/// Long (0), short (1) or mixed (2, by `seed`) key names.
pub(crate) fn key_style(style: u8, seed: u64) -> KeyStyle {
    match style {
        0 => KeyStyle::long(),
        1 => KeyStyle::short(),
        _ => KeyStyle::mixed(seed),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_reports_round_trip(report in report(), enc in encoding(), seed in any::<u64>(), style in 0u8..3) {
        let mut style = match style {
            0 => KeyStyle::long(),
            1 => KeyStyle::short(),
            _ => KeyStyle::mixed(seed),
        };
        let bytes = encode(&report_to_json(&report, &mut style), enc);
        let parsed = parse_report(&bytes, enc);
        prop_assert_eq!(parsed, Ok(report.clone()));
        // Datapoint derivation holds up on anything that parses.
        let points = datapoints(&report);
        let customs = points.iter().filter(|(name, _)| !name.starts_with("aws:")).count();
        prop_assert_eq!(customs, report.custom_metrics.len());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..512), enc in encoding()) {
        let _ = parse_report(&bytes, enc);
    }

    #[test]
    fn mangled_valid_reports_never_panic(
        report in report(),
        enc in encoding(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut bytes = encode(&report_to_json(&report, &mut KeyStyle::short()), enc);
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                _ => bytes.insert(i, byte),
            }
        }
        if let Ok(parsed) = parse_report(&bytes, enc) {
            let _ = datapoints(&parsed);
        }
    }
}
