//! Proptest strategies for valid packets of either version: what a conforming peer may
//! send. Which property a packet may carry is written out again here from MQTT 5
//! §2.2.2.2, independently of the crate's own table.

#![allow(dead_code)]

use std::num::{NonZeroU16, NonZeroU32};

use bytes::Bytes;
use fleetward_mqtt::{
    Auth, ConnAck, Connect, Disconnect, Packet, PacketType, PayloadFormat, Properties,
    ProtocolVersion, PubReply, Publish, QoS, ReasonCode, RetainHandling, SubAck, Subscribe,
    Subscription, UnsubAck, Unsubscribe, Will,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use ProtocolVersion::{V5, V311};

/// Any string MQTT allows: no U+0000, otherwise any scalar value.
pub fn mqtt_string() -> impl Strategy<Value = String> {
    "[^\\x00]{0,6}"
}

pub fn topic_name() -> impl Strategy<Value = String> {
    "[a-cü$/ ]{1,10}"
}

pub fn topic_filter() -> impl Strategy<Value = String> {
    let level = prop_oneof![3 => "[a-c$ü]{0,2}", 1 => Just("+".to_owned())];
    let plain = (prop::collection::vec(level, 1..4), any::<bool>()).prop_map(|(levels, hash)| {
        let mut filter = levels.join("/");
        if filter.is_empty() {
            filter.push('+');
        }
        if hash {
            filter.push_str("/#");
        }
        filter
    });
    let plain = prop_oneof![5 => plain, 1 => Just("#".to_owned())];
    (plain, prop::option::weighted(0.2, "[a-z]{1,3}")).prop_map(|(filter, share)| match share {
        Some(name) => format!("$share/{name}/{filter}"),
        None => filter,
    })
}

pub fn payload() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..40).prop_map(Bytes::from)
}

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

fn packet_id() -> impl Strategy<Value = u16> {
    1..=u16::MAX
}

/// Every reason code `packet` allows in MQTT 5.
fn reasons(packet: PacketType) -> Vec<ReasonCode> {
    (0..=255u8)
        .filter_map(ReasonCode::from_u8)
        .filter(|r| r.allowed_in(packet))
        .collect()
}

fn reason(packet: PacketType) -> impl Strategy<Value = ReasonCode> {
    prop::sample::select(reasons(packet))
}

/// Where a property block is, for [`properties`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ctx {
    Connect,
    Will,
    ConnAck,
    Publish,
    PubReply,
    Subscribe,
    SubAck,
    Unsubscribe,
    UnsubAck,
    Disconnect,
    Auth,
}

fn opt<S: Strategy>(s: S) -> impl Strategy<Value = Option<S::Value>> {
    prop::option::weighted(0.3, s)
}

fn bool_opt() -> impl Strategy<Value = Option<bool>> {
    opt(any::<bool>())
}

/// Properties with any value a conforming peer may send, then cut down to those `ctx`
/// allows.
pub fn properties(ctx: Ctx) -> impl Strategy<Value = Properties> {
    let message = (
        opt(prop_oneof![
            Just(PayloadFormat::Unspecified),
            Just(PayloadFormat::Utf8)
        ]),
        opt(any::<u32>()),
        opt(mqtt_string()),
        opt(topic_name()),
        opt(payload()),
        prop::collection::vec(1..=268_435_455u32, 0..3),
        opt(1..=u16::MAX),
    );
    let session = (
        opt(any::<u32>()),
        opt(mqtt_string()),
        opt(any::<u16>()),
        opt(mqtt_string()),
        opt(payload()),
        bool_opt(),
        opt(any::<u32>()),
        bool_opt(),
        opt(mqtt_string()),
        opt(mqtt_string()),
        opt(mqtt_string()),
    );
    let limits = (
        opt(1..=u16::MAX),
        opt(any::<u16>()),
        opt(prop_oneof![Just(QoS::AtMostOnce), Just(QoS::AtLeastOnce)]),
        bool_opt(),
        prop::collection::vec((mqtt_string(), mqtt_string()), 0..3),
        opt(1..=u32::MAX),
        bool_opt(),
        bool_opt(),
        bool_opt(),
    );
    (message, session, limits).prop_map(move |(m, s, l)| {
        let mut p = Properties {
            payload_format_indicator: m.0,
            message_expiry_interval: m.1,
            content_type: m.2,
            response_topic: m.3,
            correlation_data: m.4,
            subscription_identifiers: m.5.into_iter().filter_map(NonZeroU32::new).collect(),
            topic_alias: m.6.and_then(NonZeroU16::new),
            session_expiry_interval: s.0,
            assigned_client_identifier: s.1,
            server_keep_alive: s.2,
            authentication_method: s.3,
            authentication_data: s.4,
            request_problem_information: s.5,
            will_delay_interval: s.6,
            request_response_information: s.7,
            response_information: s.8,
            server_reference: s.9,
            reason_string: s.10,
            receive_maximum: l.0.and_then(NonZeroU16::new),
            topic_alias_maximum: l.1,
            maximum_qos: l.2,
            retain_available: l.3,
            user_properties: l.4,
            maximum_packet_size: l.5.and_then(NonZeroU32::new),
            wildcard_subscription_available: l.6,
            subscription_identifier_available: l.7,
            shared_subscription_available: l.8,
        };
        restrict(&mut p, ctx);
        p
    })
}

