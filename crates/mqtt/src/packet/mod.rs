//! The fifteen control packets: their types, and the dispatch from a packet type to the
//! code that reads or writes its body.

mod connack;
mod connect;
mod disconnect;
mod publish;
mod pubreply;
mod subscribe;
mod unsubscribe;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod rejects;

use bytes::BufMut;

pub use connack::ConnAck;
pub use connect::{Connect, Will};
pub use disconnect::{Auth, Disconnect};
pub use publish::{Publish, PublishRef};
pub use pubreply::PubReply;
pub use subscribe::{SubAck, Subscribe, Subscription};
pub use unsubscribe::{UnsubAck, Unsubscribe};

use crate::error::{DecodeError, EncodeError};
use crate::reason::ReasonCode;
use crate::types::ProtocolVersion;
use crate::wire::Reader;

/// An MQTT control packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// Boxed: twice the size of any other packet (two property sets) and once per
    /// connection.
    Connect(Box<Connect>),
    ConnAck(ConnAck),
    Publish(Publish),
    PubAck(PubReply),
    PubRec(PubReply),
    PubRel(PubReply),
    PubComp(PubReply),
    Subscribe(Subscribe),
    SubAck(SubAck),
    Unsubscribe(Unsubscribe),
    UnsubAck(UnsubAck),
    PingReq,
    PingResp,
    Disconnect(Disconnect),
    /// MQTT 5 only.
    Auth(Auth),
}

/// The packet type, the high nibble of the first byte (§2.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    Connect = 1,
    ConnAck = 2,
    Publish = 3,
    PubAck = 4,
    PubRec = 5,
    PubRel = 6,
    PubComp = 7,
    Subscribe = 8,
    SubAck = 9,
    Unsubscribe = 10,
    UnsubAck = 11,
    PingReq = 12,
    PingResp = 13,
    Disconnect = 14,
    Auth = 15,
}

impl PacketType {
    /// The type with this value; 0 is reserved.
    pub fn from_u8(value: u8) -> Option<PacketType> {
        use PacketType as T;
        Some(match value {
            1 => T::Connect,
            2 => T::ConnAck,
            3 => T::Publish,
            4 => T::PubAck,
            5 => T::PubRec,
            6 => T::PubRel,
            7 => T::PubComp,
            8 => T::Subscribe,
            9 => T::SubAck,
            10 => T::Unsubscribe,
            11 => T::UnsubAck,
            12 => T::PingReq,
            13 => T::PingResp,
            14 => T::Disconnect,
            15 => T::Auth,
            _ => return None,
        })
    }

    /// The low nibble every packet but PUBLISH must carry (§2.1.3): 0b0010 for PUBREL,
    /// SUBSCRIBE and UNSUBSCRIBE, 0 for the rest.
    pub(crate) fn fixed_flags(self) -> Option<u8> {
        match self {
            PacketType::Publish => None,
            PacketType::PubRel | PacketType::Subscribe | PacketType::Unsubscribe => Some(0b0010),
            _ => Some(0),
        }
    }
}

impl Packet {
    pub fn packet_type(&self) -> PacketType {
        use PacketType as T;
        match self {
            Packet::Connect(_) => T::Connect,
            Packet::ConnAck(_) => T::ConnAck,
            Packet::Publish(_) => T::Publish,
            Packet::PubAck(_) => T::PubAck,
            Packet::PubRec(_) => T::PubRec,
            Packet::PubRel(_) => T::PubRel,
            Packet::PubComp(_) => T::PubComp,
            Packet::Subscribe(_) => T::Subscribe,
            Packet::SubAck(_) => T::SubAck,
            Packet::Unsubscribe(_) => T::Unsubscribe,
            Packet::UnsubAck(_) => T::UnsubAck,
            Packet::PingReq => T::PingReq,
            Packet::PingResp => T::PingResp,
            Packet::Disconnect(_) => T::Disconnect,
            Packet::Auth(_) => T::Auth,
        }
    }

    /// The first byte of the fixed header.
    pub(crate) fn first_byte(&self) -> u8 {
        let kind = self.packet_type();
        let flags = match self {
            Packet::Publish(p) => p.flags(),
            _ => kind.fixed_flags().unwrap_or(0),
        };
        (kind as u8) << 4 | flags
    }

