//! PUBLISH (MQTT 5 §3.3, MQTT 3.1.1 §3.3).

use bytes::{BufMut, Bytes};

use super::{PacketType, check_packet_id, read_packet_id};
use crate::codec::{total_len, write_packet};
use crate::error::{DecodeError, EncodeError};
use crate::property::{self, Context, Properties};
use crate::topic::validate_topic_name;
use crate::types::{ProtocolVersion, QoS};
use crate::wire::{Reader, put_prefixed, str_len};

/// PUBLISH: an application message, in either direction.
///
/// The payload is a [`Bytes`], so fanning one message out to many subscribers clones a
/// reference, not the data. [`Publish::encode`] writes one without building a
/// [`crate::Packet`] around it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Publish {
    /// Only with QoS 1 or 2 (MQTT-3.3.1-2).
    pub dup: bool,
    pub qos: QoS,
    pub retain: bool,
    /// Empty only in MQTT 5 with a Topic Alias property (§3.3.2.1); resolving aliases needs
    /// the connection's alias table, which the broker keeps.
    pub topic: String,
    /// Ignored, and decoded as 0, for QoS 0 (which has no Packet Identifier).
    pub packet_id: u16,
    /// MQTT 5 only.
    pub properties: Properties,
    pub payload: Bytes,
}

// Fixed header flags (§3.3.1).
const DUP: u8 = 0x08;
const QOS_SHIFT: u8 = 1;
const RETAIN: u8 = 0x01;

impl Publish {
    /// This PUBLISH as a borrowed view, which is what is actually encoded.
    pub fn as_ref(&self) -> PublishRef<'_> {
        PublishRef {
            dup: self.dup,
            qos: self.qos,
            retain: self.retain,
            topic: &self.topic,
            packet_id: self.packet_id,
            properties: &self.properties,
            payload: &self.payload,
        }
    }

    pub(crate) fn flags(&self) -> u8 {
        self.as_ref().flags()
    }

    pub(crate) fn decode(
        flags: u8,
        r: &mut Reader<'_>,
        version: ProtocolVersion,
    ) -> Result<Publish, DecodeError> {
        let qos = QoS::from_bits((flags >> QOS_SHIFT) & 0x03)
            .ok_or(DecodeError::Malformed("PUBLISH with QoS 3 (MQTT-3.3.1-4)"))?;
        let dup = flags & DUP != 0;
        if dup && qos == QoS::AtMostOnce {
            return Err(DecodeError::Malformed(
                "DUP set on a QoS 0 PUBLISH (MQTT-3.3.1-2)",
            ));
        }
        let topic = r.str()?;
        let packet_id = if qos == QoS::AtMostOnce {
            0
        } else {
            read_packet_id(r)?
        };
        let properties = match version {
            ProtocolVersion::V5 => property::decode(r, Context::Publish)?,
            ProtocolVersion::V311 => Properties::default(),
        };
        match (topic.is_empty(), version) {
            (true, ProtocolVersion::V5) if properties.topic_alias.is_some() => {}
            (true, ProtocolVersion::V5) => {
                return Err(DecodeError::ProtocolError(
                    "empty topic name without a Topic Alias (MQTT 5 §3.3.2.1)",
                ));
            }
            _ => validate_topic_name(topic).map_err(DecodeError::TopicNameInvalid)?,
        }
        Ok(Publish {
            dup,
            qos,
            retain: flags & RETAIN != 0,
            topic: topic.to_owned(),
            packet_id,
            properties,
            payload: r.rest(),
        })
    }

    pub(crate) fn body_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        self.as_ref().body_len(version)
    }

    pub(crate) fn write(&self, version: ProtocolVersion, out: &mut impl BufMut) {
        self.as_ref().write(version, out)
    }

    /// Encodes this PUBLISH as [`crate::encode`] would encode `Packet::Publish(self)`.
    pub fn encode(
        &self,
        version: ProtocolVersion,
        out: &mut impl BufMut,
    ) -> Result<usize, EncodeError> {
        self.as_ref().encode(version, out)
    }

    /// The size [`Publish::encode`] would write, to compare with the receiver's Maximum
    /// Packet Size before sending (MQTT-3.1.2-24).
    pub fn encoded_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        self.as_ref().encoded_len(version)
    }
}

/// A PUBLISH made of borrowed parts: a broker sending one stored message to many
/// subscribers encodes it from its own fields, without building a [`Publish`] (and copying
/// its topic and properties) for each of them.
#[derive(Debug, Clone, Copy)]
pub struct PublishRef<'a> {
    pub dup: bool,
    pub qos: QoS,
    pub retain: bool,
    pub topic: &'a str,
    pub packet_id: u16,
    pub properties: &'a Properties,
    pub payload: &'a [u8],
}

impl PublishRef<'_> {
    fn flags(&self) -> u8 {
        let mut flags = (self.qos as u8) << QOS_SHIFT;
        if self.dup {
            flags |= DUP;
        }
        if self.retain {
            flags |= RETAIN;
        }
        flags
    }

    fn body_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        let v5 = version == ProtocolVersion::V5;
        if self.dup && self.qos == QoS::AtMostOnce {
            return Err(EncodeError::Invalid("DUP on a QoS 0 PUBLISH"));
        }
        let aliased = v5 && self.properties.topic_alias.is_some();
        if !(self.topic.is_empty() && aliased) {
            validate_topic_name(self.topic).map_err(EncodeError::TopicNameInvalid)?;
        }
        let mut len = str_len(self.topic)? + self.payload.len();
        if self.qos != QoS::AtMostOnce {
            check_packet_id(self.packet_id)?;
            len += 2;
        }
        if v5 {
            len += property::encoded_len(self.properties, Context::Publish)?;
        }
        Ok(len)
    }

    fn write(&self, version: ProtocolVersion, out: &mut impl BufMut) {
        put_prefixed(out, self.topic.as_bytes());
        if self.qos != QoS::AtMostOnce {
            out.put_u16(self.packet_id);
        }
        if version == ProtocolVersion::V5 {
            property::write(self.properties, out);
        }
        out.put_slice(self.payload);
    }

    /// Encodes the PUBLISH as [`Publish::encode`] does.
    pub fn encode(
        &self,
        version: ProtocolVersion,
        out: &mut impl BufMut,
    ) -> Result<usize, EncodeError> {
        let body = self.body_len(version)?;
        let first_byte = (PacketType::Publish as u8) << 4 | self.flags();
        write_packet(first_byte, body, out, |out| self.write(version, out))
    }

    /// The size [`PublishRef::encode`] would write.
    pub fn encoded_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        total_len(self.body_len(version)?)
    }
}
