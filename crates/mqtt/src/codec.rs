//! Framing: the fixed header (§2.1), and the public decode and encode entry points.

use bytes::{BufMut, Bytes, BytesMut};

use crate::MAX_REMAINING_LENGTH;
use crate::error::{DecodeError, EncodeError};
use crate::packet::{Packet, PacketType, decode_body};
use crate::types::ProtocolVersion;
use crate::wire::{Reader, put_varint, read_varint, varint_len};

/// A complete packet's place in the buffer.
struct Frame {
    kind: PacketType,
    flags: u8,
    header_len: usize,
    total_len: usize,
}

/// Reads the fixed header at the front of `buf`. Fails as soon as the first byte is
/// wrong or the Remaining Length exceeds `max_packet_size`, without waiting for the body;
/// `Ok(None)` means the packet is not complete yet.
fn frame(
    buf: &[u8],
    version: Option<ProtocolVersion>,
    max_packet_size: usize,
) -> Result<Option<Frame>, DecodeError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let kind = PacketType::from_u8(first >> 4)
        .ok_or(DecodeError::Malformed("packet type 0 is reserved"))?;
    let flags = first & 0x0F;
    match version {
        None if kind != PacketType::Connect => {
            return Err(DecodeError::ProtocolError(
                "the first packet must be CONNECT (MQTT-3.1.0-1)",
            ));
        }
        Some(ProtocolVersion::V311) if kind == PacketType::Auth => {
            return Err(DecodeError::Malformed(
                "packet type 15 is reserved in MQTT 3.1.1",
            ));
        }
        _ => {}
    }
    if kind.fixed_flags().is_some_and(|expected| flags != expected) {
        return Err(DecodeError::Malformed(
            "wrong flags in the fixed header (§2.1.3)",
        ));
    }
    let Some((remaining, len_bytes)) = read_varint(&buf[1..])? else {
        return Ok(None);
    };
    let header_len = 1 + len_bytes;
    let total_len = header_len + remaining as usize;
    // The Maximum Packet Size counts the whole packet, fixed header included (§3.1.2.11.4).
    if total_len > max_packet_size {
        return Err(DecodeError::PacketTooLarge {
            size: total_len,
            max: max_packet_size,
        });
    }
    if buf.len() < total_len {
        return Ok(None);
    }
    Ok(Some(Frame {
        kind,
        flags,
        header_len,
        total_len,
    }))
}

/// Decodes one packet from the front of `buf`.
///
/// `Ok(None)`: `buf` holds only part of a packet; call again with more bytes. `Ok(Some((p,
/// n)))`: `p` took the first `n` bytes. `version` is `None` until the connection's CONNECT
/// has been read; then only CONNECT is accepted, and it names the version to pass from
/// then on. A CONNECT is always read by the version it names (a second one is a Protocol
/// Error for the broker to catch, MQTT-3.1.0-2). A packet larger than `max_packet_size` bytes (fixed header included) fails with
/// [`DecodeError::PacketTooLarge`] as soon as its fixed header is in, so a peer cannot make
/// the caller buffer it.
///
/// Binary fields and the payload are copied out of `buf`; [`decode_buf`] avoids the copy.
pub fn decode(
    buf: &[u8],
    version: Option<ProtocolVersion>,
    max_packet_size: usize,
) -> Result<Option<(Packet, usize)>, DecodeError> {
    let Some(f) = frame(buf, version, max_packet_size)? else {
        return Ok(None);
    };
    let mut r = Reader::new(&buf[f.header_len..f.total_len]);
    let packet = decode_body(f.kind, f.flags, &mut r, version)?;
    Ok(Some((packet, f.total_len)))
}

/// Like [`decode`], but takes the packet's bytes off the front of `buf` and shares them
/// with the decoded payload and binary fields instead of copying.
///
/// After an error the connection must be closed (MQTT 5 §4.13); what is left in `buf` is
/// unspecified.
pub fn decode_buf(
    buf: &mut BytesMut,
    version: Option<ProtocolVersion>,
    max_packet_size: usize,
) -> Result<Option<Packet>, DecodeError> {
    let Some(f) = frame(buf, version, max_packet_size)? else {
        return Ok(None);
    };
    let body: Bytes = buf.split_to(f.total_len).freeze().slice(f.header_len..);
    let mut r = Reader::from_bytes(&body);
    decode_body(f.kind, f.flags, &mut r, version).map(Some)
}

/// Encodes `packet` for a connection speaking `version` and returns the bytes written.
///
/// The packet is checked first with the rules [`decode`] applies, and nothing is written
/// if it breaks one. Encoding as MQTT 3.1.1 leaves out what 3.1.1 cannot carry: properties,
/// the reason codes of PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK and DISCONNECT, and the
/// subscription options other than QoS; SUBACK error codes become 0x80 and CONNACK reason
/// codes become return codes (see [`crate::ConnectReturnCode::from_reason`]).
pub fn encode(
    packet: &Packet,
    version: ProtocolVersion,
    out: &mut impl BufMut,
) -> Result<usize, EncodeError> {
    let body = packet.body_len(version)?;
    write_packet(packet.first_byte(), body, out, |out| {
        packet.write_body(version, out)
    })
}

/// The number of bytes [`encode`] would write, to compare with the peer's Maximum Packet
/// Size before sending (MQTT-3.1.2-24, MQTT-3.2.2-15).
pub fn encoded_len(packet: &Packet, version: ProtocolVersion) -> Result<usize, EncodeError> {
    total_len(packet.body_len(version)?)
}

/// Whole packet size for a Remaining Length, or an error if it cannot be expressed.
pub(crate) fn total_len(body_len: usize) -> Result<usize, EncodeError> {
    if body_len > MAX_REMAINING_LENGTH {
        return Err(EncodeError::PacketTooLarge(body_len));
    }
    Ok(1 + varint_len(body_len) + body_len)
}

/// Writes the fixed header, then the body with `write_body`, once the body is known to fit.
pub(crate) fn write_packet<B: BufMut>(
    first_byte: u8,
    body_len: usize,
    out: &mut B,
    write_body: impl FnOnce(&mut B),
) -> Result<usize, EncodeError> {
    let total = total_len(body_len)?;
    if out.remaining_mut() < total {
        return Err(EncodeError::BufferTooSmall(total));
    }
    out.put_u8(first_byte);
    put_varint(out, body_len);
    write_body(out);
    Ok(total)
}
