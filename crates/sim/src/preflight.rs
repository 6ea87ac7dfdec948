//! Pre-flight: run a user operation through the whole EntryPoint v0.7 path without keeping its
//! effects, and say whether a bundler would include it, what it would cost and what it would do;
//! estimate its gas limits by simulation.

use alloy_primitives::{Address, B256, Bytes, Selector, U256, keccak256};
use alloy_sol_types::SolCall;
use mandate_abi::{
    EntryPointVersion, GasEstimate, PackedUserOperation, UserOperation, ValidationData,
    sol::IEntryPoint,
};
use revm::{
    ExecuteEvm, MainBuilder,
    context::{
        ContextSetters,
        result::{EVMError, ExecResultAndState, ExecutionResult},
    },
    handler::{EthFrame, MainnetHandler},
    inspector::InspectorHandler,
    primitives::TxKind,
};

use std::sync::{Arc, Mutex};

use crate::{
    BUNDLER, Devnet, SimError,
    fork::{self, AccessListCall, Backend, ForkError},
    inspector::{EntryPointSelectors, Frame, GatedEvm, Phase, PreflightInspector},
    outcome::BundleOutcome,
    verdict::{Accepted, ExecutionOutcome, PhaseGas, Preflight, Rejected, StateChange},
};

fn selector(signature: &str) -> Selector {
    Selector::from_slice(&keccak256(signature.as_bytes())[..4])
}

const PACKED_OP: &str = "(address,uint256,bytes,bytes,bytes32,uint256,bytes32,bytes,bytes)";

/// The selectors, computed once.
fn entry_point_selectors() -> EntryPointSelectors {
    static SELECTORS: std::sync::OnceLock<EntryPointSelectors> = std::sync::OnceLock::new();
    *SELECTORS.get_or_init(|| EntryPointSelectors {
        validate_user_op: selector(&format!("validateUserOp({PACKED_OP},bytes32,uint256)")),
        validate_paymaster_user_op: selector(&format!(
            "validatePaymasterUserOp({PACKED_OP},bytes32,uint256)"
        )),
        create_sender: selector("createSender(bytes)"),
        inner_handle_op: selector(
            "innerHandleOp(bytes,((address,uint256,uint256,uint256,uint256,uint256,uint256,address,uint256,uint256),bytes32,uint256,uint256,uint256),bytes)",
        ),
    })
}

/// Speculative runs of a check on a fork before the reads still missing are fetched one by one.
const SPECULATIVE_RUNS: usize = 16;

/// Rejections that mean validation ran to its end: only the signature or the time window
/// failed, which does not depend on the gas given.
pub(crate) const COMPLETED_CODES: &[&str] = &["AA22", "AA24", "AA32", "AA34"];

/// An op's limits beside what it needs (the paymaster limits are `None` on both sides for an
/// op without a paymaster).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LimitsReport {
    /// What the op carries.
    pub given: GasEstimate,
    /// What it needs.
    pub needed: GasEstimate,
}

impl LimitsReport {
    /// Whether every limit the op carries is at least what it needs.
    pub fn enough(&self) -> bool {
        let (g, n) = (&self.given, &self.needed);
        g.verification_gas_limit >= n.verification_gas_limit
            && g.call_gas_limit >= n.call_gas_limit
            && g.paymaster_verification_gas_limit >= n.paymaster_verification_gas_limit
            && g.paymaster_post_op_gas_limit >= n.paymaster_post_op_gas_limit
            && g.pre_verification_gas >= n.pre_verification_gas
    }
}

/// The gas the account's execution needs as a limit, and uses.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CallGas {
    pub(crate) limit: u128,
    pub(crate) used: u128,
}

/// An op's estimated limits and what the EntryPoint will add to its charge for leaving part of
/// them unused ([`Devnet::estimate_charge`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ChargeEstimate {
    /// The limits, as [`Devnet::estimate_gas`] gives them.
    pub limits: GasEstimate,
    /// The EntryPoint release whose rule applies.
    #[serde(serialize_with = "version_name")]
    pub version: EntryPointVersion,
    /// Gas the account's execution of the op uses.
    pub execution_gas_used: u128,
    /// Gas the EntryPoint adds to `actualGasUsed` for the limits left unused.
    pub unused_gas_penalty: u128,
}

