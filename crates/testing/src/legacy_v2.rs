//! The legacy v2 world: a Biconomy Smart Account v2 on a devnet with the v2 stack (compiled from the npm packages), its owner enabling the
//! Session Key Manager and the router and setting a merkle root through a real v0.6 op, and
//! session ops signed by a session key.

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::Call;
use mandate_abi::legacy_v2::{
    BatchEntry, LegacyV2Deployments, MerkleTree, RouterDigest, SessionLeaf, UserOperationV06,
    account_signature, batch_session_signature, execute_batch_v2_calldata, personal_hash,
    router_digest, single_session_signature,
    sol::{ISessionKeyManagerV1, ISmartAccountV2},
};
use mandate_policy::legacy_v2::{AccountV2, LegacyV2Deployment};
use mandate_sim::{BundleOutcome, Devnet};

/// What the router of `@biconomy-devx/account-contracts-v2@1.0.1` recovers over.
pub const PACKAGE_ROUTER: RouterDigest = RouterDigest::UserOpHashAndManager;

/// An account v2 with its owner, a session key and the merkle tree of its sessions, on a devnet
/// with the v2 stack.
#[derive(Clone, Debug)]
pub struct LegacyV2World {
    /// The chain.
    pub devnet: Devnet,
    /// Where the v2 stack is.
    pub v2: LegacyV2Deployments,
    /// The account.
    pub account: Address,
    /// Its owner (ECDSA ownership module).
    pub owner: PrivateKeySigner,
    /// The session key the tests' leaves name.
    pub session_key: PrivateKeySigner,
    /// The tree whose root the account holds.
    pub tree: MerkleTree,
}

/// The key whose 32 bytes are all `byte`.
pub fn signer(byte: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(byte)).unwrap()
}

/// A v0.6 op with generous gas and the EntryPoint's current nonce.
pub fn op(devnet: &mut Devnet, sender: Address, call_data: Bytes) -> UserOperationV06 {
    let nonce = devnet.entry_point_v06_nonce(sender, U256::ZERO).unwrap();
    UserOperationV06 {
        sender,
        nonce,
        callData: call_data,
        callGasLimit: U256::from(1_000_000),
        verificationGasLimit: U256::from(2_000_000),
        preVerificationGas: U256::from(60_000),
        maxFeePerGas: U256::from(2_000_000_000u64),
        maxPriorityFeePerGas: U256::from(1_000_000_000u64),
        ..Default::default()
    }
}

/// The EntryPoint's verdict: `Ok` when the op went through validation (its receipt's success
/// flag says whether its execution succeeded), else the `FailedOp` reason.
pub fn outcome(result: BundleOutcome) -> Result<bool, String> {
    match result {
        BundleOutcome::Included { receipts, .. } => Ok(receipts[0].success),
        BundleOutcome::Rejected(r) => Err(r.reason),
        BundleOutcome::Reverted(r) => Err(format!("bundle reverted: {r:?}")),
    }
}

impl LegacyV2World {
    /// A fresh devnet with the v2 stack, an account owned by `owner` whose owner enabled the
    /// Session Key Manager and the router and set the root of `leaves` (one owner op).
    pub fn new(leaves: &[SessionLeaf]) -> Self {
        let mut devnet = Devnet::new().unwrap();
        let v2 = devnet.deploy_legacy_v2().unwrap();
        let owner = signer(0x11);
        let account = devnet.create_account_v2(&v2, owner.address(), 0).unwrap();
        let tree = MerkleTree::from_leaves(leaves);
        let mut world =
            Self { devnet, v2, account, owner, session_key: signer(0x22), tree: tree.clone() };
        let call = execute_batch_v2_calldata(&[
            Call::new(
                account,
                ISmartAccountV2::enableModuleCall { module: v2.session_key_manager }.abi_encode(),
            ),
            Call::new(
                account,
                ISmartAccountV2::enableModuleCall { module: v2.batched_session_router }
                    .abi_encode(),
            ),
            Call::new(
                v2.session_key_manager,
                ISessionKeyManagerV1::setMerkleRootCall { _merkleRoot: tree.root() }.abi_encode(),
            ),
        ]);
        let result = world.owner_op(call);
        assert_eq!(outcome(result), Ok(true), "owner setup op");
        world
    }

