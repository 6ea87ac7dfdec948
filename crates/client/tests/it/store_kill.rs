//! A writer killed mid-write never loses or tears a stored session.
//!
//! The test re-runs its own binary as a child process ("writer mode": [`kill_writer_child`]
//! with `MANDATE_STORE_KILL_DIR` set) that saves and updates three sessions in a loop into one
//! [`FileStore`] (and, every seventh write, all three in one batch), telling on stdout which write it begins and which it finished. The parent
//! SIGKILLs it after a different delay each round, looks at what the kill left, reopens the
//! store and checks every session: each one the child finished writing loads, its key
//! decrypting to the address written, its record equal to the last version finished or to the
//! one being written when the child died — never a mix, a batch for all its sessions or for
//! none, and nothing half-written listed.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use alloy_primitives::{Address, hex};
use mandate_client::store::SessionStore;
use mandate_client::{SessionKey, SessionRecord};
use mandate_testing::store::{open, record, reference};

const DIR_VAR: &str = "MANDATE_STORE_KILL_DIR";
const ROUND_VAR: &str = "MANDATE_STORE_KILL_ROUND";
const SESSIONS: u8 = 3;
const SIGKILL: i32 = 9;
/// What starts the child's report lines.
const MARK: &str = "@store ";
/// Rounds: one writer each, killed after its own delay.
const ROUNDS: u64 = 32;

/// Between the child's store being open and its kill: 0 to 300 ms, spread over the rounds
/// in a scrambled order, to the microsecond, so kills land all over a write; 2 s in the extra
/// rounds a loaded machine may need.
fn delay(round: u64) -> Duration {
    if round >= ROUNDS {
        return Duration::from_secs(2);
    }
    Duration::from_micros(round * 7_919 * 1_237 % 300_000)
}

/// One write, as the child reports it: `BEGIN <save|update> <n> <key address> <label>`, or
/// `BEGIN batch <count> <key address> <label>` for sessions `0..count` saved together.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Version {
    save: bool,
    key: Address,
    label: String,
}

impl Version {
    fn record(&self, n: u8) -> SessionRecord {
        record(n, self.key, &self.label)
    }
}

/// Writer mode: does nothing unless the parent set `MANDATE_STORE_KILL_DIR`.
#[test]
fn kill_writer_child() {
    let Ok(dir) = std::env::var(DIR_VAR) else { return };
    let round = std::env::var(ROUND_VAR).unwrap();
    let store = open(Path::new(&dir)).unwrap();
    // The sessions' current keys, as earlier rounds left them.
    let mut keys: BTreeMap<u8, Address> = BTreeMap::new();
    for r in store.list().unwrap() {
        let n = (0..SESSIONS).find(|&n| reference(n) == r.reference()).unwrap();
        keys.insert(n, r.session_key);
    }
    let mut out = std::io::stdout().lock();
    // One write(2) per line, so a line is whole or absent. The marker sets our lines apart
    // from the test harness's (which may share a line: "test kill_writer_child ... ").
    let mut say = |line: String| out.write_all(format!("{MARK}{line}\n").as_bytes()).unwrap();
    say("READY".into());
    for step in 0u64.. {
        let n = u8::try_from(step % u64::from(SESSIONS)).unwrap();
        let label = format!("round {round} step {step}");
        // Mostly saves (new key, replacing), every third step of a session an update, every
        // seventh step a batch: one new key for all the sessions at once.
        if step % 7 == 6 {
            let key = SessionKey::random();
            say(format!("BEGIN batch {SESSIONS} {} {label}", key.address()));
            let records: Vec<_> = (0..SESSIONS).map(|n| record(n, key.address(), &label)).collect();
            let batch: Vec<_> = records.iter().map(|r| (&key, r)).collect();
            store.save_all(&batch).unwrap();
            for n in 0..SESSIONS {
                keys.insert(n, key.address());
            }
            say("DONE".into());
            continue;
        }
        match keys.get(&n) {
            Some(&key) if step % 3 == 2 => {
                say(format!("BEGIN update {n} {key} {label}"));
                store.update(&record(n, key, &label)).unwrap();
            }
            _ => {
                let key = SessionKey::random();
                say(format!("BEGIN save {n} {} {label}", key.address()));
                store.save(&key, &record(n, key.address(), &label)).unwrap();
                keys.insert(n, key.address());
            }
        }
        say("DONE".into());
    }
}

