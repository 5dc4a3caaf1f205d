//! Packets that must be refused, and the reason code each one is refused with.

use bytes::Bytes;

use super::*;
use crate::error::{DecodeError, EncodeError};
use crate::property::{Properties, PropertyId};
use crate::topic::TopicError;
use crate::types::QoS;
use crate::{decode, encode};

use ProtocolVersion::{V5, V311};

const MALFORMED: ReasonCode = ReasonCode::MalformedPacket;
const PROTOCOL: ReasonCode = ReasonCode::ProtocolError;

fn err(bytes: &[u8], version: Option<ProtocolVersion>) -> DecodeError {
    match decode(bytes, version, 1 << 20) {
        Err(e) => e,
        Ok(p) => panic!("{bytes:02x?} decoded: {p:?}"),
    }
}

fn code(bytes: &[u8], version: Option<ProtocolVersion>) -> ReasonCode {
    err(bytes, version).reason_code()
}

/// A v5 PUBLISH QoS 0 to "t" with the given property block contents.
fn publish_v5_with(props: &[u8]) -> Vec<u8> {
    let mut body = vec![0x00, 0x01, b't', props.len() as u8];
    body.extend_from_slice(props);
    let mut p = vec![0x30, body.len() as u8];
    p.extend(body);
    p
}

/// A v5 CONNACK (success) with the given property block contents.
fn connack_v5_with(props: &[u8]) -> Vec<u8> {
    let mut p = vec![0x20, 3 + props.len() as u8, 0x00, 0x00, props.len() as u8];
    p.extend_from_slice(props);
    p
}

#[test]
fn fixed_header_errors() {
    assert_eq!(code(b"\x00\x00", Some(V5)), MALFORMED, "type 0 is reserved");
    assert_eq!(code(b"\xf0\x00", Some(V311)), MALFORMED, "AUTH in 3.1.1");
    assert_eq!(
        code(b"\x60\x02\x00\x01", Some(V311)),
        MALFORMED,
        "PUBREL flags"
    );
    assert_eq!(code(b"\x80\x00", Some(V5)), MALFORMED, "SUBSCRIBE flags");
    assert_eq!(code(b"\xa0\x00", Some(V5)), MALFORMED, "UNSUBSCRIBE flags");
    assert_eq!(code(b"\xc1\x00", Some(V5)), MALFORMED, "PINGREQ flags");
    assert_eq!(code(b"\xc0\x01\x00", Some(V5)), MALFORMED, "PINGREQ body");
    assert_eq!(
        code(b"\xe0\x01\x00", Some(V311)),
        MALFORMED,
        "3.1.1 DISCONNECT body"
    );
    // The first byte alone is enough to refuse.
    assert_eq!(code(b"\x00", Some(V5)), MALFORMED);
}

#[test]
fn remaining_length_errors() {
    // Five bytes of Remaining Length.
    let e = err(b"\x30\xff\xff\xff\xff\x7f", Some(V5));
    assert!(matches!(e, DecodeError::Malformed(_)), "{e:?}");
    // Known too large from the header alone, before any body byte.
    let e = decode(b"\x30\xff\xff\x03", Some(V5), 1000).unwrap_err();
    assert_eq!(
        e,
        DecodeError::PacketTooLarge {
            size: 4 + 65_535,
            max: 1000
        }
    );
    assert_eq!(e.reason_code(), ReasonCode::PacketTooLarge);
    // The limit counts the fixed header: this packet is 9 bytes.
    let p = b"\x30\x07\x00\x03a/bhi";
    assert!(decode(p, Some(V311), 9).unwrap().is_some());
    assert!(matches!(
        decode(p, Some(V311), 8),
        Err(DecodeError::PacketTooLarge { size: 9, max: 8 })
    ));
    // A body shorter than its fields.
    assert_eq!(code(b"\x30\x02\x00\x03", Some(V5)), MALFORMED);
}

#[test]
fn first_packet_must_be_connect() {
    assert_eq!(code(b"\x30\x03\x00\x01t", None), PROTOCOL);
    assert_eq!(code(b"\xc0", None), PROTOCOL);
}

