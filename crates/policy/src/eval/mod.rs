//! The verdict of `SmartSession.validateUserOp`: the flow of a USE-mode user operation here,
//! ENABLE mode in `enable`, the policy contracts in `policies`.

use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes, FixedBytes, U256, eip191_hash_message};
use alloy_sol_types::{SolCall, SolError};
use mandate_abi::{
    ActionId, ConfigId, PackedUserOperation, PermissionId,
    ids::{FALLBACK_TARGET, VALUE_SELECTOR},
    intersect,
    sol::{IAccountExecute, IERC7579Account, ISmartSession},
};

use crate::{
    calldata::{
        Calldata, DecodeStop, decode_batch, decode_single, execution_calldata, get_execution,
    },
    error::EvalError,
    revert::{InvalidSessionKeyData, error_name, panic_data},
    state::{AccountState, Deployment, PolicyKind},
};

mod enable;
mod erc1271;
mod ownable;
mod policies;
mod recover;

pub use erc1271::{SignatureRefusal, SignatureVerdict};
pub use ownable::ownable_validate;

use policies::{Out, Undo, rollback};
pub(crate) use recover::ecrecover;

/// `execute(bytes32 mode, bytes executionCalldata)` of ERC-7579 accounts.
const EXECUTE: [u8; 4] = IERC7579Account::executeCall::SELECTOR;

/// Where a policy ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checkpoint {
    /// As a user-operation policy.
    UserOp,
    /// As an action policy of `action`, for execution `call` (0 for a single call or an account call).
    Action {
        /// The action whose policies ran.
        action: ActionId,
        /// Index of the execution in the batch.
        call: usize,
    },
}

/// One policy that ran and passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyRun {
    /// The policy contract.
    pub policy: Address,
    /// Its kind.
    pub kind: PolicyKind,
    /// Where it ran.
    pub at: Checkpoint,
    /// What it returned.
    pub validation_data: U256,
}

impl std::fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UserOp => write!(f, "on the user op"),
            Self::Action { action, call } => write!(f, "on call {call} (action {action})"),
        }
    }
}

/// SmartSession returned: the op is valid if the EntryPoint accepts the time window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accept {
    /// What `validateUserOp` returns (exactly `1` when the session key's signature is wrong).
    pub validation_data: U256,
    /// Whether the session key's signature was accepted (or not checked).
    pub signature_valid: bool,
    /// validAfter of the window.
    pub valid_after: u64,
    /// validUntil of the window (`0xffffffffffff` when unbounded).
    pub valid_until: u64,
    /// The policies that ran, in order.
    pub policies: Vec<PolicyRun>,
}

/// SmartSession reverts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// The exact revert data.
    pub data: Bytes,
    /// The error's name (`""` for an empty revert, `Panic` for a panic).
    pub name: &'static str,
    /// Its arguments, as Solidity literals.
    pub args: Vec<String>,
    /// In words: which call, action, policy and rule failed, and the values compared.
    pub reason: String,
}

impl Reject {
    /// The 4-byte selector, if any.
    pub fn selector(&self) -> Option<FixedBytes<4>> {
        (self.data.len() >= 4).then(|| FixedBytes::from_slice(&self.data[..4]))
    }

    fn empty(reason: impl Into<String>) -> Self {
        Self { data: Bytes::new(), name: "", args: Vec::new(), reason: reason.into() }
    }

    /// SmartSession reverts with `e`; its name is the error's.
    fn error<E: SolError>(e: &E, args: Vec<String>, reason: impl Into<String>) -> Self {
        Self { data: e.abi_encode().into(), name: error_name::<E>(), args, reason: reason.into() }
    }

    fn panic(code: u8, reason: impl Into<String>) -> Self {
        Self {
            data: panic_data(code),
            name: error_name::<alloy_sol_types::Panic>(),
            args: vec![format!("{code:#x}")],
            reason: reason.into(),
        }
    }
}

/// The contract's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// `validateUserOp` returns.
    Accept(Accept),
    /// `validateUserOp` reverts.
    Reject(Reject),
}

impl Verdict {
    /// The returned validation data, if it returns.
    pub fn validation_data(&self) -> Option<U256> {
        match self {
            Self::Accept(a) => Some(a.validation_data),
            Self::Reject(_) => None,
        }
    }

    /// The revert, if it reverts.
    pub fn rejection(&self) -> Option<&Reject> {
        match self {
            Self::Accept(_) => None,
            Self::Reject(r) => Some(r),
        }
    }
}

enum Stop {
    Reject(Reject),
    Eval(EvalError),
}

