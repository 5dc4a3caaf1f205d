//! A clock for interop tests that must move time (scheduled audits, expiry, age): the wall
//! clock plus an offset in milliseconds read from a file, re-read every 100 ms. Enabled only
//! by the hidden `serve --test-clock-file PATH` flag (`FLEETWARD_TEST_CLOCK_FILE`); it drives
//! Device Defender audit only, so SigV4 signatures are still checked against the real time.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use fleetward_model::{Clock, SystemClock};

pub struct FileOffsetClock {
    offset_ms: Arc<AtomicI64>,
}

impl FileOffsetClock {
    /// Starts watching `path` (a missing or unreadable file means no offset).
    pub fn start(path: PathBuf) -> Self {
        let offset_ms = Arc::new(AtomicI64::new(read(&path)));
        let watched = offset_ms.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                watched.store(read(&path), Ordering::SeqCst);
            }
        });
        Self { offset_ms }
    }
}

fn read(path: &PathBuf) -> i64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}

impl Clock for FileOffsetClock {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms() + self.offset_ms.load(Ordering::SeqCst)
    }
}
