use std::path::Path;

use super::*;
use crate::fs::StdFs;

fn job(fingerprint: u64) -> JobIdentity {
    JobIdentity {
        name: "unit".into(),
        fingerprint,
    }
}

#[test]
fn commit_then_latest_round_trips_and_keeps_retention() {
    let tmp = tempfile::tempdir().unwrap();
    let fs = StdFs::new();
    let dir = tmp.path().join("a/b/store");
    let mut store = CheckpointStore::open(&fs, &dir, job(1), 2).unwrap();
    assert_eq!(store.latest().unwrap(), None);
    for cursor in [10, 20, 30] {
        store
            .commit(cursor, format!("{{\"c\":{cursor}}}").as_bytes())
            .unwrap();
    }
    assert_eq!(store.generations(), vec![2, 3]);
    let latest = store.latest().unwrap().unwrap();
    assert_eq!((latest.generation, latest.cursor), (3, 30));
    assert_eq!(latest.state, b"{\"c\":30}");
    assert_eq!(latest.state_digest, stable_digest(b"{\"c\":30}"));
    let peeked = CheckpointStore::<StdFs>::peek_latest(&fs, &dir, &job(1)).unwrap();
    assert_eq!(peeked, Some(latest));
    assert_eq!(
        CheckpointStore::<StdFs>::peek_latest(&fs, Path::new("/nonexistent/x"), &job(1)).unwrap(),
        None
    );
}

#[test]
fn zero_keep_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let fs = StdFs::new();
    assert!(matches!(
        CheckpointStore::open(&fs, tmp.path(), job(1), 0),
        Err(StoreError::InvalidKeep)
    ));
}
