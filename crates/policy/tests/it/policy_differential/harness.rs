//! Strategies, and one case run on both sides: the local evaluator, and SmartSession reached
//! through a real account of one family (Mandate's, Nexus, Kernel v3.1, Safe 1.4.1 + Safe7579,
//! the ERC-7579 reference), the EntryPoint calling the account's `validateUserOp` with the op
//! nonce-keyed to SmartSession as the family routes it, and the owner's ENABLE signature
//! prefixed and hashed as the family's `isValidSignature` expects it.

use std::sync::{Arc, OnceLock};

use alloy_primitives::{Address, B256, Bytes, FixedBytes, U256, address};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::{
    AccountType, ActionData, Call, CallType, ExecType, PackedUserOperation, PolicyData, Session,
    encode_batch, encode_single, execute_calldata, mode_code, sol::ISmartSession,
};
use mandate_client::policy_sim;
use mandate_policy::{AccountState, Deployment, EvalError, Evaluator, Verdict};
use mandate_sim::{Devnet, SimError};
use mandate_testing::world::World;
use proptest::prelude::*;

/// ERC-4337's `IAccount.validateUserOp(PackedUserOperation, bytes32, uint256)`: what the
/// EntryPoint calls in validation.
const VALIDATE_USER_OP: [u8; 4] = alloy_primitives::hex!("19822f7c");

/// Stands for the account under test in generated words (call arguments): replaced by the
/// address of the case's account when the call is encoded ([`resolve`]).
pub const ACCOUNT: Address = address!("acc0000000000000000000000000000000000acc");
pub const OTHER: Address = address!("0000000000000000000000000000000000007777");
pub const SESSION_KEY: B256 = B256::repeat_byte(0x11);
pub const WRONG_KEY: B256 = B256::repeat_byte(0x22);

pub const TRANSFER: [u8; 4] = mandate_abi::sol::IERC20::transferCall::SELECTOR;
pub const APPROVE: [u8; 4] = mandate_abi::sol::IERC20::approveCall::SELECTOR;
pub const TRANSFER_FROM: [u8; 4] = mandate_abi::sol::IERC20::transferFromCall::SELECTOR;
pub const INCREASE_ALLOWANCE: [u8; 4] = mandate_abi::sol::IERC20::increaseAllowanceCall::SELECTOR;
pub const OTHER_SELECTOR: [u8; 4] = [0x12, 0x34, 0x56, 0x78];
pub const EXECUTE: [u8; 4] = mandate_abi::sol::IERC7579Account::executeCall::SELECTOR;

/// One family's account on a devnet, SmartSession installed without sessions.
pub struct Base {
    pub devnet: Devnet,
    pub deployment: Deployment,
    pub token: Address,
    /// The account.
    pub account: Address,
    pub account_type: AccountType,
    /// The account's owner (through K1Validator).
    pub owner: PrivateKeySigner,
    pub k1_validator: Address,
    pub entry_point: Address,
    /// The op nonce that routes to SmartSession on this family (key, sequence 0).
    pub session_nonce: U256,
}

impl Base {
    /// The owner's ENABLE signature over the multichain digest `digest` by `signer` (the owner,
    /// or a stranger), as the account's `isValidSignature` takes it: the family's prefix naming
    /// K1Validator, then K1Validator's EIP-191 signature of the hash the account hands it.
    fn enable_signature(&self, signer: &PrivateKeySigner, digest: B256) -> Bytes {
        let hash =
            self.account_type.erc1271_hash(digest, mandate_sim::DEVNET_CHAIN_ID, self.account);
        let sig = signer.sign_message_sync(hash.as_slice()).unwrap().as_bytes();
        self.account_type.format_enable_signature(self.k1_validator, &sig)
    }

    /// The evaluator's model of the account's `isValidSignature` for the owner's ENABLE
    /// signature: the family's prefix must name K1Validator, which accepts a 65-byte ECDSA
    /// signature (low s) by the owner of the hash the account hands it, raw or EIP-191.
    fn owner_verifier(&self) -> Arc<dyn mandate_policy::EnableSignatureVerifier> {
        let (account_type, k1, owner) =
            (self.account_type, self.k1_validator, self.owner.address());
        let account = self.account;
        Arc::new(move |who: Address, digest: B256, formatted: &[u8]| {
            let Ok((validator, raw)) = account_type.parse_enable_signature(formatted) else {
                return false;
            };
            let hash = account_type.erc1271_hash(digest, mandate_sim::DEVNET_CHAIN_ID, who);
            who == account && validator == k1 && recovers(&raw, hash, owner)
        })
    }
}

/// Whether OpenZeppelin's `ECDSA.tryRecover` finds `owner` behind `sig` over `hash` or its
/// EIP-191 form (K1Validator checks both).
fn recovers(sig: &[u8], hash: B256, owner: Address) -> bool {
    let half_n = alloy_primitives::uint!(
        0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0_U256
    );
    if sig.len() != 65 || !matches!(sig[64], 27 | 28) || U256::from_be_slice(&sig[32..64]) > half_n
    {
        return false;
    }
    let Ok(signature) = alloy_primitives::Signature::try_from(sig) else { return false };
    let eip191 = alloy_primitives::eip191_hash_message(hash.as_slice());
    [hash, eip191].iter().any(|h| signature.recover_address_from_prehash(h).ok() == Some(owner))
}

