//! Persistence behind one trait: SQLite (embedded default) and PostgreSQL.
//!
//! Every service talks to [`Store`]; [`open`] picks the backend from the URL, creates the
//! database if needed and applies the embedded migrations (`migrations/sqlite`,
//! `migrations/postgres`). Both backends share the SQL in `sql.rs` and one implementation of
//! the trait (`shared.rs`); they differ in how they connect and in how SQLite reads many
//! findings at once (`sqlite/packed.rs`). One conformance suite (`tests/conformance`) runs
//! against both.
//!
//! Times are epoch milliseconds, ids and JSON bodies are text. Texts must not contain NUL
//! characters: PostgreSQL rejects them.

pub mod documents;
mod error;
mod postgres;
mod shared;
mod sql;
mod sqlite;

use std::sync::Arc;

pub use error::StoreError;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Result of every store call.
pub type Result<T> = std::result::Result<T, StoreError>;

/// One tenant account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountRow {
    pub account_id: String,
    pub name: String,
    pub created_ms: i64,
}

/// One SigV4 access key. The account must exist (foreign key).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccessKeyRow {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub account_id: String,
    /// `"Active"` or `"Inactive"`; the schema rejects anything else.
    pub status: String,
    pub created_ms: i64,
}

/// Small configuration objects of every service, stored as JSON text (insights, action
/// targets, automation rules, hub state, product subscriptions, tags...).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Document {
    pub account_id: String,
    pub kind: String,
    pub key: String,
    pub body: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// One change of a [`Store::write_documents`] batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentWrite {
    /// Upsert; an existing row keeps its `created_ms`.
    Put(Document),
    /// Deletes the document if it exists.
    Delete {
        account_id: String,
        kind: String,
        key: String,
    },
}

/// One ASFF finding. `seq` is assigned by the caller (positive, unique, increasing at
/// creation, never reused) and is the primary key: the finding's identity in the store. The
/// store does not index or check (account_id, product_arn, id): mapping identities to seqs,
/// one seq each, is the caller's job (the hub keeps that map in memory).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredFinding {
    pub seq: i64,
    pub account_id: String,
    pub product_arn: String,
    pub id: String,
    pub updated_at_ms: i64,
    pub record_state: String,
    pub customer_fields: i64,
    /// The finding as JSON text.
    pub body: String,
    /// The body already in the store's own stored form ([`Store::encode_body`]), prepared by a
    /// caller outside its write critical section. When set, `write_findings` stores it and
    /// does not read `body`. Never set on findings read back.
    #[sqlx(skip)]
    pub encoded_body: Option<Vec<u8>>,
}

/// One entry of a finding's history (GetFindingHistory).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HistoryRecord {
    /// The seq of the finding (positive): history is looked up and deleted by it.
    pub finding_seq: i64,
    pub account_id: String,
    pub product_arn: String,
    pub finding_id: String,
    pub update_time_ms: i64,
    pub created: bool,
    pub source_type: String,
    pub identity: String,
    pub updates_json: String,
}

/// One entry of the device gateway's connection history.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConnectionEvent {
    pub account_id: String,
    pub time_ms: i64,
    /// What happened, e.g. `CONNECTED`, `DISCONNECTED`, `CONNECT_DENIED`.
    pub kind: String,
    pub client_id: String,
    pub certificate_id: String,
    /// Empty when the connection acts as no thing.
    pub thing_name: String,
    pub source_ip: String,
    pub source_port: i64,
    /// Why (disconnect reason, denial), free text; may be empty.
    pub reason: String,
}

/// One metric value of a device (a thing, or a client id for unregistered devices).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Datapoint {
    pub account_id: String,
    pub thing_name: String,
    /// e.g. `aws:num-messages-sent`, or a custom metric's name.
    pub metric: String,
    /// A dimension's name, or empty.
    pub dimension: String,
    pub time_ms: i64,
    /// The value as JSON (`{"count": 3}`, `{"cidrs": [...]}`, ...).
    pub value_json: String,
}