fn version_name<S: serde::Serializer>(v: &EntryPointVersion, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{v:?}"))
}

/// The unused-gas penalty of `version` for `limits` when the execution uses
/// `execution_gas_used` (and a `postOp`, if any, counts as using nothing; see
/// [`Devnet::estimate_charge`]).
pub fn unused_gas_penalty(
    version: EntryPointVersion,
    execution_gas_used: u128,
    limits: &GasEstimate,
    has_paymaster: bool,
) -> u128 {
    let call = limits.call_gas_limit.saturating_to::<u128>();
    let post_op = limits
        .paymaster_post_op_gas_limit
        .filter(|_| has_paymaster)
        .unwrap_or_default()
        .saturating_to::<u128>();
    match version {
        EntryPointVersion::V07 => {
            version.unused_gas_penalty(execution_gas_used, call.saturating_add(post_op))
        }
        _ => version.unused_gas_penalty(execution_gas_used, call),
    }
}

/// The share added to the validation limits found by search: a real signature can take a
/// slightly different path than the dummy one the op was estimated with (1/20 = 5%).
pub const VALIDATION_MARGIN: u128 = 20;

/// Gas above which estimates give up.
pub(crate) const MAX_GAS: u128 = 15_000_000;

/// `preVerificationGas` as bundlers price an op's bytes in a bundle of one: calldata cost of
/// the packed op, a per-op overhead and the bundle's fixed cost.
pub fn pre_verification_gas(op: &PackedUserOperation) -> U256 {
    use alloy_sol_types::SolValue;
    let mut sized = op.clone();
    size_for_pricing(&mut sized.signature, &mut sized.preVerificationGas);
    bundle_share_gas(&sized.abi_encode())
}

/// A bundle's fixed cost (the transaction's intrinsic gas).
const PVG_FIXED: u64 = 21_000;

/// What an EIP-7702 authorization in the bundle's authorization list adds to its intrinsic gas
/// (EIP-7702's `PER_EMPTY_ACCOUNT_COST`; 12,500 of it is refunded for an authority that exists,
/// within the refund cap): an op that carries one pays it in its `preVerificationGas`.
pub const EIP7702_AUTHORIZATION_GAS: u64 = 25_000;

/// Makes an op's copy look as it will when sent, for pricing: a signature shorter than an
/// ECDSA one (a dummy) counted as 65 bytes, and a zero `preVerificationGas` as a non-zero one.
pub(crate) fn size_for_pricing(signature: &mut Bytes, pvg: &mut U256) {
    const SIGNATURE_SIZE: usize = 65;
    if signature.len() < SIGNATURE_SIZE {
        *signature = vec![1u8; SIGNATURE_SIZE].into();
    }
    if pvg.is_zero() {
        *pvg = U256::from(PVG_FIXED);
    }
}

/// An op's share of a bundle of one, from its ABI encoding: calldata cost, a per-op overhead,
/// per-word memory and the bundle's fixed cost.
pub(crate) fn bundle_share_gas(encoded: &[u8]) -> U256 {
    const PER_USER_OP: u64 = 18_300;
    const PER_USER_OP_WORD: u64 = 4;
    const ZERO_BYTE: u64 = 4;
    const NON_ZERO_BYTE: u64 = 16;
    let calldata: u64 =
        encoded.iter().map(|b| if *b == 0 { ZERO_BYTE } else { NON_ZERO_BYTE }).sum();
    let words = encoded.len().div_ceil(32) as u64;
    U256::from(calldata + PVG_FIXED + PER_USER_OP + PER_USER_OP_WORD * words)
}

impl Devnet {
    fn labelled(&self, mut path: Vec<Frame>) -> Vec<Frame> {
        for frame in &mut path {
            frame.label = self.label(frame.address, frame.selector);
        }
        path
    }