/// Which contracts a differential run talks to (the upstream ones in `policy_upstream`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)]
pub enum Flavor {
    /// Our SmartSession and our policies.
    Ours,
    /// Upstream's SmartSession (at its module-sdk address) with upstream's policies.
    Upstream,
    /// Upstream's SmartSession with our policies.
    UpstreamWithOurPolicies,
}

thread_local! {
    /// The flavor of the test running on this thread.
    pub static FLAVOR: std::cell::Cell<Flavor> = const { std::cell::Cell::new(Flavor::Ours) };
    /// The family of the case running on this thread ([`run_case_on`] sets it).
    static FAMILY: std::cell::Cell<AccountType> = const { std::cell::Cell::new(AccountType::Mandate) };
}

/// Upstream runtimes (name, module-sdk 0.4.0 address), read from `MANDATE_UPSTREAM_DIR`.
pub const UPSTREAM: [(&str, Address, Option<mandate_policy::PolicyKind>); 7] = {
    use mandate_policy::PolicyKind as K;
    [
        ("SmartSession", address!("00000000008bDABA73cD9815d79069c247Eb4bDA"), None),
        ("SudoPolicy", address!("0000000000FEEc8D74e3143fBaBbca515358d869"), Some(K::Sudo)),
        (
            "UniActionPolicy",
            address!("0000000000714Cf48FcF88A0bFBa70d313415032"),
            Some(K::UniAction),
        ),
        (
            "TimeFramePolicy",
            address!("0000000000D30f611fA3bf652ac6879428586930"),
            Some(K::TimeFrame),
        ),
        (
            "ERC20SpendingLimitPolicy",
            address!("000000000033212e272655d8a22402db819477a6"),
            Some(K::Erc20SpendingLimit),
        ),
        (
            "UsageLimitPolicy",
            address!("00000000001d4479FA2A947026204d0283ceDe4B"),
            Some(K::UsageLimit),
        ),
        (
            "ValueLimitPolicy",
            address!("000000000021dC45451291BCDfc9f0B46d6f0278"),
            Some(K::ValueLimit),
        ),
    ]
};

fn make_base(flavor: Flavor, account_type: AccountType) -> Base {
    let mut devnet = Devnet::new().unwrap();
    let d = *devnet.deployments();
    let mut deployment = Deployment::new(&d.chain);
    if flavor != Flavor::Ours {
        let dir = std::env::var("MANDATE_UPSTREAM_DIR").expect("MANDATE_UPSTREAM_DIR is set");
        for (name, at, kind) in UPSTREAM {
            let path = std::path::Path::new(&dir).join(format!("{name}.runtime.hex"));
            let text = std::fs::read_to_string(&path).unwrap();
            devnet.set_code(at, alloy_primitives::hex::decode(text.trim()).unwrap().into());
            match kind {
                None => deployment.smart_session = at,
                Some(kind) if flavor == Flavor::Upstream => {
                    deployment.policies.retain(|(_, k)| *k != kind);
                    deployment.policies.push((at, kind));
                }
                Some(_) => {}
            }
        }
    }
    let world =
        World::on_family(devnet, account_type, deployment.smart_session, B256::with_last_byte(7));
    let session_nonce = world.ops.session_nonce_key() << 64usize;
    Base {
        deployment,
        token: d.test_erc20,
        account: world.ops.account,
        account_type,
        owner: world.ops.owner.clone(),
        k1_validator: d.k1_validator,
        entry_point: d.chain.entry_point,
        session_nonce,
        devnet: world.devnet,
    }
}

/// The base of this thread's flavor and family.
pub fn base() -> &'static Base {
    type Cells = [OnceLock<Base>; 5];
    static OURS: Cells = [const { OnceLock::new() }; 5];
    static UPSTREAM_ALL: Cells = [const { OnceLock::new() }; 5];
    static UPSTREAM_MIX: Cells = [const { OnceLock::new() }; 5];
    let flavor = FLAVOR.with(std::cell::Cell::get);
    let family = FAMILY.with(std::cell::Cell::get);
    let cells = match flavor {
        Flavor::Ours => &OURS,
        Flavor::Upstream => &UPSTREAM_ALL,
        Flavor::UpstreamWithOurPolicies => &UPSTREAM_MIX,
    };
    let i = AccountType::ALL.iter().position(|t| *t == family).unwrap();
    cells[i].get_or_init(|| make_base(flavor, family))
}

/// A generated word, with [`ACCOUNT`] standing for the case's account.
pub fn resolve(word: U256) -> U256 {
    if word == U256::from_be_slice(ACCOUNT.as_slice()) {
        U256::from_be_slice(base().account.as_slice())
    } else {
        word
    }
}

