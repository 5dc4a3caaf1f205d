//! A fast path for the common JSON report: one pass over the bytes straight into a
//! [`Report`], with no document tree, no per-member `String` keys and no error wording.
//!
//! It handles a strict subset of what [`crate::parse_report`] accepts (ASCII-free of
//! escapes keys and strings, no `null`, no unknown keys, integer fields written as plain
//! integers, at most [`MAX_FAST_CUSTOM`] custom metrics) and answers `None` on anything
//! else, valid or not. It never rejects: the full parser then decides and words the
//! rejection, so `rejected` replies are exactly those of the full parser. Tests check that
//! whatever it accepts, the full parser accepts with an equal [`Report`].

use std::net::IpAddr;

use crate::custom::{DROP_IP, DROP_NAME, DROP_NUMBER, DROP_STRING, string_list_char, valid_name};
use crate::keys::{self, Key};
use crate::model::{
    Connection, CustomValue, DeviceMetrics, DroppedCustomMetric, EstablishedConnections,
    ListeningPort, ListeningPorts, NetworkStats, Report,
};
use crate::numbers::{MAX_COUNT, custom_number};
use crate::parse::{MAX_LIST_ENTRIES, MAX_PAYLOAD_BYTES, parse_remote_addr, version_ok};
use crate::tree::Node;

/// Reports with more custom metrics go the full way (duplicate names are found by a
/// linear scan here).
const MAX_FAST_CUSTOM: usize = 32;

