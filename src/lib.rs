//! Mandate: Smart Sessions for Rust.
//!
//! A user's ERC-4337 + ERC-7579 smart account grants a session key narrowly scoped
//! permissions; a backend, bot or agent then acts within exactly that scope. This umbrella
//! crate re-exports Mandate's crates:
//!
//! - [`abi`]: Smart Sessions types and encoding (sessions, permission ids, signatures,
//!   ERC-7579 executions, user operations);
//! - [`contracts`]: the compiled Solidity modules, embedded;
//! - [`sim`]: the EntryPoint and the modules running in revm;
//! - [`bundler`]: an ERC-4337 bundler client and the [`bundler::Bundler`] trait;
//! - [`policy`]: the local evaluator of SmartSession's verdict;
//! - [`client`]: the session client on all of them.
//!
//! [`client::demo`] tells the whole story on the embedded devnet:
//!
//! ```
//! use mandate::{abi::account::AccountType, client::demo};
//!
//! let report = demo::run_on_devnet(&demo::Story::random(), AccountType::Mandate)?;
//! assert_eq!(report.recipient_tokens, alloy_primitives::U256::from(200));
//! # Ok::<(), mandate::client::demo::DemoError>(())
//! ```

// Unit-test builds also see the dev-dependencies, which only the integration tests use.
#![cfg_attr(test, allow(unused_crate_dependencies))]

pub use mandate_abi as abi;
pub use mandate_bundler as bundler;
pub use mandate_client as client;
pub use mandate_contracts as contracts;
pub use mandate_policy as policy;
pub use mandate_sim as sim;
