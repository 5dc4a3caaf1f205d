//! Why a packet could not be decoded or encoded.

use crate::packet::PacketType;
use crate::property::PropertyId;
use crate::reason::ReasonCode;
use crate::topic::TopicError;

/// A packet the peer sent breaks the protocol. The connection is unusable after this: the
/// broker answers with [`DecodeError::reason_code`] (in CONNACK before the session exists,
/// in DISCONNECT after, on MQTT 5 only) and closes it (MQTT 5 §4.13).
///
/// The spec splits errors into Malformed Packet (cannot be parsed, 0x81) and Protocol Error
/// (parsed, but not allowed, 0x82); a few get their own code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes do not follow the packet's layout. 0x81.
    #[error("malformed packet: {0}")]
    Malformed(&'static str),
    /// A string is not well-formed UTF-8 (a surrogate, an overlong form, a truncated
    /// sequence) or contains U+0000 (MQTT-1.5.4-1, MQTT-1.5.4-2). 0x81.
    #[error("malformed packet: a string is not valid MQTT UTF-8")]
    InvalidUtf8,
    /// A property identifier MQTT 5 does not define; its length cannot be known. 0x81.
    #[error("malformed packet: unknown property identifier {0:#04x}")]
    UnknownProperty(u32),
    /// A reason code the packet type does not allow. 0x81.
    #[error("malformed packet: reason code {code:#04x} is not valid in {packet:?}")]
    InvalidReasonCode { packet: PacketType, code: u8 },
    /// The packet parses but breaks a rule of the protocol. 0x82.
    #[error("protocol error: {0}")]
    ProtocolError(&'static str),
    /// A property that may appear once appears twice. 0x82.
    #[error("protocol error: property {0:?} appears more than once")]
    DuplicateProperty(PropertyId),
    /// A property the packet does not allow (MQTT 5 §2.2.2.2). 0x82.
    #[error("protocol error: property {property:?} is not allowed in {context}")]
    PropertyNotAllowed {
        property: PropertyId,
        context: &'static str,
    },
    /// A property value the spec forbids, such as a Receive Maximum of 0. 0x82.
    #[error("protocol error: property {0:?} has a value that is not allowed")]
    InvalidPropertyValue(PropertyId),
    /// The packet is larger than the limit given to the decoder, which is known from the
    /// fixed header alone. 0x95.
    #[error("packet of {size} bytes exceeds the maximum packet size {max}")]
    PacketTooLarge { size: usize, max: usize },
    /// A CONNECT for a protocol other than MQTT 3.1.1 or 5 (`level` is the Protocol Level
    /// byte; a wrong protocol name reports the level that follows it). 0x84. A 3.1.1 server
    /// must answer levels below 5 with CONNACK return code 1 (MQTT-3.1.2-2).
    #[error("unsupported protocol version (protocol level {level})")]
    UnsupportedProtocolVersion { level: u8 },
    /// A topic name that breaks MQTT-4.7 (a wildcard, U+0000, empty without a topic alias).
    /// 0x90.
    #[error("invalid topic name: {0}")]
    TopicNameInvalid(TopicError),
    /// A topic filter that breaks MQTT-4.7 or MQTT-4.8.2. 0x8F.
    #[error("invalid topic filter: {0}")]
    TopicFilterInvalid(TopicError),
}

impl DecodeError {
    /// The MQTT 5 reason code to report this error with.
    pub fn reason_code(&self) -> ReasonCode {
        match self {
            DecodeError::Malformed(_)
            | DecodeError::InvalidUtf8
            | DecodeError::UnknownProperty(_)
            | DecodeError::InvalidReasonCode { .. } => ReasonCode::MalformedPacket,
            DecodeError::ProtocolError(_)
            | DecodeError::DuplicateProperty(_)
            | DecodeError::PropertyNotAllowed { .. }
            | DecodeError::InvalidPropertyValue(_) => ReasonCode::ProtocolError,
            DecodeError::PacketTooLarge { .. } => ReasonCode::PacketTooLarge,
            DecodeError::UnsupportedProtocolVersion { .. } => {
                ReasonCode::UnsupportedProtocolVersion
            }
            DecodeError::TopicNameInvalid(_) => ReasonCode::TopicNameInvalid,
            DecodeError::TopicFilterInvalid(_) => ReasonCode::TopicFilterInvalid,
        }
    }
}

/// A packet the caller built cannot be sent: it would break the protocol or does not exist
/// in the connection's version. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The Remaining Length would exceed [`crate::MAX_REMAINING_LENGTH`].
    #[error("packet too large: remaining length {0} exceeds 268,435,455")]
    PacketTooLarge(usize),
    /// A string or binary field longer than 65,535 bytes.
    #[error("a string or binary field is longer than 65,535 bytes")]
    FieldTooLong,
    /// A string containing U+0000 (MQTT-1.5.4-2).
    #[error("a string contains U+0000")]
    InvalidString,
    /// A packet identifier of 0 where one is required (MQTT-2.2.1-3).
    #[error("packet identifier 0 where a non-zero one is required")]
    ZeroPacketId,
    #[error("property {property:?} is not allowed in {context}")]
    PropertyNotAllowed {
        property: PropertyId,
        context: &'static str,
    },
    #[error("property {0:?} has a value that is not allowed")]
    InvalidPropertyValue(PropertyId),
    #[error("reason code {code:?} is not valid in {packet:?}")]
    InvalidReasonCode {
        packet: PacketType,
        code: ReasonCode,
    },
    #[error("invalid topic name: {0}")]
    TopicNameInvalid(TopicError),
    #[error("invalid topic filter: {0}")]
    TopicFilterInvalid(TopicError),
    /// The packet cannot be expressed in the requested version (AUTH in 3.1.1, a CONNACK
    /// reason with no 3.1.1 return code, a CONNECT whose version differs from the one asked
    /// for).
    #[error("not expressible in this protocol version: {0}")]
    NotInVersion(&'static str),
    /// Any other rule the packet breaks; the message names it.
    #[error("invalid packet: {0}")]
    Invalid(&'static str),
    /// The output buffer cannot grow to hold the packet.
    #[error("output buffer too small: need {0} bytes")]
    BufferTooSmall(usize),
}