/// Where in a save the kill landed, from what it left in the session's directory.
#[derive(Debug, Default)]
struct Moments {
    /// Killed between writes (after a DONE, or before a BEGIN's write started).
    idle: u32,
    /// A `.tmp-*` generation without a keystore file: killed while scrypt ran.
    in_scrypt: u32,
    /// A `.tmp-*` generation with a keystore file that is not whole JSON: killed while the
    /// keystore was being written.
    in_keystore_write: u32,
    /// The keystore written, the record not (or not all of it).
    in_record: u32,
    /// Both written, not yet renamed into place.
    before_rename: u32,
    /// A save whose leftovers were already gone (after the rename, deleting old generations).
    save_other: u32,
    /// Killed in an update.
    in_update: u32,
    /// Killed in a batch save; `batch_marked` of them with the batch's marker on disk
    /// (between the first rename and the last).
    in_batch: u32,
    batch_marked: u32,
}

fn classify(
    store_dir: &Path,
    session_dir: &Path,
    pending: Option<&Version>,
    batch: bool,
    moments: &mut Moments,
) {
    let Some(version) = pending else {
        moments.idle += 1;
        return;
    };
    if batch {
        moments.in_batch += 1;
        let marked = std::fs::read_dir(store_dir)
            .unwrap()
            .any(|e| e.unwrap().file_name().to_str().unwrap().starts_with(".batch-"));
        moments.batch_marked += u32::from(marked);
        return;
    }
    if !version.save {
        moments.in_update += 1;
        return;
    }
    let tmp = std::fs::read_dir(session_dir).ok().into_iter().flatten().find_map(|e| {
        let e = e.unwrap();
        e.file_name().to_str().unwrap().starts_with(".tmp-").then(|| e.path())
    });
    let Some(tmp) = tmp else {
        moments.save_other += 1;
        return;
    };
    let whole = |name: &str| {
        std::fs::read(tmp.join(name))
            .ok()
            .is_some_and(|b| serde_json::from_slice::<serde_json::Value>(&b).is_ok())
    };
    if !tmp.join("key.json").exists() {
        moments.in_scrypt += 1;
    } else if !whole("key.json") {
        moments.in_keystore_write += 1;
    } else if !whole("session.json") {
        moments.in_record += 1;
    } else {
        moments.before_rename += 1;
    }
}

