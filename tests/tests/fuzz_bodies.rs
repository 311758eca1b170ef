//! The cargo-fuzz bodies (`crashproof_tests::fuzz_bodies`) as ordinary
//! tests on stable: a deterministic seed corpus of interesting inputs, then
//! proptest byte vectors (`PROPTEST_CASES` raises the count), and a check
//! that the kill-schedule body can fail at all.

// A test crate: a failed unwrap or panic is a failed test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crashproof_core::envelope::{
    Codec, DecodeError, FORMAT_VERSION, HEADER_LEN, MAGIC, RawEnvelope, TRAILER_LEN, decode_raw,
    encode, encode_raw, encode_raw_with, encode_with,
};
use crashproof_core::fs::Fs;
use crashproof_core::store::generation_file_name;
use crashproof_core::{CheckpointStore, JobIdentity, StoredCheckpoint, stable_digest};
use crashproof_sim::SimView;
use crashproof_sim::explore::Workload;
use crashproof_sim::{CrashModel, SimConfig, SimFs};
use crashproof_tests::envelope_reference::{crc32c, envelope_v1};
use crashproof_tests::fuzz_bodies::{
    check_crash_image, check_envelope_decode, check_envelope_decode_with, check_kill_schedule,
    check_kill_schedule_on, check_returned_checkpoint, check_simfs_ops, check_store_latest,
    fuzz_workload,
};
use proptest::prelude::*;

/// A fuzz body's check.
type Check = fn(&[u8]) -> Result<(), String>;

/// Every check the fuzz targets run, by name.
const BODIES: [(&str, Check); 4] = [
    ("envelope_decode", check_envelope_decode),
    ("store_latest", check_store_latest),
    ("simfs_ops", check_simfs_ops),
    ("kill_schedule", check_kill_schedule),
];

/// A valid envelope around a small JSON payload.
fn valid() -> Vec<u8> {
    encode(&serde_json::json!({"cursor": 5, "state": [1, 2, 3]})).unwrap()
}

/// A valid store record (meta length, meta JSON, state) for job
/// fingerprint 7, the job `store_latest` uses, as the body's planted
/// "wrapped" bytes: what the fuzzer must find to return a planted file.
fn record_payload(generation: u64, cursor: u64) -> Vec<u8> {
    let meta = serde_json::to_vec(&serde_json::json!({
        "job": {"name": "fuzz", "fingerprint": 7},
        "generation": generation,
        "cursor": cursor,
    }))
    .unwrap();
    let mut payload = (meta.len() as u32).to_le_bytes().to_vec();
    payload.extend_from_slice(&meta);
    payload.extend_from_slice(b"planted state");
    payload
}

