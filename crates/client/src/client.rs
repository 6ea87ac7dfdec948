//! [`SessionClient`]: grant sessions with an owner key, use them with a session key, and read
//! what they still allow — each op judged locally, estimated, signed, pre-flighted in revm and
//! only then sent.

mod message;

use std::sync::Arc;

pub use message::AccountSignature;

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolValue};
use mandate_abi::alloy_eip7702::{Authorization, SignedAuthorization};
use mandate_abi::{
    Call, Deployments, EnableSession, EnableTarget, MODULE_TYPE_VALIDATOR, PackedUserOperation,
    PermissionId, Session, SessionValidatorKind, SmartSessionMode, UserOperation,
    account::install_validator,
    encode_enable_session, encode_use, execute_calls, prepare_enable,
    sol::{IERC7579Account, ISmartSession},
};
use mandate_bundler::{Bundler, BundlerClient, UserOperationReceipt, WaitOptions};
use mandate_policy::{Deployment, Evaluator, Verdict};
use mandate_sim::{Devnet, ExecutionOutcome, Preflight};
use serde::Serialize;

use crate::{
    ClientError, EnableAs, SessionChange, SessionRecord, SessionSigner, SignScheme,
    account::{Account, AccountFamily, MandateAccount},
    chain::Chain,
    devnet_bundler::DevnetBundler,
    lanes::{LaneAllocator, MemoryLanes},
    pending::{MemoryPending, PendingOp, PendingRegistry},
    pipeline::{
        PLACEHOLDER_CALL_GAS, PLACEHOLDER_PRE_VERIFICATION_GAS, PLACEHOLDER_VERIFICATION_GAS,
        Pipeline,
    },
    policy_sim::DevnetStorage,
    sponsor::Sponsor,
};

/// ENABLE mode byte that prefixes SmartSession's install data.
const INSTALL_MODE_ENABLE: u8 = 1;
/// How many call gas limits (each twice the last) an uninstall tries on a copy of the state.
const UNINSTALL_GAS_TRIES: u32 = 5;

/// The pre-checks a client makes before it sends an op. Each is on by default and can only be
/// switched off here, explicitly; an op sent without one says so in its [`Sent::skipped`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Checks {
    /// Ask the local evaluator first, and refuse what SmartSession would refuse.
    pub local_verdict: bool,
    /// Ask the bundler for gas limits (else the op carries generous placeholders).
    pub estimate_gas: bool,
    /// Run the signed op through the EntryPoint in revm, and send only what passes.
    pub preflight: bool,
}

impl Default for Checks {
    fn default() -> Self {
        Self { local_verdict: true, estimate_gas: true, preflight: true }
    }
}

impl Checks {
    fn skipped(self) -> Vec<&'static str> {
        let mut skipped = Vec::new();
        for (on, name) in [
            (self.local_verdict, "local verdict"),
            (self.estimate_gas, "gas estimate"),
            (self.preflight, "pre-flight"),
        ] {
            if !on {
                skipped.push(name);
            }
        }
        skipped
    }
}

/// How ops are priced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fees {
    /// `maxFeePerGas = 2 × base fee + tip`, `maxPriorityFeePerGas = tip`, from the chain's
    /// latest block.
    FromChain {
        /// The priority fee in wei.
        tip: u128,
    },
    /// Fixed prices.
    Fixed {
        /// `maxFeePerGas`.
        max_fee: u128,
        /// `maxPriorityFeePerGas`.
        max_priority_fee: u128,
    },
}

impl Default for Fees {
    fn default() -> Self {
        Self::FromChain { tip: 1_000_000_000 }
    }
}

/// A step of sending an op, reported as it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Step {
    /// Reading the chain (account, modules, sessions, nonce).
    Reading,
    /// Asking the local evaluator.
    LocalVerdict,
    /// Asking the bundler for gas limits.
    Estimating,
    /// Running the signed op in revm.
    Preflight,
    /// Sending to the bundler.
    Sending,
    /// Waiting for the receipt.
    Waiting,
}

/// Receives [`Step`]s (e.g. to show progress).
pub type Progress = Arc<dyn Fn(Step) + Send + Sync>;

/// How a client works.
#[derive(Clone)]
pub struct Options {
    /// Pre-checks.
    pub checks: Checks,
    /// Prices.
    pub fees: Fees,
    /// Who pays, when not the account.
    pub sponsor: Option<Sponsor>,
    /// How long to wait for receipts.
    pub wait: WaitOptions,
    /// Progress callback.
    pub progress: Option<Progress>,
    /// Where session ops lease their nonce lanes ([`crate::lanes`]): by default a
    /// [`MemoryLanes`] of this client's own (clones of the options share it). Clients of one
    /// account in several processes share a [`crate::FileLanes`] directory.
    pub lanes: Arc<dyn LaneAllocator>,
    /// The [`Risk`](mandate_abi::explain::Risk)s a grant may carry: a session with any other
    /// ([`crate::lint::lint`]) is refused before the owner signs. Empty by default.
    pub allow: std::collections::BTreeSet<mandate_abi::explain::Risk>,
    /// The ops sent and not settled ([`crate::pending`]): a new op of an account is judged
    /// after them. By default a [`MemoryPending`] of this client's own (clones of the options
    /// share it); share one between the clients of a process, or an
    /// [`SqlPending`](crate::store::SqlPending) between processes and machines.
    pub pending: Arc<dyn PendingRegistry>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            checks: Checks::default(),
            fees: Fees::default(),
            sponsor: None,
            wait: WaitOptions::default(),
            progress: None,
            lanes: Arc::new(MemoryLanes::new()),
            allow: std::collections::BTreeSet::new(),
            pending: Arc::new(MemoryPending::default()),
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("checks", &self.checks)
            .field("fees", &self.fees)
            .field("sponsor", &self.sponsor)
            .field("wait", &self.wait)
            .field("lanes", &self.lanes)
            .field("allow", &self.allow)
            .finish_non_exhaustive()
    }
}

/// An op that was sent and included, and what was checked before.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sent {
    /// The op's hash.
    pub user_op_hash: B256,
    /// Its receipt.
    pub receipt: UserOperationReceipt,
    /// The op as sent.
    pub user_op: PackedUserOperation,
    /// Its nonce key (the nonce's upper 192 bits).
    pub nonce_key: U256,
    /// The nonce lane a session op leased for it ([`crate::lanes`]; lane 0 when it was the
    /// account's only op in flight); `None` for an owner's op, on the family's owner key.
    pub lane: Option<u32>,
    /// Gas the pre-flight measured for validation and execution, when it ran.
    pub preflight_gas: Option<u64>,
    /// Pre-checks that were switched off.
    pub skipped: Vec<&'static str>,
    /// The EIP-7702 authorization the op carried (the first op of a delegated EOA only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eip7702_auth: Option<SignedAuthorization>,
}

/// What a grant did.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Granted {
    /// The account.
    pub account: Address,
    /// The sessions' permission ids, in order.
    pub permission_ids: Vec<PermissionId>,
    /// Whether the op deployed the account.
    pub deployed: bool,
    /// Whether the op installed SmartSession.
    pub installed: bool,
    /// The op, unless every session was enabled already and there was nothing else to do.
    pub sent: Option<Sent>,
}

/// What a revocation did ([`SessionClient::revoke`]).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Revoked {
    /// The account.
    pub account: Address,
    /// The permission revoked.
    pub permission_id: PermissionId,
    /// Whether the op removed the session (`removeSession`: it was enabled).
    pub removed: bool,
    /// Whether the op bumped the enable nonce (`revokeEnableSignature`: the record held an
    /// owner signature that would have enabled it on first use).
    pub enable_revoked: bool,
    /// The owner's op.
    pub sent: Sent,
}

/// What a rotation did ([`SessionClient::rotate`]).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rotated {
    /// The new session's record (its key the new one, enabled by the op, state granted).
    pub record: SessionRecord,
    /// The old session, revoked by the same op.
    pub revoked: PermissionId,
    /// The owner's one op: `enableSessions` of the new session and the old one's removal.
    pub sent: Sent,
}

