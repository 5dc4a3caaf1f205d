//! SUBSCRIBE and SUBACK (MQTT 5 §3.8–§3.9, MQTT 3.1.1 §3.8–§3.9).

use bytes::BufMut;

use super::{PacketType, check_packet_id, check_reason, read_packet_id, read_reason};
use crate::error::{DecodeError, EncodeError};
use crate::property::{self, Context, Properties};
use crate::reason::ReasonCode;
use crate::topic::{parse_shared, validate_topic_filter};
use crate::types::{ProtocolVersion, QoS, RetainHandling};
use crate::wire::{Reader, put_prefixed, str_len};

/// SUBSCRIBE: one or more subscriptions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subscribe {
    pub packet_id: u16,
    /// At least one.
    pub subscriptions: Vec<Subscription>,
    /// MQTT 5 only: at most one Subscription Identifier, and user properties.
    pub properties: Properties,
}

/// A topic filter with its subscription options (MQTT 5 §3.8.3.1). In MQTT 3.1.1 only the
/// QoS exists; encoding as 3.1.1 leaves the other options out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subscription {
    /// Checked by [`crate::topic::validate_topic_filter`]; may be `$share/{name}/{filter}`.
    pub filter: String,
    /// The maximum QoS the client asks for.
    pub qos: QoS,
    /// Do not send the client its own messages. Not allowed on a shared subscription
    /// (MQTT-3.8.3-4).
    pub no_local: bool,
    pub retain_as_published: bool,
    pub retain_handling: RetainHandling,
}

// Subscription Options bits (§3.8.3.1).
const QOS_MASK: u8 = 0x03;
const NO_LOCAL: u8 = 0x04;
const RETAIN_AS_PUBLISHED: u8 = 0x08;
const RETAIN_HANDLING_SHIFT: u8 = 4;
const V5_RESERVED: u8 = 0xC0;
const V311_RESERVED: u8 = 0xFC;

impl Subscription {
    pub fn new(filter: impl Into<String>, qos: QoS) -> Subscription {
        Subscription {
            filter: filter.into(),
            qos,
            ..Subscription::default()
        }
    }

    fn decode(r: &mut Reader<'_>, version: ProtocolVersion) -> Result<Subscription, DecodeError> {
        let filter = r.str()?;
        validate_topic_filter(filter).map_err(DecodeError::TopicFilterInvalid)?;
        let options = r.u8()?;
        let reserved = match version {
            ProtocolVersion::V311 => V311_RESERVED,
            ProtocolVersion::V5 => V5_RESERVED,
        };
        if options & reserved != 0 {
            return Err(DecodeError::Malformed(
                "reserved bits set in the subscription options (§3.8.3.1)",
            ));
        }
        let qos = QoS::from_bits(options & QOS_MASK)
            .ok_or(DecodeError::Malformed("subscription with QoS 3 (§3.8.3.1)"))?;
        let retain_handling = RetainHandling::from_bits((options >> RETAIN_HANDLING_SHIFT) & 0x03)
            .ok_or(DecodeError::ProtocolError("Retain Handling 3 (§3.8.3.1)"))?;
        let no_local = options & NO_LOCAL != 0;
        if no_local && matches!(parse_shared(filter), Ok(Some(_))) {
            return Err(DecodeError::ProtocolError(
                "No Local on a shared subscription (MQTT-3.8.3-4)",
            ));
        }
        Ok(Subscription {
            filter: filter.to_owned(),
            qos,
            no_local,
            retain_as_published: options & RETAIN_AS_PUBLISHED != 0,
            retain_handling,
        })
    }

    fn options(&self, version: ProtocolVersion) -> u8 {
        let mut options = self.qos as u8;
        if version == ProtocolVersion::V5 {
            options |= (self.retain_handling as u8) << RETAIN_HANDLING_SHIFT;
            if self.no_local {
                options |= NO_LOCAL;
            }
            if self.retain_as_published {
                options |= RETAIN_AS_PUBLISHED;
            }
        }
        options
    }

    fn encoded_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        validate_topic_filter(&self.filter).map_err(EncodeError::TopicFilterInvalid)?;
        if version == ProtocolVersion::V5
            && self.no_local
            && matches!(parse_shared(&self.filter), Ok(Some(_)))
        {
            return Err(EncodeError::Invalid("No Local on a shared subscription"));
        }
        Ok(str_len(&self.filter)? + 1)
    }
}

