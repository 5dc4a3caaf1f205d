//! Helpers for services that keep their records as [`Document`]s: building the writes of a
//! [`Store::write_documents`] batch, decoding JSON bodies, and reading a whole kind (or the
//! keys of a kind under one prefix) page by page. Services keep their own kinds and map
//! errors into their own error types.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Document, DocumentWrite, Result, Store, StoreError};

/// An upsert of `body` at `now_ms` (an existing row keeps its `created_ms`).
pub fn put(account_id: &str, kind: &str, key: &str, body: String, now_ms: i64) -> DocumentWrite {
    DocumentWrite::Put(Document {
        account_id: account_id.to_string(),
        kind: kind.to_string(),
        key: key.to_string(),
        body,
        created_ms: now_ms,
        updated_ms: now_ms,
    })
}

/// An upsert of `value` as JSON (`null` if it cannot be serialised, which plain records
/// never fail to be).
pub fn put_json<T: Serialize>(
    account_id: &str,
    kind: &str,
    key: &str,
    value: &T,
    now_ms: i64,
) -> DocumentWrite {
    let body = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    put(account_id, kind, key, body, now_ms)
}

pub fn delete(account_id: &str, kind: &str, key: &str) -> DocumentWrite {
    DocumentWrite::Delete {
        account_id: account_id.to_string(),
        kind: kind.to_string(),
        key: key.to_string(),
    }
}

/// The record a document's JSON body holds.
pub fn decode<T: DeserializeOwned>(doc: &Document) -> serde_json::Result<T> {
    serde_json::from_str(&doc.body)
}

/// Reads every document of a kind in key order, `page` at a time (at most one page held),
/// handing each page to `each`; an error of `each` stops the reading.
pub async fn for_each_page<E: From<StoreError>>(
    store: &dyn Store,
    account_id: &str,
    kind: &str,
    page: usize,
    mut each: impl FnMut(Vec<Document>) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let mut after: Option<String> = None;
    loop {
        let docs = store
            .list_documents_page(account_id, kind, after.as_deref(), page)
            .await?;
        let full = docs.len() == page;
        after = docs.last().map(|d| d.key.clone());
        each(docs)?;
        if !full {
            return Ok(());
        }
    }
}

/// Every document of a kind, in key order, read `page` at a time.
pub async fn load_all(
    store: &dyn Store,
    account_id: &str,
    kind: &str,
    page: usize,
) -> Result<Vec<Document>> {
    let mut all = Vec::new();
    for_each_page(store, account_id, kind, page, |docs| {
        all.extend(docs);
        Ok::<(), StoreError>(())
    })
    .await?;
    Ok(all)
}

/// Every document of a kind as (key, decoded record), in key order, read `page` at a time;
/// the first unreadable body stops the reading with its error.
pub async fn load_all_decoded<T, E>(
    store: &dyn Store,
    account_id: &str,
    kind: &str,
    page: usize,
) -> std::result::Result<Vec<(String, T)>, E>
where
    T: DeserializeOwned,
    E: From<StoreError> + From<serde_json::Error>,
{
    let mut out = Vec::new();
    for_each_page(store, account_id, kind, page, |docs| {
        for doc in &docs {
            out.push((doc.key.clone(), decode(doc)?));
        }
        Ok::<(), E>(())
    })
    .await?;
    Ok(out)
}