/// What a change of a session did ([`SessionClient::change_session`]).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Changed {
    /// The record with its session as the chain now has it (store it in place of the old).
    pub record: SessionRecord,
    /// The owner's one op running every change.
    pub sent: Sent,
}

/// What uninstalling SmartSession did ([`SessionClient::uninstall_smart_session`]).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Uninstalled {
    /// The account.
    pub account: Address,
    /// The `uninstallModule` data the family gave (e.g. `abi.encode(prev, "")`).
    pub deinit_data: Bytes,
    /// The owner's op.
    pub sent: Sent,
}

/// A grant's op before the owner signs it ([`SessionClient::prepare_grant`]).
#[derive(Clone, Debug)]
pub struct PreparedGrant {
    /// The account.
    pub account: Address,
    /// The sessions' permission ids, in order.
    pub permission_ids: Vec<PermissionId>,
    /// Whether the op deploys the account.
    pub deploys: bool,
    /// Whether the op installs SmartSession.
    pub installs: bool,
    /// The calls the op makes (SmartSession's install or `enableSessions`, then the caller's).
    pub calls: Vec<Call>,
    /// The op, unless there is nothing to do.
    pub op: Option<OwnerOp>,
}

/// An owner's op, ready for the owner's signature.
#[derive(Clone, Debug)]
pub struct OwnerOp {
    /// The op (priced, estimated, sponsored), its signature a stub.
    pub user_op: UserOperation,
    /// Its userOpHash.
    pub user_op_hash: B256,
    /// What the owner signs, EIP-191 (`personal_sign`), through the family's owner validator.
    pub message: B256,
}

/// How an op was signed by the session key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum UseMode {
    /// The session was enabled already.
    Use,
    /// The op enabled it (the owner's signature travelled in the op).
    Enable,
    /// As [`Self::Enable`], with the owner's signature for UNSAFE_ENABLE (registry
    /// attestations ignored), as TypeScript dapps grant.
    UnsafeEnable,
}

/// What a use did.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Used {
    /// USE or ENABLE.
    pub mode: UseMode,
    /// The op.
    pub sent: Sent,
}

enum OpSigner<'a> {
    /// The owner, through the account family; `None`: the owner signs elsewhere (the op carries
    /// a stub signature of the right shape until then).
    Owner(Option<&'a PrivateKeySigner>),
    Session {
        scheme: SignScheme<'a>,
        permission_id: PermissionId,
        /// ENABLE or UNSAFE_ENABLE, when `enable` is some.
        enable_mode: SmartSessionMode,
        /// The enable data, its owner signature formatted for the account.
        enable: Option<Box<EnableSession>>,
        /// The session.
        session: &'a Session,
    },
}

/// The session client of one chain: a state source (embedded devnet or node) and a bundler.
///
/// Grant a session with the owner's key, then use it with the session key:
///
/// ```
/// use alloy_primitives::U256;
/// use alloy_signer_local::PrivateKeySigner;
/// use alloy_sol_types::SolCall;
/// use mandate_abi::{Call, Policy, SessionBuilder, custom_action, sol::IERC721};
/// use mandate_client::{Account, SessionClient, SessionKey, SessionRecord, UseMode};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let devnet = mandate_sim::Devnet::new()?;
/// let d = *devnet.deployments();
/// let client = SessionClient::devnet(devnet);
/// let (owner, key) = (PrivateKeySigner::random(), SessionKey::random());
/// let spec = Account::new(owner.address());
/// let account = client.account_address(&spec).await?;
/// client.set_balance(account, U256::from(10u128.pow(18)))?;
///
/// // Up to ten safeMints on the test NFT (a session without a bound is refused before the
/// // owner signs unless `Options::allow` names the risk).
/// let limit = [Policy::UsageLimit(10)];
/// let mint = custom_action(d.test_erc721, "safeMint(address)", &limit, &d.chain.policies)?;
/// let session = SessionBuilder::new(d.ecdsa_session_validator().ok_or("no ECDSA validator")?, key.address().to_vec())
///     .action(mint)
///     .build()?;
/// let granted = client.grant(&owner, &spec, std::slice::from_ref(&session), &[]).await?;
/// assert!(granted.deployed && granted.installed);
///
/// let record =
///     SessionRecord::new(client.chain_id(), account, key.address(), session, d.chain.smart_session);
/// let call = Call::new(d.test_erc721, IERC721::safeMintCall { to: account }.abi_encode());
/// let used = client.use_session(&key, &record, &[call]).await?;
/// assert_eq!(used.mode, UseMode::Use);
/// assert!(used.sent.receipt.success);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SessionClient<B> {
    pipeline: Pipeline<B>,
    deployments: Deployments,
    family: Option<Arc<dyn AccountFamily>>,
}

/// The client's name in its debug log lines.
const CLIENT: &str = "session client";

impl<B> std::fmt::Debug for SessionClient<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionClient")
            .field("chain_id", &self.pipeline.chain_id)
            .field("entry_point", &self.deployments.entry_point)
            .field("smart_session", &self.deployments.smart_session)
            .field("options", &self.pipeline.options)
            .finish_non_exhaustive()
    }
}

impl SessionClient<DevnetBundler> {
    /// A client on the embedded devnet, with its in-process bundler.
    pub fn devnet(devnet: Devnet) -> Self {
        let (deployments, chain_id) = (*devnet.deployments(), devnet.chain_id());
        let bundler = DevnetBundler::new(devnet);
        Self::new(bundler.clone(), Chain::Devnet(bundler), deployments.chain, chain_id)
            .with_family(Arc::new(MandateAccount::devnet(&deployments)))
    }
}

impl SessionClient<DevnetBundler> {
    /// Sets an account's native balance on the devnet (to pay for its ops).
    pub fn set_balance(&self, who: Address, wei: U256) -> Result<(), ClientError> {
        Ok(self.pipeline.bundler.with_devnet(|d| d.set_balance(who, wei))?)
    }
}

impl SessionClient<BundlerClient> {
    /// A client of a node (`rpc_url`) and a bundler (`bundler_url`) on a chain where Mandate's
    /// contracts are at `deployments`; checks the bundler serves that chain and EntryPoint.
    pub async fn connect(
        rpc_url: &str,
        bundler_url: &str,
        deployments: Deployments,
    ) -> Result<Self, ClientError> {
        let pipeline =
            Pipeline::connect(rpc_url, bundler_url, deployments, deployments.entry_point, CLIENT)
                .await?;
        Ok(Self { pipeline, deployments, family: None })
    }
}

impl<B: Bundler> SessionClient<B> {
    /// A client of any bundler over `chain`.
    pub fn new(bundler: B, chain: Chain, deployments: Deployments, chain_id: u64) -> Self {
        Self {
            pipeline: Pipeline::new(bundler, chain, chain_id, CLIENT),
            deployments,
            family: None,
        }
    }

    /// With the family of the accounts the client drives ([`MandateAccount`] on
    /// [`Self::devnet`]; none on the others until set).
    pub fn with_family(mut self, family: Arc<dyn AccountFamily>) -> Self {
        self.family = Some(family);
        self
    }

    /// The family of the accounts the client drives.
    pub fn family(&self) -> Result<&Arc<dyn AccountFamily>, ClientError> {
        self.family.as_ref().ok_or(ClientError::NoAccountFamily)
    }

    /// With other options.
    pub fn with_options(mut self, options: Options) -> Self {
        self.pipeline.options = options;
        self
    }

    /// With `lanes` leasing the nonce lanes of session ops ([`Options::lanes`]): share one
    /// between the clients of an account, a [`crate::FileLanes`] between processes.
    pub fn with_lanes(mut self, lanes: Arc<dyn LaneAllocator>) -> Self {
        self.pipeline.options.lanes = lanes;
        self
    }

    /// The options.
    pub const fn options(&self) -> &Options {
        &self.pipeline.options
    }

