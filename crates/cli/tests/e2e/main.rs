//! The `mandate` command against real anvil and Alto (started by
//! `mandate_testing::node::Harness`).

#![allow(clippy::unwrap_used)]

mod session_e2e;