#[test]
fn killed_writers_never_lose_or_tear_a_session() {
    if std::env::var(DIR_VAR).is_ok() {
        return; // the child runs only kill_writer_child
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    // Per session: the last version the child finished writing.
    let mut committed: BTreeMap<u8, Version> = BTreeMap::new();
    let mut moments = Moments::default();
    let mut finished_writes = 0u32;

    // ROUNDS rounds, then (on a loaded machine, where a save with its scrypt can outlast
    // every delay) longer rounds until each session has been written once and a kill has
    // landed in a batch.
    for round in 0..ROUNDS * 4 {
        if round >= ROUNDS && committed.len() == usize::from(SESSIONS) && moments.in_batch > 0 {
            break;
        }
        let mut child = Command::new(&exe)
            .args(["--exact", "store_kill::kill_writer_child", "--nocapture", "--test-threads=1"])
            .env(DIR_VAR, dir.path())
            .env(ROUND_VAR, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (lines, received) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in stdout.lines() {
                let line = line.unwrap();
                let Some((_, report)) = line.split_once(MARK) else { continue };
                if lines.send(report.to_owned()).is_err() {
                    break;
                }
            }
        });
        // Wait for the store to be open, then let it write for `delay`.
        let ready = received.recv_timeout(Duration::from_secs(60));
        if ready.as_deref() != Ok("READY") {
            child.kill().unwrap();
            panic!("round {round}: the writer did not start: {ready:?}");
        }
        std::thread::sleep(delay(round));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.signal(), Some(SIGKILL), "the writer died by itself: {stderr}");
        reader.join().unwrap();

        // What the child finished, and what it was in the middle of: the sessions a write
        // touches (one, or all of a batch) and their new version.
        let mut pending: Option<(Vec<u8>, Version)> = None;
        for line in received.try_iter() {
            if line == "DONE" {
                let (sessions, version) = pending.take().unwrap();
                for n in sessions {
                    committed.insert(n, version.clone());
                }
                finished_writes += 1;
            } else if let Some(rest) = line.strip_prefix("BEGIN ") {
                let mut parts = rest.splitn(4, ' ');
                let kind = parts.next().unwrap();
                let n: u8 = parts.next().unwrap().parse().unwrap();
                let key: Address = parts.next().unwrap().parse().unwrap();
                let label = parts.next().unwrap().to_owned();
                let sessions = if kind == "batch" { (0..n).collect() } else { vec![n] };
                pending = Some((sessions, Version { save: kind != "update", key, label }));
            }
        }
        let batch = pending.as_ref().is_some_and(|(sessions, _)| sessions.len() > 1);
        let pending_dir =
            pending.as_ref().map(|(sessions, _)| session_dir(dir.path(), sessions[0]));
        classify(
            dir.path(),
            pending_dir.as_deref().unwrap_or(dir.path()),
            pending.as_ref().map(|(_, v)| v),
            batch,
            &mut moments,
        );

        // Reopen, as a process starting after the crash would.
        let store = open(dir.path()).unwrap();
        let mut expected_list = Vec::new();
        let mut batch_landed = Vec::new();
        for n in 0..SESSIONS {
            let old = committed.get(&n);
            let new = pending.as_ref().filter(|(p, _)| p.contains(&n)).map(|(_, v)| v);
            let loaded = store.load(&reference(n)).unwrap();
            let Some(loaded) = loaded else {
                assert!(old.is_none(), "round {round}: session {n} was lost");
                continue;
            };
            let version = [old, new]
                .into_iter()
                .flatten()
                .find(|v| v.key == loaded.key.address() && v.record(n) == loaded.record)
                .unwrap_or_else(|| {
                    panic!(
                        "round {round}: session {n} is neither {old:?} nor {new:?}: {:?}",
                        loaded.record
                    )
                })
                .clone();
            assert_eq!(loaded.key.address(), loaded.record.session_key);
            if batch {
                batch_landed.push(new == Some(&version));
            }
            expected_list.push(loaded.record);
            // The interrupted write landed: it is what later rounds must keep.
            committed.insert(n, version);
        }
        // A batch killed part-way landed for all its sessions or for none.
        assert!(
            batch_landed.iter().all(|&l| l) || batch_landed.iter().all(|&l| !l),
            "round {round}: a batch landed for some sessions only: {batch_landed:?}"
        );
        expected_list.sort_by_key(SessionRecord::reference);
        assert_eq!(store.list().unwrap(), expected_list, "round {round}");
        // Reopening cleared what the kill left.
        for entry in walk(dir.path()) {
            assert!(!entry.contains(".tmp-"), "round {round}: {entry} left over");
        }
    }

    let elapsed = started.elapsed();
    eprintln!(
        "{ROUNDS}+ rounds, {finished_writes} writes finished, kills landed: {moments:?}, in {elapsed:?}"
    );
    assert_eq!(committed.len(), usize::from(SESSIONS), "the writer barely wrote");
    assert!(moments.in_batch > 0, "no kill landed in a batch: {moments:?}");
    let kills_in_saves = moments.in_scrypt
        + moments.in_keystore_write
        + moments.in_record
        + moments.before_rename
        + moments.save_other;
    assert!(kills_in_saves > 0, "no kill landed in a save: {moments:?}");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        found.push(path.display().to_string());
        if path.is_dir() {
            found.extend(walk(&path));
        }
    }
    found
}

/// The session's directory, as the file store's layout names it (not opening the store,
/// which would clean up what the kill left).
fn session_dir(dir: &Path, n: u8) -> std::path::PathBuf {
    let r = reference(n);
    dir.join(format!("{}-{}-{}", r.chain_id, hex::encode_prefixed(r.account), r.permission_id))
}
