//! The conformance cases: each takes a fresh store and checks one behaviour of the trait.

use fleetward_store::{
    AccessKeyRow, AccountRow, Document, HistoryRecord, StoreError, StoredFinding, open,
};

use crate::harness::Fixture;

const PRODUCT: &str = "arn:aws:securityhub:us-east-1::product/fleetward/audit";

fn account(id: &str, name: &str, created_ms: i64) -> AccountRow {
    AccountRow {
        account_id: id.into(),
        name: name.into(),
        created_ms,
    }
}

fn key(id: &str, account_id: &str, created_ms: i64) -> AccessKeyRow {
    AccessKeyRow {
        access_key_id: id.into(),
        secret_access_key: format!("secret-of-{id}"),
        account_id: account_id.into(),
        status: "Active".into(),
        created_ms,
    }
}

fn doc(account_id: &str, kind: &str, key: &str, body: &str, created_ms: i64) -> Document {
    Document {
        account_id: account_id.into(),
        kind: kind.into(),
        key: key.into(),
        body: body.into(),
        created_ms,
        updated_ms: created_ms,
    }
}

fn finding(seq: i64, id: &str) -> StoredFinding {
    StoredFinding {
        seq,
        account_id: "111111111111".into(),
        product_arn: PRODUCT.into(),
        id: id.into(),
        updated_at_ms: 1_000 + seq,
        record_state: "ACTIVE".into(),
        customer_fields: 0,
        body: format!(r#"{{"Id":"{id}","Seq":{seq}}}"#),
        encoded_body: None,
    }
}

/// A history record of the finding `finding(seq, "f{seq}")`.
fn history(seq: i64, update_time_ms: i64, tag: &str) -> HistoryRecord {
    HistoryRecord {
        finding_seq: seq,
        account_id: "111111111111".into(),
        product_arn: PRODUCT.into(),
        finding_id: format!("f{seq}"),
        update_time_ms,
        created: tag == "created",
        source_type: "BATCH_IMPORT_FINDINGS".into(),
        identity: "arn:aws:iam::111111111111:root".into(),
        updates_json: format!(r#"[{{"tag":"{tag}"}}]"#),
    }
}

fn sorted(mut findings: Vec<StoredFinding>) -> Vec<StoredFinding> {
    findings.sort_by_key(|f| f.seq);
    findings
}

async fn history_of(fx: &Fixture, seq: i64) -> Vec<(i64, HistoryRecord)> {
    fx.store
        .finding_history("111111111111", seq, i64::MIN, i64::MAX, None, 1000)
        .await
        .expect("history")
}

fn times(page: Vec<(i64, HistoryRecord)>) -> Vec<i64> {
    page.into_iter().map(|(_, r)| r.update_time_ms).collect()
}

pub async fn backend_matches_url(fx: Fixture) {
    let expected = if fx.url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(fx.store.backend(), expected);
}

pub async fn accounts(fx: Fixture) {
    let s = &fx.store;
    assert!(s.list_accounts().await.expect("list").is_empty());
    assert!(
        s.create_account(&account("222222222222", "second", 2))
            .await
            .expect("create")
    );
    assert!(
        s.create_account(&account("111111111111", "first", 1))
            .await
            .expect("create")
    );
    // Creating again reports false and changes nothing.
    assert!(
        !s.create_account(&account("111111111111", "renamed", 9))
            .await
            .expect("again")
    );
    assert_eq!(
        s.get_account("111111111111").await.expect("get"),
        Some(account("111111111111", "first", 1))
    );
    assert_eq!(
        s.get_account("999999999999").await.expect("get missing"),
        None
    );
    let ids: Vec<_> = s
        .list_accounts()
        .await
        .expect("list")
        .into_iter()
        .map(|a| a.account_id)
        .collect();
    assert_eq!(ids, ["111111111111", "222222222222"]);
}

pub async fn access_keys(fx: Fixture) {
    let s = &fx.store;
    s.create_account(&account("111111111111", "a", 0))
        .await
        .expect("account");
    s.create_account(&account("222222222222", "b", 0))
        .await
        .expect("account");
    s.put_access_key(&key("AKIAB", "111111111111", 20))
        .await
        .expect("put");
    s.put_access_key(&key("AKIAA", "111111111111", 20))
        .await
        .expect("put");
    s.put_access_key(&key("AKIAC", "222222222222", 10))
        .await
        .expect("put");

    assert_eq!(
        s.get_access_key("AKIAB").await.expect("get"),
        Some(key("AKIAB", "111111111111", 20))
    );
    assert_eq!(s.get_access_key("AKIAZ").await.expect("get missing"), None);

    let ids = |keys: Vec<AccessKeyRow>| keys.into_iter().map(|k| k.access_key_id).collect();
    let all: Vec<String> = ids(s.list_access_keys(None).await.expect("list all"));
    assert_eq!(all, ["AKIAC", "AKIAA", "AKIAB"], "by created_ms, then id");
    let mine: Vec<String> = ids(s
        .list_access_keys(Some("111111111111"))
        .await
        .expect("list"));
    assert_eq!(mine, ["AKIAA", "AKIAB"]);
    assert!(
        s.list_access_keys(Some("333333333333"))
            .await
            .expect("list none")
            .is_empty()
    );

    assert!(
        s.set_access_key_status("AKIAA", "Inactive")
            .await
            .expect("set")
    );
    let got = s
        .get_access_key("AKIAA")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got.status, "Inactive");
    assert!(
        s.set_access_key_status("AKIAA", "Active")
            .await
            .expect("set back")
    );
    assert!(
        !s.set_access_key_status("AKIAZ", "Inactive")
            .await
            .expect("unknown")
    );
}

pub async fn access_key_constraints(fx: Fixture) {
    let s = &fx.store;
    s.create_account(&account("111111111111", "a", 0))
        .await
        .expect("account");
    s.put_access_key(&key("AKIAA", "111111111111", 1))
        .await
        .expect("put");

    let mut other = key("AKIAA", "111111111111", 2);
    other.secret_access_key = "other".into();
    let err = s.put_access_key(&other).await.expect_err("duplicate id");
    assert!(err.is_already_exists(), "{err:?}");
    let kept = s
        .get_access_key("AKIAA")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(kept.secret_access_key, "secret-of-AKIAA");

    let err = s
        .put_access_key(&key("AKIAB", "999999999999", 1))
        .await
        .expect_err("no account");
    assert!(matches!(err, StoreError::Constraint(_)), "{err:?}");

    let err = s
        .set_access_key_status("AKIAA", "Deleted")
        .await
        .expect_err("bad status");
    assert!(matches!(err, StoreError::Constraint(_)), "{err:?}");
    assert_eq!(s.list_access_keys(None).await.expect("list").len(), 1);
}

pub async fn insert_document_conflict(fx: Fixture) {
    let s = &fx.store;
    let first = doc("111111111111", "insight", "arn:1", r#"{"v":1}"#, 10);
    assert!(s.insert_document(&first).await.expect("insert"));
    let second = doc("111111111111", "insight", "arn:1", r#"{"v":2}"#, 20);
    assert!(!s.insert_document(&second).await.expect("conflict"));
    assert_eq!(
        s.get_document("111111111111", "insight", "arn:1")
            .await
            .expect("get"),
        Some(first)
    );
    // The same key under another kind or account is another document.
    assert!(
        s.insert_document(&doc("111111111111", "tag", "arn:1", "{}", 1))
            .await
            .expect("kind")
    );
    assert!(
        s.insert_document(&doc("222222222222", "insight", "arn:1", "{}", 1))
            .await
            .expect("a")
    );
}

pub async fn put_document_upserts_and_keeps_created(fx: Fixture) {
    let s = &fx.store;
    let original = doc("111111111111", "hub", "state", r#"{"on":true}"#, 100);
    s.put_document(&original).await.expect("put new");
    assert_eq!(
        s.get_document("111111111111", "hub", "state")
            .await
            .expect("get"),
        Some(original)
    );

    let mut change = doc("111111111111", "hub", "state", r#"{"on":false}"#, 500);
    change.updated_ms = 600;
    s.put_document(&change).await.expect("put again");
    let got = s
        .get_document("111111111111", "hub", "state")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got.body, r#"{"on":false}"#);
    assert_eq!(
        got.created_ms, 100,
        "created_ms of the existing row is kept"
    );
    assert_eq!(got.updated_ms, 600);
    assert_eq!(
        s.get_document("111111111111", "hub", "other")
            .await
            .expect("get missing"),
        None
    );
}

pub async fn list_and_delete_documents(fx: Fixture) {
    let s = &fx.store;
    for (key, created) in [("c", 5), ("b", 7), ("a", 7), ("Z", 1)] {
        s.put_document(&doc("111111111111", "rule", key, "{}", created))
            .await
            .expect("put");
    }
    s.put_document(&doc("111111111111", "target", "x", "{}", 0))
        .await
        .expect("put");
    s.put_document(&doc("222222222222", "rule", "y", "{}", 0))
        .await
        .expect("put");

    let keys = |docs: Vec<Document>| docs.into_iter().map(|d| d.key).collect::<Vec<_>>();
    let listed = keys(
        s.list_documents("111111111111", "rule")
            .await
            .expect("list"),
    );
    assert_eq!(listed, ["Z", "c", "a", "b"], "by created_ms, then key");
    assert!(
        s.list_documents("333333333333", "rule")
            .await
            .expect("none")
            .is_empty()
    );

    assert!(
        s.delete_document("111111111111", "rule", "c")
            .await
            .expect("delete")
    );
    assert!(
        !s.delete_document("111111111111", "rule", "c")
            .await
            .expect("delete again")
    );
    assert!(
        !s.delete_document("111111111111", "target", "c")
            .await
            .expect("other kind")
    );
    let listed = keys(
        s.list_documents("111111111111", "rule")
            .await
            .expect("list"),
    );
    assert_eq!(listed, ["Z", "a", "b"]);
    assert_eq!(
        s.list_documents("111111111111", "target")
            .await
            .expect("list")
            .len(),
        1
    );
}

pub async fn write_and_read_findings(fx: Fixture) {
    let s = &fx.store;
    let batch = vec![finding(1, "f1"), finding(2, "f2"), finding(3, "f3")];
    let records = [history(1, 10, "created"), history(2, 10, "created")];
    s.write_findings(&batch, &records).await.expect("write");

    assert_eq!(
        sorted(s.get_findings_by_seq(&[3, 1, 42]).await.expect("get")),
        [batch[0].clone(), batch[2].clone()]
    );
    assert!(
        s.get_findings_by_seq(&[42])
            .await
            .expect("missing")
            .is_empty()
    );
    assert_eq!(s.scan_findings(0, 10).await.expect("scan"), batch);
    let f1 = history_of(&fx, 1).await;
    assert_eq!(f1.len(), 1);
    assert_eq!(f1[0].1, records[0]);
    assert!(f1[0].1.created);
}

pub async fn upsert_findings_by_seq(fx: Fixture) {
    let s = &fx.store;
    s.write_findings(&[finding(1, "f1"), finding(2, "f2")], &[])
        .await
        .expect("write");
    let mut changed = finding(1, "f1");
    changed.body = r#"{"Id":"f1","Workflow":"RESOLVED"}"#.into();
    changed.record_state = "ARCHIVED".into();
    changed.customer_fields = 3;
    changed.updated_at_ms = 99_000;
    s.write_findings(std::slice::from_ref(&changed), &[history(1, 20, "update")])
        .await
        .expect("upsert");
    assert_eq!(s.get_findings_by_seq(&[1]).await.expect("get"), [changed]);
    assert_eq!(s.scan_findings(0, 10).await.expect("scan").len(), 2);

    // A seq belongs to one finding for life: reusing it for another fails the whole batch.
    let err = s
        .write_findings(
            &[finding(3, "f3"), finding(2, "renamed")],
            &[history(3, 1, "x")],
        )
        .await
        .expect_err("seq reused");
    assert!(matches!(err, StoreError::Constraint(_)), "{err:?}");
    let ids: Vec<_> = s
        .scan_findings(0, 10)
        .await
        .expect("scan")
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(ids, ["f1", "f2"]);
    assert!(history_of(&fx, 3).await.is_empty());
}

pub async fn last_of_a_duplicate_seq_wins(fx: Fixture) {
    let s = &fx.store;
    let mut newer = finding(1, "f1");
    newer.body = r#"{"v":"newer"}"#.into();
    s.write_findings(&[finding(1, "f1"), finding(2, "f2"), newer.clone()], &[])
        .await
        .expect("write");
    assert_eq!(s.get_findings_by_seq(&[1]).await.expect("get"), [newer]);
    assert_eq!(s.scan_findings(0, 10).await.expect("scan").len(), 2);
}

pub async fn write_findings_is_all_or_nothing(fx: Fixture) {
    let s = &fx.store;
    s.write_findings(&[finding(1, "f1")], &[history(1, 1, "created")])
        .await
        .expect("write");

    // One bad finding (seq 0: seqs are positive) among good ones and an update of f1: the
    // whole batch fails, history included.
    let mut f1_changed = finding(1, "f1");
    f1_changed.body = "{}".into();
    let err = s
        .write_findings(
            &[finding(2, "f2"), f1_changed.clone(), finding(0, "f0")],
            &[history(2, 2, "created"), history(1, 2, "update")],
        )
        .await
        .expect_err("seq 0");
    assert!(matches!(err, StoreError::Constraint(_)), "{err:?}");
    // One bad history record (no finding seq) fails the findings written before it.
    let mut orphan = history(3, 3, "created");
    orphan.finding_seq = -3;
    let err = s
        .write_findings(
            &[finding(3, "f3"), f1_changed],
            &[history(3, 3, "created"), orphan],
        )
        .await
        .expect_err("history of seq -3");
    assert!(matches!(err, StoreError::Constraint(_)), "{err:?}");
    if s.backend() == "postgres" {
        // PostgreSQL rejects NUL characters in text: a database error, not a constraint,
        // rolls back just the same.
        let mut nul = history(4, 4, "created");
        nul.updates_json = "[\u{0}]".into();
        s.write_findings(&[finding(4, "f4")], &[nul])
            .await
            .expect_err("NUL in a text");
    }

    assert_eq!(
        s.scan_findings(0, 10).await.expect("scan"),
        [finding(1, "f1")]
    );
    assert_eq!(s.max_finding_seq().await.expect("max"), 1);
    for seq in 2..=4 {
        assert!(history_of(&fx, seq).await.is_empty());
    }
    assert_eq!(times(history_of(&fx, 1).await), [1]);

    // The store is still usable after the failed transactions.
    s.write_findings(&[finding(2, "f2")], &[history(2, 5, "created")])
        .await
        .expect("write after failure");
    assert_eq!(s.max_finding_seq().await.expect("max"), 2);
    assert_eq!(history_of(&fx, 2).await.len(), 1);
}

pub async fn identities_are_the_callers_business(fx: Fixture) {
    // The hub maps identities to seqs: the store neither checks nor indexes them, so one
    // identity under two seqs (a caller's bug) is stored twice, in one batch or two.
    let s = &fx.store;
    s.write_findings(&[finding(1, "f1"), finding(2, "f1")], &[])
        .await
        .expect("same identity twice in a batch");
    s.write_findings(&[finding(3, "f1")], &[history(3, 1, "created")])
        .await
        .expect("same identity again");
    let ids: Vec<_> = s
        .scan_findings(0, 10)
        .await
        .expect("scan")
        .into_iter()
        .map(|f| (f.seq, f.id))
        .collect();
    assert_eq!(ids, [(1, "f1".into()), (2, "f1".into()), (3, "f1".into())]);
    // History follows the seq, not the identity.
    assert!(history_of(&fx, 1).await.is_empty());
    assert_eq!(history_of(&fx, 3).await.len(), 1);
}

pub async fn large_batches(fx: Fixture) {
    let s = &fx.store;
    let batch: Vec<_> = (1..=2500)
        .map(|seq| finding(seq, &format!("f{seq}")))
        .collect();
    let records: Vec<_> = (0..600).map(|t| history(1, t, "update")).collect();
    s.write_findings(&batch, &records)
        .await
        .expect("write 2500");
    assert_eq!(s.scan_findings(0, 5000).await.expect("scan all"), batch);
    assert_eq!(
        s.scan_findings(0, 1500).await.expect("scan some"),
        batch[..1500]
    );
    assert_eq!(
        s.scan_findings(1200, 1300).await.expect("scan rest"),
        batch[1200..]
    );
    assert_eq!(history_of(&fx, 1).await.len(), 600);

    let wanted: Vec<i64> = (1..=700).rev().step_by(2).collect();
    let got = sorted(s.get_findings_by_seq(&wanted).await.expect("get 350"));
    assert_eq!(got.len(), 350);
    assert!(got.iter().all(|f| f.seq % 2 == 0 && f.seq <= 700));
    assert_eq!(got[0], batch[1]);

    let doomed: Vec<i64> = (1..=300).chain(5000..5010).collect();
    assert_eq!(s.delete_findings(&doomed).await.expect("delete"), 300);
    assert_eq!(s.delete_findings(&doomed).await.expect("delete again"), 0);
    let left = s.scan_findings(0, 5000).await.expect("scan");
    assert_eq!(left.len(), 2200);
    assert_eq!(left[0].seq, 301);
}

pub async fn scan_findings_pages(fx: Fixture) {
    let s = &fx.store;
    let batch: Vec<_> = [5, 1, 9, 3, 7]
        .iter()
        .map(|&seq| finding(seq, &format!("f{seq}")))
        .collect();
    s.write_findings(&batch, &[]).await.expect("write");
    let seqs = |v: Vec<StoredFinding>| v.into_iter().map(|f| f.seq).collect::<Vec<_>>();
    assert_eq!(seqs(s.scan_findings(0, 2).await.expect("page 1")), [1, 3]);
    assert_eq!(seqs(s.scan_findings(3, 2).await.expect("page 2")), [5, 7]);
    assert_eq!(seqs(s.scan_findings(7, 2).await.expect("page 3")), [9]);
    assert!(s.scan_findings(9, 2).await.expect("end").is_empty());
    assert!(s.scan_findings(0, 0).await.expect("limit 0").is_empty());
}

pub async fn max_finding_seq_is_a_high_water_mark(fx: Fixture) {
    let s = &fx.store;
    assert_eq!(s.max_finding_seq().await.expect("empty"), 0);
    s.write_findings(&[finding(7, "f7"), finding(3, "f3")], &[])
        .await
        .expect("write");
    assert_eq!(s.max_finding_seq().await.expect("max"), 7);
    s.write_findings(&[finding(5, "f5")], &[])
        .await
        .expect("lower seq");
    assert_eq!(s.max_finding_seq().await.expect("unchanged"), 7);
    assert_eq!(s.delete_findings(&[7, 5, 3]).await.expect("delete all"), 3);
    assert_eq!(
        s.max_finding_seq().await.expect("after delete"),
        7,
        "seqs are never reused"
    );
    s.write_findings(&[finding(9, "f9"), finding(8, "f8")], &[])
        .await
        .expect("write more");
    assert_eq!(s.max_finding_seq().await.expect("raised"), 9);
    // Deleting the highest seq keeps it, whatever is deleted with it or left.
    assert_eq!(s.delete_findings(&[9, 100]).await.expect("delete top"), 1);
    assert_eq!(s.max_finding_seq().await.expect("kept"), 9);
    assert_eq!(s.delete_findings(&[8]).await.expect("delete lower"), 1);
    assert_eq!(s.max_finding_seq().await.expect("still kept"), 9);
    s.close().await;
    let again = open(&fx.url).await.expect("reopen");
    assert_eq!(again.max_finding_seq().await.expect("after reopen"), 9);
    again.close().await;
}

pub async fn seqs_are_positive(fx: Fixture) {
    let s = &fx.store;
    let with_seq = |seq| StoredFinding {
        seq,
        ..finding(1, "f")
    };
    for seq in [0, -1, i64::MIN] {
        let err = s
            .write_findings(&[with_seq(seq)], &[])
            .await
            .expect_err("non-positive seq");
        assert!(matches!(err, StoreError::Constraint(_)), "{seq}: {err:?}");
        let record = HistoryRecord {
            finding_seq: seq,
            ..history(1, 1, "created")
        };
        let err = s
            .write_findings(&[], &[record])
            .await
            .expect_err("non-positive finding_seq");
        assert!(matches!(err, StoreError::Constraint(_)), "{seq}: {err:?}");
    }
    let record = HistoryRecord {
        finding_seq: i64::MAX,
        ..history(1, 1, "created")
    };
    s.write_findings(&[with_seq(i64::MAX)], &[record])
        .await
        .expect("the largest seq");
    assert_eq!(s.max_finding_seq().await.expect("max"), i64::MAX);
    assert_eq!(history_of(&fx, i64::MAX).await.len(), 1);
}

pub async fn node_lock_is_exclusive(fx: Fixture) {
    let first = &fx.store;
    first.lock_node().await.expect("first lock");
    first.lock_node().await.expect("the holder may lock again");

    let second = open(&fx.url).await.expect("second store");
    let err = second.lock_node().await.expect_err("second lock");
    let StoreError::Locked(message) = &err else {
        panic!("expected Locked, got {err:?}");
    };
    assert!(
        message.contains("another Fleetward node is using this database"),
        "{message}"
    );
    assert!(err.to_string().contains("another Fleetward node"), "{err}");
    // It names the holder: our process for SQLite, the lock's session for PostgreSQL.
    let holder = if first.backend() == "sqlite" {
        format!("process {}", std::process::id())
    } else {
        "server process".into()
    };
    assert!(message.contains(&holder), "{message}");
    // The refused store still works (it just must not be used as a node).
    assert_eq!(second.max_finding_seq().await.expect("usable"), 0);

    // Closing the holder releases the lock at once.
    first.close().await;
    second
        .lock_node()
        .await
        .expect("lock after the holder closed");
    let third = open(&fx.url).await.expect("third store");
    let err = third.lock_node().await.expect_err("held by the second");
    assert!(matches!(err, StoreError::Locked(_)), "{err:?}");

    // Dropping the holder without closing it releases the lock too: at once for SQLite (the
    // file is closed), once the server sees the session end for PostgreSQL.
    drop(second);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match third.lock_node().await {
            Ok(()) => break,
            Err(StoreError::Locked(_)) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(err) => panic!("lock after the holder was dropped: {err:?}"),
        }
    }
    third.close().await;
}

pub async fn empty_inputs(fx: Fixture) {
    let s = &fx.store;
    s.write_findings(&[], &[]).await.expect("empty write");
    assert!(
        s.get_findings_by_seq(&[])
            .await
            .expect("empty get")
            .is_empty()
    );
    assert_eq!(s.delete_findings(&[]).await.expect("empty delete"), 0);
    // History alone is allowed.
    s.write_findings(&[], &[history(1, 1, "update")])
        .await
        .expect("history only");
    assert_eq!(history_of(&fx, 1).await.len(), 1);
    assert_eq!(s.max_finding_seq().await.expect("max"), 0);
}

pub async fn history_windows_and_paging(fx: Fixture) {
    let s = &fx.store;
    let mine = [
        history(1, 10, "created"),
        history(1, 20, "a"),
        history(1, 20, "b"),
        history(1, 30, "c"),
        history(1, 40, "d"),
    ];
    // The account filters too: a record of seq 1 under another account is not returned.
    let mut other_account = history(1, 20, "other account");
    other_account.account_id = "222222222222".into();
    let mut all = vec![history(2, 20, "other finding"), other_account];
    all.extend(mine.iter().cloned());
    s.write_findings(&[], &all).await.expect("write");

    let page =
        |start, end, cursor, limit| s.finding_history("111111111111", 1, start, end, cursor, limit);
    let tags = |page: &[(i64, HistoryRecord)]| -> Vec<String> {
        page.iter().map(|(_, r)| r.updates_json.clone()).collect()
    };
    let whole = page(i64::MIN, i64::MAX, None, 100).await.expect("all");
    assert_eq!(
        whole.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(),
        mine
    );

    // The window is inclusive at both ends.
    let window = page(20, 30, None, 100).await.expect("window");
    assert_eq!(tags(&window), tags(&whole[1..4]));
    assert!(page(41, 50, None, 100).await.expect("after").is_empty());
    assert!(page(0, 9, None, 100).await.expect("before").is_empty());

    // Paging with the cursor walks the window once, in order, without gaps or repeats.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let got = page(10, 40, cursor, 2).await.expect("page");
        assert!(got.len() <= 2);
        let Some(last) = got.last() else { break };
        cursor = Some(last.0);
        seen.extend(got);
    }
    assert_eq!(tags(&seen), tags(&whole));
    assert!(
        page(i64::MIN, i64::MAX, None, 0)
            .await
            .expect("limit 0")
            .is_empty()
    );
}

pub async fn history_orders_by_time_not_insertion(fx: Fixture) {
    let s = &fx.store;
    s.write_findings(&[], &[history(1, 10, "t10"), history(1, 30, "t30")])
        .await
        .expect("w");
    let first = history_of(&fx, 1).await;
    // A record with an earlier update time written later still comes in time order, also
    // when resuming after a cursor handed out before it existed.
    s.write_findings(&[], &[history(1, 20, "t20")])
        .await
        .expect("late write");
    let tags: Vec<_> = history_of(&fx, 1)
        .await
        .into_iter()
        .map(|(_, r)| r.updates_json)
        .collect();
    assert_eq!(
        tags,
        [
            r#"[{"tag":"t10"}]"#,
            r#"[{"tag":"t20"}]"#,
            r#"[{"tag":"t30"}]"#
        ]
    );
    let after_first = s
        .finding_history("111111111111", 1, 0, 100, Some(first[0].0), 10)
        .await
        .expect("resume");
    let tags: Vec<_> = after_first
        .into_iter()
        .map(|(_, r)| r.update_time_ms)
        .collect();
    assert_eq!(tags, [20, 30]);
}

pub async fn delete_history_before(fx: Fixture) {
    let s = &fx.store;
    let records: Vec<_> = [10, 20, 30, 40]
        .iter()
        .map(|&t| history(1, t, "x"))
        .collect();
    s.write_findings(&[], &records).await.expect("write");
    let old_cursor = history_of(&fx, 1).await[0].0;
    assert_eq!(s.delete_history_before(30).await.expect("prune"), 2);
    assert_eq!(s.delete_history_before(30).await.expect("prune again"), 0);
    let left: Vec<_> = history_of(&fx, 1)
        .await
        .into_iter()
        .map(|(_, r)| r.update_time_ms)
        .collect();
    assert_eq!(left, [30, 40]);
    // A cursor whose record was pruned resumes from the oldest record left.
    let resumed = s
        .finding_history("111111111111", 1, 0, 100, Some(old_cursor), 10)
        .await
        .expect("resume after pruned cursor");
    assert_eq!(resumed.len(), 2);
}

pub async fn delete_history_of(fx: Fixture) {
    let s = &fx.store;
    let records: Vec<_> = (1..=300)
        .flat_map(|seq| [history(seq, 10, "created"), history(seq, 20, "update")])
        .collect();
    s.write_findings(&[], &records).await.expect("write");
    // More seqs than one statement takes, with repeats and seqs that have no history.
    let doomed: Vec<i64> = (1..=299).chain([5, 5, 1000]).collect();
    assert_eq!(s.delete_history_of(&doomed).await.expect("delete"), 598);
    assert_eq!(s.delete_history_of(&doomed).await.expect("again"), 0);
    assert_eq!(s.delete_history_of(&[]).await.expect("none"), 0);
    assert!(history_of(&fx, 1).await.is_empty());
    assert!(history_of(&fx, 299).await.is_empty());
    assert_eq!(times(history_of(&fx, 300).await), [10, 20]);
}

pub async fn bodies_round_trip_exactly(fx: Fixture) {
    let s = &fx.store;
    let text = r#"{"Title":"Zertifikat läuft ab ✓ 証明書 🚨","Quote":"it's \"x\"","Nul":"\u0000"}"#;
    let mut big = finding(1, "f1");
    big.body = text.repeat(2_000);
    big.account_id = "O'Brien; DROP TABLE findings; --".into();
    s.write_findings(std::slice::from_ref(&big), &[])
        .await
        .expect("write");
    assert_eq!(s.get_findings_by_seq(&[1]).await.expect("get"), [big]);

    let mut d = doc("111111111111", "tags", "arn:aws:x/ä b", text, 1);
    d.body = text.to_owned();
    s.put_document(&d).await.expect("put");
    assert_eq!(
        s.get_document("111111111111", "tags", "arn:aws:x/ä b")
            .await
            .expect("get"),
        Some(d)
    );
}

pub async fn concurrent_writers(fx: Fixture) {
    let tasks: Vec<_> = (0..8i64)
        .map(|task| {
            let store = fx.store.clone();
            tokio::spawn(async move {
                for round in 0..10i64 {
                    let batch: Vec<_> = (0..10i64)
                        .map(|i| {
                            let seq = 1 + task * 100 + round * 10 + i;
                            finding(seq, &format!("f{seq}"))
                        })
                        .collect();
                    store
                        .write_findings(&batch, &[])
                        .await
                        .expect("concurrent write");
                    store
                        .get_findings_by_seq(&[batch[0].seq])
                        .await
                        .expect("concurrent read");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    assert_eq!(
        fx.store.scan_findings(0, 10_000).await.expect("scan").len(),
        800
    );
    assert_eq!(fx.store.max_finding_seq().await.expect("max"), 800);
}

pub async fn open_creates_a_missing_database(fx: Fixture) {
    let postgres = fx.url.starts_with("postgres");
    // SQLite: a file in a directory that does not exist yet. PostgreSQL: a database named
    // after the case's own (no query string in harness URLs), dropped at the end.
    let fresh = if postgres {
        format!("{}_created", fx.url)
    } else {
        fx.url.replace("store.db", "nested/created.db")
    };
    let store = open(&fresh).await.expect("open creates the database");
    assert!(
        store
            .create_account(&account("111111111111", "a", 1))
            .await
            .expect("usable")
    );
    store.close().await;
    let again = open(&fresh).await.expect("open it again");
    assert!(
        again
            .get_account("111111111111")
            .await
            .expect("get")
            .is_some()
    );
    again.close().await;
    if let Some((_, name)) = fresh.rsplit_once('/').filter(|_| postgres) {
        crate::harness::drop_postgres_database(&fx.url, name).await;
    }
}

pub async fn reopen_keeps_data(fx: Fixture) {
    let s = &fx.store;
    s.create_account(&account("111111111111", "a", 1))
        .await
        .expect("account");
    s.put_access_key(&key("AKIAA", "111111111111", 1))
        .await
        .expect("key");
    s.put_document(&doc("111111111111", "hub", "state", "{}", 1))
        .await
        .expect("doc");
    s.write_findings(&[finding(1, "f1")], &[history(1, 1, "created")])
        .await
        .expect("write");
    s.close().await;

    // Opening again must find the data and not re-run migrations.
    let again = open(&fx.url).await.expect("reopen");
    assert_eq!(again.backend(), s.backend());
    assert!(
        again
            .get_account("111111111111")
            .await
            .expect("account")
            .is_some()
    );
    assert!(again.get_access_key("AKIAA").await.expect("key").is_some());
    assert!(
        again
            .get_document("111111111111", "hub", "state")
            .await
            .expect("doc")
            .is_some()
    );
    assert_eq!(
        again.scan_findings(0, 10).await.expect("scan"),
        [finding(1, "f1")]
    );
    assert_eq!(again.max_finding_seq().await.expect("max"), 1);
    again.close().await;
}

pub async fn write_documents_is_one_transaction(fx: Fixture) {
    use fleetward_store::DocumentWrite;
    let s = &fx.store;
    s.put_document(&doc("111111111111", "thing", "old", "{}", 1))
        .await
        .expect("put");
    let writes = vec![
        DocumentWrite::Put(doc("111111111111", "thing", "a", r#"{"v":1}"#, 10)),
        DocumentWrite::Put(doc("111111111111", "thing", "b", "{}", 11)),
        DocumentWrite::Put(doc("111111111111", "thing", "a", r#"{"v":2}"#, 12)),
        DocumentWrite::Delete {
            account_id: "111111111111".into(),
            kind: "thing".into(),
            key: "old".into(),
        },
        DocumentWrite::Delete {
            account_id: "111111111111".into(),
            kind: "thing".into(),
            key: "never-existed".into(),
        },
    ];
    s.write_documents(&writes).await.expect("batch");
    let listed = s
        .list_documents("111111111111", "thing")
        .await
        .expect("list");
    let keys: Vec<_> = listed.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(keys, ["a", "b"]);
    assert_eq!(listed[0].body, r#"{"v":2}"#, "later writes in a batch win");
    assert_eq!(listed[0].created_ms, 10, "an upsert keeps created_ms");
    s.write_documents(&[]).await.expect("empty batch");
}

pub async fn document_pages_follow_the_key_order(fx: Fixture) {
    let s = &fx.store;
    for key in ["d", "a", "c", "b", "e"] {
        s.put_document(&doc("111111111111", "cert", key, "{}", 1))
            .await
            .expect("put");
    }
    s.put_document(&doc("222222222222", "cert", "aa", "{}", 1))
        .await
        .expect("put other account");
    let page = |docs: Vec<Document>| docs.into_iter().map(|d| d.key).collect::<Vec<_>>();
    let first = s
        .list_documents_page("111111111111", "cert", None, 2)
        .await
        .expect("page 1");
    assert_eq!(page(first), ["a", "b"]);
    let next = s
        .list_documents_page("111111111111", "cert", Some("b"), 2)
        .await
        .expect("page 2");
    assert_eq!(page(next), ["c", "d"]);
    let last = s
        .list_documents_page("111111111111", "cert", Some("d"), 2)
        .await
        .expect("page 3");
    assert_eq!(page(last), ["e"]);
    assert!(
        s.list_documents_page("111111111111", "cert", Some("e"), 2)
            .await
            .expect("past the end")
            .is_empty()
    );
}

fn event(
    account: &str,
    time_ms: i64,
    kind: &str,
    client: &str,
) -> fleetward_store::ConnectionEvent {
    fleetward_store::ConnectionEvent {
        account_id: account.into(),
        time_ms,
        kind: kind.into(),
        client_id: client.into(),
        certificate_id: "ab".repeat(32),
        thing_name: String::new(),
        source_ip: "192.0.2.7".into(),
        source_port: 50_123,
        reason: String::new(),
    }
}

pub async fn connection_events_page_and_prune(fx: Fixture) {
    let s = &fx.store;
    let events: Vec<_> = (0..5)
        .map(|i| {
            event(
                "111111111111",
                1_000 + i * 10,
                "CONNECTED",
                &format!("c{i}"),
            )
        })
        .chain([event("222222222222", 1_020, "CONNECTED", "other")])
        .collect();
    s.append_connection_events(&events).await.expect("append");
    s.append_connection_events(&[]).await.expect("empty append");
    let window = s
        .connection_events("111111111111", 1_010, 1_030, 0, 10)
        .await
        .expect("window");
    let clients: Vec<_> = window.iter().map(|(_, e)| e.client_id.as_str()).collect();
    assert_eq!(
        clients,
        ["c1", "c2", "c3"],
        "only the account's events in the window"
    );
    assert_eq!(window[0].1, events[1], "events round-trip exactly");
    let first = s
        .connection_events("111111111111", 0, i64::MAX, 0, 2)
        .await
        .expect("page 1");
    let next = s
        .connection_events("111111111111", 0, i64::MAX, first[1].0, 10)
        .await
        .expect("page 2");
    assert_eq!(first.len() + next.len(), 5);
    assert_eq!(next[0].1.client_id, "c2");
    assert_eq!(
        s.delete_connection_events_before(1_020)
            .await
            .expect("prune"),
        2
    );
    assert_eq!(
        s.connection_events("111111111111", 0, i64::MAX, 0, 10)
            .await
            .expect("after prune")
            .len(),
        3
    );
}

pub async fn datapoints_by_device_metric_and_time(fx: Fixture) {
    use fleetward_store::Datapoint;
    let s = &fx.store;
    let point = |thing: &str, metric: &str, dimension: &str, time_ms: i64, value: &str| Datapoint {
        account_id: "111111111111".into(),
        thing_name: thing.into(),
        metric: metric.into(),
        dimension: dimension.into(),
        time_ms,
        value_json: value.into(),
    };
    // Appended out of time order: reads come back oldest first.
    let points = vec![
        point("t1", "aws:num-messages-sent", "", 300, r#"{"count":3}"#),
        point("t1", "aws:num-messages-sent", "", 100, r#"{"count":1}"#),
        point(
            "t1",
            "aws:num-messages-sent",
            "TopicFilter",
            200,
            r#"{"count":9}"#,
        ),
        point("t2", "aws:num-messages-sent", "", 200, r#"{"count":5}"#),
        point("t1", "aws:message-byte-size", "", 200, r#"{"number":10}"#),
    ];
    s.append_datapoints(&points).await.expect("append");
    let got = s
        .datapoints(
            "111111111111",
            "t1",
            "aws:num-messages-sent",
            "",
            0,
            1_000,
            0,
            10,
        )
        .await
        .expect("read");
    let values: Vec<_> = got.iter().map(|(_, p)| p.value_json.as_str()).collect();
    assert_eq!(values, [r#"{"count":1}"#, r#"{"count":3}"#]);
    let windowed = s
        .datapoints(
            "111111111111",
            "t1",
            "aws:num-messages-sent",
            "",
            150,
            1_000,
            0,
            10,
        )
        .await
        .expect("window");
    assert_eq!(windowed.len(), 1);
    assert_eq!(s.delete_datapoints_before(250).await.expect("prune"), 4);
}