impl From<Reject> for Stop {
    fn from(r: Reject) -> Self {
        Self::Reject(r)
    }
}

impl From<DecodeStop> for Stop {
    fn from(d: DecodeStop) -> Self {
        match d {
            DecodeStop::Empty => Self::Reject(Reject::empty("malformed execution calldata")),
            DecodeStop::DecodingError => Self::Reject(Reject::error(
                &ISmartSession::DecodingError {},
                Vec::new(),
                "malformed batch encoding",
            )),
            DecodeStop::OutOfGas => Self::Eval(EvalError::OutOfGas),
        }
    }
}

/// The account's ERC-1271 answer for the owner's signature over the multichain enable digest
/// (`IERC1271(account).isValidSignature(digest, permissionEnableSig) == 0x1626ba7e`).
pub trait EnableSignatureVerifier: Send + Sync {
    /// Whether `account` accepts `signature` over `digest`.
    fn is_valid_signature(&self, account: Address, digest: B256, signature: &[u8]) -> bool;
}

impl<F: Fn(Address, B256, &[u8]) -> bool + Send + Sync> EnableSignatureVerifier for F {
    fn is_valid_signature(&self, account: Address, digest: B256, signature: &[u8]) -> bool {
        self(account, digest, signature)
    }
}

/// Evaluates user operations against an [`AccountState`] as the deployed contracts would.
#[derive(Clone)]
pub struct Evaluator {
    deployment: Deployment,
    verify_signatures: bool,
    enable: Option<(u64, Arc<dyn EnableSignatureVerifier>)>,
}

impl std::fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator")
            .field("deployment", &self.deployment)
            .field("verify_signatures", &self.verify_signatures)
            .field("enable_chain_id", &self.enable.as_ref().map(|(c, _)| *c))
            .finish()
    }
}

struct Run<'s, 'c> {
    d: &'s Deployment,
    state: &'s mut AccountState,
    cd: &'s Calldata<'c>,
    pid: PermissionId,
    undo: Vec<Undo>,
    /// UniActionPolicy configs already saved in `undo` by this run.
    saved: Vec<(Address, ConfigId)>,
    runs: Vec<PolicyRun>,
}

impl Evaluator {
    /// An evaluator of the contracts at `deployment`, checking session signatures.
    pub fn new(deployment: Deployment) -> Self {
        Self { deployment, verify_signatures: true, enable: None }
    }

    /// Models ENABLE and UNSAFE_ENABLE signatures on chain `chain_id`, asking `verifier` for
    /// the account's ERC-1271 answer on the owner's signature.
    pub fn with_enable(
        mut self,
        chain_id: u64,
        verifier: Arc<dyn EnableSignatureVerifier>,
    ) -> Self {
        self.enable = Some((chain_id, verifier));
        self
    }

    /// Whether to recover the session key's ECDSA signature (off: every signature is taken as
    /// valid, e.g. to ask what the policies say before the key signs).
    pub fn verify_signatures(mut self, verify: bool) -> Self {
        self.verify_signatures = verify;
        self
    }

    /// The modelled deployment.
    pub fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// `isValidSignatureWithSender(sender, hash, signature)` as SmartSession answers the account
    /// forwarding an app's `isValidSignature(hash, prefix ‖ signature)` (the routing prefix
    /// taken off): a session key's ERC-7739 signature checked against the permission, its
    /// allowed content, its ERC-1271 policies at block time `now`, and its session validator
    /// over the nested hash on `account_domain` (the account's `eip712Domain()`). Signatures are
    /// always verified. As on chain, `hash` is not compared with what the key signed.
    pub fn check_signature(
        &self,
        state: &AccountState,
        sender: Address,
        hash: B256,
        signature: &[u8],
        account_domain: &mandate_abi::erc7739::AccountDomain,
        now: u64,
    ) -> Result<SignatureVerdict, EvalError> {
        erc1271::check(&self.deployment, state, sender, hash, signature, account_domain, now)
    }

    /// `validateUserOp(op, user_op_hash)` called by the account: the verdict, and on Accept the
    /// state updated as the contracts update storage (policy counters change even when the
    /// session signature is wrong, as in the contract; the EntryPoint then reverts the bundle).
    pub fn validate(
        &self,
        state: &mut AccountState,
        op: &PackedUserOperation,
        user_op_hash: B256,
    ) -> Result<Verdict, EvalError> {
        self.run(state, op, user_op_hash, true)
    }

    /// The verdict without keeping any state change.
    pub fn check(
        &self,
        state: &mut AccountState,
        op: &PackedUserOperation,
        user_op_hash: B256,
    ) -> Result<Verdict, EvalError> {
        self.run(state, op, user_op_hash, false)
    }

