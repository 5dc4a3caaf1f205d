//! Moving packets between a connection's socket and the broker: the reader's framing and
//! the writer task that drains the connection's outbox.
//!
//! Buffers start small and shrink back after a burst: most of a fleet's connections sit
//! idle, and per-connection memory is what limits how many one node holds.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use fleetward_mqtt::{
    Disconnect, Packet, Properties, ProtocolVersion, PublishRef, QoS, ReasonCode, decode_buf,
    encode,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::broker::Message;
use crate::limits::MAX_PACKET_BYTES;
use crate::outbox::{Outbound, Outbox};

/// Read size while no packet is partly read: enough for the small packets idle devices
/// send (PINGREQ, short publishes) without holding kilobytes per connection.
const SMALL_READ: usize = 256;
/// Read size in the middle of a packet: busy connections grow their buffer to this.
const LARGE_READ: usize = 4096;
/// A read buffer larger than this (after a large packet) is let go between packets.
const LARGEST_KEPT: usize = 16 * 1024;
/// A writer batches up to this much before writing.
const WRITE_BATCH: usize = 64 * 1024;
/// How long a closing connection's last bytes may take to go out.
const CLOSE_WRITE_WAIT: Duration = Duration::from_secs(1);

/// Reads until one packet is complete; `Ok(None)` at end of stream; `Err` carries the reason
/// code to close with.
pub async fn read_packet<R: AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut BytesMut,
    version: Option<ProtocolVersion>,
) -> Result<Option<Packet>, ReasonCode> {
    loop {
        match decode_buf(buf, version, MAX_PACKET_BYTES) {
            Ok(Some(packet)) => return Ok(Some(packet)),
            Ok(None) => {}
            Err(e) => {
                tracing::debug!(error = %e, "Bad MQTT packet.");
                return Err(e.reason_code());
            }
        }
        if buf.is_empty() && buf.capacity() > LARGEST_KEPT {
            // Between packets: let a large allocation go (a payload may still share it).
            *buf = BytesMut::new();
        }
        buf.reserve(if buf.is_empty() {
            SMALL_READ
        } else {
            LARGE_READ
        });
        match reader.read_buf(buf).await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(_) => {}
        }
    }
}

/// Writes one packet straight to the socket (before the writer task exists).
pub async fn send_now<W: AsyncWrite + Unpin>(
    writer: &mut W,
    version: ProtocolVersion,
    packet: Packet,
) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(64);
    encode(&packet, version, &mut out).map_err(|e| std::io::Error::other(e.to_string()))?;
    writer.write_all(&out).await?;
    writer.flush().await
}

/// The writer task: encodes what the connection is asked to send, batching writes, until
/// the outbox is closed or every sender is gone. Returns the QoS 1 deliveries it never
/// wrote (still queued at the close); those it wrote are the outbox's unacknowledged ones.
pub async fn write_loop<W: AsyncWrite + Unpin>(
    mut writer: W,
    mut rx: mpsc::Receiver<Outbound>,
    outbox: Arc<Outbox>,
    version: ProtocolVersion,
    clock: Arc<dyn fleetward_model::Clock>,
) -> Vec<Arc<Message>> {
    let mut encoder = Encoder {
        version,
        clock,
        next_packet_id: 0,
        outbox: outbox.clone(),
    };
    let mut out = Vec::new();
    loop {
        let first = tokio::select! {
            biased;
            _ = outbox.closed() => break,
            item = rx.recv() => match item {
                Some(item) => item,
                None => {
                    let _ = writer.shutdown().await;
                    return Vec::new();
                }
            },
        };
        encoder.encode(first, &mut out);
        while out.len() < WRITE_BATCH {
            match rx.try_recv() {
                Ok(item) => encoder.encode(item, &mut out),
                Err(_) => break,
            }
        }
        if rx.is_empty() {
            outbox.drained();
        }
        let written = {
            let write = write_all(&mut writer, &out);
            tokio::pin!(write);
            tokio::select! {
                biased;
                written = &mut write => written,
                // A client that stopped reading must not keep a closed connection open.
                _ = outbox.closed() => tokio::time::timeout(CLOSE_WRITE_WAIT, write)
                    .await
                    .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into())),
            }
        };
        if written.is_err() {
            outbox.close(ReasonCode::UnspecifiedError, "CONNECTION_LOST");
            return unwritten(&mut rx);
        }
        out.clear();
        if out.capacity() > WRITE_BATCH {
            out.shrink_to(WRITE_BATCH);
        }
    }
    // Closed: send what was queued before the close, then (MQTT 5) why, then end.
    while out.len() < WRITE_BATCH {
        match rx.try_recv() {
            Ok(item) => encoder.encode(item, &mut out),
            Err(_) => break,
        }
    }
    let reason_code = outbox.why().map_or(ReasonCode::Success, |w| w.0);
    if version == ProtocolVersion::V5 && reason_code != ReasonCode::Success {
        let _ = encode(
            &Packet::Disconnect(Disconnect {
                reason_code,
                properties: Properties::default(),
            }),
            version,
            &mut out,
        );
    }
    let _ = tokio::time::timeout(CLOSE_WRITE_WAIT, async {
        let _ = writer.write_all(&out).await;
        let _ = writer.shutdown().await;
    })
    .await;
    unwritten(&mut rx)
}

