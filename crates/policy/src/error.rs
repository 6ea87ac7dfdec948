//! Errors: what the evaluator cannot model, and why enabling a session would revert.

use alloy_primitives::{Address, Bytes, U256};
use mandate_abi::{PermissionId, bounds::BoundsError};

/// The evaluator cannot give the contract's verdict for this input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// A policy contract the evaluator has no model of.
    #[error("policy {0} is not modelled")]
    UnknownPolicy(Address),
    /// A session validator the evaluator has no model of.
    #[error("session validator {0} is not modelled")]
    UnknownSessionValidator(Address),
    /// An OwnableValidator session signature's word `word` is a contract signature: its
    /// validity is `signer`'s ERC-1271 answer, which only the chain has.
    #[error(
        "session signature word {word} is a contract signature of {signer} (ERC-1271: not modelled)"
    )]
    ContractSessionSigner {
        /// The word's index in the signature.
        word: usize,
        /// The contract signer it names.
        signer: Address,
    },
    /// The signature is an ENABLE / UNSAFE_ENABLE one, which this evaluator does not model.
    #[error("ENABLE and UNSAFE_ENABLE signatures are not modelled")]
    EnableModeNotModelled,
    /// The EVM would run out of gas (a malformed encoding asks for absurd copies or loops).
    #[error("the contract would run out of gas on this encoding")]
    OutOfGas,
    /// The ENABLE payload is a FastLZ stream whose back references reach before its input (or
    /// that expands without bound): the contract's answer depends on memory not modelled.
    #[error("the ENABLE payload's FastLZ stream reads memory before its input")]
    MalformedEnablePayload,
    /// The ENABLE payload holds more than an op can carry, or its ABI offsets alias one another
    /// so that decoding it would take far more than its size: the contract would run out of
    /// gas, or its answer is not worth the memory to model.
    #[error("ENABLE payload: {0}")]
    EnablePayloadBounds(BoundsError),
    /// A session's ERC-1271 signature does not read as one: SmartSession reverts (with data
    /// that differs between its builds, so not modelled).
    #[error("the session signature: {0}")]
    MalformedSessionSignature(#[source] mandate_abi::erc7739::SignatureLayoutError),
    /// The state does not belong to the op's sender.
    #[error("the state is of account {state}, the op is sent by {sender}")]
    WrongAccount {
        /// The state's account.
        state: Address,
        /// The op's sender.
        sender: Address,
    },
}

/// Why `enableSessions` would revert (or cannot be modelled).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnableError {
    /// No sessions.
    #[error("InvalidData(): no sessions")]
    InvalidData,
    /// The permission id is zero.
    #[error("InvalidPermissionId({0})")]
    InvalidPermissionId(PermissionId),
    /// An action's target is zero or SmartSession, or its id is zero.
    #[error("InvalidActionId()")]
    InvalidActionId,
    /// The policy does not support the slot's interface.
    #[error("UnsupportedPolicy({0})")]
    UnsupportedPolicy(Address),
    /// The session validator is zero or not a stateless validator.
    #[error("InvalidISessionValidator({0})")]
    InvalidSessionValidator(Address),
    /// The policy's initialisation reverts.
    #[error("policy {policy} rejects its init data: {reason}")]
    PolicyInit {
        /// The policy.
        policy: Address,
        /// What it objects to.
        reason: &'static str,
        /// Its exact revert data (SmartSession lets it bubble up).
        data: Bytes,
    },
    /// A policy the evaluator has no model of.
    #[error("policy {0} is not modelled")]
    UnknownPolicy(Address),
    /// A session validator the evaluator has no model of.
    #[error("session validator {0} is not modelled")]
    UnknownSessionValidator(Address),
}

/// Reading state out of storage failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A stored value no contract could have written.
    #[error("inconsistent storage: {0}")]
    Inconsistent(&'static str),
}

/// Why UniActionPolicy's `initializeWithMultiplexer` cannot `abi.decode` its init data as an
/// `ActionConfig`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UniConfigError {
    /// Shorter than the 98 static words of an `ActionConfig` (an empty revert).
    #[error("initData is not abi.encode(ActionConfig): {len} bytes")]
    TooShort {
        /// Its length.
        len: usize,
    },
    /// A rule's enum, uint64 or bool word is out of range (an empty revert).
    #[error("initData is not abi.encode(ActionConfig): rule {rule}'s {field} is out of range")]
    InvalidWord {
        /// The rule, 0..16.
        rule: usize,
        /// Its field (`condition`, `offset`, `isLimited`).
        field: &'static str,
    },
    /// `paramRules.length` is over 16 (an array bounds panic, `Panic(0x32)`).
    #[error("more than 16 rules: {length}")]
    TooManyRules {
        /// The length word.
        length: U256,
    },
}

impl UniConfigError {
    /// What [`EnableError::PolicyInit`] reports: `"more than 16 rules"` for the panic, else
    /// `"initData is not abi.encode(ActionConfig)"`.
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::TooManyRules { .. } => "more than 16 rules",
            Self::TooShort { .. } | Self::InvalidWord { .. } => {
                "initData is not abi.encode(ActionConfig)"
            }
        }
    }
}