    fn run(
        &self,
        state: &mut AccountState,
        op: &PackedUserOperation,
        hash: B256,
        commit: bool,
    ) -> Result<Verdict, EvalError> {
        if op.sender != state.account {
            return Err(EvalError::WrongAccount { state: state.account, sender: op.sender });
        }
        let sig = &op.signature;
        let Some(&mode) = sig.first() else {
            return Ok(Verdict::Reject(Reject::empty("empty signature")));
        };
        if mode > 2 {
            return Ok(Verdict::Reject(Reject::panic(
                0x21,
                format!("mode byte {mode} is not a SmartSessionMode"),
            )));
        }
        let cd = Calldata::new(op, hash);
        let mut snapshot = None;
        let (pid, session_sig): (PermissionId, std::borrow::Cow<'_, [u8]>) = if mode == 0 {
            let Some(pid) = sig.get(1..33) else {
                return Ok(Verdict::Reject(Reject::empty(
                    "signature shorter than mode + permission id",
                )));
            };
            (PermissionId(B256::from_slice(pid)), std::borrow::Cow::Borrowed(&sig[33..]))
        } else {
            let Some((chain_id, verifier)) = &self.enable else {
                return Err(EvalError::EnableModeNotModelled);
            };
            let saved = state.clone();
            match enable::enable_in_user_op(
                &self.deployment,
                state,
                &sig[1..],
                mode,
                *chain_id,
                verifier.as_ref(),
            ) {
                Ok((pid, session_sig)) => {
                    snapshot = Some(saved);
                    (pid, std::borrow::Cow::Owned(session_sig.to_vec()))
                }
                Err(stop) => {
                    *state = saved;
                    return match stop {
                        Stop::Reject(r) => Ok(Verdict::Reject(r)),
                        Stop::Eval(e) => Err(e),
                    };
                }
            }
        };
        let mut run = Run {
            d: &self.deployment,
            state,
            cd: &cd,
            pid,
            undo: Vec::new(),
            saved: Vec::new(),
            runs: Vec::new(),
        };
        let result = run.enforce(op, hash, &session_sig, self.verify_signatures);
        let (undo, runs) = (std::mem::take(&mut run.undo), std::mem::take(&mut run.runs));
        let keep = commit && result.is_ok();
        if !keep {
            match snapshot {
                Some(saved) => *state = saved,
                None => rollback(state, undo),
            }
        }
        match result {
            Ok((vd, signature_valid)) => {
                let window = if signature_valid { vd } else { U256::from(1) };
                Ok(Verdict::Accept(Accept {
                    validation_data: window,
                    signature_valid,
                    valid_after: u64::try_from(vd >> 208).unwrap_or(u64::MAX),
                    valid_until: u64::try_from((vd >> 160) & U256::from(0xffff_ffff_ffffu64))
                        .unwrap_or(u64::MAX),
                    policies: runs,
                }))
            }
            Err(Stop::Reject(r)) => Ok(Verdict::Reject(r)),
            Err(Stop::Eval(e)) => Err(e),
        }
    }
}

fn addr_of(word: U256) -> Address {
    Address::from_word(B256::from(word))
}

impl Run<'_, '_> {
    fn account(&self) -> Address {
        self.state.account
    }

