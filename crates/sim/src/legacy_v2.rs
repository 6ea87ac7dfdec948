//! The legacy Biconomy v2 stack on a [`Devnet`]: the ERC-4337 v0.6 EntryPoint (at its canonical
//! address), the Smart Account v2 implementation and factory, the owner's ECDSA module, the
//! merkle Session Key Manager, the Batched Session Router and the ERC-20 session validation
//! module — all compiled from their npm packages (`mandate_contracts::legacy_v2_artifacts`) —
//! plus Mandate's ABI session validation module; and `handleOps` for v0.6 operations.
//!
//! ```
//! use mandate_abi::legacy_v2::ENTRY_POINT_V06;
//! use mandate_sim::Devnet;
//!
//! let mut devnet = Devnet::new()?;
//! let v2 = devnet.deploy_legacy_v2()?;
//! assert_eq!(v2.entry_point, ENTRY_POINT_V06);
//! let account = devnet.create_account_v2(&v2, alloy_primitives::Address::repeat_byte(0x0e), 0)?;
//! assert!(devnet.has_code(account));
//! # Ok::<(), mandate_sim::SimError>(())
//! ```

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::{SolCall, SolValue};
use mandate_abi::{
    GasEstimate,
    legacy_v2::{
        ENTRY_POINT_V06, LegacyV2Deployments, UserOperationV06,
        sol::{IEcdsaOwnershipRegistryModule, IEntryPointV06, ISmartAccountFactoryV2},
    },
};

use crate::{
    BUNDLER, BundleOutcome, DEPLOYER, Devnet, Rejected, Rejection, SimError, VALIDATION_MARGIN,
    genesis,
    preflight::{COMPLETED_CODES, MAX_GAS, bundle_share_gas, size_for_pricing},
};

impl Devnet {
    /// Deploys the v2 stack ([`genesis::legacy_v2`]; the v0.6 EntryPoint at its canonical
    /// address).
    pub fn deploy_legacy_v2(&mut self) -> Result<LegacyV2Deployments, SimError> {
        self.execute(&genesis::legacy_v2())
    }

    /// Creates a Smart Account v2 owned by `owner` (ECDSA module) through the factory, and
    /// funds it with 1 ether for its prefunds. Returns its address.
    pub fn create_account_v2(
        &mut self,
        v2: &LegacyV2Deployments,
        owner: Address,
        index: u64,
    ) -> Result<Address, SimError> {
        let setup: Bytes =
            IEcdsaOwnershipRegistryModule::initForSmartAccountCall { eoaOwner: owner }
                .abi_encode()
                .into();
        let call = ISmartAccountFactoryV2::deployCounterFactualAccountCall {
            moduleSetupContract: v2.ecdsa_module,
            moduleSetupData: setup,
            index: U256::from(index),
        };
        let receipt = self.transact_sol(DEPLOYER, v2.account_factory, &call)?;
        let account = ISmartAccountFactoryV2::deployCounterFactualAccountCall::abi_decode_returns(
            &receipt.output,
        )
        .map_err(|source| SimError::Decode { to: v2.account_factory, source })?;
        self.set_balance(account, U256::from(10u128.pow(18)));
        Ok(account)
    }

    /// The v0.6 EntryPoint nonce of `sender` under a 192-bit `key`.
    pub fn entry_point_v06_nonce(&mut self, sender: Address, key: U256) -> Result<U256, SimError> {
        let key = alloy_primitives::aliases::U192::from(key);
        self.call_sol(ENTRY_POINT_V06, &IEntryPointV06::getNonceCall { sender, key })
    }

    /// The v0.6 user-op hash as the EntryPoint computes it.
    pub fn user_op_hash_v06(
        &mut self,
        op: &UserOperationV06,
    ) -> Result<alloy_primitives::B256, SimError> {
        self.call_sol(ENTRY_POINT_V06, &IEntryPointV06::getUserOpHashCall { userOp: op.clone() })
    }

