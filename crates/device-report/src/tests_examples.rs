//! The AWS documentation's example reports, agent-shaped reports, and every rejection rule,
//! each run as JSON and as CBOR.

use std::net::SocketAddr;

use crate::test_support::fixture;
use crate::{
    Connection, CustomValue, DeviceMetrics, Encoding, EstablishedConnections, ListeningPort,
    ListeningPorts, MetricValue, NetworkStats, Report, ReportError, datapoints, parse_report,
};

const BOTH: [Encoding; 2] = [Encoding::Json, Encoding::Cbor];

/// "Device metrics document specification", example with long names.
pub(crate) const AWS_LONG: &str = r#"{
  "header": {"report_id": 1530304554, "version": "1.0"},
  "metrics": {
    "listening_tcp_ports": {
      "ports": [
        {"interface": "eth0", "port": 24800},
        {"interface": "eth0", "port": 22},
        {"interface": "eth0", "port": 53}
      ],
      "total": 3
    },
    "listening_udp_ports": {
      "ports": [
        {"interface": "eth0", "port": 5353},
        {"interface": "eth0", "port": 67}
      ],
      "total": 2
    },
    "network_stats": {
      "bytes_in": 29358693495, "bytes_out": 26485035,
      "packets_in": 10013573555, "packets_out": 11382615
    },
    "tcp_connections": {
      "established_connections": {
        "connections": [
          {"local_interface": "eth0", "local_port": 80, "remote_addr": "192.168.0.1:8000"},
          {"local_interface": "eth0", "local_port": 80, "remote_addr": "192.168.0.1:8000"}
        ],
        "total": 2
      }
    }
  },
  "custom_metrics": {
    "MyMetricOfType_Number": [{"number": 1}],
    "MyMetricOfType_NumberList": [{"number_list": [1, 2, 3]}],
    "MyMetricOfType_StringList": [{"string_list": ["value_1", "value_2"]}],
    "MyMetricOfType_IpList": [{"ip_list": ["172.0.0.0", "172.0.0.10"]}]
  }
}"#;

/// The same document with short names.
pub(crate) const AWS_SHORT: &str = r#"{
  "hed": {"rid": 1530305228, "v": "1.0"},
  "met": {
    "tp": {
      "pts": [{"if": "eth0", "pt": 24800}, {"if": "eth0", "pt": 22}, {"if": "eth0", "pt": 53}],
      "t": 3
    },
    "up": {"pts": [{"if": "eth0", "pt": 5353}, {"if": "eth0", "pt": 67}], "t": 2},
    "ns": {"bi": 29359307173, "bo": 26490711, "pi": 10014614051, "po": 11387620},
    "tc": {
      "ec": {
        "cs": [
          {"li": "eth0", "lp": 80, "rad": "192.168.0.1:8000"},
          {"li": "eth0", "lp": 80, "rad": "192.168.0.1:8000"}
        ],
        "t": 2
      }
    }
  },
  "cmet": {
    "MyMetricOfType_Number": [{"number": 1}],
    "MyMetricOfType_NumberList": [{"number_list": [1, 2, 3]}],
    "MyMetricOfType_StringList": [{"string_list": ["value_1", "value_2"]}],
    "MyMetricOfType_IpList": [{"ip_list": ["172.0.0.0", "172.0.0.10"]}]
  }
}"#;

fn port(port: u16) -> ListeningPort {
    ListeningPort {
        port: Some(port),
        interface: Some("eth0".into()),
    }
}

