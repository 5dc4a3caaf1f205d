//! The SQL of both backends.
//!
//! Every statement is written once: SQLite and PostgreSQL both accept numbered `$N`
//! placeholders, `ON CONFLICT ... DO UPDATE/NOTHING` and `excluded.`, so only the schema
//! (the migrations) differs. Columns are aliased to the field names of the row types so one
//! `FromRow` derive serves both.
//!
//! Batched statements (many rows or ids per statement) come in a few fixed sizes, powers of
//! two up to [`MAX_BATCH`], so each connection prepares and caches only a handful of them
//! whatever the batch sizes callers use. They differ between backends only in placeholder
//! style ([`Placeholders`]).

use std::sync::OnceLock;

// Column lists shared by several statements, as macros so `concat!` can splice them.
macro_rules! key_columns {
    () => {
        "access_key_id, secret_access_key, account_id, status, created_ms"
    };
}
macro_rules! doc_columns {
    () => {
        "account_id, kind, doc_key AS key, body, created_ms, updated_ms"
    };
}
macro_rules! finding_columns {
    () => {
        "seq, account_id, product_arn, finding_id AS id, updated_at_ms, record_state, \
         customer_fields, body"
    };
}

pub const ACCOUNT_INSERT: &str = "INSERT INTO accounts (account_id, name, created_ms) \
     VALUES ($1, $2, $3) ON CONFLICT (account_id) DO NOTHING";
pub const ACCOUNT_GET: &str =
    "SELECT account_id, name, created_ms FROM accounts WHERE account_id = $1";
pub const ACCOUNT_LIST: &str =
    "SELECT account_id, name, created_ms FROM accounts ORDER BY account_id";

pub const KEY_INSERT: &str = concat!(
    "INSERT INTO access_keys (",
    key_columns!(),
    ") VALUES ($1, $2, $3, $4, $5)"
);
pub const KEY_GET: &str = concat!(
    "SELECT ",
    key_columns!(),
    " FROM access_keys WHERE access_key_id = $1"
);
pub const KEY_LIST_ALL: &str = concat!(
    "SELECT ",
    key_columns!(),
    " FROM access_keys ORDER BY created_ms, access_key_id"
);
pub const KEY_LIST_ACCOUNT: &str = concat!(
    "SELECT ",
    key_columns!(),
    " FROM access_keys WHERE account_id = $1 ORDER BY created_ms, access_key_id"
);
pub const KEY_SET_STATUS: &str = "UPDATE access_keys SET status = $2 WHERE access_key_id = $1";

pub const DOC_INSERT: &str = "INSERT INTO documents \
     (account_id, kind, doc_key, body, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (account_id, kind, doc_key) DO NOTHING";
/// Upsert that keeps `created_ms` of an existing row.
pub const DOC_PUT: &str = "INSERT INTO documents \
     (account_id, kind, doc_key, body, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (account_id, kind, doc_key) \
     DO UPDATE SET body = excluded.body, updated_ms = excluded.updated_ms";
pub const DOC_GET: &str = concat!(
    "SELECT ",
    doc_columns!(),
    " FROM documents WHERE account_id = $1 AND kind = $2 AND doc_key = $3"
);
pub const DOC_LIST: &str = concat!(
    "SELECT ",
    doc_columns!(),
    " FROM documents WHERE account_id = $1 AND kind = $2 ORDER BY created_ms, doc_key"
);
pub const DOC_FIRST_PAGE: &str = concat!(
    "SELECT ",
    doc_columns!(),
    " FROM documents WHERE account_id = $1 AND kind = $2 ORDER BY doc_key LIMIT $3"
);
pub const DOC_PAGE: &str = concat!(
    "SELECT ",
    doc_columns!(),
    " FROM documents WHERE account_id = $1 AND kind = $2 AND doc_key > $3 ORDER BY doc_key LIMIT $4"
);
pub const DOC_DELETE: &str =
    "DELETE FROM documents WHERE account_id = $1 AND kind = $2 AND doc_key = $3";

pub const EVENT_INSERT: &str = "INSERT INTO connection_events \
     (account_id, time_ms, kind, client_id, certificate_id, thing_name, source_ip, source_port, reason) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
pub const EVENT_PAGE: &str = "SELECT event_id AS cursor, account_id, time_ms, kind, client_id, \
     certificate_id, thing_name, source_ip, source_port, reason FROM connection_events \
     WHERE account_id = $1 AND time_ms >= $2 AND time_ms <= $3 AND event_id > $4 \
     ORDER BY event_id LIMIT $5";
pub const EVENT_PRUNE: &str = "DELETE FROM connection_events WHERE time_ms < $1";
pub const DATAPOINT_INSERT: &str = "INSERT INTO metric_datapoints \
     (account_id, thing_name, metric, dimension, time_ms, value_json) VALUES ($1, $2, $3, $4, $5, $6)";
