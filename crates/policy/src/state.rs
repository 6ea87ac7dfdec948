//! The state SmartSession and its policies keep for one account, in memory, and how enabling
//! sessions changes it (mirroring `enableSessions` and each policy's `initializeWithMultiplexer`).

use alloy_primitives::{
    Address, B256, Bytes, U256, keccak256,
    map::{AddressMap, FbBuildHasher, HashMap},
};
use alloy_sol_types::{SolError, SolValue};
use mandate_abi::{
    ActionId, ConfigId, Deployments, ParamCondition, PermissionId, PolicyData, Session,
    SessionValidators,
};
use serde::{Deserialize, Serialize};

use crate::{
    error::{EnableError, UniConfigError},
    revert::{
        InvalidInitDataLength, InvalidLimit, InvalidTokenAddress, PolicyNotInitialized, error_name,
        panic_data,
    },
};

/// A map keyed by a 32-byte id ([`PermissionId`], [`ActionId`]), hashed as alloy hashes `B256`.
pub type IdMap<K, V> = HashMap<K, V, FbBuildHasher<32>>;

/// The policy contracts the evaluator models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PolicyKind {
    /// Allows everything, keeps no state.
    Sudo,
    /// Value cap per call and up to 16 calldata parameter rules.
    UniAction,
    /// A validAfter / validUntil window.
    TimeFrame,
    /// Per-token ERC-20 budgets.
    Erc20SpendingLimit,
    /// A maximum number of uses.
    UsageLimit,
    /// A cumulative native value budget.
    ValueLimit,
}

/// The slot a policy is enabled in; decides the ERC-165 interface it must support.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PolicySlot {
    /// `checkUserOpPolicy` (IUserOpPolicy).
    UserOp,
    /// `checkAction` (IActionPolicy).
    Action,
    /// `check1271SignedAction` (I1271Policy).
    Erc1271,
}

impl PolicyKind {
    /// Whether the contract supports the interface of `slot` (its `supportsInterface`).
    pub fn supports(self, slot: PolicySlot) -> bool {
        match self {
            Self::Sudo | Self::TimeFrame => true,
            Self::UsageLimit | Self::ValueLimit => slot != PolicySlot::Erc1271,
            Self::UniAction | Self::Erc20SpendingLimit => slot == PolicySlot::Action,
        }
    }
}

/// Where the modelled contracts live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// The SmartSession validator (the policies' multiplexer).
    pub smart_session: Address,
    /// The session validators the evaluator models, by kind.
    pub session_validators: SessionValidators,
    /// Each modelled policy contract and its kind.
    pub policies: Vec<(Address, PolicyKind)>,
}

impl Deployment {
    /// The contracts of a chain's `deployments`: SmartSession, its session validators and the
    /// six standard policies.
    pub fn new(deployments: &Deployments) -> Self {
        let policies = &deployments.policies;
        Self {
            smart_session: deployments.smart_session,
            session_validators: deployments.session_validators,
            policies: vec![
                (policies.sudo, PolicyKind::Sudo),
                (policies.uni_action, PolicyKind::UniAction),
                (policies.time_frame, PolicyKind::TimeFrame),
                (policies.erc20_spending_limit, PolicyKind::Erc20SpendingLimit),
                (policies.usage_limit, PolicyKind::UsageLimit),
                (policies.value_limit, PolicyKind::ValueLimit),
            ],
        }
    }

    /// The kind of the policy at `policy`, if modelled.
    pub fn kind(&self, policy: Address) -> Option<PolicyKind> {
        self.policies.iter().find(|(a, _)| *a == policy).map(|(_, k)| *k)
    }
}

/// One parameter rule of UniActionPolicy, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UniRule {
    /// The comparison.
    pub condition: ParamCondition,
    /// Byte offset of the parameter after the selector.
    pub offset: u64,
    /// Whether the rule keeps a cumulative usage.
    pub is_limited: bool,
    /// The reference value.
    pub reference: B256,
    /// The usage limit.
    pub limit: U256,
    /// The usage so far.
    pub used: U256,
}

