//! Several processes on one store lose nothing: every CLI command is a process of its own.
//!
//! The test re-runs its own binary as child processes ([`store_process_child`] with
//! `MANDATE_STORE_PROCESS_DIR` set): one saves a session [`SAVES`] times, replacing its key
//! each time, while another opens the store over and over and reads a different session, as
//! `mandate session use` and `status` would. Before the store took an inter-process lock,
//! opening it deleted the saver's save in flight: 149 saves of 150 failed.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use alloy_primitives::Address;
use mandate_client::store::{FileStore, SessionStore};
use mandate_testing::store::{fresh, reference};

const DIR_VAR: &str = "MANDATE_STORE_PROCESS_DIR";
const ROLE_VAR: &str = "MANDATE_STORE_PROCESS_ROLE";
/// What starts the children's report lines.
const MARK: &str = "@store ";
/// Saves by the saving process, as in the run.
const SAVES: u32 = 150;
/// The file whose presence tells the reader to stop.
const STOP: &str = "stop-reading";

fn open(dir: &str) -> FileStore {
    mandate_testing::store::open(Path::new(dir)).unwrap()
}

/// Child mode: does nothing unless the parent set `MANDATE_STORE_PROCESS_DIR`.
#[test]
fn store_process_child() {
    let Ok(dir) = std::env::var(DIR_VAR) else { return };
    let role = std::env::var(ROLE_VAR).unwrap();
    let mut out = std::io::stdout().lock();
    let mut say = |line: String| out.write_all(format!("{MARK}{line}\n").as_bytes()).unwrap();
    let (mut ok, mut failed, mut first_error) = (0u32, 0u32, None);
    let mut count = |result: Result<(), String>| match result {
        Ok(()) => ok += 1,
        Err(e) => {
            failed += 1;
            first_error.get_or_insert(e);
        }
    };
    match role.as_str() {
        "save" => {
            let store = open(&dir);
            let mut last = Address::ZERO;
            for i in 0..SAVES {
                let (key, record) = fresh(0, &format!("save {i}"));
                let saved = store.save(&key, &record).map_err(|e| e.to_string());
                if saved.is_ok() {
                    last = key.address();
                }
                count(saved);
            }
            say(format!("LAST {last}"));
        }
        "read" => {
            let stop = Path::new(&dir).join(STOP);
            let mut rounds = 0u32;
            // At least a few rounds, however fast the saver is.
            while rounds < 5 || !stop.exists() {
                rounds += 1;
                // Each round a process of its own would: open, then read.
                let read = FileStore::open(&dir, mandate_testing::store::PASSWORD)
                    .and_then(|store| {
                        let loaded = store.load(&reference(1))?;
                        store.list()?;
                        Ok(loaded)
                    })
                    .map_err(|e| e.to_string())
                    .and_then(|loaded| match loaded {
                        Some(s) if s.record.label.as_deref() == Some("read me") => Ok(()),
                        other => Err(format!("session 1 is {other:?}")),
                    });
                count(read);
            }
        }
        other => panic!("unknown role {other}"),
    }
    say(format!("COUNT ok={ok} failed={failed} first_error={first_error:?}"));
}

fn spawn(dir: &Path, role: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "store_processes::store_process_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DIR_VAR, dir)
        .env(ROLE_VAR, role)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The child's report lines, once it has exited successfully.
fn reports(child: Child) -> Vec<String> {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "child failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(MARK).map(|(_, r)| r.to_owned()))
        .collect()
}

/// `(ok, failed, first error)` from a child's `COUNT` line.
fn counts(reports: &[String]) -> (u32, u32, String) {
    let line = reports.iter().find_map(|r| r.strip_prefix("COUNT ")).unwrap();
    let field = |name: &str| -> u32 {
        line.split(' ').find_map(|f| f.strip_prefix(name)).unwrap().parse().unwrap()
    };
    let error = line.split_once("first_error=").unwrap().1.to_owned();
    (field("ok="), field("failed="), error)
}

#[test]
fn processes_saving_and_reading_one_store_lose_nothing() {
    if std::env::var(DIR_VAR).is_ok() {
        return; // a child runs only store_process_child
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (key1, record1) = fresh(1, "read me");
    open(dir.path().to_str().unwrap()).save(&key1, &record1).unwrap();

    let saver = spawn(dir.path(), "save");
    let reader = spawn(dir.path(), "read");
    let saved = reports(saver);
    std::fs::write(dir.path().join(STOP), b"").unwrap();
    let read = reports(reader);

    let (saves, save_failures, save_error) = counts(&saved);
    let (loads, load_failures, load_error) = counts(&read);
    eprintln!(
        "saves: {saves} ok, {save_failures} failed ({save_error}); loads: {loads} ok, \
         {load_failures} failed ({load_error}); in {:?}",
        started.elapsed()
    );
    assert_eq!((saves, save_failures), (SAVES, 0), "first save error: {save_error}");
    assert_eq!(load_failures, 0, "first load error: {load_error}");
    assert!(loads >= 5);

    // What the saver saved last is what the store holds; session 1 is untouched.
    let last: Address =
        saved.iter().find_map(|r| r.strip_prefix("LAST ")).unwrap().parse().unwrap();
    let store = open(dir.path().to_str().unwrap());
    let loaded = store.load(&reference(0)).unwrap().unwrap();
    assert_eq!(loaded.key.address(), last);
    assert_eq!(loaded.record.label.as_deref(), Some(&*format!("save {}", SAVES - 1)));
    assert_eq!(store.load(&reference(1)).unwrap().unwrap().key.address(), key1.address());
    std::fs::remove_file(dir.path().join(STOP)).unwrap();
}
