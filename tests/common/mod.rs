//! Shared helpers of the contract tests: an account with SmartSession installed on a fresh
//! devnet, owner ops, session ops in USE / ENABLE / UNSAFE_ENABLE mode, policy init data, and
//! assertions on the EntryPoint's verdicts.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use alloy_primitives::{Address, B256, Bytes, U256, aliases::U48, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{Eip712Domain, SolCall, SolStruct, SolValue, eip712_domain, sol};
use mandate::{
    abi::{
        ActionData, ChainDigest, EnableSession, ModuleInit, PackedUserOperation, PermissionId,
        PolicyData, Session, UserOperation, execute_calls,
        sol::{IERC7579Account, IMandateAccountFactory},
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

/// Mode bytes of `userOp.signature`.
pub const USE: u8 = 0;
pub const ENABLE: u8 = 1;
pub const UNSAFE_ENABLE: u8 = 2;

sol! {
    /// SmartSession's functions beyond the skeleton's bindings.
    #[derive(Debug, PartialEq, Eq)]
    interface ISmartSessionFull {
        struct ERC7739ContextHashes {
            bytes32 appDomainSeparator;
            bytes32[] contentNameHashes;
        }

        function removeSession(bytes32 permissionId) external;
        function revokeEnableSignature(bytes32 permissionId) external;
        function setPermit4337Paymaster(bytes32 permissionId, bool enabled) external;
        function disableUserOpPolicies(bytes32 permissionId, address[] policies) external;
        function disableActionPolicies(bytes32 permissionId, bytes32 actionId, address[] policies) external;
        function disableActionId(bytes32 permissionId, bytes32 actionId) external;

        function getNonce(bytes32 permissionId, address account) external view returns (uint256);
        function isPermissionEnabled(bytes32 permissionId, address account) external view returns (bool);
        function isISessionValidatorSet(bytes32 permissionId, address account) external view returns (bool);
        function getPermissionIDs(address account) external view returns (bytes32[]);
        function getUserOpPolicies(address account, bytes32 permissionId) external view returns (address[]);
        function getERC1271Policies(address account, bytes32 permissionId) external view returns (address[]);
        function getActionPolicies(address account, bytes32 permissionId, bytes32 actionId) external view returns (address[]);
        function getEnabledActions(address account, bytes32 permissionId) external view returns (bytes32[]);
        function getEnabledERC7739Content(address account, bytes32 permissionId) external view returns (ERC7739ContextHashes[]);
        function getSessionValidatorAndConfig(address account, bytes32 permissionId) external view returns (address sessionValidator, bytes sessionValidatorData);
        function isUserOpPolicyEnabled(address account, bytes32 permissionId, address policy) external view returns (bool);
        function isERC1271PolicyEnabled(address account, bytes32 permissionId, address policy) external view returns (bool);
        function isActionPolicyEnabled(address account, bytes32 permissionId, bytes32 actionId, address policy) external view returns (bool);
        function isActionIdEnabled(address account, bytes32 permissionId, bytes32 actionId) external view returns (bool);
        function isERC7739ContentEnabled(address account, bytes32 permissionId, bytes32 appDomainSeparator, string content) external view returns (bool);

        event NonceIterated(bytes32 permissionId, address account, uint256 newValue);
        event PolicyDisabled(bytes32 permissionId, uint8 policyType, address policy, address smartAccount);
        event ActionIdDisabled(bytes32 permissionId, bytes32 actionId, address smartAccount);
    }

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

    /// The sample VerifyingPaymaster.
    #[derive(Debug, PartialEq, Eq)]
    interface IVerifyingPaymaster {
        function verifyingSigner() external view returns (address);
    }
}

/// ABI types of SmartSession's struct parameters, for calls encoded by signature.
pub const SESSION_T: &str = "(address,bytes,bytes32,(address,bytes)[],((bytes32,string[])[],(address,bytes)[]),(bytes4,address,(address,bytes)[])[],bool)";
pub const POLICY_DATA_T: &str = "(address,bytes)";
pub const ACTION_DATA_T: &str = "(bytes4,address,(address,bytes)[])";
pub const ERC7739_CONTEXT_T: &str = "(bytes32,string[])";
pub const PACKED_USER_OP_T: &str =
    "(address,uint256,bytes,bytes,bytes32,uint256,bytes32,bytes,bytes)";

/// `selector(signature) ‖ abi.encode(params...)`; `signature` may use the `*_T` placeholders
/// `{S}` (Session), `{P}` (PolicyData), `{A}` (ActionData), `{C}` (ERC7739Context),
/// `{U}` (PackedUserOperation).
pub fn encode_fn<T: SolValue>(signature: &str, params: T) -> Bytes
where
    for<'a> <T::SolType as alloy_sol_types::SolType>::Token<'a>: alloy_sol_types::abi::TokenSeq<'a>,
{
    let signature = signature
        .replace("{S}", SESSION_T)
        .replace("{P}", POLICY_DATA_T)
        .replace("{A}", ACTION_DATA_T)
        .replace("{C}", ERC7739_CONTEXT_T)
        .replace("{U}", PACKED_USER_OP_T);
    let selector = &keccak256(signature.as_bytes())[..4];
    [selector, &params.abi_encode_params()].concat().into()
}

/// The EIP-712 types the account owner signs for ENABLE (spec §7), declared independently of
/// the contract so that the tests check its hashing. Note the EIP-712 field name `contentName`.
pub mod eip712 {
    use alloy_sol_types::sol;

    sol! {
        #[derive(Debug)]
        struct PolicyData {
            address policy;
            bytes initData;
        }

        #[derive(Debug)]
        struct ActionData {
            bytes4 actionTargetSelector;
            address actionTarget;
            PolicyData[] actionPolicies;
        }

        #[derive(Debug)]
        struct ERC7739Context {
            bytes32 appDomainSeparator;
            string[] contentName;
        }

        #[derive(Debug)]
        struct ERC7739Data {
            ERC7739Context[] allowedERC7739Content;
            PolicyData[] erc1271Policies;
        }

        #[derive(Debug)]
        struct SignedPermissions {
            bool permitGenericPolicy;
            bool permitAdminAccess;
            bool ignoreSecurityAttestations;
            bool permitERC4337Paymaster;
            PolicyData[] userOpPolicies;
            ERC7739Data erc7739Policies;
            ActionData[] actions;
        }

        #[derive(Debug)]
        struct SignedSession {
            address account;
            SignedPermissions permissions;
            address sessionValidator;
            bytes sessionValidatorInitData;
            bytes32 salt;
            address smartSession;
            uint256 nonce;
        }

        #[derive(Debug)]
        struct ChainSession {
            uint64 chainId;
            SignedSession session;
        }

        #[derive(Debug)]
        struct MultiChainSession {
            ChainSession[] sessionsAndChainIds;
        }
    }
}

fn policies712(policies: &[PolicyData]) -> Vec<eip712::PolicyData> {
    policies
        .iter()
        .map(|p| eip712::PolicyData { policy: p.policy, initData: p.initData.clone() })
        .collect()
}

/// The SignedSession the owner signs for `session` (flags derived as the contract does).
pub fn signed_session(
    session: &Session,
    account: Address,
    smart_session: Address,
    unsafe_enable: bool,
    nonce: U256,
) -> eip712::SignedSession {
    let flag = Address::with_last_byte(1);
    let has = |selector: [u8; 4]| {
        session
            .actions
            .iter()
            .any(|a| a.actionTarget == flag && a.actionTargetSelector.0 == selector)
    };
    eip712::SignedSession {
        account,
        permissions: eip712::SignedPermissions {
            permitGenericPolicy: has([0, 0, 0, 1]),
            permitAdminAccess: has([0, 0, 0, 2]),
            ignoreSecurityAttestations: unsafe_enable,
            permitERC4337Paymaster: session.permitERC4337Paymaster,
            userOpPolicies: policies712(&session.userOpPolicies),
            erc7739Policies: eip712::ERC7739Data {
                allowedERC7739Content: session
                    .erc7739Policies
                    .allowedERC7739Content
                    .iter()
                    .map(|c| eip712::ERC7739Context {
                        appDomainSeparator: c.appDomainSeparator,
                        contentName: c.contentNames.clone(),
                    })
                    .collect(),
                erc1271Policies: policies712(&session.erc7739Policies.erc1271Policies),
            },
            actions: session
                .actions
                .iter()
                .map(|a| eip712::ActionData {
                    actionTargetSelector: a.actionTargetSelector,
                    actionTarget: a.actionTarget,
                    actionPolicies: policies712(&a.actionPolicies),
                })
                .collect(),
        },
        sessionValidator: session.sessionValidator,
        sessionValidatorInitData: session.sessionValidatorInitData.clone(),
        salt: session.salt,
        smartSession: smart_session,
        nonce,
    }
}

/// The EIP-712 domain of the enable signature: {name "SmartSession", version "1"}.
pub fn smart_session_domain() -> Eip712Domain {
    eip712_domain! { name: "SmartSession", version: "1", }
}

/// The digest the owner signs over chain entries `(chainId, sessionDigest)`: a
/// MultiChainSession whose ChainSession struct hashes are built from the digests.
pub fn multichain_digest(entries: &[ChainDigest]) -> B256 {
    let chain_typehash = keccak256(eip712::ChainSession::eip712_encode_type().as_bytes());
    let hashes: Vec<u8> = entries
        .iter()
        .flat_map(|e| {
            keccak256((chain_typehash, U256::from(e.chainId), e.sessionDigest).abi_encode()).0
        })
        .collect();
    let multi_typehash = keccak256(eip712::MultiChainSession::eip712_encode_type().as_bytes());
    let struct_hash = keccak256((multi_typehash, keccak256(&hashes)).abi_encode());
    let separator = smart_session_domain().hash_struct();
    keccak256([&[0x19u8, 0x01][..], separator.as_slice(), struct_hash.as_slice()].concat())
}

/// A FastLZ stream of literal runs only (at most 32 bytes each): what any FastLZ level-1
/// decompressor, solady's included, turns back into `data`.
pub fn flz_literals(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 32 + 1);
    for chunk in data.chunks(32) {
        out.push(u8::try_from(chunk.len() - 1).unwrap());
        out.extend_from_slice(chunk);
    }
    out
}

/// `mode ‖ flz(abi.encode(EnableSession, bytes sessionSig))`.
pub fn encode_enable(mode: u8, enable: &EnableSession, session_sig: &[u8]) -> Bytes {
    let payload = (enable.clone(), Bytes::copy_from_slice(session_sig)).abi_encode_params();
    [&[mode][..], &flz_literals(&payload)].concat().into()
}

/// `abi.encode(ActionConfig)` of UniActionPolicy: value cap, then up to 16 rules
/// `(condition, offset, isLimited, ref, limit, used)`; unused slots are zero.
pub fn uni_action_init(value_limit: U256, rules: &[Rule]) -> Bytes {
    assert!(rules.len() <= 16);
    let mut words: Vec<U256> = vec![value_limit, U256::from(rules.len())];
    for i in 0..16 {
        let r = rules.get(i).copied().unwrap_or_default();
        words.extend([
            U256::from(r.condition as u8),
            U256::from(r.offset),
            U256::from(u8::from(r.limit.is_some())),
            r.reference,
            r.limit.unwrap_or_default(),
            U256::ZERO,
        ]);
    }
    words.iter().flat_map(|w| w.to_be_bytes::<32>()).collect::<Vec<u8>>().into()
}

/// UniActionPolicy's conditions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum Cond {
    #[default]
    Equal = 0,
    GreaterThan = 1,
    LessThan = 2,
    GreaterThanOrEqual = 3,
    LessThanOrEqual = 4,
    NotEqual = 5,
    InRange = 6,
}

