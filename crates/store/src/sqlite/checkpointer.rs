//! Background WAL checkpoints, so the writer does not copy the WAL back into the database
//! (and fsync it) in the middle of a commit.

use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use tokio::task::JoinHandle;

/// Often enough to keep the WAL to a few MB at full write speed.
const PERIOD: Duration = Duration::from_millis(100);

/// A task with its own connection running `PRAGMA wal_checkpoint(PASSIVE)` periodically.
/// PASSIVE never waits for or blocks readers and the writer; whatever it cannot copy yet
/// is copied by a later round. Stops when dropped.
pub(super) struct Checkpointer {
    task: JoinHandle<()>,
}

impl Checkpointer {
    pub(super) async fn start(options: &SqliteConnectOptions) -> sqlx::Result<Self> {
        let mut conn = options.connect().await?;
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(PERIOD);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&mut conn)
                    .await
                {
                    // The writer's own auto-checkpoint still bounds the WAL meanwhile.
                    tracing::warn!(%err, "background WAL checkpoint failed");
                }
            }
        });
        Ok(Checkpointer { task })
    }

    pub(super) fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}
