//! Biconomy session keys v2 (Smart Account v2 on EntryPoint v0.6): an owner sets a merkle root
//! of session leaves on their account, and a session key uses them singly (Session Key
//! Manager) or several in one op (Batched Session Router). [`V2Client`] runs each op the way
//! [`crate::SessionClient`] runs v0.7 ones — local verdict, gas from the bundler, the signed op
//! run in revm on the chain's current state, then the bundler — on the embedded devnet or on a
//! node with any bundler that serves EntryPoint v0.6 ([`BundlerV06`]).
//!
//! ```
//! use alloy_primitives::U256;
//! use alloy_signer_local::PrivateKeySigner;
//! use mandate_client::{SessionKey, legacy_v2::{V2Account, V2Client}};
//! use mandate_sim::Devnet;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let client = V2Client::devnet(Devnet::new()?)?;
//! let owner = PrivateKeySigner::random();
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! runtime.block_on(async {
//!     let account = client.account(V2Account::new(owner.address(), 0)).await?;
//!     client.set_balance(account.address, U256::from(10u128.pow(18)))?;
//!     // The owner's first op deploys the account and turns sessions on (no leaves yet).
//!     let (sessions, sent) = client.create_sessions(&owner, &account, Vec::new(), &[]).await?;
//!     assert!(sent.receipt.success);
//!     assert_eq!(client.merkle_root(account.address).await?, sessions.root());
//!     // Kept as JSON between runs; the tree comes back with it.
//!     let kept: mandate_client::legacy_v2::V2Sessions =
//!         serde_json::from_str(&serde_json::to_string(&sessions)?)?;
//!     assert_eq!(kept.root(), sessions.root());
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })?;
//! # Ok(())
//! # }
//! ```

mod story;

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::Deployments;
use mandate_abi::{
    Call,
    legacy_v2::{
        BatchEntry, LegacyV2Deployments, MerkleTree, RouterDigest, SessionLeaf, UserOperationV06,
        account_signature, batch_session_signature, execute_batch_v2_calldata, execute_v2_calldata,
        personal_hash, router_digest, single_session_signature,
        sol::{
            IEcdsaOwnershipRegistryModule, ISessionKeyManagerV1, ISmartAccountFactoryV2,
            ISmartAccountV2,
        },
    },
};
use mandate_bundler::{BundlerClient, BundlerError, BundlerV06, UserOperationReceipt};
use mandate_policy::legacy_v2::{AccountV2, LegacyV2Deployment, OpVerdict, validate_user_op};
use mandate_sim::{BundleOutcome, Devnet};
use serde::{Deserialize, Serialize};

pub use story::{MAX_AMOUNT, RECIPIENT, V2Report, V2Step, V2Story, run_demo};

use crate::{
    Chain, ClientError, Options, SessionKey, Step,
    devnet_bundler::DevnetBundler,
    pipeline::{
        PLACEHOLDER_CALL_GAS, PLACEHOLDER_PRE_VERIFICATION_GAS, PLACEHOLDER_VERIFICATION_GAS,
        Pipeline,
    },
};

/// What the router of `@biconomy-devx/account-contracts-v2@1.0.1` recovers the key over.
pub const ROUTER_DIGEST: RouterDigest = RouterDigest::UserOpHashAndManager;

/// The client's name in its debug log lines.
const CLIENT: &str = "v2 session client";

