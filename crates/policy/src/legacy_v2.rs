//! Local verdicts for legacy Biconomy session keys v2 (spec §14): what the ERC-20 and ABI
//! session validation modules, the Session Key Manager and the Batched Session Router answer for
//! a call or a whole v0.6 user operation — which check failed and why, with the values compared
//! — and what the v0.6 EntryPoint then makes of it. No EVM: the semantics are those of the
//! contracts compiled from `@biconomy-devx/account-contracts-v2@1.0.1` and of Mandate's ABI
//! module (`contracts/src/legacy`), checked against them in revm by `tests/legacy_v2*.rs`.
//!
//! ```
//! use mandate_abi::alloy_primitives::{Address, Bytes, U256};
//! use mandate_abi::legacy_v2::{AbiCondition, AbiRule, AbiSessionData};
//! use mandate_policy::legacy_v2::{Violation, abi_params};
//!
//! let nft = Address::repeat_byte(0x72);
//! let data = AbiSessionData {
//!     session_key: Address::repeat_byte(0x5e),
//!     target: nft,
//!     selector: [0x40, 0xd0, 0x97, 0xc3].into(),
//!     value_limit: 0,
//!     rules: vec![AbiRule::new(0, AbiCondition::Equal, Address::repeat_byte(0xac).into_word())],
//! }
//! .encode()?;
//! let mint_to = |to: Address| -> Bytes { [&[0x40, 0xd0, 0x97, 0xc3][..], to.into_word().as_slice()].concat().into() };
//! assert_eq!(abi_params(nft, U256::ZERO, &mint_to(Address::repeat_byte(0xac)), &data), Ok(Address::repeat_byte(0x5e)));
//! let err = abi_params(nft, U256::ZERO, &mint_to(Address::repeat_byte(0xbb)), &data).unwrap_err();
//! assert!(matches!(err, Violation::RuleViolated { rule: 0, condition: AbiCondition::Equal, .. }));
//! assert_eq!(err.revert_reason().as_deref(), Some("ABISV Arg Rule Violated"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloy_primitives::{Address, B256, Bytes, U256, aliases::U48};
use alloy_sol_types::SolValue;
use mandate_abi::legacy_v2::{
    AbiCondition, EXECUTE_BATCH_OPTIMIZED_SELECTOR, EXECUTE_BATCH_SELECTOR,
    EXECUTE_OPTIMIZED_SELECTOR, EXECUTE_SELECTOR, LegacyV2Deployments, MerkleTree, RouterDigest,
    SessionLeaf, UserOperationV06, personal_hash, router_digest, sol::SessionData,
};

