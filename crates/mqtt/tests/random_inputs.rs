//! The stable-toolchain stand-in for `fuzz/`: a few hundred thousand inputs from a fixed
//! seed, most of them valid packets with a few bytes changed, fed to `decode`. Nothing may
//! panic, and whatever decodes must encode and decode back to itself.

mod support;

use bytes::BytesMut;
use fleetward_mqtt::{Packet, ProtocolVersion, decode, decode_buf, encode};

use ProtocolVersion::{V5, V311};

const ROUNDS: usize = 300_000;

/// SplitMix64: small, fast and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn byte(&mut self) -> u8 {
        // Boundary values turn up more often than chance would have them.
        const INTERESTING: [u8; 8] = [0x00, 0x01, 0x02, 0x7F, 0x80, 0xFF, 0x26, 0x0B];
        if self.below(4) == 0 {
            INTERESTING[self.below(INTERESTING.len())]
        } else {
            self.next() as u8
        }
    }
}

fn seeds() -> Vec<(Vec<u8>, Option<ProtocolVersion>)> {
    let mut seeds = Vec::new();
    for version in [V311, V5] {
        for packet in support::sample_packets(version, 300) {
            let mut wire = Vec::new();
            encode(&packet, version, &mut wire).expect("sample packets are valid");
            let v = match packet {
                Packet::Connect(_) => None,
                _ => Some(version),
            };
            seeds.push((wire, v));
        }
    }
    seeds
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        let len = input.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = rng.byte();
            }
            2 => {
                let i = rng.below(len + 1);
                input.insert(i, rng.byte());
            }
            3 if len > 0 => {
                input.remove(rng.below(len));
            }
            4 => input.truncate(rng.below(len + 1)),
            5 if len > 1 => {
                // Repeat a slice: duplicated properties, fields and packets.
                let start = rng.below(len);
                let end = start + rng.below(len - start) + 1;
                let chunk = input[start..end].to_vec();
                let at = rng.below(len + 1);
                input.splice(at..at, chunk);
            }
            _ if len > 1 => {
                // Lie about the Remaining Length.
                input[1] = rng.byte();
            }
            _ => input.push(rng.byte()),
        }
    }
}

/// Decoding `input` must not panic; what decodes must survive a round trip.
fn check(input: &[u8], version: Option<ProtocolVersion>, max: usize) -> bool {
    let Ok(Some((packet, used))) = decode(input, version, max) else {
        return false;
    };
    assert!(used <= input.len() && used <= max);
    let mut buf = BytesMut::from(input);
    let shared = decode_buf(&mut buf, version, max).unwrap().unwrap();
    assert_eq!(shared, packet);
    assert_eq!(buf.len(), input.len() - used);

    let v = match (&packet, version) {
        (Packet::Connect(c), _) => c.protocol_version,
        (_, Some(v)) => v,
        (_, None) => unreachable!("only CONNECT decodes without a version"),
    };
    let mut again = Vec::new();
    encode(&packet, v, &mut again).unwrap_or_else(|e| panic!("{input:02x?}: {e}"));
    let (back, n) = decode(&again, version, usize::MAX).unwrap().unwrap();
    assert_eq!(n, again.len());
    assert_eq!(back, packet, "{input:02x?}");
    true
}

#[test]
fn mutated_and_random_inputs_never_panic() {
    let seeds = seeds();
    let mut rng = Rng(0x5EED_F1EE_7A4D);
    let mut decoded = 0;
    for round in 0..ROUNDS {
        let (mut input, version) = if round % 10 == 0 {
            // Pure noise, after a plausible first byte half of the time.
            let mut noise: Vec<u8> = (0..rng.below(48)).map(|_| rng.byte()).collect();
            if rng.below(2) == 0 && !noise.is_empty() {
                noise[0] = (rng.below(16) as u8) << 4;
            }
            (noise, [None, Some(V311), Some(V5)][rng.below(3)])
        } else {
            seeds[rng.below(seeds.len())].clone()
        };
        mutate(&mut rng, &mut input);
        let max = if rng.below(8) == 0 {
            rng.below(64)
        } else {
            1 << 20
        };
        if check(&input, version, max) {
            decoded += 1;
        }
        // The same bytes with the other versions' rules.
        let other = [None, Some(V311), Some(V5)][round % 3];
        check(&input, other, 1 << 20);
    }
    eprintln!("{decoded} of {ROUNDS} inputs decoded");
    // Mutations must leave enough inputs valid that the round trip is exercised.
    assert!(decoded > ROUNDS / 20, "only {decoded} inputs decoded");
}