/// A policy to enable, by kind, with init data.
#[derive(Clone, Debug)]
pub enum PolicySpec {
    Sudo,
    Usage(u128),
    Value(U256),
    Time { until: u64, after: u64 },
    Uni { value_limit: U256, rules: Vec<RuleSpec> },
    Erc20 { tokens: Vec<(u8, U256)> },
}

#[derive(Clone, Debug)]
pub struct RuleSpec {
    pub condition: u8,
    pub offset: u64,
    pub limited: bool,
    pub reference: U256,
    pub limit: U256,
}

/// Targets by index: 0 token, 1 OTHER, 2 the account, 3 SmartSession, 4 address(1), 5 zero.
pub fn target(i: u8) -> Address {
    let b = base();
    match i % 6 {
        0 => b.token,
        1 => OTHER,
        2 => b.account,
        3 => b.deployment.smart_session,
        4 => Address::with_last_byte(1),
        _ => Address::ZERO,
    }
}

pub fn selector(i: u8) -> [u8; 4] {
    match i % 7 {
        0 => TRANSFER,
        1 => APPROVE,
        2 => TRANSFER_FROM,
        3 => INCREASE_ALLOWANCE,
        4 => OTHER_SELECTOR,
        5 => EXECUTE,
        _ => [0xff, 0xff, 0xff, 0xff],
    }
}

impl PolicySpec {
    fn policy_data(&self) -> PolicyData {
        let d = &base().deployment;
        let addr = |k: mandate_policy::PolicyKind| {
            d.policies.iter().find(|(_, kind)| *kind == k).map(|(a, _)| *a).unwrap()
        };
        use mandate_policy::PolicyKind as K;
        let (policy, init): (Address, Vec<u8>) = match self {
            Self::Sudo => (addr(K::Sudo), Vec::new()),
            Self::Usage(limit) => (addr(K::UsageLimit), limit.to_be_bytes().to_vec()),
            Self::Value(limit) => (addr(K::ValueLimit), limit.to_be_bytes::<32>().to_vec()),
            Self::Time { until, after } => {
                let mut v = until.to_be_bytes()[2..].to_vec();
                v.extend_from_slice(&after.to_be_bytes()[2..]);
                (addr(K::TimeFrame), v)
            }
            Self::Uni { value_limit, rules } => {
                let mut words = vec![*value_limit, U256::from(rules.len())];
                for i in 0..16 {
                    match rules.get(i) {
                        Some(r) => words.extend([
                            U256::from(r.condition),
                            U256::from(r.offset),
                            U256::from(u8::from(r.limited)),
                            r.reference,
                            r.limit,
                            U256::ZERO,
                        ]),
                        None => words.extend([U256::ZERO; 6]),
                    }
                }
                (addr(K::UniAction), words.iter().flat_map(|w| w.to_be_bytes::<32>()).collect())
            }
            Self::Erc20 { tokens } => {
                use alloy_sol_types::SolValue;
                let addrs: Vec<Address> = tokens.iter().map(|(t, _)| target(*t)).collect();
                let limits: Vec<U256> = tokens.iter().map(|(_, l)| *l).collect();
                (addr(K::Erc20SpendingLimit), (addrs, limits).abi_encode_params())
            }
        };
        PolicyData { policy, initData: init.into() }
    }
}

#[derive(Clone, Debug)]
pub struct ActionSpec {
    pub target: u8,
    pub selector: u8,
    /// Use the generic fallback action `(address(1), 0x00000001)` instead.
    pub fallback: bool,
    pub policies: Vec<PolicySpec>,
}

#[derive(Clone, Debug)]
pub struct SessionSpec {
    pub short_key: bool,
    pub salt: u8,
    pub user_op: Vec<PolicySpec>,
    pub actions: Vec<ActionSpec>,
    pub paymaster: bool,
}

impl SessionSpec {
    pub fn session(&self) -> Session {
        let key = PrivateKeySigner::from_bytes(&SESSION_KEY).unwrap().address();
        let init: Bytes =
            if self.short_key { key[..10].to_vec().into() } else { key.to_vec().into() };
        Session {
            sessionValidator: base().deployment.session_validators.ecdsa.unwrap(),
            sessionValidatorInitData: init,
            salt: B256::with_last_byte(self.salt),
            userOpPolicies: self.user_op.iter().map(PolicySpec::policy_data).collect(),
            actions: self
                .actions
                .iter()
                .map(|a| ActionData {
                    actionTargetSelector: if a.fallback {
                        FixedBytes([0, 0, 0, 1])
                    } else {
                        FixedBytes(selector(a.selector))
                    },
                    actionTarget: if a.fallback {
                        Address::with_last_byte(1)
                    } else {
                        target(a.target)
                    },
                    actionPolicies: a.policies.iter().map(PolicySpec::policy_data).collect(),
                })
                .collect(),
            permitERC4337Paymaster: self.paymaster,
            ..Default::default()
        }
    }
}

/// One execution.
#[derive(Clone, Debug)]
pub struct CallSpec {
    pub target: u8,
    pub value: U256,
    pub selector: Option<u8>,
    pub args: Vec<U256>,
    /// Bytes cut from the end of the call's data.
    pub cut: usize,
}

