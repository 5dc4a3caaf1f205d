//! MQTT 5 properties (§2.2.2): one typed struct for every packet, and the table of which
//! packet allows which property.

mod codec;

use std::fmt;
use std::num::{NonZeroU16, NonZeroU32};

use bytes::Bytes;

use crate::types::{PayloadFormat, QoS};

pub(crate) use codec::{decode, encoded_len, write};

/// The properties of a packet, or of a will (MQTT 5 §3.1.3.2).
///
/// A packet allows only some of them (§2.2.2.2, and [`PropertyId`] says which): decoding
/// refuses the others, and so does encoding. An MQTT 3.1.1 packet has none; encoding one
/// as 3.1.1 leaves them out.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Properties {
    pub payload_format_indicator: Option<PayloadFormat>,
    /// Seconds.
    pub message_expiry_interval: Option<u32>,
    pub content_type: Option<String>,
    /// A topic name: no wildcards (MQTT-3.3.2-14).
    pub response_topic: Option<String>,
    pub correlation_data: Option<Bytes>,
    /// Up to 268,435,455 each. Several only in a PUBLISH from the server; at most one in
    /// SUBSCRIBE.
    pub subscription_identifiers: Vec<NonZeroU32>,
    /// Seconds; `u32::MAX` means the session does not expire.
    pub session_expiry_interval: Option<u32>,
    pub assigned_client_identifier: Option<String>,
    /// Seconds.
    pub server_keep_alive: Option<u16>,
    pub authentication_method: Option<String>,
    /// Only with an authentication method (MQTT 5 §3.1.2.11.10).
    pub authentication_data: Option<Bytes>,
    pub request_problem_information: Option<bool>,
    /// Seconds.
    pub will_delay_interval: Option<u32>,
    pub request_response_information: Option<bool>,
    pub response_information: Option<String>,
    pub server_reference: Option<String>,
    pub reason_string: Option<String>,
    pub receive_maximum: Option<NonZeroU16>,
    pub topic_alias_maximum: Option<u16>,
    pub topic_alias: Option<NonZeroU16>,
    /// Only [`QoS::AtMostOnce`] or [`QoS::AtLeastOnce`]: absent means QoS 2 is supported.
    pub maximum_qos: Option<QoS>,
    pub retain_available: Option<bool>,
    /// Name/value pairs in the order sent; a name may repeat (§3.3.2.3.7).
    pub user_properties: Vec<(String, String)>,
    /// Bytes, the whole packet.
    pub maximum_packet_size: Option<NonZeroU32>,
    pub wildcard_subscription_available: Option<bool>,
    pub subscription_identifier_available: Option<bool>,
    pub shared_subscription_available: Option<bool>,
}

impl Properties {
    /// Whether no property is set.
    pub fn is_empty(&self) -> bool {
        *self == Properties::default()
    }
}

/// Lists only the properties that are set: packets are logged often and most have none.
impl fmt::Debug for Properties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Properties");
        macro_rules! set {
            (opt: $($o:ident),*; vec: $($v:ident),*) => {
                $(if let Some(value) = &self.$o {
                    out.field(stringify!($o), value);
                })*
                $(if !self.$v.is_empty() {
                    out.field(stringify!($v), &self.$v);
                })*
            };
        }
        set!(
            opt: payload_format_indicator, message_expiry_interval, content_type,
                response_topic, correlation_data, session_expiry_interval,
                assigned_client_identifier, server_keep_alive, authentication_method,
                authentication_data, request_problem_information, will_delay_interval,
                request_response_information, response_information, server_reference,
                reason_string, receive_maximum, topic_alias_maximum, topic_alias, maximum_qos,
                retain_available, maximum_packet_size, wildcard_subscription_available,
                subscription_identifier_available, shared_subscription_available;
            vec: subscription_identifiers, user_properties
        );
        out.finish()
    }
}

