//! Small value types shared by several packets.

/// The MQTT version a connection speaks, fixed by its CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    /// MQTT 3.1.1, protocol level 4.
    V311,
    /// MQTT 5.0, protocol level 5.
    V5,
}

impl ProtocolVersion {
    /// The Protocol Level byte of CONNECT.
    pub fn level(self) -> u8 {
        match self {
            ProtocolVersion::V311 => 4,
            ProtocolVersion::V5 => 5,
        }
    }
}

/// Quality of service of a message or a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum QoS {
    #[default]
    AtMostOnce = 0,
    AtLeastOnce = 1,
    ExactlyOnce = 2,
}

impl QoS {
    /// The two-bit value; 3 is not a QoS (a Malformed Packet wherever it appears).
    pub fn from_bits(bits: u8) -> Option<QoS> {
        match bits {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }
}

/// Whether the server sends retained messages when a subscription is made
/// (MQTT 5 §3.8.3.1, bits 4–5 of the subscription options).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RetainHandling {
    /// Send retained messages at the time of the subscribe.
    #[default]
    SendAtSubscribe = 0,
    /// Send them only if the subscription did not already exist.
    SendIfNewSubscription = 1,
    /// Do not send retained messages.
    DoNotSend = 2,
}

impl RetainHandling {
    /// The two-bit value; 3 is a Protocol Error.
    pub fn from_bits(bits: u8) -> Option<RetainHandling> {
        match bits {
            0 => Some(RetainHandling::SendAtSubscribe),
            1 => Some(RetainHandling::SendIfNewSubscription),
            2 => Some(RetainHandling::DoNotSend),
            _ => None,
        }
    }
}

/// The Payload Format Indicator property (MQTT 5 §3.3.2.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadFormat {
    /// Unspecified bytes (0x00).
    Unspecified = 0,
    /// UTF-8 encoded character data (0x01); the receiver may check it.
    Utf8 = 1,
}