/// Why a module (or the account) reverts: the first failed check, with the values compared.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Violation {
    /// The op does not call `execute` / `execute_ncC` (single session) —
    /// `ABISV Not Execute Selector` or `ERC20SV Invalid Selector`.
    #[error("{module} module: the op calls selector 0x{selector}, not execute / execute_ncC", selector = alloy_primitives::hex::encode(selector))]
    NotExecuteSelector {
        /// Which module.
        module: SvmKind,
        /// The op's selector.
        selector: [u8; 4],
    },
    /// ABI module: the call's target is not the session's (`ABISV Destination Forbidden`).
    #[error("ABI module: target {called} is not the permitted {permitted}")]
    DestinationForbidden {
        /// The session's target.
        permitted: Address,
        /// The call's.
        called: Address,
    },
    /// ABI module: the inner selector is not the session's (`ABISV Selector Forbidden`).
    #[error(
        "ABI module: selector 0x{} is not the permitted 0x{}",
        alloy_primitives::hex::encode(called),
        alloy_primitives::hex::encode(permitted)
    )]
    SelectorForbidden {
        /// The session's selector.
        permitted: [u8; 4],
        /// The call's.
        called: [u8; 4],
    },
    /// ABI module: the call's value is above the limit (`ABISV Permitted Value Exceeded`).
    #[error("ABI module: value {value} is above the limit {limit}")]
    ValueExceeded {
        /// The session's limit.
        limit: u128,
        /// The call's value.
        value: U256,
    },
    /// ABI module: a rule does not hold (`ABISV Arg Rule Violated`).
    #[error("ABI module: rule {rule} (offset {offset}) fails: param {param} is not {op} reference {reference}", op = condition.symbol())]
    RuleViolated {
        /// Index of the first failing rule.
        rule: usize,
        /// Its offset after the selector.
        offset: u16,
        /// Its condition.
        condition: AbiCondition,
        /// The calldata word.
        param: U256,
        /// The reference value.
        reference: U256,
    },
    /// ABI module: a rule's condition code is above 5, which always fails
    /// (`ABISV Arg Rule Violated`).
    #[error(
        "ABI module: rule {rule} (offset {offset}) fails: param {param} is not (unknown condition) reference {reference}"
    )]
    UnknownCondition {
        /// Index of the rule.
        rule: usize,
        /// Its offset after the selector.
        offset: u16,
        /// Its condition code.
        code: u8,
        /// The calldata word.
        param: U256,
        /// The reference value.
        reference: U256,
    },
    /// ERC-20 module, single session: `execute` targets another token (`ERC20SV Wrong Token`).
    #[error("ERC-20 module: the op calls {called}, not the token {permitted}")]
    Erc20WrongToken {
        /// The session's token.
        permitted: Address,
        /// The call's target.
        called: Address,
    },
    /// ERC-20 module, batch: the call targets another token (`ERC20SV Invalid Token`).
    #[error("ERC-20 module: call to {called}, not the token {permitted}")]
    Erc20InvalidToken {
        /// The session's token.
        permitted: Address,
        /// The call's target.
        called: Address,
    },
    /// ERC-20 module: the call sends value (`ERC20SV Non Zero Value`).
    #[error("ERC-20 module: the call sends {value} wei, must send none")]
    Erc20NonZeroValue {
        /// The value sent.
        value: U256,
    },
    /// ERC-20 module: another recipient (`ERC20SV Wrong Recipient`).
    #[error("ERC-20 module: recipient {called} is not the permitted {permitted}")]
    Erc20WrongRecipient {
        /// The session's recipient.
        permitted: Address,
        /// The call's.
        called: Address,
    },
    /// ERC-20 module: amount above the maximum (`ERC20SV Max Amount Exceeded`).
    #[error("ERC-20 module: amount {amount} is above the maximum {max}")]
    Erc20MaxAmountExceeded {
        /// The session's maximum.
        max: U256,
        /// The call's amount.
        amount: U256,
    },
    /// The leaf is not under the account's merkle root (`SessionNotApproved`).
    #[error("session leaf {leaf} is not under the account's merkle root {root} (call {index})")]
    SessionNotApproved {
        /// The leaf hash.
        leaf: B256,
        /// The account's root.
        root: B256,
        /// The call (0 for a single session).
        index: usize,
    },
    /// The router: the op does not call `executeBatch` / `executeBatch_y6U`
    /// (`SR Invalid Selector`).
    #[error(
        "batched session router: the op calls selector 0x{}, not executeBatch",
        alloy_primitives::hex::encode(selector)
    )]
    RouterInvalidSelector {
        /// The op's selector.
        selector: [u8; 4],
    },
    /// The router: one session per call (`Lengths mismatch`).
    #[error("batched session router: {sessions} sessions for {calls} calls")]
    LengthsMismatch {
        /// Sessions in the signature.
        sessions: usize,
        /// Calls in the batch.
        calls: usize,
    },
    /// OpenZeppelin 4 `ECDSA.recover` reverts (the package's modules): `reason` is its message.
    #[error("session key signature does not recover: {reason}")]
    InvalidSignature {
        /// `ECDSA: invalid signature`, `... length` or `... 's' value`.
        reason: &'static str,
    },
    /// The signature names a validation module the account has not enabled (custom error
    /// `WrongValidationModule`).
    #[error("module {0} is not enabled on the account")]
    WrongValidationModule(Address),
    /// A revert without a reason string: a calldata slice out of bounds, an arithmetic overflow,
    /// an `abi.decode` failure, or (Mandate's ABI module) an unrecoverable signature.
    #[error("reverts without a reason: {0}")]
    Malformed(String),
}

impl Violation {
    /// The `Error(string)` the contracts revert with, if any (the EntryPoint reports
    /// `AA23 reverted: <reason>`; without one, `AA23 reverted (or OOG)`).
    pub fn revert_reason(&self) -> Option<String> {
        let s = match self {
            Self::NotExecuteSelector { module: SvmKind::Abi, .. } => "ABISV Not Execute Selector",
            Self::NotExecuteSelector { module: SvmKind::Erc20, .. } => "ERC20SV Invalid Selector",
            Self::DestinationForbidden { .. } => "ABISV Destination Forbidden",
            Self::SelectorForbidden { .. } => "ABISV Selector Forbidden",
            Self::ValueExceeded { .. } => "ABISV Permitted Value Exceeded",
            Self::RuleViolated { .. } | Self::UnknownCondition { .. } => "ABISV Arg Rule Violated",
            Self::Erc20WrongToken { .. } => "ERC20SV Wrong Token",
            Self::Erc20InvalidToken { .. } => "ERC20SV Invalid Token",
            Self::Erc20NonZeroValue { .. } => "ERC20SV Non Zero Value",
            Self::Erc20WrongRecipient { .. } => "ERC20SV Wrong Recipient",
            Self::Erc20MaxAmountExceeded { .. } => "ERC20SV Max Amount Exceeded",
            Self::SessionNotApproved { .. } => "SessionNotApproved",
            Self::RouterInvalidSelector { .. } => "SR Invalid Selector",
            Self::LengthsMismatch { .. } => "Lengths mismatch",
            Self::InvalidSignature { reason } => reason,
            Self::WrongValidationModule(_) | Self::Malformed(_) => return None,
        };
        Some(s.to_string())
    }
}