pub const DATAPOINT_PAGE: &str = "SELECT datapoint_id AS cursor, account_id, thing_name, metric, \
     dimension, time_ms, value_json FROM metric_datapoints \
     WHERE account_id = $1 AND thing_name = $2 AND metric = $3 AND dimension = $4 \
     AND time_ms >= $5 AND time_ms <= $6 AND datapoint_id > $7 \
     ORDER BY time_ms, datapoint_id LIMIT $8";
pub const DATAPOINT_PRUNE: &str = "DELETE FROM metric_datapoints WHERE time_ms < $1";

pub const FINDINGS_SCAN: &str = concat!(
    "SELECT ",
    finding_columns!(),
    " FROM findings WHERE seq > $1 ORDER BY seq LIMIT $2"
);

/// `INSERT` of `rows` findings (8 binds each, in [`StoredFinding`](crate::StoredFinding)
/// field order) that overwrites the finding with the same seq, but only if it is the same
/// finding (account, product, id): a seq belongs to one finding for life. Rows skipped that
/// way are missing from the affected-row count, which is how the caller detects them. The
/// check reads only the row being replaced, which the upsert reads anyway.
///
/// Nothing checks that an identity has one seq: the caller (the hub) owns that mapping.
pub static FINDINGS_UPSERT: Batched = Batched::values(
    "INSERT INTO findings (seq, account_id, product_arn, finding_id, updated_at_ms, \
     record_state, customer_fields, body) VALUES ",
    8,
    " ON CONFLICT (seq) DO UPDATE SET updated_at_ms = excluded.updated_at_ms, \
     record_state = excluded.record_state, customer_fields = excluded.customer_fields, \
     body = excluded.body \
     WHERE findings.account_id = excluded.account_id \
     AND findings.product_arn = excluded.product_arn \
     AND findings.finding_id = excluded.finding_id",
);

/// `INSERT` of `rows` history records (9 binds each, in
/// [`HistoryRecord`](crate::HistoryRecord) field order).
pub static HISTORY_INSERT: Batched = Batched::values(
    "INSERT INTO finding_history (finding_seq, account_id, product_arn, finding_id, \
     update_time_ms, created, source_type, identity, updates_json) VALUES ",
    9,
    "",
);

/// Findings whose seq is in a list of `rows` binds.
pub static FINDINGS_BY_SEQ: Batched = Batched::in_list(
    concat!(
        "SELECT ",
        finding_columns!(),
        " FROM findings WHERE seq IN ("
    ),
    ")",
);

/// Deletes the findings whose seq is in a list of `rows` binds, returning their seqs (to
/// raise the high-water mark to the highest deleted).
pub static FINDINGS_DELETE: Batched =
    Batched::in_list("DELETE FROM findings WHERE seq IN (", ") RETURNING seq");

/// The seq high-water mark: the greater of the highest seq present and the counter, which
/// deletes raise to the highest seq they remove (in their transaction). So writes, the hot
/// path, do not touch the counter: no extra page per commit, no lock shared by writers.
/// Both maxima are one index probe.
pub const SEQ_HIGH_WATER_GET: &str = "SELECT COALESCE(MAX(v), 0) FROM ( \
     SELECT value AS v FROM store_counters WHERE name = 'finding_seq' \
     UNION ALL SELECT MAX(seq) AS v FROM findings) AS high";
pub const SEQ_HIGH_WATER_RAISE: &str =
    "UPDATE store_counters SET value = $1 WHERE name = 'finding_seq' AND value < $1";

/// The position of a history cursor, to resume after it in (update time, id) order.
pub const HISTORY_CURSOR_TIME: &str =
    "SELECT update_time_ms FROM finding_history WHERE history_id = $1";
/// One page of a finding's history after position ($5 time, $6 id), by the
/// `finding_history_by_finding` index. The account is a safety net: a seq names one finding.
pub const HISTORY_PAGE: &str = "SELECT history_id AS cursor, finding_seq, account_id, \
     product_arn, finding_id, update_time_ms, created, source_type, identity, updates_json \
     FROM finding_history \
     WHERE finding_seq = $1 AND account_id = $2 \
       AND update_time_ms >= $3 AND update_time_ms <= $4 \
       AND (update_time_ms, history_id) > ($5, $6) \
     ORDER BY update_time_ms, history_id LIMIT $7";
pub const HISTORY_DELETE_BEFORE: &str = "DELETE FROM finding_history WHERE update_time_ms < $1";
/// Deletes the history of the findings whose seq is in a list of `rows` binds.
pub static HISTORY_DELETE_OF: Batched =
    Batched::in_list("DELETE FROM finding_history WHERE finding_seq IN (", ")");

/// Largest number of rows (or ids) in one batched statement. 256 rows of 9 columns is 2,304
/// binds, far below the limits of both backends (SQLite 32,766, PostgreSQL 65,535).
pub const MAX_BATCH: usize = 256;
const SIZES: usize = MAX_BATCH.trailing_zeros() as usize + 1;

/// How a batched statement spells its placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholders {
    /// `$1, $2, ...` (PostgreSQL).
    Numbered,
    /// `?, ?, ...` in bind order (SQLite). sqlx asks SQLite the name of every parameter
    /// when binding and SQLite finds a named one by a linear scan, so thousands of `$N`
    /// cost quadratic time; anonymous `?` have no name to look up.
    Anonymous,
}