fn aws_example(report_id: u64, stats: [u64; 4]) -> Report {
    let conn = Connection {
        remote_addr: "192.168.0.1:8000".parse().unwrap(),
        local_port: Some(80),
        local_interface: Some("eth0".into()),
    };
    Report {
        report_id,
        version: "1.0".into(),
        metrics: Some(DeviceMetrics {
            established_connections: Some(EstablishedConnections {
                connections: Some(vec![conn.clone(), conn]),
                total: Some(2),
            }),
            listening_tcp_ports: Some(ListeningPorts {
                ports: Some(vec![port(24800), port(22), port(53)]),
                total: Some(3),
            }),
            listening_udp_ports: Some(ListeningPorts {
                ports: Some(vec![port(5353), port(67)]),
                total: Some(2),
            }),
            network_stats: Some(NetworkStats {
                bytes_in: Some(stats[0]),
                bytes_out: Some(stats[1]),
                packets_in: Some(stats[2]),
                packets_out: Some(stats[3]),
            }),
        }),
        custom_metrics: vec![
            ("MyMetricOfType_Number".into(), CustomValue::Number(1.0)),
            (
                "MyMetricOfType_NumberList".into(),
                CustomValue::NumberList(vec![1.0, 2.0, 3.0]),
            ),
            (
                "MyMetricOfType_StringList".into(),
                CustomValue::StringList(vec!["value_1".into(), "value_2".into()]),
            ),
            (
                "MyMetricOfType_IpList".into(),
                CustomValue::IpList(vec![
                    "172.0.0.0".parse().unwrap(),
                    "172.0.0.10".parse().unwrap(),
                ]),
            ),
        ],
        dropped_custom_metrics: vec![],
    }
}

fn parse_ok(json: &str, enc: Encoding) -> Report {
    parse_report(&fixture(json, enc), enc).unwrap_or_else(|e| panic!("{enc:?}: {e}\n{json}"))
}

fn parse_err(json: &str, enc: Encoding) -> ReportError {
    match parse_report(&fixture(json, enc), enc) {
        Ok(r) => panic!("{enc:?} accepted {json}: {r:?}"),
        Err(e) => e,
    }
}

#[test]
fn aws_long_name_example() {
    for enc in BOTH {
        let expected = aws_example(1530304554, [29358693495, 26485035, 10013573555, 11382615]);
        assert_eq!(parse_ok(AWS_LONG, enc), expected, "{enc:?}");
    }
}

#[test]
fn aws_short_name_example() {
    for enc in BOTH {
        let expected = aws_example(1530305228, [29359307173, 26490711, 10014614051, 11387620]);
        assert_eq!(parse_ok(AWS_SHORT, enc), expected, "{enc:?}");
    }
}

#[test]
fn aws_example_datapoints() {
    let report = parse_ok(AWS_LONG, Encoding::Json);
    let ip = |s: &str| s.parse().unwrap();
    assert_eq!(
        datapoints(&report),
        vec![
            ("aws:all-bytes-in".into(), MetricValue::Count(29358693495)),
            ("aws:all-bytes-out".into(), MetricValue::Count(26485035)),
            ("aws:all-packets-in".into(), MetricValue::Count(10013573555)),
            ("aws:all-packets-out".into(), MetricValue::Count(11382615)),
            (
                "aws:listening-tcp-ports".into(),
                MetricValue::Ports(vec![24800, 22, 53])
            ),
            ("aws:num-listening-tcp-ports".into(), MetricValue::Count(3)),
            (
                "aws:listening-udp-ports".into(),
                MetricValue::Ports(vec![5353, 67])
            ),
            ("aws:num-listening-udp-ports".into(), MetricValue::Count(2)),
            (
                "aws:num-established-tcp-connections".into(),
                MetricValue::Count(2)
            ),
            (
                "aws:destination-ip-addresses".into(),
                MetricValue::Ips(vec![ip("192.168.0.1")])
            ),
            ("MyMetricOfType_Number".into(), MetricValue::Number(1.0)),
            (
                "MyMetricOfType_NumberList".into(),
                MetricValue::Numbers(vec![1.0, 2.0, 3.0])
            ),
            (
                "MyMetricOfType_StringList".into(),
                MetricValue::Strings(vec!["value_1".into(), "value_2".into()])
            ),
            (
                "MyMetricOfType_IpList".into(),
                MetricValue::Ips(vec![ip("172.0.0.0"), ip("172.0.0.10")])
            ),
        ]
    );
}

