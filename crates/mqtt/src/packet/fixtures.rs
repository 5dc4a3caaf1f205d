//! Byte-exact fixtures for every packet type in both versions, worked out by hand from the
//! MQTT 3.1.1 and MQTT 5 specifications. Each one decodes to the packet and the packet
//! encodes to exactly these bytes.

use std::num::{NonZeroU16, NonZeroU32};

use bytes::Bytes;

use super::*;
use crate::property::Properties;
use crate::types::{PayloadFormat, QoS, RetainHandling};
use crate::{decode, decode_buf, encode, encoded_len};

use ProtocolVersion::{V5, V311};

const MAX: usize = 1 << 20;

/// `bytes` decodes to `packet` (copying and sharing) and `packet` encodes to `bytes`.
pub(crate) fn check(version: ProtocolVersion, bytes: &[u8], packet: Packet) {
    let decode_version = match packet {
        Packet::Connect(_) => None,
        _ => Some(version),
    };
    let (decoded, used) = decode(bytes, decode_version, MAX)
        .unwrap_or_else(|e| panic!("{packet:?}: {e}"))
        .expect("complete");
    assert_eq!(decoded, packet);
    assert_eq!(used, bytes.len());

    let mut buf = bytes::BytesMut::from(bytes);
    buf.extend_from_slice(&[0xC0, 0x00]);
    let shared = decode_buf(&mut buf, decode_version, MAX).unwrap().unwrap();
    assert_eq!(shared, packet);
    assert_eq!(&buf[..], &[0xC0, 0x00], "only the packet is taken");

    let mut out = Vec::new();
    assert_eq!(encode(&packet, version, &mut out), Ok(bytes.len()));
    assert_eq!(out, bytes, "{packet:?}");
    assert_eq!(encoded_len(&packet, version), Ok(bytes.len()));
}

fn b(s: &'static [u8]) -> Bytes {
    Bytes::from_static(s)
}

fn nz16(n: u16) -> Option<NonZeroU16> {
    NonZeroU16::new(n)
}

#[test]
fn connect_v311_as_sent_by_mosquitto_pub() {
    // `mosquitto_pub -i test ...`: clean session, keep-alive 60.
    let bytes = b"\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04test";
    check(V311, bytes, Connect::new(V311, "test").into());
}

#[test]
fn connect_v311_with_will_and_credentials() {
    // Flags 0xEE: user name, password, will retain, will QoS 1, will, clean session.
    let bytes =
        b"\x10\x1e\x00\x04MQTT\x04\xee\x00\x1e\x00\x02c1\x00\x03w/t\x00\x03bye\x00\x01u\x00\x01p";
    let connect = Connect {
        keep_alive: 30,
        will: Some(Will {
            topic: "w/t".into(),
            payload: b(b"bye"),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: Properties::default(),
        }),
        username: Some("u".into()),
        password: Some(b(b"p")),
        ..Connect::new(V311, "c1")
    };
    check(V311, bytes, connect.into());
}

#[test]
fn connect_v5_minimal() {
    let bytes = b"\x10\x0e\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x01a";
    check(V5, bytes, Connect::new(V5, "a").into());
}

#[test]
fn connect_v5_with_properties_will_properties_and_password_only() {
    let bytes: &[u8] = &[
        0x10, 0x37, // CONNECT, 55 bytes
        0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, // "MQTT" level 5
        0x46, // password, will (QoS 0), clean start: MQTT 5 allows a password alone
        0x00, 0x0a, // keep-alive 10
        0x0f, // properties, 15 bytes
        0x11, 0x00, 0x00, 0x0e, 0x10, // session expiry 3600
        0x21, 0x00, 0x14, // receive maximum 20
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // user property k=v
        0x00, 0x03, b'c', b'i', b'd', // client id
        0x0e, // will properties, 14 bytes
        0x01, 0x01, // payload format: UTF-8
        0x03, 0x00, 0x04, b't', b'e', b'x', b't', // content type
        0x18, 0x00, 0x00, 0x00, 0x05, // will delay 5
        0x00, 0x01, b'w', // will topic
        0x00, 0x01, b'x', // will payload
        0x00, 0x01, b'p', // password
    ];
    let connect = Connect {
        keep_alive: 10,
        will: Some(Will {
            topic: "w".into(),
            payload: b(b"x"),
            properties: Properties {
                payload_format_indicator: Some(PayloadFormat::Utf8),
                content_type: Some("text".into()),
                will_delay_interval: Some(5),
                ..Properties::default()
            },
            ..Will::default()
        }),
        password: Some(b(b"p")),
        properties: Properties {
            session_expiry_interval: Some(3600),
            receive_maximum: nz16(20),
            user_properties: vec![("k".into(), "v".into())],
            ..Properties::default()
        },
        ..Connect::new(V5, "cid")
    };
    check(V5, bytes, connect.into());
}

