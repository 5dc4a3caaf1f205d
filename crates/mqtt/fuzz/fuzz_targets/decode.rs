//! `decode` on arbitrary bytes, with each version's rules and a size limit taken from the
//! input. Whatever decodes must encode, and decode back to the same packet.

#![no_main]

use fleetward_mqtt::{Packet, ProtocolVersion, decode, decode_buf, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let version = match selector % 3 {
        0 => None,
        1 => Some(ProtocolVersion::V311),
        _ => Some(ProtocolVersion::V5),
    };
    let max = if selector & 0x80 != 0 {
        usize::from(selector & 0x7F)
    } else {
        1 << 20
    };
    let Ok(Some((packet, used))) = decode(input, version, max) else {
        return;
    };
    assert!(used <= input.len() && used <= max);

    let mut buf = bytes::BytesMut::from(input);
    let shared = decode_buf(&mut buf, version, max).unwrap().unwrap();
    assert_eq!(shared, packet);

    let v = match (&packet, version) {
        (Packet::Connect(c), _) => c.protocol_version,
        (_, Some(v)) => v,
        (_, None) => panic!("only CONNECT decodes before the version is known"),
    };
    let mut again = Vec::new();
    encode(&packet, v, &mut again).expect("a decoded packet encodes");
    let (back, n) = decode(&again, version, usize::MAX).unwrap().unwrap();
    assert_eq!(n, again.len());
    assert_eq!(back, packet);
});
