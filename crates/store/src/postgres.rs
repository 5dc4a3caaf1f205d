//! The PostgreSQL backend, for installations with several nodes.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

use crate::{Result, StoreError};

/// Enough for concurrent request handlers on a few cores without crowding the server's
/// default `max_connections` (100) when several nodes share it.
const MAX_CONNECTIONS: u32 = 10;

/// A [`Store`](crate::Store) in a PostgreSQL database. The server handles concurrent
/// writers itself, so one pool serves reads and writes.
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects and migrates. The database must exist; the schema is created in it.
    pub async fn open(url: &str) -> Result<Self> {
        // The URL may hold a password: never echo it.
        let options = PgConnectOptions::from_str(url)
            .map_err(|_| StoreError::InvalidUrl("unparsable postgres url".into()))?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
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
}

crate::shared::impl_store!(PgStore, "postgres", crate::sql::Placeholders::Numbered);