/// The two session validation modules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SvmKind {
    /// ERC-20 transfers (`ERC20SessionValidationModule`).
    Erc20,
    /// Any function with argument rules (ABI SVM).
    Abi,
}

impl std::fmt::Display for SvmKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Erc20 => "ERC-20",
            Self::Abi => "ABI",
        })
    }
}

fn malformed(what: impl Into<String>) -> Violation {
    Violation::Malformed(what.into())
}

/// `data[start..end]` as Solidity's calldata slice: out of bounds (or overflowing) reverts.
fn slice<'a>(data: &'a [u8], start: U256, end: U256, what: &str) -> Result<&'a [u8], Violation> {
    let bad = || malformed(format!("{what}: [{start}:{end}] is outside {} bytes", data.len()));
    let (Ok(s), Ok(e)) = (usize::try_from(start), usize::try_from(end)) else { return Err(bad()) };
    if s > e || e > data.len() {
        return Err(bad());
    }
    Ok(&data[s..e])
}

fn word(data: &[u8], at: usize, what: &str) -> Result<U256, Violation> {
    slice(data, U256::from(at), U256::from(at + 32), what).map(U256::from_be_slice)
}

fn checked_add(a: U256, b: U256) -> Result<U256, Violation> {
    a.checked_add(b).ok_or_else(|| malformed("arithmetic overflow (Panic 0x11)"))
}

fn selector_of(data: &[u8], what: &str) -> Result<[u8; 4], Violation> {
    let s = slice(data, U256::ZERO, U256::from(4), what)?;
    Ok([s[0], s[1], s[2], s[3]])
}

/// `abi.decode(data, (address, ...))` of a head word: the high 96 bits must be zero.
fn clean_address(w: U256, what: &str) -> Result<Address, Violation> {
    if w >> 160 != U256::ZERO {
        return Err(malformed(format!("{what}: address word has dirty high bits")));
    }
    Ok(Address::from_word(w.into()))
}

/// The ERC-20 module's data, decoded as its `abi.decode` does.
fn erc20_data(data: &[u8]) -> Result<(Address, Address, Address, U256), Violation> {
    if data.len() < 128 {
        return Err(malformed(format!(
            "ERC-20 session key data is {} bytes, under 128",
            data.len()
        )));
    }
    Ok((
        clean_address(word(data, 0, "sessionKeyData")?, "sessionKey")?,
        clean_address(word(data, 32, "sessionKeyData")?, "token")?,
        clean_address(word(data, 64, "sessionKeyData")?, "recipient")?,
        word(data, 96, "sessionKeyData")?,
    ))
}

/// `abi.decode(call[4:], (address, uint256))` of a `transfer`-shaped call.
fn transfer_args(call: &[u8]) -> Result<(Address, U256), Violation> {
    let args = slice(call, U256::from(4), U256::from(call.len().max(4)), "call data")?;
    if args.len() < 64 {
        return Err(malformed(format!("transfer arguments are {} bytes, under 64", args.len())));
    }
    Ok((clean_address(word(args, 0, "to")?, "to")?, word(args, 32, "amount")?))
}

/// The ERC-20 module's batch check (`validateSessionParams`): returns the session key.
pub fn erc20_params(
    target: Address,
    value: U256,
    call: &[u8],
    data: &[u8],
) -> Result<Address, Violation> {
    let (session_key, token, recipient, max) = erc20_data(data)?;
    if target != token {
        return Err(Violation::Erc20InvalidToken { permitted: token, called: target });
    }
    if value != U256::ZERO {
        return Err(Violation::Erc20NonZeroValue { value });
    }
    erc20_transfer_checks(call, recipient, max)?;
    Ok(session_key)
}

/// Both ERC-20 paths' checks of the token call itself: `transfer(to, amount)` with `to` the
/// session's recipient and `amount` at most its maximum.
fn erc20_transfer_checks(call: &[u8], recipient: Address, max: U256) -> Result<(), Violation> {
    let (to, amount) = transfer_args(call)?;
    if to != recipient {
        return Err(Violation::Erc20WrongRecipient { permitted: recipient, called: to });
    }
    if amount > max {
        return Err(Violation::Erc20MaxAmountExceeded { max, amount });
    }
    Ok(())
}

