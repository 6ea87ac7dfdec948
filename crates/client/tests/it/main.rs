//! mandate-client's integration tests (one binary): the demo story, the client's flows, the
//! legacy v2 demo and the session stores.

#![allow(clippy::unwrap_used)]

mod demo;
mod flows;
mod legacy_v2_demo;
mod store;
mod store_kill;
mod store_processes;
