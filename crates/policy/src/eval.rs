//! The verdict of `SmartSession.validateUserOp` for a USE-mode user operation.

use alloy_primitives::{Address, B256, Bytes, FixedBytes, Signature, U256, eip191_hash_message};
use alloy_sol_types::SolError;
use mandate_abi::{
    ActionId, ConfigId, PackedUserOperation, PermissionId, ids::VALUE_SELECTOR, intersect,
    sol::ISmartSession,
};

use std::sync::Arc;

use mandate_abi::{EnableSession, SignedSession, SmartSessionMode, multichain_digest};

use crate::{
    calldata::{
        Calldata, DecodeStop, decode_batch, decode_single, execution_calldata, get_execution,
        get_value,
    },
    error::EnableError,
    error::EvalError,
    state::{AccountState, Deployment, PolicyKind, PolicyState, TokenBudget},
};

/// The policies' and the session validator's errors (their revert data).
mod contract_errors {
    #![allow(missing_docs, unreachable_pub)]
    alloy_sol_types::sol! {
        error PolicyNotInitialized(bytes32 id, address multiplexer, address account);
        error ValueLimitExceeded(bytes32 id, uint256 value, uint256 limit);
        error InvalidTokenAddress(address token);
        error InvalidLimit(uint256 limit);
        error InvalidInitDataLength();
        error UnsupportedCallType(bytes1 callType);
        error DecodingError();
        error InvalidSessionKeyData();
    }
}
pub(crate) use contract_errors::{
    DecodingError, InvalidInitDataLength, InvalidLimit, InvalidSessionKeyData, InvalidTokenAddress,
    PolicyNotInitialized, UnsupportedCallType, ValueLimitExceeded,
};

const EXECUTE: [u8; 4] = [0xe9, 0xae, 0x5c, 0x53];
const EXECUTE_USER_OP: [u8; 4] = [0x8d, 0xd7, 0x71, 0x2f];
const PANIC: [u8; 4] = [0x4e, 0x48, 0x7b, 0x71];
const APPROVE: [u8; 4] = [0x09, 0x5e, 0xa7, 0xb3];
const INCREASE_ALLOWANCE: [u8; 4] = [0x39, 0x50, 0x93, 0x51];
const TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
const TRANSFER_FROM: [u8; 4] = [0x23, 0xb8, 0x72, 0xdd];

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

    fn error<E: SolError>(
        e: &E,
        name: &'static str,
        args: Vec<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self { data: e.abi_encode().into(), name, args, reason: reason.into() }
    }

    fn panic(code: u8, reason: impl Into<String>) -> Self {
        let mut data = PANIC.to_vec();
        data.extend_from_slice(&U256::from(code).to_be_bytes::<32>());
        Self {
            data: data.into(),
            name: "Panic",
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

/// How policies end: return a word, or revert (SmartSession keeps the first 32 bytes).
enum Out {
    Ret(U256, Option<String>),
    Revert(B256, String),
}

/// `Panic(uint256 code)`.
pub(crate) fn panic_data(code: u8) -> Bytes {
    let mut data = PANIC.to_vec();
    data.extend_from_slice(&U256::from(code).to_be_bytes::<32>());
    data.into()
}

fn first_word(data: &[u8]) -> B256 {
    let mut w = [0u8; 32];
    let n = data.len().min(32);
    w[..n].copy_from_slice(&data[..n]);
    B256::from(w)
}

fn panic_word() -> B256 {
    first_word(&PANIC)
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
                "DecodingError",
                Vec::new(),
                "malformed batch encoding",
            )),
            DecodeStop::OutOfGas => Self::Eval(EvalError::OutOfGas),
        }
    }
}