#[test]
fn connect_errors() {
    let e = err(b"\x10\x10\x00\x06MQIsdp\x03\x02\x00\x3c\x00\x02ab", None);
    assert_eq!(e, DecodeError::UnsupportedProtocolVersion { level: 3 });
    assert_eq!(e.reason_code(), ReasonCode::UnsupportedProtocolVersion);
    let e = err(b"\x10\x0e\x00\x04MQTT\x06\x02\x00\x3c\x00\x00\x01a", None);
    assert_eq!(e, DecodeError::UnsupportedProtocolVersion { level: 6 });
    let connect = |flags: u8, tail: &[u8]| {
        let mut p = vec![0x10, 0];
        p.extend_from_slice(b"\x00\x04MQTT\x04");
        p.push(flags);
        p.extend_from_slice(b"\x00\x3c\x00\x01a");
        p.extend_from_slice(tail);
        p[1] = (p.len() - 2) as u8;
        p
    };
    assert_eq!(code(&connect(0x03, b""), None), MALFORMED, "reserved flag");
    assert_eq!(
        code(&connect(0x1e, b"\x00\x01w\x00\x00"), None),
        MALFORMED,
        "will QoS 3"
    );
    assert_eq!(
        code(&connect(0x0a, b""), None),
        MALFORMED,
        "will QoS without will"
    );
    assert_eq!(
        code(&connect(0x22, b""), None),
        MALFORMED,
        "will retain without will"
    );
    assert_eq!(
        code(&connect(0x42, b"\x00\x01p"), None),
        MALFORMED,
        "3.1.1 password alone"
    );
    assert_eq!(
        code(&connect(0x02, b"\x00"), None),
        MALFORMED,
        "trailing byte"
    );
    assert_eq!(
        code(&connect(0x80, b""), None),
        MALFORMED,
        "user name missing"
    );
    let e = err(&connect(0x06, b"\x00\x03w/#\x00\x00"), None);
    assert_eq!(e, DecodeError::TopicNameInvalid(TopicError::WildcardInName));
    assert_eq!(e.reason_code(), ReasonCode::TopicNameInvalid);
}

#[test]
fn malformed_utf8_is_0x81_and_distinct() {
    let with_client_id = |id: &[u8]| {
        let mut p = vec![0x10, 0];
        p.extend_from_slice(b"\x00\x04MQTT\x04\x02\x00\x3c\x00");
        p.push(id.len() as u8);
        p.extend_from_slice(id);
        p[1] = (p.len() - 2) as u8;
        p
    };
    for bad in [
        &b"a\0b"[..],
        b"\xed\xa0\x80",
        b"\xc0\xaf",
        b"\xff",
        b"\xe2\x82",
    ] {
        let e = err(&with_client_id(bad), None);
        assert_eq!(e, DecodeError::InvalidUtf8, "{bad:02x?}");
        assert_eq!(e.reason_code(), MALFORMED);
    }
    assert!(decode(&with_client_id("ü".as_bytes()), None, 1024).is_ok());
    // In a topic name and in a user property too.
    assert_eq!(
        err(b"\x30\x03\x00\x01\x00", Some(V311)),
        DecodeError::InvalidUtf8
    );
    let user = publish_v5_with(b"\x26\x00\x01\xff\x00\x00");
    assert_eq!(err(&user, Some(V5)), DecodeError::InvalidUtf8);
}

#[test]
fn publish_errors() {
    assert_eq!(
        code(b"\x36\x05\x00\x01t\x00\x01", Some(V311)),
        MALFORMED,
        "QoS 3"
    );
    assert_eq!(
        code(b"\x38\x03\x00\x01t", Some(V311)),
        MALFORMED,
        "DUP on QoS 0"
    );
    assert_eq!(
        code(b"\x32\x05\x00\x01t\x00\x00", Some(V311)),
        PROTOCOL,
        "packet id 0"
    );
    assert_eq!(
        code(b"\x30\x03\x00\x01+", Some(V311)),
        ReasonCode::TopicNameInvalid
    );
    assert_eq!(
        code(b"\x30\x02\x00\x00", Some(V311)),
        ReasonCode::TopicNameInvalid
    );
    assert_eq!(
        code(b"\x30\x03\x00\x00\x00", Some(V5)),
        PROTOCOL,
        "empty without alias"
    );
}

