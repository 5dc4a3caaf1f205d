//! The evaluator's input queue: bounded, and never waited on by the gateway. When it is
//! full, new inputs are dropped and counted (a warning at the first drop and every
//! 10,000th): stalling every device's connection because evaluation fell behind would be
//! worse than losing datapoints.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

pub(crate) struct FeedQueue<T> {
    tx: mpsc::Sender<T>,
    capacity: usize,
    dropped: AtomicU64,
}

impl<T> FeedQueue<T> {
    pub(crate) fn new(capacity: usize) -> (Self, mpsc::Receiver<T>) {
        let (tx, rx) = mpsc::channel(capacity);
        let queue = Self {
            tx,
            capacity,
            dropped: AtomicU64::new(0),
        };
        (queue, rx)
    }

    /// Queues `item` without waiting; drops and counts it when the queue is full.
    pub(crate) fn offer(&self, item: T) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(item) {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped == 1 || dropped.is_multiple_of(10_000) {
                tracing::warn!(
                    dropped,
                    capacity = self.capacity,
                    "Device Defender detect is behind: its input queue is full, inputs are dropped."
                );
            }
        }
    }

    /// Queues `item`, waiting for room (flushes, which must not be lost); `false` once the
    /// evaluator has stopped.
    pub(crate) async fn send(&self, item: T) -> bool {
        self.tx.send(item).await.is_ok()
    }

    /// Inputs dropped so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_drops_and_counts_new_inputs() {
        let (queue, mut rx) = FeedQueue::new(2);
        for i in 0..5 {
            queue.offer(i);
        }
        assert_eq!(queue.dropped(), 3);
        assert_eq!(rx.recv().await, Some(0));
        assert_eq!(rx.recv().await, Some(1));
        // Room again: taken, nothing more dropped.
        queue.offer(5);
        assert!(queue.send(6).await);
        assert_eq!((rx.recv().await, rx.recv().await), (Some(5), Some(6)));
        assert_eq!(queue.dropped(), 3);
        drop(rx);
        assert!(!queue.send(7).await);
    }
}
