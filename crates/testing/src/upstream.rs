//! Upstream's runtimes for the tests: the canonical Smart Sessions deployment read from
//! `../shared/upstream` beside the repository (test data, never part of Mandate), or from the
//! parent of `MANDATE_UPSTREAM_DIR` when that is set (it names the `smartsessions-f5aaf86`
//! directory, as the upstream-parity steps of `.ci/run` set it).

use std::path::PathBuf;

use mandate_sim::canonical::Runtimes;

/// The directory holding `smartsessions-f5aaf86/` and `core-modules-1f97c29/`.
pub fn dir() -> PathBuf {
    match std::env::var_os("MANDATE_UPSTREAM_DIR") {
        Some(smartsessions) => PathBuf::from(smartsessions).join(".."),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream"),
    }
}

/// Every runtime of the canonical deployment; panics naming what is missing.
pub fn runtimes() -> Runtimes {
    let dir = dir();
    Runtimes::read(&[dir.join("smartsessions-f5aaf86"), dir.join("core-modules-1f97c29")])
        .unwrap_or_else(|e| panic!("upstream runtimes (the tests need ../shared/upstream): {e}"))
}