#[test]
fn troubleshooting_guide_payloads() {
    // The guide's rejected payload: a custom number without the array.
    let bad = r#"{"header":{"report_id":12334567,"version":"1.0"},"metrics":{"network_stats":{"bytes_in":30680,"bytes_out":10652,"packets_in":113,"packets_out":118}},"custom_metrics":{"my_custom_metric":{"number":0}}}"#;
    let good = r#"{"header":{"report_id":12334567,"version":"1.0"},"metrics":{"network_stats":{"bytes_in":30680,"bytes_out":10652,"packets_in":113,"packets_out":118}},"custom_metrics":{"my_custom_metric":[{"number":0}]}}"#;
    for enc in BOTH {
        let e = parse_err(bad, enc);
        assert_eq!(e.code, "InvalidPayload");
        assert!(e.message.starts_with("Malformed metrics report"));
        assert_eq!(e.report_id, Some(12334567));
        let r = parse_ok(good, enc);
        assert_eq!(
            r.custom_metrics,
            vec![("my_custom_metric".into(), CustomValue::Number(0.0))]
        );
    }
}

#[test]
fn aws_c_iot_shaped_report() {
    // aws-c-iot (AWS IoT Device Client): doubles everywhere, empty lists, epoch-ms ids,
    // no network_stats deltas on the first report beyond zeros.
    let json = r#"{"header":{"report_id":1635801636023.0,"version":"1.0"},
        "metrics":{"listening_tcp_ports":{"ports":[{"interface":"eth0","port":22.0}],"total":1.0},
        "tcp_connections":{"established_connections":{"connections":[],"total":0}},
        "listening_udp_ports":{"ports":[],"total":0},
        "network_stats":{"bytes_in":0,"bytes_out":0,"packets_in":0,"packets_out":1.6e+16}},
        "custom_metrics":{"cpu":[{"number":12.5}]}}"#;
    for enc in BOTH {
        let r = parse_ok(json, enc);
        assert_eq!(r.report_id, 1635801636023);
        let m = r.metrics.as_ref().unwrap();
        assert_eq!(
            m.network_stats.as_ref().unwrap().packets_out,
            Some(16_000_000_000_000_000)
        );
        let points = datapoints(&r);
        assert!(points.contains(&(
            "aws:destination-ip-addresses".into(),
            MetricValue::Ips(vec![])
        )));
        assert!(points.contains(&("aws:listening-udp-ports".into(), MetricValue::Ports(vec![]))));
        assert!(points.contains(&(
            "aws:num-established-tcp-connections".into(),
            MetricValue::Count(0)
        )));
    }
}

#[test]
fn python_agent_shaped_report() {
    // Sampled list with the true total, IPv6 in brackets, duplicate ports, cpu_usage metric.
    let json = r#"{"hed":{"rid":1700000000,"v":"1.0"},
        "met":{"ns":{"bi":10,"bo":20,"pi":1,"po":2},
               "tc":{"ec":{"cs":[{"rad":"[2001:db8::1]:443","li":"wlan0","lp":50000},
                                 {"rad":"10.0.0.1:8883","li":"wlan0","lp":50001},
                                 {"rad":"10.0.0.1:8883","li":"wlan0","lp":50002}],"t":120}},
               "tp":{"pts":[{"pt":22,"if":"eth0"},{"pt":22,"if":"eth0"}],"t":2}},
        "cmet":{"cpu_usage":[{"number":3.7}]}}"#;
    for enc in BOTH {
        let r = parse_ok(json, enc);
        let points = datapoints(&r);
        let find = |name: &str| {
            points
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            find("aws:num-established-tcp-connections"),
            Some(MetricValue::Count(120))
        );
        assert_eq!(
            find("aws:destination-ip-addresses"),
            Some(MetricValue::Ips(vec![
                "2001:db8::1".parse().unwrap(),
                "10.0.0.1".parse().unwrap()
            ]))
        );
        assert_eq!(
            find("aws:listening-tcp-ports"),
            Some(MetricValue::Ports(vec![22]))
        );
        assert_eq!(
            find("aws:num-listening-tcp-ports"),
            Some(MetricValue::Count(2))
        );
        assert_eq!(find("aws:listening-udp-ports"), None);
        assert_eq!(find("cpu_usage"), Some(MetricValue::Number(3.7)));
    }
}

