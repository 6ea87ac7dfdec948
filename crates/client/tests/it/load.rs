//! A modest load through a real PostgreSQL store (the large one is `cargo bench --bench load`):
//! 2 workers × 2 accounts × 2 sessions, each session allowing 3 mints and asked for 5, all at
//! once, and a worker killed mid-send. Proven: no op fails on chain or at the bundler (no nonce
//! collision), none is included twice, each session's limit is reached exactly, the rest is
//! held back or refused before sending, and every record is still in the store.

use mandate_testing::load::{Load, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_through_postgres_sends_nothing_that_fails() {
    let pg = mandate_testing::postgres::Postgres::start();
    let load = Load { workers: 2, accounts: 2, sessions: 2, limit: 3, asks: 5 };
    let report = run(load, &pg.url).await;
    println!("{report:?}");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.double_sends, 0);
    let sessions = load.accounts * load.sessions;
    let limit = usize::try_from(load.limit).unwrap();
    // The killed worker's op may have landed before it was killed (it then took one of its
    // session's mints): the others reach each session's limit exactly, no more.
    assert!(
        report.included == sessions * limit || report.included == sessions * limit - 1,
        "{report:?}"
    );
    assert!(report.minted == alloy_primitives::U256::from(sessions * limit), "{report:?}");
    assert_eq!(
        report.included + report.held_or_refused,
        sessions * usize::try_from(load.asks).unwrap()
    );
    assert_eq!(report.records, sessions);
}
