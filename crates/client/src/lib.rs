//! The Smart Sessions client: what a backend, bot or agent acting for a user's smart account
//! needs to grant a session, keep its key, use it, and check what is left of it.
//!
//! A [`SessionClient`] works on one chain: the embedded devnet ([`SessionClient::devnet`],
//! with [`devnet_bundler::DevnetBundler`] in process) or a node and a bundler
//! ([`SessionClient::connect`]). It
//!
//! - grants sessions with the owner's key ([`SessionClient::grant`]: deploys the account,
//!   installs SmartSession and enables the sessions in one op, with other calls if asked), or
//!   prepares them for ENABLE mode ([`SessionClient::prepare_enable`], [`sign_enable`] for
//!   several chains with one owner signature);
//! - uses them with the session key ([`SessionClient::use_session`]): the local verdict of
//!   [`mandate_policy`] first, naming the policy and rule that would refuse; then nonce, fees,
//!   sponsor ([`Sponsor`]), gas, signature, the pre-flight in revm, the send and the receipt —
//!   each pre-check can be switched off in [`Checks`], never silently;
//! - reads what a session still allows ([`SessionClient::session_status`],
//!   [`SessionClient::is_permission_enabled`], [`check_enabled_permissions`]).
//!
//! [`demo`] is the story `mandate demo` tells.
//!
//! ```
//! use mandate_client::demo::{Outcome, Story, run_on_devnet};
//!
//! let report = run_on_devnet(&Story::random())?;
//! // Three ops refused before anything was sent, each naming the policy's rule.
//! let refused = report.steps.iter().filter(|s| matches!(s.outcome, Outcome::Refused { .. }));
//! assert_eq!(refused.count(), 3);
//! assert_eq!(report.nfts_held, alloy_primitives::U256::from(3));
//! # Ok::<(), mandate_client::demo::DemoError>(())
//! ```

pub mod account;
pub mod chain;
mod client;
pub mod demo;
pub mod devnet_bundler;
mod error;
pub mod key;
pub mod legacy_v2;
pub mod policy_sim;
pub mod record;
pub mod sponsor;
pub mod status;
pub mod store;

pub use account::OwnerAccount;
pub use chain::Chain;
pub use client::{
    Checks, Fees, Granted, Options, Progress, Sent, SessionClient, Step, UseMode, Used,
    check_enabled_permissions, read_status, sign_enable,
};
pub use error::ClientError;
pub use key::SessionKey;
pub use record::{GrantState, SessionRecord, SessionRef};
pub use sponsor::Sponsor;
pub use status::{Limit, Remaining, Scope, SessionStatus};
pub use store::{FileStore, MemoryStore, SessionStore, StoreError, StoredSession};