    /// Runs `op` through `handleOps` as a bundler would submit it, keeps none of its effects,
    /// and says what would happen: the verdict, the gas of each phase, the validation data,
    /// the call path to any revert, ERC-7562 warnings, and the JSON-RPC round trips it took
    /// on a fork. The decoded logs and state changes are left empty: [`Self::check_detailed`]
    /// gives them.
    ///
    /// On a [fork](Self::fork) the op runs first on what is cached, with every read that
    /// misses noted (and answered with a stand-in); the reads missed, the accounts and slots
    /// the op is known to touch, and (where the node offers it) `eth_createAccessList` of the
    /// same `handleOps` are fetched in one batch, and the op runs again, until a run misses
    /// nothing: that run's verdict is the answer. A cold check of a USE op on a deployed
    /// account takes two round trips this way; a warm one none.
    pub fn check(&mut self, op: &PackedUserOperation) -> Result<Preflight, SimError> {
        self.check_with(op, true, false)
    }

    /// [`Self::check`] with every log decoded and each account's state change summarised.
    pub fn check_detailed(&mut self, op: &PackedUserOperation) -> Result<Preflight, SimError> {
        self.check_with(op, true, true)
    }

    /// [`Self::check_detailed`] with revm's per-opcode inspection on every frame rather than
    /// only on the validation phases': slower, and the reference the tests hold `check` to.
    #[doc(hidden)]
    pub fn check_inspecting_every_opcode(
        &mut self,
        op: &PackedUserOperation,
    ) -> Result<Preflight, SimError> {
        self.check_with(op, false, true)
    }

    fn check_with(
        &mut self,
        op: &PackedUserOperation,
        gated: bool,
        detailed: bool,
    ) -> Result<Preflight, SimError> {
        let Some(remote) = self.remote().cloned() else {
            return self.run_check(op, gated, detailed);
        };
        let started = remote.round_trips();
        let call = AccessListCall {
            from: BUNDLER,
            to: self.deployments().chain.entry_point,
            data: IEntryPoint::handleOpsCall { ops: vec![op.clone()], beneficiary: BUNDLER }
                .abi_encode()
                .into(),
        };
        // What the access list named, for the next batch.
        let mut listed = fork::Wanted::default();
        let mut first = true;
        let mut verdict = None;
        // What this check read from the node (missed by a run, or named by the access list):
        // the next check of this sender asks for it in its first batch.
        let mut read = fork::Wanted::default();
        for _ in 0..SPECULATIVE_RUNS {
            let missed = Arc::new(Mutex::new(fork::Wanted::default()));
            self.set_backend(Backend::Speculative(remote.clone(), missed.clone()));
            let run = self.run_check(op, gated, detailed);
            self.set_backend(Backend::Remote(remote.clone()));
            let missed = std::mem::take(&mut *missed.lock().unwrap_or_else(|e| e.into_inner()));
            if missed.is_empty() {
                verdict = Some(run?);
                break;
            }
            self.forget(&missed);
            let mut wanted = std::mem::take(&mut listed);
            wanted.extend(missed);
            read.accounts.extend(&wanted.accounts);
            read.slots.extend(&wanted.slots);
            if first {
                wanted.extend(self.known_state(op));
                wanted.extend(remote.read_hints(op.sender));
            }
            listed = remote.fetch(&wanted, first.then_some(&call))?;
            first = false;
        }
        read.accounts.extend(&listed.accounts);
        read.slots.extend(&listed.slots);
        remote.keep_read_hints(op.sender, &read);
        // Still missing reads after the speculative runs: fetch the rest one by one.
        let mut verdict = match verdict {
            Some(verdict) => verdict,
            None => self.run_check(op, gated, detailed)?,
        };
        let round_trips = remote.round_trips() - started;
        match &mut verdict {
            Preflight::Accepted(a) => a.round_trips = round_trips,
            Preflight::Rejected(r) => r.round_trips = round_trips,
        }
        Ok(verdict)
    }