/// `execute(target, value, data)` read as the modules read it: the selector must be `execute`
/// or `execute_ncC`; the data is found through the offset word.
fn execute_parts(op_call: &[u8], module: SvmKind) -> Result<(U256, U256, &[u8]), Violation> {
    let selector = selector_of(op_call, "op callData")?;
    if selector != EXECUTE_SELECTOR && selector != EXECUTE_OPTIMIZED_SELECTOR {
        return Err(Violation::NotExecuteSelector { module, selector });
    }
    let target = word(op_call, 4, "op callData")?;
    let value = word(op_call, 36, "op callData")?;
    let start = checked_add(U256::from(4), word(op_call, 68, "op callData")?)?;
    let length = U256::from_be_slice(slice(
        op_call,
        start,
        checked_add(start, U256::from(32))?,
        "data length",
    )?);
    let data_start = checked_add(start, U256::from(32))?;
    let inner = slice(op_call, data_start, checked_add(data_start, length)?, "data")?;
    Ok((target, value, inner))
}

/// The ERC-20 module's single-session checks (`validateSessionUserOp` up to the signature):
/// returns the session key.
pub fn erc20_user_op(op_call: &[u8], data: &[u8]) -> Result<Address, Violation> {
    let selector = selector_of(op_call, "op callData")?;
    if selector != EXECUTE_SELECTOR && selector != EXECUTE_OPTIMIZED_SELECTOR {
        return Err(Violation::NotExecuteSelector { module: SvmKind::Erc20, selector });
    }
    let (session_key, token, recipient, max) = erc20_data(data)?;
    // abi.decode(callData[4:], (address, uint256, bytes)): bounds of the bytes checked, the
    // address must be clean; it reverts before any check.
    let args = &op_call[4..];
    if <(Address, U256, Bytes)>::abi_decode_params(args).is_err() {
        return Err(malformed("abi.decode(callData[4:], (address, uint256, bytes)) fails"));
    }
    let target = clean_address(word(args, 0, "execute args")?, "execute target")?;
    let value = word(args, 32, "execute args")?;
    if target != token {
        return Err(Violation::Erc20WrongToken { permitted: token, called: target });
    }
    if value != U256::ZERO {
        return Err(Violation::Erc20NonZeroValue { value });
    }
    let (_, _, inner) = execute_parts(op_call, SvmKind::Erc20)?;
    erc20_transfer_checks(inner, recipient, max)?;
    Ok(session_key)
}

/// The ABI module's checks of one call (`validateSessionParams`): returns the session key.
pub fn abi_params(
    target: Address,
    value: U256,
    call: &[u8],
    data: &[u8],
) -> Result<Address, Violation> {
    let at = |a: usize, b: usize| slice(data, U256::from(a), U256::from(b), "sessionKeyData");
    let session_key = Address::from_slice(at(0, 20)?);
    let permitted = Address::from_slice(at(20, 40)?);
    if target != permitted {
        return Err(Violation::DestinationForbidden { permitted, called: target });
    }
    let called = selector_of(call, "call data")?;
    let s = at(40, 44)?;
    let permitted_selector = [s[0], s[1], s[2], s[3]];
    if called != permitted_selector {
        return Err(Violation::SelectorForbidden { permitted: permitted_selector, called });
    }
    let mut limit = [0u8; 16];
    limit.copy_from_slice(at(44, 60)?);
    let limit = u128::from_be_bytes(limit);
    if value > U256::from(limit) {
        return Err(Violation::ValueExceeded { limit, value });
    }
    let count = at(60, 62)?;
    let count = usize::from(u16::from_be_bytes([count[0], count[1]]));
    for rule in 0..count {
        let r = at(62 + 35 * rule, 97 + 35 * rule)?;
        let offset = u16::from_be_bytes([r[0], r[1]]);
        let code = r[2];
        let reference = U256::from_be_slice(&r[3..35]);
        let start = 4 + usize::from(offset);
        let param = U256::from_be_slice(slice(
            call,
            U256::from(start),
            U256::from(start + 32),
            &format!("rule {rule} param"),
        )?);
        let Some(condition) = AbiCondition::from_code(code) else {
            return Err(Violation::UnknownCondition { rule, offset, code, param, reference });
        };
        if !condition.holds(param, reference) {
            return Err(Violation::RuleViolated { rule, offset, condition, param, reference });
        }
    }
    Ok(session_key)
}

/// The ABI module's single-session checks (`validateSessionUserOp` up to the signature):
/// returns the session key.
pub fn abi_user_op(op_call: &[u8], data: &[u8]) -> Result<Address, Violation> {
    let (target, value, inner) = execute_parts(op_call, SvmKind::Abi)?;
    abi_params(Address::from_word(target.into()), value, inner, data)
}

