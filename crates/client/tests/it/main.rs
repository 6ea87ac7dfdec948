//! mandate-client's integration tests (one binary): the demo story, the client's flows, the
//! legacy v2 demo and the session stores.

// One crate of several sharing the package's dev-dependencies: not all of them are used here.
#![allow(unused_crate_dependencies)]
#![allow(clippy::unwrap_used)]

mod demo;
mod eip7702;
mod entry_point_v08;
mod families;
mod flows;
mod lanes;
#[cfg(feature = "legacy-v2")]
mod legacy_v2_demo;
mod lifecycle;
mod lint;
mod load;
mod pending;
mod sign_as_account;
mod sql_kill;
mod store;
mod store_kill;
mod store_processes;
