//! The test world: an account of a K1 owner with SmartSession on a fresh devnet — Mandate's
//! own account, or one of every built-in family's real bytecode ([`World::with_family`]) — and
//! the ops around it (owner ops; session ops in USE / ENABLE / UNSAFE_ENABLE mode, of sessions enabled
//! by the owner or of the fixed session enabled on install). The ops themselves are built and
//! signed by [`SessionOps`], the devnet-free half; encoding (sessions, policies, signatures,
//! digests) is mandate-abi's.

use alloy_primitives::{Address, B256, Bytes, U256, aliases::U48};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolValue};
use mandate_abi::{
    AccountType, ActionData, ChainDigest, EnableSession, EnableSessionData, EnableTarget,
    PackedUserOperation, PermissionId, Session, SignedSession, SmartSessionMode, UserOperation,
    encode_enable, execute_calls, multichain_digest, prepare_enable,
    sol::{IERC20, IERC721, ISmartSession, IVerifyingPaymaster},
};
use mandate_sim::{
    BundleOutcome, DEPLOYER, Devnet, OpReceipt, PAYMASTER_SIGNER, PAYMASTER_SIGNER_KEY,
};

use crate::{
    op::{Gas, OWNER_CALL_GAS},
    session::SessionOps,
    verdict::{assert_rejected_on, included},
};

pub use mandate_abi::Call;

/// An account on a devnet with its owner and session key ([`Self::ops`]).
pub struct World {
    /// The chain.
    pub devnet: Devnet,
    /// The account's ops, as built for any chain (addresses, keys, the fixed session, gas).
    pub ops: SessionOps,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World").field("ops", &self.ops).finish_non_exhaustive()
    }
}

impl World {
    /// A fresh devnet with one account (Mandate's) using our SmartSession, installed without
    /// sessions; its ops carry [`Gas::WORLD`].
    pub fn new() -> Self {
        Self::with_family(AccountType::Mandate)
    }

    /// [`Self::new`] with an account of `account_type`: the devnet's deployment of that
    /// family (Nexus, Kernel v3.1, Safe 1.4.1 + Safe7579, the ERC-7579 reference), owned
    /// through K1Validator, SmartSession installed with the family's install data; the
    /// session ops are nonce-keyed to SmartSession and ENABLE signatures prefixed as the
    /// family routes them.
    pub fn with_family(account_type: AccountType) -> Self {
        let devnet = Devnet::new().expect("devnet starts");
        let smart_session = devnet.deployments().chain.smart_session;
        Self::on_family(devnet, account_type, smart_session, B256::ZERO)
    }

    /// An account (Mandate's, salt `salt`, ops with [`Gas::WORLD`]) on `devnet` that installs
    /// `smart_session` without sessions.
    pub fn on(devnet: Devnet, smart_session: Address, salt: B256) -> Self {
        Self::on_family(devnet, AccountType::Mandate, smart_session, salt)
    }

    /// [`Self::on`] with an account of `account_type`.
    pub fn on_family(
        devnet: Devnet,
        account_type: AccountType,
        smart_session: Address,
        salt: B256,
    ) -> Self {
        let mut world =
            Self::counterfactual_on(devnet, account_type, Gas::WORLD, smart_session, salt);
        world.devnet.set_balance(world.ops.account, U256::from(10u128.pow(20)));
        let op = world.owner_op(world.ops.create_account_op(vec![]));
        let outcome = world.devnet.handle_op(op).unwrap();
        included(&outcome);
        world
    }

    /// A fresh devnet, a random owner and session key, and their account, not deployed yet
    /// (its first op, [`SessionOps::create_account_op`], deploys it); its ops carry `gas`.
    pub fn counterfactual(gas: Gas) -> Self {
        let devnet = Devnet::new().expect("devnet starts");
        let smart_session = devnet.deployments().chain.smart_session;
        Self::counterfactual_on(devnet, AccountType::Mandate, gas, smart_session, B256::ZERO)
    }

