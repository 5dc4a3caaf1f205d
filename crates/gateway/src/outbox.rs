//! A connection's outbound side: the bounded queue its writer task drains, and the signal
//! that closes it.
//!
//! The queue is bounded so that a subscriber that reads slower than it is sent to cannot
//! make the broker's memory grow. When it is full, the publisher waits for room (up to
//! [`DELIVERY_WAIT`]): publishers are slowed to what their subscribers take, as TCP slows a
//! sender. A subscriber that makes a publisher wait that long is marked congested; until
//! its writer has emptied its queue, messages for it are dropped (and counted) instead of
//! holding up everyone who publishes to it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use fleetward_mqtt::{Packet, ReasonCode};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio_util::sync::CancellationToken;

use crate::broker::Message;

/// How many messages and packets may wait for one connection's writer.
pub const OUTBOUND_QUEUE: usize = 1024;
/// How long a publisher waits for room in a subscriber's full queue.
pub const DELIVERY_WAIT: Duration = Duration::from_secs(2);

/// What a connection's writer is asked to send.
#[derive(Debug)]
pub enum Outbound {
    /// A message for the client; its QoS and retain flag are the ones to send with.
    Deliver(Arc<Message>),
    /// A packet of the protocol itself (acknowledgements, PINGRESP).
    Packet(Box<Packet>),
}

/// The sending side of one connection, shared by its reader and everyone routing to it.
pub struct Outbox {
    tx: mpsc::Sender<Outbound>,
    congested: AtomicBool,
    closed: CancellationToken,
    /// Why the connection was closed: the reason code MQTT 5 clients are told, and the
    /// reason AWS IoT's lifecycle events give. The first close wins.
    why: OnceLock<(ReasonCode, &'static str)>,
    /// QoS 1 messages written to the client and not acknowledged yet.
    unacked: Mutex<Unacked>,
}

/// Unacknowledged QoS 1 deliveries by packet id, with the order they went out in: when the
/// connection ends, a persistent session gets them back to deliver again (MQTT-4.4.0-1).
/// Keyed by packet id, so a client that never acknowledges holds at most 65,535.
#[derive(Default)]
struct Unacked {
    sent: u64,
    by_packet_id: HashMap<u16, (u64, Arc<Message>)>,
}

/// The outcome of offering a message to a connection without waiting.
pub enum Offer {
    /// Queued, or dropped on purpose (a congested subscriber, a closed connection).
    Done,
    /// The queue is full: the caller should wait for room with [`Outbox::deliver`].
    Full(Arc<Message>),
}

impl Outbox {
    /// A new outbox and the receiver its writer task drains.
    pub fn new() -> (Arc<Self>, mpsc::Receiver<Outbound>) {
        let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
        let outbox = Arc::new(Self {
            tx,
            congested: AtomicBool::new(false),
            closed: CancellationToken::new(),
            why: OnceLock::new(),
            unacked: Mutex::default(),
        });
        (outbox, rx)
    }

    /// Queues a message if there is room. Never waits, so it can be called under the
    /// broker's lock.
    pub fn offer(&self, message: Arc<Message>) -> Offer {
        match self.tx.try_send(Outbound::Deliver(message)) {
            Ok(()) | Err(TrySendError::Closed(_)) => Offer::Done,
            Err(TrySendError::Full(Outbound::Deliver(message))) => {
                if self.congested.load(Ordering::Relaxed) {
                    dropped(&message);
                    Offer::Done
                } else {
                    Offer::Full(message)
                }
            }
            Err(TrySendError::Full(Outbound::Packet(_))) => Offer::Done,
        }
    }

    /// Waits for room for a message the queue had none for, up to [`DELIVERY_WAIT`]; a
    /// subscriber that takes longer is marked congested and the message dropped.
    pub async fn deliver(&self, message: Arc<Message>) {
        if self.congested.load(Ordering::Relaxed) {
            dropped(&message);
            return;
        }
        let permit = tokio::select! {
            biased;
            _ = self.closed.cancelled() => return,
            permit = tokio::time::timeout(DELIVERY_WAIT, self.tx.reserve()) => permit,
        };
        match permit {
            Ok(Ok(permit)) => permit.send(Outbound::Deliver(message)),
            Ok(Err(_)) => {}
            Err(_) => {
                self.congested.store(true, Ordering::Relaxed);
                tracing::debug!("A subscriber is congested; its messages are dropped.");
                dropped(&message);
            }
        }
    }

    /// Queues a protocol packet, waiting for room: the connection's own reader sends these,
    /// so a client that does not read what it is sent stops being read. `false` once the
    /// connection is closed. (The packet is boxed before the wait so that the waiting
    /// future, part of every connection's state, stays small.)
    pub fn send_packet(&self, packet: Packet) -> impl Future<Output = bool> + Send + '_ {
        let item = Outbound::Packet(Box::new(packet));
        async move {
            tokio::select! {
                biased;
                _ = self.closed.cancelled() => false,
                sent = self.tx.send(item) => sent.is_ok(),
            }
        }
    }

    /// Closes the connection: its writer sends what is queued (and, to MQTT 5 clients, a
    /// DISCONNECT with `code`), its reader stops. `reason` is recorded in the lifecycle
    /// event. Only the first close counts.
    pub fn close(&self, code: ReasonCode, reason: &'static str) {
        let _ = self.why.set((code, reason));
        self.closed.cancel();
    }