impl CallSpec {
    fn call(&self) -> Call {
        let mut data = Vec::new();
        if let Some(s) = self.selector {
            data.extend_from_slice(&selector(s));
            for a in &self.args {
                data.extend_from_slice(&resolve(*a).to_be_bytes::<32>());
            }
        }
        data.truncate(data.len().saturating_sub(self.cut));
        Call::new(target(self.target), data).with_value(self.value)
    }
}

#[derive(Clone, Debug)]
pub enum CallDataSpec {
    Single(CallSpec),
    Batch(Vec<CallSpec>),
    Delegate(CallSpec),
    /// execute with exec type "try".
    TryExec(CallSpec),
    ExecuteUserOp,
    /// A direct call of an account function with this selector.
    AccountCall(u8, Vec<U256>),
    /// Any of the above truncated or with garbage appended.
    Mangled(Box<Self>, usize, Vec<u8>),
}

impl CallDataSpec {
    pub fn encode(&self) -> Bytes {
        match self {
            Self::Single(c) => execute_calldata(
                mode_code(CallType::Single, ExecType::Default),
                encode_single(&c.call()),
            ),
            Self::Batch(cs) => {
                let calls: Vec<Call> = cs.iter().map(CallSpec::call).collect();
                execute_calldata(
                    mode_code(CallType::Batch, ExecType::Default),
                    encode_batch(&calls),
                )
            }
            Self::Delegate(c) => execute_calldata(
                mode_code(CallType::DelegateCall, ExecType::Default),
                encode_single(&c.call()),
            ),
            Self::TryExec(c) => execute_calldata(
                mode_code(CallType::Single, ExecType::Try),
                encode_single(&c.call()),
            ),
            Self::ExecuteUserOp => {
                let mut v = mandate_abi::sol::IAccountExecute::executeUserOpCall::SELECTOR.to_vec();
                v.extend_from_slice(&[0u8; 64]);
                v.into()
            }
            Self::AccountCall(s, args) => {
                let mut v = selector(*s).to_vec();
                for a in args {
                    v.extend_from_slice(&resolve(*a).to_be_bytes::<32>());
                }
                v.into()
            }
            Self::Mangled(inner, cut, extra) => {
                let mut v = inner.encode().to_vec();
                v.truncate(v.len().saturating_sub(*cut));
                v.extend_from_slice(extra);
                v.into()
            }
        }
    }
}

#[derive(Clone, Debug)]
pub enum SigSpec {
    Good,
    WrongKey,
    /// Good, with v changed, or s made high, or length changed.
    Malformed(u8),
    UnknownPermission,
    Mode(u8),
    Short(usize),
    Enable(Box<EnableSpec>),
}

/// An ENABLE / UNSAFE_ENABLE signature for `session`.
#[derive(Clone, Debug)]
pub struct EnableSpec {
    pub unsafe_mode: bool,
    pub session: SessionSpec,
    /// 0: right index; 1: index past the digests.
    pub index_past: bool,
    pub wrong_chain: bool,
    /// Sign the digest under the next nonce instead of the current one.
    pub stale_nonce: bool,
    pub owner_ok: bool,
    pub key_ok: bool,
    /// Cut the compressed payload by this many bytes.
    pub cut: usize,
}

#[derive(Clone, Debug)]
pub struct OpSpec {
    pub call_data: CallDataSpec,
    pub sig: SigSpec,
    pub paymaster: bool,
    pub hash: B256,
}

#[derive(Clone, Debug)]
pub struct Case {
    pub sessions: Vec<SessionSpec>,
    pub ops: Vec<OpSpec>,
}

fn word() -> impl Strategy<Value = U256> {
    prop_oneof![
        4 => (0u64..5).prop_map(U256::from),
        3 => prop::sample::select(vec![99u64, 100, 101, 999, 1000, 1001]).prop_map(U256::from),
        2 => Just(U256::from_be_slice(ACCOUNT.as_slice())),
        1 => Just(U256::from_be_slice(OTHER.as_slice())),
        1 => Just(U256::MAX),
        1 => Just(U256::from(1) << 255),
        1 => Just(U256::from(u128::MAX)),
        1 => any::<[u8; 32]>().prop_map(U256::from_be_bytes),
    ]
}

fn amount() -> impl Strategy<Value = U256> {
    prop_oneof![
        Just(U256::ZERO),
        Just(U256::from(1)),
        Just(U256::from(100)),
        Just(U256::from(1000)),
        Just(U256::MAX),
    ]
}

fn time() -> impl Strategy<Value = u64> {
    let now = mandate_sim::GENESIS_TIMESTAMP;
    prop::sample::select(vec![0, 1, now - 1, now, now + 1, now + 1000, (1 << 48) - 1])
}

/// Mostly valid windows (after <= until or until = 0), sometimes not.
fn time_frame() -> impl Strategy<Value = PolicySpec> {
    (time(), time(), prop::bool::weighted(0.1)).prop_map(|(a, b, raw)| {
        let (until, after) = if raw || a == 0 { (a, b) } else { (a.max(b), a.min(b)) };
        PolicySpec::Time { until, after }
    })
}

