//! CONNECT (MQTT 5 §3.1, MQTT 3.1.1 §3.1).

use bytes::{BufMut, Bytes};

use crate::error::{DecodeError, EncodeError};
use crate::property::{self, Context, Properties};
use crate::topic::validate_topic_name;
use crate::types::{ProtocolVersion, QoS};
use crate::wire::{Reader, bin_len, put_prefixed, str_len};

/// CONNECT: the first packet of every connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// Decoded from the Protocol Level; on encoding it must equal the version asked for.
    pub protocol_version: ProtocolVersion,
    /// Clean Start in MQTT 5, Clean Session in 3.1.1.
    pub clean_start: bool,
    /// Seconds; 0 turns keep-alive off.
    pub keep_alive: u16,
    /// May be empty. Whether an empty or unusual identifier is accepted is the server's
    /// decision (MQTT-3.1.3-6 to -8), not the codec's.
    pub client_id: String,
    pub will: Option<Will>,
    pub username: Option<String>,
    pub password: Option<Bytes>,
    pub properties: Properties,
}

/// The will message of a CONNECT.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Will {
    pub topic: String,
    pub payload: Bytes,
    pub qos: QoS,
    pub retain: bool,
    /// MQTT 5 only.
    pub properties: Properties,
}

// Connect Flags bits (§3.1.2.3).
const RESERVED: u8 = 0x01;
const CLEAN_START: u8 = 0x02;
const WILL: u8 = 0x04;
const WILL_QOS_SHIFT: u8 = 3;
const WILL_RETAIN: u8 = 0x20;
const PASSWORD: u8 = 0x40;
const USERNAME: u8 = 0x80;

const PROTOCOL_NAME: &[u8] = b"MQTT";

impl Connect {
    /// A CONNECT with a clean start, a 60 second keep-alive and nothing else.
    pub fn new(protocol_version: ProtocolVersion, client_id: impl Into<String>) -> Connect {
        Connect {
            protocol_version,
            clean_start: true,
            keep_alive: 60,
            client_id: client_id.into(),
            will: None,
            username: None,
            password: None,
            properties: Properties::default(),
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Connect, DecodeError> {
        let name = r.prefixed()?;
        let level = r.u8()?;
        let protocol_version = match (name, level) {
            (PROTOCOL_NAME, 4) => ProtocolVersion::V311,
            (PROTOCOL_NAME, 5) => ProtocolVersion::V5,
            // MQTT 3.1 ("MQIsdp", level 3) and anything else.
            _ => return Err(DecodeError::UnsupportedProtocolVersion { level }),
        };
        let v5 = protocol_version == ProtocolVersion::V5;

        let flags = r.u8()?;
        if flags & RESERVED != 0 {
            return Err(DecodeError::Malformed(
                "CONNECT reserved flag is set (MQTT-3.1.2-3)",
            ));
        }
        let has_will = flags & WILL != 0;
        let will_qos = QoS::from_bits((flags >> WILL_QOS_SHIFT) & 0x03)
            .ok_or(DecodeError::Malformed("will QoS 3 (MQTT-3.1.2-12)"))?;
        let will_retain = flags & WILL_RETAIN != 0;
        if !has_will && (will_qos != QoS::AtMostOnce || will_retain) {
            return Err(DecodeError::Malformed(
                "will QoS or will retain set without a will (MQTT-3.1.2-11, -13)",
            ));
        }
        let has_password = flags & PASSWORD != 0;
        let has_username = flags & USERNAME != 0;
        // MQTT 5 lets a password come without a user name (§3.1.2.9); 3.1.1 does not.
        if !v5 && has_password && !has_username {
            return Err(DecodeError::Malformed(
                "password without a user name (MQTT 3.1.1 MQTT-3.1.2-22)",
            ));
        }
        let keep_alive = r.u16()?;
        let properties = if v5 {
            property::decode(r, Context::Connect)?
        } else {
            Properties::default()
        };

        let client_id = r.string()?;
        let will = if has_will {
            let properties = if v5 {
                property::decode(r, Context::Will)?
            } else {
                Properties::default()
            };
            let topic = r.str()?;
            validate_topic_name(topic).map_err(DecodeError::TopicNameInvalid)?;
            Some(Will {
                topic: topic.to_owned(),
                payload: r.binary()?,
                qos: will_qos,
                retain: will_retain,
                properties,
            })
        } else {
            None
        };
        let username = if has_username {
            Some(r.string()?)
        } else {
            None
        };
        let password = if has_password {
            Some(r.binary()?)
        } else {
            None
        };
        r.finish("bytes after the CONNECT payload")?;
        Ok(Connect {
            protocol_version,
            clean_start: flags & CLEAN_START != 0,
            keep_alive,
            client_id,
            will,
            username,
            password,
            properties,
        })
    }

    fn flags(&self) -> u8 {
        let mut flags = 0;
        if self.clean_start {
            flags |= CLEAN_START;
        }
        if let Some(will) = &self.will {
            flags |= WILL | (will.qos as u8) << WILL_QOS_SHIFT;
            if will.retain {
                flags |= WILL_RETAIN;
            }
        }
        if self.password.is_some() {
            flags |= PASSWORD;
        }
        if self.username.is_some() {
            flags |= USERNAME;
        }
        flags
    }

    pub(crate) fn body_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        if self.protocol_version != version {
            return Err(EncodeError::NotInVersion(
                "CONNECT names another protocol version",
            ));
        }
        let v5 = version == ProtocolVersion::V5;
        if !v5 && self.password.is_some() && self.username.is_none() {
            return Err(EncodeError::NotInVersion(
                "MQTT 3.1.1 allows a password only with a user name",
            ));
        }
        // Protocol Name, Level, Connect Flags, Keep Alive.
        let mut len = 2 + PROTOCOL_NAME.len() + 1 + 1 + 2;
        if v5 {
            len += property::encoded_len(&self.properties, Context::Connect)?;
        }
        len += str_len(&self.client_id)?;
        if let Some(will) = &self.will {
            if v5 {
                len += property::encoded_len(&will.properties, Context::Will)?;
            }
            validate_topic_name(&will.topic).map_err(EncodeError::TopicNameInvalid)?;
            len += str_len(&will.topic)? + bin_len(&will.payload)?;
        }
        if let Some(username) = &self.username {
            len += str_len(username)?;
        }
        if let Some(password) = &self.password {
            len += bin_len(password)?;
        }
        Ok(len)
    }

    pub(crate) fn write(&self, version: ProtocolVersion, out: &mut impl BufMut) {
        let v5 = version == ProtocolVersion::V5;
        put_prefixed(out, PROTOCOL_NAME);
        out.put_u8(version.level());
        out.put_u8(self.flags());
        out.put_u16(self.keep_alive);
        if v5 {
            property::write(&self.properties, out);
        }
        put_prefixed(out, self.client_id.as_bytes());
        if let Some(will) = &self.will {
            if v5 {
                property::write(&will.properties, out);
            }
            put_prefixed(out, will.topic.as_bytes());
            put_prefixed(out, &will.payload);
        }
        if let Some(username) = &self.username {
            put_prefixed(out, username.as_bytes());
        }
        if let Some(password) = &self.password {
            put_prefixed(out, password);
        }
    }
}