/// Persistence of every service. Implemented by [`SqliteStore`] and [`PgStore`].
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    // --- accounts and access keys ---

    /// Creates the account; `false` if it existed (then it is left unchanged).
    async fn create_account(&self, row: &AccountRow) -> Result<bool>;
    async fn get_account(&self, account_id: &str) -> Result<Option<AccountRow>>;
    /// All accounts, ordered by account id.
    async fn list_accounts(&self) -> Result<Vec<AccountRow>>;
    /// Inserts the key: [`StoreError::AlreadyExists`] if the id exists,
    /// [`StoreError::Constraint`] if the account does not exist or the status is invalid.
    async fn put_access_key(&self, row: &AccessKeyRow) -> Result<()>;
    async fn get_access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRow>>;
    /// The keys of one account, or of all accounts; ordered by creation time, then id.
    async fn list_access_keys(&self, account_id: Option<&str>) -> Result<Vec<AccessKeyRow>>;
    /// `false` if the key is unknown.
    async fn set_access_key_status(&self, access_key_id: &str, status: &str) -> Result<bool>;

    // --- documents ---

    /// `false` (and nothing written) if (account, kind, key) exists.
    async fn insert_document(&self, doc: &Document) -> Result<bool>;
    /// Upsert; an existing row keeps its `created_ms`.
    async fn put_document(&self, doc: &Document) -> Result<()>;
    async fn get_document(
        &self,
        account_id: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Document>>;
    /// Ordered by `created_ms`, then key.
    async fn list_documents(&self, account_id: &str, kind: &str) -> Result<Vec<Document>>;
    /// `false` if there was no such document.
    async fn delete_document(&self, account_id: &str, kind: &str, key: &str) -> Result<bool>;
    /// Applies all writes in order in ONE transaction: all or nothing. Services that keep
    /// their state in memory use it to commit many small changes at once.
    async fn write_documents(&self, writes: &[DocumentWrite]) -> Result<()>;
    /// One page of the documents of a kind, ordered by key, with key > `after_key`; at most
    /// `limit`. Used to load large collections without holding them twice in memory.
    async fn list_documents_page(
        &self,
        account_id: &str,
        kind: &str,
        after_key: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Document>>;

    // --- findings ---

    /// Upserts (by seq) all findings and appends all history records in ONE transaction:
    /// all or nothing. A seq belongs to one finding (account, product, id) for life: reusing
    /// it for another finding is a [`StoreError::Constraint`]. The store does not check that
    /// an identity has only one seq: that is the caller's job. A seq or `finding_seq` that
    /// is not positive is a [`StoreError::Constraint`]. If a seq appears twice in
    /// `findings`, the last one wins.
    async fn write_findings(
        &self,
        findings: &[StoredFinding],
        history: &[HistoryRecord],
    ) -> Result<()>;
    /// Findings with seq > `after_seq` in seq order, at most `limit` (used to rebuild the
    /// in-memory index at start).
    async fn scan_findings(&self, after_seq: i64, limit: usize) -> Result<Vec<StoredFinding>>;
    /// `body` in the form `write_findings` stores it, when the store transforms bodies (SQLite
    /// compresses them); `None` when it stores the text as it is. Lets a caller do that work
    /// before taking its write lock (see [`StoredFinding::encoded_body`]).
    fn encode_body(&self, body: &str) -> Option<Vec<u8>>;
    /// Any order; missing seqs are skipped.
    async fn get_findings_by_seq(&self, seqs: &[i64]) -> Result<Vec<StoredFinding>>;
    /// Deletes in one transaction; returns how many existed. Their history stays: see
    /// [`Store::delete_history_of`].
    async fn delete_findings(&self, seqs: &[i64]) -> Result<u64>;
    /// The highest seq ever written, deleted findings included, so a caller that resumes
    /// from it never reuses a seq; 0 when no finding was ever written.
    async fn max_finding_seq(&self) -> Result<i64>;
    /// History of the finding `finding_seq`, oldest first (by update time, then insertion),
    /// with update time in `[start_ms, end_ms]`, after the cursor, at most `limit`. Only
    /// records of `account_id` are returned (a safety net: a seq names one finding). The
    /// `i64` returned with each record is its opaque cursor.
    async fn finding_history(
        &self,
        account_id: &str,
        finding_seq: i64,
        start_ms: i64,
        end_ms: i64,
        after_cursor: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, HistoryRecord)>>;
    /// Deletes history records with update time < `before_ms`; returns how many.
    async fn delete_history_before(&self, before_ms: i64) -> Result<u64>;
    /// Deletes all history records of these findings in one transaction (retention deletes
    /// a finding's history with it); returns how many.
    async fn delete_history_of(&self, finding_seqs: &[i64]) -> Result<u64>;

    // --- device events ---

    /// Appends the events in one transaction.
    async fn append_connection_events(&self, events: &[ConnectionEvent]) -> Result<()>;
    /// Events of an account with `from_ms <= time <= to_ms`, in the order they were appended,
    /// after the cursor (the `i64` returned with each event), at most `limit`.
    async fn connection_events(
        &self,
        account_id: &str,
        from_ms: i64,
        to_ms: i64,
        after_cursor: i64,
        limit: usize,
    ) -> Result<Vec<(i64, ConnectionEvent)>>;
    /// Deletes events older than `before_ms`; returns how many.
    async fn delete_connection_events_before(&self, before_ms: i64) -> Result<u64>;
    /// Appends the datapoints in one transaction.
    async fn append_datapoints(&self, points: &[Datapoint]) -> Result<()>;
    /// Datapoints of one device, metric and dimension (empty for none) with
    /// `from_ms <= time <= to_ms`, oldest first, after the cursor, at most `limit`.
    #[allow(clippy::too_many_arguments)]
    async fn datapoints(
        &self,
        account_id: &str,
        thing_name: &str,
        metric: &str,
        dimension: &str,
        from_ms: i64,
        to_ms: i64,
        after_cursor: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Datapoint)>>;
    /// Deletes datapoints older than `before_ms`; returns how many.
    async fn delete_datapoints_before(&self, before_ms: i64) -> Result<u64>;

    /// Takes this database's node lock, held until [`Store::close`] or drop, so that a
    /// second Fleetward process on the same database refuses to start: if another store
    /// (another process, or another `open` in this one) holds it, fails with
    /// [`StoreError::Locked`] at once. Taking it again through the same store succeeds.
    ///
    /// SQLite: an OS lock (`flock`) on the file `<database file>.lock` beside the database,
    /// released by the OS if the process dies; nothing to lock for an in-memory database.
    /// PostgreSQL: a session advisory lock on a connection of its own (outside the pool),
    /// released by the server when that connection ends.
    async fn lock_node(&self) -> Result<()>;

    /// Releases the node lock and closes the connection pools (waiting for checked-out
    /// connections). Calls made after this fail.
    async fn close(&self);
}

/// Opens (creating if needed) and migrates. `url` is either `sqlite://PATH`, `sqlite:PATH`,
/// `sqlite::memory:` or a plain file path, or `postgres://...` / `postgresql://...`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open(url).await?))
    } else if url.contains("://") && !url.starts_with("sqlite://") {
        Err(StoreError::InvalidUrl(scheme_of(url)))
    } else {
        Ok(Arc::new(SqliteStore::open(url).await?))
    }
}

/// The scheme only: the rest of a URL may hold a password.
fn scheme_of(url: &str) -> String {
    url.split("://").next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unknown_schemes_are_refused_without_echoing_the_url() {
        let err = open("mysql://root:hunter2@db/x")
            .await
            .err()
            .expect("refused");
        assert!(
            matches!(&err, StoreError::InvalidUrl(s) if s == "mysql"),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn in_memory_sqlite_keeps_data_across_calls() {
        let store = open("sqlite::memory:").await.expect("open");
        let row = AccountRow {
            account_id: "1".into(),
            name: "n".into(),
            created_ms: 0,
        };
        assert!(store.create_account(&row).await.expect("create"));
        assert_eq!(store.get_account("1").await.expect("get"), Some(row));
    }

    #[tokio::test]
    async fn plain_paths_open_sqlite_and_create_directories() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested/dir/store.db");
        let store = open(path.to_str().expect("utf-8 path"))
            .await
            .expect("open");
        assert_eq!(store.backend(), "sqlite");
        assert!(path.exists());
    }
}