/// A statement family with one variant per power-of-two batch size and placeholder style,
/// built on first use.
pub struct Batched {
    prefix: &'static str,
    /// Binds per row for `VALUES` tuples; 0 for a plain `IN (...)` list.
    columns: usize,
    suffix: &'static str,
    numbered: [OnceLock<String>; SIZES],
    anonymous: [OnceLock<String>; SIZES],
}

impl Batched {
    pub(crate) const fn values(prefix: &'static str, columns: usize, suffix: &'static str) -> Self {
        Batched {
            prefix,
            columns,
            suffix,
            numbered: [const { OnceLock::new() }; SIZES],
            anonymous: [const { OnceLock::new() }; SIZES],
        }
    }

    pub(crate) const fn in_list(prefix: &'static str, suffix: &'static str) -> Self {
        Self::values(prefix, 0, suffix)
    }

    /// The statement for `rows` rows; `rows` must be a power of two ≤ [`MAX_BATCH`]
    /// (as produced by [`chunk_sizes`] and [`padded_len`]).
    pub fn get(&self, rows: usize, style: Placeholders) -> &str {
        assert!(
            rows.is_power_of_two() && rows <= MAX_BATCH,
            "bad batch size {rows}"
        );
        let cache = match style {
            Placeholders::Numbered => &self.numbered,
            Placeholders::Anonymous => &self.anonymous,
        };
        cache[rows.trailing_zeros() as usize].get_or_init(|| self.build(rows, style))
    }

    fn build(&self, rows: usize, style: Placeholders) -> String {
        let mut sql = String::with_capacity(self.prefix.len() + self.suffix.len() + rows * 48);
        sql.push_str(self.prefix);
        let mut n = 0;
        let mut placeholder = |sql: &mut String| {
            n += 1;
            match style {
                Placeholders::Numbered => sql.push_str(&format!("${n}")),
                Placeholders::Anonymous => sql.push('?'),
            }
        };
        for row in 0..rows {
            if row > 0 {
                sql.push(',');
            }
            if self.columns == 0 {
                placeholder(&mut sql);
                continue;
            }
            sql.push('(');
            for col in 0..self.columns {
                if col > 0 {
                    sql.push(',');
                }
                placeholder(&mut sql);
            }
            sql.push(')');
        }
        sql.push_str(self.suffix);
        sql
    }
}

/// Splits `n` rows into power-of-two chunk sizes ≤ [`MAX_BATCH`], largest first
/// (100 → 64, 32, 4).
pub fn chunk_sizes(mut n: usize) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if n == 0 {
            return None;
        }
        let size = if n >= MAX_BATCH {
            MAX_BATCH
        } else {
            1 << n.ilog2()
        };
        n -= size;
        Some(size)
    })
}

/// The list length to bind for `n` ids (1 ≤ n ≤ [`MAX_BATCH`]): the next power of two,
/// padding with repeats of the last id, which `IN` ignores.
pub fn padded_len(n: usize) -> usize {
    n.next_power_of_two().min(MAX_BATCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_powers_of_two_and_cover_everything() {
        assert_eq!(chunk_sizes(100).collect::<Vec<_>>(), [64, 32, 4]);
        assert_eq!(chunk_sizes(0).count(), 0);
        assert_eq!(chunk_sizes(600).collect::<Vec<_>>(), [256, 256, 64, 16, 8]);
        for n in 0..1100 {
            let sizes: Vec<_> = chunk_sizes(n).collect();
            assert_eq!(sizes.iter().sum::<usize>(), n);
            assert!(sizes.iter().all(|s| s.is_power_of_two() && *s <= MAX_BATCH));
        }
    }

    #[test]
    fn padding() {
        assert_eq!(padded_len(1), 1);
        assert_eq!(padded_len(100), 128);
        assert_eq!(padded_len(256), 256);
    }

    #[test]
    fn batched_statements_number_their_binds() {
        use Placeholders::*;
        assert_eq!(
            FINDINGS_DELETE.get(2, Numbered),
            "DELETE FROM findings WHERE seq IN ($1,$2) RETURNING seq"
        );
        assert_eq!(
            HISTORY_DELETE_OF.get(2, Anonymous),
            "DELETE FROM finding_history WHERE finding_seq IN (?,?)"
        );
        let upsert = FINDINGS_UPSERT.get(2, Numbered);
        assert!(
            upsert.contains("($1,$2,$3,$4,$5,$6,$7,$8),($9,$10,"),
            "{upsert}"
        );
        assert!(upsert.contains("$16) ON CONFLICT (seq)"), "{upsert}");
        assert!(HISTORY_INSERT.get(1, Numbered).ends_with("$9)"));
        assert!(
            HISTORY_INSERT
                .get(2, Anonymous)
                .ends_with("(?,?,?,?,?,?,?,?,?),(?,?,?,?,?,?,?,?,?)")
        );
    }
}