/// Clears what MQTT 5 §2.2.2.2 does not allow in `ctx`.
fn restrict(p: &mut Properties, ctx: Ctx) {
    use Ctx as C;
    let message = matches!(ctx, C::Publish | C::Will);
    if !message {
        p.payload_format_indicator = None;
        p.message_expiry_interval = None;
        p.content_type = None;
        p.response_topic = None;
        p.correlation_data = None;
    }
    match ctx {
        C::Publish => {}
        C::Subscribe => p.subscription_identifiers.truncate(1),
        _ => p.subscription_identifiers.clear(),
    }
    if ctx != C::Publish {
        p.topic_alias = None;
    }
    if !matches!(ctx, C::Connect | C::ConnAck | C::Disconnect) {
        p.session_expiry_interval = None;
    }
    if !matches!(ctx, C::Connect | C::ConnAck | C::Auth) {
        p.authentication_method = None;
        p.authentication_data = None;
    }
    if p.authentication_data.is_some() && p.authentication_method.is_none() {
        p.authentication_method = Some("m".into());
    }
    if ctx != C::Connect {
        p.request_problem_information = None;
        p.request_response_information = None;
    }
    if ctx != C::Will {
        p.will_delay_interval = None;
    }
    if !matches!(ctx, C::ConnAck | C::Disconnect) {
        p.server_reference = None;
    }
    if !matches!(
        ctx,
        C::ConnAck | C::PubReply | C::SubAck | C::UnsubAck | C::Disconnect | C::Auth
    ) {
        p.reason_string = None;
    }
    if !matches!(ctx, C::Connect | C::ConnAck) {
        p.receive_maximum = None;
        p.topic_alias_maximum = None;
        p.maximum_packet_size = None;
    }
    if ctx != C::ConnAck {
        p.assigned_client_identifier = None;
        p.server_keep_alive = None;
        p.response_information = None;
        p.maximum_qos = None;
        p.retain_available = None;
        p.wildcard_subscription_available = None;
        p.subscription_identifier_available = None;
        p.shared_subscription_available = None;
    }
}

/// Properties for `ctx` in MQTT 5, none in 3.1.1.
fn props_for(version: ProtocolVersion, ctx: Ctx) -> BoxedStrategy<Properties> {
    match version {
        V5 => properties(ctx).boxed(),
        V311 => Just(Properties::default()).boxed(),
    }
}

fn connect(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let will = (
        topic_name(),
        payload(),
        qos(),
        any::<bool>(),
        props_for(version, Ctx::Will),
    )
        .prop_map(|(topic, payload, qos, retain, properties)| Will {
            topic,
            payload,
            qos,
            retain,
            properties,
        });
    (
        any::<bool>(),
        any::<u16>(),
        mqtt_string(),
        prop::option::of(will),
        prop::option::of(mqtt_string()),
        prop::option::of(payload()),
        props_for(version, Ctx::Connect),
    )
        .prop_map(
            move |(
                clean_start,
                keep_alive,
                client_id,
                will,
                mut username,
                password,
                properties,
            )| {
                // 3.1.1 allows a password only with a user name (MQTT-3.1.2-22).
                if version == V311 && password.is_some() && username.is_none() {
                    username = Some(String::new());
                }
                Connect {
                    protocol_version: version,
                    clean_start,
                    keep_alive,
                    client_id,
                    will,
                    username,
                    password,
                    properties,
                }
                .into()
            },
        )
}

fn connack(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let code = match version {
        V311 => prop::sample::select(vec![
            ReasonCode::Success,
            ReasonCode::UnsupportedProtocolVersion,
            ReasonCode::ClientIdentifierNotValid,
            ReasonCode::ServerUnavailable,
            ReasonCode::BadUserNameOrPassword,
            ReasonCode::NotAuthorized,
        ])
        .boxed(),
        V5 => reason(PacketType::ConnAck).boxed(),
    };
    (any::<bool>(), code, props_for(version, Ctx::ConnAck)).prop_map(
        |(session_present, reason_code, properties)| {
            ConnAck {
                session_present: session_present && !reason_code.is_error(),
                reason_code,
                properties,
            }
            .into()
        },
    )
}

pub fn publish(version: ProtocolVersion) -> impl Strategy<Value = Publish> {
    (
        any::<bool>(),
        qos(),
        any::<bool>(),
        topic_name(),
        packet_id(),
        props_for(version, Ctx::Publish),
        payload(),
        any::<bool>(),
    )
        .prop_map(
            |(dup, qos, retain, mut topic, packet_id, properties, payload, drop_topic)| {
                let at_most_once = qos == QoS::AtMostOnce;
                if drop_topic && properties.topic_alias.is_some() {
                    topic.clear();
                }
                Publish {
                    dup: dup && !at_most_once,
                    qos,
                    retain,
                    topic,
                    packet_id: if at_most_once { 0 } else { packet_id },
                    properties,
                    payload,
                }
            },
        )
}

