//! Biconomy session keys v2 (EntryPoint v0.6) on the embedded devnet: a Smart Account v2
//! whose owner sets a merkle root of session leaves, and a session key that uses them singly
//! (Session Key Manager) or in a batch (Batched Session Router) — each op judged by the local
//! evaluator first, then run on a copy of the chain, and only then submitted. This is the
//! story of the v2 SDK tutorials (seeds 000–002) that `mandate demo --legacy-v2` tells.

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::{
    legacy_v2::{
        AbiCondition, AbiRule, AbiSessionData, BatchEntry, Erc20SessionData, MerkleTree,
        RouterDigest, SessionLeaf, UserOperationV06, account_signature, batch_session_signature,
        execute_batch_calldata, execute_calldata, personal_hash, router_digest,
        single_session_signature,
        sol::{ISessionKeyManagerV1, ISmartAccountV2},
    },
    sol::{IERC20, IERC721},
};
use mandate_policy::legacy_v2::{AccountV2, LegacyV2Deployment, OpVerdict, validate_user_op};
use mandate_sim::{BundleOutcome, Devnet, legacy_v2::LegacyV2Deployments};
use serde::Serialize;

use crate::SessionKey;

/// What the router of `@biconomy-devx/account-contracts-v2@1.0.1` recovers the key over.
const ROUTER_DIGEST: RouterDigest = RouterDigest::UserOpHashAndManager;
/// Where the story's tokens go.
pub const RECIPIENT: Address = Address::repeat_byte(0x7e);
/// The ERC-20 session's most per transfer.
pub const MAX_AMOUNT: u64 = 1_000;

/// Errors of the v2 flows.
#[derive(Debug, thiserror::Error)]
pub enum LegacyV2Error {
    /// The simulator failed.
    #[error("simulator: {0}")]
    Sim(#[from] mandate_sim::SimError),
    /// Encoding failed.
    #[error("encoding: {0}")]
    Encode(#[from] mandate_abi::legacy_v2::LegacyV2Error),
    /// The evaluator cannot judge the op.
    #[error("local evaluator: {0}")]
    Eval(#[from] mandate_policy::legacy_v2::LegacyV2EvalError),
    /// Signing failed.
    #[error("signing: {0}")]
    Sign(#[from] alloy_signer::Error),
    /// The local evaluator says the EntryPoint would refuse: nothing was sent.
    #[error("refused locally, nothing sent: {0}")]
    Refused(String),
    /// The run on a copy of the chain failed: nothing was sent.
    #[error("pre-flight in revm, nothing sent: {0}")]
    Preflight(String),
    /// A step of the story ended unexpectedly.
    #[error("{0}")]
    Unexpected(String),
}

/// An op of the story and how it ended.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct V2Step {
    /// What the step does.
    pub title: String,
    /// Included (with gas) or refused (with the reason).
    pub included: bool,
    /// `actualGasUsed` when included.
    pub gas_used: Option<U256>,
    /// Why it was refused.
    pub refused: Option<String>,
}

/// The story's report.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct V2Report {
    /// EntryPoint v0.6.
    pub entry_point: Address,
    /// The Smart Account v2.
    pub account: Address,
    /// The session key's address.
    pub session_key: Address,
    /// The merkle root of the session leaves.
    pub merkle_root: B256,
    /// The steps.
    pub steps: Vec<V2Step>,
    /// Tokens the recipient holds at the end.
    pub recipient_tokens: U256,
    /// NFTs the account holds at the end.
    pub nfts_held: U256,
}

/// A Smart Account v2 on the devnet with its owner and one session key over a merkle tree of
/// sessions.
pub struct V2Account {
    devnet: Devnet,
    v2: LegacyV2Deployments,
    account: Address,
    owner: PrivateKeySigner,
    key: SessionKey,
    tree: MerkleTree,
}

impl std::fmt::Debug for V2Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V2Account")
            .field("account", &self.account)
            .field("owner", &self.owner.address())
            .field("session_key", &self.key)
            .finish_non_exhaustive()
    }
}

fn gas_op(
    devnet: &mut Devnet,
    sender: Address,
    call_data: Bytes,
) -> Result<UserOperationV06, LegacyV2Error> {
    Ok(UserOperationV06 {
        sender,
        nonce: devnet.entry_point_v06_nonce(sender, U256::ZERO)?,
        callData: call_data,
        callGasLimit: U256::from(1_000_000),
        verificationGasLimit: U256::from(2_000_000),
        preVerificationGas: U256::from(60_000),
        maxFeePerGas: U256::from(2_000_000_000u64),
        maxPriorityFeePerGas: U256::from(1_000_000_000u64),
        ..Default::default()
    })
}

impl V2Account {
    /// A fresh devnet with the v2 stack and an account of `owner` (not yet using sessions).
    pub fn new(owner: PrivateKeySigner, key: SessionKey) -> Result<Self, LegacyV2Error> {
        let mut devnet = Devnet::new()?;
        let v2 = devnet.deploy_legacy_v2()?;
        let account = devnet.create_account_v2(&v2, owner.address(), 0)?;
        Ok(Self { devnet, v2, account, owner, key, tree: MerkleTree::from_leaves(&[]) })
    }

