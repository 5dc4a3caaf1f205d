//! UNSUBSCRIBE and UNSUBACK (MQTT 5 §3.10–§3.11, MQTT 3.1.1 §3.10–§3.11).

use bytes::BufMut;

use super::{PacketType, check_packet_id, check_reason, read_packet_id, read_reason};
use crate::error::{DecodeError, EncodeError};
use crate::property::{self, Context, Properties};
use crate::reason::ReasonCode;
use crate::topic::validate_topic_filter;
use crate::types::ProtocolVersion;
use crate::wire::{Reader, put_prefixed, str_len};

/// UNSUBSCRIBE: one or more topic filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unsubscribe {
    pub packet_id: u16,
    /// At least one.
    pub filters: Vec<String>,
    /// MQTT 5 only: user properties.
    pub properties: Properties,
}

impl Unsubscribe {
    pub(crate) fn decode(
        r: &mut Reader<'_>,
        version: ProtocolVersion,
    ) -> Result<Unsubscribe, DecodeError> {
        let packet_id = read_packet_id(r)?;
        let properties = match version {
            ProtocolVersion::V5 => property::decode(r, Context::Unsubscribe)?,
            ProtocolVersion::V311 => Properties::default(),
        };
        let mut filters = Vec::new();
        while !r.is_empty() {
            let filter = r.str()?;
            validate_topic_filter(filter).map_err(DecodeError::TopicFilterInvalid)?;
            filters.push(filter.to_owned());
        }
        if filters.is_empty() {
            return Err(DecodeError::ProtocolError(
                "UNSUBSCRIBE without a topic filter (MQTT-3.10.3-2)",
            ));
        }
        Ok(Unsubscribe {
            packet_id,
            filters,
            properties,
        })
    }

    pub(crate) fn body_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        check_packet_id(self.packet_id)?;
        if self.filters.is_empty() {
            return Err(EncodeError::Invalid("UNSUBSCRIBE without a topic filter"));
        }
        let mut len = 2;
        if version == ProtocolVersion::V5 {
            len += property::encoded_len(&self.properties, Context::Unsubscribe)?;
        }
        for filter in &self.filters {
            validate_topic_filter(filter).map_err(EncodeError::TopicFilterInvalid)?;
            len += str_len(filter)?;
        }
        Ok(len)
    }

    pub(crate) fn write(&self, version: ProtocolVersion, out: &mut impl BufMut) {
        out.put_u16(self.packet_id);
        if version == ProtocolVersion::V5 {
            property::write(&self.properties, out);
        }
        for filter in &self.filters {
            put_prefixed(out, filter.as_bytes());
        }
    }
}

/// UNSUBACK.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnsubAck {
    pub packet_id: u16,
    /// MQTT 5: one per topic filter, in order, at least one. MQTT 3.1.1 has none: they
    /// decode as empty and encoding as 3.1.1 leaves them out.
    pub reason_codes: Vec<ReasonCode>,
    /// MQTT 5 only.
    pub properties: Properties,
}

impl UnsubAck {
    pub(crate) fn decode(
        r: &mut Reader<'_>,
        version: ProtocolVersion,
    ) -> Result<UnsubAck, DecodeError> {
        let packet_id = read_packet_id(r)?;
        let mut ack = UnsubAck {
            packet_id,
            ..UnsubAck::default()
        };
        if version == ProtocolVersion::V311 {
            r.finish("bytes after the UNSUBACK packet identifier")?;
            return Ok(ack);
        }
        ack.properties = property::decode(r, Context::UnsubAck)?;
        ack.reason_codes.reserve(r.remaining());
        while !r.is_empty() {
            ack.reason_codes
                .push(read_reason(r.u8()?, PacketType::UnsubAck)?);
        }
        if ack.reason_codes.is_empty() {
            return Err(DecodeError::ProtocolError("UNSUBACK without a reason code"));
        }
        Ok(ack)
    }

    pub(crate) fn body_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        check_packet_id(self.packet_id)?;
        if version == ProtocolVersion::V311 {
            return Ok(2);
        }
        if self.reason_codes.is_empty() {
            return Err(EncodeError::Invalid("UNSUBACK without a reason code"));
        }
        for &code in &self.reason_codes {
            check_reason(code, PacketType::UnsubAck)?;
        }
        Ok(
            2 + property::encoded_len(&self.properties, Context::UnsubAck)?
                + self.reason_codes.len(),
        )
    }

    pub(crate) fn write(&self, version: ProtocolVersion, out: &mut impl BufMut) {
        out.put_u16(self.packet_id);
        if version == ProtocolVersion::V5 {
            property::write(&self.properties, out);
            for &code in &self.reason_codes {
                out.put_u8(code as u8);
            }
        }
    }
}
