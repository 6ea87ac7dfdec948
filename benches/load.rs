//! The load of `mandate_testing::load` at larger sizes, through a real PostgreSQL server
//! started here: 1, 2, 4 and 8 workers × 8 accounts × 2 sessions, each session allowing 5 mints
//! and asked for 8, on the embedded devnet. Prints, per worker count, ops/s and the p50 / p95
//! latency from intent to receipt, and checks the invariants the test proves (nothing failed,
//! nothing sent twice, every record kept).
//!
//! `cargo bench --bench load`

// One crate of several sharing the package's dev-dependencies: not all of them are used here.
#![allow(unused_crate_dependencies)]

use mandate_testing::load::{Load, run};

fn main() {
    // `cargo bench -- <filter>` passes arguments; this bench has one size list and no filter.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let pg = mandate_testing::postgres::Postgres::start();
    println!("workers | included | held or refused | ops/s | p50 | p95");
    for workers in [1, 2, 4, 8] {
        let load = Load { workers, accounts: 8, sessions: 2, limit: 5, asks: 8 };
        let report = rt.block_on(run(load, &pg.url));
        assert!(report.failed.is_empty(), "{:?}", report.failed);
        assert_eq!(report.double_sends, 0);
        assert_eq!(report.records, load.accounts * load.sessions);
        println!(
            "{workers} | {} | {} | {:.1} | {:.1} ms | {:.1} ms",
            report.included,
            report.held_or_refused,
            report.ops_per_second,
            report.p50.as_secs_f64() * 1e3,
            report.p95.as_secs_f64() * 1e3,
        );
    }
}