/// The report, or `None` when the full parser must decide.
pub(crate) fn scan(payload: &[u8]) -> Option<Report> {
    if payload.is_empty() || payload.len() > MAX_PAYLOAD_BYTES {
        return None;
    }
    let mut s = Scanner { b: payload, i: 0 };
    let report = s.report()?;
    s.ws();
    (s.i == payload.len()).then_some(report)
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    fn report(&mut self) -> Option<Report> {
        let mut header = None;
        let mut metrics = None;
        let mut custom = None;
        self.object(
            &[keys::HEADER, keys::METRICS, keys::CUSTOM_METRICS],
            |s, f| {
                match f {
                    0 => header = Some(s.header()?),
                    1 => metrics = Some(s.metrics()?),
                    _ => custom = Some(s.custom_metrics()?),
                }
                Some(())
            },
        )?;
        let (report_id, version) = header?;
        if metrics.is_none() && custom.is_none() {
            return None;
        }
        let (custom_metrics, dropped_custom_metrics) = custom.unwrap_or_default();
        Some(Report {
            report_id,
            version,
            metrics,
            custom_metrics,
            dropped_custom_metrics,
        })
    }

    fn header(&mut self) -> Option<(u64, String)> {
        let mut report_id = None;
        let mut version = None;
        self.object(&[keys::REPORT_ID, keys::VERSION], |s, f| {
            if f == 0 {
                report_id = Some(s.integer(1, MAX_COUNT)?);
            } else {
                let v = s.string()?;
                version = Some(version_ok(v).then(|| v.to_owned())?);
            }
            Some(())
        })?;
        Some((report_id?, version?))
    }

    fn metrics(&mut self) -> Option<DeviceMetrics> {
        let mut m = DeviceMetrics::default();
        let fields = [
            keys::TCP_CONNECTIONS,
            keys::LISTENING_TCP_PORTS,
            keys::LISTENING_UDP_PORTS,
            keys::NETWORK_STATS,
        ];
        self.object(&fields, |s, f| {
            match f {
                0 => {
                    s.object(&[keys::ESTABLISHED_CONNECTIONS], |s, _| {
                        m.established_connections = Some(s.established()?);
                        Some(())
                    })?;
                }
                1 => m.listening_tcp_ports = Some(s.listening()?),
                2 => m.listening_udp_ports = Some(s.listening()?),
                _ => m.network_stats = Some(s.network_stats()?),
            }
            Some(())
        })?;
        Some(m)
    }

    fn established(&mut self) -> Option<EstablishedConnections> {
        let mut ec = EstablishedConnections::default();
        self.object(&[keys::CONNECTIONS, keys::TOTAL], |s, f| {
            if f == 0 {
                let mut list = Vec::new();
                s.array(|s| {
                    list.push(s.connection()?);
                    Some(())
                })?;
                ec.connections = Some(list);
            } else {
                ec.total = Some(s.integer(0, MAX_COUNT)?);
            }
            Some(())
        })?;
        Some(ec)
    }

    fn connection(&mut self) -> Option<Connection> {
        let mut remote_addr = None;
        let mut local_port = None;
        let mut local_interface = None;
        let fields = [keys::REMOTE_ADDR, keys::LOCAL_PORT, keys::LOCAL_INTERFACE];
        self.object(&fields, |s, f| {
            match f {
                0 => remote_addr = Some(parse_remote_addr(s.string()?)?),
                1 => local_port = Some(u16::try_from(s.integer(0, u16::MAX.into())?).ok()?),
                _ => local_interface = Some(s.string()?.to_owned()),
            }
            Some(())
        })?;
        Some(Connection {
            remote_addr: remote_addr?,
            local_port,
            local_interface,
        })
    }

    fn listening(&mut self) -> Option<ListeningPorts> {
        let mut lp = ListeningPorts::default();
        self.object(&[keys::PORTS, keys::TOTAL], |s, f| {
            if f == 0 {
                let mut list = Vec::new();
                s.array(|s| {
                    let mut entry = ListeningPort {
                        port: None,
                        interface: None,
                    };
                    s.object(&[keys::PORT, keys::INTERFACE], |s, f| {
                        if f == 0 {
                            entry.port = Some(u16::try_from(s.integer(1, u16::MAX.into())?).ok()?);
                        } else {
                            entry.interface = Some(s.string()?.to_owned());
                        }
                        Some(())
                    })?;
                    list.push(entry);
                    Some(())
                })?;
                lp.ports = Some(list);
            } else {
                lp.total = Some(s.integer(0, MAX_COUNT)?);
            }
            Some(())
        })?;
        Some(lp)
    }

    fn network_stats(&mut self) -> Option<NetworkStats> {
        let mut ns = NetworkStats::default();
        let fields = [
            keys::BYTES_IN,
            keys::BYTES_OUT,
            keys::PACKETS_IN,
            keys::PACKETS_OUT,
        ];
        self.object(&fields, |s, f| {
            let v = Some(s.integer(0, MAX_COUNT)?);
            match f {
                0 => ns.bytes_in = v,
                1 => ns.bytes_out = v,
                2 => ns.packets_in = v,
                _ => ns.packets_out = v,
            }
            Some(())
        })?;
        Some(ns)
    }

    /// `{"name": [{"<type>": data}], ...}` with the drop rules of the full parser.
    fn custom_metrics(&mut self) -> Option<crate::custom::CustomMetrics> {
        let mut kept: Vec<(String, CustomValue)> = Vec::new();
        let mut dropped: Vec<DroppedCustomMetric> = Vec::new();
        let mut names: Vec<&'a str> = Vec::new();
        self.expect(b'{')?;
        self.members(|s, name| {
            let name = std::str::from_utf8(name).ok()?;
            if names.len() == MAX_FAST_CUSTOM || names.contains(&name) {
                return None;
            }
            names.push(name);
            s.expect(b'[')?;
            s.expect(b'{')?;
            let kind = s.raw_string()?;
            s.expect(b':')?;
            let (value, broken) = s.custom_value(kind)?;
            s.expect(b'}')?;
            s.expect(b']')?;
            match broken.or_else(|| (!valid_name(name)).then_some(DROP_NAME)) {
                Some(reason) => dropped.push(DroppedCustomMetric {
                    name: name.to_owned(),
                    reason,
                }),
                None => kept.push((name.to_owned(), value)),
            }
            Some(())
        })?;
        Some((kept, dropped))
    }

    fn custom_value(&mut self, kind: &[u8]) -> Option<(CustomValue, Option<&'static str>)> {
        match kind {
            b"number" => {
                let (n, ok) = self.custom_number()?;
                Some((CustomValue::Number(n), (!ok).then_some(DROP_NUMBER)))
            }
            b"number_list" => {
                let mut values = Vec::new();
                let mut all_ok = true;
                self.array(|s| {
                    let (n, ok) = s.custom_number()?;
                    values.push(n);
                    all_ok &= ok;
                    Some(())
                })?;
                Some((
                    CustomValue::NumberList(values),
                    (!all_ok).then_some(DROP_NUMBER),
                ))
            }
            b"string_list" => {
                let mut strings = Vec::new();
                self.array(|s| {
                    strings.push(s.string()?.to_owned());
                    Some(())
                })?;
                let ok = strings.iter().all(|s| s.chars().all(string_list_char));
                Some((
                    CustomValue::StringList(strings),
                    (!ok).then_some(DROP_STRING),
                ))
            }
            b"ip_list" => {
                let mut ips = Some(Vec::new());
                self.array(|s| {
                    let ip = s.string()?.parse::<IpAddr>().ok();
                    if let (Some(list), Some(ip)) = (ips.as_mut(), ip) {
                        list.push(ip);
                    } else {
                        ips = None;
                    }
                    Some(())
                })?;
                Some(match ips {
                    Some(ips) => (CustomValue::IpList(ips), None),
                    None => (CustomValue::IpList(Vec::new()), Some(DROP_IP)),
                })
            }
            _ => None,
        }
    }

    /// Any JSON number, read as the tree decoder reads it (integers that fit 64 bits as
    /// integers, others as doubles), then judged by the full parser's digit rule.
    fn custom_number(&mut self) -> Option<(f64, bool)> {
        let (token, integral) = self.number()?;
        let node = if integral {
            // "-0" decodes as the double -0.0; integers beyond 64 bits as doubles.
            if token == "-0" {
                return None;
            }
            match token.strip_prefix('-') {
                Some(_) => Node::Int(token.parse::<i64>().ok()?.into()),
                None => Node::Int(token.parse::<u64>().ok()?.into()),
            }
        } else {
            let f: f64 = token.parse().ok()?;
            if !f.is_finite() {
                return None;
            }
            Node::Float(f)
        };
        custom_number(&node, "").ok()
    }

    /// A plain non-negative integer in `min..=max`.
    fn integer(&mut self, min: u64, max: u64) -> Option<u64> {
        let (token, integral) = self.number()?;
        if !integral || token.starts_with('-') {
            return None;
        }
        let v: u64 = token.parse().ok()?;
        (min..=max).contains(&v).then_some(v)
    }

    /// A JSON number token and whether it has neither fraction nor exponent.
    fn number(&mut self) -> Option<(&'a str, bool)> {
        self.ws();
        let start = self.i;
        self.eat(b'-');
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        let mut integral = true;
        if self.eat(b'.') {
            integral = false;
            self.some_digits()?;
        }
        if self.eat(b'e') || self.eat(b'E') {
            integral = false;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            self.some_digits()?;
        }
        let token = std::str::from_utf8(&self.b[start..self.i]).ok()?;
        Some((token, integral))
    }

    fn some_digits(&mut self) -> Option<()> {
        self.peek()?.is_ascii_digit().then(|| self.digits())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
    }

    /// A string without escapes or control characters, valid UTF-8.
    fn string(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.raw_string()?).ok()
    }

    /// The bytes of a string without escapes or control characters; keys are compared
    /// as bytes, so only values pay for the UTF-8 check.
    fn raw_string(&mut self) -> Option<&'a [u8]> {
        self.expect(b'"')?;
        let start = self.i;
        loop {
            match *self.b.get(self.i)? {
                b'"' => break,
                b'\\' | 0..=0x1f => return None,
                _ => self.i += 1,
            }
        }
        let bytes = &self.b[start..self.i];
        self.i += 1;
        Some(bytes)
    }

    /// An object of known fields (each at most once, by either name) whose values `f`
    /// reads, given the field's index in `fields`.
    fn object(
        &mut self,
        fields: &[Key],
        mut f: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        self.expect(b'{')?;
        let mut seen = 0u32;
        self.members(|s, key| {
            let index = fields
                .iter()
                .position(|k| k.long.as_bytes() == key || k.short.as_bytes() == key)?;
            let bit = 1u32 << index;
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            f(s, index)
        })
    }

    /// The members after an object's `{`, through its `}`; `f` reads each value.
    fn members(&mut self, mut f: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        if self.eat_ws(b'}') {
            return Some(());
        }
        loop {
            self.ws();
            let key = self.raw_string()?;
            self.expect(b':')?;
            f(self, key)?;
            if self.eat_ws(b'}') {
                return Some(());
            }
            self.expect(b',')?;
        }
    }

    /// An array of at most [`MAX_LIST_ENTRIES`] items that `f` reads.
    fn array(&mut self, mut f: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.expect(b'[')?;
        if self.eat_ws(b']') {
            return Some(());
        }
        let mut n = 0;
        loop {
            n += 1;
            if n > MAX_LIST_ENTRIES {
                return None;
            }
            f(self)?;
            if self.eat_ws(b']') {
                return Some(());
            }
            self.expect(b',')?;
        }
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let hit = self.peek() == Some(byte);
        self.i += usize::from(hit);
        hit
    }

    fn eat_ws(&mut self, byte: u8) -> bool {
        self.ws();
        self.eat(byte)
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat_ws(byte).then_some(())
    }
}
