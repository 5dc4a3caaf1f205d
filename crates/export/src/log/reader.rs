//! Reads a stream's buffer forward from the checkpoint, never past what is durable.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use super::frame::{self, LogRecord, Next};
use super::segments::{list, segment_path};

pub struct Reader {
    dir: PathBuf,
    next_seq: u64,
    file: Option<BufReader<File>>,
}

impl Reader {
    pub fn new(dir: PathBuf, from_seq: u64) -> Self {
        Self {
            dir,
            next_seq: from_seq,
            file: None,
        }
    }

    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Opens the segment holding `next_seq` and skips to it.
    fn position(&mut self) -> std::io::Result<()> {
        let firsts = list(&self.dir)?;
        let Some(&first) = firsts.iter().rev().find(|&&f| f <= self.next_seq) else {
            return Err(std::io::Error::other(format!(
                "export buffer has no segment holding record {}",
                self.next_seq
            )));
        };
        let mut reader =
            BufReader::with_capacity(256 * 1024, File::open(segment_path(&self.dir, first))?);
        for _ in first..self.next_seq {
            match frame::read_next(&mut reader)? {
                Next::Record { .. } => {}
                _ => {
                    return Err(std::io::Error::other(
                        "export buffer segment is shorter than its records",
                    ));
                }
            }
        }
        self.file = Some(reader);
        Ok(())
    }

    /// Records from `next_seq` up to `committed` (exclusive), at most about `max_bytes`.
    pub fn read(
        &mut self,
        committed: u64,
        max_bytes: usize,
        max_records: usize,
    ) -> std::io::Result<Vec<LogRecord>> {
        let mut out = Vec::new();
        let mut bytes = 0;
        let mut reopened = false;
        while self.next_seq < committed && bytes < max_bytes && out.len() < max_records {
            if self.file.is_none() {
                self.position()?;
            }
            let Some(file) = self.file.as_mut() else {
                break;
            };
            match frame::read_next(file)? {
                Next::Record { arrival_ms, data } => {
                    bytes += data.len();
                    out.push(LogRecord {
                        seq: self.next_seq,
                        arrival_ms,
                        data,
                    });
                    self.next_seq += 1;
                    reopened = false;
                }
                // The writer rolled to a new segment: continue there.
                Next::End if !reopened => {
                    self.file = None;
                    reopened = true;
                }
                Next::End | Next::Torn => {
                    return Err(std::io::Error::other(format!(
                        "export buffer ends before its committed record {committed}"
                    )));
                }
            }
        }
        Ok(out)
    }
}