    /// The owner replaces the account's merkle root with the tree of `leaves` (one op).
    pub fn set_leaves(&mut self, leaves: &[SessionLeaf]) {
        self.tree = MerkleTree::from_leaves(leaves);
        let call = mandate_abi::legacy_v2::execute_v2_calldata(
            self.v2.session_key_manager,
            U256::ZERO,
            ISessionKeyManagerV1::setMerkleRootCall { _merkleRoot: self.tree.root() }
                .abi_encode()
                .into(),
        );
        let result = self.owner_op(call);
        assert_eq!(outcome(result), Ok(true), "setMerkleRoot op");
    }

    /// Sends an op signed by the owner through the ECDSA module.
    pub fn owner_op(&mut self, call: Bytes) -> BundleOutcome {
        let mut op = op(&mut self.devnet, self.account, call);
        let hash = self.devnet.user_op_hash_v06(&op).unwrap();
        let sig = self.owner.sign_hash_sync(&personal_hash(hash)).unwrap().as_bytes();
        op.signature = account_signature(&sig, self.v2.ecdsa_module);
        self.devnet.handle_ops_v06(vec![op]).unwrap()
    }

    /// The v2 stack as the local evaluator takes it.
    pub fn deployment(&self) -> LegacyV2Deployment {
        LegacyV2Deployment::new(&self.v2, PACKAGE_ROUTER)
    }

    /// The account as the local evaluator takes it.
    pub fn account_state(&self) -> AccountV2 {
        AccountV2 {
            address: self.account,
            enabled_modules: vec![
                self.v2.ecdsa_module,
                self.v2.session_key_manager,
                self.v2.batched_session_router,
            ],
            merkle_root: self.tree.root(),
        }
    }

    /// A single-session op for `leaf`, signed by `key` over the user-op hash.
    pub fn single_op(
        &mut self,
        call: Bytes,
        leaf: &SessionLeaf,
        key: &PrivateKeySigner,
    ) -> (UserOperationV06, B256) {
        let mut op = op(&mut self.devnet, self.account, call);
        let hash = self.sign_single(&mut op, leaf, key);
        (op, hash)
    }

    /// Signs `op` (as it is now) for the single session `leaf` with `key`; returns its hash.
    pub fn sign_single(
        &mut self,
        op: &mut UserOperationV06,
        leaf: &SessionLeaf,
        key: &PrivateKeySigner,
    ) -> B256 {
        let hash = self.devnet.user_op_hash_v06(op).unwrap();
        let sig = key.sign_hash_sync(&personal_hash(hash)).unwrap().as_bytes();
        op.signature =
            single_session_signature(leaf, &self.tree, &sig, self.v2.session_key_manager).unwrap();
        hash
    }

    /// A batch op for `entries` (one per call, in call order), signed by `key` as the package's
    /// router checks it.
    pub fn batch_op(
        &mut self,
        calls: &[Call],
        entries: &[BatchEntry],
        key: &PrivateKeySigner,
    ) -> (UserOperationV06, B256) {
        let mut op = op(&mut self.devnet, self.account, execute_batch_v2_calldata(calls));
        let hash = self.devnet.user_op_hash_v06(&op).unwrap();
        let digest = router_digest(hash, self.v2.session_key_manager, PACKAGE_ROUTER);
        let sig = key.sign_hash_sync(&personal_hash(digest)).unwrap().as_bytes();
        op.signature = batch_session_signature(
            entries,
            &self.tree,
            self.v2.session_key_manager,
            self.v2.batched_session_router,
            &sig,
        )
        .unwrap();
        (op, hash)
    }
}
