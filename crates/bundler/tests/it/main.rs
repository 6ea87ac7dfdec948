//! mandate-bundler's integration tests (one binary): the client against a faulty bundler of the
//! tests' own.

// One crate of several sharing the package's dev-dependencies: not all of them are used here.
#![allow(unused_crate_dependencies)]

mod fault_server;
mod faults;
mod resend;
