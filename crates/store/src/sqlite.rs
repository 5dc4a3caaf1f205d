//! The SQLite backend: one database file, the embedded default.

mod body_codec;
mod checkpointer;
mod packed;

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};
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

/// How much of the file readers map into memory. Mapped pages count in the process's
/// resident memory, and the start-up scan touches the whole file (several GB for a million
/// findings), so the map is kept small: reads of one page of findings do not need it.
const MMAP_SIZE: &str = "67108864";

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
    /// `<database file>.lock`; `None` in memory.
    lock_path: Option<PathBuf>,
    /// The node lock file while [`lock_node`](crate::Store::lock_node) holds it.
    node_lock: Mutex<Option<File>>,
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
            // Chosen when finding bodies were ~2 KB of plain JSON (they are ~1 KB compressed
            // now, see sqlite/body_codec.rs): 8 KiB pages held three where 4 KiB pages held
            // one, which cut the bytes written to the WAL and the file size by a third. Only
            // applies when the file is created. Measured (write_bench, 1M findings): 4 KiB pages
            // write ~40% more per new finding but half per update of a random one (a page
            // each); 16 KiB pages ~10% less per new finding but twice per update.
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
            // The one connection is this process's own: a ping before every transaction
            // would be one more round trip to its thread on the write path.
            .test_before_acquire(false)
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
                lock_path: None,
                node_lock: Mutex::new(None),
            });
        }
        let read = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(
                options
                    .clone()
                    // Readers map the start of the file (the hot interior pages).
                    .pragma("mmap_size", MMAP_SIZE)
                    // 16 MiB each keeps the interior pages of the findings tree (about 3 MiB
                    // at 1M findings) cached, so a lookup parses one page, not four.
                    .pragma("cache_size", "-16384"),
            )
            .await?;
        let checkpointer = Checkpointer::start(&options).await?;
        let mut lock_path = options.get_filename().as_os_str().to_owned();
        lock_path.push(".lock");
        Ok(SqliteStore {
            write,
            read,
            checkpointer: Some(checkpointer),
            lock_path: Some(lock_path.into()),
            node_lock: Mutex::new(None),
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
        // Last: another node may start writing once it is released.
        drop(self.locked_file().take());
    }

    fn locked_file(&self) -> std::sync::MutexGuard<'_, Option<File>> {
        self.node_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// `flock` on the sidecar file: the lock belongs to the open file, so it conflicts with
    /// another open of the same file in this process too, and the OS releases it when the
    /// file is closed (drop, or the process dying). The file is never deleted: deleting it
    /// while another process waits to open it would let two processes lock two files.
    async fn take_node_lock(&self) -> Result<()> {
        let Some(path) = &self.lock_path else {
            return Ok(());
        };
        let mut held = self.locked_file();
        if held.is_some() {
            return Ok(());
        }
        let io = |err: std::io::Error| StoreError::Database(sqlx::Error::Io(err));
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {
                // The holder's process id, for the message of the node that is refused.
                file.set_len(0).map_err(io)?;
                write!(file, "{}", std::process::id()).map_err(io)?;
                *held = Some(file);
                Ok(())
            }
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file
                    .rewind()
                    .and_then(|()| file.read_to_string(&mut holder));
                let holder = match holder.trim().parse::<u32>() {
                    Ok(pid) => format!("process {pid}"),
                    Err(_) => "another process".into(),
                };
                Err(StoreError::Locked(format!(
                    "another Fleetward node is using this database ({holder} holds the lock \
                     on {})",
                    path.display()
                )))
            }
            Err(TryLockError::Error(err)) => Err(io(err)),
        }
    }

    /// A finding body as the findings table keeps it (compressed), encoded here unless the
    /// caller did it ahead.
    fn stored_body(finding: &StoredFinding) -> body_codec::BodyArgument<'_> {
        body_codec::BodyArgument(match &finding.encoded_body {
            Some(encoded) => std::borrow::Cow::Borrowed(encoded.as_slice()),
            None => std::borrow::Cow::Owned(body_codec::encode(&finding.body)),
        })
    }

    fn encoded_ahead(body: &str) -> Option<Vec<u8>> {
        Some(body_codec::encode(body))
    }

    async fn findings_by_seq(&self, seqs: &[i64]) -> Result<Vec<StoredFinding>> {
        packed::by_seq(&self.read, seqs).await
    }

    async fn findings_after(&self, after_seq: i64, limit: usize) -> Result<Vec<StoredFinding>> {
        packed::after_seq(&self.read, after_seq, limit).await
    }
}

crate::shared::impl_store!(SqliteStore, "sqlite", crate::sql::Placeholders::Anonymous);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    fn finding(seq: i64, body: &str) -> StoredFinding {
        StoredFinding {
            seq,
            account_id: "000000000000".into(),
            product_arn: "arn:aws:securityhub:us-east-1::product/p/default".into(),
            id: format!("finding-{seq}"),
            updated_at_ms: 1,
            record_state: "ACTIVE".into(),
            customer_fields: 0,
            body: body.into(),
            encoded_body: None,
        }
    }

    #[tokio::test]
    async fn bodies_are_stored_compressed_and_plain_ones_still_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path().join("f.db").to_str().unwrap())
            .await
            .expect("open");
        let body = format!(r#"{{"Title":"{}"}}"#, "the same words again ".repeat(50));
        store
            .write_findings(&[finding(1, &body)], &[])
            .await
            .expect("write");
        let stored: Vec<u8> = sqlx::query_scalar("SELECT body FROM findings WHERE seq = 1")
            .fetch_one(store.writer())
            .await
            .expect("raw read");
        assert!(
            stored.len() < body.len() / 4,
            "{} bytes stored",
            stored.len()
        );

        // A body written before compression: the migration kept its JSON bytes.
        let plain = finding(2, r#"{"Title":"from before"}"#);
        sqlx::query("INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, CAST(? AS BLOB))")
            .bind(plain.seq)
            .bind(&plain.account_id)
            .bind(&plain.product_arn)
            .bind(&plain.id)
            .bind(plain.updated_at_ms)
            .bind(&plain.record_state)
            .bind(plain.customer_fields)
            .bind(&plain.body)
            .execute(store.writer())
            .await
            .expect("raw write");

        let mut read = store.get_findings_by_seq(&[1, 2]).await.expect("read");
        read.sort_by_key(|f| f.seq);
        assert_eq!(read[0].body, body);
        assert_eq!(read[1].body, plain.body);
        let scanned = store.scan_findings(0, 10).await.expect("scan");
        assert_eq!(scanned.len(), 2);
        assert_eq!(scanned[1].body, plain.body);
        store.shutdown().await;
    }

    #[tokio::test]
    async fn a_body_encoded_ahead_is_stored_as_given() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path().join("f.db").to_str().unwrap())
            .await
            .expect("open");
        let body = r#"{"Title":"encoded by the caller, before its write lock"}"#;
        let mut ahead = finding(1, "");
        ahead.encoded_body = store.encode_body(body);
        assert!(ahead.encoded_body.is_some(), "SQLite compresses bodies");
        store
            .write_findings(&[ahead, finding(2, body)], &[])
            .await
            .expect("write");
        let mut read = store.get_findings_by_seq(&[1, 2]).await.expect("read");
        read.sort_by_key(|f| f.seq);
        assert_eq!(read[0].body, body);
        assert_eq!(read[1].body, body);
        assert!(read.iter().all(|f| f.encoded_body.is_none()));
        store.shutdown().await;
    }
}