    /// The options, to change.
    pub const fn options_mut(&mut self) -> &mut Options {
        &mut self.pipeline.options
    }

    /// What a grant of `sessions` would be refused or warned for ([`crate::lint::lint`]);
    /// [`Self::grant`], [`Self::prepare_grant`] and [`Self::prepare_enable`] refuse the risks
    /// not in [`Options::allow`] before anything is signed.
    pub fn lint(&self, sessions: &[Session]) -> mandate_abi::explain::Findings {
        crate::lint::lint(sessions, &self.deployments)
    }

    fn refuse_risky(&self, sessions: &[Session]) -> Result<(), ClientError> {
        crate::lint::refuse_unallowed(&self.lint(sessions), &self.pipeline.options.allow)
    }

    /// Where Mandate's contracts are.
    pub const fn deployments(&self) -> &Deployments {
        &self.deployments
    }

    /// The chain id.
    pub const fn chain_id(&self) -> u64 {
        self.pipeline.chain_id
    }

    /// The bundler.
    pub const fn bundler(&self) -> &B {
        &self.pipeline.bundler
    }

    /// The chain the client reads.
    pub const fn chain(&self) -> &Chain {
        &self.pipeline.chain
    }

    fn progress(&self, step: Step) {
        self.pipeline.progress(step);
    }

