//! The evaluator's integration tests (one binary): differential tests of the local evaluator
//! against SmartSession, the EntryPoint and the legacy v2 modules running in revm, and (feature
//! `upstream-parity`) against upstream Smart Sessions' bytecode.

// One crate of several sharing the package's dev-dependencies: not all of them are used here.
#![allow(unused_crate_dependencies)]
#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

#[cfg(feature = "legacy-v2")]
mod legacy_v2_differential;
mod policy_differential;
mod policy_entry_point;
#[cfg(feature = "upstream-parity")]
mod policy_upstream;
