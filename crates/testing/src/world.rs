//! The contract tests' world: an account with SmartSession installed (no session yet) on a
//! fresh devnet, owner ops, and session ops in USE / ENABLE / UNSAFE_ENABLE mode. Encoding
//! (sessions, policies, signatures, digests) is mandate-abi's.

use alloy_primitives::{Address, B256, Bytes, U256, aliases::U48};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolValue};
use mandate_abi::{
    AccountType, ActionData, ChainDigest, EnableSession, EnableSessionData, EnableTarget,
    ModuleInit, PackedUserOperation, PermissionId, Session, SignedSession, SmartSessionMode,
    UserOperation, encode_enable, encode_use, execute_calls, multichain_digest, prepare_enable,
    sol::{IERC7579Account, IMandateAccountFactory, ISmartSession, IVerifyingPaymaster},
    validator_nonce, validator_nonce_key,
};
use mandate_sim::{
    BundleOutcome, Deployments, Devnet, OpReceipt, PAYMASTER_SIGNER, PAYMASTER_SIGNER_KEY,
};

use crate::{
    op::{Gas, OWNER_CALL_GAS, user_op},
    verdict::included,
};

pub use mandate_abi::Call;

/// An account (K1 owner validator, SmartSession installed without sessions) on a devnet.
pub struct World {
    /// The chain.
    pub devnet: Devnet,
    /// Where the genesis contracts are.
    pub d: Deployments,
    /// The account's owner (K1Validator).
    pub owner: PrivateKeySigner,
    /// The session key of the sessions [`Self::session`] builds.
    pub key: PrivateKeySigner,
    /// The account.
    pub account: Address,
    /// Which SmartSession the account uses (ours unless a test swaps it).
    pub smart_session: Address,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("account", &self.account)
            .field("owner", &self.owner.address())
            .field("key", &self.key.address())
            .field("smart_session", &self.smart_session)
            .finish_non_exhaustive()
    }
}

impl World {
    /// A fresh devnet with one account using our SmartSession.
    pub fn new() -> Self {
        let devnet = Devnet::new().expect("devnet starts");
        let smart_session = devnet.deployments().smart_session;
        Self::on(devnet, smart_session, B256::ZERO)
    }

    /// An account (salt `salt`) on `devnet` that installs `smart_session`.
    pub fn on(devnet: Devnet, smart_session: Address, salt: B256) -> Self {
        let d = *devnet.deployments();
        let mut world = Self {
            devnet,
            d,
            owner: PrivateKeySigner::random(),
            key: PrivateKeySigner::random(),
            account: Address::ZERO,
            smart_session,
        };
        let validators = vec![ModuleInit {
            module: d.k1_validator,
            initData: Bytes::copy_from_slice(world.owner.address().as_slice()),
        }];
        world.account = world
            .devnet
            .call_sol(
                d.account_factory,
                &IMandateAccountFactory::getAddressCall { validators: validators.clone(), salt },
            )
            .unwrap();
        world.devnet.set_balance(world.account, U256::from(10u128.pow(20)));
        let call_data = IERC7579Account::installModuleCall {
            moduleTypeId: U256::from(1),
            module: smart_session,
            initData: Bytes::new(),
        }
        .abi_encode();
        let mut op = world.base_op(validator_nonce(d.k1_validator, 0, 0), call_data.into());
        op.factory = Some(d.account_factory);
        op.factory_data =
            IMandateAccountFactory::createAccountCall { validators, salt }.abi_encode().into();
        let packed = world.sign_owner(op.pack());
        let outcome = world.devnet.handle_op(packed).unwrap();
        included(&outcome);
        world
    }

    /// An unsigned op of the account with the world's gas limits.
    pub fn base_op(&self, nonce: U256, call_data: Bytes) -> UserOperation {
        user_op(self.account, nonce, call_data, Gas::WORLD)
    }

    fn sign_owner(&self, mut op: PackedUserOperation) -> PackedUserOperation {
        let hash = self.devnet.user_op_hash(&op);
        op.signature = self.owner.sign_message_sync(hash.as_slice()).unwrap().as_bytes().into();
        op
    }

    /// The owner has the account make `calls`; the op must be included and succeed.
    pub fn owner_exec(&mut self, calls: &[Call]) -> OpReceipt {
        let outcome = self.owner_exec_outcome(calls);
        included(&outcome).clone()
    }

    /// The owner has the account make `calls`.
    pub fn owner_exec_outcome(&mut self, calls: &[Call]) -> BundleOutcome {
        let k1 = self.d.k1_validator;
        let nonce =
            self.devnet.entry_point_nonce(self.account, validator_nonce_key(k1, 0)).unwrap();
        let mut op = self.base_op(nonce, execute_calls(calls));
        op.call_gas_limit = OWNER_CALL_GAS;
        let op = self.sign_owner(op.pack());
        self.devnet.handle_op(op).unwrap()
    }

    /// A session signed by this world's session key (ECDSA session validator).
    pub fn session(&self, salt: u8, actions: Vec<ActionData>) -> Session {
        Session {
            sessionValidator: self.d.ecdsa_session_validator,
            sessionValidatorInitData: Bytes::copy_from_slice(self.key.address().as_slice()),
            salt: B256::with_last_byte(salt),
            actions,
            ..Default::default()
        }
    }

