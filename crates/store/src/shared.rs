//! The one implementation of [`Store`](crate::Store), shared by both backends.
//!
//! sqlx has no backend-generic way to run a query and count affected rows, so the shared
//! code is a macro expanded once per backend type. The type must provide:
//! - `fn reader(&self) -> &sqlx::Pool<DB>`: the pool for reads;
//! - `fn writer(&self) -> &sqlx::Pool<DB>`: the pool for single-statement writes;
//! - `async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, DB>>`;
//! - `async fn shutdown(&self)`: stops background work, releases the node lock and closes
//!   the pools;
//! - `async fn take_node_lock(&self) -> Result<()>`: [`Store::lock_node`](crate::Store::lock_node);
//! - `async fn findings_by_seq(&self, seqs: &[i64]) -> Result<Vec<StoredFinding>>` for at
//!   most [`MAX_BATCH`](crate::sql::MAX_BATCH) seqs, and
//!   `async fn findings_after(&self, after_seq: i64, limit: usize) -> Result<Vec<StoredFinding>>`:
//!   bulk reads, which SQLite does its own way (see `sqlite/packed.rs`).

use std::collections::HashMap;

use crate::StoredFinding;

/// The findings to write, keeping only the last one of each seq: PostgreSQL refuses to
/// upsert the same row twice in one statement, and "last write wins" is what a caller
/// writing them one by one would get.
pub(crate) fn last_per_seq(findings: &[StoredFinding]) -> Vec<&StoredFinding> {
    if findings.windows(2).all(|w| w[0].seq < w[1].seq) {
        return findings.iter().collect();
    }
    let last: HashMap<i64, usize> = findings
        .iter()
        .enumerate()
        .map(|(i, f)| (f.seq, i))
        .collect();
    findings
        .iter()
        .enumerate()
        .filter(|(i, f)| last.get(&f.seq) == Some(i))
        .map(|(_, f)| f)
        .collect()
}

/// Row of a history page: the cursor and the record.
#[derive(sqlx::FromRow)]
pub(crate) struct HistoryRow {
    pub cursor: i64,
    #[sqlx(flatten)]
    pub record: crate::HistoryRecord,
}

/// Row of an event page: the cursor and the event.
#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    pub cursor: i64,
    #[sqlx(flatten)]
    pub event: crate::ConnectionEvent,
}

/// Row of a datapoint page: the cursor and the datapoint.
#[derive(sqlx::FromRow)]
pub(crate) struct DatapointRow {
    pub cursor: i64,
    #[sqlx(flatten)]
    pub point: crate::Datapoint,
}

