//! Fresh, isolated databases for each conformance case.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use fleetward_store::{Store, open};
use sqlx::{Connection, PgConnection};

/// What a case gets: the open store and the URL to open it again.
pub struct Fixture {
    pub store: Arc<dyn Store>,
    pub url: String,
}

/// Runs `case` against a new SQLite file in a temporary directory.
pub async fn with_sqlite<F, Fut>(case: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let store = open(&url).await.expect("open sqlite store");
    case(Fixture {
        store: store.clone(),
        url,
    })
    .await;
    store.close().await;
}

/// Runs `case` against a database created for it (and dropped after it, pass or fail)
/// through the admin URL in `FLEETWARD_TEST_PG_URL`, so cases are independent and can run
/// in parallel. Without the variable the case is skipped, unless `CI=true`: then it fails,
/// so CI can never silently skip PostgreSQL.
pub async fn with_postgres<F, Fut>(case: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let admin_url = match std::env::var("FLEETWARD_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var("CI").is_ok_and(|ci| ci == "true") => panic!(
            "CI=true but FLEETWARD_TEST_PG_URL is not set; start a server with \
             `export FLEETWARD_TEST_PG_URL=$(scripts/pg-test-cluster.sh start DIR | tail -n1)`"
        ),
        _ => {
            eprintln!("skipped: set FLEETWARD_TEST_PG_URL to run the PostgreSQL conformance tests");
            return;
        }
    };
    let name = unique_database_name();
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .expect("connect to admin url");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create test database");

    let url = with_database(&admin_url, &name);
    let outcome = async {
        let store = open(&url).await.expect("open postgres store");
        // A task, so a failing case comes back as an error and the database still gets dropped.
        let run = tokio::spawn(case(Fixture {
            store: store.clone(),
            url: url.clone(),
        }))
        .await;
        store.close().await;
        run
    }
    .await;

    drop_database(&mut admin, &name).await;
    admin.close().await.ok();
    if let Err(err) = outcome {
        match err.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(err) => panic!("case did not finish: {err}"),
        }
    }
}

/// Drops database `name` through a connection to `url` (any database of that server).
pub async fn drop_postgres_database(url: &str, name: &str) {
    let mut conn = PgConnection::connect(url)
        .await
        .expect("connect to drop a database");
    drop_database(&mut conn, name).await;
    conn.close().await.ok();
}

async fn drop_database(conn: &mut PgConnection, name: &str) {
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(conn)
        .await
        .expect("drop test database");
}

fn unique_database_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "fw_test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// `url` with its database name replaced by `name` (query parameters kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{server}/{name}{query}")
}

#[test]
fn database_name_is_replaced() {
    assert_eq!(
        with_database("postgres://u@h:1/db", "x"),
        "postgres://u@h:1/x"
    );
    assert_eq!(with_database("postgres://u@h:1", "x"), "postgres://u@h:1/x");
    assert_eq!(
        with_database("postgres://u@h/db?sslmode=disable", "x"),
        "postgres://u@h/x?sslmode=disable"
    );
}