/// The documents of a kind whose key starts with `prefix`, in key order, after `after`
/// (exclusive; `None` starts at the prefix), at most `limit`.
pub async fn prefix_page(
    store: &dyn Store,
    account_id: &str,
    kind: &str,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<Document>> {
    let start = after.unwrap_or(prefix);
    let page = store
        .list_documents_page(account_id, kind, Some(start), limit)
        .await?;
    Ok(page
        .into_iter()
        .take_while(|d| d.key.starts_with(prefix))
        .collect())
}

/// Deletes every document of a kind whose key starts with `prefix`, `batch` per
/// transaction. Returns how many it deleted.
pub async fn delete_prefix(
    store: &dyn Store,
    account_id: &str,
    kind: &str,
    prefix: &str,
    batch: usize,
) -> Result<u64> {
    let mut deleted = 0;
    loop {
        let page = prefix_page(store, account_id, kind, prefix, None, batch).await?;
        if page.is_empty() {
            return Ok(deleted);
        }
        let writes: Vec<DocumentWrite> = page
            .iter()
            .map(|d| delete(account_id, kind, &d.key))
            .collect();
        store.write_documents(&writes).await?;
        deleted += writes.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "111111111111";

    async fn store() -> (tempfile::TempDir, std::sync::Arc<dyn Store>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("store.db").display());
        let store = crate::open(&url).await.expect("open sqlite store");
        (dir, store)
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Record {
        n: u32,
    }

    #[derive(Debug)]
    enum TestError {
        Store,
        Json,
    }
    impl From<StoreError> for TestError {
        fn from(_: StoreError) -> Self {
            Self::Store
        }
    }
    impl From<serde_json::Error> for TestError {
        fn from(_: serde_json::Error) -> Self {
            Self::Json
        }
    }

    #[tokio::test]
    async fn loads_whole_kinds_across_page_boundaries() {
        let (_dir, s) = store().await;
        // 4 records with pages of 2: the last page is full, so one more (empty) read ends it.
        let writes: Vec<DocumentWrite> = (0..4)
            .map(|n| put_json(ACCOUNT, "k", &format!("r{n}"), &Record { n }, 5))
            .collect();
        s.write_documents(&writes).await.expect("write");
        s.write_documents(&[put(ACCOUNT, "other", "x", "{}".into(), 5)])
            .await
            .expect("write other kind");
        let docs = load_all(s.as_ref(), ACCOUNT, "k", 2).await.expect("load");
        let keys: Vec<&str> = docs.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, ["r0", "r1", "r2", "r3"]);
        assert_eq!(docs[0].created_ms, 5);
        let decoded: Vec<(String, Record)> =
            load_all_decoded::<_, TestError>(s.as_ref(), ACCOUNT, "k", 3)
                .await
                .expect("decode");
        assert_eq!(decoded[3], ("r3".to_string(), Record { n: 3 }));
        assert_eq!(decoded.len(), 4);
    }

    #[tokio::test]
    async fn an_unreadable_body_is_a_decode_error() {
        let (_dir, s) = store().await;
        s.write_documents(&[
            put_json(ACCOUNT, "k", "a", &Record { n: 1 }, 1),
            put(ACCOUNT, "k", "b", "not json".into(), 1),
        ])
        .await
        .expect("write");
        let got = load_all_decoded::<Record, TestError>(s.as_ref(), ACCOUNT, "k", 10).await;
        assert!(matches!(got, Err(TestError::Json)), "{got:?}");
        let doc = s
            .get_document(ACCOUNT, "k", "a")
            .await
            .expect("get")
            .expect("a");
        assert_eq!(decode::<Record>(&doc).expect("decode"), Record { n: 1 });
    }

    #[tokio::test]
    async fn prefix_reads_and_deletes_stay_inside_the_prefix() {
        let (_dir, s) = store().await;
        let keys = ["t1/a", "t1/b", "t1/c", "t10/a", "t2/a"];
        let writes: Vec<DocumentWrite> = keys
            .iter()
            .map(|k| put(ACCOUNT, "e", k, "{}".into(), 1))
            .collect();
        s.write_documents(&writes).await.expect("write");
        let page = prefix_page(s.as_ref(), ACCOUNT, "e", "t1/", None, 2)
            .await
            .expect("first page");
        assert_eq!(
            page.iter().map(|d| d.key.as_str()).collect::<Vec<_>>(),
            ["t1/a", "t1/b"]
        );
        let rest = prefix_page(s.as_ref(), ACCOUNT, "e", "t1/", Some("t1/b"), 10)
            .await
            .expect("rest");
        assert_eq!(
            rest.iter().map(|d| d.key.as_str()).collect::<Vec<_>>(),
            ["t1/c"]
        );
        let deleted = delete_prefix(s.as_ref(), ACCOUNT, "e", "t1/", 2)
            .await
            .expect("delete");
        assert_eq!(deleted, 3);
        let left = load_all(s.as_ref(), ACCOUNT, "e", 10).await.expect("left");
        assert_eq!(
            left.iter().map(|d| d.key.as_str()).collect::<Vec<_>>(),
            ["t10/a", "t2/a"]
        );
        s.write_documents(&[delete(ACCOUNT, "e", "t2/a")])
            .await
            .expect("delete one");
        assert!(
            s.get_document(ACCOUNT, "e", "t2/a")
                .await
                .expect("get")
                .is_none()
        );
    }
}