/// Expands to `impl Store for $ty`; `$backend` is what `backend()` returns and
/// `$placeholders` the [`Placeholders`](crate::sql::Placeholders) of batched statements.
macro_rules! impl_store {
    ($ty:ty, $backend:literal, $placeholders:expr) => {
        #[async_trait::async_trait]
        impl $crate::Store for $ty {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn create_account(&self, row: &$crate::AccountRow) -> $crate::Result<bool> {
                let done = sqlx::query($crate::sql::ACCOUNT_INSERT)
                    .bind(&row.account_id)
                    .bind(&row.name)
                    .bind(row.created_ms)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn get_account(
                &self,
                account_id: &str,
            ) -> $crate::Result<Option<$crate::AccountRow>> {
                Ok(sqlx::query_as($crate::sql::ACCOUNT_GET)
                    .bind(account_id)
                    .fetch_optional(self.reader())
                    .await?)
            }

            async fn list_accounts(&self) -> $crate::Result<Vec<$crate::AccountRow>> {
                Ok(sqlx::query_as($crate::sql::ACCOUNT_LIST)
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn put_access_key(&self, row: &$crate::AccessKeyRow) -> $crate::Result<()> {
                sqlx::query($crate::sql::KEY_INSERT)
                    .bind(&row.access_key_id)
                    .bind(&row.secret_access_key)
                    .bind(&row.account_id)
                    .bind(&row.status)
                    .bind(row.created_ms)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn get_access_key(
                &self,
                access_key_id: &str,
            ) -> $crate::Result<Option<$crate::AccessKeyRow>> {
                Ok(sqlx::query_as($crate::sql::KEY_GET)
                    .bind(access_key_id)
                    .fetch_optional(self.reader())
                    .await?)
            }

            async fn list_access_keys(
                &self,
                account_id: Option<&str>,
            ) -> $crate::Result<Vec<$crate::AccessKeyRow>> {
                let query = match account_id {
                    Some(id) => sqlx::query_as($crate::sql::KEY_LIST_ACCOUNT).bind(id),
                    None => sqlx::query_as($crate::sql::KEY_LIST_ALL),
                };
                Ok(query.fetch_all(self.reader()).await?)
            }

            async fn set_access_key_status(
                &self,
                access_key_id: &str,
                status: &str,
            ) -> $crate::Result<bool> {
                let done = sqlx::query($crate::sql::KEY_SET_STATUS)
                    .bind(access_key_id)
                    .bind(status)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn insert_document(&self, doc: &$crate::Document) -> $crate::Result<bool> {
                let done = sqlx::query($crate::sql::DOC_INSERT)
                    .bind(&doc.account_id)
                    .bind(&doc.kind)
                    .bind(&doc.key)
                    .bind(&doc.body)
                    .bind(doc.created_ms)
                    .bind(doc.updated_ms)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn put_document(&self, doc: &$crate::Document) -> $crate::Result<()> {
                sqlx::query($crate::sql::DOC_PUT)
                    .bind(&doc.account_id)
                    .bind(&doc.kind)
                    .bind(&doc.key)
                    .bind(&doc.body)
                    .bind(doc.created_ms)
                    .bind(doc.updated_ms)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn get_document(
                &self,
                account_id: &str,
                kind: &str,
                key: &str,
            ) -> $crate::Result<Option<$crate::Document>> {
                Ok(sqlx::query_as($crate::sql::DOC_GET)
                    .bind(account_id)
                    .bind(kind)
                    .bind(key)
                    .fetch_optional(self.reader())
                    .await?)
            }

            async fn list_documents(
                &self,
                account_id: &str,
                kind: &str,
            ) -> $crate::Result<Vec<$crate::Document>> {
                Ok(sqlx::query_as($crate::sql::DOC_LIST)
                    .bind(account_id)
                    .bind(kind)
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn delete_document(
                &self,
                account_id: &str,
                kind: &str,
                key: &str,
            ) -> $crate::Result<bool> {
                let done = sqlx::query($crate::sql::DOC_DELETE)
                    .bind(account_id)
                    .bind(kind)
                    .bind(key)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn write_documents(
                &self,
                writes: &[$crate::DocumentWrite],
            ) -> $crate::Result<()> {
                if writes.is_empty() {
                    return Ok(());
                }
                let mut tx = self.begin_write().await?;
                for write in writes {
                    match write {
                        $crate::DocumentWrite::Put(doc) => {
                            sqlx::query($crate::sql::DOC_PUT)
                                .bind(&doc.account_id)
                                .bind(&doc.kind)
                                .bind(&doc.key)
                                .bind(&doc.body)
                                .bind(doc.created_ms)
                                .bind(doc.updated_ms)
                                .execute(&mut *tx)
                                .await?;
                        }
                        $crate::DocumentWrite::Delete {
                            account_id,
                            kind,
                            key,
                        } => {
                            sqlx::query($crate::sql::DOC_DELETE)
                                .bind(account_id)
                                .bind(kind)
                                .bind(key)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                }
                // An error above drops `tx`, which rolls everything back.
                tx.commit().await?;
                Ok(())
            }

            async fn list_documents_page(
                &self,
                account_id: &str,
                kind: &str,
                after_key: Option<&str>,
                limit: usize,
            ) -> $crate::Result<Vec<$crate::Document>> {
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                let query = match after_key {
                    Some(after) => sqlx::query_as($crate::sql::DOC_PAGE)
                        .bind(account_id)
                        .bind(kind)
                        .bind(after)
                        .bind(limit),
                    None => sqlx::query_as($crate::sql::DOC_FIRST_PAGE)
                        .bind(account_id)
                        .bind(kind)
                        .bind(limit),
                };
                Ok(query.fetch_all(self.reader()).await?)
            }

            async fn write_findings(
                &self,
                findings: &[$crate::StoredFinding],
                history: &[$crate::HistoryRecord],
            ) -> $crate::Result<()> {
                if findings.is_empty() && history.is_empty() {
                    return Ok(());
                }
                let findings = $crate::shared::last_per_seq(findings);
                let mut tx = self.begin_write().await?;
                let mut rest = &findings[..];
                for size in $crate::sql::chunk_sizes(rest.len()) {
                    let (chunk, tail) = rest.split_at(size);
                    rest = tail;
                    let mut query =
                        sqlx::query($crate::sql::FINDINGS_UPSERT.get(size, $placeholders));
                    for f in chunk {
                        query = query
                            .bind(f.seq)
                            .bind(f.account_id.as_str())
                            .bind(f.product_arn.as_str())
                            .bind(f.id.as_str())
                            .bind(f.updated_at_ms)
                            .bind(f.record_state.as_str())
                            .bind(f.customer_fields)
                            .bind(Self::stored_body(f));
                    }
                    let done = query.execute(&mut *tx).await?;
                    if done.rows_affected() != size as u64 {
                        return Err($crate::StoreError::Constraint(
                            "a finding seq is already used by another finding".into(),
                        ));
                    }
                }
                let mut rest = history;
                for size in $crate::sql::chunk_sizes(rest.len()) {
                    let (chunk, tail) = rest.split_at(size);
                    rest = tail;
                    let mut query =
                        sqlx::query($crate::sql::HISTORY_INSERT.get(size, $placeholders));
                    for h in chunk {
                        query = query
                            .bind(h.finding_seq)
                            .bind(h.account_id.as_str())
                            .bind(h.product_arn.as_str())
                            .bind(h.finding_id.as_str())
                            .bind(h.update_time_ms)
                            .bind(h.created)
                            .bind(h.source_type.as_str())
                            .bind(h.identity.as_str())
                            .bind(h.updates_json.as_str());
                    }
                    query.execute(&mut *tx).await?;
                }
                // An error above drops `tx`, which rolls everything back.
                tx.commit().await?;
                Ok(())
            }

            fn encode_body(&self, body: &str) -> Option<Vec<u8>> {
                Self::encoded_ahead(body)
            }

            async fn scan_findings(
                &self,
                after_seq: i64,
                limit: usize,
            ) -> $crate::Result<Vec<$crate::StoredFinding>> {
                self.findings_after(after_seq, limit).await
            }

            async fn get_findings_by_seq(
                &self,
                seqs: &[i64],
            ) -> $crate::Result<Vec<$crate::StoredFinding>> {
                let mut found = Vec::with_capacity(seqs.len());
                for chunk in seqs.chunks($crate::sql::MAX_BATCH) {
                    found.extend(self.findings_by_seq(chunk).await?);
                }
                Ok(found)
            }

            async fn delete_findings(&self, seqs: &[i64]) -> $crate::Result<u64> {
                if seqs.is_empty() {
                    return Ok(0);
                }
                let mut tx = self.begin_write().await?;
                let (mut deleted, mut max_deleted) = (0, None);
                for chunk in seqs.chunks($crate::sql::MAX_BATCH) {
                    let len = $crate::sql::padded_len(chunk.len());
                    let mut query = sqlx::query_scalar::<_, i64>(
                        $crate::sql::FINDINGS_DELETE.get(len, $placeholders),
                    );
                    for i in 0..len {
                        query = query.bind(chunk[i.min(chunk.len() - 1)]);
                    }
                    let gone = query.fetch_all(&mut *tx).await?;
                    deleted += gone.len() as u64;
                    max_deleted = max_deleted.max(gone.into_iter().max());
                }
                // The high-water mark counts the seqs present: keep the deleted ones in it.
                if let Some(max_seq) = max_deleted {
                    sqlx::query($crate::sql::SEQ_HIGH_WATER_RAISE)
                        .bind(max_seq)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(deleted)
            }

            async fn max_finding_seq(&self) -> $crate::Result<i64> {
                Ok(sqlx::query_scalar($crate::sql::SEQ_HIGH_WATER_GET)
                    .fetch_one(self.reader())
                    .await?)
            }

            async fn finding_history(
                &self,
                account_id: &str,
                finding_seq: i64,
                start_ms: i64,
                end_ms: i64,
                after_cursor: Option<i64>,
                limit: usize,
            ) -> $crate::Result<Vec<(i64, $crate::HistoryRecord)>> {
                // Resume strictly after the cursor's (time, id) position. A cursor whose
                // record was pruned by `delete_history_before` was older than every record
                // left, so resuming from the start is right (one pruned by
                // `delete_history_of` took the whole history with it).
                let mut after = (i64::MIN, i64::MIN);
                if let Some(cursor) = after_cursor {
                    let time: Option<i64> = sqlx::query_scalar($crate::sql::HISTORY_CURSOR_TIME)
                        .bind(cursor)
                        .fetch_optional(self.reader())
                        .await?;
                    if let Some(time) = time {
                        after = (time, cursor);
                    }
                }
                let rows: Vec<$crate::shared::HistoryRow> =
                    sqlx::query_as($crate::sql::HISTORY_PAGE)
                        .bind(finding_seq)
                        .bind(account_id)
                        .bind(start_ms)
                        .bind(end_ms)
                        .bind(after.0)
                        .bind(after.1)
                        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                        .fetch_all(self.reader())
                        .await?;
                Ok(rows
                    .into_iter()
                    .map(|row| (row.cursor, row.record))
                    .collect())
            }

            async fn delete_history_before(&self, before_ms: i64) -> $crate::Result<u64> {
                let done = sqlx::query($crate::sql::HISTORY_DELETE_BEFORE)
                    .bind(before_ms)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected())
            }

            async fn delete_history_of(&self, finding_seqs: &[i64]) -> $crate::Result<u64> {
                if finding_seqs.is_empty() {
                    return Ok(0);
                }
                let mut tx = self.begin_write().await?;
                let mut deleted = 0;
                for chunk in finding_seqs.chunks($crate::sql::MAX_BATCH) {
                    let len = $crate::sql::padded_len(chunk.len());
                    let mut query =
                        sqlx::query($crate::sql::HISTORY_DELETE_OF.get(len, $placeholders));
                    for i in 0..len {
                        query = query.bind(chunk[i.min(chunk.len() - 1)]);
                    }
                    deleted += query.execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
                Ok(deleted)
            }

            async fn append_connection_events(
                &self,
                events: &[$crate::ConnectionEvent],
            ) -> $crate::Result<()> {
                if events.is_empty() {
                    return Ok(());
                }
                let mut tx = self.begin_write().await?;
                for e in events {
                    sqlx::query($crate::sql::EVENT_INSERT)
                        .bind(&e.account_id)
                        .bind(e.time_ms)
                        .bind(&e.kind)
                        .bind(&e.client_id)
                        .bind(&e.certificate_id)
                        .bind(&e.thing_name)
                        .bind(&e.source_ip)
                        .bind(e.source_port)
                        .bind(&e.reason)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn connection_events(
                &self,
                account_id: &str,
                from_ms: i64,
                to_ms: i64,
                after_cursor: i64,
                limit: usize,
            ) -> $crate::Result<Vec<(i64, $crate::ConnectionEvent)>> {
                let rows: Vec<$crate::shared::EventRow> = sqlx::query_as($crate::sql::EVENT_PAGE)
                    .bind(account_id)
                    .bind(from_ms)
                    .bind(to_ms)
                    .bind(after_cursor)
                    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                    .fetch_all(self.reader())
                    .await?;
                Ok(rows.into_iter().map(|r| (r.cursor, r.event)).collect())
            }

            async fn delete_connection_events_before(&self, before_ms: i64) -> $crate::Result<u64> {
                let done = sqlx::query($crate::sql::EVENT_PRUNE)
                    .bind(before_ms)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected())
            }

            async fn append_datapoints(&self, points: &[$crate::Datapoint]) -> $crate::Result<()> {
                if points.is_empty() {
                    return Ok(());
                }
                let mut tx = self.begin_write().await?;
                for p in points {
                    sqlx::query($crate::sql::DATAPOINT_INSERT)
                        .bind(&p.account_id)
                        .bind(&p.thing_name)
                        .bind(&p.metric)
                        .bind(&p.dimension)
                        .bind(p.time_ms)
                        .bind(&p.value_json)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

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
            ) -> $crate::Result<Vec<(i64, $crate::Datapoint)>> {
                let rows: Vec<$crate::shared::DatapointRow> =
                    sqlx::query_as($crate::sql::DATAPOINT_PAGE)
                        .bind(account_id)
                        .bind(thing_name)
                        .bind(metric)
                        .bind(dimension)
                        .bind(from_ms)
                        .bind(to_ms)
                        .bind(after_cursor)
                        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                        .fetch_all(self.reader())
                        .await?;
                Ok(rows.into_iter().map(|r| (r.cursor, r.point)).collect())
            }

            async fn delete_datapoints_before(&self, before_ms: i64) -> $crate::Result<u64> {
                let done = sqlx::query($crate::sql::DATAPOINT_PRUNE)
                    .bind(before_ms)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected())
            }

            async fn lock_node(&self) -> $crate::Result<()> {
                self.take_node_lock().await
            }

            async fn close(&self) {
                self.shutdown().await;
            }
        }
    };
}

pub(crate) use impl_store;

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(seq: i64, body: &str) -> StoredFinding {
        StoredFinding {
            seq,
            account_id: "a".into(),
            product_arn: "p".into(),
            id: format!("f{seq}"),
            updated_at_ms: 0,
            record_state: "ACTIVE".into(),
            customer_fields: 0,
            body: body.into(),
            encoded_body: None,
        }
    }

    #[test]
    fn last_write_of_a_seq_wins() {
        let batch = [finding(1, "old"), finding(2, "x"), finding(1, "new")];
        let kept: Vec<_> = last_per_seq(&batch)
            .iter()
            .map(|f| (f.seq, f.body.as_str()))
            .collect();
        assert_eq!(kept, [(2, "x"), (1, "new")]);
        let sorted = [finding(1, "a"), finding(2, "b")];
        assert_eq!(last_per_seq(&sorted).len(), 2);
    }
}
