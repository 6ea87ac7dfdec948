//! The Smart Sessions client: what a backend, bot or agent acting for a user's smart account
//! needs to grant a session, keep its key, use it, and check what is left of it.
//!
//! - [`demo`]: the story on the embedded devnet, and the op building it shares with tests;
//! - [`devnet_bundler::DevnetBundler`]: the [`mandate_bundler::Bundler`] trait, in process
//!   over the embedded devnet;
//! - [`policy_sim`]: the local evaluator over the devnet's storage.
//!
//! ```
//! use alloy_signer_local::PrivateKeySigner;
//!
//! let report = mandate_client::demo::run(PrivateKeySigner::random(), PrivateKeySigner::random())?;
//! assert_eq!(report.nfts_held, alloy_primitives::U256::from(2));
//! assert!(report.steps.iter().any(|s| !s.included));
//! # Ok::<(), mandate_client::demo::DemoError>(())
//! ```

pub mod demo;
pub mod devnet_bundler;
pub mod key;
pub mod policy_sim;
pub mod record;

pub use key::SessionKey;
pub use record::{SessionRecord, SessionRef};