fn rule() -> impl Strategy<Value = RuleSpec> {
    (
        0u8..7,
        prop_oneof![4 => (0u64..4).prop_map(|i| i * 32), 1 => 0u64..100, 1 => Just(u64::MAX - 20)],
        any::<bool>(),
        prop_oneof![
            word(),
            (0u128..2000, 0u128..2000)
                .prop_map(|(a, b)| (U256::from(a.min(b)) << 128) | U256::from(a.max(b))),
        ],
        prop_oneof![
            Just(U256::ZERO),
            Just(U256::from(100)),
            Just(U256::from(1000)),
            Just(U256::MAX)
        ],
    )
        .prop_map(|(condition, offset, limited, reference, limit)| RuleSpec {
            condition,
            offset,
            limited,
            reference,
            limit,
        })
}

fn action_policy() -> impl Strategy<Value = PolicySpec> {
    prop_oneof![
        3 => Just(PolicySpec::Sudo),
        2 => prop::sample::select(vec![1u128, 2, 3, u128::MAX]).prop_map(PolicySpec::Usage),
        2 => prop_oneof![4 => Just(U256::from(1)), 4 => Just(U256::from(100)), 4 => Just(U256::from(1001)), 1 => Just(U256::ZERO)]
            .prop_map(PolicySpec::Value),
        2 => time_frame(),
        4 => (prop_oneof![Just(U256::ZERO), Just(U256::from(100)), Just(U256::MAX)],
              prop_oneof![3 => prop::collection::vec(rule(), 0..3), 1 => prop::collection::vec(rule(), 0..=16)])
            .prop_map(|(value_limit, rules)| PolicySpec::Uni { value_limit, rules }),
        3 => prop::collection::vec((0u8..2, prop_oneof![4 => Just(U256::from(1)), 4 => Just(U256::from(100)), 4 => Just(U256::from(1000)), 1 => Just(U256::ZERO)]), 0..3)
            .prop_map(|tokens| PolicySpec::Erc20 { tokens }),
    ]
}

fn user_op_policy() -> impl Strategy<Value = PolicySpec> {
    prop_oneof![
        Just(PolicySpec::Sudo),
        prop::sample::select(vec![1u128, 2, 3]).prop_map(PolicySpec::Usage),
        prop_oneof![Just(U256::from(1)), Just(U256::from(100)), Just(U256::from(1001))]
            .prop_map(PolicySpec::Value),
        time_frame(),
    ]
}

fn session_spec() -> impl Strategy<Value = SessionSpec> {
    (
        prop::bool::weighted(0.08),
        0u8..3,
        prop::collection::vec(user_op_policy(), 0..3),
        prop::collection::vec(
            (
                target_index(),
                selector_index(),
                prop::bool::weighted(0.25),
                prop::collection::vec(action_policy(), 1..3),
            )
                .prop_map(|(target, selector, fallback, policies)| ActionSpec {
                    target,
                    selector,
                    fallback,
                    policies,
                }),
            0..5,
        ),
        any::<bool>(),
        prop::bool::weighted(0.4),
    )
        .prop_map(|(short_key, salt, user_op, mut actions, paymaster, sudo_fallback)| {
            if sudo_fallback {
                actions.push(ActionSpec {
                    target: 0,
                    selector: 0,
                    fallback: true,
                    policies: vec![PolicySpec::Sudo],
                });
            }
            SessionSpec { short_key, salt, user_op, actions, paymaster }
        })
}

fn target_index() -> impl Strategy<Value = u8> {
    prop_oneof![6 => Just(0u8), 2 => Just(1u8), 1 => Just(2u8)]
}

fn selector_index() -> impl Strategy<Value = u8> {
    prop_oneof![8 => 0u8..2, 3 => 2u8..4, 2 => 4u8..7]
}

fn call_spec() -> impl Strategy<Value = CallSpec> {
    (
        prop_oneof![12 => target_index(), 1 => 3u8..6],
        amount(),
        prop::option::weighted(0.95, selector_index()),
        prop::collection::vec(word(), 0..5),
        prop_oneof![8 => Just(0usize), 1 => 1usize..40],
    )
        .prop_map(|(target, value, selector, args, cut)| CallSpec {
            target,
            value,
            selector,
            args,
            cut,
        })
}

fn call_data_spec() -> impl Strategy<Value = CallDataSpec> {
    let base = prop_oneof![
        6 => call_spec().prop_map(CallDataSpec::Single),
        6 => prop::collection::vec(call_spec(), 0..5).prop_map(CallDataSpec::Batch),
        1 => call_spec().prop_map(CallDataSpec::Delegate),
        1 => call_spec().prop_map(CallDataSpec::TryExec),
        1 => Just(CallDataSpec::ExecuteUserOp),
        1 => (0u8..7, prop::collection::vec(word(), 0..3)).prop_map(|(s, a)| CallDataSpec::AccountCall(s, a)),
    ];
    prop_oneof![
        12 => base.clone(),
        1 => (base, 1usize..200, prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(b, cut, extra)| CallDataSpec::Mangled(Box::new(b), cut, extra)),
    ]
}