impl Subscribe {
    pub(crate) fn decode(
        r: &mut Reader<'_>,
        version: ProtocolVersion,
    ) -> Result<Subscribe, DecodeError> {
        let packet_id = read_packet_id(r)?;
        let properties = match version {
            ProtocolVersion::V5 => property::decode(r, Context::Subscribe)?,
            ProtocolVersion::V311 => Properties::default(),
        };
        let mut subscriptions = Vec::new();
        while !r.is_empty() {
            subscriptions.push(Subscription::decode(r, version)?);
        }
        if subscriptions.is_empty() {
            return Err(DecodeError::ProtocolError(
                "SUBSCRIBE without a subscription (MQTT-3.8.3-2)",
            ));
        }
        Ok(Subscribe {
            packet_id,
            subscriptions,
            properties,
        })
    }

    pub(crate) fn body_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        check_packet_id(self.packet_id)?;
        if self.subscriptions.is_empty() {
            return Err(EncodeError::Invalid("SUBSCRIBE without a subscription"));
        }
        let mut len = 2;
        if version == ProtocolVersion::V5 {
            len += property::encoded_len(&self.properties, Context::Subscribe)?;
        }
        for sub in &self.subscriptions {
            len += sub.encoded_len(version)?;
        }
        Ok(len)
    }

    pub(crate) fn write(&self, version: ProtocolVersion, out: &mut impl BufMut) {
        out.put_u16(self.packet_id);
        if version == ProtocolVersion::V5 {
            property::write(&self.properties, out);
        }
        for sub in &self.subscriptions {
            put_prefixed(out, sub.filter.as_bytes());
            out.put_u8(sub.options(version));
        }
    }
}

/// SUBACK: one reason code per subscription, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubAck {
    pub packet_id: u16,
    /// MQTT 5 codes in both versions. MQTT 3.1.1 has only 0x00–0x02 and 0x80 (Failure):
    /// encoding as 3.1.1 sends every error code as 0x80, and decoding 3.1.1 gives
    /// [`ReasonCode::UnspecifiedError`] for it.
    pub reason_codes: Vec<ReasonCode>,
    /// MQTT 5 only.
    pub properties: Properties,
}

const V311_FAILURE: u8 = 0x80;

impl SubAck {
    pub(crate) fn decode(
        r: &mut Reader<'_>,
        version: ProtocolVersion,
    ) -> Result<SubAck, DecodeError> {
        let packet_id = read_packet_id(r)?;
        let properties = match version {
            ProtocolVersion::V5 => property::decode(r, Context::SubAck)?,
            ProtocolVersion::V311 => Properties::default(),
        };
        let mut reason_codes = Vec::with_capacity(r.remaining());
        while !r.is_empty() {
            let code = r.u8()?;
            // 3.1.1 allows 0x00, 0x01, 0x02 and 0x80 (MQTT-3.9.3-2), all MQTT 5 codes too.
            if version == ProtocolVersion::V311 && code > 0x02 && code != V311_FAILURE {
                return Err(DecodeError::InvalidReasonCode {
                    packet: PacketType::SubAck,
                    code,
                });
            }
            reason_codes.push(read_reason(code, PacketType::SubAck)?);
        }
        if reason_codes.is_empty() {
            return Err(DecodeError::ProtocolError("SUBACK without a reason code"));
        }
        Ok(SubAck {
            packet_id,
            reason_codes,
            properties,
        })
    }

    pub(crate) fn body_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        check_packet_id(self.packet_id)?;
        if self.reason_codes.is_empty() {
            return Err(EncodeError::Invalid("SUBACK without a reason code"));
        }
        for &code in &self.reason_codes {
            check_reason(code, PacketType::SubAck)?;
        }
        let mut len = 2 + self.reason_codes.len();
        if version == ProtocolVersion::V5 {
            len += property::encoded_len(&self.properties, Context::SubAck)?;
        }
        Ok(len)
    }

    pub(crate) fn write(&self, version: ProtocolVersion, out: &mut impl BufMut) {
        out.put_u16(self.packet_id);
        if version == ProtocolVersion::V5 {
            property::write(&self.properties, out);
        }
        for &code in &self.reason_codes {
            out.put_u8(match version {
                ProtocolVersion::V311 if code.is_error() => V311_FAILURE,
                _ => code as u8,
            });
        }
    }
}
