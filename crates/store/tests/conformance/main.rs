//! The store conformance suite: every case in `cases.rs` runs against a fresh SQLite file
//! and, when `FLEETWARD_TEST_PG_URL` is set, against a fresh PostgreSQL database (see
//! `harness.rs`; with `CI=true` the PostgreSQL tests fail instead of skipping).

mod cases;
mod harness;

/// Declares one test per case and backend: `sqlite::CASE` and `postgres::CASE`.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    crate::harness::with_sqlite(crate::cases::$case).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    crate::harness::with_postgres(crate::cases::$case).await;
                }
            )*
        }
    };
}

conformance!(
    backend_matches_url,
    accounts,
    access_keys,
    access_key_constraints,
    insert_document_conflict,
    put_document_upserts_and_keeps_created,
    list_and_delete_documents,
    write_and_read_findings,
    upsert_findings_by_seq,
    last_of_a_duplicate_seq_wins,
    write_findings_is_all_or_nothing,
    identities_are_the_callers_business,
    large_batches,
    scan_findings_pages,
    max_finding_seq_is_a_high_water_mark,
    seqs_are_positive,
    empty_inputs,
    history_windows_and_paging,
    history_orders_by_time_not_insertion,
    delete_history_before,
    delete_history_of,
    bodies_round_trip_exactly,
    concurrent_writers,
    open_creates_a_missing_database,
    reopen_keeps_data,
    node_lock_is_exclusive,
    write_documents_is_one_transaction,
    document_pages_follow_the_key_order,
    connection_events_page_and_prune,
    datapoints_by_device_metric_and_time,
);