fn sig_spec() -> impl Strategy<Value = SigSpec> {
    prop_oneof![
        16 => Just(SigSpec::Good),
        2 => Just(SigSpec::WrongKey),
        2 => any::<u8>().prop_map(SigSpec::Malformed),
        1 => Just(SigSpec::UnknownPermission),
        1 => (3u8..=255).prop_map(SigSpec::Mode),
        1 => (0usize..33usize).prop_map(SigSpec::Short),
        4 => enable_spec().prop_map(|e| SigSpec::Enable(Box::new(e))),
    ]
}

fn enable_spec() -> impl Strategy<Value = EnableSpec> {
    (
        any::<bool>(),
        session_spec(),
        prop::bool::weighted(0.05),
        prop::bool::weighted(0.05),
        prop::bool::weighted(0.05),
        prop::bool::weighted(0.92),
        prop::bool::weighted(0.95),
        prop_oneof![20 => Just(0usize), 1 => 1usize..30],
    )
        .prop_map(
            |(
                unsafe_mode,
                session,
                index_past,
                wrong_chain,
                stale_nonce,
                owner_ok,
                key_ok,
                cut,
            )| {
                EnableSpec {
                    unsafe_mode,
                    session,
                    index_past,
                    wrong_chain,
                    stale_nonce,
                    owner_ok,
                    key_ok,
                    cut,
                }
            },
        )
}

fn op_spec() -> impl Strategy<Value = OpSpec> {
    (call_data_spec(), sig_spec(), prop::bool::weighted(0.15), any::<[u8; 32]>()).prop_map(
        |(call_data, sig, paymaster, hash)| OpSpec { call_data, sig, paymaster, hash: hash.into() },
    )
}

pub fn case_strategy() -> impl Strategy<Value = Case> {
    (prop::collection::vec(session_spec(), 1..3), prop::collection::vec(op_spec(), 1..7))
        .prop_map(|(sessions, ops)| Case { sessions, ops })
}

/// The op of `spec` under the first session (`pid`), signed as asked (ENABLE signatures read the
/// session's enable nonce from the contract).
pub fn build_op(spec: &OpSpec, pid: B256, devnet: &mut Devnet) -> PackedUserOperation {
    let key = PrivateKeySigner::from_bytes(&SESSION_KEY).unwrap();
    let wrong = PrivateKeySigner::from_bytes(&WRONG_KEY).unwrap();
    let sign = |k: &PrivateKeySigner| {
        k.sign_message_sync(spec.hash.as_slice()).unwrap().as_bytes().to_vec()
    };
    let use_sig = |pid: B256, s: Vec<u8>| {
        let mut v = vec![0u8];
        v.extend_from_slice(pid.as_slice());
        v.extend_from_slice(&s);
        Bytes::from(v)
    };
    let signature = match &spec.sig {
        SigSpec::Good => use_sig(pid, sign(&key)),
        SigSpec::WrongKey => use_sig(pid, sign(&wrong)),
        SigSpec::Malformed(m) => {
            let mut s = sign(&key);
            match m % 4 {
                0 => s[64] = m / 4,
                1 => {
                    // s -> n - s (high s), v flipped: the same point, refused by OpenZeppelin.
                    let n = alloy_primitives::uint!(
                        0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141_U256
                    );
                    let hi = n - U256::from_be_slice(&s[32..64]);
                    s[32..64].copy_from_slice(&hi.to_be_bytes::<32>());
                    s[64] = if s[64] == 27 { 28 } else { 27 };
                }
                2 => s.truncate(64),
                _ => s.push(*m),
            }
            use_sig(pid, s)
        }
        SigSpec::UnknownPermission => use_sig(B256::repeat_byte(0x99), sign(&key)),
        SigSpec::Mode(m) => {
            let mut v = use_sig(pid, sign(&key)).to_vec();
            v[0] = *m;
            v.into()
        }
        SigSpec::Short(n) => use_sig(pid, Vec::new()).slice(..*n),
        SigSpec::Enable(e) => {
            use alloy_sol_types::SolValue;
            use mandate_abi::{ChainDigest, EnableSession, SignedSession, SmartSessionMode};
            let session = e.session.session();
            let b = base();
            let (ss, account) = (b.deployment.smart_session, b.account);
            let permission_id = mandate_abi::PermissionId::of(&session).0;
            let nonce = devnet
                .call_sol(ss, &ISmartSession::getNonceCall { permissionId: permission_id, account })
                .unwrap();
            let mode = if e.unsafe_mode {
                SmartSessionMode::UnsafeEnable
            } else {
                SmartSessionMode::Enable
            };
            let nonce = if e.stale_nonce { nonce + U256::from(1) } else { nonce };
            let digest = SignedSession::of(&session, account, ss, nonce, mode).digest();
            let chain = if e.wrong_chain { 1 } else { mandate_sim::DEVNET_CHAIN_ID };
            let hashes_and_chain_ids = vec![
                ChainDigest { chainId: 8453, sessionDigest: B256::repeat_byte(0x85) },
                ChainDigest { chainId: chain, sessionDigest: digest },
            ];
            let owner = if e.owner_ok { &b.owner } else { &wrong };
            let multichain = mandate_abi::multichain_digest(&hashes_and_chain_ids);
            let enable = EnableSession {
                chainDigestIndex: if e.index_past { 2 } else { 1 },
                hashesAndChainIds: hashes_and_chain_ids,
                sessionToEnable: session,
                permissionEnableSig: b.enable_signature(owner, multichain),
            };
            let key_sig = Bytes::from(sign(if e.key_ok { &key } else { &wrong }));
            let payload = (enable, key_sig).abi_encode_params();
            let mut compressed = mandate_abi::fastlz::compress(&payload);
            compressed.truncate(compressed.len().saturating_sub(e.cut));
            let mut v = vec![mode as u8];
            v.extend_from_slice(&compressed);
            v.into()
        }
    };
    PackedUserOperation {
        sender: base().account,
        nonce: base().session_nonce,
        callData: spec.call_data.encode(),
        paymasterAndData: if spec.paymaster { Bytes::from(vec![0x70; 52]) } else { Bytes::new() },
        signature,
        ..Default::default()
    }
}

