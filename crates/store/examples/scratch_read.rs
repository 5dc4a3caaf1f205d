use std::time::Instant;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::Row;
use std::str::FromStr;

#[tokio::main]
async fn main() {
    let opts = SqliteConnectOptions::from_str("sqlite:///tmp/fwb/bench.db").unwrap().pragma("mmap_size", std::env::var("MM").unwrap_or("1073741824".into())).pragma("cache_size", std::env::var("CS").unwrap_or("-2000".into()));
    let pool = SqlitePoolOptions::new().max_connections(2).connect_with(opts).await.unwrap();
    let mut x: u64 = 88172645463325252;
    let mut rnd = || { x ^= x << 13; x ^= x >> 7; x ^= x << 17; (x % 400000) as i64 + 1 };
    let q = format!("SELECT seq, account_id, product_arn, finding_id AS id, updated_at_ms, record_state, customer_fields, body FROM findings WHERE seq IN ({})", vec!["?"; 128].join(","));
    let agg = format!("SELECT group_concat(seq || ',' || updated_at_ms || ',' || customer_fields || ',' || length(CAST(account_id AS BLOB)) || ',' || length(CAST(product_arn AS BLOB)) || ',' || length(CAST(finding_id AS BLOB)) || ',' || length(CAST(record_state AS BLOB)) || ',' || length(CAST(body AS BLOB)) || ':' || account_id || product_arn || finding_id || record_state || body, '') FROM findings WHERE seq IN ({})", vec!["?"; 128].join(","));
    for round in 0..3 {
        let t = Instant::now();
        let mut n = 0;
        for _ in 0..1000 {
            let mut query = sqlx::query(&q);
            for _ in 0..128 { query = query.bind(rnd()); }
            let rows = query.fetch_all(&pool).await.unwrap();
            for r in &rows { let b: String = r.get("body"); n += b.len(); }
        }
        println!("rows: {:?} per call ({n})", t.elapsed() / 1000);
        let t = Instant::now();
        let mut n = 0;
        for _ in 0..1000 {
            let mut query = sqlx::query(&agg);
            for _ in 0..128 { query = query.bind(rnd()); }
            let row = query.fetch_one(&pool).await.unwrap();
            let s: String = row.get(0);
            n += s.len();
        }
        println!("agg: {:?} per call ({n}) round {round}", t.elapsed() / 1000);
    }
}