#[test]
fn connack_v311() {
    check(V311, b"\x20\x02\x00\x00", ConnAck::default().into());
    let resumed = ConnAck {
        session_present: true,
        ..ConnAck::default()
    };
    check(V311, b"\x20\x02\x01\x00", resumed.into());
    // Return code 5, "not authorized", is reason code 0x87 in the API.
    let refused = ConnAck {
        reason_code: ReasonCode::NotAuthorized,
        ..ConnAck::default()
    };
    check(V311, b"\x20\x02\x00\x05", refused.into());
    let bad_version = ConnAck {
        reason_code: ReasonCode::UnsupportedProtocolVersion,
        ..ConnAck::default()
    };
    check(V311, b"\x20\x02\x00\x01", bad_version.into());
}

#[test]
fn connack_v5() {
    check(V5, b"\x20\x03\x00\x00\x00", ConnAck::default().into());
    let refused = ConnAck {
        reason_code: ReasonCode::NotAuthorized,
        ..ConnAck::default()
    };
    check(V5, b"\x20\x03\x00\x87\x00", refused.into());
    let bytes: &[u8] = &[
        0x20, 0x1e, 0x00, 0x00, 0x1b, // flags, success, properties 27 bytes
        0x12, 0x00, 0x03, b'a', b'b', b'c', // assigned client identifier
        0x13, 0x00, 0x78, // server keep-alive 120
        0x22, 0x00, 0x0a, // topic alias maximum 10
        0x24, 0x01, // maximum QoS 1
        0x25, 0x00, // retain not available
        0x27, 0x00, 0x00, 0x04, 0x00, // maximum packet size 1024
        0x28, 0x01, 0x29, 0x00, 0x2a, 0x01, // wildcard, subscription id, shared
    ];
    let connack = ConnAck {
        properties: Properties {
            assigned_client_identifier: Some("abc".into()),
            server_keep_alive: Some(120),
            topic_alias_maximum: Some(10),
            maximum_qos: Some(QoS::AtLeastOnce),
            retain_available: Some(false),
            maximum_packet_size: NonZeroU32::new(1024),
            wildcard_subscription_available: Some(true),
            subscription_identifier_available: Some(false),
            shared_subscription_available: Some(true),
            ..Properties::default()
        },
        ..ConnAck::default()
    };
    check(V5, bytes, connack.into());
}

#[test]
fn publish_v311() {
    // `mosquitto_pub -t a/b -m hi`.
    let qos0 = Publish {
        topic: "a/b".into(),
        payload: b(b"hi"),
        ..Publish::default()
    };
    check(V311, b"\x30\x07\x00\x03a/bhi", qos0.into());
    // 0x3B: DUP, QoS 1, RETAIN.
    let qos1 = Publish {
        dup: true,
        qos: QoS::AtLeastOnce,
        retain: true,
        topic: "t".into(),
        packet_id: 10,
        payload: b(b"x"),
        ..Publish::default()
    };
    check(V311, b"\x3b\x06\x00\x01t\x00\x0ax", qos1.into());
    let qos2 = Publish {
        qos: QoS::ExactlyOnce,
        topic: "t".into(),
        packet_id: 0x1234,
        ..Publish::default()
    };
    check(V311, b"\x34\x05\x00\x01t\x12\x34", qos2.into());
}

#[test]
fn publish_v5_with_properties() {
    let bytes: &[u8] = &[
        0x32, 0x22, 0x00, 0x01, b'a', 0x00, 0x01, // QoS 1, topic "a", id 1
        0x1a, // properties, 26 bytes
        0x01, 0x01, // payload format UTF-8
        0x02, 0x00, 0x00, 0x00, 0x3c, // message expiry 60
        0x08, 0x00, 0x01, b'r', // response topic
        0x09, 0x00, 0x02, 0x01, 0x02, // correlation data
        0x23, 0x00, 0x05, // topic alias 5
        0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'b', // user property
        b'h', b'i',
    ];
    let publish = Publish {
        qos: QoS::AtLeastOnce,
        topic: "a".into(),
        packet_id: 1,
        properties: Properties {
            payload_format_indicator: Some(PayloadFormat::Utf8),
            message_expiry_interval: Some(60),
            response_topic: Some("r".into()),
            correlation_data: Some(b(&[1, 2])),
            topic_alias: nz16(5),
            user_properties: vec![("a".into(), "b".into())],
            ..Properties::default()
        },
        payload: b(b"hi"),
        ..Publish::default()
    };
    check(V5, bytes, publish.into());
}