    /// The accounts and slots `op` is known to touch before it runs: the EntryPoint and its
    /// deposit and nonce slots for the sender and the paymaster, the sender, its factory and
    /// paymaster, the validator its nonce key names, SmartSession, the session validators and
    /// the policies of the deployments.
    fn known_state(&self, op: &PackedUserOperation) -> fork::Wanted {
        let chain = &self.deployments().chain;
        let entry_point = chain.entry_point;
        let mut wanted = fork::Wanted::default();
        let factory = (op.initCode.len() >= 20).then(|| Address::from_slice(&op.initCode[..20]));
        let paymaster = (op.paymasterAndData.len() >= 20)
            .then(|| Address::from_slice(&op.paymasterAndData[..20]));
        // ERC-7579 accounts put the validator in the nonce key's top 20 bytes.
        let validator = Address::from_slice(&op.nonce.to_be_bytes::<32>()[..20]);
        let p = &chain.policies;
        wanted.accounts.extend(
            [Some(entry_point), Some(op.sender), factory, paymaster, Some(validator)]
                .into_iter()
                .flatten()
                .chain([chain.smart_session, p.sudo, p.uni_action, p.time_frame])
                .chain([p.erc20_spending_limit, p.usage_limit, p.value_limit])
                .chain(chain.session_validators.ecdsa)
                .filter(|a| !a.is_zero())
                // The precompiles up to Prague's (access lists leave them out): ecrecover
                // checks every ECDSA signature.
                .chain((1u8..=0x11).map(Address::with_last_byte)),
        );
        // EntryPoint v0.7 and v0.8: `deposits` (slot 0: deposit, then
        // staked/stake/delay/withdrawTime), `nonceSequenceNumber` (slot 1, by sender then
        // 192-bit key); v0.7's reentrancy guard (slot 2; v0.8's is transient).
        if chain.entry_point_version() != Some(mandate_abi::EntryPointVersion::V08) {
            wanted.slots.insert((entry_point, U256::from(2)));
        }
        let mapping = |key: B256, slot: U256| {
            U256::from_be_bytes(keccak256([key.0, slot.to_be_bytes::<32>()].concat()).0)
        };
        let word = |a: Address| B256::left_padding_from(a.as_slice());
        for payer in [Some(op.sender), paymaster].into_iter().flatten() {
            let deposit = mapping(word(payer), U256::ZERO);
            wanted.slots.extend([(entry_point, deposit), (entry_point, deposit + U256::from(1))]);
        }
        let key = op.nonce >> 64;
        let by_sender = mapping(word(op.sender), U256::from(1));
        wanted.slots.insert((entry_point, mapping(B256::from(key), by_sender)));
        wanted
    }

