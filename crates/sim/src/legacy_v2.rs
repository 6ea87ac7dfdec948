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
use mandate_abi::legacy_v2::{
    ENTRY_POINT_V06, UserOperationV06,
    sol::{IEcdsaOwnershipRegistryModule, IEntryPointV06, ISmartAccountFactoryV2},
};
use mandate_contracts::{artifacts, legacy_v2_artifacts, names};

use crate::{BUNDLER, BundleOutcome, DEPLOYER, Devnet, SimError};

/// Where the v2 stack lives on a devnet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LegacyV2Deployments {
    /// ERC-4337 v0.6 EntryPoint, at [`ENTRY_POINT_V06`].
    pub entry_point: Address,
    /// Smart Account v2 implementation (behind every account's proxy).
    pub account_implementation: Address,
    /// Smart Account v2 factory.
    pub account_factory: Address,
    /// The owner's ECDSA validation module.
    pub ecdsa_module: Address,
    /// Session Key Manager v1 (merkle root per account).
    pub session_key_manager: Address,
    /// Batched Session Router.
    pub batched_session_router: Address,
    /// ERC-20 session validation module (from the package).
    pub erc20_svm: Address,
    /// ABI session validation module (Mandate's).
    pub abi_svm: Address,
}

impl Devnet {
    fn deploy_legacy(&mut self, name: &str, args: &[u8]) -> Result<Address, SimError> {
        let contract = legacy_v2_artifacts().get(name)?;
        self.deploy_code(name, &contract.bytecode, args)
    }

    /// Deploys the v2 stack (the v0.6 EntryPoint at its canonical address).
    pub fn deploy_legacy_v2(&mut self) -> Result<LegacyV2Deployments, SimError> {
        use names::legacy_v2::*;
        let entry_point = self.deploy_legacy(ENTRY_POINT, &[])?;
        self.move_account(ENTRY_POINT, entry_point, ENTRY_POINT_V06)?;
        let account_implementation =
            self.deploy_legacy(SMART_ACCOUNT, &ENTRY_POINT_V06.abi_encode())?;
        let account_factory = self.deploy_legacy(
            SMART_ACCOUNT_FACTORY,
            &(account_implementation, DEPLOYER).abi_encode_params(),
        )?;
        let ecdsa_module = self.deploy_legacy(ECDSA_OWNERSHIP_MODULE, &[])?;
        let session_key_manager = self.deploy_legacy(SESSION_KEY_MANAGER, &[])?;
        let batched_session_router = self.deploy_legacy(BATCHED_SESSION_ROUTER, &[])?;
        let erc20_svm = self.deploy_legacy(ERC20_SESSION_VALIDATION_MODULE, &[])?;
        let abi_svm = self.deploy_code(
            names::ABI_SESSION_VALIDATION_MODULE,
            &artifacts().get(names::ABI_SESSION_VALIDATION_MODULE)?.bytecode,
            &[],
        )?;
        Ok(LegacyV2Deployments {
            entry_point: ENTRY_POINT_V06,
            account_implementation,
            account_factory,
            ecdsa_module,
            session_key_manager,
            batched_session_router,
            erc20_svm,
            abi_svm,
        })
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
}
