//! The PostgreSQL backend, for installations with several nodes.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Postgres, Transaction};
use tokio::sync::Mutex;

use crate::sql::{self, Placeholders};
use crate::{Result, StoreError, StoredFinding};

/// Enough for concurrent request handlers on a few cores without crowding the server's
/// default `max_connections` (100) when several nodes share it.
const MAX_CONNECTIONS: u32 = 10;

/// The advisory lock key of the node lock ("Fleetwar" in ASCII). Advisory locks belong to
/// one database, so nodes of other databases on the same server do not conflict.
const NODE_LOCK_KEY: i64 = 0x466c_6565_7477_6172;

/// `application_name` of the node lock's connection, to find it in `pg_stat_activity`.
const NODE_LOCK_APPLICATION: &str = "fleetward-node-lock";

/// A [`Store`](crate::Store) in a PostgreSQL database. The server handles concurrent
/// writers itself, so one pool serves reads and writes.
pub struct PgStore {
    pool: PgPool,
    options: PgConnectOptions,
    /// The connection holding the node lock, while [`lock_node`](crate::Store::lock_node)
    /// holds it. Not from the pool: the lock lives as long as the session.
    node_lock: Mutex<Option<PgConnection>>,
}

impl PgStore {
    /// Connects (creating the database if it does not exist and the role may) and
    /// migrates.
    pub async fn open(url: &str) -> Result<Self> {
        // The URL may hold a password: never echo it.
        let options = PgConnectOptions::from_str(url)
            .map_err(|_| StoreError::InvalidUrl("unparsable postgres url".into()))?;
        let pool_options = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10));
        let pool = match pool_options.clone().connect_with(options.clone()).await {
            Err(err) if is_missing_database(&err) => {
                create_database(&options).await?;
                pool_options.connect_with(options.clone()).await?
            }
            connected => connected?,
        };
        // sqlx takes an advisory lock, so nodes starting together migrate once.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PgStore {
            pool,
            options,
            node_lock: Mutex::new(None),
        })
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    async fn begin_write(&self) -> sqlx::Result<Transaction<'static, Postgres>> {
        self.pool.begin().await
    }

    async fn shutdown(&self) {
        self.pool.close().await;
        // Last: another node may start writing once it is released. Unlock explicitly: the
        // server releases a closed session's locks only when its backend has exited.
        if let Some(mut conn) = self.node_lock.lock().await.take() {
            let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(NODE_LOCK_KEY)
                .execute(&mut conn)
                .await;
            if let Err(err) = unlocked {
                tracing::warn!(%err, "releasing the node lock failed; its session ends anyway");
            }
            conn.close().await.ok();
        }
    }

    /// `pg_try_advisory_lock` on a connection of its own. If that connection breaks (server
    /// restart, network), the server releases the lock.
    async fn take_node_lock(&self) -> Result<()> {
        let mut held = self.node_lock.lock().await;
        if held.is_some() {
            return Ok(());
        }
        let mut conn = self
            .options
            .clone()
            .application_name(NODE_LOCK_APPLICATION)
            .connect()
            .await?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(NODE_LOCK_KEY)
            .fetch_one(&mut conn)
            .await?;
        if locked {
            *held = Some(conn);
            return Ok(());
        }
        // Who holds it, if this role may see (else the message just says someone does).
        let holder: Option<(i32, Option<String>)> = sqlx::query_as(
            "SELECT a.pid, host(a.client_addr) FROM pg_locks l \
             JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.database = \
               (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND l.classid = ($1 >> 32)::oid AND l.objid = ($1 & 4294967295)::oid \
             AND l.objsubid = 1",
        )
        .bind(NODE_LOCK_KEY)
        .fetch_optional(&mut conn)
        .await
        .ok()
        .flatten();
        conn.close().await.ok();
        let holder = match holder {
            Some((pid, Some(addr))) => format!("the session of server process {pid}, from {addr}"),
            Some((pid, None)) => format!("the session of server process {pid}"),
            None => "another session".into(),
        };
        Err(StoreError::Locked(format!(
            "another Fleetward node is using this database ({holder} holds its node lock)"
        )))
    }

    /// A finding body as the findings table keeps it (PostgreSQL compresses large values
    /// itself).
    fn stored_body(finding: &StoredFinding) -> &str {
        &finding.body
    }

    /// Bodies are stored as text: nothing to prepare.
    fn encoded_ahead(_body: &str) -> Option<Vec<u8>> {
        None
    }

    async fn findings_by_seq(&self, seqs: &[i64]) -> Result<Vec<StoredFinding>> {
        let Some(&last) = seqs.last() else {
            return Ok(Vec::new());
        };
        let len = sql::padded_len(seqs.len());
        let mut query = sqlx::query_as(sql::FINDINGS_BY_SEQ.get(len, Placeholders::Numbered));
        for i in 0..len {
            query = query.bind(seqs.get(i).copied().unwrap_or(last));
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    async fn findings_after(&self, after_seq: i64, limit: usize) -> Result<Vec<StoredFinding>> {
        Ok(sqlx::query_as(sql::FINDINGS_SCAN)
            .bind(after_seq)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?)
    }
}

fn is_missing_database(err: &sqlx::Error) -> bool {
    // SQLSTATE 3D000: invalid_catalog_name.
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("3D000"))
}

/// Creates the database `options` names, connecting to the `postgres` maintenance database
/// with the same credentials.
async fn create_database(options: &PgConnectOptions) -> Result<()> {
    let name = options
        .get_database()
        .unwrap_or_else(|| options.get_username());
    let mut admin = options.clone().database("postgres").connect().await?;
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    match sqlx::query(&format!("CREATE DATABASE {quoted}"))
        .execute(&mut admin)
        .await
    {
        // 42P04 duplicate_database: another node created it meanwhile.
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P04") => {}
        done => {
            done?;
            tracing::info!(database = name, "created the PostgreSQL database");
        }
    }
    admin.close().await?;
    Ok(())
}

crate::shared::impl_store!(PgStore, "postgres", Placeholders::Numbered);