    /// Runs `f` on the chain's current state.
    pub async fn with_state<R, F>(&self, f: F) -> Result<R, ClientError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Devnet) -> Result<R, ClientError> + Send + 'static,
    {
        self.pipeline.with_state(self.deployments, f).await
    }

    /// The address of `account` (counterfactual until deployed).
    pub async fn account_address(&self, account: &Account) -> Result<Address, ClientError> {
        let (family, account) = (Arc::clone(self.family()?), *account);
        self.with_state(move |d| address_of(d, family.as_ref(), account)).await
    }

    /// Grants `sessions` with one owner op: deploys the account if it has no code, installs
    /// SmartSession with the sessions if it is not installed, or else enables them with
    /// `enableSessions`; `calls` run in the same op. Sessions already enabled are left as they
    /// are; with nothing left to do, no op is sent. [`Self::prepare_grant`] and
    /// [`Self::submit_grant`] are the same for an owner who signs elsewhere.
    pub async fn grant(
        &self,
        owner: &PrivateKeySigner,
        account: &Account,
        sessions: &[Session],
        calls: &[Call],
    ) -> Result<Granted, ClientError> {
        // An EOA to be delegated (EIP-7702): the owner signs its authorization first; the
        // first op carries it.
        let authorization = match self.eip7702_authorization(account).await? {
            Some(unsigned) => {
                let signature = owner.sign_hash_sync(&unsigned.signature_hash())?;
                Some(unsigned.into_signed(signature))
            }
            None => None,
        };
        let prepared =
            self.prepare_grant_with_authorization(account, sessions, calls, authorization).await?;
        let Some(op) = &prepared.op else {
            return self.submit_grant(prepared, &[]).await;
        };
        let signature = owner.sign_message_sync(op.message.as_slice())?.as_bytes();
        self.submit_grant(prepared, &signature).await
    }

    /// The EIP-7702 authorization the owner signs before the first op of `account`, on a family
    /// of delegated EOAs ([`AccountFamily::eip7702_delegate`]) whose EOA is not delegated to
    /// its implementation yet: this chain's id, the implementation, the EOA's current nonce.
    /// `None` otherwise (the op needs none, and carries none).
    pub async fn eip7702_authorization(
        &self,
        account: &Account,
    ) -> Result<Option<Authorization>, ClientError> {
        let family = Arc::clone(self.family()?);
        let Some(delegate) = family.eip7702_delegate() else { return Ok(None) };
        let (account, chain_id) = (*account, self.pipeline.chain_id);
        self.with_state(move |d| {
            let address = address_of(d, family.as_ref(), account)?;
            if d.delegate_of(address) == Some(delegate) {
                return Ok(None);
            }
            let nonce = d.account_nonce(address);
            Ok(Some(Authorization { chain_id: U256::from(chain_id), address: delegate, nonce }))
        })
        .await
    }

    /// A grant's op for an owner who signs elsewhere: the account's state, the calls, and the
    /// op (priced, estimated, sponsored) with the message the owner signs (EIP-191) through the
    /// family's owner validator. Hand the signature to [`Self::submit_grant`]. For an EOA still
    /// to be delegated (EIP-7702), [`Self::prepare_grant_with_authorization`].
    pub async fn prepare_grant(
        &self,
        account: &Account,
        sessions: &[Session],
        calls: &[Call],
    ) -> Result<PreparedGrant, ClientError> {
        self.prepare_grant_with_authorization(account, sessions, calls, None).await
    }

    /// [`Self::prepare_grant`] with the owner's signed EIP-7702 authorization
    /// ([`Self::eip7702_authorization`], signed), which the op then carries: the first op of
    /// an EOA not yet delegated needs it ([`ClientError::AuthorizationMissing`] without), and
    /// the pre-flight checks it ([`ClientError::Authorization`], naming the field). An op
    /// that needs none carries none.
    pub async fn prepare_grant_with_authorization(
        &self,
        account: &Account,
        sessions: &[Session],
        calls: &[Call],
        authorization: Option<SignedAuthorization>,
    ) -> Result<PreparedGrant, ClientError> {
        self.refuse_risky(sessions)?;
        self.progress(Step::Reading);
        let family = Arc::clone(self.family()?);
        let permission_ids: Vec<PermissionId> = sessions.iter().map(PermissionId::of).collect();
        let ss = self.deployments.smart_session;
        let (pids, account, f) = (permission_ids.clone(), *account, Arc::clone(&family));
        let (address, deployed, installed, enabled, nonce) = self
            .with_state(move |d| {
                let address = address_of(d, f.as_ref(), account)?;
                let deployed = d.has_code(address);
                if !deployed && matches!(account, Account::Existing(_)) {
                    return Err(ClientError::NotDeployed { account: address });
                }
                let installed = deployed && {
                    check_family(d, f.as_ref(), address)?;
                    module_installed(d, f.as_ref(), address, ss)?
                };
                let mut enabled = Vec::with_capacity(pids.len());
                for pid in &pids {
                    let call = ISmartSession::isPermissionEnabledCall {
                        permissionId: pid.0,
                        account: address,
                    };
                    enabled.push(installed && d.call_sol(ss, &call)?);
                }
                let nonce = d.entry_point_nonce(address, f.owner_nonce_key())?;
                Ok((address, deployed, installed, enabled, nonce))
            })
            .await?;
        let to_enable: Vec<Session> =
            sessions.iter().zip(&enabled).filter(|(_, on)| !**on).map(|(s, _)| s.clone()).collect();
        let mut all_calls = Vec::new();
        if !installed {
            // SmartSession refuses an empty session list: install it bare then.
            let mut init = Vec::new();
            if !to_enable.is_empty() {
                init.push(INSTALL_MODE_ENABLE);
                init.extend_from_slice(&to_enable.abi_encode());
            }
            let install = install_validator(ss, family.smart_session_install_data(&init));
            all_calls.push(Call::new(address, install));
        } else if !to_enable.is_empty() {
            let enable = ISmartSession::enableSessionsCall { sessions: to_enable };
            all_calls.push(Call::new(ss, enable.abi_encode()));
        }
        all_calls.extend_from_slice(calls);
        let mut prepared = PreparedGrant {
            account: address,
            permission_ids,
            deploys: !deployed,
            installs: !installed,
            calls: all_calls,
            op: None,
        };
        if prepared.calls.is_empty() {
            return Ok(prepared);
        }
        // A lone installModule is the account's own function; anything more goes in a batch.
        let call_data = match &prepared.calls[..] {
            [only] if only.to == address && only.value.is_zero() => only.data.clone(),
            _ => execute_calls(&prepared.calls),
        };
        let mut op = self.unsigned_op(address, nonce, call_data);
        if !deployed {
            let Account::Counterfactual { owner, salt } = account else {
                return Err(ClientError::NotDeployed { account: address });
            };
            let first = family.first_op(owner, salt, op.call_data.clone());
            (op.factory, op.factory_data, op.call_data) =
                (Some(first.factory), first.factory_data, first.call_data);
            if let Some(delegate) = family.eip7702_delegate() {
                let auth = authorization
                    .ok_or(ClientError::AuthorizationMissing { account: address, delegate })?;
                op.eip7702_auth = Some(auth);
            }
        }
        self.complete(&mut op, &OpSigner::Owner(None)).await?;
        let user_op_hash = self.deployments.user_op_hash_of(&op, self.pipeline.chain_id, None)?;
        let message = family.owner_op_message(user_op_hash);
        prepared.op = Some(OwnerOp { user_op: op, user_op_hash, message });
        Ok(prepared)
    }

    /// Sends a prepared grant's op with the owner's signature of its message (pre-flight
    /// first); a grant with nothing to do sends nothing.
    pub async fn submit_grant(
        &self,
        prepared: PreparedGrant,
        owner_signature: &[u8],
    ) -> Result<Granted, ClientError> {
        let PreparedGrant { account, permission_ids, deploys, installs, op, .. } = prepared;
        let Some(OwnerOp { user_op: mut op, .. }) = op else {
            return Ok(Granted {
                account,
                permission_ids,
                deployed: false,
                installed: false,
                sent: None,
            });
        };
        op.signature = self.family()?.owner_op_signature(owner_signature);
        let sent = self.send_checked(op, None).await?;
        Ok(Granted {
            account,
            permission_ids,
            deployed: deploys,
            installed: installs,
            sent: Some(sent),
        })
    }

    /// Prepares `session` for `mode` (ENABLE, or UNSAFE_ENABLE — then say so in the record's
    /// [`SessionRecord::enable_as`]) on `account`: reads SmartSession's enable nonce and has
    /// the owner sign the session digest. The returned data goes into the session's record;
    /// the first [`Self::use_session`] then enables the session in its own op. SmartSession must
    /// already be installed on the account.
    pub async fn prepare_enable(
        &self,
        owner: &PrivateKeySigner,
        account: Address,
        session: &Session,
        mode: SmartSessionMode,
    ) -> Result<EnableSession, ClientError> {
        self.refuse_risky(std::slice::from_ref(session))?;
        let target = self.enable_target(account, PermissionId::of(session)).await?;
        let mut prepared = sign_enable(owner, self.family()?.as_ref(), session, &[target], mode)?;
        Ok(prepared.remove(0))
    }

    /// Where `account` would enable `permission_id`, with its current enable nonce.
    pub async fn enable_target(
        &self,
        account: Address,
        permission_id: PermissionId,
    ) -> Result<EnableTarget, ClientError> {
        let (ss, chain_id) = (self.deployments.smart_session, self.pipeline.chain_id);
        let family = Arc::clone(self.family()?);
        self.with_state(move |d| {
            if !d.has_code(account) {
                return Err(ClientError::NotInstalled { account });
            }
            check_family(d, family.as_ref(), account)?;
            if !module_installed(d, family.as_ref(), account, ss)? {
                return Err(ClientError::NotInstalled { account });
            }
            let call = ISmartSession::getNonceCall { permissionId: permission_id.0, account };
            let nonce = d.call_sol(ss, &call)?;
            Ok(EnableTarget { chain_id, account, smart_session: ss, nonce })
        })
        .await
    }

    /// Uses a session for `calls` (one call, or a batch): nonce, fees, the sponsor's stub,
    /// local verdict (of the op with its paymaster fields), gas, the sponsor's final data, the
    /// session key's signature (ENABLE mode when the record still carries enable data
    /// and the session is not enabled yet), pre-flight, send, receipt.
    ///
    /// The op runs on a nonce lane of its own ([`crate::lanes`]), leased from
    /// [`Options::lanes`] before anything is read and released when the receipt or an error
    /// comes back: the lowest lane free, so lane 0 for an account's only op in flight, and
    /// distinct lanes (nonce keys) for ops of one account sent concurrently. With every lane
    /// leased the op is refused ([`ClientError::Lane`]) and nothing is sent. [`Sent::lane`] and
    /// [`Sent::nonce_key`] say which it took.
    pub async fn use_session(
        &self,
        signer: impl Into<SessionSigner>,
        record: &SessionRecord,
        calls: &[Call],
    ) -> Result<Used, ClientError> {
        if calls.is_empty() {
            return Err(ClientError::Empty("a use needs at least one call"));
        }
        let permission_id = record.permission_id;
        if record.state.is_revoked() {
            return Err(ClientError::Revoked { permission_id, account: record.account });
        }
        self.check_record(record)?;
        let signer = signer.into();
        let scheme = signer
            .scheme(&record.session, &self.deployments.session_validators)
            .map_err(|source| ClientError::Signer { permission_id, source })?;
        self.progress(Step::Reading);
        let family = Arc::clone(self.family()?);
        let (account, ss) = (record.account, self.deployments.smart_session);
        // The op's own lane until its receipt (or an error) comes back: the lease is dropped
        // when this returns.
        let lease = self.pipeline.options.lanes.lease(self.chain_id(), account, family.lanes())?;
        let lane = lease.lane();
        let nonce_key = family.validator_nonce_key(ss, lane)?;
        let f = Arc::clone(&family);
        let (enabled, nonce) = self
            .with_state(move |d| {
                let deployed = d.has_code(account);
                if deployed {
                    check_family(d, f.as_ref(), account)?;
                }
                let call = ISmartSession::isPermissionEnabledCall {
                    permissionId: permission_id.0,
                    account,
                };
                let enabled = deployed && d.call_sol(ss, &call)?;
                Ok((enabled, d.entry_point_nonce(account, nonce_key)?))
            })
            .await?;
        let (enable_mode, enable_validator) = match record.enable_as {
            Some(EnableAs { mode: SmartSessionMode::Use, .. }) => {
                return Err(ClientError::NotAnEnableMode);
            }
            Some(EnableAs { mode, validator }) => (mode, validator),
            None => (SmartSessionMode::Enable, family.owner_validator()),
        };
        let enable = match (&record.enable, enabled) {
            (_, true) => None,
            (Some(enable), false) => {
                let mut formatted = enable.clone();
                formatted.permissionEnableSig = [
                    family.erc1271_prefix(enable_validator).as_ref(),
                    enable.permissionEnableSig.as_ref(),
                ]
                .concat()
                .into();
                Some(Box::new(formatted))
            }
            (None, false) => return Err(ClientError::NotEnabled { account, permission_id }),
        };
        let mode = match (&enable, enable_mode) {
            (None, _) => UseMode::Use,
            (Some(_), SmartSessionMode::UnsafeEnable) => UseMode::UnsafeEnable,
            (Some(_), _) => UseMode::Enable,
        };
        let op = self.unsigned_op(account, nonce, execute_calls(calls));
        let signer = OpSigner::Session {
            scheme,
            permission_id,
            enable_mode,
            enable,
            session: &record.session,
        };
        let sent = self.submit(op, signer, Some(lane)).await?;
        drop(lease);
        Ok(Used { mode, sent })
    }

    /// Revokes `record`'s session with one owner op: `removeSession` if it is enabled on
    /// chain, `revokeEnableSignature` if it is not and the record holds the owner's enable
    /// signature (the enable nonce moves on, so that signature no longer enables it). Mark the
    /// record [`GrantState::Revoked`](crate::GrantState::Revoked) in the store after.
    pub async fn revoke(
        &self,
        owner: &PrivateKeySigner,
        record: &SessionRecord,
    ) -> Result<Revoked, ClientError> {
        self.check_record(record)?;
        let (account, permission_id) = (record.account, record.permission_id);
        let enabled = self.is_permission_enabled(account, permission_id).await?;
        let ss = self.deployments.smart_session;
        let mut calls = Vec::new();
        if enabled {
            calls.push(Call::new(ss, mandate_abi::calldata::remove_session(permission_id)));
        } else if record.enable.is_some() {
            calls
                .push(Call::new(ss, mandate_abi::calldata::revoke_enable_signature(permission_id)));
        } else {
            return Err(ClientError::NothingToRevoke { permission_id, account });
        }
        let sent = self.owner_op(owner, account, &calls).await?;
        Ok(Revoked { account, permission_id, removed: enabled, enable_revoked: !enabled, sent })
    }

    /// Rotates `record`'s session to the key at `new_key` in one owner op: `enableSessions` of
    /// the same session with the new key in its validator's data (the deployments' ECDSA
    /// session signer: the key's address; their OwnableValidator: a 1-of-1 owner set), hence a
    /// new permission id, and the old one revoked as [`Self::revoke`] would. The new session's
    /// policies start afresh (their state is per permission id). Store the returned record with
    /// the new key and mark the old one revoked in one `save_all`.
    pub async fn rotate(
        &self,
        owner: &PrivateKeySigner,
        record: &SessionRecord,
        new_key: Address,
    ) -> Result<Rotated, ClientError> {
        self.check_record(record)?;
        let (account, old) = (record.account, record.permission_id);
        let mut new = self.rotated_record(record, new_key)?;
        let enabled = self.is_permission_enabled(account, old).await?;
        let ss = self.deployments.smart_session;
        let retire = if enabled {
            mandate_abi::calldata::remove_session(old)
        } else if record.enable.is_some() {
            mandate_abi::calldata::revoke_enable_signature(old)
        } else {
            return Err(ClientError::NothingToRevoke { permission_id: old, account });
        };
        let calls = [
            Call::new(
                ss,
                mandate_abi::calldata::enable_sessions(std::slice::from_ref(&new.session)),
            ),
            Call::new(ss, retire),
        ];
        let sent = self.owner_op(owner, account, &calls).await?;
        new.granted_by = Some(sent.user_op_hash);
        Ok(Rotated { record: new, revoked: old, sent })
    }

    /// Changes `record`'s enabled session with one owner op running each of `changes` in
    /// order (SmartSession's owner functions, one call each); the returned record's session is
    /// `record`'s with the changes applied as SmartSession applies them, so the local verdict
    /// on its next use is the contract's. The permission id is kept (it covers the validator,
    /// its data and the salt only). Store the returned record in place of `record`.
    pub async fn change_session(
        &self,
        owner: &PrivateKeySigner,
        record: &SessionRecord,
        changes: &[SessionChange],
    ) -> Result<Changed, ClientError> {
        if changes.is_empty() {
            return Err(ClientError::Empty("a change needs at least one change"));
        }
        self.check_record(record)?;
        let (account, permission_id) = (record.account, record.permission_id);
        if record.state.is_revoked() {
            return Err(ClientError::Revoked { permission_id, account });
        }
        if !self.is_permission_enabled(account, permission_id).await? {
            return Err(ClientError::NotEnabled { account, permission_id });
        }
        let ss = self.deployments.smart_session;
        let calls: Vec<Call> =
            changes.iter().map(|c| Call::new(ss, c.calldata(permission_id))).collect();
        let mut changed = record.clone();
        for change in changes {
            change.apply(&mut changed.session);
        }
        // A change that gives the session a risk it did not have is refused unless allowed
        // ([`Options::allow`]), as a grant with it would be; risks it had stay allowed.
        let mut allowed = self.pipeline.options.allow.clone();
        allowed.extend(self.lint(std::slice::from_ref(&record.session)).risks());
        crate::lint::refuse_unallowed(
            &self.lint(std::slice::from_ref(&changed.session)),
            &allowed,
        )?;
        let sent = self.owner_op(owner, account, &calls).await?;
        Ok(Changed { record: changed, sent })
    }

    /// The record [`Self::rotate`] makes of `record` for the key at `new_key` (before its op:
    /// to store the new key first): the same session with the key in its validator's data
    /// (the deployments' ECDSA session signer: the key's address; their OwnableValidator: a
    /// 1-of-1 owner set), hence a new permission id; the family and label kept.
    pub fn rotated_record(
        &self,
        record: &SessionRecord,
        new_key: Address,
    ) -> Result<SessionRecord, ClientError> {
        let old = record.permission_id;
        let validators = &self.deployments.session_validators;
        let validator = record.session.sessionValidator;
        let unknown = ClientError::UnknownSessionValidator { permission_id: old, validator };
        let init_data: Bytes = if Some(validator) == validators.ecdsa {
            Bytes::copy_from_slice(new_key.as_slice())
        } else if Some(validator) == validators.ownable {
            mandate_abi::ownable::OwnableData::new(1, vec![new_key]).map_err(|_| unknown)?.encode()
        } else {
            return Err(unknown);
        };
        let session = Session { sessionValidatorInitData: init_data, ..record.session.clone() };
        Ok(SessionRecord {
            account_type: record.account_type,
            label: record.label.clone(),
            ..SessionRecord::new(
                record.chain_id,
                record.account,
                new_key,
                session,
                record.smart_session,
            )
        })
    }

    /// Uninstalls SmartSession from `account` with one owner op: `uninstallModule(1,
    /// smartSession, data)`, the data as the family gives it (for Nexus, Safe7579 and the
    /// ERC-7579 reference `abi.encode(prev, "")`, `prev` read from the account's validator
    /// list). SmartSession's `onUninstall` removes every session of the account.
    pub async fn uninstall_smart_session(
        &self,
        owner: &PrivateKeySigner,
        account: Address,
    ) -> Result<Uninstalled, ClientError> {
        self.progress(Step::Reading);
        let family = Arc::clone(self.family()?);
        let ss = self.deployments.smart_session;
        let deinit_data = self
            .with_state(move |d| {
                if !d.has_code(account) {
                    return Err(ClientError::NotDeployed { account });
                }
                check_family(d, family.as_ref(), account)?;
                if !module_installed(d, family.as_ref(), account, ss)? {
                    return Err(ClientError::NotInstalled { account });
                }
                family.smart_session_uninstall_data(d, account, ss)
            })
            .await?;
        let call_data = mandate_abi::account::uninstall_validator(ss, deinit_data.clone());
        let nonce = self.owner_nonce(account).await?;
        let mut op = self.unsigned_op(account, nonce, call_data);
        let signer = OpSigner::Owner(Some(owner));
        self.complete(&mut op, &signer).await?;
        // Nexus calls `onUninstall` with `excessivelySafeCall`: with a call gas limit just
        // enough for the account's part (what a gas search finds), SmartSession runs out of gas
        // inside, silently, and the op succeeds with every session still enabled. Run the
        // signed op on a copy of the state until SmartSession holds no session of the account
        // after it, doubling the call gas limit.
        let mut tries = 0;
        loop {
            self.sign(&mut op, &signer)?;
            let probe = op.pack();
            let cleared = self
                .with_state(move |d| {
                    let mut copy = d.clone();
                    copy.handle_op(probe)?;
                    let left = ISmartSession::isInitializedCall { account };
                    Ok(!copy.call_sol(ss, &left)?)
                })
                .await?;
            if cleared {
                break;
            }
            tries += 1;
            if tries == UNINSTALL_GAS_TRIES {
                return Err(ClientError::UninstallLeftSessions {
                    account,
                    call_gas_limit: u64::try_from(op.call_gas_limit).unwrap_or(u64::MAX),
                });
            }
            op.call_gas_limit = op.call_gas_limit.saturating_mul(2);
        }
        let sent = self.send_checked(op, None).await?;
        Ok(Uninstalled { account, deinit_data, sent })
    }

    /// Whether `account` has SmartSession installed (as its family asks).
    pub async fn is_smart_session_installed(&self, account: Address) -> Result<bool, ClientError> {
        let family = Arc::clone(self.family()?);
        let ss = self.deployments.smart_session;
        self.with_state(move |d| {
            Ok(d.has_code(account) && module_installed(d, family.as_ref(), account, ss)?)
        })
        .await
    }

    /// Refuses a record whose permission id is not its session's, or that names another family
    /// than the client's.
    fn check_record(&self, record: &SessionRecord) -> Result<(), ClientError> {
        let permission_id = record.permission_id;
        let session = PermissionId::of(&record.session);
        if session != permission_id {
            return Err(ClientError::RecordMismatch { permission_id, session });
        }
        let family = self.family()?;
        if let Some(account_type) = record.account_type
            && account_type.name() != family.name()
        {
            return Err(ClientError::FamilyMismatch {
                permission_id,
                record: account_type.name(),
                family: family.name().to_owned(),
            });
        }
        Ok(())
    }

    /// The next nonce of the owner's ops on the deployed `account` (of the client's family).
    async fn owner_nonce(&self, account: Address) -> Result<U256, ClientError> {
        self.progress(Step::Reading);
        let family = Arc::clone(self.family()?);
        self.with_state(move |d| {
            if !d.has_code(account) {
                return Err(ClientError::NotDeployed { account });
            }
            check_family(d, family.as_ref(), account)?;
            Ok(d.entry_point_nonce(account, family.owner_nonce_key())?)
        })
        .await
    }

    /// Sends one owner op on the deployed `account` running `calls` (a lone call of the
    /// account's own function as its callData, anything else in a batch), signed by `owner`
    /// through the family's owner validator; pre-flighted as every op.
    pub async fn owner_op(
        &self,
        owner: &PrivateKeySigner,
        account: Address,
        calls: &[Call],
    ) -> Result<Sent, ClientError> {
        let nonce = self.owner_nonce(account).await?;
        let call_data = match calls {
            [only] if only.to == account && only.value.is_zero() => only.data.clone(),
            _ => execute_calls(calls),
        };
        let op = self.unsigned_op(account, nonce, call_data);
        self.submit(op, OpSigner::Owner(Some(owner)), None).await
    }

    /// Is `permission_id` enabled on `account`?
    pub async fn is_permission_enabled(
        &self,
        account: Address,
        permission_id: PermissionId,
    ) -> Result<bool, ClientError> {
        let ss = self.deployments.smart_session;
        self.with_state(move |d| {
            if !d.has_code(account) {
                return Ok(false);
            }
            let call =
                ISmartSession::isPermissionEnabledCall { permissionId: permission_id.0, account };
            Ok(d.call_sol(ss, &call)?)
        })
        .await
    }

    /// What `record`'s session still allows on chain: uses, value, spend, rule budgets and its
    /// time window, per policy.
    pub async fn session_status(
        &self,
        record: &SessionRecord,
    ) -> Result<crate::SessionStatus, ClientError> {
        read_status(&self.pipeline.chain, self.deployments, record).await
    }

    fn unsigned_op(&self, sender: Address, nonce: U256, call_data: Bytes) -> UserOperation {
        UserOperation {
            sender,
            nonce,
            call_data,
            call_gas_limit: PLACEHOLDER_CALL_GAS.into(),
            verification_gas_limit: PLACEHOLDER_VERIFICATION_GAS.into(),
            pre_verification_gas: U256::from(PLACEHOLDER_PRE_VERIFICATION_GAS),
            ..Default::default()
        }
    }

    fn sign(&self, op: &mut UserOperation, signer: &OpSigner<'_>) -> Result<(), ClientError> {
        let hash = self.deployments.user_op_hash_of(op, self.pipeline.chain_id, None)?;
        match signer {
            OpSigner::Owner(owner) => {
                let family = self.family()?;
                let signature = match owner {
                    Some(owner) => {
                        let message = family.owner_op_message(hash);
                        owner.sign_message_sync(message.as_slice())?.as_bytes().to_vec()
                    }
                    // A stub of an ECDSA signature's shape, for estimates.
                    None => SessionValidatorKind::Ecdsa.dummy_signature().to_vec(),
                };
                op.signature = family.owner_op_signature(&signature);
            }
            OpSigner::Session { scheme, permission_id, enable_mode, enable, .. } => {
                let signature = scheme.sign(hash).map_err(|source| ClientError::Signer {
                    permission_id: *permission_id,
                    source,
                })?;
                op.signature = match enable {
                    None => encode_use(*permission_id, &signature),
                    Some(enable) => encode_enable_session(*enable_mode, enable, &signature)?,
                };
            }
        }
        Ok(())
    }

    /// The local evaluator's answer for the op (signed with a dummy session signature: the key
    /// itself is not in question here, the permissions are).
    async fn local_verdict(
        &self,
        op: &UserOperation,
        signer: &OpSigner<'_>,
    ) -> Result<(), ClientError> {
        let OpSigner::Session { scheme, permission_id, enable_mode, enable, session } = signer
        else {
            return Ok(());
        };
        let session = (*session).clone();
        let stub = scheme.kind().dummy_signature();
        let mut probe = op.clone();
        probe.signature = match enable {
            None => encode_use(*permission_id, &stub),
            Some(enable) => encode_enable_session(*enable_mode, enable, &stub)?,
        };
        let packed = probe.pack();
        let hash = self.deployments.user_op_hash_of(&probe, self.pipeline.chain_id, None)?;
        let (deployments, chain_id, account) =
            (self.deployments, self.pipeline.chain_id, op.sender);
        let enable_pending = enable.is_some();
        let pending = self.pipeline.options.pending.of(chain_id, account)?;
        let enable_digest = enable.as_ref().map(|enable| {
            (
                mandate_abi::multichain_digest(&enable.hashesAndChainIds),
                enable.permissionEnableSig.clone(),
            )
        });
        let verdict = self
            .with_state(move |d| {
                let deployment = Deployment::new(&deployments);
                let mut state =
                    account_state(d, &deployment, account, &session, Some(!enable_pending))?;
                if enable_pending {
                    // The enable nonce of a permission not enabled (never, or removed, or its
                    // signature revoked): the digest the owner signed must be at it.
                    let permission_id = PermissionId::of(&session);
                    let call =
                        ISmartSession::getNonceCall { permissionId: permission_id.0, account };
                    let nonce = d.call_sol(deployments.smart_session, &call)?;
                    state.sessions.entry(permission_id).or_default().nonce = nonce;
                }
                let mut evaluator = Evaluator::new(deployment).verify_signatures(false);
                // The account's pending session ops first: their counters are spent.
                let ahead = unsettled(d, &pending)?;
                let fresh = (!ahead.is_empty()).then(|| state.clone());
                for p in ahead.iter().filter(|p| p.session) {
                    let _ = evaluator.validate(&mut state, &p.op, p.user_op_hash);
                }
                if let Some((digest, formatted)) = enable_digest {
                    // The account's ERC-1271 answer for the owner's signature, asked of the chain.
                    let call = IERC7579Account::isValidSignatureCall {
                        hash: digest,
                        signature: formatted,
                    };
                    let valid = d
                        .call_sol(account, &call)
                        .map(|magic| magic.0 == IERC7579Account::isValidSignatureCall::SELECTOR)
                        .unwrap_or(false);
                    evaluator = evaluator.with_enable(
                        chain_id,
                        Arc::new(move |_: Address, _: B256, _: &[u8]| valid),
                    );
                }
                let verdict = evaluator.check(&mut state, &packed, hash)?;
                // Refused after the pending ops: would it pass alone?
                let alone = match (&verdict, fresh) {
                    (Verdict::Reject(_), Some(mut fresh)) => {
                        matches!(evaluator.check(&mut fresh, &packed, hash)?, Verdict::Accept(_))
                            .then_some(ahead.len())
                    }
                    _ => None,
                };
                Ok((verdict, d.timestamp(), alone))
            })
            .await?;
        match verdict {
            (Verdict::Reject(reject), _, Some(pending)) => Err(ClientError::HeldByPending {
                pending,
                reason: format!("{}({}): {}", reject.name, reject.args.join(", "), reject.reason),
            }),
            (Verdict::Reject(reject), _, None) => Err(ClientError::Refused {
                error: format!("{}({})", reject.name, reject.args.join(", ")),
                reason: reject.reason,
            }),
            (Verdict::Accept(accept), now, _) => {
                let until = if accept.valid_until == 0 { u64::MAX } else { accept.valid_until };
                if now < accept.valid_after || now > until {
                    return Err(ClientError::OutsideTimeWindow {
                        valid_after: accept.valid_after,
                        valid_until: accept.valid_until,
                        now,
                    });
                }
                Ok(())
            }
        }
    }

    /// Prices, sponsors, estimates, signs, pre-flights, sends and waits.
    async fn submit(
        &self,
        mut op: UserOperation,
        signer: OpSigner<'_>,
        lane: Option<u32>,
    ) -> Result<Sent, ClientError> {
        // Judged after the account's pending ops, and registered pending, in one section.
        let section = self.pipeline.options.pending.section(self.chain_id(), op.sender).await?;
        self.complete(&mut op, &signer).await?;
        self.sign(&mut op, &signer)?;
        let session = matches!(signer, OpSigner::Session { .. });
        self.send_checked_in(op, lane, session, section).await
    }

    /// Prices and sponsors `op` (the paymaster's stub), asks the local verdict of a session's
    /// op (with its paymaster fields: a session that may not carry a paymaster is refused
    /// here), estimates it (signed by `signer` for the estimate) and writes the paymaster's
    /// final data.
    async fn complete(
        &self,
        op: &mut UserOperation,
        signer: &OpSigner<'_>,
    ) -> Result<(), ClientError> {
        let checks = self.pipeline.options.checks;
        let base_fee = self.with_state(|d| Ok(d.base_fee())).await?;
        (op.max_fee_per_gas, op.max_priority_fee_per_gas) = self.pipeline.prices(base_fee);
        let sponsor = self.pipeline.options.sponsor.as_ref();
        let mut stubbed = None;
        if let Some(sponsor) = sponsor {
            let (entry_point, chain_id) = (self.deployments.entry_point, self.pipeline.chain_id);
            stubbed = Some(sponsor.stub(op, entry_point, chain_id).await?);
        }
        if checks.local_verdict && matches!(signer, OpSigner::Session { .. }) {
            self.progress(Step::LocalVerdict);
            self.local_verdict(op, signer).await?;
        }
        if checks.preflight {
            self.check_authorization(op).await?;
        }
        if checks.estimate_gas {
            self.sign(op, signer)?;
            self.pipeline.estimate(op, self.deployments.entry_point).await?;
            // The bundler's validation limits can fall short of what validation takes on the
            // chain (seen with Alto on a deployed Nexus account's owner ops: AA26): lift them
            // to revm's own estimate on the same state, so the op sent is one that validates.
            let probe = op.clone();
            let ours = self.with_state(move |d| Ok(d.estimate_gas(&probe)?)).await?;
            let raise = |limit: &mut u128, ours: U256| *limit = (*limit).max(ours.saturating_to());
            raise(&mut op.verification_gas_limit, ours.verification_gas_limit);
            raise(&mut op.call_gas_limit, ours.call_gas_limit);
            if let Some(ours) = ours.paymaster_verification_gas_limit {
                raise(&mut op.paymaster_verification_gas_limit, ours);
            }
        }
        if let (Some(sponsor), Some(stubbed)) = (sponsor, stubbed) {
            Sponsor::keep_limits(stubbed, op);
            sponsor.finish(stubbed, op, &self.pipeline, self.deployments).await?;
        }
        Ok(())
    }

    /// The pre-flight's check of `op`'s EIP-7702 authorization, if it carries one: the
    /// chain's id (or 0), the EOA's current nonce, the family's implementation as delegate, the
    /// sender's signature.
    async fn check_authorization(&self, op: &UserOperation) -> Result<(), ClientError> {
        let Some(auth) = op.eip7702_auth.clone() else { return Ok(()) };
        let (account, family) = (op.sender, Arc::clone(self.family()?));
        // A family of delegated EOAs names its implementation; any other expects the delegate
        // the authorization names (its other fields are still checked).
        let delegate = family.eip7702_delegate().unwrap_or(auth.address);
        self.with_state(move |d| {
            d.check_authorization(account, &auth, delegate)
                .map_err(|source| ClientError::Authorization { account, source })
        })
        .await
    }

    /// Pre-flights the signed `op`, sends it and waits for its receipt.
    async fn send_checked(
        &self,
        op: UserOperation,
        lane: Option<u32>,
    ) -> Result<Sent, ClientError> {
        let section = self.pipeline.options.pending.section(self.chain_id(), op.sender).await?;
        self.send_checked_in(op, lane, false, section).await
    }

    /// [`Self::send_checked`] in the account's pending-ops section (held until the op is
    /// registered pending): the pre-flight runs the account's pending ops first.
    async fn send_checked_in(
        &self,
        op: UserOperation,
        lane: Option<u32>,
        session: bool,
        section: crate::pending::SectionGuard,
    ) -> Result<Sent, ClientError> {
        let checks = self.pipeline.options.checks;
        let pending = Arc::clone(&self.pipeline.options.pending);
        let (chain_id, account) = (self.chain_id(), op.sender);
        let before = pending.of(chain_id, account)?;
        let skipped = checks.skipped();
        if !skipped.is_empty() {
            tracing::warn!(?skipped, "pre-checks switched off for this op");
        }
        let packed = op.pack();
        let mut preflight_gas = None;
        if checks.preflight {
            self.progress(Step::Preflight);
            self.check_authorization(&op).await?;
            let (to_check, auth) = (packed.clone(), op.eip7702_auth.clone());
            let ahead = before.clone();
            let (verdict, alone) = self
                .with_state(move |d| {
                    let ahead = unsettled(d, &ahead)?;
                    let snapshot = d.snapshot();
                    for p in &ahead {
                        // What the chain will have run first; an op of them that fails there
                        // changes nothing.
                        let _ = d.handle_op(p.op.clone());
                    }
                    let verdict = d.check_with_authorization(&to_check, auth.as_ref());
                    d.revert_to(snapshot);
                    let verdict = verdict?;
                    // Refused after the pending ops: would it pass alone?
                    let alone = match (&verdict, ahead.is_empty()) {
                        (v, false) if preflight_passes(v).is_err() => Some(
                            preflight_passes(
                                &d.check_with_authorization(&to_check, auth.as_ref())?,
                            )
                            .is_ok(),
                        ),
                        _ => None,
                    };
                    Ok((verdict, alone.map(|ok| (ok, ahead.len()))))
                })
                .await?;
            match (preflight_passes(&verdict), alone) {
                (Err(ClientError::Preflight { summary, .. }), Some((true, pending))) => {
                    return Err(ClientError::HeldByPending { pending, reason: summary });
                }
                (passes, _) => preflight_gas = Some(passes?),
            }
        }
        let hash = self.deployments.user_op_hash_of(&op, chain_id, None)?;
        let guard = pending.add(
            chain_id,
            account,
            PendingOp { user_op_hash: hash, op: packed.clone(), session },
        )?;
        drop(section);
        let sent = self.pipeline.send(&op, self.deployments.entry_point).await;
        match &sent {
            // No receipt in time: the op may still be included; it stays pending.
            Err(ClientError::Bundler(mandate_bundler::BundlerError::ReceiptTimeout { .. })) => {
                guard.keep();
            }
            _ => drop(guard),
        }
        let (user_op_hash, receipt) = sent?;
        let nonce_key = op.nonce >> 64;
        Ok(Sent {
            user_op_hash,
            receipt,
            user_op: packed,
            nonce_key,
            lane,
            preflight_gas,
            skipped,
            eip7702_auth: op.eip7702_auth,
        })
    }
}