enum Undo {
    Whole((Address, ConfigId), Option<PolicyState>),
    Token((Address, ConfigId), Address, TokenBudget),
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
            match self.enable_in_user_op(state, &sig[1..], mode, *chain_id, verifier.as_ref()) {
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

impl Evaluator {
    /// `_enableInUserOp`: decode, consume the nonce, check this chain's digest entry and the
    /// owner's signature, enable the session. Returns the permission id and the session signature.
    fn enable_in_user_op(
        &self,
        state: &mut AccountState,
        compressed: &[u8],
        mode: u8,
        chain_id: u64,
        verifier: &dyn EnableSignatureVerifier,
    ) -> Result<(PermissionId, Bytes), Stop> {
        use alloy_sol_types::SolValue;
        let account = state.account;
        let payload = crate::calldata::flz_decompress(compressed)
            .ok_or(Stop::Eval(EvalError::MalformedEnablePayload))?;
        let (enable, session_sig) =
            <(EnableSession, Bytes)>::abi_decode_params(&payload).map_err(|_| {
                Reject::empty("the ENABLE payload is not abi.encode(EnableSession, bytes)")
            })?;
        let session = &enable.sessionToEnable;
        let pid = PermissionId::of(session);
        let entry = state.sessions.entry(pid).or_default();
        let nonce = entry.nonce;
        entry.nonce = nonce.wrapping_add(U256::from(1));
        let smode =
            if mode == 1 { SmartSessionMode::Enable } else { SmartSessionMode::UnsafeEnable };
        let computed =
            SignedSession::of(session, account, self.deployment.smart_session, nonce, smode)
                .digest();
        let index = usize::from(enable.chainDigestIndex);
        let Some(chain) = enable.hashesAndChainIds.get(index) else {
            return Err(Reject::panic(
                0x32,
                format!(
                    "chainDigestIndex {index} is past the {} digests",
                    enable.hashesAndChainIds.len()
                ),
            )
            .into());
        };
        if chain.chainId != chain_id {
            return Err(Reject::error(
                &ISmartSession::ChainIdMismatch { providedChainId: chain.chainId },
                "ChainIdMismatch",
                vec![chain.chainId.to_string()],
                format!("digest {index} is for chain {}, this is chain {chain_id}", chain.chainId),
            )
            .into());
        }
        if chain.sessionDigest != computed {
            return Err(Reject::error(
                &ISmartSession::HashMismatch {
                    providedHash: chain.sessionDigest,
                    computedHash: computed,
                },
                "HashMismatch",
                vec![chain.sessionDigest.to_string(), computed.to_string()],
                format!("the signed session digest is not the session's under nonce {nonce}"),
            )
            .into());
        }
        let digest = multichain_digest(&enable.hashesAndChainIds);
        if !verifier.is_valid_signature(account, digest, &enable.permissionEnableSig) {
            return Err(Reject::error(
                &ISmartSession::InvalidEnableSignature { account, hash: digest },
                "InvalidEnableSignature",
                vec![account.to_string(), digest.to_string()],
                "the account does not accept the owner's signature over the multichain digest",
            )
            .into());
        }
        state.enable_session(&self.deployment, session).map_err(|e| enable_stop(&e))?;
        Ok((pid, session_sig))
    }
}

/// The revert an enable failure surfaces as inside `validateUserOp`.
fn enable_stop(e: &EnableError) -> Stop {
    let reason = e.to_string();
    match e {
        EnableError::InvalidData => {
            Reject::error(&ISmartSession::InvalidData {}, "InvalidData", Vec::new(), reason).into()
        }
        EnableError::InvalidPermissionId(pid) => Reject::error(
            &ISmartSession::InvalidPermissionId { permissionId: pid.0 },
            "InvalidPermissionId",
            vec![pid.to_string()],
            reason,
        )
        .into(),
        EnableError::InvalidActionId => {
            Reject::error(&ISmartSession::InvalidActionId {}, "InvalidActionId", Vec::new(), reason)
                .into()
        }
        EnableError::UnsupportedPolicy(p) => Reject::error(
            &ISmartSession::UnsupportedPolicy { policy: *p },
            "UnsupportedPolicy",
            vec![p.to_string()],
            reason,
        )
        .into(),
        EnableError::InvalidSessionValidator(v) => Reject::error(
            &ISmartSession::InvalidISessionValidator { sessionValidator: *v },
            "InvalidISessionValidator",
            vec![v.to_string()],
            reason,
        )
        .into(),
        EnableError::PolicyInit { data, reason: name, .. } => {
            Reject { data: data.clone(), name, args: Vec::new(), reason }.into()
        }
        EnableError::UnknownPolicy(p) => Stop::Eval(EvalError::UnknownPolicy(*p)),
        EnableError::UnknownSessionValidator(v) => {
            Stop::Eval(EvalError::UnknownSessionValidator(*v))
        }
    }
}

fn rollback(state: &mut AccountState, undo: Vec<Undo>) {
    for u in undo.into_iter().rev() {
        match u {
            Undo::Whole(key, old) => match old {
                Some(s) => {
                    state.policies.insert(key, s);
                }
                None => {
                    state.policies.remove(&key);
                }
            },
            Undo::Token(key, token, old) => {
                if let Some(PolicyState::Erc20(c)) = state.policies.get_mut(&key) {
                    if old.is_zero() {
                        c.budgets.remove(&token);
                    } else {
                        c.budgets.insert(token, old);
                    }
                }
            }
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
                "InvalidPermissionId",
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
                    "PaymasterValidationNotEnabled",
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
        let key = session.and_then(|s| s.validator_config.get(..20)).map(Address::from_slice);
        if validator.is_zero() {
            return Err(Reject::error(
                &ISmartSession::SignerNotFound { permissionId: pid.0, account },
                "SignerNotFound",
                vec![pid.to_string(), account.to_string()],
                "the session has no session validator",
            )
            .into());
        }
        if validator != self.d.ecdsa_session_validator {
            return Err(Stop::Eval(EvalError::UnknownSessionValidator(validator)));
        }
        let Some(key) = key else {
            return Err(Reject::error(
                &InvalidSessionKeyData {},
                "InvalidSessionKeyData",
                Vec::new(),
                "the session key data is shorter than an address",
            )
            .into());
        };
        let ok = !verify || ecdsa_ok(hash, session_sig, key);
        Ok((vd, ok))
    }

    fn no_policies(&self, why: &str) -> Stop {
        Reject::error(
            &ISmartSession::NoPoliciesSet { permissionId: self.pid.0 },
            "NoPoliciesSet",
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
                "PolicyCheckReverted",
                vec![word.to_string()],
                format!("{what} {} ({policy}) {at} reverted: {why}", self.kind_name(policy)),
            )
            .into()),
            Out::Ret(v, why) => {
                if !(v & U256::from_be_slice(&[0xff; 20])).is_zero() {
                    return Err(Reject::error(
                        &ISmartSession::PolicyViolation { permissionId: self.pid.0, policy },
                        "PolicyViolation",
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

    fn not_initialized(&self, id: ConfigId) -> Out {
        let e = PolicyNotInitialized {
            id: id.0,
            multiplexer: self.d.smart_session,
            account: self.account(),
        };
        Out::Revert(first_word(&e.abi_encode()), format!("PolicyNotInitialized({id})"))
    }

    fn time_frame(&self, policy: Address, id: ConfigId) -> Out {
        match self.state.policies.get(&(policy, id)) {
            Some(PolicyState::TimeFrame(frame)) if *frame != 0 => {
                let frame = U256::from(*frame);
                Out::Ret(
                    ((frame & U256::from(0xffff_ffff_ffffu64)) << 208) | ((frame >> 48) << 160),
                    None,
                )
            }
            _ => self.not_initialized(id),
        }
    }

    fn usage(&mut self, policy: Address, id: ConfigId) -> Out {
        let key = (policy, id);
        let old = self.state.policies.get(&key).cloned();
        let (limit, used) = match &old {
            Some(PolicyState::UsageLimit { limit, used }) => (*limit, *used),
            _ => (0, 0),
        };
        let Some(next) = used.checked_add(1) else {
            return Out::Revert(panic_word(), "usage counter overflow".into());
        };
        if next > limit {
            return Out::Ret(U256::from(1), Some(format!("use {next} exceeds the limit {limit}")));
        }
        self.undo.push(Undo::Whole(key, old));
        self.state.policies.insert(key, PolicyState::UsageLimit { limit, used: next });
        Out::Ret(U256::ZERO, None)
    }

    fn spend_value(&mut self, policy: Address, id: ConfigId, value: U256) -> Out {
        let key = (policy, id);
        let old = self.state.policies.get(&key).cloned();
        let (limit, used) = match &old {
            Some(PolicyState::ValueLimit { limit, used }) => (*limit, *used),
            _ => (U256::ZERO, U256::ZERO),
        };
        let Some(next) = used.checked_add(value) else {
            return Out::Revert(panic_word(), "value sum overflow".into());
        };
        if next > limit {
            return Out::Ret(
                U256::from(1),
                Some(format!("{used} used + {value} wei exceeds the value limit {limit}")),
            );
        }
        if !(limit.is_zero() && next.is_zero()) {
            self.undo.push(Undo::Whole(key, old));
            self.state.policies.insert(key, PolicyState::ValueLimit { limit, used: next });
        }
        Out::Ret(U256::ZERO, None)
    }

    fn user_op_policy(
        &mut self,
        policy: Address,
        id: ConfigId,
        op: &PackedUserOperation,
    ) -> Result<Out, Stop> {
        Ok(match self.kind(policy)? {
            PolicyKind::Sudo => Out::Ret(U256::ZERO, None),
            PolicyKind::TimeFrame => self.time_frame(policy, id),
            PolicyKind::UsageLimit => self.usage(policy, id),
            PolicyKind::UniAction | PolicyKind::Erc20SpendingLimit => {
                Out::Revert(B256::ZERO, "the policy has no checkUserOpPolicy".into())
            }
            PolicyKind::ValueLimit => {
                let cd = op.callData.as_ref();
                if cd.len() < 4 {
                    return Ok(Out::Revert(B256::ZERO, "callData shorter than a selector".into()));
                }
                if cd[..4] != EXECUTE {
                    return Ok(Out::Ret(U256::ZERO, None));
                }
                if cd.len() < 36 {
                    return Ok(Out::Revert(B256::ZERO, "callData shorter than a mode".into()));
                }
                let call_type = cd[4];
                let total = match call_type {
                    0x00 => {
                        match execution_calldata(self.cd).and_then(|e| decode_single(self.cd, e)) {
                            Ok((_, value, _, _)) => value,
                            Err(e) => return policy_decode_stop(e),
                        }
                    }
                    0x01 => {
                        let (pointers, n) = match execution_calldata(self.cd)
                            .and_then(|e| decode_batch(self.cd, e))
                        {
                            Ok(x) => x,
                            Err(e) => return policy_decode_stop(e),
                        };
                        let mut total = U256::ZERO;
                        for i in 0..n {
                            match total.checked_add(get_value(self.cd, pointers, i)) {
                                Some(t) => total = t,
                                None => {
                                    return Ok(Out::Revert(
                                        panic_word(),
                                        "batch value sum overflow".into(),
                                    ));
                                }
                            }
                        }
                        total
                    }
                    other => {
                        let e = UnsupportedCallType { callType: FixedBytes([other]) };
                        return Ok(Out::Revert(
                            first_word(&e.abi_encode()),
                            format!("ValueLimitPolicy: unsupported call type {other:#04x}"),
                        ));
                    }
                };
                self.spend_value(policy, id, total)
            }
        })
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
                            "NoExecutionsInBatch",
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
                    "UnsupportedCallType",
                    vec![format!("{other:#04x}")],
                    format!("call type {other:#04x} (only single 0x00 and batch 0x01 are allowed)"),
                )
                .into()),
            };
        }
        if selector == EXECUTE_USER_OP {
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
                "InvalidSelfCall",
                Vec::new(),
                format!("call {call} is execute on the account itself"),
            )
            .into());
        }
        if target == mandate_abi::ids::FALLBACK_TARGET {
            return Err(Reject::error(
                &ISmartSession::InvalidTarget {},
                "InvalidTarget",
                Vec::new(),
                format!("call {call} targets address(1)"),
            )
            .into());
        }
        let flag = mandate_abi::ids::FALLBACK_TARGET;
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

    fn action_policy(
        &mut self,
        policy: Address,
        id: ConfigId,
        target: Address,
        value: U256,
        data: &[u8],
    ) -> Result<Out, Stop> {
        Ok(match self.kind(policy)? {
            PolicyKind::Sudo => Out::Ret(U256::ZERO, None),
            PolicyKind::TimeFrame => self.time_frame(policy, id),
            PolicyKind::UsageLimit => self.usage(policy, id),
            PolicyKind::ValueLimit => self.spend_value(policy, id, value),
            PolicyKind::UniAction => self.uni_action(policy, id, value, data),
            PolicyKind::Erc20SpendingLimit => self.erc20(policy, id, target, value, data),
        })
    }

    fn uni_action(&mut self, policy: Address, id: ConfigId, value: U256, data: &[u8]) -> Out {
        let key = (policy, id);
        if !self.saved.contains(&key)
            && let Some(config @ PolicyState::UniAction(c)) = self.state.policies.get(&key)
            && c.rules.iter().any(|r| r.is_limited)
        {
            self.undo.push(Undo::Whole(key, Some(config.clone())));
            self.saved.push(key);
        }
        let Some(PolicyState::UniAction(config)) = self.state.policies.get_mut(&key) else {
            return self.not_initialized(id);
        };
        if config.rules.is_empty() {
            return self.not_initialized(id);
        }
        let limit = config.value_limit_per_use;
        if value > limit {
            let e = ValueLimitExceeded { id: id.0, value, limit };
            return Out::Revert(
                first_word(&e.abi_encode()),
                format!("value {value} exceeds valueLimitPerUse {limit}"),
            );
        }
        for (i, rule) in config.rules.iter_mut().enumerate() {
            let Some(end) = rule.offset.checked_add(4).and_then(|s| s.checked_add(32)) else {
                return Out::Revert(
                    panic_word(),
                    format!("rule {i}: offset {} overflows uint64", rule.offset),
                );
            };
            let (start, end) = (end as usize - 32, end as usize);
            let Some(word) = data.get(start..end).filter(|_| end >= 32) else {
                return Out::Revert(
                    B256::ZERO,
                    format!(
                        "rule {i}: parameter at offset {} is past the calldata ({} bytes)",
                        rule.offset,
                        data.len()
                    ),
                );
            };
            let param = U256::from_be_slice(word);
            let r = U256::from_be_bytes(rule.reference.0);
            let ok = match rule.condition {
                0 => param == r,
                1 => param > r,
                2 => param < r,
                3 => param >= r,
                4 => param <= r,
                5 => param != r,
                _ => param >= (r >> 128) && param <= (r & U256::from(u128::MAX)),
            };
            if !ok {
                return Out::Ret(
                    U256::from(1),
                    Some(format!(
                        "rule {i}: parameter {} at offset {} fails condition {} against {}",
                        word_text(param),
                        rule.offset,
                        condition_name(rule.condition),
                        word_text(r),
                    )),
                );
            }
            if rule.is_limited {
                let Some(used) = rule.used.checked_add(param) else {
                    return Out::Revert(panic_word(), format!("rule {i}: usage overflow"));
                };
                if used > rule.limit {
                    return Out::Ret(
                        U256::from(1),
                        Some(format!(
                            "rule {i}: usage {} + {param} exceeds the limit {}",
                            rule.used, rule.limit
                        )),
                    );
                }
                rule.used = used;
            }
        }
        Out::Ret(U256::ZERO, None)
    }

    fn erc20(
        &mut self,
        policy: Address,
        id: ConfigId,
        target: Address,
        value: U256,
        data: &[u8],
    ) -> Out {
        if !value.is_zero() {
            return Out::Ret(
                U256::from(1),
                Some(format!("ERC-20 calls may not send value ({value})")),
            );
        }
        if data.len() < 4 {
            return Out::Revert(B256::ZERO, "calldata shorter than a selector".into());
        }
        let selector = [data[0], data[1], data[2], data[3]];
        let args = &data[4..];
        let word = |i: usize| U256::from_be_slice(&args[i * 32..i * 32 + 32]);
        let is_addr = |w: U256| (w >> 160usize).is_zero();
        let approve = selector == APPROVE || selector == INCREASE_ALLOWANCE;
        let amount = if approve || selector == TRANSFER {
            if args.len() < 64 || !is_addr(word(0)) {
                return Out::Revert(
                    B256::ZERO,
                    "arguments do not decode as (address, uint256)".into(),
                );
            }
            word(1)
        } else if selector == TRANSFER_FROM {
            if args.len() < 96 || !is_addr(word(0)) || !is_addr(word(1)) {
                return Out::Revert(
                    B256::ZERO,
                    "arguments do not decode as (address, address, uint256)".into(),
                );
            }
            if addr_of(word(1)) == self.account() { U256::ZERO } else { word(2) }
        } else {
            return Out::Ret(
                U256::from(1),
                Some(format!(
                    "selector 0x{} is not an ERC-20 spend",
                    alloy_primitives::hex::encode(selector)
                )),
            );
        };
        if target.is_zero() {
            let e = InvalidTokenAddress { token: target };
            return Out::Revert(first_word(&e.abi_encode()), "token address zero".into());
        }
        let key = (policy, id);
        let budget = match self.state.policies.get(&key) {
            Some(PolicyState::Erc20(c)) => c.budgets.get(&target).copied().unwrap_or_default(),
            _ => TokenBudget::default(),
        };
        let mut next = budget;
        let total = if approve {
            let Some(a) = budget.approved.checked_add(amount) else {
                return Out::Revert(panic_word(), "approved amount overflow".into());
            };
            next.approved = a;
            budget.spent.checked_add(a)
        } else {
            let Some(s) = budget.spent.checked_add(amount) else {
                return Out::Revert(panic_word(), "spent amount overflow".into());
            };
            next.spent = s;
            s.checked_add(budget.approved)
        };
        let Some(total) = total else {
            return Out::Revert(panic_word(), "spent + approved overflow".into());
        };
        if total > budget.limit {
            return Out::Ret(
                U256::from(1),
                Some(format!(
                    "token {target}: spent + approved would be {total}, the limit is {}",
                    budget.limit
                )),
            );
        }
        if next != budget {
            self.undo.push(Undo::Token(key, target, budget));
            if let Some(PolicyState::Erc20(c)) = self.state.policies.get_mut(&key) {
                c.budgets.insert(target, next);
            }
        }
        Out::Ret(U256::ZERO, None)
    }
}

fn policy_decode_stop(e: DecodeStop) -> Result<Out, Stop> {
    match e {
        DecodeStop::Empty => Ok(Out::Revert(B256::ZERO, "malformed execution calldata".into())),
        DecodeStop::DecodingError => Ok(Out::Revert(
            first_word(&DecodingError {}.abi_encode()),
            "malformed batch encoding".into(),
        )),
        DecodeStop::OutOfGas => Err(Stop::Eval(EvalError::OutOfGas)),
    }
}

fn unsupported_exec(reason: String) -> Stop {
    Reject::error(
        &ISmartSession::UnsupportedExecutionType {},
        "UnsupportedExecutionType",
        Vec::new(),
        reason,
    )
    .into()
}

fn condition_name(c: u8) -> &'static str {
    match c {
        0 => "EQUAL",
        1 => "GREATER_THAN",
        2 => "LESS_THAN",
        3 => "GREATER_THAN_OR_EQUAL",
        4 => "LESS_THAN_OR_EQUAL",
        5 => "NOT_EQUAL",
        _ => "IN_RANGE",
    }
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
    let digest = eip191_hash_message(hash);
    match Signature::new(r, s, v == 28).recover_address_from_prehash(&digest) {
        Ok(signer) => !signer.is_zero() && signer == key,
        Err(_) => false,
    }
}

/// A 32-byte word in words: a number when it is small, else its hex (addresses and hashes).
fn word_text(word: U256) -> String {
    if word.bit_len() <= 128 { word.to_string() } else { format!("{word:#066x}") }
}