/// What revm says when the EntryPoint asks the account: Ok(validation data) or Err(revert
/// data).
pub fn contract_verdict(
    devnet: &mut Devnet,
    op: &PackedUserOperation,
    hash: B256,
) -> Result<Result<U256, Bytes>, String> {
    use alloy_sol_types::SolValue;
    let b = base();
    let call =
        [&VALIDATE_USER_OP[..], &(op.clone(), hash, U256::ZERO).abi_encode_params()].concat();
    match devnet.transact(b.entry_point, b.account, U256::ZERO, call.into()) {
        Ok(receipt) => Ok(Ok(U256::from_be_slice(&receipt.output))),
        Err(SimError::Reverted { revert, .. }) => Ok(Err(revert.data)),
        Err(e) => Err(format!("revm: {e}")),
    }
}

/// Safe7579's `ExecutionFailed()`.
const SAFE7579_EXECUTION_FAILED: [u8; 4] = alloy_primitives::hex!("acfdb444");
/// Kernel's `InvalidValidator()`.
const KERNEL_INVALID_VALIDATOR: [u8; 4] = alloy_primitives::hex!("682a6e7c");

/// What the account of `family` answers the EntryPoint when SmartSession's `validateUserOp`
/// (the evaluator's view) answers `smart_session` to an op with `call_data`, and whether
/// SmartSession's state changes stay (the account may revert after SmartSession returned). The
/// bytecode, family by family:
fn family_view(
    family: AccountType,
    call_data: &[u8],
    smart_session: Result<U256, Bytes>,
) -> (bool, Result<U256, Bytes>) {
    match (family, smart_session) {
        // Kernel v3.1 calls the validator first, then gates a non-root validator by selector:
        // SmartSession was installed with `execute` only, so when SmartSession returns for any
        // other `callData[0:4]`, Kernel reverts `InvalidValidator()` (undoing SmartSession's
        // writes). A returned validation data whose validUntil is 0 ("no expiry") comes back
        // with validUntil = 2^48 - 1 (unless it is 0 altogether): the same for the EntryPoint.
        (AccountType::Kernel, Ok(_)) if call_data.get(..4) != Some(&EXECUTE[..]) => {
            (false, Err(Bytes::from_static(&KERNEL_INVALID_VALIDATOR)))
        }
        (AccountType::Kernel, Ok(data)) => (true, Ok(kernel_validation_data(data))),
        // Safe7579 calls SmartSession through the Safe (`execTransactionFromModuleReturnData`),
        // which returns `false` on a revert and drops its data; the adapter then reverts with
        // its own `ExecutionFailed()`, whatever SmartSession said.
        (AccountType::Safe, Err(_)) => (true, Err(Bytes::from_static(&SAFE7579_EXECUTION_FAILED))),
        // Otherwise the account calls SmartSession directly and passes its answer on (a
        // revert's data bubbles up unchanged).
        (_, answer) => (true, answer),
    }
}

/// Kernel v3.1's rewrite of a validator's validation data: validUntil 0 becomes `2^48 - 1`
/// unless the whole word is 0.
fn kernel_validation_data(data: U256) -> U256 {
    let until_mask: U256 = U256::from((1u64 << 48) - 1) << 160usize;
    let until: U256 = data & until_mask;
    if data.is_zero() || !until.is_zero() { data } else { data | until_mask }
}

