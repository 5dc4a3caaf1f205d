//! The PostgreSQL backend, for installations with several nodes.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Postgres, Transaction};

use crate::sql::{self, Placeholders};
use crate::{Result, StoreError, StoredFinding};

/// Enough for concurrent request handlers on a few cores without crowding the server's
/// default `max_connections` (100) when several nodes share it.
const MAX_CONNECTIONS: u32 = 10;

/// A [`Store`](crate::Store) in a PostgreSQL database. The server handles concurrent
/// writers itself, so one pool serves reads and writes.
pub struct PgStore {
    pool: PgPool,
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
                pool_options.connect_with(options).await?
            }
            connected => connected?,
        };
        // sqlx takes an advisory lock, so nodes starting together migrate once.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PgStore { pool })
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
