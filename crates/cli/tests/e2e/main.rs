//! The `mandate` command against real anvil and Alto (started by
//! `mandate_testing::node::Harness`).

// One crate of several sharing the package's dev-dependencies: not all of them are used here.
#![allow(unused_crate_dependencies)]
#![allow(clippy::unwrap_used)]

mod change_e2e;
mod deploy_e2e;
mod lifecycle_e2e;
mod nexus_sdk_e2e;
mod run;
mod session_e2e;
// The harness deploys the EntryPoint v0.6 the paymaster service reads from the v2 artifacts.
#[cfg(feature = "legacy-v2")]
mod sponsor_e2e;
mod ts_grants_e2e;
