//! PUBACK, PUBREC, PUBREL and PUBCOMP (MQTT 5 §3.4–§3.7, MQTT 3.1.1 §3.4–§3.7): the
//! QoS 1 and QoS 2 flows. The four share one layout.

use bytes::BufMut;

use super::{PacketType, check_packet_id, check_reason, read_packet_id, read_reason};
use crate::error::{DecodeError, EncodeError};
use crate::property::{self, Context, Properties};
use crate::reason::ReasonCode;
use crate::types::ProtocolVersion;
use crate::wire::Reader;

/// The body of PUBACK, PUBREC, PUBREL and PUBCOMP; [`crate::Packet`]'s variant says which.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PubReply {
    pub packet_id: u16,
    /// MQTT 5 only: 3.1.1 has no reason here, and encoding as 3.1.1 leaves it out.
    pub reason_code: ReasonCode,
    /// MQTT 5 only.
    pub properties: Properties,
}

fn context(kind: PacketType) -> Context {
    match kind {
        PacketType::PubAck => Context::PubAck,
        PacketType::PubRec => Context::PubRec,
        PacketType::PubRel => Context::PubRel,
        _ => Context::PubComp,
    }
}

impl PubReply {
    /// A successful reply for `packet_id`.
    pub fn new(packet_id: u16) -> PubReply {
        PubReply {
            packet_id,
            ..PubReply::default()
        }
    }

    pub(crate) fn decode(
        kind: PacketType,
        r: &mut Reader<'_>,
        version: ProtocolVersion,
    ) -> Result<PubReply, DecodeError> {
        let packet_id = read_packet_id(r)?;
        let mut reply = PubReply::new(packet_id);
        // MQTT 5 §3.4.2.1, §3.4.2.2.1: a Remaining Length of 2 means Success and no
        // properties; of 3, a reason and no properties.
        if version == ProtocolVersion::V5 && !r.is_empty() {
            reply.reason_code = read_reason(r.u8()?, kind)?;
            if !r.is_empty() {
                reply.properties = property::decode(r, context(kind))?;
            }
        }
        r.finish("bytes after the packet identifier and reason")?;
        Ok(reply)
    }

    /// Whether the short MQTT 5 forms apply: (reason present, properties present).
    fn parts(&self) -> (bool, bool) {
        let props = !self.properties.is_empty();
        (props || self.reason_code != ReasonCode::Success, props)
    }

    pub(crate) fn body_len(
        &self,
        kind: PacketType,
        version: ProtocolVersion,
    ) -> Result<usize, EncodeError> {
        check_packet_id(self.packet_id)?;
        if version == ProtocolVersion::V311 {
            return Ok(2);
        }
        check_reason(self.reason_code, kind)?;
        Ok(match self.parts() {
            (_, true) => 3 + property::encoded_len(&self.properties, context(kind))?,
            (true, false) => 3,
            (false, false) => 2,
        })
    }

    pub(crate) fn write(&self, version: ProtocolVersion, out: &mut impl BufMut) {
        out.put_u16(self.packet_id);
        if version == ProtocolVersion::V311 {
            return;
        }
        let (reason, props) = self.parts();
        if reason {
            out.put_u8(self.reason_code as u8);
        }
        if props {
            property::write(&self.properties, out);
        }
    }
}