    fn counterfactual_on(
        devnet: Devnet,
        account_type: AccountType,
        gas: Gas,
        smart_session: Address,
        salt: B256,
    ) -> Self {
        let mut ops = SessionOps::new(
            *devnet.deployments(),
            devnet.chain_id(),
            PrivateKeySigner::random(),
            PrivateKeySigner::random(),
            gas,
        )
        .with_family(account_type);
        ops.smart_session = smart_session;
        ops.salt = salt;
        let mut world = Self { devnet, ops };
        let family = std::sync::Arc::clone(&world.ops.family);
        world.ops.account =
            family.address(&mut world.devnet, world.ops.owner.address(), salt).unwrap();
        world
    }

    /// The account's family.
    pub const fn account_type(&self) -> AccountType {
        self.ops.account_type
    }

    /// `op` signed by the owner, packed.
    pub fn owner_op(&self, mut op: UserOperation) -> PackedUserOperation {
        self.ops.sign_owner(&mut op).unwrap();
        op.pack()
    }

    /// The owner has the account make `calls`; the op must be included and succeed.
    pub fn owner_exec(&mut self, calls: &[Call]) -> OpReceipt {
        let outcome = self.owner_exec_outcome(calls);
        included(&outcome).clone()
    }

    /// The owner has the account make `calls`.
    pub fn owner_exec_outcome(&mut self, calls: &[Call]) -> BundleOutcome {
        let key = self.ops.owner_nonce_key();
        let nonce = self.devnet.entry_point_nonce(self.ops.account, key).unwrap();
        let mut op = self.ops.base_op(nonce, execute_calls(calls));
        op.call_gas_limit = OWNER_CALL_GAS;
        let op = self.owner_op(op);
        self.devnet.handle_op(op).unwrap()
    }

    /// A session signed by this world's session key (ECDSA session validator).
    pub fn session(&self, salt: u8, actions: Vec<ActionData>) -> Session {
        Session {
            sessionValidator: self
                .ops
                .d
                .ecdsa_session_validator()
                .expect("the devnet's ECDSA validator"),
            sessionValidatorInitData: Bytes::copy_from_slice(self.ops.key.address().as_slice()),
            salt: B256::with_last_byte(salt),
            actions,
            ..Default::default()
        }
    }

    /// A call of SmartSession made by the account.
    pub fn smart_session_call(&self, call: impl SolCall) -> Call {
        Call::new(self.ops.smart_session, call.abi_encode())
    }

    /// The account enables `sessions` with `enableSessions` (an owner op).
    pub fn enable_sessions(&mut self, sessions: Vec<Session>) -> Vec<PermissionId> {
        let ids = sessions.iter().map(PermissionId::of).collect();
        let call = self.smart_session_call(ISmartSession::enableSessionsCall { sessions });
        self.owner_exec(&[call]);
        ids
    }

    /// An unsigned op validated by SmartSession, at the account's next SmartSession nonce.
    pub fn session_base(&mut self, call_data: Bytes) -> UserOperation {
        let key = self.ops.session_nonce_key();
        let nonce = self.devnet.entry_point_nonce(self.ops.account, key).unwrap();
        self.ops.base_op(nonce, call_data)
    }

    /// A USE op of `permission_id` for `calls` (single for one call, batch otherwise), signed
    /// by the session key.
    pub fn use_op(&mut self, permission_id: PermissionId, calls: &[Call]) -> PackedUserOperation {
        self.use_op_data(permission_id, execute_calls(calls))
    }

    /// A USE op of `permission_id` with any account calldata, signed by the session key.
    pub fn use_op_data(
        &mut self,
        permission_id: PermissionId,
        call_data: Bytes,
    ) -> PackedUserOperation {
        let op = self.session_base(call_data);
        self.signed_use(permission_id, op)
    }

    fn signed_use(
        &self,
        permission_id: PermissionId,
        mut op: UserOperation,
    ) -> PackedUserOperation {
        self.ops.sign_use(permission_id, &self.ops.key, &mut op).unwrap();
        op.pack()
    }