/// UniActionPolicy's config for one (config id, account).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UniConfig {
    /// `valueLimitPerUse`.
    pub value_limit_per_use: U256,
    /// The active rules (`paramRules.length` of them).
    pub rules: Vec<UniRule>,
}

/// One token's budget in ERC20SpendingLimitPolicy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenBudget {
    /// `alreadySpent`.
    pub spent: U256,
    /// `approvedAmount`.
    pub approved: U256,
    /// `spendingLimit`.
    pub limit: U256,
}

impl TokenBudget {
    pub(crate) fn is_zero(&self) -> bool {
        self.spent.is_zero() && self.approved.is_zero() && self.limit.is_zero()
    }
}

/// ERC20SpendingLimitPolicy's state for one (config id, account).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Erc20Config {
    /// The configured tokens, in set order.
    pub tokens: Vec<Address>,
    /// Non-zero budgets by token (absent = all zero).
    pub budgets: AddressMap<TokenBudget>,
}

/// The state of one policy for one config id; absent entries are all-zero storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyState {
    /// TimeFramePolicy: `validUntil << 48 | validAfter`.
    TimeFrame(u128),
    /// UsageLimitPolicy.
    UsageLimit {
        /// The limit.
        limit: u128,
        /// Uses so far.
        used: u128,
    },
    /// ValueLimitPolicy.
    ValueLimit {
        /// The budget in wei.
        limit: U256,
        /// Wei used so far.
        used: U256,
    },
    /// UniActionPolicy.
    UniAction(UniConfig),
    /// ERC20SpendingLimitPolicy.
    Erc20(Erc20Config),
}

/// A session (permission) of the account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionState {
    /// The session validator (zero: none).
    pub validator: Address,
    /// Its config (the session key data).
    pub validator_config: Bytes,
    /// `permitERC4337Paymaster`.
    pub permit_paymaster: bool,
    /// The enable-signature nonce.
    pub nonce: U256,
    /// User-operation policies, in storage order.
    pub user_op_policies: Vec<Address>,
    /// ERC-1271 policies, in storage order.
    pub erc1271_policies: Vec<Address>,
    /// ERC-7739 content allowed: each app domain separator (in storage order) with the hashes
    /// of the content descriptions allowed under it (`keccak256(bytes(contentName))`).
    pub erc7739_content: Vec<(B256, Vec<B256>)>,
    /// Enabled action ids, in storage order.
    pub action_ids: Vec<ActionId>,
    /// Action policies by action id, in storage order.
    pub action_policies: IdMap<ActionId, Vec<Address>>,
}

/// Everything the evaluator needs about one account.
#[derive(Clone, Debug)]
pub struct AccountState {
    /// The account.
    pub account: Address,
    /// Enabled permission ids, in storage order.
    pub enabled: Vec<PermissionId>,
    /// Sessions by permission id (including a nonce-only entry for revoked ones).
    pub sessions: IdMap<PermissionId, SessionState>,
    /// Policy states by (policy, config id); absent = zero storage.
    pub policies: HashMap<(Address, ConfigId), PolicyState>,
    /// Memoised hashes (not state: ignored by `==`).
    pub(crate) ids: IdCache,
}

/// keccak256 results the evaluator needs again and again.
#[derive(Clone, Debug, Default)]
pub(crate) struct IdCache {
    /// `ActionId(target, selector)`.
    pub(crate) actions: HashMap<(Address, [u8; 4]), ActionId>,
    /// Action config ids of this account, by (permission, action).
    pub(crate) action_configs: HashMap<(PermissionId, ActionId), ConfigId>,
    /// User-operation config ids of this account, by permission.
    pub(crate) user_op_configs: IdMap<PermissionId, ConfigId>,
}