#[test]
fn publish_v5_alias_only_and_subscription_identifiers() {
    // An empty topic name is allowed with a Topic Alias (§3.3.2.1).
    let aliased = Publish {
        properties: Properties {
            topic_alias: nz16(7),
            ..Properties::default()
        },
        payload: b(b"p"),
        ..Publish::default()
    };
    check(V5, b"\x30\x07\x00\x00\x03\x23\x00\x07p", aliased.into());
    // The server lists every matching subscription's identifier; 200 takes two bytes.
    let fanned_out = Publish {
        topic: "x".into(),
        properties: Properties {
            subscription_identifiers: vec![
                NonZeroU32::new(1).unwrap(),
                NonZeroU32::new(200).unwrap(),
            ],
            ..Properties::default()
        },
        ..Publish::default()
    };
    check(
        V5,
        b"\x30\x09\x00\x01x\x05\x0b\x01\x0b\xc8\x01",
        fanned_out.into(),
    );
}

#[test]
fn pub_replies_v311() {
    check(V311, b"\x40\x02\x00\x01", Packet::PubAck(PubReply::new(1)));
    check(V311, b"\x50\x02\x00\x02", Packet::PubRec(PubReply::new(2)));
    check(V311, b"\x62\x02\x00\x03", Packet::PubRel(PubReply::new(3)));
    check(V311, b"\x70\x02\x00\x04", Packet::PubComp(PubReply::new(4)));
}

#[test]
fn pub_replies_v5() {
    check(V5, b"\x40\x02\x00\x01", Packet::PubAck(PubReply::new(1)));
    let no_subscribers = PubReply {
        reason_code: ReasonCode::NoMatchingSubscribers,
        ..PubReply::new(1)
    };
    check(V5, b"\x40\x03\x00\x01\x10", Packet::PubAck(no_subscribers));
    let refused = PubReply {
        reason_code: ReasonCode::NotAuthorized,
        properties: Properties {
            reason_string: Some("no".into()),
            ..Properties::default()
        },
        ..PubReply::new(1)
    };
    check(
        V5,
        b"\x40\x09\x00\x01\x87\x05\x1f\x00\x02no",
        Packet::PubAck(refused),
    );
    let unknown = PubReply {
        reason_code: ReasonCode::PacketIdentifierNotFound,
        ..PubReply::new(3)
    };
    check(V5, b"\x62\x03\x00\x03\x92", Packet::PubRel(unknown.clone()));
    check(V5, b"\x70\x03\x00\x03\x92", Packet::PubComp(unknown));
    check(V5, b"\x50\x02\x00\x02", Packet::PubRec(PubReply::new(2)));
}

#[test]
fn pub_reply_v5_long_forms_decode_to_the_short_one() {
    // A reason and an empty property block, where both could be left out.
    let (p, _) = decode(b"\x40\x04\x00\x01\x00\x00", Some(V5), MAX)
        .unwrap()
        .unwrap();
    assert_eq!(p, Packet::PubAck(PubReply::new(1)));
}

#[test]
fn subscribe_v311_as_sent_by_mosquitto_sub() {
    // `mosquitto_sub -t 'a/#' -q 1`.
    let subscribe = Subscribe {
        packet_id: 1,
        subscriptions: vec![Subscription::new("a/#", QoS::AtLeastOnce)],
        properties: Properties::default(),
    };
    check(V311, b"\x82\x08\x00\x01\x00\x03a/#\x01", subscribe.into());
}

#[test]
fn subscribe_v5_with_options_and_shared_subscription() {
    let bytes: &[u8] = &[
        0x82, 0x18, 0x00, 0x02, // SUBSCRIBE, id 2
        0x02, 0x0b, 0x07, // subscription identifier 7
        0x00, 0x03, b'a', b'/', b'+', 0x2e, // QoS 2, no local, RAP, retain handling 2
        0x00, 0x0a, b'$', b's', b'h', b'a', b'r', b'e', b'/', b'g', b'/', b'x', 0x01,
    ];
    let subscribe = Subscribe {
        packet_id: 2,
        subscriptions: vec![
            Subscription {
                no_local: true,
                retain_as_published: true,
                retain_handling: RetainHandling::DoNotSend,
                ..Subscription::new("a/+", QoS::ExactlyOnce)
            },
            Subscription::new("$share/g/x", QoS::AtLeastOnce),
        ],
        properties: Properties {
            subscription_identifiers: vec![NonZeroU32::new(7).unwrap()],
            ..Properties::default()
        },
    };
    check(V5, bytes, subscribe.into());
}