/// The state read back from storage equals the evaluator's. Upstream keeps another storage
/// layout (contracts/STORAGE.md describes ours), so there only verdicts are compared — which
/// still depend on every counter the evaluator keeps.
fn compare_state(devnet: &Devnet, local: &AccountState, when: &str) -> Result<(), String> {
    let b = base();
    if FLAVOR.with(std::cell::Cell::get) != Flavor::Ours {
        // Upstream's SmartSession lays out its own storage otherwise; the policies' counters,
        // read for the sessions the evaluator holds, must still be the evaluator's.
        let mut loaded = local.clone();
        let storage = mandate_client::policy_sim::DevnetStorage(devnet);
        mandate_policy::load_policy_state(&storage, &b.deployment, &mut loaded)
            .map_err(|e| e.to_string())?;
        if loaded.policies != local.policies {
            return Err(format!(
                "policy state differs {when}:\n contracts: {:#?}\n local: {:#?}",
                loaded.policies, local.policies
            ));
        }
        return Ok(());
    }
    let loaded = policy_sim::load(devnet, &b.deployment, b.account).map_err(|e| e.to_string())?;
    if &loaded != local {
        return Err(format!("state differs {when}:\n contracts: {loaded:#?}\n local: {local:#?}"));
    }
    Ok(())
}

/// [`run_case_on`] on a family of its own: the families take turns by case (the generators
/// pick one per case, [`family_strategy`]).
pub fn family_strategy() -> impl Strategy<Value = AccountType> {
    prop::sample::select(AccountType::ALL.to_vec())
}

/// Enables the sessions on both sides, then runs every op on both sides, on an account of
/// `family`; returns a label per outcome (for coverage).
pub fn run_case_on(family: AccountType, case: &Case) -> Result<Vec<String>, String> {
    FAMILY.with(|f| f.set(family));
    let mut labels = Vec::new();
    let b = base();
    let mut devnet = b.devnet.clone();
    let sessions: Vec<Session> = case.sessions.iter().map(SessionSpec::session).collect();
    let mut local = if FLAVOR.with(std::cell::Cell::get) == Flavor::Ours {
        policy_sim::load(&devnet, &b.deployment, b.account).map_err(|e| e.to_string())?
    } else {
        AccountState::new(b.account)
    };
    let local_enable = local.enable_sessions(&b.deployment, &sessions);
    let call = ISmartSession::enableSessionsCall { sessions: sessions.clone() };
    let remote = devnet.transact(
        b.account,
        b.deployment.smart_session,
        U256::ZERO,
        call.abi_encode().into(),
    );
    match (&local_enable, &remote) {
        (Ok(_), Ok(_)) => {}
        (Err(_), Err(SimError::Reverted { .. })) => return Ok(vec!["enable reverts".into()]),
        _ => {
            return Err(format!(
                "enableSessions differs: local {local_enable:?}, contracts {remote:?}"
            ));
        }
    }
    compare_state(&devnet, &local, "after enableSessions")?;
    let pid = mandate_abi::PermissionId::of(&sessions[0]).0;
    let evaluator = Evaluator::new(b.deployment.clone())
        .with_enable(mandate_sim::DEVNET_CHAIN_ID, b.owner_verifier());
    for (i, spec) in case.ops.iter().enumerate() {
        let op = build_op(spec, pid, &mut devnet);
        let before = local.clone();
        let ours = evaluator.validate(&mut local, &op, spec.hash);
        let theirs = contract_verdict(&mut devnet, &op, spec.hash)?;
        let ours = match ours {
            // Not modelled, by design: the contract must at least revert, changing nothing.
            Err(EvalError::MalformedEnablePayload) if theirs.is_err() => {
                labels.push("malformed ENABLE stream".into());
                compare_state(&devnet, &local, &format!("after op {i}"))?;
                continue;
            }
            other => other.map_err(|e| format!("op {i}: evaluator: {e}"))?,
        };
        let smart_session = match &ours {
            Verdict::Accept(a) => Ok(a.validation_data),
            Verdict::Reject(r) => Err(r.data.clone()),
        };
        let (kept, expected) = family_view(family, &op.callData, smart_session);
        if !kept {
            // The account refused the op after SmartSession returned: the local run is undone.
            local = before;
            if theirs != expected {
                return Err(format!(
                    "{family:?} op {i}: expected the account's own refusal {expected:?}, got \
                     {theirs:?}\n op: {op:?}"
                ));
            }
            labels.push(format!("{} refuses", family.name()));
            compare_state(&devnet, &local, &format!("after op {i}"))?;
            continue;
        }
        match (&ours, &theirs) {
            (Verdict::Accept(_), Ok(vd)) if expected.as_ref() == Ok(vd) => {
                let Verdict::Accept(a) = &ours else { unreachable!() };
                labels.push(match (a.signature_valid, op.signature[0] != 0) {
                    (true, false) => "accept".into(),
                    (true, true) => "accept (enable)".into(),
                    (false, _) => "signature fails".into(),
                })
            }
            (Verdict::Reject(r), Err(data)) if expected.as_ref() == Err(data) => {
                labels.push(if r.name.is_empty() {
                    "empty revert".into()
                } else if r.name == "PolicyCheckReverted" {
                    format!(
                        "PolicyCheckReverted 0x{}",
                        alloy_primitives::hex::encode(&r.data[4..8])
                    )
                } else {
                    r.name.to_string()
                })
            }
            _ => {
                return Err(format!(
                    "{family:?} op {i} verdict differs:\n local: {ours:#?}\n contracts: {theirs:?}\n op: {op:?}"
                ));
            }
        }
        compare_state(&devnet, &local, &format!("after op {i}"))?;
    }
    Ok(labels)
}