impl PartialEq for AccountState {
    fn eq(&self, other: &Self) -> bool {
        self.account == other.account
            && self.enabled == other.enabled
            && self.sessions == other.sessions
            && self.policies == other.policies
    }
}

impl Eq for AccountState {}

impl AccountState {
    pub(crate) fn action_id(&mut self, target: Address, selector: [u8; 4]) -> ActionId {
        *self
            .ids
            .actions
            .entry((target, selector))
            .or_insert_with(|| ActionId::new(target, selector.into()))
    }

    pub(crate) fn action_config_id(&mut self, pid: PermissionId, aid: ActionId) -> ConfigId {
        let account = self.account;
        *self
            .ids
            .action_configs
            .entry((pid, aid))
            .or_insert_with(|| pid.action_config_id(account, aid))
    }

    pub(crate) fn user_op_config_id(&mut self, pid: PermissionId) -> ConfigId {
        let account = self.account;
        *self.ids.user_op_configs.entry(pid).or_insert_with(|| pid.user_op_config_id(account))
    }
}

fn set_add<T: PartialEq>(set: &mut Vec<T>, value: T) {
    if !set.contains(&value) {
        set.push(value);
    }
}

impl AccountState {
    /// An account with no session.
    pub fn new(account: Address) -> Self {
        Self {
            account,
            enabled: Vec::new(),
            sessions: HashMap::default(),
            policies: HashMap::default(),
            ids: IdCache::default(),
        }
    }

    /// Whether `permission_id` is enabled.
    pub fn is_enabled(&self, permission_id: &PermissionId) -> bool {
        self.enabled.contains(permission_id)
    }

    /// `enableSessions(sessions)` sent by the account: all or nothing, as the contract's transaction.
    pub fn enable_sessions(
        &mut self,
        deployment: &Deployment,
        sessions: &[Session],
    ) -> Result<Vec<PermissionId>, EnableError> {
        if sessions.is_empty() {
            return Err(EnableError::InvalidData);
        }
        let mut next = self.clone();
        let mut ids = Vec::with_capacity(sessions.len());
        for session in sessions {
            ids.push(next.enable_session(deployment, session)?);
        }
        *self = next;
        Ok(ids)
    }

    pub(crate) fn enable_session(
        &mut self,
        deployment: &Deployment,
        session: &Session,
    ) -> Result<PermissionId, EnableError> {
        let account = self.account;
        let pid = PermissionId::of(session);
        self.enable_policies(
            deployment,
            pid,
            PolicySlot::UserOp,
            None,
            pid.user_op_config_id(account),
            &session.userOpPolicies,
        )?;
        self.enable_policies(
            deployment,
            pid,
            PolicySlot::Erc1271,
            None,
            pid.erc1271_config_id(account),
            &session.erc7739Policies.erc1271Policies,
        )?;
        if pid.0.is_zero() {
            return Err(EnableError::InvalidPermissionId(pid));
        }
        let entry = self.sessions.entry(pid).or_default();
        for context in &session.erc7739Policies.allowedERC7739Content {
            allow_content(
                &mut entry.erc7739_content,
                context.appDomainSeparator,
                context.contentNames.iter().map(|name| keccak256(name.as_bytes())),
            );
        }
        for action in &session.actions {
            let target = action.actionTarget;
            let aid = ActionId::new(target, action.actionTargetSelector);
            if target.is_zero() || target == deployment.smart_session || aid.0.is_zero() {
                return Err(EnableError::InvalidActionId);
            }
            self.enable_policies(
                deployment,
                pid,
                PolicySlot::Action,
                Some(aid),
                pid.action_config_id(account, aid),
                &action.actionPolicies,
            )?;
            set_add(&mut self.sessions.entry(pid).or_default().action_ids, aid);
        }
        set_add(&mut self.enabled, pid);
        let entry = self.sessions.entry(pid).or_default();
        entry.permit_paymaster = session.permitERC4337Paymaster;
        if entry.validator.is_zero() {
            let validator = session.sessionValidator;
            if validator.is_zero() {
                return Err(EnableError::InvalidSessionValidator(validator));
            }
            let known = &deployment.session_validators;
            if known.ecdsa != Some(validator) && known.ownable != Some(validator) {
                return Err(EnableError::UnknownSessionValidator(validator));
            }
            entry.validator = validator;
            entry.validator_config = session.sessionValidatorInitData.clone();
        }
        Ok(pid)
    }