#[test]
fn mixed_key_styles_are_accepted() {
    let json = r#"{"header":{"rid":5,"version":"1.0"},"met":{"listening_tcp_ports":{"pts":[{"port":80,"if":"lo"}],"total":1}}}"#;
    for enc in BOTH {
        let r = parse_ok(json, enc);
        let tp = r.metrics.unwrap().listening_tcp_ports.unwrap();
        assert_eq!(
            tp.ports.unwrap(),
            vec![ListeningPort {
                port: Some(80),
                interface: Some("lo".into())
            }]
        );
    }
}

#[test]
fn lenient_forms_are_accepted() {
    for (json, check) in [
        // Only custom metrics; an empty custom block counts as present.
        (r#"{"hed":{"rid":1,"v":"1.0"},"cmet":{}}"#, "custom only"),
        // An empty metrics block.
        (r#"{"hed":{"rid":1,"v":"1.0"},"met":{}}"#, "empty metrics"),
        // Unknown keys anywhere are ignored.
        (
            r#"{"hed":{"rid":1,"v":"1.1","x":1},"met":{"cpu":{},"ns":{"bi":1,"zz":"?"}},"extra":[]}"#,
            "unknown",
        ),
        // null optional members count as absent.
        (
            r#"{"hed":{"rid":1,"v":"1.0"},"met":{"ns":null,"tp":{"pts":[{"pt":1,"if":null}]}},"cmet":null}"#,
            "nulls",
        ),
        // Port entry without a port (the AWS table marks it optional); local_port 0.
        (
            r#"{"hed":{"rid":1,"v":"1.0"},"met":{"tp":{"pts":[{"if":"eth0"}]},"tc":{"ec":{"cs":[{"rad":"1.2.3.4:0","lp":0}]}}}}"#,
            "optional port",
        ),
        // Unbracketed IPv6 remote address, as "%s:%u" would print it.
        (
            r#"{"hed":{"rid":1,"v":"1.0"},"met":{"tc":{"ec":{"cs":[{"rad":"fe80::1:443"}]}}}}"#,
            "bare v6",
        ),
        // tcp_connections without established_connections.
        (r#"{"hed":{"rid":1,"v":"1.0"},"met":{"tc":{}}}"#, "empty tc"),
        // Largest report_id.
        (
            r#"{"hed":{"rid":9223372036854775807,"v":"1.0"},"met":{}}"#,
            "max id",
        ),
    ] {
        for enc in BOTH {
            let r = parse_report(&fixture(json, enc), enc);
            assert!(r.is_ok(), "{check} {enc:?}: {r:?}");
        }
    }
    let r = parse_ok(
        r#"{"hed":{"rid":1,"v":"1.0"},"met":{"tc":{"ec":{"cs":[{"rad":"fe80::1:443"}]}}}}"#,
        Encoding::Json,
    );
    let cs = r
        .metrics
        .unwrap()
        .established_connections
        .unwrap()
        .connections
        .unwrap();
    assert_eq!(
        cs[0].remote_addr,
        "[fe80::1]:443".parse::<SocketAddr>().unwrap()
    );
}

/// Every rejection rule: (payload, words the message must contain, report id echoed).
const REJECTIONS: &[(&str, &str, Option<u64>)] = &[
    (r#"[1,2]"#, "the report must be an object", None),
    (
        r#"{"metrics":{}}"#,
        "header (\"header\" or \"hed\") is required",
        None,
    ),
    (
        r#"{"header":[],"metrics":{}}"#,
        "header must be an object",
        None,
    ),
    (
        r#"{"header":{"version":"1.0"},"metrics":{}}"#,
        "header.report_id",
        None,
    ),
    (
        r#"{"header":{"report_id":0,"version":"1.0"},"metrics":{}}"#,
        "header.report_id must be an integer from 1",
        None,
    ),
    (
        r#"{"header":{"report_id":-5,"version":"1.0"},"metrics":{}}"#,
        "header.report_id",
        None,
    ),
    (
        r#"{"header":{"report_id":1.5,"version":"1.0"},"metrics":{}}"#,
        "header.report_id",
        None,
    ),
    (
        r#"{"header":{"report_id":"7","version":"1.0"},"metrics":{}}"#,
        "header.report_id",
        None,
    ),
    (
        r#"{"header":{"report_id":9223372036854775808,"version":"1.0"},"metrics":{}}"#,
        "header.report_id",
        None,
    ),
    (
        r#"{"header":{"report_id":7},"metrics":{}}"#,
        "header.version",
        Some(7),
    ),
    (
        r#"{"header":{"report_id":7,"version":1.0},"metrics":{}}"#,
        "header.version must be a string",
        Some(7),
    ),
    (
        r#"{"header":{"report_id":7,"version":"1"},"metrics":{}}"#,
        "Major.Minor",
        Some(7),
    ),
    (
        r#"{"header":{"report_id":7,"version":"1.0.0"},"metrics":{}}"#,
        "Major.Minor",
        Some(7),
    ),
    (
        r#"{"header":{"report_id":7,"version":"v1.0"},"metrics":{}}"#,
        "Major.Minor",
        Some(7),
    ),
    (
        r#"{"header":{"report_id":7,"version":"2.0"},"metrics":{}}"#,
        "not supported",
        Some(7),
    ),
    (
        r#"{"header":{"report_id":7,"version":"1.0"}}"#,
        "needs a metrics",
        Some(7),
    ),
    (
        r#"{"header":{"report_id":7,"version":"1.0"},"metrics":null}"#,
        "needs a metrics",
        Some(7),
    ),
    (
        r#"{"header":{"report_id":7,"version":"1.0"},"metrics":[]}"#,
        "metrics must be an object",
        Some(7),
    ),
    (
        r#"{"header":{"report_id":7,"version":"1.0"},"custom_metrics":[]}"#,
        "custom_metrics must be an object",
        Some(7),
    ),
    (
        r#"{"header":{"report_id":7,"version":"1.0"},"hed":{"rid":7,"v":"1.0"},"met":{}}"#,
        "header is given twice",
        None,
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"ns":{"bi":1,"bytes_in":2}}}"#,
        "metrics.network_stats.bytes_in is given twice",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"ns":{"bi":-1}}}"#,
        "metrics.network_stats.bytes_in must be an integer from 0",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"ns":{"bo":1.5}}}"#,
        "metrics.network_stats.bytes_out",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"ns":{"pi":"3"}}}"#,
        "metrics.network_stats.packets_in",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"ns":{"po":18446744073709551615}}}"#,
        "metrics.network_stats.packets_out",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"ns":[]}}"#,
        "metrics.network_stats must be an object",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"tp":{"pts":[{"pt":0}]}}}"#,
        "metrics.listening_tcp_ports.ports[0].port must be an integer from 1 to 65535",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"up":{"pts":[{"pt":1},{"pt":65536}]}}}"#,
        "metrics.listening_udp_ports.ports[1].port",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"up":{"pts":[{"pt":1,"if":5}]}}}"#,
        "metrics.listening_udp_ports.ports[0].interface must be a string",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"tp":{"pts":{}}}}"#,
        "metrics.listening_tcp_ports.ports must be an array",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"tp":{"pts":[1]}}}"#,
        "metrics.listening_tcp_ports.ports[0] must be an object",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"tp":{"t":-1}}}"#,
        "metrics.listening_tcp_ports.total",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"tc":{"ec":{"t":-2}}}}"#,
        "metrics.tcp_connections.established_connections.total",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"tc":{"ec":{"cs":[{"lp":80}]}}}}"#,
        "remote_addr (\"remote_addr\" or \"rad\") is required",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"tc":{"ec":{"cs":[{"rad":"192.168.0.1"}]}}}}"#,
        "connections[0].remote_addr must be \"ip:port\"",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"tc":{"ec":{"cs":[{"rad":"host:80"}]}}}}"#,
        "remote_addr must be",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"tc":{"ec":{"cs":[{"rad":"1.2.3.4:70000"}]}}}}"#,
        "remote_addr must be",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"tc":{"ec":{"cs":[{"rad":3232235521}]}}}}"#,
        "remote_addr must be a string",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"tc":{"ec":{"cs":[{"rad":"1.2.3.4:1","lp":65536}]}}}}"#,
        "local_port",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"tc":{"ec":{"cs":[{"rad":"1.2.3.4:1","li":[]}]}}}}"#,
        "local_interface must be a string",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"met":{"tc":[]}}"#,
        "metrics.tcp_connections must be an object",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"cmet":{"m":{"number":0}}}"#,
        "must be an array of one object",
        Some(7),
    ),
    (
        r#"{"hed":{"rid":7,"v":"1.0"},"cmet":{"m":[{"number":true}]}}"#,
        "must be a number",
        Some(7),
    ),
];