/// A property identifier (§2.2.2.2, Table 2-4), with the packets that allow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PropertyId {
    /// PUBLISH, will.
    PayloadFormatIndicator = 0x01,
    /// PUBLISH, will.
    MessageExpiryInterval = 0x02,
    /// PUBLISH, will.
    ContentType = 0x03,
    /// PUBLISH, will.
    ResponseTopic = 0x08,
    /// PUBLISH, will.
    CorrelationData = 0x09,
    /// PUBLISH, SUBSCRIBE.
    SubscriptionIdentifier = 0x0B,
    /// CONNECT, CONNACK, DISCONNECT.
    SessionExpiryInterval = 0x11,
    /// CONNACK.
    AssignedClientIdentifier = 0x12,
    /// CONNACK.
    ServerKeepAlive = 0x13,
    /// CONNECT, CONNACK, AUTH.
    AuthenticationMethod = 0x15,
    /// CONNECT, CONNACK, AUTH.
    AuthenticationData = 0x16,
    /// CONNECT.
    RequestProblemInformation = 0x17,
    /// Will.
    WillDelayInterval = 0x18,
    /// CONNECT.
    RequestResponseInformation = 0x19,
    /// CONNACK.
    ResponseInformation = 0x1A,
    /// CONNACK, DISCONNECT.
    ServerReference = 0x1C,
    /// CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH.
    ReasonString = 0x1F,
    /// CONNECT, CONNACK.
    ReceiveMaximum = 0x21,
    /// CONNECT, CONNACK.
    TopicAliasMaximum = 0x22,
    /// PUBLISH.
    TopicAlias = 0x23,
    /// CONNACK.
    MaximumQoS = 0x24,
    /// CONNACK.
    RetainAvailable = 0x25,
    /// Every packet with properties, and the will.
    UserProperty = 0x26,
    /// CONNECT, CONNACK.
    MaximumPacketSize = 0x27,
    /// CONNACK.
    WildcardSubscriptionAvailable = 0x28,
    /// CONNACK.
    SubscriptionIdentifierAvailable = 0x29,
    /// CONNACK.
    SharedSubscriptionAvailable = 0x2A,
}

impl PropertyId {
    pub(crate) fn from_u32(id: u32) -> Option<PropertyId> {
        use PropertyId as P;
        Some(match id {
            0x01 => P::PayloadFormatIndicator,
            0x02 => P::MessageExpiryInterval,
            0x03 => P::ContentType,
            0x08 => P::ResponseTopic,
            0x09 => P::CorrelationData,
            0x0B => P::SubscriptionIdentifier,
            0x11 => P::SessionExpiryInterval,
            0x12 => P::AssignedClientIdentifier,
            0x13 => P::ServerKeepAlive,
            0x15 => P::AuthenticationMethod,
            0x16 => P::AuthenticationData,
            0x17 => P::RequestProblemInformation,
            0x18 => P::WillDelayInterval,
            0x19 => P::RequestResponseInformation,
            0x1A => P::ResponseInformation,
            0x1C => P::ServerReference,
            0x1F => P::ReasonString,
            0x21 => P::ReceiveMaximum,
            0x22 => P::TopicAliasMaximum,
            0x23 => P::TopicAlias,
            0x24 => P::MaximumQoS,
            0x25 => P::RetainAvailable,
            0x26 => P::UserProperty,
            0x27 => P::MaximumPacketSize,
            0x28 => P::WildcardSubscriptionAvailable,
            0x29 => P::SubscriptionIdentifierAvailable,
            0x2A => P::SharedSubscriptionAvailable,
            _ => return None,
        })
    }

    /// The contexts that allow this property, as a [`Context`] bit set.
    fn allowed(self) -> u16 {
        use Context as C;
        use PropertyId as P;
        let publish_and_will = C::Publish.bit() | C::Will.bit();
        match self {
            P::PayloadFormatIndicator
            | P::MessageExpiryInterval
            | P::ContentType
            | P::ResponseTopic
            | P::CorrelationData => publish_and_will,
            P::SubscriptionIdentifier => C::Publish.bit() | C::Subscribe.bit(),
            P::SessionExpiryInterval => C::Connect.bit() | C::ConnAck.bit() | C::Disconnect.bit(),
            P::AuthenticationMethod | P::AuthenticationData => {
                C::Connect.bit() | C::ConnAck.bit() | C::Auth.bit()
            }
            P::RequestProblemInformation | P::RequestResponseInformation => C::Connect.bit(),
            P::WillDelayInterval => C::Will.bit(),
            P::ServerReference => C::ConnAck.bit() | C::Disconnect.bit(),
            P::ReasonString => {
                C::ConnAck.bit()
                    | C::PubAck.bit()
                    | C::PubRec.bit()
                    | C::PubRel.bit()
                    | C::PubComp.bit()
                    | C::SubAck.bit()
                    | C::UnsubAck.bit()
                    | C::Disconnect.bit()
                    | C::Auth.bit()
            }
            P::ReceiveMaximum | P::TopicAliasMaximum | P::MaximumPacketSize => {
                C::Connect.bit() | C::ConnAck.bit()
            }
            P::TopicAlias => C::Publish.bit(),
            P::AssignedClientIdentifier
            | P::ServerKeepAlive
            | P::ResponseInformation
            | P::MaximumQoS
            | P::RetainAvailable
            | P::WildcardSubscriptionAvailable
            | P::SubscriptionIdentifierAvailable
            | P::SharedSubscriptionAvailable => C::ConnAck.bit(),
            P::UserProperty => u16::MAX,
        }
    }