    /// The ERC-20 session (seed 001): `token` to `RECIPIENT`, at most `MAX_AMOUNT` per call.
    pub fn erc20_leaf(&self) -> SessionLeaf {
        let data = Erc20SessionData {
            session_key: self.key.address(),
            token: self.devnet.deployments().test_erc20,
            recipient: RECIPIENT,
            max_amount: U256::from(MAX_AMOUNT),
        };
        SessionLeaf::new(0, 0, self.v2.erc20_svm, data.encode())
    }

    /// The ABI session (seed 001): `safeMint(to)` on the test NFT only with `to` = the account.
    pub fn abi_leaf(&self) -> Result<SessionLeaf, LegacyV2Error> {
        let data = AbiSessionData {
            session_key: self.key.address(),
            target: self.devnet.deployments().test_erc721,
            selector: IERC721::safeMintCall::SELECTOR.into(),
            value_limit: 0,
            rules: vec![AbiRule::new(0, AbiCondition::Equal, self.account.into_word())],
        };
        Ok(SessionLeaf::new(0, 0, self.v2.abi_svm, data.encode()?))
    }

    /// The owner's op: enable the Session Key Manager and the router, set the root of
    /// `leaves` (what the SDK's `createBatchSession` sends). Returns the gas charged.
    pub fn create_sessions(&mut self, leaves: &[SessionLeaf]) -> Result<U256, LegacyV2Error> {
        self.tree = MerkleTree::from_leaves(leaves);
        let (account, v2) = (self.account, self.v2);
        let call = execute_batch_calldata(&[
            (
                account,
                U256::ZERO,
                ISmartAccountV2::enableModuleCall { module: v2.session_key_manager }
                    .abi_encode()
                    .into(),
            ),
            (
                account,
                U256::ZERO,
                ISmartAccountV2::enableModuleCall { module: v2.batched_session_router }
                    .abi_encode()
                    .into(),
            ),
            (
                v2.session_key_manager,
                U256::ZERO,
                ISessionKeyManagerV1::setMerkleRootCall { _merkleRoot: self.tree.root() }
                    .abi_encode()
                    .into(),
            ),
        ]);
        let mut op = gas_op(&mut self.devnet, account, call)?;
        let hash = self.devnet.user_op_hash_v06(&op)?;
        let sig = self.owner.sign_hash_sync(&personal_hash(hash))?.as_bytes();
        op.signature = account_signature(&sig, v2.ecdsa_module);
        self.submit(op, None)
    }

    /// Uses one session for one call (the SDK's `getSingleSessionTxParams`).
    pub fn use_single(
        &mut self,
        leaf: &SessionLeaf,
        to: Address,
        data: Bytes,
    ) -> Result<U256, LegacyV2Error> {
        let call = execute_calldata(to, U256::ZERO, data);
        let mut op = gas_op(&mut self.devnet, self.account, call)?;
        let hash = self.devnet.user_op_hash_v06(&op)?;
        let sig = self.key.signer().sign_hash_sync(&personal_hash(hash))?.as_bytes();
        op.signature =
            single_session_signature(leaf, &self.tree, &sig, self.v2.session_key_manager)?;
        self.submit(op, Some(hash))
    }

    /// Uses several sessions in one op through the router, one leaf per call in call order
    /// (the SDK's `getBatchSessionTxParams`).
    pub fn use_batch(
        &mut self,
        calls: &[(Address, Bytes, SessionLeaf)],
    ) -> Result<U256, LegacyV2Error> {
        let executions: Vec<(Address, U256, Bytes)> =
            calls.iter().map(|(to, data, _)| (*to, U256::ZERO, data.clone())).collect();
        let entries: Vec<BatchEntry> = calls
            .iter()
            .map(|(_, _, leaf)| BatchEntry { leaf: leaf.clone(), call_specific_data: Bytes::new() })
            .collect();
        let mut op = gas_op(&mut self.devnet, self.account, execute_batch_calldata(&executions))?;
        let hash = self.devnet.user_op_hash_v06(&op)?;
        let digest = router_digest(hash, self.v2.session_key_manager, ROUTER_DIGEST);
        let sig = self.key.signer().sign_hash_sync(&personal_hash(digest))?.as_bytes();
        op.signature = batch_session_signature(
            &entries,
            &self.tree,
            self.v2.session_key_manager,
            self.v2.batched_session_router,
            &sig,
        )?;
        self.submit(op, Some(hash))
    }

