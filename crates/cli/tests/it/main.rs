//! The `mandate` command's integration tests on the embedded devnet (one binary).

// One crate of several sharing the package's dev-dependencies: not all of them are used here.
#![allow(unused_crate_dependencies)]
#![allow(clippy::unwrap_used)]

mod cli;
mod deployments;
mod errors;
mod explain;
mod hostile;
mod nexus_sdk;
mod run;
mod sql_store;
