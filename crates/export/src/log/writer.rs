//! The one writer of a stream's buffer: a thread that takes every append waiting, writes
//! them, makes them durable with one fdatasync (group commit), then answers them all.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::{mpsc, oneshot};

use super::Shared;
use super::frame;
use super::segments::{segment_path, sync_dir};

/// Segments roll over at this size so delivered data can be deleted.
pub const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;
/// Most bytes gathered into one commit.
const GROUP_BYTES: usize = 8 * 1024 * 1024;

pub struct Append {
    pub records: Vec<(i64, Vec<u8>)>,
    /// First sequence number of the records once durable.
    pub done: oneshot::Sender<std::io::Result<u64>>,
}

pub struct Writer {
    pub dir: PathBuf,
    pub file: File,
    pub segment_len: u64,
    pub next_seq: u64,
    pub shared: Arc<Shared>,
}

impl Writer {
    pub fn open(
        dir: PathBuf,
        tail_first: u64,
        tail_len: u64,
        next_seq: u64,
        shared: Arc<Shared>,
    ) -> std::io::Result<Self> {
        let path = segment_path(&dir, tail_first);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        sync_dir(&dir)?;
        Ok(Self {
            dir,
            file,
            segment_len: tail_len,
            next_seq,
            shared,
        })
    }

    /// Runs until every sender is gone.
    pub fn run(mut self, mut rx: mpsc::Receiver<Append>) {
        let mut buf = Vec::with_capacity(GROUP_BYTES);
        while let Some(first) = rx.blocking_recv() {
            let mut group = vec![first];
            let mut bytes: usize = group[0].records.iter().map(|r| r.1.len()).sum();
            while bytes < GROUP_BYTES {
                match rx.try_recv() {
                    Ok(next) => {
                        bytes += next.records.iter().map(|r| r.1.len()).sum::<usize>();
                        group.push(next);
                    }
                    Err(_) => break,
                }
            }
            buf.clear();
            let start_seq = self.next_seq;
            let mut firsts = Vec::with_capacity(group.len());
            let mut seq = start_seq;
            for append in &group {
                firsts.push(seq);
                for (arrival, data) in &append.records {
                    frame::encode(&mut buf, *arrival, data);
                    seq += 1;
                }
            }
            let result = self.write_durable(&buf, seq);
            match result {
                Ok(()) => {
                    self.next_seq = seq;
                    self.shared.committed.store(seq, Ordering::Release);
                    self.shared.appended.notify_waiters();
                    for (append, first) in group.into_iter().zip(firsts) {
                        let _ = append.done.send(Ok(first));
                    }
                }
                Err(e) => {
                    tracing::error!(dir = %self.dir.display(), error = %e, "Export buffer write failed.");
                    // Nothing of the group counts: put the file back to its last good length.
                    let _ = self.file.set_len(self.segment_len);
                    for append in group {
                        let _ = append.done.send(Err(std::io::Error::other(e.to_string())));
                    }
                }
            }
        }
    }

    /// Appends `buf` and syncs it; `end_seq` is the sequence number after its records.
    fn write_durable(&mut self, buf: &[u8], end_seq: u64) -> std::io::Result<()> {
        self.file.write_all(buf)?;
        self.file.sync_data()?;
        self.segment_len += buf.len() as u64;
        if self.segment_len >= SEGMENT_BYTES {
            let path = segment_path(&self.dir, end_seq);
            self.file = OpenOptions::new().create(true).append(true).open(&path)?;
            sync_dir(&self.dir)?;
            self.segment_len = 0;
        }
        Ok(())
    }
}
