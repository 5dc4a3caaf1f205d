//! Decode + encode of a 200-byte QoS 1 PUBLISH on one thread, in packets per second.
//!
//!     cargo run --release -p fleetward-mqtt --example codec_bench [SECONDS]
//!
//! Each figure is the best of three runs of SECONDS/3 (default 3 s in all per line).

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use fleetward_mqtt::{
    Packet, Properties, ProtocolVersion, Publish, QoS, decode, decode_buf, encode,
};

const PACKET_SIZE: usize = 200;
const TOPIC: &str = "$aws/things/thing-000042/defender/metrics/json";

/// A QoS 1 PUBLISH whose encoding is exactly [`PACKET_SIZE`] bytes.
fn sample(version: ProtocolVersion) -> (Publish, Vec<u8>) {
    let mut publish = Publish {
        qos: QoS::AtLeastOnce,
        topic: TOPIC.into(),
        packet_id: 4242,
        properties: Properties::default(),
        payload: Bytes::new(),
        ..Publish::default()
    };
    // The Remaining Length takes a second byte past 127, so fit the payload by trial.
    let mut payload_len = PACKET_SIZE - publish.encoded_len(version).unwrap();
    loop {
        publish.payload = Bytes::from(vec![b'x'; payload_len]);
        if publish.encoded_len(version).unwrap() <= PACKET_SIZE {
            break;
        }
        payload_len -= 1;
    }
    let mut wire = Vec::new();
    encode(&Packet::Publish(publish.clone()), version, &mut wire).unwrap();
    assert_eq!(wire.len(), PACKET_SIZE);
    (publish, wire)
}

/// Runs `op` in batches for `time` and returns operations per second (best of three).
fn rate(time: Duration, mut op: impl FnMut()) -> f64 {
    const BATCH: u32 = 10_000;
    let mut best = 0.0f64;
    for _ in 0..3 {
        let start = Instant::now();
        let mut done = 0u64;
        while start.elapsed() < time / 3 {
            for _ in 0..BATCH {
                op();
            }
            done += u64::from(BATCH);
        }
        best = best.max(done as f64 / start.elapsed().as_secs_f64());
    }
    best
}

fn report(name: &str, per_sec: f64) {
    println!(
        "{name:<46} {:>6.2} M packets/s  {:>7.1} ns/packet  {:>6.0} MB/s",
        per_sec / 1e6,
        1e9 / per_sec,
        per_sec * PACKET_SIZE as f64 / 1e6
    );
}

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let time = Duration::from_secs_f64(seconds);
    println!("{PACKET_SIZE}-byte QoS 1 PUBLISH, topic {TOPIC:?}, one thread");

    for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
        let (publish, wire) = sample(version);
        let v = Some(version);
        let mut out = Vec::with_capacity(PACKET_SIZE);

        report(
            &format!("{version:?} decode (copying) + encode"),
            rate(time, || {
                let (packet, _) = decode(black_box(&wire), v, 1 << 20).unwrap().unwrap();
                out.clear();
                encode(&packet, version, &mut out).unwrap();
                black_box(&out);
            }),
        );

        // The gateway's path: bytes arrive in a BytesMut, payloads are shared slices.
        let mut inbox = BytesMut::with_capacity(64 * 1024);
        report(
            &format!("{version:?} decode_buf (zero-copy) + encode"),
            rate(time, || {
                if inbox.capacity() - inbox.len() < PACKET_SIZE {
                    inbox = BytesMut::with_capacity(64 * 1024);
                }
                inbox.extend_from_slice(black_box(&wire));
                let packet = decode_buf(&mut inbox, v, 1 << 20).unwrap().unwrap();
                out.clear();
                encode(&packet, version, &mut out).unwrap();
                black_box(&out);
            }),
        );

        report(
            &format!("{version:?} decode only"),
            rate(time, || {
                black_box(decode(black_box(&wire), v, 1 << 20).unwrap());
            }),
        );

        report(
            &format!("{version:?} Publish::encode only"),
            rate(time, || {
                out.clear();
                black_box(&publish).encode(version, &mut out).unwrap();
                black_box(&out);
            }),
        );
    }
}