/// Hand-made interesting inputs: empty, valid, each kind of corruption,
/// huge length fields, and store records.
fn seed_corpus() -> Vec<(String, Vec<u8>)> {
    let valid = valid();
    let mut corpus = vec![
        ("empty".to_string(), Vec::new()),
        ("one byte".to_string(), vec![0x89]),
        ("magic only".to_string(), MAGIC.to_vec()),
        ("header only".to_string(), valid[..HEADER_LEN].to_vec()),
        ("valid".to_string(), valid.clone()),
        ("empty payload".to_string(), encode_raw(b"")),
        (
            "non-JSON payload".to_string(),
            encode_raw(b"\xff\x00not json"),
        ),
        ("truncated".to_string(), valid[..valid.len() - 1].to_vec()),
        ("extended".to_string(), [valid.as_slice(), b"x"].concat()),
        ("zeros".to_string(), vec![0; 64]),
        ("all ones".to_string(), vec![0xff; 300]),
    ];
    for at in [0, 8, 12, HEADER_LEN, valid.len() - 1] {
        let mut flipped = valid.clone();
        flipped[at] ^= 0x01;
        corpus.push((format!("bit flipped at {at}"), flipped));
    }
    let mut other_version = encode_raw(b"{}");
    other_version[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let crc_at = other_version.len() - 4;
    let crc = crc32c(&other_version[..crc_at]);
    other_version[crc_at..].copy_from_slice(&crc.to_le_bytes());
    corpus.push(("other version, intact".to_string(), other_version));
    for huge in [u64::MAX, u64::MAX - 23, 1 << 40, u32::MAX as u64] {
        let mut h = valid.clone();
        h[12..20].copy_from_slice(&huge.to_le_bytes());
        corpus.push((format!("length field {huge}"), h));
    }
    // store_latest: one planted file, generation 2, wrapped (bool byte 1).
    for (generation, cursor) in [(2u64, 9u64), (1, 9), (3, 0)] {
        let planted = [
            &[0u8, generation as u8, 1][..],
            &record_payload(generation, cursor),
        ]
        .concat();
        corpus.push((format!("store record gen {generation}"), planted));
    }
    corpus.push((
        "store record envelope".to_string(),
        encode_raw(&record_payload(2, 9)),
    ));
    // The binary codec: a valid postcard envelope, its damaged forms, and a
    // postcard store record planted (wrap byte 2).
    let postcard = encode_with(Codec::Postcard, &(5u64, "state", vec![1u8, 2, 3])).unwrap();
    corpus.push(("postcard valid".to_string(), postcard.clone()));
    corpus.push((
        "postcard truncated".to_string(),
        postcard[..postcard.len() - 1].to_vec(),
    ));
    for at in [20, HEADER_LEN, postcard.len() - 1] {
        let mut flipped = postcard.clone();
        flipped[at] ^= 0x01;
        corpus.push((format!("postcard bit flipped at {at}"), flipped));
    }
    let mut unknown_codec = encode_raw_with(Codec::Postcard, b"x");
    unknown_codec[20..24].copy_from_slice(&9u32.to_le_bytes());
    let crc_at = unknown_codec.len() - 4;
    let crc = crc32c(&unknown_codec[..crc_at]);
    unknown_codec[crc_at..].copy_from_slice(&crc.to_le_bytes());
    corpus.push(("unknown codec, intact".to_string(), unknown_codec));
    corpus.push((
        "format version 1".to_string(),
        envelope_v1(b"{\"cursor\":5}"),
    ));
    // The meta's fields in the record's order (a struct: postcard has no
    // field names).
    let job = JobIdentity {
        name: "fuzz".to_string(),
        fingerprint: 7,
    };
    let postcard_meta = Codec::Postcard.to_vec(&(job, 2u64, 9u64)).unwrap();
    let mut postcard_record = (postcard_meta.len() as u32).to_le_bytes().to_vec();
    postcard_record.extend_from_slice(&postcard_meta);
    postcard_record.extend_from_slice(b"state");
    corpus.push((
        "postcard store record gen 2".to_string(),
        [&[0u8, 2, 2][..], &postcard_record].concat(),
    ));
    corpus
}

#[test]
fn every_body_accepts_the_seed_corpus() {
    for (body, check) in BODIES {
        for (name, input) in seed_corpus() {
            if let Err(finding) = check(&input) {
                panic!("{body} on seed `{name}` ({}): {finding}", hex(&input));
            }
        }
    }
}

#[test]
fn the_intact_other_version_seed_really_is_intact() {
    // Guards the corpus: the version seed must reach the version check.
    let (_, bytes) = seed_corpus()
        .into_iter()
        .find(|(n, _)| n == "other version, intact")
        .unwrap();
    let err = crashproof_core::envelope::decode_raw(&bytes).unwrap_err();
    assert!(err.to_string().contains("version"), "{err}");
}

#[test]
fn the_fuzz_entry_points_return_on_the_seed_corpus() {
    for (_, input) in seed_corpus() {
        crashproof_tests::fuzz_bodies::envelope_decode(&input);
        crashproof_tests::fuzz_bodies::store_latest(&input);
        crashproof_tests::fuzz_bodies::simfs_ops(&input);
        crashproof_tests::fuzz_bodies::kill_schedule(&input);
    }
}

/// The kill-schedule body can fail: on the zoo's `no-dir-fsync` mutant
/// (the temp file is renamed into place without a directory fsync), some
/// small input is a crash the explorer reports, while the same inputs are
/// clean on the fuzz body's core-runner workload.
#[test]
fn kill_schedule_body_finds_the_no_dir_fsync_mutant() {
    let mutant = crashproof_catalog::zoo::catalogue()
        .into_iter()
        .find(|m| m.name == "no-dir-fsync")
        .unwrap();
    let core_runner = fuzz_workload();
    let found = schedule_inputs().find_map(|input| {
        check_kill_schedule_on(mutant.workload.as_ref(), &input)
            .err()
            .map(|finding| (input, finding))
    });
    let (input, finding) = found.expect("no input in the family exposes no-dir-fsync");
    assert!(finding.contains("VIOLATION"), "{finding}");
    assert!(finding.contains("no-dir-fsync"), "{finding}");
    assert!(finding.contains("replay"), "{finding}");
    assert_eq!(
        check_kill_schedule_on(&core_runner as &dyn Workload, &input),
        Ok(()),
        "input {}",
        hex(&input)
    );
}

/// A deterministic family of kill-schedule inputs: seed 0, then the bytes
/// `arbitrary` reads as one crash point `step:STEP@MODEL#idx=0` (a 0 ratio
/// byte picks a step crash, two bytes the step, one the model).
fn schedule_inputs() -> impl Iterator<Item = Vec<u8>> {
    (0u8..=255).flat_map(|step| {
        (0u8..4).map(move |model| {
            let mut input = vec![0u8; 8];
            input.extend_from_slice(&[0, 0, step, model, 0, 0, 0, 0, 0, 0, 0, 0]);
            input
        })
    })
}

/// A broken frame decoder: ignores bytes after the frame.
fn decode_ignoring_trailing_bytes(bytes: &[u8]) -> Result<RawEnvelope<'_>, DecodeError> {
    decode_raw(bytes).or_else(|e| match e {
        DecodeError::LengthMismatch { declared, .. } => {
            decode_raw(&bytes[..HEADER_LEN + declared as usize + TRAILER_LEN])
        }
        e => Err(e),
    })
}

