//! A stable-toolchain stand-in for the cargo-fuzz target: many mutated reports from a fixed
//! seed, so every `cargo test` run explores the same inputs and a failure reproduces.

use crate::test_support::fixture;
use crate::{Encoding, datapoints, parse_report, rejected_response};

/// splitmix64: tiny, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEEDS: &[&str] = &[
    r#"{"header":{"report_id":1530304554,"version":"1.0"},"metrics":{"listening_tcp_ports":{"ports":[{"interface":"eth0","port":24800}],"total":1},"listening_udp_ports":{"ports":[{"interface":"eth0","port":5353}],"total":1},"network_stats":{"bytes_in":29358693495,"bytes_out":26485035,"packets_in":10013573555,"packets_out":11382615},"tcp_connections":{"established_connections":{"connections":[{"local_interface":"eth0","local_port":80,"remote_addr":"192.168.0.1:8000"}],"total":1}}},"custom_metrics":{"n":[{"number":1}],"nl":[{"number_list":[1,2.5,-3]}],"sl":[{"string_list":["value_1"]}],"ip":[{"ip_list":["172.0.0.10","::1"]}]}}"#,
    r#"{"hed":{"rid":1530305228,"v":"1.0"},"met":{"tp":{"pts":[{"if":"eth0","pt":22}],"t":1},"up":{"pts":[],"t":0},"ns":{"bi":1,"bo":2,"pi":3,"po":4},"tc":{"ec":{"cs":[{"li":"eth0","lp":80,"rad":"[2001:db8::1]:443"}],"t":1}}},"cmet":{"m":[{"number":0.5}]}}"#,
];

/// Interesting bytes to splice in: structure, numbers at the edges, key names.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\"",
    b"null",
    b"true",
    b"-",
    b"0",
    b"1e400",
    b"9223372036854775808",
    b"18446744073709551616",
    b"-1",
    b"0.5",
    b"65536",
    b"\"rid\"",
    b"\"t\"",
    b"\"pt\"",
    b"\"number\"",
    b"\"ip_list\"",
    b"\\u0000",
    b"\xff",
    b"\xf5",
    b"\x9f",
    b"\xbf",
    b"\xfb",
    b"\x1b\xff\xff\xff\xff\xff\xff\xff\xff",
];

fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        let len = input.len().max(1);
        match rng.below(6) {
            0 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] ^= 1 << rng.below(8);
            }
            1 if !input.is_empty() => {
                let i = rng.below(input.len());
                let n = rng.below(8).min(input.len() - i);
                input.drain(i..i + n);
            }
            2 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                let i = rng.below(len).min(input.len());
                input.splice(i..i, token.iter().copied());
            }
            3 if !input.is_empty() => {
                // Duplicate a chunk: repeats keys, nests deeper, grows lists.
                let a = rng.below(input.len());
                let b = (a + rng.below(64)).min(input.len());
                let chunk = input[a..b].to_vec();
                let at = rng.below(input.len());
                input.splice(at..at, chunk);
            }
            4 => input.truncate(rng.below(len)),
            _ => {
                let i = rng.below(len).min(input.len());
                input.insert(i, rng.next() as u8);
            }
        }
    }
}

#[test]
fn mutated_reports_never_panic() {
    let mut rng = Rng(0x5eed_f1ee_7a2d);
    let mut seeds = Vec::new();
    for json in SEEDS {
        for enc in [Encoding::Json, Encoding::Cbor] {
            let bytes = fixture(json, enc);
            assert!(parse_report(&bytes, enc).is_ok(), "seed must parse");
            seeds.push(bytes);
        }
    }
    let mut accepted = 0usize;
    for round in 0..30_000 {
        let mut input = seeds[round % seeds.len()].clone();
        mutate(&mut rng, &mut input);
        for enc in [Encoding::Json, Encoding::Cbor] {
            match parse_report(&input, enc) {
                Ok(report) => {
                    accepted += 1;
                    assert!(report.report_id >= 1);
                    let _ = datapoints(&report);
                }
                Err(e) => {
                    assert!(e.message.len() < 1024, "{}", e.message);
                    let _ = rejected_response("t", &e, 0, enc);
                }
            }
        }
    }
    // The mutations must leave some inputs valid, or the test explores only the decoder.
    assert!(accepted > 100, "only {accepted} mutated inputs parsed");
}