    /// Resolves once [`Outbox::close`] has been called.
    pub async fn closed(&self) {
        self.closed.cancelled().await
    }

    /// The reason code and lifecycle reason of the close, if closed.
    pub fn why(&self) -> Option<(ReasonCode, &'static str)> {
        self.why.get().copied()
    }

    /// Called by the writer for each QoS 1 delivery it writes.
    pub fn written_unacked(&self, packet_id: u16, message: Arc<Message>) {
        let mut unacked = self.unacked.lock().unwrap_or_else(PoisonError::into_inner);
        unacked.sent += 1;
        let order = unacked.sent;
        unacked.by_packet_id.insert(packet_id, (order, message));
    }

    /// The client acknowledged a QoS 1 delivery.
    pub fn acknowledged(&self, packet_id: u16) {
        self.unacked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_packet_id
            .remove(&packet_id);
    }

    /// The QoS 1 deliveries never acknowledged, oldest first (once the writer is done).
    pub fn take_unacked(&self) -> Vec<Arc<Message>> {
        let unacked =
            std::mem::take(&mut *self.unacked.lock().unwrap_or_else(PoisonError::into_inner));
        let mut messages: Vec<(u64, Arc<Message>)> = unacked.by_packet_id.into_values().collect();
        messages.sort_by_key(|(order, _)| *order);
        messages.into_iter().map(|(_, message)| message).collect()
    }

    /// Called by the writer when it has emptied the queue: the subscriber keeps up again.
    pub fn drained(&self) {
        if self.congested.load(Ordering::Relaxed) {
            self.congested.store(false, Ordering::Relaxed);
        }
    }
}

/// Counts a message dropped for a congested subscriber (Prometheus).
fn dropped(message: &Message) {
    let qos = if message.qos == fleetward_mqtt::QoS::AtMostOnce {
        "0"
    } else {
        "1"
    };
    ::metrics::counter!("fleetward_mqtt_deliveries_dropped_total", "qos" => qos).increment(1);
}

/// Waits for room for each message a full queue could not take at once, all together.
pub async fn deliver_all(waiting: Vec<(Arc<Outbox>, Arc<Message>)>) {
    match waiting.len() {
        0 => {}
        1 => {
            let (outbox, message) = waiting.into_iter().next().expect("one");
            outbox.deliver(message).await;
        }
        _ => {
            let waits = waiting
                .into_iter()
                .map(|(outbox, message)| async move { outbox.deliver(message).await });
            futures::future::join_all(waits).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use fleetward_mqtt::{Properties, QoS};

    fn message(qos: QoS) -> Arc<Message> {
        Arc::new(Message {
            topic: "t".into(),
            payload: Bytes::from_static(b"x"),
            qos,
            retain: false,
            properties: Arc::new(Properties::default()),
            expires_at_ms: None,
        })
    }

    #[tokio::test]
    async fn a_full_queue_makes_the_publisher_wait_then_marks_congestion() {
        let (outbox, mut rx) = Outbox::new();
        for _ in 0..OUTBOUND_QUEUE {
            assert!(matches!(
                outbox.offer(message(QoS::AtMostOnce)),
                Offer::Done
            ));
        }
        let Offer::Full(waiting) = outbox.offer(message(QoS::AtLeastOnce)) else {
            panic!("a full queue must ask the caller to wait");
        };
        // Room appears while the publisher waits: the message gets in.
        let reader = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            rx.recv().await;
            rx
        });
        outbox.deliver(waiting).await;
        let mut rx = reader.await.unwrap();
        assert!(!outbox.congested.load(Ordering::Relaxed));

        // Nobody reads: after the wait the subscriber is congested and messages drop.
        tokio::time::pause();
        outbox.deliver(message(QoS::AtLeastOnce)).await;
        assert!(outbox.congested.load(Ordering::Relaxed));
        assert!(matches!(
            outbox.offer(message(QoS::AtMostOnce)),
            Offer::Done
        ));
        let mut queued = 0;
        while rx.try_recv().is_ok() {
            queued += 1;
        }
        assert_eq!(queued, OUTBOUND_QUEUE);
        outbox.drained();
        assert!(matches!(
            outbox.offer(message(QoS::AtMostOnce)),
            Offer::Done
        ));
        assert_eq!(rx.try_recv().map(|_| ()).ok(), Some(()));
    }

    #[tokio::test]
    async fn close_is_seen_by_waiters_and_first_reason_wins() {
        let (outbox, _rx) = Outbox::new();
        let waiter = {
            let outbox = outbox.clone();
            tokio::spawn(async move { outbox.closed().await })
        };
        outbox.close(ReasonCode::SessionTakenOver, "DUPLICATE_CLIENTID");
        outbox.close(ReasonCode::NotAuthorized, "SERVER_INITIATED_DISCONNECT");
        waiter.await.unwrap();
        assert!(outbox.closed.is_cancelled());
        assert_eq!(
            outbox.why(),
            Some((ReasonCode::SessionTakenOver, "DUPLICATE_CLIENTID"))
        );
        assert!(!outbox.send_packet(Packet::PingResp).await);
    }
}