    /// A USE op sponsored by the genesis VerifyingPaymaster (signed by its signer, no time
    /// bounds), then signed by the session key.
    pub fn sponsored_use_op(
        &mut self,
        permission_id: PermissionId,
        call_data: Bytes,
    ) -> PackedUserOperation {
        let paymaster = self.ops.d.chain.paymaster.expect("the devnet's paymaster");
        let mut op = self.session_base(call_data);
        op.paymaster = Some(paymaster);
        op.paymaster_verification_gas_limit = 200_000;
        op.paymaster_post_op_gas_limit = 50_000;
        let times = (U48::ZERO, U48::ZERO);
        let mut data = times.abi_encode_params();
        op.paymaster_data = [data.clone(), vec![0u8; 65]].concat().into();
        let get_hash = IVerifyingPaymaster::getHashCall {
            userOp: op.pack(),
            validUntil: times.0,
            validAfter: times.1,
        };
        let hash = self.devnet.call_sol(paymaster, &get_hash).unwrap();
        let signer = PrivateKeySigner::from_bytes(&PAYMASTER_SIGNER_KEY).unwrap();
        assert_eq!(signer.address(), PAYMASTER_SIGNER);
        data.extend_from_slice(&signer.sign_message_sync(hash.as_slice()).unwrap().as_bytes());
        op.paymaster_data = data.into();
        self.signed_use(permission_id, op)
    }

    /// The session digest (SignedSession struct hash) computed off-chain.
    pub fn session_digest(&self, session: &Session, mode: SmartSessionMode, nonce: U256) -> B256 {
        SignedSession::of(session, self.ops.account, self.ops.smart_session, nonce, mode).digest()
    }

    /// The owner's raw enable signature (K1Validator's, unprefixed) over the multichain digest
    /// of `entries`, as the account hands the digest to its validator (Kernel wraps it).
    pub fn owner_enable_sig(&self, entries: &[ChainDigest]) -> Bytes {
        self.owner_sig_of_digest(multichain_digest(entries))
    }

    /// The owner's raw signature of a multichain digest `digest`, through the family.
    fn owner_sig_of_digest(&self, digest: B256) -> Bytes {
        let message = self.ops.family.enable_message(digest, self.ops.chain_id, self.ops.account);
        self.ops.owner.sign_message_sync(message.as_slice()).unwrap().as_bytes().into()
    }

    /// EnableSession for `session` on this chain only, with the current on-chain nonce, signed
    /// by the owner (raw: [`Self::routed`] adds the family's prefix).
    pub fn enable_data(&mut self, session: &Session, mode: SmartSessionMode) -> EnableSession {
        let target = EnableTarget {
            chain_id: self.devnet.chain_id(),
            account: self.ops.account,
            smart_session: self.ops.smart_session,
            nonce: self.enable_nonce(PermissionId::of(session)),
        };
        let prepared = prepare_enable(session, &[target], mode, 0);
        let sig = self.owner_sig_of_digest(prepared.digest);
        EnableSession { permissionEnableSig: sig, ..prepared.enable_session }
    }

    /// `enable` with the owner's signature routed to the account's K1 validator, as the
    /// account's family routes ERC-1271 signatures.
    pub fn routed(&self, enable: &EnableSession) -> EnableSessionData {
        EnableSessionData {
            enable_session: enable.clone(),
            validator: self.ops.d.k1_validator,
            account_type: self.ops.account_type,
        }
    }

    /// An ENABLE / UNSAFE_ENABLE op carrying `enable` (routed to K1) and using it for `calls`.
    pub fn enable_op(
        &mut self,
        mode: SmartSessionMode,
        enable: &EnableSession,
        calls: &[Call],
    ) -> PackedUserOperation {
        let data = self.routed(enable);
        self.enable_op_routed(mode, &data, calls)
    }