/// Where `account` is: its address, or its family's counterfactual address.
fn address_of(
    d: &mut Devnet,
    family: &dyn AccountFamily,
    account: Account,
) -> Result<Address, ClientError> {
    match account {
        Account::Existing(address) => Ok(address),
        Account::Counterfactual { owner, salt } => family.address(d, owner, salt),
    }
}

/// Refuses a deployed `account` whose `accountId()` is not one of `family`'s.
fn check_family(
    d: &mut Devnet,
    family: &dyn AccountFamily,
    account: Address,
) -> Result<(), ClientError> {
    let account_id = d.call_sol(account, &IERC7579Account::accountIdCall {}).ok();
    match account_id {
        Some(id) if family.accepts_account_id(&id) => Ok(()),
        account_id => {
            Err(ClientError::WrongFamily { account, family: family.name().to_string(), account_id })
        }
    }
}

/// `account.isModuleInstalled(validator, module)`, as the family asks it.
fn module_installed(
    d: &mut Devnet,
    family: &dyn AccountFamily,
    account: Address,
    module: Address,
) -> Result<bool, ClientError> {
    let answer = d.call(account, family.is_module_installed(MODULE_TYPE_VALIDATOR, module))?;
    Ok(IERC7579Account::isModuleInstalledCall::abi_decode_returns(&answer)?)
}

