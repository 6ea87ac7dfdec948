//! Shared helpers of the contract tests: an account with SmartSession installed on a fresh
//! devnet, owner ops, session ops in USE / ENABLE / UNSAFE_ENABLE mode, and assertions on the
//! EntryPoint's verdicts. Encoding (sessions, policies, signatures, digests) is mandate-abi's.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use alloy_primitives::{Address, B256, Bytes, U256, aliases::U48};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolValue, sol};
use mandate::{
    abi::{
        AccountType, ActionConfig, ActionData, EnableSession, EnableSessionData, EnableTarget,
        ModuleInit, PackedUserOperation, ParamCondition, ParamRule, PermissionId, Policy,
        PolicyData, Session, SignedSession, SmartSessionMode, TimeFrame, UserOperation,
        encode_enable, encode_use, execute_calls, prepare_enable,
        sol::{IERC7579Account, IMandateAccountFactory, ISmartSession, IVerifyingPaymaster},
        validator_nonce, validator_nonce_key,
    },
    sim::{BundleOutcome, Deployments, Devnet, OpReceipt, PAYMASTER_SIGNER, PAYMASTER_SIGNER_KEY},
};

pub use mandate::abi::Call;

/// Gas limits of the ops (generous; the EntryPoint charges what is used).
pub const VERIFICATION_GAS: u128 = 3_000_000;
pub const CALL_GAS: u128 = 1_000_000;
/// Owner ops may enable large sessions (a 16-rule UniActionPolicy writes ~70 words).
pub const OWNER_CALL_GAS: u128 = 6_000_000;
pub const PRE_VERIFICATION_GAS: u64 = 60_000;
pub const MAX_FEE: u128 = 2_000_000_000;
pub const MAX_PRIORITY_FEE: u128 = 1_000_000_000;

sol! {
    /// The standard policies' views and events.
    #[derive(Debug, PartialEq, Eq)]
    interface IPolicyViews {
        function getUsed(bytes32 id, address multiplexer, address account) external view returns (uint256);
        function getValueLimit(bytes32 id, address multiplexer, address account) external view returns (uint256);
        function getUsageLimit(bytes32 id, address multiplexer, address account) external view returns (uint128);
        function getTimeFrameConfig(bytes32 id, address multiplexer, address account) external view returns (uint256);
        function getPolicyData(bytes32 id, address multiplexer, address token, address account) external view returns (uint256 spendingLimit, uint256 alreadySpent, uint256 approvedAmount);

        event PolicySet(bytes32 id, address multiplexer, address account);
        event TokenSpent(bytes32 id, address multiplexer, address token, address account, uint256 amount, uint256 remaining);
    }
}

/// The init data of a policy whose parameters the builders accept.
pub fn init(policy: Policy) -> Bytes {
    policy.init_data().expect("valid policy parameters")
}

/// A UniActionPolicy rule on the `n`-th argument (1-based).
pub fn rule(condition: ParamCondition, n: u64, reference: U256) -> ParamRule {
    ParamRule::on_argument(n, condition, reference.into()).expect("argument index from 1")
}

/// UniActionPolicy's init data.
pub fn uni_action(value_limit: U256, rules: Vec<ParamRule>) -> Bytes {
    init(Policy::UniversalAction(ActionConfig::new(value_limit, rules).expect("valid rules")))
}

/// TimeFramePolicy's init data.
pub fn time_frame(valid_until: u64, valid_after: u64) -> Bytes {
    init(Policy::TimeFrame(TimeFrame { valid_until, valid_after }))
}

pub fn policy(policy: Address, init_data: impl Into<Bytes>) -> PolicyData {
    PolicyData { policy, initData: init_data.into() }
}

pub fn action(target: Address, selector: [u8; 4], policies: Vec<PolicyData>) -> ActionData {
    ActionData {
        actionTargetSelector: selector.into(),
        actionTarget: target,
        actionPolicies: policies,
    }
}

/// An account (K1 owner validator, SmartSession installed without sessions) on a devnet.
pub struct World {
    pub devnet: Devnet,
    pub d: Deployments,
    pub owner: PrivateKeySigner,
    pub key: PrivateKeySigner,
    pub account: Address,
    /// Which SmartSession the account uses (ours unless a test swaps it).
    pub smart_session: Address,
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

    pub fn base_op(&self, nonce: U256, call_data: Bytes) -> UserOperation {
        UserOperation {
            sender: self.account,
            nonce,
            call_data,
            call_gas_limit: CALL_GAS,
            verification_gas_limit: VERIFICATION_GAS,
            pre_verification_gas: U256::from(PRE_VERIFICATION_GAS),
            max_fee_per_gas: MAX_FEE,
            max_priority_fee_per_gas: MAX_PRIORITY_FEE,
            ..Default::default()
        }
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
    pub fn owner_enable_sig(&self, entries: &[mandate::abi::ChainDigest]) -> Bytes {
        let digest = mandate::abi::multichain_digest(entries);
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

    pub fn submit(&mut self, op: PackedUserOperation) -> BundleOutcome {
        self.devnet.handle_op(op).unwrap()
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

/// The receipt of an op that was included and whose execution succeeded.
pub fn included(outcome: &BundleOutcome) -> &OpReceipt {
    let receipt = outcome.receipt().unwrap_or_else(|| panic!("not included: {outcome:?}"));
    assert!(receipt.success, "execution reverted: {:?}", receipt.revert_reason);
    receipt
}

/// Asserts the op was rejected in validation (AA23) with exactly the custom error `name(args)`.
pub fn assert_rejected(outcome: &BundleOutcome, name: &str, args: &[String]) {
    let rejection = outcome.rejection().unwrap_or_else(|| panic!("not rejected: {outcome:?}"));
    assert_eq!(rejection.code.as_deref(), Some("AA23"), "{rejection}");
    let inner = rejection.inner.as_ref().unwrap_or_else(|| panic!("no inner revert: {rejection}"));
    assert_eq!(inner.name.as_deref(), Some(name), "got {inner}");
    assert_eq!(inner.args, args, "got {inner}");
}

/// Asserts the op was rejected with `code` (e.g. AA22, AA24) and no inner revert.
pub fn assert_rejected_code(outcome: &BundleOutcome, code: &str) {
    let rejection = outcome.rejection().unwrap_or_else(|| panic!("not rejected: {outcome:?}"));
    assert_eq!(rejection.code.as_deref(), Some(code), "{rejection}");
}

/// `PolicyViolation(permissionId, policy)` arguments.
pub fn violation(permission_id: PermissionId, policy: Address) -> Vec<String> {
    vec![permission_id.0.to_string(), policy.to_checksum(None)]
}

/// The `PolicyCheckReverted` argument for a policy revert with `data`: its first 32 bytes.
pub fn first_word(data: &[u8]) -> Vec<String> {
    let mut word = [0u8; 32];
    let n = data.len().min(32);
    word[..n].copy_from_slice(&data[..n]);
    vec![B256::from(word).to_string()]
}

pub fn addr(a: Address) -> String {
    a.to_checksum(None)
}

/// ERC-7739 test types: an app's typed data (`Mail`), its `TypedDataSign` wrapper under the
/// account's domain (field order as the standard), and ERC-5267's domain getter.
pub mod erc7739 {
    alloy_sol_types::sol! {
        struct Mail {
            string contents;
        }

        struct TypedDataSign {
            Mail contents;
            string name;
            string version;
            uint256 chainId;
            address verifyingContract;
            bytes32 salt;
        }

        interface IERC5267 {
            function eip712Domain() external view returns (bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions);
        }
    }
}
