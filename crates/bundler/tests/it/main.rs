//! mandate-bundler's integration tests (one binary): the client against a faulty bundler of the
//! tests' own.

mod fault_server;
mod faults;
mod resend;
