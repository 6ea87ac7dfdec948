//! The gas limits and fees of the test world's raw ops ([`crate::session::SessionOps::base_op`]).

/// The gas limits and fees an account's ops carry (generous; the EntryPoint charges what is
/// used). Each test picks its own: [`crate::world::World::new`] (the contract tests) uses
/// [`Gas::WORLD`], the story's tests and the ops sent to a bundler use [`Gas::SESSION`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gas {
    /// `verificationGasLimit`.
    pub verification: u128,
    /// `callGasLimit`.
    pub call: u128,
    /// `preVerificationGas`.
    pub pre_verification: u64,
    /// `maxFeePerGas`.
    pub max_fee: u128,
    /// `maxPriorityFeePerGas`.
    pub max_priority_fee: u128,
}

impl Gas {
    /// The contract tests' ops ([`crate::world::World::new`], [`crate::world::World::on`]).
    pub const WORLD: Self = Self {
        verification: 3_000_000,
        call: 1_000_000,
        pre_verification: 60_000,
        max_fee: 2_000_000_000,
        max_priority_fee: 1_000_000_000,
    };

    /// The fixed session's ops, as the story sends them to a bundler
    /// ([`crate::world::World::counterfactual`], [`crate::session::SessionOps::new`]).
    pub const SESSION: Self = Self {
        verification: 1_500_000,
        call: 600_000,
        pre_verification: 60_000,
        max_fee: 2_000_000_000,
        max_priority_fee: 1_000_000_000,
    };
}

/// Owner ops of [`crate::world::World`] may enable large sessions (a 16-rule UniActionPolicy
/// writes ~70 words): their call gas limit.
pub const OWNER_CALL_GAS: u128 = 6_000_000;
