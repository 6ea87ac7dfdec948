//! The umbrella crate's end-to-end tests against real anvil and Alto (started by
//! `mandate_testing::node::Harness`; one binary apart from `tests/it` because they need the
//! nodes).

// One crate of several sharing the package's dev-dependencies: not all of them are used here.
#![allow(unused_crate_dependencies)]
#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

mod bundler_e2e;
mod client_e2e;
mod families_e2e;
mod fork;
#[cfg(feature = "legacy-v2")]
mod legacy_v2_e2e;
