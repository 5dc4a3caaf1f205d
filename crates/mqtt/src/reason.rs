//! MQTT 5 reason codes (§2.4) and MQTT 3.1.1 CONNACK return codes (§3.2.2.3).

use crate::packet::PacketType;
use crate::types::QoS;

/// An MQTT 5 reason code, named as in the specification (§2.4, Table 2-6).
///
/// 0x00 has three names in the specification (Success, Normal disconnection, Granted QoS 0):
/// it is [`ReasonCode::Success`], with the other two as associated constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReasonCode {
    #[default]
    Success = 0x00,
    GrantedQoS1 = 0x01,
    GrantedQoS2 = 0x02,
    DisconnectWithWillMessage = 0x04,
    NoMatchingSubscribers = 0x10,
    NoSubscriptionExisted = 0x11,
    ContinueAuthentication = 0x18,
    ReAuthenticate = 0x19,
    UnspecifiedError = 0x80,
    MalformedPacket = 0x81,
    ProtocolError = 0x82,
    ImplementationSpecificError = 0x83,
    UnsupportedProtocolVersion = 0x84,
    ClientIdentifierNotValid = 0x85,
    BadUserNameOrPassword = 0x86,
    NotAuthorized = 0x87,
    ServerUnavailable = 0x88,
    ServerBusy = 0x89,
    Banned = 0x8A,
    ServerShuttingDown = 0x8B,
    BadAuthenticationMethod = 0x8C,
    KeepAliveTimeout = 0x8D,
    SessionTakenOver = 0x8E,
    TopicFilterInvalid = 0x8F,
    TopicNameInvalid = 0x90,
    PacketIdentifierInUse = 0x91,
    PacketIdentifierNotFound = 0x92,
    ReceiveMaximumExceeded = 0x93,
    TopicAliasInvalid = 0x94,
    PacketTooLarge = 0x95,
    MessageRateTooHigh = 0x96,
    QuotaExceeded = 0x97,
    AdministrativeAction = 0x98,
    PayloadFormatInvalid = 0x99,
    RetainNotSupported = 0x9A,
    QoSNotSupported = 0x9B,
    UseAnotherServer = 0x9C,
    ServerMoved = 0x9D,
    SharedSubscriptionsNotSupported = 0x9E,
    ConnectionRateExceeded = 0x9F,
    MaximumConnectTime = 0xA0,
    SubscriptionIdentifiersNotSupported = 0xA1,
    WildcardSubscriptionsNotSupported = 0xA2,
}

use ReasonCode as R;

/// Every reason code, in numeric order.
const ALL: [ReasonCode; 43] = [
    R::Success,
    R::GrantedQoS1,
    R::GrantedQoS2,
    R::DisconnectWithWillMessage,
    R::NoMatchingSubscribers,
    R::NoSubscriptionExisted,
    R::ContinueAuthentication,
    R::ReAuthenticate,
    R::UnspecifiedError,
    R::MalformedPacket,
    R::ProtocolError,
    R::ImplementationSpecificError,
    R::UnsupportedProtocolVersion,
    R::ClientIdentifierNotValid,
    R::BadUserNameOrPassword,
    R::NotAuthorized,
    R::ServerUnavailable,
    R::ServerBusy,
    R::Banned,
    R::ServerShuttingDown,
    R::BadAuthenticationMethod,
    R::KeepAliveTimeout,
    R::SessionTakenOver,
    R::TopicFilterInvalid,
    R::TopicNameInvalid,
    R::PacketIdentifierInUse,
    R::PacketIdentifierNotFound,
    R::ReceiveMaximumExceeded,
    R::TopicAliasInvalid,
    R::PacketTooLarge,
    R::MessageRateTooHigh,
    R::QuotaExceeded,
    R::AdministrativeAction,
    R::PayloadFormatInvalid,
    R::RetainNotSupported,
    R::QoSNotSupported,
    R::UseAnotherServer,
    R::ServerMoved,
    R::SharedSubscriptionsNotSupported,
    R::ConnectionRateExceeded,
    R::MaximumConnectTime,
    R::SubscriptionIdentifiersNotSupported,
    R::WildcardSubscriptionsNotSupported,
];

impl ReasonCode {
    /// 0x00 in DISCONNECT.
    pub const NORMAL_DISCONNECTION: ReasonCode = ReasonCode::Success;
    /// 0x00 in SUBACK.
    pub const GRANTED_QOS_0: ReasonCode = ReasonCode::Success;

    /// The reason code with this value, if MQTT 5 defines one.
    pub fn from_u8(value: u8) -> Option<ReasonCode> {
        ALL.binary_search_by_key(&value, |r| *r as u8)
            .ok()
            .map(|i| ALL[i])
    }

    /// The SUBACK code that grants `qos`.
    pub fn granted(qos: QoS) -> ReasonCode {
        match qos {
            QoS::AtMostOnce => ReasonCode::Success,
            QoS::AtLeastOnce => ReasonCode::GrantedQoS1,
            QoS::ExactlyOnce => ReasonCode::GrantedQoS2,
        }
    }

    /// Codes below 0x80 report success, the others failure (§2.4).
    pub fn is_error(self) -> bool {
        self as u8 >= 0x80
    }

