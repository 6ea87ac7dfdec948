//! The umbrella crate's integration tests on the embedded devnet (one binary, one module per
//! area): the contracts' behaviour, the pre-flight, the in-process bundler and legacy v2.

// One crate of several sharing the package's dev-dependencies: not all of them are used here.
#![allow(unused_crate_dependencies)]
#![allow(clippy::unwrap_used, missing_docs, unreachable_pub)]

mod bundler_devnet;
mod canonical;
mod enable_mode;
mod entry_point_v08;
mod erc1271;
mod families;
#[cfg(feature = "legacy-v2")]
mod legacy_v2;
#[cfg(feature = "upstream-parity")]
mod ownable_parity;
mod policies;
mod preflight;
mod session_rules;
mod skeleton;
mod storage_layout;
#[cfg(feature = "upstream-parity")]
mod upstream_parity;
