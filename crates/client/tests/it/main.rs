//! mandate-client's integration tests (one binary): the demo story, the client's flows, the
//! legacy v2 demo and the session stores.

// One crate of several sharing the package's dev-dependencies: not all of them are used here.
#![allow(unused_crate_dependencies)]
#![allow(clippy::unwrap_used)]

mod demo;
mod families;
mod flows;
mod lanes;
#[cfg(feature = "legacy-v2")]
mod legacy_v2_demo;
mod lint;
mod store;
mod store_kill;
mod store_processes;