    /// One run of `op` through `handleOps` on the state as it is.
    fn run_check(
        &mut self,
        op: &PackedUserOperation,
        gated: bool,
        detailed: bool,
    ) -> Result<Preflight, SimError> {
        let entry_point = self.deployments().chain.entry_point;
        let paymaster = (op.paymasterAndData.len() >= 20)
            .then(|| Address::from_slice(&op.paymasterAndData[..20]));
        let factory = (op.initCode.len() >= 20).then(|| Address::from_slice(&op.initCode[..20]));
        let inspector = PreflightInspector::new(
            entry_point,
            op.sender,
            paymaster,
            factory,
            entry_point_selectors(),
        );
        let call = IEntryPoint::handleOpsCall { ops: vec![op.clone()], beneficiary: BUNDLER };
        let tx = self.tx(
            BUNDLER,
            TxKind::Call(entry_point),
            U256::ZERO,
            call.abi_encode().into(),
            crate::BLOCK_GAS_LIMIT,
        )?;
        let mut evm =
            GatedEvm { evm: self.evm_context().build_mainnet_with_inspector(inspector), gated };
        evm.evm.ctx.set_tx(tx);
        let result =
            MainnetHandler::<_, EVMError<ForkError>, EthFrame>::default().inspect_run(&mut evm);
        // As `inspect_tx`: finalize the journal (and take the state) even on error.
        let state = evm.evm.finalize();
        let result = result?;
        let run = ExecResultAndState::new(result, state);
        let seen = std::mem::take(&mut evm.evm.inspector.seen);
        drop(evm);

        // Staked factories and paymasters may use their own storage.
        let mut warnings = Vec::with_capacity(seen.violations.len());
        for violation in &seen.violations {
            if let crate::RuleViolation::EntityStorage { entity, .. } = violation {
                let info = self
                    .call_sol(entry_point, &IEntryPoint::getDepositInfoCall { account: *entity })?;
                if info.staked {
                    continue;
                }
            }
            warnings.push(violation.clone());
        }
        let phase_gas = |phase: Phase| {
            seen.gas.iter().filter(|(p, _)| *p == phase).map(|(_, g)| *g).sum::<u64>()
        };
        let has_phase = |phase: Phase| seen.gas.iter().any(|(p, _)| *p == phase);
        let outcome = match run.result {
            ExecutionResult::Success { gas, logs, .. } => {
                let state_changes = if !detailed {
                    Vec::new()
                } else {
                    run.state
                        .iter()
                        .filter(|(_, account)| account.is_touched())
                        .filter_map(|(address, account)| {
                            let before = self.balance(*address);
                            let storage_writes =
                                account.storage.values().filter(|s| s.is_changed()).count();
                            let deployed = account.is_created();
                            let balance = (before != account.info.balance)
                                .then_some((before, account.info.balance));
                            (balance.is_some() || storage_writes > 0 || deployed).then_some(
                                StateChange {
                                    address: *address,
                                    balance,
                                    storage_writes,
                                    deployed,
                                },
                            )
                        })
                        .collect()
                };
                Ok((gas.tx_gas_used(), logs, state_changes))
            }
            ExecutionResult::Revert { output, .. } => Err(output),
            ExecutionResult::Halt { reason, .. } => {
                return Err(SimError::Halted { to: entry_point, reason });
            }
        };
        match outcome {
            Ok((tx_gas, logs, state_changes)) => {
                let decoded = if detailed {
                    logs.iter().map(|l| self.log_decoder().decode(l)).collect()
                } else {
                    Vec::new()
                };
                let receipts = self.receipts(entry_point, logs);
                let receipt = receipts.first().ok_or(SimError::NoUserOperationEvent)?;
                let execution = if receipt.success {
                    ExecutionOutcome::Succeeded
                } else {
                    ExecutionOutcome::Reverted {
                        revert: receipt.revert_reason.clone(),
                        path: self.labelled(seen.execution_revert_path.clone()),
                    }
                };
                // The hash the EntryPoint computed for its UserOperationEvent: the op's.
                debug_assert_eq!(Some(receipt.user_op_hash), self.user_op_hash(op).ok());
                Ok(Preflight::Accepted(Box::new(Accepted {
                    user_op_hash: receipt.user_op_hash,
                    validation: ValidationData::unpack(
                        seen.account_validation_data.unwrap_or_default(),
                    ),
                    paymaster_validation: seen
                        .paymaster_validation_data
                        .map(ValidationData::unpack),
                    gas: PhaseGas {
                        deployment: has_phase(Phase::Deployment)
                            .then(|| phase_gas(Phase::Deployment)),
                        account_validation: phase_gas(Phase::AccountValidation),
                        paymaster_validation: has_phase(Phase::PaymasterValidation)
                            .then(|| phase_gas(Phase::PaymasterValidation)),
                        execution: phase_gas(Phase::Execution),
                        handle_ops: tx_gas,
                    },
                    actual_gas_used: receipt.actual_gas_used,
                    actual_gas_cost: receipt.actual_gas_cost,
                    execution,
                    logs: decoded,
                    state_changes,
                    warnings,
                    round_trips: 0,
                })))
            }
            Err(output) => {
                let rejection = match self.bundle_revert(&output) {
                    BundleOutcome::Rejected(rejection) => rejection,
                    other => {
                        return Err(SimError::RevertedOutsideValidation(Box::new(other)));
                    }
                };
                Ok(Preflight::Rejected(Box::new(Rejected {
                    user_op_hash: self.user_op_hash(op)?,
                    rejection,
                    path: self.labelled(seen.revert_path),
                    warnings,
                    round_trips: 0,
                })))
            }
        }
    }

