//! Property tests over valid packets of both versions: encoding then decoding gives the
//! packet back, every prefix of an encoding is "not complete yet", packets read back to
//! back, and decoding arbitrary bytes never panics.

mod support;

use bytes::BytesMut;
use fleetward_mqtt::{Packet, ProtocolVersion, decode, decode_buf, encode, encoded_len};
use proptest::prelude::*;

use ProtocolVersion::{V5, V311};

const MAX: usize = 1 << 20;

/// The version to decode `packet` with: CONNECT is read before the version is known.
fn decode_version(packet: &Packet, version: ProtocolVersion) -> Option<ProtocolVersion> {
    match packet {
        Packet::Connect(_) => None,
        _ => Some(version),
    }
}

fn round_trip(packet: &Packet, version: ProtocolVersion) -> Result<(), TestCaseError> {
    let mut wire = Vec::new();
    let written = encode(packet, version, &mut wire)
        .map_err(|e| TestCaseError::fail(format!("encode failed: {e}")))?;
    prop_assert_eq!(written, wire.len());
    prop_assert_eq!(encoded_len(packet, version), Ok(wire.len()));
    let v = decode_version(packet, version);

    let (decoded, used) = decode(&wire, v, MAX)
        .map_err(|e| TestCaseError::fail(format!("decode failed: {e}: {wire:02x?}")))?
        .expect("complete packet");
    prop_assert_eq!(used, wire.len());
    prop_assert_eq!(&decoded, packet);

    let mut buf = BytesMut::from(&wire[..]);
    let shared = decode_buf(&mut buf, v, MAX)
        .expect("decode_buf")
        .expect("complete");
    prop_assert_eq!(&shared, packet);
    prop_assert!(buf.is_empty());

    if let Packet::Publish(p) = packet {
        let mut direct = Vec::new();
        prop_assert_eq!(p.encode(version, &mut direct), Ok(wire.len()));
        prop_assert_eq!(direct, wire);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn v311_packets_round_trip(packet in support::packet(V311)) {
        round_trip(&packet, V311)?;
    }

    #[test]
    fn v5_packets_round_trip(packet in support::packet(V5)) {
        round_trip(&packet, V5)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_prefix_needs_more_bytes(
        packet in prop_oneof![
            support::packet(V311).prop_map(|p| (p, V311)),
            support::packet(V5).prop_map(|p| (p, V5)),
        ]
    ) {
        let (packet, version) = packet;
        let mut wire = Vec::new();
        encode(&packet, version, &mut wire).unwrap();
        let v = decode_version(&packet, version);
        for end in 0..wire.len() {
            prop_assert_eq!(decode(&wire[..end], v, MAX), Ok(None), "prefix of {}", end);
            let mut buf = BytesMut::from(&wire[..end]);
            prop_assert_eq!(decode_buf(&mut buf, v, MAX), Ok(None));
            prop_assert_eq!(buf.len(), end, "an incomplete packet is left in the buffer");
        }
    }

    #[test]
    fn packets_read_back_to_back(
        packets in prop::collection::vec(support::packet(V5), 1..6)
    ) {
        let packets: Vec<Packet> =
            packets.into_iter().filter(|p| !matches!(p, Packet::Connect(_))).collect();
        let mut stream = BytesMut::new();
        for p in &packets {
            encode(p, V5, &mut stream).unwrap();
        }
        let copy = stream.to_vec();
        let mut offset = 0;
        for p in &packets {
            let (decoded, used) = decode(&copy[offset..], Some(V5), MAX).unwrap().unwrap();
            prop_assert_eq!(&decoded, p);
            offset += used;
            let shared = decode_buf(&mut stream, Some(V5), MAX).unwrap();
            prop_assert_eq!(shared.as_ref(), Some(p));
        }
        prop_assert_eq!(offset, copy.len());
        prop_assert!(stream.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn decoding_arbitrary_bytes_never_panics(
        bytes in prop::collection::vec(any::<u8>(), 0..80),
        version in prop_oneof![Just(None), Just(Some(V311)), Just(Some(V5))],
        max in 0usize..200,
    ) {
        if let Ok(Some((packet, used))) = decode(&bytes, version, max) {
            prop_assert!(used <= bytes.len() && used <= max);
            let v = match &packet {
                Packet::Connect(c) => c.protocol_version,
                _ => version.unwrap(),
            };
            let mut again = Vec::new();
            encode(&packet, v, &mut again).unwrap();
            let (back, _) = decode(&again, version, MAX).unwrap().unwrap();
            prop_assert_eq!(back, packet);
        }
    }
}
