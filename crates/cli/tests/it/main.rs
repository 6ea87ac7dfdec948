//! The `mandate` command's integration tests on the embedded devnet (one binary).

#![allow(clippy::unwrap_used)]

mod cli;
mod errors;