    /// Local verdict (session ops), pre-flight on a copy of the chain, then the real run.
    fn submit(
        &mut self,
        op: UserOperationV06,
        session_hash: Option<B256>,
    ) -> Result<U256, LegacyV2Error> {
        if let Some(hash) = session_hash {
            let deployment = LegacyV2Deployment {
                session_key_manager: self.v2.session_key_manager,
                batched_session_router: self.v2.batched_session_router,
                erc20_svm: self.v2.erc20_svm,
                abi_svm: self.v2.abi_svm,
                router_digest: ROUTER_DIGEST,
            };
            let state = AccountV2 {
                address: self.account,
                enabled_modules: vec![
                    self.v2.ecdsa_module,
                    self.v2.session_key_manager,
                    self.v2.batched_session_router,
                ],
                merkle_root: self.tree.root(),
            };
            let verdict = validate_user_op(&deployment, &state, &op, hash)?;
            if let Err(reason) = verdict.entry_point_result(self.devnet.timestamp()) {
                let detail = match &verdict {
                    OpVerdict::Reverted(violation) => format!("{reason} — {violation}"),
                    OpVerdict::Validated(_) => reason,
                };
                return Err(LegacyV2Error::Refused(detail));
            }
        }
        let preflight = self.devnet.clone().handle_ops_v06(vec![op.clone()])?;
        gas_used(&preflight).map_err(LegacyV2Error::Preflight)?;
        gas_used(&self.devnet.handle_ops_v06(vec![op])?).map_err(LegacyV2Error::Unexpected)
    }
}

fn gas_used(outcome: &BundleOutcome) -> Result<U256, String> {
    match outcome {
        BundleOutcome::Included { receipts, .. } => match receipts.first() {
            Some(r) if r.success => Ok(r.actual_gas_used),
            Some(r) => Err(format!(
                "execution reverted: {}",
                r.revert_reason.as_ref().map_or_else(String::new, ToString::to_string)
            )),
            None => Err("no receipt".into()),
        },
        BundleOutcome::Rejected(r) => Err(r.to_string()),
        BundleOutcome::Reverted(r) => Err(format!("handleOps reverted: {r}")),
    }
}

/// The seeds 000–002 story on a fresh devnet.
pub fn run_demo() -> Result<V2Report, LegacyV2Error> {
    let key = SessionKey::random();
    let session_key = key.address();
    let mut a = V2Account::new(PrivateKeySigner::random(), key)?;
    let d = *a.devnet.deployments();
    let account = a.account;
    a.devnet.set_balance(account, U256::from(10u128.pow(18)));
    a.devnet.transact_sol(
        mandate_sim::DEPLOYER,
        d.test_erc20,
        &IERC20::mintCall { to: account, amount: U256::from(10_000) },
    )?;
    let (erc20, abi) = (a.erc20_leaf(), a.abi_leaf()?);
    let mut steps = Vec::new();
    let mut record =
        |title: &str, result: Result<U256, LegacyV2Error>| -> Result<(), LegacyV2Error> {
            match result {
                Ok(gas) => steps.push(V2Step {
                    title: title.into(),
                    included: true,
                    gas_used: Some(gas),
                    refused: None,
                }),
                Err(LegacyV2Error::Refused(why)) => {
                    steps.push(V2Step {
                        title: title.into(),
                        included: false,
                        gas_used: None,
                        refused: Some(why),
                    });
                }
                Err(e) => return Err(e),
            }
            Ok(())
        };
    let transfer = |amount: u64| -> Bytes {
        IERC20::transferCall { to: RECIPIENT, amount: U256::from(amount) }.abi_encode().into()
    };
    let mint = |to: Address| -> Bytes { IERC721::safeMintCall { to }.abi_encode().into() };

    let r = a.create_sessions(&[erc20.clone(), abi.clone()]);
    record(
        "owner creates a batch session: an ERC-20 leaf and an ABI leaf under one merkle root (seed 001)",
        r,
    )?;
    let r = a.use_single(&erc20, d.test_erc20, transfer(300));
    record("session key transfers 300 tokens with the ERC-20 session (seed 000)", r)?;
    let r = a.use_single(&abi, d.test_erc721, mint(account));
    record("session key mints an NFT to the account with the ABI session", r)?;
    let r = a.use_batch(&[
        (d.test_erc20, transfer(200), erc20.clone()),
        (d.test_erc721, mint(account), abi.clone()),
    ]);
    record(
        "session key transfers 200 tokens and mints an NFT in one batch through the router (seed 002)",
        r,
    )?;
    let r = a.use_single(&erc20, d.test_erc20, transfer(MAX_AMOUNT + 1));
    record("session key tries to transfer 1001 tokens: over the session's maximum", r)?;
    let r = a.use_single(&abi, d.test_erc721, mint(session_key));
    record("session key tries to mint an NFT to itself: the ABI rule wants the account", r)?;

    let recipient_tokens =
        a.devnet.call_sol(d.test_erc20, &IERC20::balanceOfCall { owner: RECIPIENT })?;
    let nfts_held = a.devnet.call_sol(d.test_erc721, &IERC721::balanceOfCall { owner: account })?;
    Ok(V2Report {
        entry_point: a.v2.entry_point,
        account,
        session_key,
        merkle_root: a.tree.root(),
        steps,
        recipient_tokens,
        nfts_held,
    })
}