fn pub_reply(version: ProtocolVersion, kind: PacketType) -> impl Strategy<Value = Packet> {
    let code = match version {
        V311 => Just(ReasonCode::Success).boxed(),
        V5 => reason(kind).boxed(),
    };
    (packet_id(), code, props_for(version, Ctx::PubReply)).prop_map(
        move |(packet_id, reason_code, properties)| {
            let reply = PubReply {
                packet_id,
                reason_code,
                properties,
            };
            match kind {
                PacketType::PubAck => Packet::PubAck(reply),
                PacketType::PubRec => Packet::PubRec(reply),
                PacketType::PubRel => Packet::PubRel(reply),
                _ => Packet::PubComp(reply),
            }
        },
    )
}

fn subscription(version: ProtocolVersion) -> impl Strategy<Value = Subscription> {
    let handling = prop_oneof![
        Just(RetainHandling::SendAtSubscribe),
        Just(RetainHandling::SendIfNewSubscription),
        Just(RetainHandling::DoNotSend),
    ];
    (
        topic_filter(),
        qos(),
        any::<bool>(),
        any::<bool>(),
        handling,
    )
        .prop_map(
            move |(filter, qos, no_local, retain_as_published, retain_handling)| {
                let mut sub = Subscription::new(filter, qos);
                if version == V5 {
                    sub.no_local = no_local && !sub.filter.starts_with("$share/");
                    sub.retain_as_published = retain_as_published;
                    sub.retain_handling = retain_handling;
                }
                sub
            },
        )
}

fn subscribe(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (
        packet_id(),
        prop::collection::vec(subscription(version), 1..4),
        props_for(version, Ctx::Subscribe),
    )
        .prop_map(|(packet_id, subscriptions, properties)| {
            Subscribe {
                packet_id,
                subscriptions,
                properties,
            }
            .into()
        })
}

fn suback(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let code = match version {
        V311 => prop::sample::select(vec![
            ReasonCode::GRANTED_QOS_0,
            ReasonCode::GrantedQoS1,
            ReasonCode::GrantedQoS2,
            ReasonCode::UnspecifiedError,
        ])
        .boxed(),
        V5 => reason(PacketType::SubAck).boxed(),
    };
    (
        packet_id(),
        prop::collection::vec(code, 1..4),
        props_for(version, Ctx::SubAck),
    )
        .prop_map(|(packet_id, reason_codes, properties)| {
            SubAck {
                packet_id,
                reason_codes,
                properties,
            }
            .into()
        })
}

fn unsubscribe(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    (
        packet_id(),
        prop::collection::vec(topic_filter(), 1..4),
        props_for(version, Ctx::Unsubscribe),
    )
        .prop_map(|(packet_id, filters, properties)| {
            Unsubscribe {
                packet_id,
                filters,
                properties,
            }
            .into()
        })
}

fn unsuback(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let codes = match version {
        V311 => Just(Vec::new()).boxed(),
        V5 => prop::collection::vec(reason(PacketType::UnsubAck), 1..4).boxed(),
    };
    (packet_id(), codes, props_for(version, Ctx::UnsubAck)).prop_map(
        |(packet_id, reason_codes, properties)| {
            UnsubAck {
                packet_id,
                reason_codes,
                properties,
            }
            .into()
        },
    )
}

fn disconnect(version: ProtocolVersion) -> BoxedStrategy<Packet> {
    match version {
        V311 => Just(Disconnect::default().into()).boxed(),
        V5 => (reason(PacketType::Disconnect), properties(Ctx::Disconnect))
            .prop_map(|(reason_code, properties)| {
                Disconnect {
                    reason_code,
                    properties,
                }
                .into()
            })
            .boxed(),
    }
}

fn auth() -> impl Strategy<Value = Packet> {
    (reason(PacketType::Auth), properties(Ctx::Auth)).prop_map(|(reason_code, properties)| {
        Auth {
            reason_code,
            properties,
        }
        .into()
    })
}

/// Any packet that `version` can carry.
pub fn packet(version: ProtocolVersion) -> BoxedStrategy<Packet> {
    let common = prop_oneof![
        connect(version),
        connack(version),
        publish(version).prop_map(Packet::from),
        pub_reply(version, PacketType::PubAck),
        pub_reply(version, PacketType::PubRec),
        pub_reply(version, PacketType::PubRel),
        pub_reply(version, PacketType::PubComp),
        subscribe(version),
        suback(version),
        unsubscribe(version),
        unsuback(version),
        Just(Packet::PingReq),
        Just(Packet::PingResp),
        disconnect(version),
    ];
    match version {
        V311 => common.boxed(),
        V5 => prop_oneof![14 => common, 1 => auth()].boxed(),
    }
}

/// `count` packets of `version`, the same ones on every run.
pub fn sample_packets(version: ProtocolVersion, count: usize) -> Vec<Packet> {
    let seed = [7u8; 32];
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    let strategy = packet(version);
    (0..count)
        .map(|_| strategy.new_tree(&mut runner).expect("strategy").current())
        .collect()
}