    /// Whether MQTT 5 allows this code in a packet of type `packet` (§3.x "Reason Code"
    /// tables). DISCONNECT also accepts 0x8C Bad authentication method, which Table 2-6
    /// lists for it and §3.14.2.1 leaves out.
    pub fn allowed_in(self, packet: PacketType) -> bool {
        use PacketType as P;
        let code = self as u8;
        match packet {
            P::ConnAck => matches!(
                code,
                0x00 | 0x80..=0x8A | 0x8C | 0x90 | 0x95 | 0x97 | 0x99..=0x9D | 0x9F
            ),
            P::PubAck | P::PubRec => {
                matches!(
                    code,
                    0x00 | 0x10 | 0x80 | 0x83 | 0x87 | 0x90 | 0x91 | 0x97 | 0x99
                )
            }
            P::PubRel | P::PubComp => matches!(code, 0x00 | 0x92),
            P::SubAck => matches!(
                code,
                0x00..=0x02 | 0x80 | 0x83 | 0x87 | 0x8F | 0x91 | 0x97 | 0x9E | 0xA1 | 0xA2
            ),
            P::UnsubAck => matches!(code, 0x00 | 0x11 | 0x80 | 0x83 | 0x87 | 0x8F | 0x91),
            P::Disconnect => matches!(
                code,
                0x00 | 0x04 | 0x80..=0x83 | 0x87 | 0x89 | 0x8B..=0x90 | 0x93..=0xA2
            ),
            P::Auth => matches!(code, 0x00 | 0x18 | 0x19),
            _ => false,
        }
    }
}

impl From<ReasonCode> for u8 {
    fn from(code: ReasonCode) -> u8 {
        code as u8
    }
}

/// MQTT 3.1.1 CONNACK return codes (§3.2.2.3). [`crate::ConnAck`] carries a
/// [`ReasonCode`] in both versions; these are what it becomes on a 3.1.1 connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectReturnCode {
    Accepted = 0,
    UnacceptableProtocolVersion = 1,
    IdentifierRejected = 2,
    ServerUnavailable = 3,
    BadUserNameOrPassword = 4,
    NotAuthorized = 5,
}

impl ConnectReturnCode {
    /// The return code with this value; 6–255 are reserved.
    pub fn from_u8(value: u8) -> Option<ConnectReturnCode> {
        use ConnectReturnCode as C;
        Some(match value {
            0 => C::Accepted,
            1 => C::UnacceptableProtocolVersion,
            2 => C::IdentifierRejected,
            3 => C::ServerUnavailable,
            4 => C::BadUserNameOrPassword,
            5 => C::NotAuthorized,
            _ => return None,
        })
    }

    /// The 3.1.1 return code for an MQTT 5 reason, or `None` if 3.1.1 has none close
    /// enough: then the server closes the connection without a CONNACK (MQTT-3.2.2-6).
    /// Besides the six codes that map one to one, Server busy reads as Server unavailable,
    /// Banned as Not authorized and Bad authentication method as Bad user name or password.
    pub fn from_reason(reason: ReasonCode) -> Option<ConnectReturnCode> {
        use ConnectReturnCode as C;
        Some(match reason {
            R::Success => C::Accepted,
            R::UnsupportedProtocolVersion => C::UnacceptableProtocolVersion,
            R::ClientIdentifierNotValid => C::IdentifierRejected,
            R::ServerUnavailable | R::ServerBusy => C::ServerUnavailable,
            R::BadUserNameOrPassword | R::BadAuthenticationMethod => C::BadUserNameOrPassword,
            R::NotAuthorized | R::Banned => C::NotAuthorized,
            _ => return None,
        })
    }
}

impl From<ConnectReturnCode> for ReasonCode {
    fn from(code: ConnectReturnCode) -> ReasonCode {
        use ConnectReturnCode as C;
        match code {
            C::Accepted => R::Success,
            C::UnacceptableProtocolVersion => R::UnsupportedProtocolVersion,
            C::IdentifierRejected => R::ClientIdentifierNotValid,
            C::ServerUnavailable => R::ServerUnavailable,
            C::BadUserNameOrPassword => R::BadUserNameOrPassword,
            C::NotAuthorized => R::NotAuthorized,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_u8_finds_every_code_and_nothing_else() {
        let mut found = 0;
        for value in 0..=255u8 {
            if let Some(code) = ReasonCode::from_u8(value) {
                assert_eq!(code as u8, value);
                found += 1;
            }
        }
        assert_eq!(found, ALL.len());
        assert!(ALL.windows(2).all(|w| (w[0] as u8) < (w[1] as u8)));
    }

    #[test]
    fn connack_return_codes_round_trip_through_reason_codes() {
        for value in 0..=5 {
            let rc = ConnectReturnCode::from_u8(value).unwrap();
            assert_eq!(ConnectReturnCode::from_reason(rc.into()), Some(rc));
        }
        assert_eq!(ConnectReturnCode::from_u8(6), None);
        assert_eq!(ConnectReturnCode::from_reason(R::QuotaExceeded), None);
    }

    #[test]
    fn per_packet_tables_match_the_spec() {
        assert!(R::NotAuthorized.allowed_in(PacketType::PubAck));
        assert!(!R::PacketIdentifierNotFound.allowed_in(PacketType::PubAck));
        assert!(R::PacketIdentifierNotFound.allowed_in(PacketType::PubComp));
        assert!(R::QoSNotSupported.allowed_in(PacketType::ConnAck));
        assert!(!R::KeepAliveTimeout.allowed_in(PacketType::ConnAck));
        assert!(R::KeepAliveTimeout.allowed_in(PacketType::Disconnect));
        assert!(!R::ServerUnavailable.allowed_in(PacketType::Disconnect));
        assert!(R::WildcardSubscriptionsNotSupported.allowed_in(PacketType::SubAck));
        assert!(!R::GrantedQoS1.allowed_in(PacketType::UnsubAck));
        assert!(R::ReAuthenticate.allowed_in(PacketType::Auth));
        assert!(!R::Success.allowed_in(PacketType::Publish));
    }
}