    /// Checks the packet for `version` and returns its Remaining Length.
    pub(crate) fn body_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        let kind = self.packet_type();
        match self {
            Packet::Connect(p) => p.body_len(version),
            Packet::ConnAck(p) => p.body_len(version),
            Packet::Publish(p) => p.body_len(version),
            Packet::PubAck(p) | Packet::PubRec(p) | Packet::PubRel(p) | Packet::PubComp(p) => {
                p.body_len(kind, version)
            }
            Packet::Subscribe(p) => p.body_len(version),
            Packet::SubAck(p) => p.body_len(version),
            Packet::Unsubscribe(p) => p.body_len(version),
            Packet::UnsubAck(p) => p.body_len(version),
            Packet::PingReq | Packet::PingResp => Ok(0),
            Packet::Disconnect(p) => p.body_len(version),
            Packet::Auth(p) => p.body_len(version),
        }
    }

    /// Writes the body that [`Packet::body_len`] accepted.
    pub(crate) fn write_body(&self, version: ProtocolVersion, out: &mut impl BufMut) {
        match self {
            Packet::Connect(p) => p.write(version, out),
            Packet::ConnAck(p) => p.write(version, out),
            Packet::Publish(p) => p.write(version, out),
            Packet::PubAck(p) | Packet::PubRec(p) | Packet::PubRel(p) | Packet::PubComp(p) => {
                p.write(version, out)
            }
            Packet::Subscribe(p) => p.write(version, out),
            Packet::SubAck(p) => p.write(version, out),
            Packet::Unsubscribe(p) => p.write(version, out),
            Packet::UnsubAck(p) => p.write(version, out),
            Packet::PingReq | Packet::PingResp => {}
            Packet::Disconnect(p) => p.write(version, out),
            Packet::Auth(p) => p.write(version, out),
        }
    }
}

impl From<Connect> for Packet {
    fn from(p: Connect) -> Packet {
        Packet::Connect(Box::new(p))
    }
}

/// `From` for the packets that have a struct of their own (not the four that share
/// [`PubReply`]).
macro_rules! into_packet {
    ($($name:ident),*) => {$(
        impl From<$name> for Packet {
            fn from(p: $name) -> Packet {
                Packet::$name(p)
            }
        }
    )*};
}

into_packet!(
    ConnAck,
    Publish,
    Subscribe,
    SubAck,
    Unsubscribe,
    UnsubAck,
    Disconnect,
    Auth
);

/// Reads the body of a packet whose fixed header has been checked. `version` is `None`
/// only for the CONNECT that opens a connection; CONNECT names its own version.
pub(crate) fn decode_body(
    kind: PacketType,
    flags: u8,
    r: &mut Reader<'_>,
    version: Option<ProtocolVersion>,
) -> Result<Packet, DecodeError> {
    let v = || {
        version.ok_or(DecodeError::ProtocolError(
            "the first packet must be CONNECT (MQTT-3.1.0-1)",
        ))
    };
    use PacketType as T;
    Ok(match kind {
        T::Connect => Packet::Connect(Box::new(Connect::decode(r)?)),
        T::ConnAck => Packet::ConnAck(ConnAck::decode(r, v()?)?),
        T::Publish => Packet::Publish(Publish::decode(flags, r, v()?)?),
        T::PubAck => Packet::PubAck(PubReply::decode(kind, r, v()?)?),
        T::PubRec => Packet::PubRec(PubReply::decode(kind, r, v()?)?),
        T::PubRel => Packet::PubRel(PubReply::decode(kind, r, v()?)?),
        T::PubComp => Packet::PubComp(PubReply::decode(kind, r, v()?)?),
        T::Subscribe => Packet::Subscribe(Subscribe::decode(r, v()?)?),
        T::SubAck => Packet::SubAck(SubAck::decode(r, v()?)?),
        T::Unsubscribe => Packet::Unsubscribe(Unsubscribe::decode(r, v()?)?),
        T::UnsubAck => Packet::UnsubAck(UnsubAck::decode(r, v()?)?),
        T::PingReq => {
            r.finish("PINGREQ has no body")?;
            Packet::PingReq
        }
        T::PingResp => {
            r.finish("PINGRESP has no body")?;
            Packet::PingResp
        }
        T::Disconnect => Packet::Disconnect(Disconnect::decode(r, v()?)?),
        T::Auth => Packet::Auth(Auth::decode(r, v()?)?),
    })
}

/// A Packet Identifier where one is required: never 0 (MQTT-2.2.1-3).
pub(crate) fn read_packet_id(r: &mut Reader<'_>) -> Result<u16, DecodeError> {
    match r.u16()? {
        0 => Err(DecodeError::ProtocolError("packet identifier 0")),
        id => Ok(id),
    }
}

pub(crate) fn check_packet_id(id: u16) -> Result<(), EncodeError> {
    if id == 0 {
        Err(EncodeError::ZeroPacketId)
    } else {
        Ok(())
    }
}

/// An MQTT 5 reason code byte that `packet` allows.
pub(crate) fn read_reason(code: u8, packet: PacketType) -> Result<ReasonCode, DecodeError> {
    ReasonCode::from_u8(code)
        .filter(|r| r.allowed_in(packet))
        .ok_or(DecodeError::InvalidReasonCode { packet, code })
}

pub(crate) fn check_reason(code: ReasonCode, packet: PacketType) -> Result<(), EncodeError> {
    if code.allowed_in(packet) {
        Ok(())
    } else {
        Err(EncodeError::InvalidReasonCode { packet, code })
    }
}