    /// Whether validation of `op` runs to its end (a failed signature or time window still
    /// counts: they do not depend on gas).
    fn validation_completes(
        &mut self,
        op: &UserOperation,
    ) -> Result<Result<(), Rejected>, SimError> {
        match self.check(&op.pack())? {
            Preflight::Accepted(_) => Ok(Ok(())),
            Preflight::Rejected(r) => {
                let completed =
                    r.rejection.code.as_deref().is_some_and(|c| COMPLETED_CODES.contains(&c));
                Ok(if completed { Ok(()) } else { Err(*r) })
            }
        }
    }

    /// The smallest value in `low..=high` for which `ok` holds, given that it holds at `high`.
    pub(crate) fn smallest(
        low: u128,
        high: u128,
        mut ok: impl FnMut(u128) -> Result<bool, SimError>,
    ) -> Result<u128, SimError> {
        let (mut low, mut high) = (low, high);
        while low < high {
            let mid = low + (high - low) / 2;
            if ok(mid)? {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        Ok(high)
    }

    /// Estimates `op`'s gas limits by simulation, as a bundler's `eth_estimateUserOperationGas`
    /// does: binary searches over the limits on a copy of the chain where the sender can pay,
    /// with [`VALIDATION_MARGIN`] added to the validation limits. The signature may be a dummy
    /// of the right shape (see [`mandate_abi::SessionValidatorKind::dummy_signature`]).
    pub fn estimate_gas(&self, op: &UserOperation) -> Result<GasEstimate, SimError> {
        Ok(self.estimate_charge(op)?.limits)
    }

    /// [`Self::estimate_gas`] with what the EntryPoint will charge for them beyond the gas the
    /// op uses: the unused-gas penalty of the deployments' EntryPoint release
    /// ([`EntryPointVersion::unused_gas_penalty`]; v0.7 for an EntryPoint at another address),
    /// from the gas the account's execution uses (measured as the call gas is searched).
    ///
    /// v0.7 charges 10% of `callGasLimit + paymasterPostOpGasLimit` left unused by the
    /// execution and `postOp`; v0.8 charges 10% of the unused `callGasLimit` once more than
    /// 40,000 of it is unused, and the same of `paymasterPostOpGasLimit` when `postOp` runs.
    /// `postOp`'s own gas is not measured: it counts as unused, which is exact for a paymaster
    /// that returns no context (its `postOp` does not run), and for v0.8 the `postOp` share is
    /// left out (v0.8 charges it only when `postOp` runs).
    pub fn estimate_charge(&self, op: &UserOperation) -> Result<ChargeEstimate, SimError> {
        fn with_margin(v: U256) -> U256 {
            v + v / U256::from(VALIDATION_MARGIN)
        }
        let (mut estimate, execution_gas_used) = self.minimal_gas(op)?;
        estimate.verification_gas_limit = with_margin(estimate.verification_gas_limit);
        estimate.paymaster_verification_gas_limit =
            estimate.paymaster_verification_gas_limit.map(with_margin);
        let mut sized = op.clone();
        sized.verification_gas_limit = estimate.verification_gas_limit.saturating_to();
        sized.call_gas_limit = estimate.call_gas_limit.saturating_to();
        sized.paymaster_verification_gas_limit =
            estimate.paymaster_verification_gas_limit.unwrap_or_default().saturating_to();
        estimate.pre_verification_gas = pre_verification_gas(&sized.pack())
            + U256::from(if op.eip7702_auth.is_some() { EIP7702_AUTHORIZATION_GAS } else { 0 });
        let version =
            self.deployments().chain.entry_point_version().unwrap_or(EntryPointVersion::V07);
        let unused_gas_penalty =
            unused_gas_penalty(version, execution_gas_used, &estimate, op.paymaster.is_some());
        Ok(ChargeEstimate { limits: estimate, version, execution_gas_used, unused_gas_penalty })
    }

    /// The smallest limits with which `op` validates and executes, found by search, and the
    /// gas its execution uses.
    fn minimal_gas(&self, op: &UserOperation) -> Result<(GasEstimate, u128), SimError> {
        let mut sim = self.clone();
        // An op carrying an EIP-7702 authorization runs on the sender it delegates.
        if let Some(auth) = &op.eip7702_auth {
            sim.apply_authorizations(vec![auth.clone()])?;
        }
        sim.set_balance(op.sender, U256::from(10u128.pow(30)));
        let mut probe = op.clone();
        probe.verification_gas_limit = MAX_GAS;
        probe.call_gas_limit = MAX_GAS / 4;
        if op.paymaster.is_some() {
            probe.paymaster_verification_gas_limit = MAX_GAS / 4;
            probe.paymaster_post_op_gas_limit = MAX_GAS / 8;
        }
        if let Err(rejected) = sim.validation_completes(&probe)? {
            return Err(SimError::ValidationFails(Box::new(rejected)));
        }
        let verification_gas_limit = Self::smallest(0, MAX_GAS, |v| {
            let mut o = probe.clone();
            o.verification_gas_limit = v;
            Ok(sim.validation_completes(&o)?.is_ok())
        })?;
        probe.verification_gas_limit = verification_gas_limit;
        let paymaster_verification_gas_limit = if op.paymaster.is_some() {
            let found = Self::smallest(0, MAX_GAS / 4, |v| {
                let mut o = probe.clone();
                o.paymaster_verification_gas_limit = v;
                Ok(sim.validation_completes(&o)?.is_ok())
            })?;
            probe.paymaster_verification_gas_limit = found;
            Some(found)
        } else {
            None
        };
        let entry_point = sim.deployments().chain.entry_point;
        let factory = op.factory.map(|f| (f, op.factory_data.clone()));
        let call = sim.estimate_call_gas(entry_point, op.sender, &op.call_data, factory)?;
        let estimate = GasEstimate {
            verification_gas_limit: U256::from(verification_gas_limit),
            call_gas_limit: U256::from(call.limit),
            paymaster_verification_gas_limit: paymaster_verification_gas_limit.map(U256::from),
            paymaster_post_op_gas_limit: op
                .paymaster
                .map(|_| U256::from(op.paymaster_post_op_gas_limit)),
            pre_verification_gas: pre_verification_gas(&op.pack()),
        };
        Ok((estimate, call.used))
    }

    /// The smallest gas the account's execution of `op.call_data` needs, called from the
    /// EntryPoint as `innerHandleOp` calls it (deploying the account first on this copy if the
    /// op has a factory), and the gas that execution uses.
    pub(crate) fn estimate_call_gas(
        &mut self,
        entry_point: Address,
        sender: Address,
        call_data: &Bytes,
        factory: Option<(Address, Bytes)>,
    ) -> Result<CallGas, SimError> {
        if let Some((factory, factory_data)) = factory.filter(|_| !self.has_code(sender)) {
            self.transact(BUNDLER, factory, U256::ZERO, factory_data)?;
        }
        // The EntryPoint is the caller here and pays this copy's gas: give it the means to.
        let balance = self.account_info(entry_point).balance;
        self.set_balance(entry_point, balance.saturating_add(U256::from(10u128.pow(24))));
        let intrinsic =
            21_000 + call_data.iter().map(|b| if *b == 0 { 4u64 } else { 16 }).sum::<u64>();
        let run = |sim: &mut Self, gas: u128| -> Result<ExecutionResult, SimError> {
            let tx = sim.tx(
                entry_point,
                TxKind::Call(sender),
                U256::ZERO,
                call_data.clone(),
                intrinsic + gas as u64,
            )?;
            let mut evm = sim.evm_context().build_mainnet();
            Ok(evm.transact(tx)?.result)
        };
        let used = match run(self, MAX_GAS)? {
            ExecutionResult::Success { gas, .. } => gas.total_gas_spent().saturating_sub(intrinsic),
            ExecutionResult::Revert { output, .. } => {
                return Err(SimError::ExecutionReverts(self.decoder().decode(&output)));
            }
            ExecutionResult::Halt { reason, .. } => {
                return Err(SimError::Halted { to: sender, reason });
            }
        };
        // The EntryPoint passes callGasLimit to the call; allow for the 63/64 rule of nested calls.
        let found = Self::smallest(0, MAX_GAS, |g| {
            Ok(matches!(run(self, g)?, ExecutionResult::Success { .. }))
        })?;
        Ok(CallGas { limit: found + found / 63, used: u128::from(used) })
    }

    /// Compares `op`'s limits with the least it needs, before it is sent.
    pub fn check_limits(&self, op: &UserOperation) -> Result<LimitsReport, SimError> {
        let (needed, _) = self.minimal_gas(op)?;
        Ok(LimitsReport {
            given: GasEstimate {
                verification_gas_limit: U256::from(op.verification_gas_limit),
                call_gas_limit: U256::from(op.call_gas_limit),
                paymaster_verification_gas_limit: op
                    .paymaster
                    .map(|_| U256::from(op.paymaster_verification_gas_limit)),
                paymaster_post_op_gas_limit: op
                    .paymaster
                    .map(|_| U256::from(op.paymaster_post_op_gas_limit)),
                pre_verification_gas: op.pre_verification_gas,
            },
            needed,
        })
    }
}

#[cfg(test)]
mod tests {
    use mandate_abi::UserOperation;

    use super::*;

    #[test]
    fn the_known_entry_point_slots_hold_the_deposits() {
        let devnet = Devnet::new().expect("genesis");
        let chain = devnet.deployments().chain;
        let paymaster = chain.paymaster.expect("the genesis paymaster");
        let op = UserOperation {
            sender: Address::repeat_byte(0x5e),
            paymaster: Some(paymaster),
            ..Default::default()
        }
        .pack();
        let wanted = devnet.known_state(&op);
        for account in [chain.entry_point, op.sender, paymaster, chain.smart_session] {
            assert!(wanted.accounts.contains(&account), "{account}");
        }
        // The paymaster's deposit is in one of the EntryPoint slots named.
        let deposit = U256::from(crate::PAYMASTER_DEPOSIT);
        let slots: Vec<_> = wanted.slots.iter().filter(|(a, _)| *a == chain.entry_point).collect();
        assert_eq!(slots.len(), 6, "two deposit slots each for sender and paymaster, nonce, guard");
        assert!(slots.iter().any(|(a, s)| devnet.storage(*a, *s) == deposit));
    }

    #[test]
    fn on_v08_the_known_slots_hold_the_senders_deposit_and_no_guard() {
        let mut devnet =
            Devnet::new().expect("genesis").on_entry_point(mandate_abi::EntryPointVersion::V08);
        let entry_point = devnet.deployments().chain.entry_point;
        let sender = Address::repeat_byte(0x5e);
        let deposit = U256::from(12_345);
        let call = IEntryPoint::depositToCall { account: sender };
        devnet.transact(BUNDLER, entry_point, deposit, call.abi_encode().into()).expect("deposit");
        let op = UserOperation { sender, ..Default::default() }.pack();
        let wanted = devnet.known_state(&op);
        let slots: Vec<_> = wanted.slots.iter().filter(|(a, _)| *a == entry_point).collect();
        assert_eq!(slots.len(), 3, "two deposit slots of the sender, its nonce");
        assert!(slots.iter().any(|(a, s)| devnet.storage(*a, *s) == deposit));
        assert!(!wanted.slots.contains(&(entry_point, U256::from(2))));
    }
}
