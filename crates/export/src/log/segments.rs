//! The segment files of one stream's buffer: `<first seq, 20 digits>.seg`, and the
//! `checkpoint` file holding the first sequence number not yet delivered.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use super::frame::{self, Next};

pub fn segment_path(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(format!("{first_seq:020}.seg"))
}

/// First sequence numbers of the segments, ascending.
pub fn list(dir: &Path) -> std::io::Result<Vec<u64>> {
    let mut firsts = Vec::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if let Some(stem) = name.strip_suffix(".seg")
            && let Ok(seq) = stem.parse::<u64>()
        {
            firsts.push(seq);
        }
    }
    firsts.sort_unstable();
    Ok(firsts)
}

/// What recovery learned about the buffer.
pub struct Recovered {
    /// Sequence number the next appended record gets.
    pub end_seq: u64,
    /// First segment of the writer (the last one), and its valid length in bytes.
    pub tail_first: u64,
    pub tail_len: u64,
    /// Bytes of records not yet delivered.
    pub pending_bytes: u64,
}

/// Scans the segments, cuts a torn tail off the last one (it was never acknowledged: the
/// answer waits for the fsync), and counts what remains to deliver after `checkpoint`.
pub fn recover(dir: &Path, checkpoint: u64) -> std::io::Result<Recovered> {
    let firsts = list(dir)?;
    let mut pending_bytes = 0;
    let mut seq = firsts.first().copied().unwrap_or(checkpoint);
    let mut tail_len = 0;
    for (i, &first) in firsts.iter().enumerate() {
        // A gap can only come from deleted, delivered segments; trust the file name.
        seq = seq.max(first);
        let path = segment_path(dir, first);
        let mut reader = BufReader::new(File::open(&path)?);
        let mut valid = 0u64;
        loop {
            match frame::read_next(&mut reader)? {
                Next::Record { data, .. } => {
                    let len = frame::frame_len(data.len());
                    if seq >= checkpoint {
                        pending_bytes += len;
                    }
                    valid += len;
                    seq += 1;
                }
                Next::End => break,
                Next::Torn => {
                    tracing::warn!(segment = %path.display(), valid, "Cutting a torn record off the export buffer.");
                    break;
                }
            }
        }
        if i + 1 == firsts.len() {
            let file = OpenOptions::new().write(true).open(&path)?;
            if file.metadata()?.len() != valid {
                file.set_len(valid)?;
                file.sync_all()?;
            }
            tail_len = valid;
        }
    }
    let end_seq = seq.max(checkpoint);
    let tail_first = firsts.last().copied().unwrap_or(end_seq);
    Ok(Recovered {
        end_seq,
        tail_first,
        tail_len,
        pending_bytes,
    })
}

pub fn read_checkpoint(dir: &Path) -> std::io::Result<u64> {
    match fs::read_to_string(dir.join("checkpoint")) {
        Ok(text) => Ok(text.trim().parse().unwrap_or(0)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(e),
    }
}

/// Replaces the checkpoint atomically (write, fsync, rename, fsync the directory).
pub fn write_checkpoint(dir: &Path, seq: u64) -> std::io::Result<()> {
    let tmp = dir.join("checkpoint.tmp");
    let mut file = File::create(&tmp)?;
    file.write_all(seq.to_string().as_bytes())?;
    file.sync_all()?;
    fs::rename(&tmp, dir.join("checkpoint"))?;
    sync_dir(dir)
}

pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Deletes segments whose every record is before `checkpoint` (never the last segment,
/// which the writer appends to).
pub fn delete_delivered(dir: &Path, checkpoint: u64) -> std::io::Result<()> {
    let firsts = list(dir)?;
    for pair in firsts.windows(2) {
        if pair[1] <= checkpoint {
            fs::remove_file(segment_path(dir, pair[0]))?;
        }
    }
    Ok(())
}
