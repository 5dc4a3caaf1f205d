//! The SQLite backend: one database file, the embedded default.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use crate::{Result, StoreError};

/// Readers run beside the writer thanks to WAL; a few cover two cores with room for a slow
/// scan.
const READERS: u32 = 4;

/// A [`Store`](crate::Store) in one SQLite file.
///
/// SQLite allows one writer at a time, so all writes go through a pool of one connection:
/// writers queue in the pool (async) instead of spinning on `SQLITE_BUSY`. Reads use their
/// own pool so they never wait behind a write transaction.
pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
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
            // WAL with synchronous=NORMAL: a commit is in the WAL (the OS page cache) before
            // it returns, so it survives kill -9 of the process, our durability bar. Only a
            // power loss or OS crash can lose the last commits (never corrupt the file).
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // 64 MiB page cache per connection; the default 2 MiB thrashes on 1M findings.
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        // SCRATCH
        let options = match std::env::var("FW_PAGE_SIZE") { Ok(v) => options.page_size(v.parse().unwrap()), Err(_) => options };
        let options = match std::env::var("FW_AUTOCKPT") { Ok(v) => options.pragma("wal_autocheckpoint", v), Err(_) => options };

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
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&write).await?;

        let read = if in_memory {
            write.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(READERS)
                .connect_with(options.pragma("mmap_size", "268435456"))
                .await?
        };
        Ok(SqliteStore { write, read })
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
}

crate::shared::impl_store!(SqliteStore, "sqlite", crate::sql::Placeholders::Anonymous);