/// The gas the pre-flight measured (validation and execution), or why the op would fail.
fn preflight_passes(verdict: &Preflight) -> Result<u64, ClientError> {
    match verdict {
        Preflight::Accepted(accepted) if accepted.execution == ExecutionOutcome::Succeeded => {
            Ok(accepted.actual_gas_used.saturating_to())
        }
        _ => Err(ClientError::Preflight {
            summary: verdict.to_string(),
            verdict: Box::new(verdict.clone()),
        }),
    }
}

/// Has the owner sign `session` for every target at once, for `mode` (ENABLE or UNSAFE_ENABLE;
/// a record of an UNSAFE_ENABLE grant says so in [`SessionRecord::enable_as`]), on accounts of
/// `family`: one
/// signature over the multichain digest where the family hands the digest to its validator as
/// it is, one per target where it wraps it per account (Kernel); returns one [`EnableSession`]
/// per target, in order, with the owner's raw signature (the family's routing prefix is added
/// when the session is used).
pub fn sign_enable(
    owner: &PrivateKeySigner,
    family: &dyn AccountFamily,
    session: &Session,
    targets: &[EnableTarget],
    mode: SmartSessionMode,
) -> Result<Vec<EnableSession>, ClientError> {
    if mode == SmartSessionMode::Use {
        return Err(ClientError::NotAnEnableMode);
    }
    let mut out = Vec::with_capacity(targets.len());
    let mut signed: Option<(B256, Bytes)> = None;
    for (index, target) in targets.iter().enumerate() {
        let index = u8::try_from(index)
            .map_err(|_| ClientError::TooManyChains { chains: targets.len() })?;
        let prepared = prepare_enable(session, targets, mode, index);
        let message = family.enable_message(prepared.digest, target.chain_id, target.account);
        let sig = match &signed {
            Some((signed_message, sig)) if *signed_message == message => Bytes::clone(sig),
            _ => {
                let sig: Bytes =
                    owner.sign_message_sync(message.as_slice())?.as_bytes().to_vec().into();
                signed = Some((message, sig.clone()));
                sig
            }
        };
        out.push(EnableSession { permissionEnableSig: sig, ..prepared.enable_session });
    }
    Ok(out)
}