/// One UniActionPolicy rule.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rule {
    pub condition: Cond,
    /// Byte offset after the selector.
    pub offset: u64,
    pub reference: U256,
    /// A cumulative limit, if the rule is limited.
    pub limit: Option<U256>,
}

impl Rule {
    pub fn new(condition: Cond, arg_index: u64, reference: U256) -> Self {
        Self { condition, offset: arg_index * 32, reference, limit: None }
    }

    pub fn limited(mut self, limit: U256) -> Self {
        self.limit = Some(limit);
        self
    }
}

/// `abi.encodePacked(uint48 validUntil, uint48 validAfter)`.
pub fn time_frame_init(valid_until: u64, valid_after: u64) -> Bytes {
    let mut out = Vec::with_capacity(12);
    out.extend_from_slice(&valid_until.to_be_bytes()[2..]);
    out.extend_from_slice(&valid_after.to_be_bytes()[2..]);
    out.into()
}

/// `abi.encodePacked(uint128 limit)`.
pub fn usage_limit_init(limit: u128) -> Bytes {
    limit.to_be_bytes().to_vec().into()
}

/// `abi.encode(uint256 valueLimit)`.
pub fn value_limit_init(limit: U256) -> Bytes {
    limit.abi_encode().into()
}

/// `abi.encode(address[] tokens, uint256[] limits)`.
pub fn spending_limit_init(tokens: &[Address], limits: &[U256]) -> Bytes {
    (tokens.to_vec(), limits.to_vec()).abi_encode_params().into()
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

/// The generic fallback action `(address(1), 0x00000001)`.
pub fn fallback_action(policies: Vec<PolicyData>) -> ActionData {
    action(Address::with_last_byte(1), [0, 0, 0, 1], policies)
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
        let data = encode_fn("enableSessions({S}[])", (sessions,));
        let smart_session = self.smart_session;
        self.owner_exec(&[Call::new(smart_session, data)]);
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
        let sig = self.key_sig(&op);
        op.signature = [&[USE][..], permission_id.0.as_slice(), &sig].concat().into();
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
        let hash_call = encode_fn("getHash({U},uint48,uint48)", (op.pack(), times.0, times.1));
        let out = self.devnet.call(self.d.verifying_paymaster, hash_call).unwrap();
        let signer = PrivateKeySigner::from_bytes(&PAYMASTER_SIGNER_KEY).unwrap();
        assert_eq!(signer.address(), PAYMASTER_SIGNER);
        data.extend_from_slice(&signer.sign_message_sync(&out[..32]).unwrap().as_bytes());
        op.paymaster_data = data.into();
        self.sign_use(permission_id, op.pack())
    }

    /// The session digest (SignedSession struct hash) computed off-chain.
    pub fn session_digest(&self, session: &Session, mode: u8, nonce: U256) -> B256 {
        signed_session(session, self.account, self.smart_session, mode == UNSAFE_ENABLE, nonce)
            .eip712_hash_struct()
    }

    /// The owner's enable signature over `entries`, routed to the K1 validator.
    pub fn owner_enable_sig(&self, entries: &[ChainDigest]) -> Bytes {
        let digest = multichain_digest(entries);
        let sig = self.owner.sign_message_sync(digest.as_slice()).unwrap();
        [self.d.k1_validator.as_slice(), &sig.as_bytes()].concat().into()
    }

    /// EnableSession for `session` on this chain only, with the current on-chain nonce.
    pub fn enable_data(&mut self, session: &Session, mode: u8) -> EnableSession {
        let nonce = self.enable_nonce(PermissionId::of(session));
        let entries = vec![ChainDigest {
            chainId: self.devnet.chain_id(),
            sessionDigest: self.session_digest(session, mode, nonce),
        }];
        EnableSession {
            chainDigestIndex: 0,
            permissionEnableSig: self.owner_enable_sig(&entries),
            hashesAndChainIds: entries,
            sessionToEnable: session.clone(),
        }
    }

    /// An ENABLE / UNSAFE_ENABLE op carrying `enable` and using it for `calls`.
    pub fn enable_op(
        &mut self,
        mode: u8,
        enable: &EnableSession,
        calls: &[Call],
    ) -> PackedUserOperation {
        let mut op = self.session_base(execute_calls(calls)).pack();
        let sig = self.key_sig(&op);
        op.signature = encode_enable(mode, enable, &sig);
        op
    }

    /// SmartSession's enable nonce of a permission.
    pub fn enable_nonce(&mut self, permission_id: PermissionId) -> U256 {
        let call = ISmartSessionFull::getNonceCall {
            permissionId: permission_id.0,
            account: self.account,
        };
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