/// A broken frame decoder: trusts the length field and never checks the CRC.
fn decode_without_crc(bytes: &[u8]) -> Result<RawEnvelope<'_>, DecodeError> {
    match bytes.get(HEADER_LEN..bytes.len().saturating_sub(TRAILER_LEN)) {
        Some(payload) if bytes.len() >= HEADER_LEN + TRAILER_LEN => Ok(RawEnvelope {
            version: FORMAT_VERSION,
            codec: Codec::Json,
            payload,
        }),
        _ => decode_raw(bytes),
    }
}

/// A broken frame decoder: reports every payload as JSON, whatever its
/// header says.
fn decode_ignoring_codec(bytes: &[u8]) -> Result<RawEnvelope<'_>, DecodeError> {
    decode_raw(bytes).map(|raw| RawEnvelope {
        codec: Codec::Json,
        ..raw
    })
}

#[test]
fn envelope_body_catches_a_decoder_that_ignores_the_codec() {
    let data = b"payload";
    assert_eq!(check_envelope_decode_with(decode_raw, data), Ok(()));
    let finding = check_envelope_decode_with(decode_ignoring_codec, data).unwrap_err();
    assert!(finding.contains("postcard"), "{finding}");
}

#[test]
fn the_postcard_record_seed_is_resumed_by_the_store() {
    // Guards the corpus: the planted postcard record must reach the
    // returned-checkpoint check, not be refused as malformed.
    let (_, planted) = seed_corpus()
        .into_iter()
        .find(|(n, _)| n == "postcard store record gen 2")
        .unwrap();
    let fs = SimFs::new(SimConfig::with_seed(0));
    let dir = Path::new("/job");
    fs.create_dir_all(dir).unwrap();
    let path = dir.join(generation_file_name(2));
    let file = fs.open_truncate(&path).unwrap();
    fs.write_all_at(&file, 0, &encode_raw_with(Codec::Postcard, &planted[3..]))
        .unwrap();
    fs.close(file).unwrap();
    let job = JobIdentity {
        name: "fuzz".to_string(),
        fingerprint: 7,
    };
    let c = CheckpointStore::peek_latest(&fs, dir, &job)
        .unwrap()
        .unwrap();
    assert_eq!((c.generation, c.cursor, c.codec), (2, 9, Codec::Postcard));
    assert_eq!(c.state, b"state");
    assert_eq!(check_returned_checkpoint(&fs, dir, &c, &[2]), Ok(()));
    assert_eq!(check_store_latest(&planted), Ok(()));
}

#[test]
fn the_v1_seed_is_accepted_and_reencoded_as_v1() {
    let bytes = envelope_v1(b"{\"cursor\":5}");
    let raw = decode_raw(&bytes).unwrap();
    assert_eq!((raw.version, raw.codec), (1, Codec::Json));
    assert_eq!(check_envelope_decode(&bytes), Ok(()));
}

#[test]
fn envelope_body_catches_broken_decoders() {
    let valid = valid();
    let extended = [valid.as_slice(), b"x"].concat();
    let mut flipped = valid.clone();
    flipped[HEADER_LEN] ^= 1;
    assert_eq!(
        check_envelope_decode_with(decode_raw, &extended),
        Ok(()),
        "the real decoder rejects the extended input"
    );
    assert!(check_envelope_decode_with(decode_ignoring_trailing_bytes, &extended).is_err());
    assert_eq!(check_envelope_decode_with(decode_raw, &flipped), Ok(()));
    assert!(check_envelope_decode_with(decode_without_crc, &flipped).is_err());
}