    fn enable_policies(
        &mut self,
        deployment: &Deployment,
        pid: PermissionId,
        slot: PolicySlot,
        action: Option<ActionId>,
        config_id: ConfigId,
        policies: &[PolicyData],
    ) -> Result<(), EnableError> {
        for data in policies {
            let policy = data.policy;
            let kind = deployment.kind(policy).ok_or(EnableError::UnknownPolicy(policy))?;
            if !kind.supports(slot) {
                return Err(EnableError::UnsupportedPolicy(policy));
            }
            let entry = self.sessions.entry(pid).or_default();
            let set = match (slot, action) {
                (PolicySlot::UserOp, _) => &mut entry.user_op_policies,
                (PolicySlot::Erc1271, _) => &mut entry.erc1271_policies,
                (PolicySlot::Action, Some(aid)) => entry.action_policies.entry(aid).or_default(),
                (PolicySlot::Action, None) => return Err(EnableError::InvalidActionId),
            };
            set_add(set, policy);
            self.initialize(deployment.smart_session, policy, kind, config_id, &data.initData)?;
        }
        Ok(())
    }

    /// A policy's `initializeWithMultiplexer(account, configId, initData)` from SmartSession.
    fn initialize(
        &mut self,
        deployment_multiplexer: Address,
        policy: Address,
        kind: PolicyKind,
        id: ConfigId,
        init: &[u8],
    ) -> Result<(), EnableError> {
        let key = (policy, id);
        let account = self.account;
        let multiplexer = deployment_multiplexer;
        let not_initialized = || EnableError::PolicyInit {
            policy,
            reason: error_name::<PolicyNotInitialized>(),
            data: PolicyNotInitialized { id: id.0, multiplexer, account }.abi_encode().into(),
        };
        let short = || EnableError::PolicyInit {
            policy,
            reason: "init data too short",
            data: Bytes::new(),
        };
        let state = match kind {
            PolicyKind::Sudo => return Ok(()),
            PolicyKind::TimeFrame => {
                let bytes = init.get(..12).ok_or_else(short)?;
                let frame = bytes.iter().fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
                let until = frame >> 48;
                if until != 0 && (frame & 0xffff_ffff_ffff) > until {
                    return Err(not_initialized());
                }
                (frame != 0).then_some(PolicyState::TimeFrame(frame))
            }
            PolicyKind::UsageLimit => {
                let bytes = init.get(..16).ok_or_else(short)?;
                let limit = bytes.iter().fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
                if limit == 0 {
                    return Err(not_initialized());
                }
                Some(PolicyState::UsageLimit { limit, used: 0 })
            }
            PolicyKind::ValueLimit => {
                let limit = U256::from_be_slice(init.get(..32).ok_or_else(short)?);
                if limit.is_zero() {
                    return Err(not_initialized());
                }
                Some(PolicyState::ValueLimit { limit, used: U256::ZERO })
            }
            PolicyKind::UniAction => {
                let config = decode_uni_config(init).map_err(|e| EnableError::PolicyInit {
                    policy,
                    reason: e.reason(),
                    data: match e {
                        UniConfigError::TooManyRules { .. } => panic_data(0x32),
                        _ => Bytes::new(),
                    },
                })?;
                (!config.value_limit_per_use.is_zero() || !config.rules.is_empty())
                    .then_some(PolicyState::UniAction(config))
            }
            PolicyKind::Erc20SpendingLimit => {
                let (tokens, limits) = <(Vec<Address>, Vec<U256>)>::abi_decode_params(init)
                    .map_err(|_| EnableError::PolicyInit {
                        policy,
                        reason: "initData is not abi.encode(address[], uint256[])",
                        data: Bytes::new(),
                    })?;
                if tokens.len() != limits.len() {
                    return Err(EnableError::PolicyInit {
                        policy,
                        reason: error_name::<InvalidInitDataLength>(),
                        data: InvalidInitDataLength {}.abi_encode().into(),
                    });
                }
                let mut config = Erc20Config::default();
                for (token, limit) in tokens.into_iter().zip(limits) {
                    if token.is_zero() {
                        return Err(EnableError::PolicyInit {
                            policy,
                            reason: error_name::<InvalidTokenAddress>(),
                            data: InvalidTokenAddress { token }.abi_encode().into(),
                        });
                    }
                    if limit.is_zero() {
                        return Err(EnableError::PolicyInit {
                            policy,
                            reason: error_name::<InvalidLimit>(),
                            data: InvalidLimit { limit }.abi_encode().into(),
                        });
                    }
                    config.budgets.entry(token).or_default().limit = limit;
                    set_add(&mut config.tokens, token);
                }
                (!config.tokens.is_empty()).then_some(PolicyState::Erc20(config))
            }
        };
        match state {
            Some(state) => self.policies.insert(key, state),
            None => self.policies.remove(&key),
        };
        Ok(())
    }
}