/// Errors of the v2 flows.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum V2ClientError {
    /// Reading the chain, the pre-flight's simulator, the bundler or signing failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Encoding failed.
    #[error("encoding: {0}")]
    Encode(#[from] mandate_abi::legacy_v2::LegacyV2EncodeError),
    /// The evaluator cannot judge the op.
    #[error("local evaluator: {0}")]
    Eval(#[from] mandate_policy::legacy_v2::LegacyV2EvalError),
    /// The local evaluator says the EntryPoint would refuse: nothing was sent.
    #[error("refused locally, nothing sent: {0}")]
    Refused(String),
    /// The run on the chain's current state failed: nothing was sent.
    #[error("pre-flight in revm, nothing sent: {0}")]
    Preflight(String),
    /// The op was included but its execution reverted.
    #[error("op {user_op_hash} was included but its execution reverted: {reason}")]
    Reverted {
        /// The op.
        user_op_hash: B256,
        /// The revert reason the bundler reported.
        reason: String,
    },
    /// The leaf to revoke is not one of the account's sessions (nothing was sent).
    #[error("the leaf is not one of the {leaves} session leaves of account {account}")]
    LeafNotInSessions {
        /// The account.
        account: Address,
        /// How many leaves its sessions have.
        leaves: usize,
    },
    /// A call the v2 flows do not support, or an argument that does not fit.
    #[error("{0}")]
    Unsupported(String),
    /// Funding the account failed.
    #[error("funding the account: {0}")]
    Fund(#[source] crate::demo::FundError),
    /// The async runtime could not start.
    #[error("async runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

impl From<BundlerError> for V2ClientError {
    fn from(e: BundlerError) -> Self {
        Self::Client(e.into())
    }
}

impl From<alloy_signer::Error> for V2ClientError {
    fn from(e: alloy_signer::Error) -> Self {
        Self::Client(e.into())
    }
}

impl From<mandate_sim::SimError> for V2ClientError {
    fn from(e: mandate_sim::SimError) -> Self {
        Self::Client(e.into())
    }
}

/// A Smart Account v2 of an ECDSA owner: where the factory puts it and how it is deployed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct V2Account {
    /// The owner (ECDSA ownership module).
    pub owner: Address,
    /// The factory's index.
    pub index: u64,
    /// The account's address (known once [`V2Client::account`] resolved it).
    #[serde(default)]
    pub address: Address,
}

impl V2Account {
    /// `owner`'s account number `index` (address not yet resolved).
    pub const fn new(owner: Address, index: u64) -> Self {
        Self { owner, index, address: Address::ZERO }
    }

    fn setup_data(&self) -> Bytes {
        IEcdsaOwnershipRegistryModule::initForSmartAccountCall { eoaOwner: self.owner }
            .abi_encode()
            .into()
    }

    /// The op's `initCode` that deploys the account: factory address, then
    /// `deployCounterFactualAccount(ecdsaModule, initForSmartAccount(owner), index)`.
    pub fn init_code(&self, v2: &LegacyV2Deployments) -> Bytes {
        let call = ISmartAccountFactoryV2::deployCounterFactualAccountCall {
            moduleSetupContract: v2.ecdsa_module,
            moduleSetupData: self.setup_data(),
            index: U256::from(self.index),
        };
        [v2.account_factory.as_slice(), &call.abi_encode()].concat().into()
    }
}

/// An account's session leaves and the merkle tree over them (what the SDK keeps in its
/// session storage). Its JSON is `{account, leaves}` (leaves in the SDK's shape); the tree is
/// rebuilt when it is read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredV2Sessions", into = "StoredV2Sessions")]
pub struct V2Sessions {
    /// The account.
    pub account: Address,
    /// The leaves, in the order the tree was built from.
    pub leaves: Vec<SessionLeaf>,
    tree: MerkleTree,
}

impl V2Sessions {
    /// The sessions `leaves` of `account`.
    pub fn new(account: Address, leaves: Vec<SessionLeaf>) -> Self {
        let tree = MerkleTree::from_leaves(&leaves);
        Self { account, leaves, tree }
    }

    /// The merkle root the account's Session Key Manager must hold.
    pub fn root(&self) -> B256 {
        self.tree.root()
    }

    /// The tree.
    pub const fn tree(&self) -> &MerkleTree {
        &self.tree
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredV2Sessions {
    account: Address,
    leaves: Vec<SessionLeaf>,
}

impl From<StoredV2Sessions> for V2Sessions {
    fn from(stored: StoredV2Sessions) -> Self {
        Self::new(stored.account, stored.leaves)
    }
}

impl From<V2Sessions> for StoredV2Sessions {
    fn from(sessions: V2Sessions) -> Self {
        Self { account: sessions.account, leaves: sessions.leaves }
    }
}

/// A v2 op that was included and succeeded.
#[derive(Clone, Debug)]
pub struct V2Sent {
    /// The user-op hash.
    pub user_op_hash: B256,
    /// The bundler's receipt.
    pub receipt: UserOperationReceipt,
    /// The op as sent.
    pub user_op: UserOperationV06,
    /// `actualGasUsed` of the pre-flight (`None` when it was switched off).
    pub preflight_gas: Option<U256>,
}

/// How the op is signed.
enum V2Signer<'a> {
    Owner(&'a PrivateKeySigner),
    Single { key: &'a SessionKey, sessions: &'a V2Sessions, leaf: &'a SessionLeaf },
    Batch { key: &'a SessionKey, sessions: &'a V2Sessions, leaves: Vec<SessionLeaf> },
}

/// The client of Biconomy session keys v2 on one chain.
pub struct V2Client<B> {
    pipeline: Pipeline<B>,
    v2: LegacyV2Deployments,
}

impl<B> std::fmt::Debug for V2Client<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V2Client")
            .field("chain_id", &self.pipeline.chain_id)
            .field("v2", &self.v2)
            .field("options", &self.pipeline.options)
            .finish_non_exhaustive()
    }
}

impl V2Client<DevnetBundler> {
    /// A client on the embedded devnet: deploys the v2 stack on it (EntryPoint v0.6 at its
    /// canonical address) and submits through the in-process bundler.
    pub fn devnet(mut devnet: Devnet) -> Result<Self, V2ClientError> {
        let v2 = devnet.deploy_legacy_v2()?;
        let chain_id = devnet.chain_id();
        let bundler = DevnetBundler::new(devnet);
        Ok(Self::new(bundler.clone(), Chain::Devnet(bundler), v2, chain_id))
    }

    /// Sets a native balance on the devnet.
    pub fn set_balance(&self, who: Address, wei: U256) -> Result<(), V2ClientError> {
        self.pipeline.bundler.with_devnet(|d| d.set_balance(who, wei))?;
        Ok(())
    }
}

impl V2Client<BundlerClient> {
    /// A client of a node (`rpc_url`) and a bundler (`bundler_url`) on a chain where the v2
    /// stack is at `v2`; checks the bundler serves that chain and EntryPoint v0.6.
    pub async fn connect(
        rpc_url: &str,
        bundler_url: &str,
        v2: LegacyV2Deployments,
    ) -> Result<Self, V2ClientError> {
        let pipeline =
            Pipeline::connect(rpc_url, bundler_url, Deployments::default(), v2.entry_point, CLIENT)
                .await?;
        Ok(Self { pipeline, v2 })
    }
}

impl<B: BundlerV06> V2Client<B> {
    /// A client of any v0.6 bundler over `chain`.
    pub fn new(bundler: B, chain: Chain, v2: LegacyV2Deployments, chain_id: u64) -> Self {
        Self { pipeline: Pipeline::new(bundler, chain, chain_id, CLIENT), v2 }
    }

    /// With other options (a sponsor is refused: v0.6 paymasters are not supported).
    pub fn with_options(mut self, options: Options) -> Self {
        self.pipeline.options = options;
        self
    }

    /// Where the v2 stack is.
    pub const fn deployments(&self) -> &LegacyV2Deployments {
        &self.v2
    }

    /// The chain id.
    pub const fn chain_id(&self) -> u64 {
        self.pipeline.chain_id
    }

    /// The bundler.
    pub const fn bundler(&self) -> &B {
        &self.pipeline.bundler
    }

    fn progress(&self, step: Step) {
        self.pipeline.progress(step);
    }

    /// Runs `f` on the chain's current state.
    pub async fn with_state<R, F>(&self, f: F) -> Result<R, V2ClientError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Devnet) -> Result<R, ClientError> + Send + 'static,
    {
        Ok(self.pipeline.with_state(Deployments::default(), f).await?)
    }

    /// `account` with its address filled in from the factory (counterfactual until deployed).
    pub async fn account(&self, account: V2Account) -> Result<V2Account, V2ClientError> {
        let (factory, call) = (
            self.v2.account_factory,
            ISmartAccountFactoryV2::getAddressForCounterFactualAccountCall {
                moduleSetupContract: self.v2.ecdsa_module,
                moduleSetupData: account.setup_data(),
                index: U256::from(account.index),
            },
        );
        let address = self.with_state(move |d| Ok(d.call_sol(factory, &call)?)).await?;
        Ok(V2Account { address, ..account })
    }

    /// The merkle root the Session Key Manager holds for `account`.
    pub async fn merkle_root(&self, account: Address) -> Result<B256, V2ClientError> {
        let skm = self.v2.session_key_manager;
        self.with_state(move |d| {
            if !d.has_code(account) {
                return Ok(B256::ZERO);
            }
            let call = ISessionKeyManagerV1::getSessionKeysCall { smartAccount: account };
            Ok(d.call_sol(skm, &call)?)
        })
        .await
    }

    /// The owner's op (what the SDK's `createBatchSession` sends): deploys the account if it
    /// has no code yet, enables the Session Key Manager and the router unless they are, sets
    /// the merkle root of `leaves`, then runs `calls` (e.g. funding the account with tokens).
    pub async fn create_sessions(
        &self,
        owner: &PrivateKeySigner,
        account: &V2Account,
        leaves: Vec<SessionLeaf>,
        calls: &[Call],
    ) -> Result<(V2Sessions, V2Sent), V2ClientError> {
        if owner.address() != account.owner {
            return Err(V2ClientError::Unsupported(format!(
                "{} does not own the account of {}",
                owner.address(),
                account.owner
            )));
        }
        let address = match account.address {
            Address::ZERO => self.account(*account).await?.address,
            known => known,
        };
        let sessions = V2Sessions::new(address, leaves);
        let v2 = self.v2;
        let (deployed, enabled) = self
            .with_state(move |d| {
                if !d.has_code(address) {
                    return Ok((false, [false, false]));
                }
                let mut enabled = [false; 2];
                for (slot, module) in
                    enabled.iter_mut().zip([v2.session_key_manager, v2.batched_session_router])
                {
                    *slot =
                        d.call_sol(address, &ISmartAccountV2::isModuleEnabledCall { module })?;
                }
                Ok((true, enabled))
            })
            .await?;
        let mut batch = Vec::new();
        for (module, on) in
            [v2.session_key_manager, v2.batched_session_router].into_iter().zip(enabled)
        {
            if !on {
                let call = ISmartAccountV2::enableModuleCall { module };
                batch.push(Call::new(address, call.abi_encode()));
            }
        }
        let root = ISessionKeyManagerV1::setMerkleRootCall { _merkleRoot: sessions.root() };
        batch.push(Call::new(v2.session_key_manager, root.abi_encode()));
        batch.extend_from_slice(calls);
        let mut op = self.unsigned_op(address, execute_batch_v2_calldata(&batch)).await?;
        if !deployed {
            op.initCode = account.init_code(&v2);
        }
        let sent = self.submit(op, V2Signer::Owner(owner)).await?;
        Ok((sessions, sent))
    }

    /// Revokes one session leaf: the owner's op sets the merkle root of the other leaves (zero
    /// when none is left, which no proof verifies against), so the leaf's proof no longer
    /// verifies. Returns the sessions without it (keep them in place of `sessions`).
    pub async fn revoke_leaf(
        &self,
        owner: &PrivateKeySigner,
        sessions: &V2Sessions,
        leaf: &SessionLeaf,
    ) -> Result<(V2Sessions, V2Sent), V2ClientError> {
        let account = sessions.account;
        if !sessions.leaves.contains(leaf) {
            return Err(V2ClientError::LeafNotInSessions {
                account,
                leaves: sessions.leaves.len(),
            });
        }
        let kept: Vec<SessionLeaf> =
            sessions.leaves.iter().filter(|l| *l != leaf).cloned().collect();
        let left = V2Sessions::new(account, kept);
        let root = ISessionKeyManagerV1::setMerkleRootCall { _merkleRoot: left.root() };
        let call = Call::new(self.v2.session_key_manager, root.abi_encode());
        let op = self.unsigned_op(account, execute_batch_v2_calldata(&[call])).await?;
        let sent = self.submit(op, V2Signer::Owner(owner)).await?;
        Ok((left, sent))
    }

    /// Uses one session for one call (the SDK's `getSingleSessionTxParams`).
    pub async fn use_single(
        &self,
        key: &SessionKey,
        sessions: &V2Sessions,
        leaf: &SessionLeaf,
        call: Call,
    ) -> Result<V2Sent, V2ClientError> {
        let Call { to, value, data } = call;
        let op = self.unsigned_op(sessions.account, execute_v2_calldata(to, value, data)).await?;
        self.submit(op, V2Signer::Single { key, sessions, leaf }).await
    }

    /// Uses several sessions in one op through the router, one leaf per call in call order
    /// (the SDK's `getBatchSessionTxParams`).
    pub async fn use_batch(
        &self,
        key: &SessionKey,
        sessions: &V2Sessions,
        calls: &[(SessionLeaf, Call)],
    ) -> Result<V2Sent, V2ClientError> {
        if calls.is_empty() {
            return Err(V2ClientError::Unsupported("a batch needs at least one call".into()));
        }
        let executions: Vec<Call> = calls.iter().map(|(_, call)| call.clone()).collect();
        let leaves = calls.iter().map(|(leaf, _)| leaf.clone()).collect();
        let op = self.unsigned_op(sessions.account, execute_batch_v2_calldata(&executions)).await?;
        self.submit(op, V2Signer::Batch { key, sessions, leaves }).await
    }

    /// An op of `sender` with its nonce (key 0), placeholder gas and the chain's prices.
    async fn unsigned_op(
        &self,
        sender: Address,
        call_data: Bytes,
    ) -> Result<UserOperationV06, V2ClientError> {
        if self.pipeline.options.sponsor.is_some() {
            return Err(V2ClientError::Unsupported(
                "sponsored v0.6 ops are not supported: unset the sponsor".into(),
            ));
        }
        self.progress(Step::Reading);
        let (nonce, base_fee) = self
            .with_state(move |d| Ok((d.entry_point_v06_nonce(sender, U256::ZERO)?, d.base_fee())))
            .await?;
        let (max_fee, tip) = self.pipeline.prices(base_fee);
        Ok(UserOperationV06 {
            sender,
            nonce,
            callData: call_data,
            callGasLimit: U256::from(PLACEHOLDER_CALL_GAS),
            verificationGasLimit: U256::from(PLACEHOLDER_VERIFICATION_GAS),
            preVerificationGas: U256::from(PLACEHOLDER_PRE_VERIFICATION_GAS),
            maxFeePerGas: U256::from(max_fee),
            maxPriorityFeePerGas: U256::from(tip),
            ..Default::default()
        })
    }

    fn sign(
        &self,
        op: &mut UserOperationV06,
        signer: &V2Signer<'_>,
    ) -> Result<B256, V2ClientError> {
        let hash = op.hash(self.v2.entry_point, self.pipeline.chain_id);
        let v2 = &self.v2;
        op.signature = match signer {
            V2Signer::Owner(owner) => {
                let sig = owner.sign_hash_sync(&personal_hash(hash))?.as_bytes();
                account_signature(&sig, v2.ecdsa_module)
            }
            V2Signer::Single { key, sessions, leaf } => {
                let sig = key.sign_hash_personal(hash)?.as_bytes();
                single_session_signature(leaf, sessions.tree(), &sig, v2.session_key_manager)?
            }
            V2Signer::Batch { key, sessions, leaves } => {
                let digest = router_digest(hash, v2.session_key_manager, ROUTER_DIGEST);
                let sig = key.sign_hash_personal(digest)?.as_bytes();
                let entries: Vec<BatchEntry> = leaves
                    .iter()
                    .map(|leaf| BatchEntry { leaf: leaf.clone(), call_specific_data: Bytes::new() })
                    .collect();
                batch_session_signature(
                    &entries,
                    sessions.tree(),
                    v2.session_key_manager,
                    v2.batched_session_router,
                    &sig,
                )?
            }
        };
        Ok(hash)
    }

    /// The local evaluator's verdict on a signed session op, against the account's modules
    /// and merkle root as the chain holds them.
    async fn local_verdict(&self, op: &UserOperationV06, hash: B256) -> Result<(), V2ClientError> {
        self.progress(Step::LocalVerdict);
        let (v2, account) = (self.v2, op.sender);
        let (state, now) = self
            .with_state(move |d| {
                let mut enabled_modules = Vec::new();
                let root = if d.has_code(account) {
                    for module in
                        [v2.ecdsa_module, v2.session_key_manager, v2.batched_session_router]
                    {
                        if d.call_sol(account, &ISmartAccountV2::isModuleEnabledCall { module })? {
                            enabled_modules.push(module);
                        }
                    }
                    let call = ISessionKeyManagerV1::getSessionKeysCall { smartAccount: account };
                    d.call_sol(v2.session_key_manager, &call)?
                } else {
                    B256::ZERO
                };
                Ok((
                    AccountV2 { address: account, enabled_modules, merkle_root: root },
                    d.timestamp(),
                ))
            })
            .await?;
        let deployment = LegacyV2Deployment::new(&v2, ROUTER_DIGEST);
        let verdict = validate_user_op(&deployment, &state, op, hash)?;
        if let Err(reason) = verdict.entry_point_result(now) {
            let detail = match &verdict {
                OpVerdict::Reverted(violation) => format!("{reason} — {violation}"),
                OpVerdict::Validated(_) => reason.to_string(),
            };
            return Err(V2ClientError::Refused(detail));
        }
        Ok(())
    }

    /// A bundler estimates validation with a signature that no longer matches the limits it
    /// tries, and a v2 module can fail such a signature on a shorter path than it accepts the
    /// real one (the router stops at the first wrong key). When the real signature needs more
    /// than the estimate, this finds the least of the estimate plus k tenths of it (k ≤ 20)
    /// with which the signed op runs, each candidate signed here and run on one state.
    async fn fit_verification_gas(
        &self,
        op: &UserOperationV06,
        signer: &V2Signer<'_>,
    ) -> Result<(UserOperationV06, U256), V2ClientError> {
        let estimate = op.verificationGasLimit;
        let mut candidates = Vec::new();
        for k in 1..=FIT_STEPS {
            let mut candidate = op.clone();
            candidate.verificationGasLimit = estimate + estimate * U256::from(k) / U256::from(10);
            self.sign(&mut candidate, signer)?;
            candidates.push(candidate);
        }
        let found = self
            .with_state(move |d| {
                let mut last = String::new();
                for candidate in candidates {
                    match included_gas(&d.clone().handle_ops_v06(vec![candidate.clone()])?) {
                        Ok(gas) => return Ok(Ok((candidate, gas))),
                        Err(why) => last = why,
                    }
                }
                Ok(Err(last))
            })
            .await?;
        let (fitted, gas) = found.map_err(V2ClientError::Preflight)?;
        tracing::debug!(
            estimate = %estimate,
            fitted = %fitted.verificationGasLimit,
            "verification gas raised for the real signature"
        );
        Ok((fitted, gas))
    }

    /// Local verdict (session ops), gas from the bundler, signature, pre-flight, send, receipt.
    async fn submit(
        &self,
        mut op: UserOperationV06,
        signer: V2Signer<'_>,
    ) -> Result<V2Sent, V2ClientError> {
        let checks = self.pipeline.options.checks;
        let entry_point = self.v2.entry_point;
        let hash = self.sign(&mut op, &signer)?;
        if checks.local_verdict && !matches!(signer, V2Signer::Owner(_)) {
            self.local_verdict(&op, hash).await?;
        }
        if checks.estimate_gas {
            // Signed with the real key: a v2 module's simulation checks the signature.
            self.pipeline.estimate(&mut op, entry_point).await?;
            self.sign(&mut op, &signer)?;
        }
        let mut preflight_gas = None;
        if checks.preflight {
            self.progress(Step::Preflight);
            let to_run = op.clone();
            let outcome =
                self.with_state(move |d| Ok(d.clone().handle_ops_v06(vec![to_run])?)).await?;
            preflight_gas = Some(match included_gas(&outcome) {
                Ok(gas) => gas,
                Err(_) if out_of_validation_gas(&outcome) => {
                    let (fitted, gas) = self.fit_verification_gas(&op, &signer).await?;
                    op = fitted;
                    gas
                }
                Err(why) => return Err(V2ClientError::Preflight(why)),
            });
        }
        let (user_op_hash, receipt) = match self.pipeline.send(&op, entry_point).await {
            Ok(sent) => sent,
            Err(ClientError::Reverted { user_op_hash, reason, .. }) => {
                return Err(V2ClientError::Reverted { user_op_hash, reason });
            }
            Err(e) => return Err(e.into()),
        };
        Ok(V2Sent { user_op_hash, receipt, user_op: op, preflight_gas })
    }
}

/// Steps of [`V2Client::fit_verification_gas`]: tenths of the estimate added, up to 3×.
const FIT_STEPS: u64 = 20;

/// Whether validation ran out of gas (rather than failing on its merits).
fn out_of_validation_gas(outcome: &BundleOutcome) -> bool {
    matches!(outcome, BundleOutcome::Rejected(r)
        if matches!(r.code.as_deref(), Some("AA40" | "AA13" | "AA23")))
}

/// `actualGasUsed` of an op run alone, or why it would fail.
fn included_gas(outcome: &BundleOutcome) -> Result<U256, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_round_trip_as_json_with_their_tree() {
        let leaf = |byte: u8| {
            SessionLeaf::new(0, 7, Address::repeat_byte(byte), Bytes::from(vec![byte; 40]))
        };
        let sessions = V2Sessions::new(Address::repeat_byte(0xac), vec![leaf(1), leaf(2), leaf(3)]);
        let json = serde_json::to_value(&sessions).unwrap();
        assert_eq!(json["account"], serde_json::json!(Address::repeat_byte(0xac)));
        assert_eq!(json["leaves"].as_array().unwrap().len(), 3);
        assert!(json["leaves"][0].get("validAfter").is_some(), "{json}");
        let back: V2Sessions = serde_json::from_value(json).unwrap();
        assert_eq!(back, sessions);
        assert_ne!(back.root(), B256::ZERO);
        assert_eq!(back.root(), MerkleTree::from_leaves(&sessions.leaves).root());
    }
}
