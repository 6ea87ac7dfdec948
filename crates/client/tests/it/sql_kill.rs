//! A worker process killed with SIGKILL while it holds a nonce lane, a pending op and an
//! account's section in a PostgreSQL store, and while it rewrites a session: the session is
//! whole afterwards (the last version written or the one being written), and the lane, the
//! pending op and the section come back once their time to live has passed.
//!
//! The test re-runs its own binary as the worker ([`sql_worker_child`] with
//! `MANDATE_SQL_KILL_URL` set).
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use alloy_primitives::{Address, B256};
use mandate_abi::PackedUserOperation;
use mandate_client::SessionKey;
use mandate_client::lanes::LaneAllocator;
use mandate_client::pending::{PendingOp, PendingRegistry};
use mandate_client::store::{ScryptCost, SessionStore, SqlStore};
use mandate_testing::store::{PASSWORD, record, reference};

const URL_VAR: &str = "MANDATE_SQL_KILL_URL";
const MARK: &str = "@sql ";
const TTL: Duration = Duration::from_secs(1);
const ACCOUNT: Address = Address::repeat_byte(0xdd);

fn store(url: &str) -> SqlStore {
    SqlStore::connect(url, PASSWORD).unwrap().with_scrypt_cost(ScryptCost::MIN)
}

#[test]
fn sql_worker_child() {
    let Ok(url) = std::env::var(URL_VAR) else { return };
    let store = store(&url);
    let (lanes, pending) = (store.lanes(TTL), store.pending(TTL));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let lease = lanes.lease(1, ACCOUNT, 16).unwrap();
    let section = rt.block_on(pending.section(1, ACCOUNT)).unwrap();
    let op = PendingOp {
        user_op_hash: B256::repeat_byte(1),
        op: PackedUserOperation { sender: ACCOUNT, ..Default::default() },
        session: true,
    };
    let guard = pending.add(1, ACCOUNT, op).unwrap();
    println!("{MARK}HOLDING lane {}", lease.lane());
    for step in 0u64.. {
        let key = SessionKey::random();
        println!("{MARK}SAVING {} step {step}", key.address());
        store.save(&key, &record(7, key.address(), &format!("step {step}"))).unwrap();
    }
    drop((lease, section, guard));
}

#[test]
fn a_killed_workers_session_stays_whole_and_its_rows_expire() {
    if std::env::var(URL_VAR).is_ok() {
        return;
    }
    let pg = mandate_testing::postgres::Postgres::start();
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(&exe)
        .args(["--exact", "sql_kill::sql_worker_child", "--nocapture", "--test-threads=1"])
        .env(URL_VAR, &pg.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut saving = Vec::new();
    let mut held = None;
    // Until it has written a few versions of the session: then SIGKILL, mid-write or between.
    while saving.len() < 5 {
        let line = lines.next().unwrap().unwrap();
        // The harness's own "test … ... " may share the first line.
        let Some(at) = line.find(MARK) else { continue };
        let line = &line[at + MARK.len()..];
        let words: Vec<&str> = line.split(' ').collect();
        match words[..] {
            ["HOLDING", "lane", lane] => held = Some(lane.parse::<u32>().unwrap()),
            ["SAVING", key, "step", step] => {
                saving.push((key.parse::<Address>().unwrap(), step.to_owned()))
            }
            _ => panic!("{line}"),
        }
    }
    sigkill(child.id());
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(9));
    assert_eq!(held, Some(0));

    // The session: a version it began writing, whole (its key decrypts to its record's key).
    let store = store(&pg.url);
    let loaded = store.load(&reference(7)).unwrap().unwrap();
    let version = saving.iter().find(|(key, _)| *key == loaded.key.address());
    let (_, step) =
        version.unwrap_or_else(|| panic!("{} is none of {saving:?}", loaded.key.address()));
    assert_eq!(loaded.record, record(7, loaded.key.address(), &format!("step {step}")));
    assert_eq!(store.list().unwrap().len(), 1);

    // Its lane, pending op and section: back once their time to live has passed.
    let (lanes, pending) = (store.lanes(TTL), store.pending(TTL));
    std::thread::sleep(TTL + Duration::from_millis(1100));
    assert!(pending.of(1, ACCOUNT).unwrap().is_empty(), "the dead worker's pending op");
    assert_eq!(lanes.lease(1, ACCOUNT, 16).unwrap().lane(), 0, "the dead worker's lane");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let started = Instant::now();
    let section = rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), pending.section(1, ACCOUNT)).await
    });
    assert!(
        section.is_ok_and(|s| s.is_ok()),
        "the dead worker's section, after {:?}",
        started.elapsed()
    );
}

/// SIGKILL `pid`.
fn sigkill(pid: u32) {
    let status = Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
    assert!(status.success());
}
