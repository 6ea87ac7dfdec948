#![doc = include_str!("../README.md")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod erc7739;
pub mod fork;
#[cfg(feature = "legacy-v2")]
pub mod legacy_v2;
pub mod load;
pub mod node;
pub mod op;
pub mod policy_data;
pub mod postgres;
pub mod proxy;
pub mod session;
pub mod store;
pub mod upstream;
pub mod verdict;
pub mod world;
