//! The SQLite backend: one database file, the embedded default.

mod checkpointer;
mod packed;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use crate::{Result, StoreError, StoredFinding};
use checkpointer::Checkpointer;

/// Readers run beside the writer thanks to WAL; a few cover two cores with room for a slow
/// scan.
const READERS: u32 = 4;

/// How much of the file readers map into memory (address space, not RAM): 2 GiB minus
/// 64 KiB, the most SQLite maps with its default build settings.
const MMAP_SIZE: &str = "2147418112";

/// A [`Store`](crate::Store) in one SQLite file.
///
/// SQLite allows one writer at a time, so all writes go through a pool of one connection:
/// writers queue in the pool (async) instead of spinning on `SQLITE_BUSY`. Reads use their
/// own pool so they never wait behind a write transaction, and WAL checkpoints run in the
/// background (`sqlite/checkpointer.rs`).
pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
    checkpointer: Option<Checkpointer>,
}

impl SqliteStore {
    /// Opens (creating the file and its directory if needed) and migrates. `url` is
    /// `sqlite://PATH`, `sqlite:PATH`, `sqlite::memory:` or a plain path.
    pub async fn open(url: &str) -> Result<Self> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url)
                .map_err(|_| StoreError::InvalidUrl("unparsable sqlite url".into()))?
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        let options = options
            .create_if_missing(true)
            // Findings are ~2 KB: 8 KiB pages hold three where 4 KiB pages hold one, which
            // cuts the bytes written to the WAL and the file size by a third. Only applies
            // when the file is created.
            .page_size(8192)
            // WAL with synchronous=NORMAL: a commit is in the WAL (the OS page cache) before
            // it returns, so it survives kill -9 of the process, our durability bar. Only a
            // power loss or OS crash can lose the last commits (never corrupt the file).
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory");

        if !in_memory {
            let path = options.get_filename();
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
            }
        }

        // An in-memory database lives as long as its connections: keep exactly one open
        // forever and use it for reads and writes.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(u32::from(in_memory))
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(
                options
                    .clone()
                    // 64 MiB page cache: index pages stay hot across write batches (the
                    // default 2 MiB thrashes once indexes grow).
                    .pragma("cache_size", "-65536")
                    // The background checkpointer does the work; the writer checkpoints
                    // only as a backstop, when the WAL reaches 10,000 pages (80 MiB).
                    .pragma("wal_autocheckpoint", "10000"),
            )
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&write).await?;

        if in_memory {
            return Ok(SqliteStore {
                read: write.clone(),
                write,
                checkpointer: None,
            });
        }
        let read = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(
                options
                    .clone()
                    // Readers map the file: no read syscall and no copy per page read.
                    .pragma("mmap_size", MMAP_SIZE)
                    // 16 MiB each keeps the interior pages of the findings tree (about 3 MiB
                    // at 1M findings) cached, so a lookup parses one page, not four.
                    .pragma("cache_size", "-16384"),
            )
            .await?;
        let checkpointer = Checkpointer::start(&options).await?;
        Ok(SqliteStore {
            write,
            read,
            checkpointer: Some(checkpointer),
        })
    }

    fn reader(&self) -> &SqlitePool {
        &self.read
    }

    fn writer(&self) -> &SqlitePool {
        &self.write
    }

    /// `BEGIN IMMEDIATE` takes the write lock up front, so a transaction never fails halfway
    /// on a lock upgrade if another process holds the file.
    async fn begin_write(&self) -> sqlx::Result<Transaction<'static, Sqlite>> {
        self.write.begin_with("BEGIN IMMEDIATE").await
    }

    async fn shutdown(&self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.stop();
        }
        self.write.close().await;
        self.read.close().await;
    }

    async fn findings_by_seq(&self, seqs: &[i64]) -> Result<Vec<StoredFinding>> {
        packed::by_seq(&self.read, seqs).await
    }

    async fn findings_after(&self, after_seq: i64, limit: usize) -> Result<Vec<StoredFinding>> {
        packed::after_seq(&self.read, after_seq, limit).await
    }
}

crate::shared::impl_store!(SqliteStore, "sqlite", crate::sql::Placeholders::Anonymous);
