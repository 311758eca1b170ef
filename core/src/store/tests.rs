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

mod model {
    //! The store against a model: after any sequence of commits, bit flips
    //! of durable generation files, and reopens, the listed generations are
    //! exactly what the retention rule keeps and `latest` is the newest
    //! intact one.

    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        Commit,
        /// Flip a bit in the `n % len`-th listed intact generation, then
        /// reopen (the store trusts files it wrote in this session).
        CorruptAndReopen(usize),
        Reopen,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => Just(Op::Commit),
            1 => any::<usize>().prop_map(Op::CorruptAndReopen),
            1 => Just(Op::Reopen),
        ]
    }

    /// The retention rule: delete every generation with `keep` intact ones
    /// newer than it.
    fn retain(listed: &mut BTreeSet<u64>, corrupt: &BTreeSet<u64>, keep: usize) {
        let mut intact: Vec<u64> = listed.difference(corrupt).copied().collect();
        intact.reverse();
        if let Some(&threshold) = intact.get(keep - 1) {
            listed.retain(|&g| g >= threshold);
        }
    }

    fn cases() -> u32 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(32)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases()))]

        #[test]
        fn store_matches_retention_model(keep in 1usize..4, ops in proptest::collection::vec(op(), 1..24)) {
            let tmp = tempfile::tempdir().unwrap();
            let fs = StdFs::new();
            let dir = tmp.path().join("store");
            let mut store = CheckpointStore::open(&fs, &dir, job(1), keep).unwrap();
            let mut listed = BTreeSet::new();
            let mut corrupt = BTreeSet::new();
            let mut next = 1u64;
            for op in ops {
                match op {
                    Op::Commit => {
                        prop_assert_eq!(store.commit(next * 10, &next.to_le_bytes()).unwrap(), next);
                        listed.insert(next);
                        next += 1;
                    }
                    Op::CorruptAndReopen(n) => {
                        let intact: Vec<u64> = listed.difference(&corrupt).copied().collect();
                        if !intact.is_empty() {
                            let g = intact[n % intact.len()];
                            let path = dir.join(generation_file_name(g));
                            let mut bytes = std::fs::read(&path).unwrap();
                            let at = n % bytes.len();
                            bytes[at] ^= 1 << (n % 8);
                            std::fs::write(&path, &bytes).unwrap();
                            corrupt.insert(g);
                        }
                        store = CheckpointStore::open(&fs, &dir, job(1), keep).unwrap();
                    }
                    Op::Reopen => {
                        store = CheckpointStore::open(&fs, &dir, job(1), keep).unwrap();
                    }
                }
                retain(&mut listed, &corrupt, keep);
                corrupt.retain(|g| listed.contains(g));
                prop_assert_eq!(store.generations(), listed.iter().copied().collect::<Vec<_>>());
                let on_disk: Vec<u64> = std::fs::read_dir(&dir)
                    .unwrap()
                    .filter_map(|e| parse_generation_file_name(e.unwrap().file_name().to_str().unwrap()))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                prop_assert_eq!(&on_disk, &store.generations());
                let newest_intact = listed.difference(&corrupt).last().copied();
                match (store.latest(), newest_intact) {
                    (Ok(Some(c)), Some(g)) => {
                        prop_assert_eq!((c.generation, c.cursor), (g, g * 10));
                        prop_assert_eq!(&c.state, &g.to_le_bytes().to_vec());
                        prop_assert_eq!(c.skipped_damaged(), corrupt.iter().filter(|&&x| x > g).count() as u64);
                    }
                    (Ok(None), None) if listed.is_empty() => {}
                    (Err(StoreError::AllCorrupt { count, .. }), None) => {
                        prop_assert_eq!(count, listed.len());
                    }
                    (got, want) => prop_assert!(false, "latest {:?}, model wants {:?}", got, want),
                }
                prop_assert_eq!(store.next_generation(), next);
            }
        }
    }
}
