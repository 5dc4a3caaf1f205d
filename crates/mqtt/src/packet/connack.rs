//! CONNACK (MQTT 5 §3.2, MQTT 3.1.1 §3.2).

use bytes::BufMut;

use super::{PacketType, check_reason, read_reason};
use crate::error::{DecodeError, EncodeError};
use crate::property::{self, Context, Properties};
use crate::reason::{ConnectReturnCode, ReasonCode};
use crate::types::ProtocolVersion;
use crate::wire::Reader;

/// CONNACK: the server's answer to CONNECT.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnAck {
    /// Only with a successful connection (MQTT-3.2.2-6; 3.1.1: MQTT-3.2.2-4).
    pub session_present: bool,
    /// An MQTT 5 reason code in both versions. On a 3.1.1 connection it travels as the
    /// [`ConnectReturnCode`] that [`ConnectReturnCode::from_reason`] gives, and encoding fails
    /// if there is none.
    pub reason_code: ReasonCode,
    /// MQTT 5 only.
    pub properties: Properties,
}

const SESSION_PRESENT: u8 = 0x01;

impl ConnAck {
    pub(crate) fn decode(
        r: &mut Reader<'_>,
        version: ProtocolVersion,
    ) -> Result<ConnAck, DecodeError> {
        let flags = r.u8()?;
        if flags & !SESSION_PRESENT != 0 {
            return Err(DecodeError::Malformed(
                "CONNACK reserved flags are set (MQTT-3.2.2-1)",
            ));
        }
        let code = r.u8()?;
        let (reason_code, properties) = match version {
            ProtocolVersion::V311 => {
                let rc =
                    ConnectReturnCode::from_u8(code).ok_or(DecodeError::InvalidReasonCode {
                        packet: PacketType::ConnAck,
                        code,
                    })?;
                (ReasonCode::from(rc), Properties::default())
            }
            ProtocolVersion::V5 => (
                read_reason(code, PacketType::ConnAck)?,
                property::decode(r, Context::ConnAck)?,
            ),
        };
        let session_present = flags & SESSION_PRESENT != 0;
        if session_present && reason_code.is_error() {
            return Err(DecodeError::ProtocolError(
                "session present on a refused connection (MQTT-3.2.2-6)",
            ));
        }
        r.finish("bytes after the CONNACK properties")?;
        Ok(ConnAck {
            session_present,
            reason_code,
            properties,
        })
    }

    /// The byte that carries the reason: the reason code, or the 3.1.1 return code.
    fn code_byte(&self, version: ProtocolVersion) -> Result<u8, EncodeError> {
        match version {
            ProtocolVersion::V311 => ConnectReturnCode::from_reason(self.reason_code)
                .map(|rc| rc as u8)
                .ok_or(EncodeError::NotInVersion(
                    "no MQTT 3.1.1 CONNACK return code fits this reason; close without CONNACK",
                )),
            ProtocolVersion::V5 => {
                check_reason(self.reason_code, PacketType::ConnAck)?;
                Ok(self.reason_code as u8)
            }
        }
    }

    pub(crate) fn body_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        self.code_byte(version)?;
        if self.session_present && self.reason_code.is_error() {
            return Err(EncodeError::Invalid(
                "session present on a refused connection",
            ));
        }
        Ok(match version {
            ProtocolVersion::V311 => 2,
            ProtocolVersion::V5 => 2 + property::encoded_len(&self.properties, Context::ConnAck)?,
        })
    }

    pub(crate) fn write(&self, version: ProtocolVersion, out: &mut impl BufMut) {
        out.put_u8(if self.session_present {
            SESSION_PRESENT
        } else {
            0
        });
        out.put_u8(self.code_byte(version).unwrap_or(0));
        if version == ProtocolVersion::V5 {
            property::write(&self.properties, out);
        }
    }
}