#[test]
fn property_errors() {
    let dup = publish_v5_with(b"\x02\x00\x00\x00\x01\x02\x00\x00\x00\x02");
    assert_eq!(
        err(&dup, Some(V5)),
        DecodeError::DuplicateProperty(PropertyId::MessageExpiryInterval)
    );
    let not_allowed = publish_v5_with(b"\x11\x00\x00\x00\x01");
    assert_eq!(
        err(&not_allowed, Some(V5)),
        DecodeError::PropertyNotAllowed {
            property: PropertyId::SessionExpiryInterval,
            context: "PUBLISH"
        }
    );
    assert_eq!(
        err(&publish_v5_with(b"\x04\x00"), Some(V5)),
        DecodeError::UnknownProperty(4)
    );
    assert_eq!(code(&publish_v5_with(b"\x04\x00"), Some(V5)), MALFORMED);
    for (props, id) in [
        (&b"\x23\x00\x00"[..], PropertyId::TopicAlias),
        (b"\x0b\x00", PropertyId::SubscriptionIdentifier),
        (b"\x01\x02", PropertyId::PayloadFormatIndicator),
        (b"\x08\x00\x01#", PropertyId::ResponseTopic),
    ] {
        let e = err(&publish_v5_with(props), Some(V5));
        assert_eq!(e, DecodeError::InvalidPropertyValue(id));
        assert_eq!(e.reason_code(), PROTOCOL);
    }
    for (props, id) in [
        (&b"\x21\x00\x00"[..], PropertyId::ReceiveMaximum),
        (b"\x27\x00\x00\x00\x00", PropertyId::MaximumPacketSize),
        (b"\x24\x02", PropertyId::MaximumQoS),
        (b"\x25\x02", PropertyId::RetainAvailable),
        (b"\x2a\xff", PropertyId::SharedSubscriptionAvailable),
    ] {
        let e = err(&connack_v5_with(props), Some(V5));
        assert_eq!(e, DecodeError::InvalidPropertyValue(id));
    }
    let data_alone = connack_v5_with(b"\x16\x00\x01x");
    assert_eq!(code(&data_alone, Some(V5)), PROTOCOL);
    // The property block claims more than the packet holds, or a value is cut short.
    assert_eq!(code(b"\x30\x04\x00\x01t\x05", Some(V5)), MALFORMED);
    assert_eq!(code(&publish_v5_with(b"\x02\x00\x00"), Some(V5)), MALFORMED);
    // A will property in CONNECT's own block.
    let mut connect =
        b"\x10\x00\x00\x04MQTT\x05\x02\x00\x3c\x05\x18\x00\x00\x00\x01\x00\x01a".to_vec();
    connect[1] = (connect.len() - 2) as u8;
    assert_eq!(code(&connect, None), PROTOCOL);
}

#[test]
fn subscribe_errors() {
    let sub = |version_props: &[u8], entries: &[u8]| {
        let mut p = vec![0x82, 0, 0x00, 0x01];
        p.extend_from_slice(version_props);
        p.extend_from_slice(entries);
        p[1] = (p.len() - 2) as u8;
        p
    };
    assert_eq!(
        code(&sub(b"", b""), Some(V311)),
        PROTOCOL,
        "no subscription"
    );
    assert_eq!(
        code(&sub(b"\x00", b""), Some(V5)),
        PROTOCOL,
        "no subscription"
    );
    assert_eq!(
        code(&sub(b"", b"\x00\x01a\x04"), Some(V311)),
        MALFORMED,
        "3.1.1 reserved bits"
    );
    assert_eq!(
        code(&sub(b"\x00", b"\x00\x01a\x40"), Some(V5)),
        MALFORMED,
        "reserved bits"
    );
    assert_eq!(
        code(&sub(b"\x00", b"\x00\x01a\x03"), Some(V5)),
        MALFORMED,
        "QoS 3"
    );
    assert_eq!(
        code(&sub(b"\x00", b"\x00\x01a\x30"), Some(V5)),
        PROTOCOL,
        "retain handling 3"
    );
    let shared_no_local = sub(b"\x00", b"\x00\x0a$share/g/x\x04");
    assert_eq!(code(&shared_no_local, Some(V5)), PROTOCOL);
    let two_ids = sub(b"\x04\x0b\x01\x0b\x02", b"\x00\x01a\x00");
    assert_eq!(
        err(&two_ids, Some(V5)),
        DecodeError::DuplicateProperty(PropertyId::SubscriptionIdentifier)
    );
    let bad_filter = sub(b"", b"\x00\x05a/#/b\x00");
    assert_eq!(
        code(&bad_filter, Some(V311)),
        ReasonCode::TopicFilterInvalid
    );
    let bad_share = sub(b"", b"\x00\x09$share//x\x00");
    assert_eq!(
        err(&bad_share, Some(V311)),
        DecodeError::TopicFilterInvalid(TopicError::InvalidSharedSubscription)
    );
    assert_eq!(
        code(b"\xa2\x02\x00\x01", Some(V311)),
        PROTOCOL,
        "UNSUBSCRIBE without filter"
    );
    assert_eq!(
        code(b"\xa2\x06\x00\x01\x00\x01#\x00", Some(V311)),
        MALFORMED,
        "cut short"
    );
}