/// The store body's consistency check accepts what the store really returns
/// for a planted record, and rejects a checkpoint that disagrees with it.
#[test]
fn store_body_checks_the_returned_checkpoint_against_its_file() {
    let fs = SimFs::new(SimConfig::with_seed(0));
    let dir = Path::new("/job");
    fs.create_dir_all(dir).unwrap();
    let path = dir.join(generation_file_name(2));
    let file = fs.open_truncate(&path).unwrap();
    fs.write_all_at(&file, 0, &encode_raw(&record_payload(2, 9)))
        .unwrap();
    fs.close(file).unwrap();
    let job = JobIdentity {
        name: "fuzz".to_string(),
        fingerprint: 7,
    };
    let real = CheckpointStore::peek_latest(&fs, dir, &job)
        .unwrap()
        .unwrap();
    assert_eq!((real.generation, real.cursor), (2, 9));
    assert_eq!(check_returned_checkpoint(&fs, dir, &real, &[2]), Ok(()));
    let wrong_cursor = StoredCheckpoint {
        cursor: 10,
        ..real.clone()
    };
    assert!(check_returned_checkpoint(&fs, dir, &wrong_cursor, &[2]).is_err());
    let wrong_state = StoredCheckpoint {
        state: b"other".to_vec(),
        state_digest: stable_digest(b"other"),
        ..real.clone()
    };
    assert!(check_returned_checkpoint(&fs, dir, &wrong_state, &[2]).is_err());
    let wrong_digest = StoredCheckpoint {
        state_digest: real.state_digest ^ 1,
        ..real.clone()
    };
    assert!(check_returned_checkpoint(&fs, dir, &wrong_digest, &[2]).is_err());
    // Not planted, so it must be the body's valid commit, which it is not.
    assert!(check_returned_checkpoint(&fs, dir, &real, &[]).is_err());
}

/// The SimFs body's image check rejects a running fs with unsynced data and
/// accepts its crash images.
#[test]
fn simfs_body_image_check_rejects_a_running_fs() {
    let fs = SimFs::new(SimConfig::with_seed(3));
    let file = fs.open_truncate(Path::new("/a")).unwrap();
    fs.write_all_at(&file, 0, b"unsynced").unwrap();
    assert!(check_crash_image(&fs, 3, "running fs").is_err());
    for model in CrashModel::ALL {
        assert_eq!(
            check_crash_image(&fs.crash_image(model, 3).fs, 3, "image"),
            Ok(())
        );
    }
    fs.close(file).unwrap();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48)
    ))]

    #[test]
    fn envelope_decode_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        prop_assert_eq!(check_envelope_decode(&data), Ok(()));
    }

    #[test]
    fn envelope_decode_on_mutated_valid_envelopes(at in 0usize..64, byte in any::<u8>(), cut in 0usize..64) {
        let mut data = valid();
        let len = data.len();
        data[at % len] = byte;
        data.truncate(len - cut % len);
        prop_assert_eq!(check_envelope_decode(&data), Ok(()));
    }

    #[test]
    fn store_latest_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        prop_assert_eq!(check_store_latest(&data), Ok(()));
    }

    #[test]
    fn simfs_ops_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        prop_assert_eq!(check_simfs_ops(&data), Ok(()));
    }

    #[test]
    fn kill_schedule_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        prop_assert_eq!(check_kill_schedule(&data), Ok(()));
    }
}

/// One `[[package]]` entry of a `Cargo.lock`: name, version, whether it is
/// a path package (no `source`), and its dependency names (the version
/// suffix cargo adds when two versions are locked is dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Locked {
    name: String,
    version: String,
    path: bool,
    deps: Vec<String>,
}

fn locked(text: &str) -> Vec<Locked> {
    let field = |block: &str, key: &str| {
        block
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key} = \"")))
            .map(|v| v.trim_end_matches('"').to_string())
    };
    text.split("[[package]]")
        .skip(1)
        .map(|block| Locked {
            name: field(block, "name").unwrap_or_default(),
            version: field(block, "version").unwrap_or_default(),
            path: field(block, "source").is_none(),
            deps: block
                .split_once("dependencies = [")
                .map(|(_, rest)| rest.split(']').next().unwrap_or(""))
                .unwrap_or("")
                .lines()
                .filter_map(|l| l.trim().trim_end_matches(',').strip_prefix('"'))
                .map(|d| {
                    d.trim_end_matches('"')
                        .split(' ')
                        .next()
                        .unwrap_or("")
                        .to_string()
                })
                .collect(),
        })
        .collect()
}