    /// Submits v0.6 `ops` in one `handleOps` to the v0.6 EntryPoint from the bundler, and keeps
    /// the effects when the bundle goes through. A rejected op is a
    /// [`BundleOutcome::Rejected`] with the EntryPoint's `FailedOp` reason (e.g.
    /// `AA23 reverted: ABISV Arg Rule Violated`, `AA24 signature error`).
    pub fn handle_ops_v06(
        &mut self,
        ops: Vec<UserOperationV06>,
    ) -> Result<BundleOutcome, SimError> {
        let call = IEntryPointV06::handleOpsCall { ops, beneficiary: BUNDLER };
        self.submit_bundle(ENTRY_POINT_V06, call.abi_encode().into())
    }

    /// Estimates a v0.6 `op`'s limits as a bundler's `eth_estimateUserOperationGas` does, on
    /// a copy of the chain where the sender can pay: the smallest `verificationGasLimit` with
    /// which validation completes in `handleOps` (plus [`VALIDATION_MARGIN`]; a signature
    /// that no longer matches the changed limits counts as completed, as in
    /// [`Devnet::estimate_gas`]), the smallest `callGasLimit` with which the account's
    /// execution succeeds when the EntryPoint calls it, and `preVerificationGas` from the op's
    /// size ([`pre_verification_gas_v06`]).
    pub fn estimate_gas_v06(&self, op: &UserOperationV06) -> Result<GasEstimate, SimError> {
        let mut sim = self.clone();
        sim.set_balance(op.sender, U256::from(10u128.pow(30)));
        let mut probe = op.clone();
        probe.preVerificationGas = pre_verification_gas_v06(op);
        probe.verificationGasLimit = U256::from(MAX_GAS);
        probe.callGasLimit = U256::from(MAX_GAS / 4);
        let validates = |o: &UserOperationV06| -> Result<Result<(), Rejection>, SimError> {
            Ok(match sim.clone().handle_ops_v06(vec![o.clone()])? {
                BundleOutcome::Included { .. } => Ok(()),
                BundleOutcome::Rejected(r)
                    if r.code.as_deref().is_some_and(|c| COMPLETED_CODES.contains(&c)) =>
                {
                    Ok(())
                }
                BundleOutcome::Rejected(r) => Err(r),
                BundleOutcome::Reverted(revert) => return Err(SimError::ExecutionReverts(revert)),
            })
        };
        if let Err(rejection) = validates(&probe)? {
            return Err(SimError::ValidationFails(Box::new(Rejected {
                user_op_hash: op.hash(ENTRY_POINT_V06, self.chain_id()),
                rejection,
                path: Vec::new(),
                warnings: Vec::new(),
                round_trips: 0,
            })));
        }
        let verification = Self::smallest(0, MAX_GAS, |v| {
            let mut o = probe.clone();
            o.verificationGasLimit = U256::from(v);
            Ok(validates(&o)?.is_ok())
        })?;
        probe.verificationGasLimit = U256::from(verification + verification / VALIDATION_MARGIN);
        let factory = (op.initCode.len() >= 20).then(|| {
            (Address::from_slice(&op.initCode[..20]), Bytes::copy_from_slice(&op.initCode[20..]))
        });
        let call = sim.estimate_call_gas(ENTRY_POINT_V06, op.sender, &op.callData, factory)?.limit;
        probe.callGasLimit = U256::from(call);
        Ok(GasEstimate {
            verification_gas_limit: probe.verificationGasLimit,
            call_gas_limit: U256::from(call),
            paymaster_verification_gas_limit: None,
            paymaster_post_op_gas_limit: None,
            pre_verification_gas: pre_verification_gas_v06(&probe),
        })
    }
}

/// `preVerificationGas` of a v0.6 op as bundlers price it in a bundle of one (the v0.6 SDK's
/// `calcPreVerificationGas` constants over the op's ABI encoding, a short signature counted as
/// 65 bytes).
pub fn pre_verification_gas_v06(op: &UserOperationV06) -> U256 {
    let mut sized = op.clone();
    size_for_pricing(&mut sized.signature, &mut sized.preVerificationGas);
    bundle_share_gas(&sized.abi_encode())
}