#[test]
fn reason_code_errors() {
    assert_eq!(
        code(b"\x90\x03\x00\x01\x03", Some(V311)),
        MALFORMED,
        "3.1.1 SUBACK 0x03"
    );
    assert_eq!(
        code(b"\x90\x03\x00\x01\x87", Some(V311)),
        MALFORMED,
        "3.1.1 SUBACK 0x87"
    );
    assert_eq!(
        code(b"\x90\x04\x00\x01\x00\x10", Some(V5)),
        MALFORMED,
        "SUBACK 0x10"
    );
    assert_eq!(
        code(b"\x90\x03\x00\x01\x00", Some(V5)),
        PROTOCOL,
        "SUBACK without codes"
    );
    assert_eq!(
        code(b"\x40\x03\x00\x01\x92", Some(V5)),
        MALFORMED,
        "PUBACK 0x92"
    );
    assert_eq!(
        code(b"\x40\x03\x00\x01\x00", Some(V311)),
        MALFORMED,
        "3.1.1 PUBACK body"
    );
    assert_eq!(
        code(b"\x40\x02\x00\x00", Some(V311)),
        PROTOCOL,
        "packet id 0"
    );
    assert_eq!(
        code(b"\xe0\x01\x88", Some(V5)),
        MALFORMED,
        "DISCONNECT 0x88"
    );
    assert_eq!(code(b"\xf0\x01\x87", Some(V5)), MALFORMED, "AUTH 0x87");
    assert_eq!(
        code(b"\xb0\x03\x00\x01\x00", Some(V5)),
        PROTOCOL,
        "UNSUBACK without codes"
    );
    assert_eq!(
        code(b"\x20\x02\x02\x00", Some(V311)),
        MALFORMED,
        "CONNACK reserved flag"
    );
    assert_eq!(
        code(b"\x20\x02\x00\x06", Some(V311)),
        MALFORMED,
        "return code 6"
    );
    assert_eq!(
        code(b"\x20\x02\x01\x05", Some(V311)),
        PROTOCOL,
        "session present, refused"
    );
    assert_eq!(
        code(b"\x20\x02\x00\x00", Some(V5)),
        MALFORMED,
        "v5 CONNACK needs properties"
    );
}

fn enc(packet: impl Into<Packet>, version: ProtocolVersion) -> Result<usize, EncodeError> {
    let mut out = Vec::new();
    let r = encode(&packet.into(), version, &mut out);
    if r.is_err() {
        assert!(out.is_empty(), "nothing is written on error");
    }
    r
}

#[test]
fn encode_refuses_what_decode_refuses() {
    let publish = Publish {
        topic: "t".into(),
        ..Publish::default()
    };
    let qos1 = Publish {
        qos: QoS::AtLeastOnce,
        ..publish.clone()
    };
    assert_eq!(enc(qos1, V311), Err(EncodeError::ZeroPacketId));
    let dup0 = Publish {
        dup: true,
        ..publish.clone()
    };
    assert!(matches!(enc(dup0, V311), Err(EncodeError::Invalid(_))));
    let wild = Publish {
        topic: "a/+".into(),
        ..publish.clone()
    };
    assert_eq!(
        enc(wild, V5),
        Err(EncodeError::TopicNameInvalid(TopicError::WildcardInName))
    );
    let nul = Publish {
        topic: "a\0".into(),
        ..publish.clone()
    };
    assert_eq!(
        enc(nul, V5),
        Err(EncodeError::TopicNameInvalid(TopicError::ContainsNul))
    );
    let not_allowed = Publish {
        properties: Properties {
            session_expiry_interval: Some(1),
            ..Properties::default()
        },
        ..publish.clone()
    };
    assert!(matches!(
        enc(not_allowed.clone(), V5),
        Err(EncodeError::PropertyNotAllowed { .. })
    ));
    // 3.1.1 has no properties: they are left out rather than refused.
    assert_eq!(enc(not_allowed, V311), Ok(5));
    let big = Publish {
        payload: Bytes::from(vec![0u8; crate::MAX_REMAINING_LENGTH]),
        ..publish.clone()
    };
    assert_eq!(
        enc(big, V311),
        Err(EncodeError::PacketTooLarge(crate::MAX_REMAINING_LENGTH + 3))
    );
    let long_user = Connect {
        username: Some("u".repeat(65_536)),
        ..Connect::new(V5, "c")
    };
    assert_eq!(enc(long_user, V5), Err(EncodeError::FieldTooLong));
    let nul_user = Connect {
        username: Some("u\0".into()),
        ..Connect::new(V5, "c")
    };
    assert_eq!(enc(nul_user, V5), Err(EncodeError::InvalidString));
}

