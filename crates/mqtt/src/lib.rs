//! MQTT 3.1.1 (protocol level 4) and MQTT 5 (level 5) packet codec, without I/O.
//!
//! The device gateway reads bytes from a connection, hands them to [`decode`] (or
//! [`decode_buf`], which slices payloads out of a `BytesMut` without copying) and writes
//! what [`encode`] produces. Both directions of every packet type are supported, so the same
//! code serves the broker and test clients.
//!
//! A decoded packet is well-formed: strings are valid MQTT UTF-8, topic names and filters
//! obey MQTT-4.7, properties are allowed in their packet and not repeated, reason codes are
//! allowed in their packet. Everything that needs session state (topic aliases, packet
//! identifiers in flight, receive maximum, a second CONNECT, authorisation) is the broker's
//! job. [`DecodeError::reason_code`] gives the MQTT 5 reason code to answer a bad packet with.
//!
//! [`encode`] checks the same rules, so the broker cannot send what a peer would reject, and
//! writes nothing when it fails.
//!
//! ```
//! use fleetward_mqtt::{Packet, ProtocolVersion, Publish, QoS, decode, encode};
//!
//! let publish = Publish {
//!     qos: QoS::AtLeastOnce,
//!     packet_id: 7,
//!     topic: "$aws/things/t1/defender/metrics/json".into(),
//!     payload: bytes::Bytes::from_static(b"{}"),
//!     ..Publish::default()
//! };
//! let mut wire = Vec::new();
//! encode(&Packet::Publish(publish.clone()), ProtocolVersion::V311, &mut wire)?;
//! let (packet, used) = decode(&wire, Some(ProtocolVersion::V311), 128 * 1024)?.unwrap();
//! assert_eq!(used, wire.len());
//! assert_eq!(packet, Packet::Publish(publish));
//! // Any prefix is simply not complete yet.
//! assert!(decode(&wire[..5], Some(ProtocolVersion::V311), 128 * 1024)?.is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod codec;
mod error;
mod packet;
mod property;
mod reason;
mod types;
mod wire;

pub mod topic;

pub use codec::{decode, decode_buf, encode, encoded_len};
pub use error::{DecodeError, EncodeError};
pub use packet::{
    Auth, ConnAck, Connect, Disconnect, Packet, PacketType, PubReply, Publish, PublishRef, SubAck,
    Subscribe, Subscription, UnsubAck, Unsubscribe, Will,
};
pub use property::{Properties, PropertyId};
pub use reason::{ConnectReturnCode, ReasonCode};
pub use types::{PayloadFormat, ProtocolVersion, QoS, RetainHandling};

/// The largest Remaining Length a packet can declare: four bytes of Variable Byte Integer
/// (MQTT 5 §1.5.5, MQTT 3.1.1 §2.2.3).
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;