/// Which of `permission_ids` are enabled on each chain (abstractjs's
/// `checkEnabledPermissions`): permission id → chain id → enabled. `targets` pairs each
/// chain's client with the account's address there.
pub async fn check_enabled_permissions<B: Bundler>(
    targets: &[(&SessionClient<B>, Address)],
    permission_ids: &[PermissionId],
) -> Result<
    std::collections::BTreeMap<PermissionId, std::collections::BTreeMap<u64, bool>>,
    ClientError,
> {
    let mut out: std::collections::BTreeMap<_, std::collections::BTreeMap<_, _>> =
        std::collections::BTreeMap::new();
    for (client, account) in targets {
        for pid in permission_ids {
            let enabled = client.is_permission_enabled(*account, *pid).await?;
            out.entry(*pid).or_default().insert(client.chain_id(), enabled);
        }
    }
    Ok(out)
}

/// The account's sessions as the evaluator reads them: from the storage of Mandate's
/// SmartSession; or, from another SmartSession (upstream's, whose own storage is laid out
/// otherwise), `session` as granted — if `enabled` (`None`: ask the chain) — with its
/// policies' counters and its nonce read from the chain.
fn account_state(
    d: &mut Devnet,
    deployment: &Deployment,
    account: Address,
    session: &Session,
    enabled: Option<bool>,
) -> Result<mandate_policy::AccountState, ClientError> {
    let ss = deployment.smart_session;
    if d.holds_mandate_smart_session(ss) {
        return Ok(mandate_policy::load_account(&DevnetStorage(d), deployment, account)?);
    }
    let mut state = mandate_policy::AccountState::new(account);
    let permission_id = PermissionId::of(session);
    let enabled = match enabled {
        Some(known) => known,
        None => d.call_sol(
            ss,
            &ISmartSession::isPermissionEnabledCall { permissionId: permission_id.0, account },
        )?,
    };
    if enabled {
        state.enable_sessions(deployment, std::slice::from_ref(session))?;
        mandate_policy::load_policy_state(&DevnetStorage(d), deployment, &mut state)?;
        let nonce = d.call_sol(
            ss,
            &ISmartSession::getNonceCall { permissionId: permission_id.0, account },
        )?;
        if let Some(entry) = state.sessions.get_mut(&permission_id) {
            entry.nonce = nonce;
        }
    }
    Ok(state)
}