#[test]
fn encode_refuses_what_the_version_cannot_say() {
    assert!(matches!(
        enc(Auth::default(), V311),
        Err(EncodeError::NotInVersion(_))
    ));
    assert!(matches!(
        enc(Connect::new(V5, "c"), V311),
        Err(EncodeError::NotInVersion(_))
    ));
    let password_alone = Connect {
        password: Some(Bytes::from_static(b"p")),
        ..Connect::new(V311, "c")
    };
    assert!(matches!(
        enc(password_alone, V311),
        Err(EncodeError::NotInVersion(_))
    ));
    let quota = ConnAck {
        reason_code: ReasonCode::QuotaExceeded,
        ..ConnAck::default()
    };
    assert!(matches!(
        enc(quota.clone(), V311),
        Err(EncodeError::NotInVersion(_))
    ));
    assert_eq!(enc(quota, V5), Ok(5));
    // Banned has no 3.1.1 return code of its own: it goes as 5, not authorized.
    let banned = ConnAck {
        reason_code: ReasonCode::Banned,
        ..ConnAck::default()
    };
    let mut out = Vec::new();
    encode(&banned.into(), V311, &mut out).unwrap();
    assert_eq!(out, b"\x20\x02\x00\x05");
    let bad_reason = PubReply {
        reason_code: ReasonCode::PacketIdentifierNotFound,
        ..PubReply::new(1)
    };
    assert!(matches!(
        enc(Packet::PubAck(bad_reason.clone()), V5),
        Err(EncodeError::InvalidReasonCode { .. })
    ));
    // 3.1.1 PUBACK has no reason code to carry.
    assert_eq!(enc(Packet::PubAck(bad_reason), V311), Ok(4));
}

#[test]
fn encode_checks_property_values() {
    use std::num::NonZeroU32;
    let with = |properties: Properties| Publish {
        topic: "t".into(),
        properties,
        ..Publish::default()
    };
    let too_big = with(Properties {
        subscription_identifiers: vec![NonZeroU32::new(268_435_456).unwrap()],
        ..Properties::default()
    });
    assert_eq!(
        enc(too_big, V5),
        Err(EncodeError::InvalidPropertyValue(
            PropertyId::SubscriptionIdentifier
        ))
    );
    let wild_response = with(Properties {
        response_topic: Some("a/#".into()),
        ..Properties::default()
    });
    assert_eq!(
        enc(wild_response, V5),
        Err(EncodeError::InvalidPropertyValue(PropertyId::ResponseTopic))
    );
    let qos2 = ConnAck {
        properties: Properties {
            maximum_qos: Some(QoS::ExactlyOnce),
            ..Properties::default()
        },
        ..ConnAck::default()
    };
    assert_eq!(
        enc(qos2, V5),
        Err(EncodeError::InvalidPropertyValue(PropertyId::MaximumQoS))
    );
    let data_alone = Auth {
        properties: Properties {
            authentication_data: Some(Bytes::from_static(b"x")),
            ..Properties::default()
        },
        ..Auth::default()
    };
    assert_eq!(
        enc(data_alone, V5),
        Err(EncodeError::InvalidPropertyValue(
            PropertyId::AuthenticationData
        ))
    );
    let two_ids = Subscribe {
        packet_id: 1,
        subscriptions: vec![Subscription::new("a", QoS::AtMostOnce)],
        properties: Properties {
            subscription_identifiers: vec![NonZeroU32::MIN, NonZeroU32::MIN],
            ..Properties::default()
        },
    };
    assert_eq!(
        enc(two_ids, V5),
        Err(EncodeError::InvalidPropertyValue(
            PropertyId::SubscriptionIdentifier
        ))
    );
    let shared_no_local = Subscribe {
        packet_id: 1,
        subscriptions: vec![Subscription {
            no_local: true,
            ..Subscription::new("$share/g/a", QoS::AtMostOnce)
        }],
        properties: Properties::default(),
    };
    assert!(matches!(
        enc(shared_no_local.clone(), V5),
        Err(EncodeError::Invalid(_))
    ));
    // 3.1.1 has no No Local bit to break the rule with.
    assert!(enc(shared_no_local, V311).is_ok());
    let empty = Subscribe {
        packet_id: 1,
        ..Subscribe::default()
    };
    assert!(matches!(enc(empty, V311), Err(EncodeError::Invalid(_))));
}