    /// A call of SmartSession made by the account.
    pub fn smart_session_call(&self, call: impl SolCall) -> Call {
        Call::new(self.smart_session, call.abi_encode())
    }

    /// The account enables `sessions` with `enableSessions` (an owner op).
    pub fn enable_sessions(&mut self, sessions: Vec<Session>) -> Vec<PermissionId> {
        let ids = sessions.iter().map(PermissionId::of).collect();
        let call = self.smart_session_call(ISmartSession::enableSessionsCall { sessions });
        self.owner_exec(&[call]);
        ids
    }

    /// The SmartSession nonce of the account's next op.
    pub fn session_nonce(&mut self) -> U256 {
        let key = validator_nonce_key(self.smart_session, 0);
        self.devnet.entry_point_nonce(self.account, key).unwrap()
    }

    /// An unsigned op validated by SmartSession.
    pub fn session_base(&mut self, call_data: Bytes) -> UserOperation {
        let nonce = self.session_nonce();
        self.base_op(nonce, call_data)
    }

    /// The session key's EIP-191 signature over the op's hash.
    pub fn key_sig(&self, op: &PackedUserOperation) -> Vec<u8> {
        let hash = self.devnet.user_op_hash(op);
        self.key.sign_message_sync(hash.as_slice()).unwrap().as_bytes().to_vec()
    }

    /// A USE op of `permission_id` for `calls`.
    pub fn use_op(&mut self, permission_id: PermissionId, calls: &[Call]) -> PackedUserOperation {
        self.use_op_data(permission_id, execute_calls(calls))
    }

    /// A USE op of `permission_id` with any account calldata.
    pub fn use_op_data(
        &mut self,
        permission_id: PermissionId,
        call_data: Bytes,
    ) -> PackedUserOperation {
        let op = self.session_base(call_data).pack();
        self.sign_use(permission_id, op)
    }

    /// Signs a packed op in USE mode with the session key.
    pub fn sign_use(
        &self,
        permission_id: PermissionId,
        mut op: PackedUserOperation,
    ) -> PackedUserOperation {
        op.signature = encode_use(permission_id, &self.key_sig(&op));
        op
    }

    /// A USE op sponsored by the genesis VerifyingPaymaster (signed by its signer, no time
    /// bounds), then signed by the session key.
    pub fn sponsored_use_op(
        &mut self,
        permission_id: PermissionId,
        call_data: Bytes,
    ) -> PackedUserOperation {
        let mut op = self.session_base(call_data);
        op.paymaster = Some(self.d.verifying_paymaster);
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
        let hash = self.devnet.call_sol(self.d.verifying_paymaster, &get_hash).unwrap();
        let signer = PrivateKeySigner::from_bytes(&PAYMASTER_SIGNER_KEY).unwrap();
        assert_eq!(signer.address(), PAYMASTER_SIGNER);
        data.extend_from_slice(&signer.sign_message_sync(hash.as_slice()).unwrap().as_bytes());
        op.paymaster_data = data.into();
        self.sign_use(permission_id, op.pack())
    }

    /// The session digest (SignedSession struct hash) computed off-chain.
    pub fn session_digest(&self, session: &Session, mode: SmartSessionMode, nonce: U256) -> B256 {
        SignedSession::of(session, self.account, self.smart_session, nonce, mode).digest()
    }

    /// The owner's raw enable signature over the multichain digest of `entries`.
    pub fn owner_enable_sig(&self, entries: &[ChainDigest]) -> Bytes {
        let digest = multichain_digest(entries);
        self.owner.sign_message_sync(digest.as_slice()).unwrap().as_bytes().into()
    }

    /// EnableSession for `session` on this chain only, with the current on-chain nonce, signed
    /// by the owner.
    pub fn enable_data(&mut self, session: &Session, mode: SmartSessionMode) -> EnableSession {
        let target = EnableTarget {
            chain_id: self.devnet.chain_id(),
            account: self.account,
            smart_session: self.smart_session,
            nonce: self.enable_nonce(PermissionId::of(session)),
        };
        let prepared = prepare_enable(session, &[target], mode, 0);
        let sig = self.owner.sign_message_sync(prepared.digest.as_slice()).unwrap();
        EnableSession { permissionEnableSig: sig.as_bytes().into(), ..prepared.enable_session }
    }

    /// `enable` with the owner's signature routed to the account's K1 validator.
    pub fn routed(&self, enable: &EnableSession) -> EnableSessionData {
        EnableSessionData {
            enable_session: enable.clone(),
            validator: self.d.k1_validator,
            account_type: AccountType::Erc7579Implementation,
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
        let mut op = self.session_base(execute_calls(calls)).pack();
        let sig = self.key_sig(&op);
        op.signature = encode_enable(mode, data, &sig).unwrap();
        op
    }

    /// SmartSession's enable nonce of a permission.
    pub fn enable_nonce(&mut self, permission_id: PermissionId) -> U256 {
        let call =
            ISmartSession::getNonceCall { permissionId: permission_id.0, account: self.account };
        self.devnet.call_sol(self.smart_session, &call).unwrap()
    }

    /// A view of SmartSession.
    pub fn view<C: SolCall>(&mut self, call: &C) -> C::Return {
        self.devnet.call_sol(self.smart_session, call).unwrap()
    }

    /// Runs `handleOps([op])`.
    pub fn submit(&mut self, op: PackedUserOperation) -> BundleOutcome {
        self.devnet.handle_op(op).unwrap()
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}
