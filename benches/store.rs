//! What one op costs in the stores a backend's workers share: per op the client takes the
//! account's pending-ops section, reads the pending ops, registers its op, leaves the section,
//! and releases the op at its receipt; it leases a nonce lane and releases it. Measured on the
//! in-process registry and lanes, SQLite (one file) and PostgreSQL (a real server on a Unix
//! socket, started here), side by side.
//!
//! `cargo bench --bench store`

// One crate of several sharing the package's dev-dependencies: not all of them are used here.
#![allow(unused_crate_dependencies)]

use std::{hint::black_box, sync::Arc, time::Duration};

use alloy_primitives::{Address, B256};
use criterion::{Criterion, criterion_group, criterion_main};
use mandate::abi::PackedUserOperation;
use mandate::client::{
    lanes::{LaneAllocator, MemoryLanes},
    pending::{MemoryPending, PendingOp, PendingRegistry},
    store::SqlStore,
};

const PASSWORD: &str = "bench password";

fn op() -> PendingOp {
    PendingOp {
        user_op_hash: B256::repeat_byte(7),
        op: PackedUserOperation { sender: Address::repeat_byte(0xaa), ..Default::default() },
        session: true,
    }
}

/// One op's trip through `pending` and `lanes`.
fn one_op(rt: &tokio::runtime::Runtime, pending: &dyn PendingRegistry, lanes: &dyn LaneAllocator) {
    let account = Address::repeat_byte(0xaa);
    let lease = lanes.lease(1, account, 1 << 16).expect("a lane");
    let section = rt.block_on(pending.section(1, account)).expect("the section");
    black_box(pending.of(1, account).expect("pending ops"));
    let guard = pending.add(1, account, op()).expect("registered");
    drop(section);
    drop(guard);
    drop(lease);
}

/// A store's name, its pending ops and its lanes.
type Case = (&'static str, Arc<dyn PendingRegistry>, Arc<dyn LaneAllocator>);

fn store(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let pg = mandate_testing::postgres::Postgres::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = SqlStore::sqlite(dir.path().join("bench.db"), PASSWORD).expect("sqlite");
    let postgres = SqlStore::connect(&pg.url, PASSWORD).expect("postgres");
    let ttl = Duration::from_secs(600);
    let cases: [Case; 3] = [
        ("memory", Arc::new(MemoryPending::default()), Arc::new(MemoryLanes::new())),
        ("sqlite", Arc::new(sqlite.pending(ttl)), Arc::new(sqlite.lanes(ttl))),
        ("postgres", Arc::new(postgres.pending(ttl)), Arc::new(postgres.lanes(ttl))),
    ];
    let mut group = c.benchmark_group("store_per_op");
    for (name, pending, lanes) in &cases {
        group.bench_function(*name, |b| b.iter(|| one_op(&rt, pending.as_ref(), lanes.as_ref())));
    }
    group.finish();
}

criterion_group!(benches, store);
criterion_main!(benches);
