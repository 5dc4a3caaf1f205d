//! Reads of many findings packed into one text value.
//!
//! sqlx hands every SQLite result row from the connection's worker thread to the async
//! task through a channel, which costs a thread wake-up per row: most of the time of a
//! 100-finding read. `group_concat` packs the rows into one value, so one hand-off, which
//! halved the time of `get_findings_by_seq` in `examples/write_bench.rs`.
//!
//! Each finding is packed as `seq,updated_at_ms,customer_fields,` then the byte lengths of
//! account id, product ARN, finding id, record state and body, a `:` and those five values.
//! The header holds only digits, `-` and `,`, so the first `:` always ends it. Bodies are
//! binary (compressed, see `body_codec`), so the packed value is read as bytes.

use sqlx::SqlitePool;

use crate::StoredFinding;
use crate::sql::{Batched, Placeholders};

macro_rules! packed_findings {
    () => {
        "CAST(group_concat(seq || ',' || updated_at_ms || ',' || customer_fields || ',' || \
         length(CAST(account_id AS BLOB)) || ',' || length(CAST(product_arn AS BLOB)) || ',' || \
         length(CAST(finding_id AS BLOB)) || ',' || length(CAST(record_state AS BLOB)) || ',' || \
         length(CAST(body AS BLOB)) || ':' || \
         account_id || product_arn || finding_id || record_state || body, '') AS BLOB)"
    };
}

static BY_SEQ: Batched = Batched::in_list(
    concat!(
        "SELECT ",
        packed_findings!(),
        " FROM findings WHERE seq IN ("
    ),
    ")",
);

const AFTER_SEQ: &str = concat!(
    "SELECT ",
    packed_findings!(),
    " FROM (SELECT * FROM findings WHERE seq > ? ORDER BY seq LIMIT ?)"
);

/// Rows per packed scan query: keeps the packed value a few MB, far from SQLite's 1 GB
/// limit on one value.
const SCAN_PAGE: usize = 1000;

/// The findings with the given seqs (at most [`MAX_BATCH`](crate::sql::MAX_BATCH)), any order.
pub(super) async fn by_seq(pool: &SqlitePool, seqs: &[i64]) -> crate::Result<Vec<StoredFinding>> {
    let mut found = Vec::with_capacity(seqs.len());
    let (Some(&last), len) = (seqs.last(), crate::sql::padded_len(seqs.len())) else {
        return Ok(found);
    };
    let mut query = sqlx::query_scalar(BY_SEQ.get(len, Placeholders::Anonymous));
    for i in 0..len {
        query = query.bind(seqs.get(i).copied().unwrap_or(last));
    }
    let packed: Option<Vec<u8>> = query.fetch_one(pool).await?;
    unpack(packed.as_deref().unwrap_or_default(), &mut found)?;
    Ok(found)
}

/// Findings with seq > `after_seq` in seq order, at most `limit`.
pub(super) async fn after_seq(
    pool: &SqlitePool,
    mut after_seq: i64,
    limit: usize,
) -> crate::Result<Vec<StoredFinding>> {
    let mut found = Vec::new();
    while found.len() < limit {
        let page = SCAN_PAGE.min(limit - found.len());
        let packed: Option<Vec<u8>> = sqlx::query_scalar(AFTER_SEQ)
            .bind(after_seq)
            .bind(page as i64)
            .fetch_one(pool)
            .await?;
        let start = found.len();
        unpack(packed.as_deref().unwrap_or_default(), &mut found)?;
        // group_concat promises no order: sort each page (already sorted in practice).
        found[start..].sort_unstable_by_key(|f| f.seq);
        match found.last() {
            Some(last) if found.len() - start == page => after_seq = last.seq,
            _ => break,
        }
    }
    Ok(found)
}

fn unpack(mut packed: &[u8], out: &mut Vec<StoredFinding>) -> crate::Result<()> {
    while !packed.is_empty() {
        let colon = packed
            .iter()
            .position(|&b| b == b':')
            .ok_or_else(|| corrupt("no header end"))?;
        let header = std::str::from_utf8(&packed[..colon]).map_err(|_| corrupt("bad header"))?;
        let mut rest = &packed[colon + 1..];
        let mut numbers = header.split(',').map(|n| n.parse::<i64>());
        let mut number = || -> crate::Result<i64> {
            numbers
                .next()
                .and_then(|n| n.ok())
                .ok_or_else(|| corrupt("bad header"))
        };
        let (seq, updated_at_ms, customer_fields) = (number()?, number()?, number()?);
        let lengths = [number()?, number()?, number()?, number()?, number()?];
        let mut field = |len: i64| -> crate::Result<&[u8]> {
            let (field, tail) = usize::try_from(len)
                .ok()
                .and_then(|len| rest.split_at_checked(len))
                .ok_or_else(|| corrupt("bad length"))?;
            rest = tail;
            Ok(field)
        };
        let text = |bytes: &[u8]| {
            String::from_utf8(bytes.to_vec()).map_err(|_| corrupt("text is not UTF-8"))
        };
        out.push(StoredFinding {
            seq,
            account_id: text(field(lengths[0])?)?,
            product_arn: text(field(lengths[1])?)?,
            id: text(field(lengths[2])?)?,
            updated_at_ms,
            record_state: text(field(lengths[3])?)?,
            customer_fields,
            body: super::body_codec::decode(field(lengths[4])?).map_err(|e| corrupt(&e))?,
            encoded_body: None,
        });
        packed = rest;
    }
    Ok(())
}

fn corrupt(what: &str) -> crate::StoreError {
    crate::StoreError::Database(sqlx::Error::Decode(
        format!("packed findings: {what}").into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacks_multibyte_texts_by_byte_length() {
        let packed = "7,-1,2,1,2,4,6,6:aβ:x:1ACTIVE{\"ü\"}3,4,0,1,1,1,1,2:bcde{}";
        let mut out = Vec::new();
        unpack(packed.as_bytes(), &mut out).expect("valid");
        assert_eq!(out.len(), 2);
        assert_eq!(
            (out[0].seq, out[0].updated_at_ms, out[0].customer_fields),
            (7, -1, 2)
        );
        assert_eq!(
            [
                &out[0].account_id,
                &out[0].product_arn,
                &out[0].id,
                &out[0].record_state
            ],
            ["a", "β", ":x:1", "ACTIVE"]
        );
        assert_eq!(out[0].body, "{\"ü\"}");
        assert_eq!((out[1].id.as_str(), out[1].body.as_str()), ("d", "{}"));
    }

    #[test]
    fn rejects_damaged_values() {
        for bad in [
            "1,2,3",
            "1,2,3,1,1,1,1,9:abcde",
            "x,2,3,1,1,1,1,1:abcde",
            "1,2,3,1,1,1,1,1:ab€",
        ] {
            assert!(unpack(bad.as_bytes(), &mut Vec::new()).is_err(), "{bad}");
        }
    }

    #[test]
    fn unpacks_compressed_bodies() {
        let body = r#"{"Id":"a:b","Title":"check check check check check"}"#;
        let mut packed = format!(
            "5,1,0,1,1,1,1,{}:abcd",
            super::super::body_codec::encode(body).len()
        )
        .into_bytes();
        packed.extend(super::super::body_codec::encode(body));
        let mut out = Vec::new();
        unpack(&packed, &mut out).expect("valid");
        assert_eq!(out[0].body, body);
        assert_eq!(out[0].record_state, "d");
    }
}