#[test]
fn every_rejection_rule() {
    for (json, words, report_id) in REJECTIONS {
        for enc in BOTH {
            let e = parse_err(json, enc);
            assert_eq!(e.code, "InvalidPayload", "{json}");
            assert!(
                e.message.starts_with("Malformed metrics report: "),
                "{}",
                e.message
            );
            assert!(
                e.message.contains(words),
                "{enc:?} {json}\n  message: {}\n  expected: {words}",
                e.message
            );
            assert_eq!(e.report_id, *report_id, "{json}");
        }
    }
}

#[test]
fn repeated_keys_are_rejected_in_both_encodings() {
    let e = parse_report(
        br#"{"hed":{"rid":7,"v":"1.0"},"met":{"ns":{"bi":1,"bi":2}}}"#,
        Encoding::Json,
    )
    .unwrap_err();
    assert!(
        e.message
            .contains(r#"key "bi" appears twice in metrics.network_stats"#),
        "{}",
        e.message
    );
    assert_eq!(e.report_id, Some(7));
    // serde_json would merge the keys, so the CBOR document is built by hand.
    let text = |s: &str| ciborium::Value::Text(s.into());
    let v = ciborium::Value::Map(vec![
        (
            text("hed"),
            ciborium::Value::Map(vec![(text("rid"), 7.into()), (text("v"), text("1.0"))]),
        ),
        (text("cmet"), ciborium::Value::Map(vec![])),
        (text("cmet"), ciborium::Value::Map(vec![])),
    ]);
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&v, &mut bytes).unwrap();
    let e = parse_report(&bytes, Encoding::Cbor).unwrap_err();
    assert!(
        e.message
            .contains(r#"key "cmet" appears twice in the report"#),
        "{}",
        e.message
    );
}

#[test]
fn byte_level_rejections() {
    for enc in BOTH {
        let e = parse_report(b"", enc).unwrap_err();
        assert!(e.message.contains("empty"));
        let big = vec![b' '; crate::MAX_PAYLOAD_BYTES + 1];
        let e = parse_report(&big, enc).unwrap_err();
        assert!(e.message.contains("131072"), "{}", e.message);
    }
    let e = parse_report(b"{\"hed\":", Encoding::Json).unwrap_err();
    assert!(e.message.contains("not valid JSON"), "{}", e.message);
    let e = parse_report(&[0xff, 0x00], Encoding::Cbor).unwrap_err();
    assert!(e.message.contains("not valid CBOR"), "{}", e.message);
    // A JSON report published on the CBOR topic is not CBOR (it decodes as one small int).
    let e = parse_report(AWS_LONG.as_bytes(), Encoding::Cbor).unwrap_err();
    assert_eq!(e.code, "InvalidPayload");
}

#[test]
fn list_caps_apply_to_every_list() {
    let ports: Vec<String> = (1..=1001).map(|p| format!(r#"{{"pt":{p}}}"#)).collect();
    let json = format!(
        r#"{{"hed":{{"rid":7,"v":"1.0"}},"met":{{"up":{{"pts":[{}]}}}}}}"#,
        ports.join(",")
    );
    let e = parse_err(&json, Encoding::Json);
    assert!(
        e.message
            .contains("metrics.listening_udp_ports.ports has 1001 entries"),
        "{}",
        e.message
    );
    let conns: Vec<&str> = vec![r#"{"rad":"1.1.1.1:1"}"#; 1001];
    let json = format!(
        r#"{{"hed":{{"rid":7,"v":"1.0"}},"met":{{"tc":{{"ec":{{"cs":[{}]}}}}}}}}"#,
        conns.join(",")
    );
    assert!(
        parse_err(&json, Encoding::Cbor)
            .message
            .contains("has 1001 entries")
    );
}

#[test]
fn long_device_text_is_cut_in_messages() {
    let long_version = "9".repeat(5000);
    let json = format!(r#"{{"hed":{{"rid":7,"v":"{long_version}"}},"met":{{}}}}"#);
    let e = parse_err(&json, Encoding::Json);
    assert!(e.message.len() < 300, "{}", e.message.len());
}

#[test]
fn dropped_custom_metrics_keep_the_report() {
    let json = r#"{"hed":{"rid":7,"v":"1.0"},"cmet":{"ok":[{"string_list":["a"]}],"bad":[{"string_list":["a b"]}]}}"#;
    for enc in BOTH {
        let r = parse_ok(json, enc);
        assert_eq!(r.custom_metrics.len(), 1);
        assert_eq!(r.dropped_custom_metrics.len(), 1);
        assert_eq!(r.dropped_custom_metrics[0].name, "bad");
        assert_eq!(datapoints(&r).len(), 1);
    }
}

#[test]
fn cbor_specific_forms() {
    // Single-precision floats and negative integers arrive as CBOR-native types.
    let v = ciborium::Value::Map(vec![
        (
            "hed".into(),
            ciborium::Value::Map(vec![("rid".into(), 9.into()), ("v".into(), "1.0".into())]),
        ),
        (
            "cmet".into(),
            ciborium::Value::Map(vec![
                (
                    "f".into(),
                    ciborium::Value::Array(vec![ciborium::Value::Map(vec![(
                        "number".into(),
                        ciborium::Value::Float(f64::from(0.1f32)),
                    )])]),
                ),
                (
                    "n".into(),
                    ciborium::Value::Array(vec![ciborium::Value::Map(vec![(
                        "number".into(),
                        ciborium::Value::Integer((-3).into()),
                    )])]),
                ),
                (
                    "nan".into(),
                    ciborium::Value::Array(vec![ciborium::Value::Map(vec![(
                        "number".into(),
                        ciborium::Value::Float(f64::NAN),
                    )])]),
                ),
            ]),
        ),
    ]);
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&v, &mut bytes).unwrap();
    let r = parse_report(&bytes, Encoding::Cbor).unwrap();
    assert_eq!(r.custom_metrics.len(), 2);
    assert_eq!(r.custom_metrics[1], ("n".into(), CustomValue::Number(-3.0)));
    assert_eq!(r.dropped_custom_metrics[0].name, "nan");
}