/// What `record`'s session still allows on `chain` (no bundler needed).
pub async fn read_status(
    chain: &Chain,
    deployments: Deployments,
    record: &SessionRecord,
) -> Result<crate::SessionStatus, ClientError> {
    let record = record.clone();
    chain
        .with_state(deployments, move |d| {
            if d.chain_id() != record.chain_id {
                return Err(ClientError::SessionChainMismatch {
                    permission_id: record.permission_id,
                    session: record.chain_id,
                    node: d.chain_id(),
                });
            }
            let deployment = Deployment::new(&deployments);
            let state = if d.has_code(record.account) {
                account_state(d, &deployment, record.account, &record.session, None)?
            } else {
                mandate_policy::AccountState::new(record.account)
            };
            let enable_valid = match &record.enable {
                Some(enable) => enable_still_valid(d, deployments.smart_session, &record, enable)?,
                None => false,
            };
            Ok(crate::status::session_status(
                &record,
                &state,
                d.chain_id(),
                d.timestamp(),
                enable_valid,
            ))
        })
        .await
}

/// Whether `enable`'s digest for this chain is the one SmartSession's `getSessionDigest` gives
/// at the session's current enable nonce: a `revokeEnableSignature` (or a use) moves the nonce
/// past it.
fn enable_still_valid(
    d: &mut Devnet,
    smart_session: Address,
    record: &SessionRecord,
    enable: &EnableSession,
) -> Result<bool, ClientError> {
    let Some(signed) = enable.hashesAndChainIds.get(usize::from(enable.chainDigestIndex)) else {
        return Ok(false);
    };
    if signed.chainId != record.chain_id {
        return Ok(false);
    }
    let mode = record.enable_as.map_or(SmartSessionMode::Enable, |as_| as_.mode);
    let call = ISmartSession::getSessionDigestCall {
        permissionId: record.permission_id.0,
        account: record.account,
        data: record.session.clone(),
        mode: mode as u8,
    };
    Ok(d.call_sol(smart_session, &call)? == signed.sessionDigest)
}

/// The ops of `pending` the chain has not run yet (their nonce not used).
fn unsettled(d: &mut Devnet, pending: &[PendingOp]) -> Result<Vec<PendingOp>, ClientError> {
    let mut ahead = Vec::with_capacity(pending.len());
    for p in pending {
        let sender = p.op.sender;
        if d.entry_point_nonce(sender, p.op.nonce >> 64)? <= p.op.nonce {
            ahead.push(p.clone());
        }
    }
    Ok(ahead)
}
