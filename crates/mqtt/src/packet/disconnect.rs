//! DISCONNECT (MQTT 5 §3.14, MQTT 3.1.1 §3.14) and AUTH (MQTT 5 §3.15): a reason code and
//! properties, both left out when the reason is 0x00 and there are no properties.

use bytes::BufMut;

use super::{PacketType, check_reason, read_reason};
use crate::error::{DecodeError, EncodeError};
use crate::property::{self, Context, Properties};
use crate::reason::ReasonCode;
use crate::types::ProtocolVersion;
use crate::wire::Reader;

/// DISCONNECT, from either side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Disconnect {
    /// MQTT 5 only; 3.1.1's DISCONNECT is empty and means a normal disconnection.
    pub reason_code: ReasonCode,
    /// MQTT 5 only.
    pub properties: Properties,
}

/// AUTH, for enhanced authentication (MQTT 5 only, §4.12).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Auth {
    pub reason_code: ReasonCode,
    pub properties: Properties,
}

/// Reads the optional reason and properties. MQTT 5 §3.14.2.1 and §3.15.2.1: a Remaining
/// Length of 0 means Success and no properties; a single byte is the reason alone
/// (§3.14.2.2.1 says so for DISCONNECT; AUTH is read the same way).
fn decode_tail(
    r: &mut Reader<'_>,
    kind: PacketType,
    context: Context,
) -> Result<(ReasonCode, Properties), DecodeError> {
    let mut reason = ReasonCode::Success;
    let mut properties = Properties::default();
    if !r.is_empty() {
        reason = read_reason(r.u8()?, kind)?;
        if !r.is_empty() {
            properties = property::decode(r, context)?;
        }
    }
    r.finish("bytes after the properties")?;
    Ok((reason, properties))
}

fn tail_len(
    reason: ReasonCode,
    properties: &Properties,
    kind: PacketType,
    context: Context,
) -> Result<usize, EncodeError> {
    check_reason(reason, kind)?;
    Ok(if !properties.is_empty() {
        1 + property::encoded_len(properties, context)?
    } else if reason != ReasonCode::Success {
        1
    } else {
        0
    })
}

fn write_tail(reason: ReasonCode, properties: &Properties, out: &mut impl BufMut) {
    if !properties.is_empty() {
        out.put_u8(reason as u8);
        property::write(properties, out);
    } else if reason != ReasonCode::Success {
        out.put_u8(reason as u8);
    }
}

impl Disconnect {
    pub fn new(reason_code: ReasonCode) -> Disconnect {
        Disconnect {
            reason_code,
            properties: Properties::default(),
        }
    }

    pub(crate) fn decode(
        r: &mut Reader<'_>,
        version: ProtocolVersion,
    ) -> Result<Disconnect, DecodeError> {
        if version == ProtocolVersion::V311 {
            r.finish("MQTT 3.1.1 DISCONNECT has no body")?;
            return Ok(Disconnect::default());
        }
        let (reason_code, properties) =
            decode_tail(r, PacketType::Disconnect, Context::Disconnect)?;
        Ok(Disconnect {
            reason_code,
            properties,
        })
    }

    pub(crate) fn body_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        match version {
            ProtocolVersion::V311 => Ok(0),
            ProtocolVersion::V5 => tail_len(
                self.reason_code,
                &self.properties,
                PacketType::Disconnect,
                Context::Disconnect,
            ),
        }
    }

    pub(crate) fn write(&self, version: ProtocolVersion, out: &mut impl BufMut) {
        if version == ProtocolVersion::V5 {
            write_tail(self.reason_code, &self.properties, out);
        }
    }
}

impl Auth {
    pub(crate) fn decode(
        r: &mut Reader<'_>,
        version: ProtocolVersion,
    ) -> Result<Auth, DecodeError> {
        if version == ProtocolVersion::V311 {
            // Packet type 15 is reserved in 3.1.1 (§2.2.1).
            return Err(DecodeError::Malformed("AUTH on an MQTT 3.1.1 connection"));
        }
        let (reason_code, properties) = decode_tail(r, PacketType::Auth, Context::Auth)?;
        Ok(Auth {
            reason_code,
            properties,
        })
    }

    pub(crate) fn body_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        match version {
            ProtocolVersion::V311 => Err(EncodeError::NotInVersion("AUTH is MQTT 5 only")),
            ProtocolVersion::V5 => tail_len(
                self.reason_code,
                &self.properties,
                PacketType::Auth,
                Context::Auth,
            ),
        }
    }

    pub(crate) fn write(&self, _version: ProtocolVersion, out: &mut impl BufMut) {
        write_tail(self.reason_code, &self.properties, out);
    }
}