/// OpenZeppelin `ECDSA.recover` over `prehash`: the signer, or why it reverts (4.x messages).
pub fn recover(prehash: B256, signature: &[u8]) -> Result<Address, Violation> {
    let invalid = |reason| Violation::InvalidSignature { reason };
    if signature.len() != 65 {
        return Err(invalid("ECDSA: invalid signature length"));
    }
    let r = U256::from_be_slice(&signature[..32]);
    let s = U256::from_be_slice(&signature[32..64]);
    if s > crate::eval::SECP256K1_HALF_N {
        return Err(invalid("ECDSA: invalid signature 's' value"));
    }
    let v = signature[64];
    if v != 27 && v != 28 {
        return Err(invalid("ECDSA: invalid signature"));
    }
    match crate::eval::ecrecover(prehash, v, r, s) {
        Some(signer) if !signer.is_zero() => Ok(signer),
        _ => Err(invalid("ECDSA: invalid signature")),
    }
}

/// Which contracts a v2 account uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LegacyV2Deployment {
    /// Session Key Manager v1.
    pub session_key_manager: Address,
    /// Batched Session Router.
    pub batched_session_router: Address,
    /// The ERC-20 module.
    pub erc20_svm: Address,
    /// The ABI module.
    pub abi_svm: Address,
    /// What the router recovers the session key over.
    pub router_digest: RouterDigest,
}

impl LegacyV2Deployment {
    /// The modules of the v2 stack at `v2`, the router recovering over `router_digest`.
    pub const fn new(v2: &LegacyV2Deployments, router_digest: RouterDigest) -> Self {
        Self {
            session_key_manager: v2.session_key_manager,
            batched_session_router: v2.batched_session_router,
            erc20_svm: v2.erc20_svm,
            abi_svm: v2.abi_svm,
            router_digest,
        }
    }

    fn kind(&self, svm: Address) -> Option<SvmKind> {
        if svm == self.erc20_svm {
            Some(SvmKind::Erc20)
        } else if svm == self.abi_svm {
            Some(SvmKind::Abi)
        } else {
            None
        }
    }
}

/// What the evaluator knows of the account: its enabled modules and its merkle root at the
/// Session Key Manager.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountV2 {
    /// The account.
    pub address: Address,
    /// Modules enabled on it.
    pub enabled_modules: Vec<Address>,
    /// `SessionKeyManager.getSessionKeys(account)`.
    pub merkle_root: B256,
}

/// Validation data of a v2 module: `sigFailed | validUntil << 160 | validAfter << 208`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ValidationDataV2 {
    /// The session key did not sign (or another key did).
    pub sig_failed: bool,
    /// Last valid second (0: none).
    pub valid_until: u64,
    /// First valid second.
    pub valid_after: u64,
}

impl ValidationDataV2 {
    /// The packed word.
    pub fn packed(&self) -> U256 {
        U256::from(u8::from(self.sig_failed))
            | (U256::from(self.valid_until) << 160)
            | (U256::from(self.valid_after) << 208)
    }
}

/// What `account.validateUserOp` does with a v2 session op.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpVerdict {
    /// Returns this validation data.
    Validated(ValidationDataV2),
    /// Reverts.
    Reverted(Violation),
}

