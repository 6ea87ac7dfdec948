//! The one way the test worlds build a raw (unsigned) ERC-4337 v0.7 user operation: a sender,
//! a nonce, calldata and the world's gas limits.

use alloy_primitives::{Address, Bytes, U256};
use mandate_abi::UserOperation;

/// The gas limits and fees a world's ops carry (generous; the EntryPoint charges what is used).
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
    /// The contract tests' ops ([`crate::world::World`]).
    pub const WORLD: Self = Self {
        verification: 3_000_000,
        call: 1_000_000,
        pre_verification: 60_000,
        max_fee: 2_000_000_000,
        max_priority_fee: 1_000_000_000,
    };

    /// The fixed session's ops ([`crate::session::SessionOps`]), as the story sends them to a
    /// bundler.
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

/// An unsigned op of `sender` with `gas`, no factory and no paymaster.
pub fn user_op(sender: Address, nonce: U256, call_data: Bytes, gas: Gas) -> UserOperation {
    UserOperation {
        sender,
        nonce,
        call_data,
        call_gas_limit: gas.call,
        verification_gas_limit: gas.verification,
        pre_verification_gas: U256::from(gas.pre_verification),
        max_fee_per_gas: gas.max_fee,
        max_priority_fee_per_gas: gas.max_priority_fee,
        ..Default::default()
    }
}