/// The QoS 1 deliveries left in a closed connection's queue.
fn unwritten(rx: &mut mpsc::Receiver<Outbound>) -> Vec<Arc<Message>> {
    rx.close();
    let mut left = Vec::new();
    while let Ok(item) = rx.try_recv() {
        if let Outbound::Deliver(message) = item
            && message.qos == QoS::AtLeastOnce
        {
            left.push(message);
        }
    }
    left
}

async fn write_all<W: AsyncWrite + Unpin>(writer: &mut W, bytes: &[u8]) -> std::io::Result<()> {
    writer.write_all(bytes).await?;
    writer.flush().await
}

/// Encodes outbound items for one connection, numbering its QoS 1 deliveries.
struct Encoder {
    version: ProtocolVersion,
    clock: Arc<dyn fleetward_model::Clock>,
    next_packet_id: u16,
    /// Where written QoS 1 deliveries are remembered until acknowledged.
    outbox: Arc<Outbox>,
}

impl Encoder {
    fn encode(&mut self, item: Outbound, out: &mut Vec<u8>) {
        match item {
            Outbound::Packet(packet) => {
                let _ = encode(&packet, self.version, out);
            }
            Outbound::Deliver(message) => {
                if let Some(packet_id) = self.encode_delivery(&message, out) {
                    self.outbox.written_unacked(packet_id, message);
                }
            }
        }
    }

    /// Encodes a delivery; its packet id if it is QoS 1 (`None` also when it expired).
    fn encode_delivery(&mut self, message: &Message, out: &mut Vec<u8>) -> Option<u16> {
        // MQTT 5 3.3.2.3.3: an expired message is not sent, and the interval forwarded is
        // what remains of it.
        let remaining;
        let properties = match message.expires_at_ms {
            None => &*message.properties,
            Some(expires) => {
                let remaining_ms = expires - self.clock.now_ms();
                if remaining_ms <= 0 {
                    return None;
                }
                let mut with_expiry = (*message.properties).clone();
                with_expiry.message_expiry_interval =
                    Some(u32::try_from((remaining_ms + 999) / 1000).unwrap_or(u32::MAX));
                remaining = with_expiry;
                &remaining
            }
        };
        let packet_id = if message.qos == QoS::AtLeastOnce {
            self.next_packet_id = self.next_packet_id.checked_add(1).unwrap_or(1);
            self.next_packet_id
        } else {
            0
        };
        let publish = PublishRef {
            dup: false,
            qos: message.qos,
            retain: message.retain,
            topic: &message.topic,
            packet_id,
            properties,
            payload: &message.payload,
        };
        let _ = publish.encode(self.version, out);
        (packet_id != 0).then_some(packet_id)
    }
}