    fn enforce(
        &mut self,
        op: &PackedUserOperation,
        hash: B256,
        session_sig: &[u8],
        verify: bool,
    ) -> Result<(U256, bool), Stop> {
        let pid = self.pid;
        let account = self.account();
        if !self.state.is_enabled(&pid) {
            return Err(Reject::error(
                &ISmartSession::InvalidPermissionId { permissionId: pid.0 },
                vec![pid.to_string()],
                format!("permission {pid} is not enabled for {account}"),
            )
            .into());
        }
        let (permit_paymaster, user_op_policies) = self
            .state
            .sessions
            .get(&pid)
            .map(|s| (s.permit_paymaster, s.user_op_policies.clone()))
            .unwrap_or_default();
        let mut min = 0;
        if !op.paymasterAndData.is_empty() {
            if !permit_paymaster {
                return Err(Reject::error(
                    &ISmartSession::PaymasterValidationNotEnabled { permissionId: pid.0 },
                    vec![pid.to_string()],
                    "the op has a paymaster and the session does not permit ERC-4337 paymasters",
                )
                .into());
            }
            min = 1;
        }
        if user_op_policies.len() < min {
            return Err(self.no_policies("a paymaster op needs at least one user-op policy"));
        }
        let mut vd = U256::ZERO;
        if !user_op_policies.is_empty() {
            let id = self.state.user_op_config_id(pid);
            for &policy in &user_op_policies {
                let out = self.user_op_policy(policy, id, op)?;
                vd = intersect(vd, self.settle(policy, Checkpoint::UserOp, out, "user-op policy")?);
            }
        }
        let actions = self.check_call_data(op)?;
        vd = intersect(vd, actions);
        let session = self.state.sessions.get(&pid);
        let validator = session.map(|s| s.validator).unwrap_or_default();
        if validator.is_zero() {
            return Err(Reject::error(
                &ISmartSession::SignerNotFound { permissionId: pid.0, account },
                vec![pid.to_string(), account.to_string()],
                "the session has no session validator",
            )
            .into());
        }
        let config = session.map(|s| s.validator_config.as_ref()).unwrap_or_default();
        let validators = &self.d.session_validators;
        let ok = if validators.ecdsa == Some(validator) {
            let Some(key) = config.get(..20).map(Address::from_slice) else {
                return Err(Reject::error(
                    &InvalidSessionKeyData {},
                    Vec::new(),
                    "the session key data is shorter than an address",
                )
                .into());
            };
            !verify || ecdsa_ok(hash, session_sig, key)
        } else if validators.ownable == Some(validator) {
            ownable::validate(hash, session_sig, config, verify)?
        } else {
            return Err(Stop::Eval(EvalError::UnknownSessionValidator(validator)));
        };
        Ok((vd, ok))
    }

    fn no_policies(&self, why: &str) -> Stop {
        Reject::error(
            &ISmartSession::NoPoliciesSet { permissionId: self.pid.0 },
            vec![self.pid.to_string()],
            why.to_string(),
        )
        .into()
    }

    fn kind_name(&self, policy: Address) -> String {
        self.d.kind(policy).map_or_else(|| "policy".to_string(), |k| format!("{k:?}Policy"))
    }

    /// `_callPolicy`: a revert or non-zero low 160 bits stop the validation.
    fn settle(
        &mut self,
        policy: Address,
        at: Checkpoint,
        out: Out,
        what: &str,
    ) -> Result<U256, Stop> {
        match out {
            Out::Revert(word, why) => Err(Reject::error(
                &ISmartSession::PolicyCheckReverted { reason: word },
                vec![word.to_string()],
                format!("{what} {} ({policy}) {at} reverted: {why}", self.kind_name(policy)),
            )
            .into()),
            Out::Ret(v, why) => {
                if !(v & U256::from_be_slice(&[0xff; 20])).is_zero() {
                    return Err(Reject::error(
                        &ISmartSession::PolicyViolation { permissionId: self.pid.0, policy },
                        vec![self.pid.to_string(), policy.to_string()],
                        format!(
                            "{what} {} ({policy}) {at} returned {v}: {}",
                            self.kind_name(policy),
                            why.unwrap_or_else(|| "it refuses".into())
                        ),
                    )
                    .into());
                }
                let kind = self.d.kind(policy).unwrap_or(PolicyKind::Sudo);
                self.runs.push(PolicyRun { policy, kind, at, validation_data: v });
                Ok(v)
            }
        }
    }

    fn kind(&self, policy: Address) -> Result<PolicyKind, Stop> {
        self.d.kind(policy).ok_or(Stop::Eval(EvalError::UnknownPolicy(policy)))
    }

    fn check_call_data(&mut self, op: &PackedUserOperation) -> Result<U256, Stop> {
        let cd = op.callData.as_ref();
        if cd.len() < 4 {
            return Err(Reject::empty("callData shorter than a selector").into());
        }
        let selector: [u8; 4] = [cd[0], cd[1], cd[2], cd[3]];
        if selector == EXECUTE {
            if cd.len() < 36 {
                return Err(Reject::empty("execute calldata shorter than a mode").into());
            }
            if cd[5] != 0 {
                return Err(unsupported_exec(format!("exec type {:#04x}", cd[5])));
            }
            return match cd[4] {
                0x01 => {
                    let exec = execution_calldata(self.cd)?;
                    let (pointers, n) = decode_batch(self.cd, exec)?;
                    if n == 0 {
                        return Err(Reject::error(
                            &ISmartSession::NoExecutionsInBatch {},
                            Vec::new(),
                            "empty batch",
                        )
                        .into());
                    }
                    let mut vd = U256::ZERO;
                    for i in 0..n {
                        let (target, value, pos, len) = get_execution(self.cd, pointers, i)?;
                        let data = self.cd.copy(pos, len).ok_or(Stop::Eval(EvalError::OutOfGas))?;
                        vd = intersect(vd, self.check_execution(i, addr_of(target), value, &data)?);
                    }
                    Ok(vd)
                }
                0x00 => {
                    let exec = execution_calldata(self.cd)?;
                    let (target, value, pos, len) = decode_single(self.cd, exec)?;
                    let data = self.cd.copy(pos, len).ok_or(Stop::Eval(EvalError::OutOfGas))?;
                    self.check_execution(0, addr_of(target), value, &data)
                }
                other => Err(Reject::error(
                    &ISmartSession::UnsupportedCallType { callType: FixedBytes([other]) },
                    vec![format!("{other:#04x}")],
                    format!("call type {other:#04x} (only single 0x00 and batch 0x01 are allowed)"),
                )
                .into()),
            };
        }
        if selector == IAccountExecute::executeUserOpCall::SELECTOR {
            return Err(unsupported_exec("executeUserOp cannot be authorised".into()));
        }
        let account = self.account();
        let aid = self.state.action_id(account, selector);
        self.call_action_policies(aid, 0, account, U256::ZERO, cd, "account call")
    }