    /// Whether the property may appear more than once in `context`: User Property anywhere
    /// (§3.1.2.11.8), Subscription Identifier only in PUBLISH, where the server lists every
    /// matching subscription's (§3.3.2.3.8; once in SUBSCRIBE, §3.8.2.1.2).
    fn repeatable(self, context: Context) -> bool {
        match self {
            PropertyId::UserProperty => true,
            PropertyId::SubscriptionIdentifier => context == Context::Publish,
            _ => false,
        }
    }
}

/// Where a property block sits: a packet type, or the will inside CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    Connect,
    Will,
    ConnAck,
    Publish,
    PubAck,
    PubRec,
    PubRel,
    PubComp,
    Subscribe,
    SubAck,
    Unsubscribe,
    UnsubAck,
    Disconnect,
    Auth,
}

impl Context {
    fn bit(self) -> u16 {
        1 << self as u16
    }

    pub(crate) fn allows(self, id: PropertyId) -> bool {
        id.allowed() & self.bit() != 0
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Context::Connect => "CONNECT",
            Context::Will => "the will properties",
            Context::ConnAck => "CONNACK",
            Context::Publish => "PUBLISH",
            Context::PubAck => "PUBACK",
            Context::PubRec => "PUBREC",
            Context::PubRel => "PUBREL",
            Context::PubComp => "PUBCOMP",
            Context::Subscribe => "SUBSCRIBE",
            Context::SubAck => "SUBACK",
            Context::Unsubscribe => "UNSUBSCRIBE",
            Context::UnsubAck => "UNSUBACK",
            Context::Disconnect => "DISCONNECT",
            Context::Auth => "AUTH",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_lists_only_what_is_set() {
        assert_eq!(format!("{:?}", Properties::default()), "Properties");
        let p = Properties {
            topic_alias: NonZeroU16::new(3),
            user_properties: vec![("k".into(), "v".into())],
            ..Properties::default()
        };
        assert_eq!(
            format!("{p:?}"),
            r#"Properties { topic_alias: 3, user_properties: [("k", "v")] }"#
        );
    }

    #[test]
    fn allowed_table_matches_section_2_2_2_2() {
        use Context as C;
        use PropertyId as P;
        assert!(C::Will.allows(P::WillDelayInterval));
        assert!(!C::Connect.allows(P::WillDelayInterval));
        assert!(C::Publish.allows(P::SubscriptionIdentifier));
        assert!(C::Subscribe.allows(P::SubscriptionIdentifier));
        assert!(!C::Unsubscribe.allows(P::SubscriptionIdentifier));
        assert!(!C::Publish.allows(P::ReasonString));
        assert!(C::Auth.allows(P::ReasonString));
        assert!(!C::Disconnect.allows(P::AuthenticationMethod));
        assert!(C::Disconnect.allows(P::SessionExpiryInterval));
        assert!(C::ConnAck.allows(P::SharedSubscriptionAvailable));
        for context in [C::Connect, C::Will, C::Publish, C::SubAck, C::Auth] {
            assert!(context.allows(P::UserProperty));
        }
        for id in 0..=0xFF {
            if let Some(p) = PropertyId::from_u32(id) {
                assert_eq!(p as u32, id);
            }
        }
        assert_eq!(PropertyId::from_u32(0x26), Some(P::UserProperty));
        assert_eq!(PropertyId::from_u32(0x2B), None);
    }
}
