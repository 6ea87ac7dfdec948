#![doc = include_str!("../README.md")]
// Unit-test builds also see the dev-dependencies, which only the integration tests use.
#![cfg_attr(test, allow(unused_crate_dependencies))]

pub mod account;
pub mod chain;
pub mod change;
mod client;
pub mod demo;
pub mod devnet_bundler;
mod error;
pub mod key;
pub mod lanes;
#[cfg(feature = "legacy-v2")]
pub mod legacy_v2;
pub mod lint;
pub mod pending;
mod pipeline;
pub mod policy_sim;
pub mod record;
pub mod session_signer;
pub mod sponsor;
pub mod status;
pub mod store;

pub use account::{
    Account, AccountFamily, Eip7702Mandate, FirstOp, Kernel, MandateAccount, Msa, Nexus, Safe7579,
    built_in,
};
pub use chain::Chain;
pub use change::SessionChange;
pub use client::{
    AccountSignature, Changed, Checks, Fees, Granted, Options, OwnerOp, PreparedGrant, Progress,
    Revoked, Rotated, Sent, SessionClient, Step, Uninstalled, UseMode, Used,
    check_enabled_permissions, read_status, sign_enable,
};
pub use error::ClientError;
pub use key::SessionKey;
pub use lanes::{FileLanes, LaneAllocator, LaneError, LaneLease, MemoryLanes};
pub use record::{EnableAs, GrantState, SessionRecord, SessionRef};
pub use session_signer::{SessionSigner, SignScheme, SignerError};
pub use sponsor::{PaymasterService, Sponsor};
pub use status::{Limit, Remaining, Scope, SessionState, SessionStatus};
pub use store::{FileStore, MemoryStore, SessionStore, StoreError, StoredSession};
