use super::*;

fn recs(range: std::ops::Range<u32>) -> Vec<(i64, Vec<u8>)> {
    range
        .map(|i| (i as i64, format!("record-{i}").into_bytes()))
        .collect()
}

#[tokio::test]
async fn appended_records_survive_reopen_and_resume_after_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = Log::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(log.reserve(&[8; 10]), 10);
        assert_eq!(log.append(recs(0..4)).await.unwrap(), 0);
        assert_eq!(log.append(recs(4..10)).await.unwrap(), 4);
        let mut reader = log.reader();
        let first = reader.read(log.committed(), usize::MAX, 3).unwrap();
        assert_eq!(first.len(), 3);
        let bytes: u64 = first.iter().map(LogRecord::frame_len).sum();
        log.checkpoint(3, bytes).unwrap();
    }
    let log = Log::open(dir.path(), 1 << 20).unwrap();
    assert_eq!(log.start_seq(), 3);
    assert_eq!(log.committed(), 10);
    let rest = log.reader().read(log.committed(), usize::MAX, 100).unwrap();
    assert_eq!(rest.len(), 7);
    assert_eq!(rest[0].seq, 3);
    assert_eq!(rest[0].data, b"record-3");
    assert_eq!(rest[0].arrival_ms, 3);
    assert_eq!(
        log.pending_bytes(),
        rest.iter().map(LogRecord::frame_len).sum::<u64>()
    );
    assert_eq!(log.append(recs(10..11)).await.unwrap(), 10);
}

#[tokio::test]
async fn a_torn_tail_is_cut_off_on_recovery() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = Log::open(dir.path(), 1 << 20).unwrap();
        log.reserve(&[8; 3]);
        log.append(recs(0..3)).await.unwrap();
    }
    let seg = segments::segment_path(dir.path(), 0);
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes.extend_from_slice(&[7, 0, 0, 0, 1, 2]);
    std::fs::write(&seg, bytes).unwrap();
    let log = Log::open(dir.path(), 1 << 20).unwrap();
    assert_eq!(log.committed(), 3);
    assert_eq!(log.append(recs(3..4)).await.unwrap(), 3);
    let all = log.reader().read(log.committed(), usize::MAX, 100).unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[3].data, b"record-3");
}

#[tokio::test]
async fn the_limit_accepts_a_prefix_and_frees_on_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let per = frame::frame_len(100);
    let log = Log::open(dir.path(), per * 3).unwrap();
    assert_eq!(log.reserve(&[100; 5]), 3);
    assert_eq!(log.reserve(&[100]), 0);
    log.append(vec![(0, vec![0; 100]); 3]).await.unwrap();
    log.checkpoint(2, per * 2).unwrap();
    assert_eq!(log.reserve(&[100; 5]), 2);
}

#[tokio::test]
async fn waiting_readers_wake_on_append() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(Log::open(dir.path(), 1 << 20).unwrap());
    let waiter = {
        let log = log.clone();
        tokio::spawn(async move { log.wait_beyond(0).await })
    };
    tokio::task::yield_now().await;
    log.reserve(&[8]);
    log.append(recs(0..1)).await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
        .await
        .unwrap()
        .unwrap();
}
