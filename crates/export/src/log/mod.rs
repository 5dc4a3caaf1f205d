//! A stream's durable record buffer: append-only segment files under the data directory,
//! written by one thread with group commit (one fdatasync per group of appends, answered
//! only after it), read forward by the delivery worker, and trimmed behind a checkpoint
//! that moves only once records are delivered or backed up (at-least-once across kill -9).
//! Own files rather than the database: one sequential write and one fdatasync per group is
//! the cheapest durable path, and delivered data goes by deleting whole segments.

mod frame;
mod reader;
mod segments;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Notify, mpsc, oneshot};

pub use frame::LogRecord;
pub use reader::Reader;

pub struct Shared {
    /// Sequence number after the last durable record.
    committed: AtomicU64,
    appended: Notify,
    /// Bytes of records accepted and not yet delivered (or reserved for an append).
    pending_bytes: AtomicU64,
    max_bytes: u64,
}

pub struct Log {
    dir: PathBuf,
    tx: mpsc::Sender<writer::Append>,
    shared: Arc<Shared>,
    /// The checkpoint found at open: where delivery resumes.
    start_seq: u64,
    /// The latest checkpoint: where a restarted reader resumes.
    checkpointed: AtomicU64,
}

impl Log {
    /// Opens (or creates) the buffer in `dir`, recovering from a crash; `max_bytes` bounds
    /// what is accepted and not yet delivered.
    pub fn open(dir: &Path, max_bytes: u64) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let checkpoint = segments::read_checkpoint(dir)?;
        let recovered = segments::recover(dir, checkpoint)?;
        let shared = Arc::new(Shared {
            committed: AtomicU64::new(recovered.end_seq),
            appended: Notify::new(),
            pending_bytes: AtomicU64::new(recovered.pending_bytes),
            max_bytes,
        });
        let (tail_first, tail_len) = if recovered.tail_first <= recovered.end_seq
            && segments::segment_path(dir, recovered.tail_first).exists()
        {
            (recovered.tail_first, recovered.tail_len)
        } else {
            (recovered.end_seq, 0)
        };
        let writer = writer::Writer::open(
            dir.to_path_buf(),
            tail_first,
            tail_len,
            recovered.end_seq,
            shared.clone(),
        )?;
        let (tx, rx) = mpsc::channel(1024);
        std::thread::Builder::new()
            .name("export-buffer".into())
            .spawn(move || writer.run(rx))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            tx,
            shared,
            start_seq: checkpoint.min(recovered.end_seq),
            checkpointed: AtomicU64::new(checkpoint.min(recovered.end_seq)),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn start_seq(&self) -> u64 {
        self.start_seq
    }

    pub fn committed(&self) -> u64 {
        self.shared.committed.load(Ordering::Acquire)
    }

    pub fn pending_bytes(&self) -> u64 {
        self.shared.pending_bytes.load(Ordering::Relaxed)
    }

    /// Reserves room for as many leading records (by frame size) as fit under the limit;
    /// returns how many.
    pub fn reserve(&self, data_lens: &[usize]) -> usize {
        let mut accepted = 0;
        for &len in data_lens {
            let bytes = frame::frame_len(len);
            let fits = self
                .shared
                .pending_bytes
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |p| {
                    (p + bytes <= self.shared.max_bytes).then_some(p + bytes)
                })
                .is_ok();
            if !fits {
                break;
            }
            accepted += 1;
        }
        accepted
    }

    /// Gives back room reserved for records that were not appended, or that were delivered.
    pub fn release_bytes(&self, bytes: u64) {
        let _ = self
            .shared
            .pending_bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |p| {
                Some(p.saturating_sub(bytes))
            });
    }

    pub fn release(&self, data_lens: &[usize]) {
        self.release_bytes(data_lens.iter().map(|&l| frame::frame_len(l)).sum());
    }

    /// Appends records (already reserved) and returns the first one's sequence number once
    /// they are on disk.
    pub async fn append(&self, records: Vec<(i64, Vec<u8>)>) -> std::io::Result<u64> {
        let (done, answer) = oneshot::channel();
        self.tx
            .send(writer::Append { records, done })
            .await
            .map_err(|_| std::io::Error::other("export buffer writer stopped"))?;
        answer
            .await
            .map_err(|_| std::io::Error::other("export buffer writer stopped"))?
    }

    /// Waits until a record at or after `seq` is durable.
    pub async fn wait_beyond(&self, seq: u64) {
        loop {
            let notified = self.shared.appended.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.committed() > seq {
                return;
            }
            notified.await;
        }
    }

    /// A reader from the latest checkpoint.
    pub fn reader(&self) -> Reader {
        Reader::new(self.dir.clone(), self.checkpointed.load(Ordering::Acquire))
    }

    /// Records that everything before `seq` is delivered (or backed up); frees `bytes` and
    /// deletes segments that hold only delivered records. Blocking file I/O.
    pub fn checkpoint(&self, seq: u64, bytes: u64) -> std::io::Result<()> {
        segments::write_checkpoint(&self.dir, seq)?;
        self.checkpointed.store(seq, Ordering::Release);
        self.release_bytes(bytes);
        segments::delete_delivered(&self.dir, seq)
    }
}

#[cfg(test)]
mod tests;