    fn check_execution(
        &mut self,
        call: usize,
        target: Address,
        value: U256,
        data: &[u8],
    ) -> Result<U256, Stop> {
        let account = self.account();
        let selector =
            if data.len() < 4 { VALUE_SELECTOR } else { FixedBytes::from_slice(&data[..4]) };
        if selector.0 == EXECUTE && target == account {
            return Err(Reject::error(
                &ISmartSession::InvalidSelfCall {},
                Vec::new(),
                format!("call {call} is execute on the account itself"),
            )
            .into());
        }
        if target == FALLBACK_TARGET {
            return Err(Reject::error(
                &ISmartSession::InvalidTarget {},
                Vec::new(),
                format!("call {call} targets address(1)"),
            )
            .into());
        }
        let flag = FALLBACK_TARGET;
        let aid = if target == self.d.smart_session {
            self.state.action_id(flag, [0, 0, 0, 2])
        } else {
            let aid = self.state.action_id(target, selector.0);
            let has = self
                .state
                .sessions
                .get(&self.pid)
                .and_then(|s| s.action_policies.get(&aid))
                .is_some_and(|p| !p.is_empty());
            if has { aid } else { self.state.action_id(flag, [0, 0, 0, 1]) }
        };
        self.call_action_policies(aid, call, target, value, data, "action policy")
    }

    fn call_action_policies(
        &mut self,
        aid: ActionId,
        call: usize,
        target: Address,
        value: U256,
        data: &[u8],
        what: &str,
    ) -> Result<U256, Stop> {
        let policies = self
            .state
            .sessions
            .get(&self.pid)
            .and_then(|s| s.action_policies.get(&aid))
            .cloned()
            .unwrap_or_default();
        if policies.is_empty() {
            return Err(
                self.no_policies(&format!("call {call} to {target}: action {aid} has no policy"))
            );
        }
        let id = self.state.action_config_id(self.pid, aid);
        let at = Checkpoint::Action { action: aid, call };
        let mut vd = U256::ZERO;
        for policy in policies {
            let out = self.action_policy(policy, id, target, value, data)?;
            vd = intersect(vd, self.settle(policy, at, out, what)?);
        }
        Ok(vd)
    }
}

fn unsupported_exec(reason: String) -> Stop {
    Reject::error(&ISmartSession::UnsupportedExecutionType {}, Vec::new(), reason).into()
}

/// Half the secp256k1 group order: OpenZeppelin's ECDSA refuses a larger `s` (malleability).
pub(crate) const SECP256K1_HALF_N: U256 = alloy_primitives::uint!(
    0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0_U256
);

/// EcdsaSessionValidator: OpenZeppelin `ECDSA.tryRecover` over the EIP-191 hash of `hash`
/// (65 bytes, low s, v 27 or 28, non-zero signer) and the signer must be `key`.
pub fn ecdsa_ok(hash: B256, sig: &[u8], key: Address) -> bool {
    if sig.len() != 65 {
        return false;
    }
    let r = U256::from_be_slice(&sig[..32]);
    let s = U256::from_be_slice(&sig[32..64]);
    let v = sig[64];
    if s > SECP256K1_HALF_N || (v != 27 && v != 28) {
        return false;
    }
    ecrecover(eip191_hash_message(hash), v, r, s).is_some_and(|signer| signer == key)
}

#[cfg(test)]
mod tests {
    use alloy_primitives::hex;

    use super::*;

    #[test]
    fn execute_user_op_is_the_erc4337_selector() {
        assert_eq!(IAccountExecute::executeUserOpCall::SELECTOR, hex!("8dd7712f"));
    }
}