/// The non-optional `[dependencies]` of each workspace member, by package
/// name, read from its `Cargo.toml`.
fn normal_dependencies(root: &Path) -> Vec<(String, Vec<String>)> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let members = manifest
        .split_once("members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| list)
        .unwrap_or("");
    members
        .split(',')
        .map(|m| m.trim().trim_matches('"'))
        .filter(|m| !m.is_empty())
        .map(|member| {
            let text = std::fs::read_to_string(root.join(member).join("Cargo.toml")).unwrap();
            let name = text
                .lines()
                .find_map(|l| l.strip_prefix("name = \""))
                .map(|n| n.trim_end_matches('"').to_string())
                .unwrap_or_default();
            let deps = text
                .split_once("\n[dependencies]\n")
                .map(|(_, rest)| rest.split("\n[").next().unwrap_or(""))
                .unwrap_or("")
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
                .filter(|l| !l.contains("optional = true"))
                .filter_map(|l| l.split(['.', ' ', '=']).next())
                .map(str::to_string)
                .collect();
            (name, deps)
        })
        .collect()
}

/// Where `fuzz/Cargo.lock` disagrees with the workspace: a workspace crate
/// locked without one of its dependencies or with one the workspace does
/// not lock (the workspace changed and the fuzz lock was not regenerated:
/// `cargo fuzz` would rewrite it and leave git dirty), or a crate locked
/// at a version the workspace does not use. (A path crate's
/// dev-dependencies are in the workspace lock only: `fuzz/` does not build
/// those crates' tests.)
fn fuzz_lock_drift(workspace: &str, normal: &[(String, Vec<String>)], fuzz: &str) -> Vec<String> {
    let workspace = locked(workspace);
    let mut drift = Vec::new();
    for package in locked(fuzz) {
        let same_name: Vec<&Locked> = workspace
            .iter()
            .filter(|w| w.name == package.name)
            .collect();
        if package.path {
            if package.name == "crashproof-fuzz" {
                continue;
            }
            let Some(w) = same_name.first() else {
                drift.push(format!("{}: not a workspace crate", package.name));
                continue;
            };
            for dep in &package.deps {
                if !w.deps.contains(dep) {
                    drift.push(format!(
                        "{}: depends on {dep} only in fuzz/Cargo.lock",
                        package.name
                    ));
                }
            }
            let needed = normal
                .iter()
                .find(|(n, _)| *n == package.name)
                .map(|(_, d)| d);
            for dep in needed.into_iter().flatten() {
                if !package.deps.contains(dep) {
                    drift.push(format!(
                        "{}: its dependency {dep} is missing from fuzz/Cargo.lock",
                        package.name
                    ));
                }
            }
        } else if !same_name.is_empty() && !same_name.iter().any(|w| w.version == package.version) {
            drift.push(format!(
                "{} {}: the workspace locks {}",
                package.name,
                package.version,
                same_name
                    .iter()
                    .map(|w| w.version.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    drift
}

/// `fuzz/` is its own workspace with its own lock; it must lock what the
/// workspace locks, or running `cargo +nightly fuzz run ...` rewrites
/// `fuzz/Cargo.lock`. To fix: `cp Cargo.lock fuzz/ && cargo metadata
/// --manifest-path fuzz/Cargo.toml --format-version 1 >/dev/null` (keeps
/// the workspace's versions, adds libFuzzer's crates), then commit it.
#[test]
fn the_fuzz_lock_locks_what_the_workspace_locks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let workspace = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
    let fuzz = std::fs::read_to_string(root.join("fuzz/Cargo.lock")).unwrap();
    assert!(locked(&fuzz).iter().any(|p| p.name == "crashproof-tests"));
    let normal = normal_dependencies(&root);
    assert!(
        normal
            .iter()
            .any(|(n, d)| n == "crashproof-tests" && d.iter().any(|d| d == "crashproof-sim")),
        "{normal:?}"
    );
    let drift = fuzz_lock_drift(&workspace, &normal, &fuzz);
    assert!(
        drift.is_empty(),
        "fuzz/Cargo.lock is out of date (regenerate it: see this test's doc comment):\n{}",
        drift.join("\n")
    );
    // The check can fail: a workspace crate that gained a dependency, and
    // a crate locked at another version.
    let mut grown = normal.clone();
    for (name, deps) in &mut grown {
        if name == "crashproof-tests" {
            deps.push("new-dep".to_string());
        }
    }
    assert!(!fuzz_lock_drift(&workspace, &grown, &fuzz).is_empty());
    let other_version = fuzz.replacen(
        "name = \"arbitrary\"\nversion = \"",
        "name = \"arbitrary\"\nversion = \"0.",
        1,
    );
    assert_ne!(other_version, fuzz, "the arbitrary entry was not found");
    assert!(!fuzz_lock_drift(&workspace, &normal, &other_version).is_empty());
}