/// Decodes `abi.encode(ActionConfig)` as Solidity's `abi.decode` does (98 static words): an
/// invalid enum, uint64 or bool word is an empty revert, more than 16 rules a panic.
pub(crate) fn decode_uni_config(init: &[u8]) -> Result<UniConfig, UniConfigError> {
    const WORDS: usize = 2 + 16 * 6;
    if init.len() < WORDS * 32 {
        return Err(UniConfigError::TooShort { len: init.len() });
    }
    let word = |i: usize| U256::from_be_slice(&init[i * 32..i * 32 + 32]);
    let mut rules = Vec::new();
    let mut decoded = Vec::with_capacity(16);
    for rule in 0..16 {
        let base = 2 + 6 * rule;
        let invalid = |field| UniConfigError::InvalidWord { rule, field };
        let condition = u8::try_from(word(base))
            .ok()
            .and_then(ParamCondition::from_u8)
            .ok_or_else(|| invalid("condition"))?;
        let offset = u64::try_from(word(base + 1)).map_err(|_| invalid("offset"))?;
        let limited = word(base + 2);
        if limited > U256::from(1) {
            return Err(invalid("isLimited"));
        }
        decoded.push(UniRule {
            condition,
            offset,
            is_limited: limited == U256::from(1),
            reference: B256::from(word(base + 3)),
            limit: word(base + 4),
            used: word(base + 5),
        });
    }
    let length = usize::try_from(word(1))
        .ok()
        .filter(|n| *n <= 16)
        .ok_or(UniConfigError::TooManyRules { length: word(1) })?;
    rules.extend_from_slice(&decoded[..length]);
    Ok(UniConfig { value_limit_per_use: word(0), rules })
}

/// Allows `hashes` under `separator` as SmartSession does: a context without names changes
/// nothing; the separator and each hash are added once, in order.
pub(crate) fn allow_content(
    content: &mut Vec<(B256, Vec<B256>)>,
    separator: B256,
    hashes: impl Iterator<Item = B256>,
) {
    let mut hashes = hashes.peekable();
    if hashes.peek().is_none() {
        return;
    }
    let at = match content.iter().position(|(s, _)| *s == separator) {
        Some(at) => at,
        None => {
            content.push((separator, Vec::new()));
            content.len() - 1
        }
    };
    for hash in hashes {
        set_add(&mut content[at].1, hash);
    }
}