#[test]
fn suback_both_versions() {
    let v311 = SubAck {
        packet_id: 1,
        reason_codes: vec![ReasonCode::GRANTED_QOS_0, ReasonCode::UnspecifiedError],
        properties: Properties::default(),
    };
    check(V311, b"\x90\x04\x00\x01\x00\x80", v311.into());
    let v5 = SubAck {
        packet_id: 2,
        reason_codes: vec![ReasonCode::GrantedQoS2, ReasonCode::NotAuthorized],
        properties: Properties::default(),
    };
    check(V5, b"\x90\x05\x00\x02\x00\x02\x87", v5.clone().into());
    // 3.1.1 has one failure code: every MQTT 5 error becomes 0x80.
    let mut out = Vec::new();
    encode(&v5.into(), V311, &mut out).unwrap();
    assert_eq!(out, b"\x90\x04\x00\x02\x02\x80");
}

#[test]
fn unsubscribe_and_unsuback_both_versions() {
    let unsubscribe = Unsubscribe {
        packet_id: 3,
        filters: vec!["a".into()],
        properties: Properties::default(),
    };
    check(
        V311,
        b"\xa2\x05\x00\x03\x00\x01a",
        unsubscribe.clone().into(),
    );
    check(V5, b"\xa2\x06\x00\x03\x00\x00\x01a", unsubscribe.into());
    let v311 = UnsubAck {
        packet_id: 3,
        ..UnsubAck::default()
    };
    check(V311, b"\xb0\x02\x00\x03", v311.into());
    let v5 = UnsubAck {
        packet_id: 3,
        reason_codes: vec![ReasonCode::Success, ReasonCode::NoSubscriptionExisted],
        properties: Properties::default(),
    };
    check(V5, b"\xb0\x05\x00\x03\x00\x00\x11", v5.into());
}

#[test]
fn pings_both_versions() {
    for v in [V311, V5] {
        check(v, b"\xc0\x00", Packet::PingReq);
        check(v, b"\xd0\x00", Packet::PingResp);
    }
}

#[test]
fn disconnect_both_versions() {
    check(V311, b"\xe0\x00", Disconnect::default().into());
    check(V5, b"\xe0\x00", Disconnect::default().into());
    let with_will = Disconnect::new(ReasonCode::DisconnectWithWillMessage);
    check(V5, b"\xe0\x01\x04", with_will.into());
    let taken_over = Disconnect {
        reason_code: ReasonCode::SessionTakenOver,
        properties: Properties {
            session_expiry_interval: Some(0),
            reason_string: Some("x".into()),
            ..Properties::default()
        },
    };
    check(
        V5,
        b"\xe0\x0b\x8e\x09\x11\x00\x00\x00\x00\x1f\x00\x01x",
        taken_over.into(),
    );
    let moved = Disconnect {
        reason_code: ReasonCode::ServerMoved,
        properties: Properties {
            server_reference: Some("h:1".into()),
            ..Properties::default()
        },
    };
    check(V5, b"\xe0\x08\x9d\x06\x1c\x00\x03h:1", moved.into());
}

#[test]
fn auth_v5() {
    check(V5, b"\xf0\x00", Auth::default().into());
    let bytes = b"\xf0\x0f\x18\x0d\x15\x00\x05SCRAM\x16\x00\x02\x01\x02";
    let auth = Auth {
        reason_code: ReasonCode::ContinueAuthentication,
        properties: Properties {
            authentication_method: Some("SCRAM".into()),
            authentication_data: Some(b(&[1, 2])),
            ..Properties::default()
        },
    };
    check(V5, bytes, auth.into());
}

#[test]
fn user_properties_keep_order_and_repeats() {
    let publish = Publish {
        topic: "t".into(),
        properties: Properties {
            user_properties: vec![
                ("k".into(), "2".into()),
                ("k".into(), "1".into()),
                ("a".into(), "".into()),
            ],
            ..Properties::default()
        },
        ..Publish::default()
    };
    let bytes =
        b"\x30\x18\x00\x01t\x14\x26\x00\x01k\x00\x012\x26\x00\x01k\x00\x011\x26\x00\x01a\x00\x00";
    check(V5, bytes, publish.into());
}

#[test]
fn zero_copy_decode_shares_the_buffer() {
    let mut buf = bytes::BytesMut::from(&b"\x30\x07\x00\x03a/bhi"[..]);
    let start = buf.as_ptr() as usize;
    let Some(Packet::Publish(p)) = decode_buf(&mut buf, Some(V311), MAX).unwrap() else {
        panic!("not a publish");
    };
    assert_eq!(p.payload.as_ptr() as usize, start + 7);
}