    /// An ENABLE / UNSAFE_ENABLE op carrying `data` and using it for `calls`.
    pub fn enable_op_routed(
        &mut self,
        mode: SmartSessionMode,
        data: &EnableSessionData,
        calls: &[Call],
    ) -> PackedUserOperation {
        let mut op = self.session_base(execute_calls(calls));
        let sig = self.ops.user_op_sig(&op, &self.ops.key).unwrap();
        op.signature = encode_enable(mode, data, &sig).unwrap();
        op.pack()
    }

    /// SmartSession's enable nonce of a permission.
    pub fn enable_nonce(&mut self, permission_id: PermissionId) -> U256 {
        let call = ISmartSession::getNonceCall {
            permissionId: permission_id.0,
            account: self.ops.account,
        };
        self.devnet.call_sol(self.ops.smart_session, &call).unwrap()
    }

    /// A view of SmartSession.
    pub fn view<C: SolCall>(&mut self, call: &C) -> C::Return {
        self.devnet.call_sol(self.ops.smart_session, call).unwrap()
    }

    /// Runs `handleOps([op])`.
    pub fn submit(&mut self, op: PackedUserOperation) -> BundleOutcome {
        self.devnet.handle_op(op).unwrap()
    }

    /// Asserts `outcome` is SmartSession's refusal `name(args)` in validation, as this
    /// account's family reports it ([`assert_rejected_on`]).
    pub fn assert_rejected(&self, outcome: &BundleOutcome, name: &str, args: &[String]) {
        assert_rejected_on(self.account_type(), outcome, name, args);
    }

    /// Asserts `outcome` is an included op whose execution reverted with `name` (and `args`,
    /// when given), as this account's family reports it: Safe7579 executes as a module
    /// transaction of the Safe, which reports a revert as `false` without its data, and then
    /// reverts with its own `ExecutionFailed()`; the other families pass the revert on
    /// unchanged.
    pub fn assert_execution_reverted(
        &self,
        outcome: &BundleOutcome,
        name: &str,
        args: Option<&[String]>,
    ) {
        let receipt = outcome.receipt().unwrap_or_else(|| panic!("not included: {outcome:?}"));
        assert!(!receipt.success, "execution succeeded, expected {name}");
        let reason = receipt.revert_reason.as_ref().unwrap_or_else(|| panic!("no reason"));
        if self.account_type() == AccountType::Safe {
            assert_eq!(reason.data.as_ref(), crate::verdict::SAFE7579_EXECUTION_FAILED, "{reason}");
            return;
        }
        assert_eq!(reason.name.as_deref(), Some(name), "{reason}");
        if let Some(args) = args {
            assert_eq!(reason.args, args, "{reason}");
        }
    }

    /// Submits `op` and asserts SmartSession refuses it with `name(args)`
    /// ([`Self::assert_rejected`]).
    pub fn submit_rejected(&mut self, op: PackedUserOperation, name: &str, args: &[String]) {
        let outcome = self.submit(op);
        self.assert_rejected(&outcome, name, args);
    }

    /// Mints test tokens to the account (a plain transaction from the deployer).
    pub fn fund_tokens(&mut self, amount: U256) {
        let call = IERC20::mintCall { to: self.ops.account, amount };
        self.devnet.transact_sol(DEPLOYER, self.ops.d.test_erc20, &call).unwrap();
    }

    /// The test ERC-20 balance of `who`.
    pub fn token_balance(&mut self, who: Address) -> U256 {
        self.devnet.call_sol(self.ops.d.test_erc20, &IERC20::balanceOfCall { owner: who }).unwrap()
    }

    /// The number of test NFTs `who` holds.
    pub fn nft_balance(&mut self, who: Address) -> U256 {
        self.devnet
            .call_sol(self.ops.d.test_erc721, &IERC721::balanceOfCall { owner: who })
            .unwrap()
    }
}

/// Runs `body` on every built-in family in turn ([`AccountType::ALL`]); a panic names the
/// family it happened on.
pub fn on_every_family(mut body: impl FnMut(AccountType)) {
    for family in AccountType::ALL {
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(family)));
        if let Err(panic) = run {
            eprintln!("failed on the {family} account");
            std::panic::resume_unwind(panic);
        }
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}