impl OpVerdict {
    /// The EntryPoint v0.6's verdict at block time `now`: `Ok` when the op passes validation,
    /// else the `FailedOp` reason (`AA23 reverted: …`, `AA23 reverted (or OOG)`,
    /// `AA24 signature error`, `AA22 expired or not due`).
    pub fn entry_point_result(&self, now: u64) -> Result<(), FailedOp> {
        match self {
            Self::Reverted(v) => Err(v.revert_reason().map_or_else(
                || FailedOp::new("AA23", "AA23 reverted (or OOG)".into()),
                |r| FailedOp::new("AA23", format!("AA23 reverted: {r}")),
            )),
            Self::Validated(d) if d.sig_failed => {
                Err(FailedOp::new("AA24", "AA24 signature error".into()))
            }
            Self::Validated(d) => {
                let until = if d.valid_until == 0 { (1 << 48) - 1 } else { d.valid_until };
                if now > until || now < d.valid_after {
                    Err(FailedOp::new("AA22", "AA22 expired or not due".into()))
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// The EntryPoint v0.6 refuses the op in validation: its `FailedOp` reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
#[non_exhaustive]
pub struct FailedOp {
    /// The ERC-4337 code: `AA22`, `AA23` or `AA24`.
    pub code: &'static str,
    /// The whole reason, e.g. `AA23 reverted: ABISV Arg Rule Violated`.
    pub reason: String,
}

impl FailedOp {
    const fn new(code: &'static str, reason: String) -> Self {
        Self { code, reason }
    }
}

/// What the evaluator cannot model.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LegacyV2EvalError {
    /// The op's signature names a module other than the deployment's Session Key Manager or
    /// router (or the router names another manager).
    #[error("module {0} is not modelled")]
    UnknownModule(Address),
    /// A session validation module other than the deployment's two.
    #[error("session validation module {0} is not modelled")]
    UnknownSvm(Address),
    /// The state is of another account.
    #[error("the state is of {state}, the op is sent by {sender}")]
    WrongAccount {
        /// The state's account.
        state: Address,
        /// The op's sender.
        sender: Address,
    },
}

fn decode_fail(what: &str) -> OpVerdict {
    OpVerdict::Reverted(malformed(format!("abi.decode of the {what} fails")))
}

/// The session key check of one leaf: the merkle proof against the account's root.
fn check_leaf(
    account: &AccountV2,
    leaf: &SessionLeaf,
    proof: &[B256],
    index: usize,
) -> Result<(), Violation> {
    let hash = leaf.hash();
    if MerkleTree::verify(proof, account.merkle_root, hash) {
        Ok(())
    } else {
        Err(Violation::SessionNotApproved { leaf: hash, root: account.merkle_root, index })
    }
}

/// What `account.validateUserOp(op, userOpHash)` answers for a session op through the
/// Session Key Manager (single session) or the Batched Session Router (batch), or what the
/// evaluator cannot model.
pub fn validate_user_op(
    deployment: &LegacyV2Deployment,
    account: &AccountV2,
    op: &UserOperationV06,
    user_op_hash: B256,
) -> Result<OpVerdict, LegacyV2EvalError> {
    if op.sender != account.address {
        return Err(LegacyV2EvalError::WrongAccount { state: account.address, sender: op.sender });
    }
    let Ok((module_signature, module)) = <(Bytes, Address)>::abi_decode_params(&op.signature)
    else {
        return Ok(decode_fail("account signature"));
    };
    if !account.enabled_modules.contains(&module) {
        return Ok(OpVerdict::Reverted(Violation::WrongValidationModule(module)));
    }
    if module == deployment.session_key_manager {
        single(deployment, account, op, user_op_hash, &module_signature)
    } else if module == deployment.batched_session_router {
        batch(deployment, account, op, user_op_hash, &module_signature)
    } else {
        Err(LegacyV2EvalError::UnknownModule(module))
    }
}

type SingleSig = (U48, U48, Address, Bytes, Vec<B256>, Bytes);

fn single(
    deployment: &LegacyV2Deployment,
    account: &AccountV2,
    op: &UserOperationV06,
    user_op_hash: B256,
    module_signature: &[u8],
) -> Result<OpVerdict, LegacyV2EvalError> {
    let Ok((until, after, svm, data, proof, key_sig)) =
        SingleSig::abi_decode_params_validate(module_signature)
    else {
        return Ok(decode_fail("Session Key Manager signature"));
    };
    let leaf = SessionLeaf::new(until.to(), after.to(), svm, data.clone());
    if let Err(v) = check_leaf(account, &leaf, &proof, 0) {
        return Ok(OpVerdict::Reverted(v));
    }
    let kind = deployment.kind(svm).ok_or(LegacyV2EvalError::UnknownSvm(svm))?;
    let checked = match kind {
        SvmKind::Erc20 => erc20_user_op(&op.callData, &data),
        SvmKind::Abi => abi_user_op(&op.callData, &data),
    };
    let session_key = match checked {
        Ok(key) => key,
        Err(v) => return Ok(OpVerdict::Reverted(v)),
    };
    let prehash = personal_hash(user_op_hash);
    let signer = match (recover(prehash, &key_sig), kind) {
        (Ok(signer), _) => signer,
        (Err(v), SvmKind::Erc20) => return Ok(OpVerdict::Reverted(v)),
        // Mandate's ABI module uses OpenZeppelin 5: custom errors, no reason string.
        (Err(v), SvmKind::Abi) => return Ok(OpVerdict::Reverted(malformed(v.to_string()))),
    };
    Ok(OpVerdict::Validated(ValidationDataV2 {
        sig_failed: signer != session_key,
        valid_until: leaf.valid_until,
        valid_after: leaf.valid_after,
    }))
}

type BatchCall = (Vec<Address>, Vec<U256>, Vec<Bytes>);

fn batch(
    deployment: &LegacyV2Deployment,
    account: &AccountV2,
    op: &UserOperationV06,
    user_op_hash: B256,
    module_signature: &[u8],
) -> Result<OpVerdict, LegacyV2EvalError> {
    let selector = match selector_of(&op.callData, "op callData") {
        Ok(s) => s,
        Err(v) => return Ok(OpVerdict::Reverted(v)),
    };
    if selector != EXECUTE_BATCH_SELECTOR && selector != EXECUTE_BATCH_OPTIMIZED_SELECTOR {
        return Ok(OpVerdict::Reverted(Violation::RouterInvalidSelector { selector }));
    }
    let Ok((manager, sessions, key_sig)) =
        <(Address, Vec<SessionData>, Bytes)>::abi_decode_params_validate(module_signature)
    else {
        return Ok(decode_fail("router signature"));
    };
    let digest = router_digest(user_op_hash, manager, deployment.router_digest);
    let recovered = match recover(personal_hash(digest), &key_sig) {
        Ok(a) => a,
        Err(v) => return Ok(OpVerdict::Reverted(v)),
    };
    let Ok((targets, values, calls)) = BatchCall::abi_decode_params_validate(&op.callData[4..])
    else {
        return Ok(decode_fail("executeBatch calldata"));
    };
    if sessions.len() != targets.len() {
        return Ok(OpVerdict::Reverted(Violation::LengthsMismatch {
            sessions: sessions.len(),
            calls: targets.len(),
        }));
    }
    if manager != deployment.session_key_manager {
        return Err(LegacyV2EvalError::UnknownModule(manager));
    }
    let mut valid_until: u64 = (1 << 48) - 1;
    let mut valid_after = 0;
    for (i, s) in sessions.iter().enumerate() {
        let leaf = SessionLeaf::new(
            s.validUntil.to(),
            s.validAfter.to(),
            s.sessionValidationModule,
            s.sessionKeyData.clone(),
        );
        if let Err(v) = check_leaf(account, &leaf, &s.merkleProof, i) {
            return Ok(OpVerdict::Reverted(v));
        }
        let (Some(value), Some(call)) = (values.get(i), calls.get(i)) else {
            return Ok(OpVerdict::Reverted(malformed("array index out of bounds (Panic 0x32)")));
        };
        let kind = deployment
            .kind(leaf.session_validation_module)
            .ok_or(LegacyV2EvalError::UnknownSvm(leaf.session_validation_module))?;
        let checked = match kind {
            SvmKind::Erc20 => erc20_params(targets[i], *value, call, &leaf.session_key_data),
            SvmKind::Abi => abi_params(targets[i], *value, call, &leaf.session_key_data),
        };
        match checked {
            Ok(key) if key == recovered => {}
            Ok(_) => {
                return Ok(OpVerdict::Validated(ValidationDataV2 {
                    sig_failed: true,
                    valid_until: 0,
                    valid_after: 0,
                }));
            }
            Err(v) => return Ok(OpVerdict::Reverted(v)),
        }
        if leaf.valid_until != 0 && leaf.valid_until < valid_until {
            valid_until = leaf.valid_until;
        }
        valid_after = valid_after.max(leaf.valid_after);
    }
    Ok(OpVerdict::Validated(ValidationDataV2 { sig_failed: false, valid_until, valid_after }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use alloy_sol_types::SolCall;
    use mandate_abi::legacy_v2::{
        AbiRule, AbiSessionData, Erc20SessionData, execute_batch_v2_calldata, execute_v2_calldata,
    };

    use super::*;

    const TRANSFER: [u8; 4] = mandate_abi::sol::IERC20::transferCall::SELECTOR;

    fn transfer(to: Address, amount: u64) -> Vec<u8> {
        [&TRANSFER[..], &(to, U256::from(amount)).abi_encode_params()].concat()
    }

    fn abi_data(rules: Vec<AbiRule>) -> Bytes {
        AbiSessionData {
            session_key: Address::repeat_byte(0x5e),
            target: Address::repeat_byte(0x70),
            selector: TRANSFER.into(),
            value_limit: 10,
            rules,
        }
        .encode()
        .unwrap()
    }

    #[test]
    fn abi_rules_name_the_rule_and_the_values() {
        let data = abi_data(vec![
            AbiRule::new(0, AbiCondition::NotEqual, B256::ZERO),
            AbiRule::new(32, AbiCondition::LessThan, B256::from(U256::from(50))),
        ]);
        let token = Address::repeat_byte(0x70);
        let call = transfer(Address::repeat_byte(1), 50);
        let err = abi_params(token, U256::ZERO, &call, &data).unwrap_err();
        assert_eq!(
            err,
            Violation::RuleViolated {
                rule: 1,
                offset: 32,
                condition: AbiCondition::LessThan,
                param: U256::from(50),
                reference: U256::from(50)
            }
        );
        assert_eq!(
            err.to_string(),
            "ABI module: rule 1 (offset 32) fails: param 50 is not < reference 50"
        );
        assert_eq!(
            abi_params(token, U256::ZERO, &transfer(Address::repeat_byte(1), 49), &data),
            Ok(Address::repeat_byte(0x5e))
        );
        assert_eq!(
            abi_params(token, U256::from(11), &call, &data),
            Err(Violation::ValueExceeded { limit: 10, value: U256::from(11) })
        );
        // A rule past the end of the calldata: the module's slice reverts without a reason.
        let short = abi_data(vec![AbiRule::new(64, AbiCondition::Equal, B256::ZERO)]);
        let err = abi_params(token, U256::ZERO, &call, &short).unwrap_err();
        assert!(matches!(err, Violation::Malformed(_)), "{err:?}");
        assert_eq!(err.revert_reason(), None);
        // Truncated session key data.
        assert!(matches!(
            abi_params(token, U256::ZERO, &call, &data[..61]),
            Err(Violation::Malformed(_))
        ));
    }

    #[test]
    fn erc20_single_and_batch_messages_differ() {
        let token = Address::repeat_byte(0x70);
        let data = Erc20SessionData {
            session_key: Address::repeat_byte(0x5e),
            token,
            recipient: Address::repeat_byte(0x7e),
            max_amount: U256::from(5),
        }
        .encode();
        let other = Address::repeat_byte(0x71);
        let call = transfer(Address::repeat_byte(0x7e), 5);
        assert_eq!(
            erc20_params(other, U256::ZERO, &call, &data).unwrap_err().revert_reason().as_deref(),
            Some("ERC20SV Invalid Token")
        );
        let op = execute_v2_calldata(other, U256::ZERO, call.clone().into());
        assert_eq!(
            erc20_user_op(&op, &data).unwrap_err().revert_reason().as_deref(),
            Some("ERC20SV Wrong Token")
        );
        let op =
            execute_v2_calldata(token, U256::ZERO, transfer(Address::repeat_byte(0x7e), 6).into());
        assert_eq!(
            erc20_user_op(&op, &data),
            Err(Violation::Erc20MaxAmountExceeded { max: U256::from(5), amount: U256::from(6) })
        );
        let op = execute_batch_v2_calldata(&[mandate_abi::Call::new(token, call)]);
        assert!(matches!(
            erc20_user_op(&op, &data),
            Err(Violation::NotExecuteSelector { module: SvmKind::Erc20, .. })
        ));
        // A dirty recipient word: abi.decode reverts.
        let mut dirty = transfer(Address::repeat_byte(0x7e), 1);
        dirty[4] = 1;
        assert!(matches!(
            erc20_params(token, U256::ZERO, &dirty, &data),
            Err(Violation::Malformed(_))
        ));
    }

    #[test]
    fn recover_gives_openzeppelin_4_reasons() {
        let hash = B256::repeat_byte(7);
        let reason = |sig: &[u8]| recover(hash, sig).unwrap_err().revert_reason().unwrap();
        assert_eq!(reason(&[0u8; 64]), "ECDSA: invalid signature length");
        let mut high_s = [0u8; 65];
        high_s[32..64].copy_from_slice(&[0xff; 32]);
        high_s[64] = 27;
        assert_eq!(reason(&high_s), "ECDSA: invalid signature 's' value");
        let mut bad_v = [1u8; 65];
        bad_v[64] = 29;
        assert_eq!(reason(&bad_v), "ECDSA: invalid signature");
    }

    #[test]
    fn entry_point_reasons_follow_validation_data() {
        let ok = ValidationDataV2 { sig_failed: false, valid_until: 0, valid_after: 0 };
        assert_eq!(OpVerdict::Validated(ok).entry_point_result(5), Ok(()));
        let expired = ValidationDataV2 { valid_until: 4, ..ok };
        assert_eq!(
            OpVerdict::Validated(expired).entry_point_result(5),
            Err(FailedOp::new("AA22", "AA22 expired or not due".into()))
        );
        assert_eq!(OpVerdict::Validated(expired).entry_point_result(4), Ok(()));
        let failed = ValidationDataV2 { sig_failed: true, ..ok };
        assert_eq!(
            OpVerdict::Validated(failed).entry_point_result(5),
            Err(FailedOp::new("AA24", "AA24 signature error".into()))
        );
        assert_eq!(
            OpVerdict::Reverted(Violation::Malformed("x".into())).entry_point_result(5),
            Err(FailedOp::new("AA23", "AA23 reverted (or OOG)".into()))
        );
        assert_eq!(expired.packed(), U256::from(4) << 160);
    }
}
