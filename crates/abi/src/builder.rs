//! Builders for actions and sessions, as abstractjs's `buildSessionAction` and
//! `buildActionPolicy` offer them (spec §11.2): ERC-20 `transfer` / `approve` / `transferFrom`
//! actions turned into the right policies, custom actions, and whole sessions.

use alloy_primitives::{Address, B256, Bytes, FixedBytes, U256};

use crate::{
    ids::FALLBACK_TARGET,
    policy::{ActionConfig, ParamCondition, ParamRule, Policy, PolicyAddresses, TimeFrame},
    sol::{ActionData, ERC7739Data, PolicyData, Session},
};

/// What a builder refuses, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A UniActionPolicy config with more than 16 rules.
    #[error("universal action policy: {0} rules, at most 16")]
    TooManyRules(usize),
    /// `paramRules.length` above 16.
    #[error("universal action policy: paramRules.length is {0}, at most 16")]
    RulesLength(U256),
    /// `calldataArgument(0)`: arguments count from 1.
    #[error("calldata arguments count from 1")]
    ArgumentIndex,
    /// An argument whose offset (32 bytes per argument before it) does not fit in the rule's
    /// `uint64`.
    #[error("calldata argument {0} lies beyond any offset a rule can hold")]
    ArgumentTooFar(u64),
    /// `validAfter` after `validUntil`: TimeFramePolicy reverts `PolicyNotInitialized` when the
    /// session is enabled.
    #[error(
        "time frame: validAfter {valid_after} is after validUntil {valid_until} (TimeFramePolicy \
         reverts PolicyNotInitialized when the session is enabled)"
    )]
    TimeFrame {
        /// The start.
        valid_after: u64,
        /// The end.
        valid_until: u64,
    },
    /// A timestamp that does not fit in 48 bits.
    #[error("time frame: {field} {value} does not fit in uint48")]
    TimeOutOfRange {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u64,
    },
    /// A zero limit, which the policy refuses at initialisation.
    #[error("{policy}: the limit must not be 0")]
    ZeroLimit {
        /// The policy.
        policy: &'static str,
    },
    /// A zero token address in spending limits.
    #[error("spendingLimits: tokenLimits[{index}].token is the zero address")]
    ZeroToken {
        /// The entry's index.
        index: usize,
    },
    /// An action whose target is the zero address.
    #[error("actions[{action}].actionTarget is the zero address")]
    ZeroTarget {
        /// The action's index.
        action: usize,
    },
    /// A session without a session validator.
    #[error("session: sessionValidator is the zero address")]
    ZeroValidator,
    /// A session that permits nothing.
    #[error("session: no actions, user-op policies or ERC-1271 policies")]
    EmptySession,
    /// A function given neither as a selector nor as a signature.
    #[error(
        "function {0:?} is neither a 4-byte selector (0x12345678) nor a signature (name(types))"
    )]
    Function(String),
    /// A batch of fewer than two actions.
    #[error("batch: {0} actions, at least 2")]
    SmallBatch(usize),
}

/// What a builder accepts, because the contracts do, but a reader may not have meant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildWarning {
    /// A rule offset off the 32-byte argument words: the rule reads 32 bytes across two of
    /// them — as it should for arguments of calldata nested in a `bytes` argument (4 + 32·k).
    #[error(
        "universal action policy: rules[{rule}].offset {offset} is not on an argument word (a \
         multiple of 32): the rule reads bytes {offset}..{} after the selector",
        offset + 32
    )]
    UnalignedOffset {
        /// The rule's index.
        rule: usize,
        /// Its offset.
        offset: u64,
    },
    /// A rule whose offset lies near 2^64, past any calldata: every check of the rule reverts
    /// (reading it overflows or runs off the calldata), so no call passes it.
    #[error(
        "universal action policy: rules[{rule}].offset {offset} lies past any calldata: every \
         call checked by it reverts"
    )]
    UnreadableOffset {
        /// The rule's index.
        rule: usize,
        /// Its offset.
        offset: u64,
    },
}

/// The 4-byte selector of `function`: `0x12345678`, or a signature such as
/// `transfer(address,uint256)`, canonicalised as solc hashes it (see [`signature_selector`]).
pub fn selector(function: &str) -> Result<FixedBytes<4>, BuildError> {
    let f = function.trim();
    if let Some(hex) = f.strip_prefix("0x") {
        let bytes =
            alloy_primitives::hex::decode(hex).map_err(|_| BuildError::Function(f.into()))?;
        return <[u8; 4]>::try_from(bytes.as_slice())
            .map(FixedBytes::from)
            .map_err(|_| BuildError::Function(f.into()));
    }
    signature_selector(f).ok_or_else(|| BuildError::Function(f.into()))
}

/// The selector of a function signature, read by [`alloy_json_abi::Function::parse`] and
/// hashed in its canonical form, as solc computes it: `transfer(address,uint)` and
/// `function transfer(address to, uint256 amount)` both give `transfer(address,uint256)`'s
/// `0xa9059cbb`. `None` if `signature` is not a function signature.
pub fn signature_selector(signature: &str) -> Option<FixedBytes<4>> {
    alloy_json_abi::Function::parse(signature).ok().map(|f| f.selector())
}

/// The three ERC-20 actions abstractjs builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Erc20Function {
    /// `transfer(address to, uint256 amount)`: recipient argument 1, amount argument 2.
    Transfer,
    /// `approve(address spender, uint256 amount)`: recipient argument 1, amount argument 2.
    Approve,
    /// `transferFrom(address from, address to, uint256 amount)`: recipient 2, amount 3.
    TransferFrom,
}

impl Erc20Function {
    /// The selector.
    pub const fn selector(self) -> FixedBytes<4> {
        FixedBytes(match self {
            Self::Transfer => {
                <crate::sol::IERC20::transferCall as alloy_sol_types::SolCall>::SELECTOR
            }
            Self::Approve => {
                <crate::sol::IERC20::approveCall as alloy_sol_types::SolCall>::SELECTOR
            }
            Self::TransferFrom => {
                <crate::sol::IERC20::transferFromCall as alloy_sol_types::SolCall>::SELECTOR
            }
        })
    }

    const fn arguments(self) -> (u64, u64) {
        match self {
            Self::Transfer | Self::Approve => (1, 2),
            Self::TransferFrom => (2, 3),
        }
    }
}

/// One day, abstractjs's default length of an action's time frame.
pub const DEFAULT_TIME_FRAME: u64 = 86_400;

/// An ERC-20 action with abstractjs's options; unset options add no policy, and with none set
/// the action is under SudoPolicy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Erc20Action {
    /// Which function.
    pub function: Erc20Function,
    /// The token.
    pub token: Address,
    /// The only allowed recipient.
    pub recipient: Option<Address>,
    /// Most per call.
    pub amount_limit_per_action: Option<U256>,
    /// Most in total (counted on the amount rule).
    pub max_amount_limit: Option<U256>,
    /// How many calls.
    pub usage_limit: Option<u128>,
    /// Not before (defaults to `now` when only `valid_until` is set).
    pub valid_after: Option<u64>,
    /// Not after (defaults to `valid_after` + 1 day when only `valid_after` is set).
    pub valid_until: Option<u64>,
    /// Explicit policies instead of the derived ones.
    pub policies: Option<Vec<PolicyData>>,
}

impl Erc20Action {
    /// An action on `function` of `token` with no options yet.
    pub const fn new(function: Erc20Function, token: Address) -> Self {
        Self {
            function,
            token,
            recipient: None,
            amount_limit_per_action: None,
            max_amount_limit: None,
            usage_limit: None,
            valid_after: None,
            valid_until: None,
            policies: None,
        }
    }

    /// Only to `recipient`.
    pub const fn recipient(mut self, recipient: Address) -> Self {
        self.recipient = Some(recipient);
        self
    }

    /// At most `amount` per call.
    pub const fn amount_limit_per_action(mut self, amount: U256) -> Self {
        self.amount_limit_per_action = Some(amount);
        self
    }

    /// At most `amount` in total.
    pub const fn max_amount_limit(mut self, amount: U256) -> Self {
        self.max_amount_limit = Some(amount);
        self
    }

    /// At most `uses` calls.
    pub const fn usage_limit(mut self, uses: u128) -> Self {
        self.usage_limit = Some(uses);
        self
    }

    /// Valid from `after` until `until` (inclusive).
    pub const fn time_frame(mut self, after: u64, until: u64) -> Self {
        self.valid_after = Some(after);
        self.valid_until = Some(until);
        self
    }

    /// The action, its policies derived as abstractjs derives them; `now` fills a missing
    /// `valid_after` when only `valid_until` is given.
    pub fn build(&self, addresses: &PolicyAddresses, now: u64) -> Result<ActionData, BuildError> {
        if self.token == Address::ZERO {
            return Err(BuildError::ZeroTarget { action: 0 });
        }
        let policies = match &self.policies {
            Some(explicit) => explicit.clone(),
            None => self.derived_policies(addresses, now)?,
        };
        Ok(ActionData {
            actionTargetSelector: self.function.selector(),
            actionTarget: self.token,
            actionPolicies: policies,
        })
    }

    fn derived_policies(
        &self,
        addresses: &PolicyAddresses,
        now: u64,
    ) -> Result<Vec<PolicyData>, BuildError> {
        let (recipient_arg, amount_arg) = self.function.arguments();
        let mut rules = Vec::new();
        if let Some(recipient) = self.recipient {
            let reference = B256::left_padding_from(recipient.as_slice());
            rules.push(ParamRule::on_argument(recipient_arg, ParamCondition::Equal, reference)?);
        }
        if let Some(per_call) = self.amount_limit_per_action.or(self.max_amount_limit) {
            let reference = B256::from(per_call.to_be_bytes::<32>());
            let rule =
                ParamRule::on_argument(amount_arg, ParamCondition::LessThanOrEqual, reference)?;
            rules.push(match self.max_amount_limit {
                Some(total) => rule.limited(total),
                None => rule,
            });
        }
        let mut policies = Vec::new();
        if !rules.is_empty() {
            policies.push(Policy::UniAction(ActionConfig::new(U256::ZERO, rules)?));
        }
        if let Some(uses) = self.usage_limit {
            policies.push(Policy::UsageLimit(uses));
        }
        if self.valid_after.is_some() || self.valid_until.is_some() {
            let valid_after = self.valid_after.unwrap_or(now);
            let valid_until =
                self.valid_until.unwrap_or(valid_after.saturating_add(DEFAULT_TIME_FRAME));
            policies.push(Policy::TimeFrame(TimeFrame { valid_until, valid_after }));
        }
        if policies.is_empty() {
            policies.push(Policy::Sudo);
        }
        policies.iter().map(|p| p.to_policy_data(addresses)).collect()
    }
}

/// A call to `function` of `target` under `policies` (SudoPolicy when empty), as abstractjs's
/// `custom` action.
pub fn custom_action(
    target: Address,
    function: &str,
    policies: &[Policy],
    addresses: &PolicyAddresses,
) -> Result<ActionData, BuildError> {
    if target == Address::ZERO {
        return Err(BuildError::ZeroTarget { action: 0 });
    }
    let sudo = [Policy::Sudo];
    let policies = if policies.is_empty() { &sudo[..] } else { policies };
    Ok(ActionData {
        actionTargetSelector: selector(function)?,
        actionTarget: target,
        actionPolicies: policies
            .iter()
            .map(|p| p.to_policy_data(addresses))
            .collect::<Result<_, _>>()?,
    })
}

/// Several actions enabled together (abstractjs's `batch`: at least two).
pub fn batch(actions: Vec<ActionData>) -> Result<Vec<ActionData>, BuildError> {
    if actions.len() < 2 {
        return Err(BuildError::SmallBatch(actions.len()));
    }
    Ok(actions)
}

/// Builds a [`Session`], checking it is usable.
#[derive(Clone, Debug, Default)]
pub struct SessionBuilder {
    session: Session,
}

impl SessionBuilder {
    /// A session for `validator` with its init data (e.g. the session key's address).
    pub fn new(validator: Address, init_data: impl Into<Bytes>) -> Self {
        Self {
            session: Session {
                sessionValidator: validator,
                sessionValidatorInitData: init_data.into(),
                ..Default::default()
            },
        }
    }

    /// Distinguishes sessions with the same validator and key.
    pub const fn salt(mut self, salt: B256) -> Self {
        self.session.salt = salt;
        self
    }

    /// Adds an action.
    pub fn action(mut self, action: ActionData) -> Self {
        self.session.actions.push(action);
        self
    }

    /// Adds actions.
    pub fn actions(mut self, actions: impl IntoIterator<Item = ActionData>) -> Self {
        self.session.actions.extend(actions);
        self
    }

    /// Adds a policy checked on every user operation.
    pub fn user_op_policy(mut self, policy: PolicyData) -> Self {
        self.session.userOpPolicies.push(policy);
        self
    }

    /// Sets the ERC-1271 permissions.
    pub fn erc7739(mut self, data: ERC7739Data) -> Self {
        self.session.erc7739Policies = data;
        self
    }

    /// Lets ops of this session use a paymaster.
    pub const fn permit_erc4337_paymaster(mut self, permit: bool) -> Self {
        self.session.permitERC4337Paymaster = permit;
        self
    }

    /// The session, or why it would not work.
    pub fn build(self) -> Result<Session, BuildError> {
        let s = self.session;
        if s.sessionValidator == Address::ZERO {
            return Err(BuildError::ZeroValidator);
        }
        if s.actions.is_empty()
            && s.userOpPolicies.is_empty()
            && s.erc7739Policies.erc1271Policies.is_empty()
        {
            return Err(BuildError::EmptySession);
        }
        if let Some(action) = s.actions.iter().position(|a| a.actionTarget == Address::ZERO) {
            return Err(BuildError::ZeroTarget { action });
        }
        Ok(s)
    }
}

/// The generic fallback action `(address(1), 0x00000001)`: its policies check calls that match
/// no explicit action.
pub fn fallback_action(policies: Vec<PolicyData>) -> ActionData {
    ActionData {
        actionTargetSelector: crate::ids::FALLBACK_SELECTOR,
        actionTarget: FALLBACK_TARGET,
        actionPolicies: policies,
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{hex, keccak256};

    use super::*;

    #[test]
    fn selectors_from_signatures() {
        assert_eq!(
            selector("transfer(address,uint256)").unwrap(),
            Erc20Function::Transfer.selector()
        );
        assert_eq!(
            selector("approve(address,uint256)").unwrap(),
            Erc20Function::Approve.selector()
        );
        assert_eq!(
            selector("transferFrom(address,address,uint256)").unwrap(),
            Erc20Function::TransferFrom.selector()
        );
        assert_eq!(selector("0x40d097c3").unwrap(), FixedBytes::from(hex!("40d097c3")));
        assert!(matches!(selector("transfer"), Err(BuildError::Function(_))));
        // Canonicalised as solc hashes it, not hashed as written.
        for spelling in [
            "transfer(address,uint)",
            "transfer(address to, uint256 amount)",
            "function transfer(address,uint256)",
        ] {
            assert_eq!(
                selector(spelling).unwrap(),
                Erc20Function::Transfer.selector(),
                "{spelling}"
            );
        }
        assert_eq!(
            selector("f(int,uint[],(uint,bool)[2])").unwrap(),
            FixedBytes::from_slice(&keccak256("f(int256,uint256[],(uint256,bool)[2])")[..4])
        );
        for bad in ["transfer(", "(address)", "transfer(address,,uint256)", "", "0x"] {
            assert!(matches!(selector(bad), Err(BuildError::Function(_))), "{bad}");
        }
        assert!(matches!(selector("0x1234"), Err(BuildError::Function(_))));
    }

    #[test]
    fn erc20_transfer_derives_abstractjs_policies() {
        let token = Address::repeat_byte(0xaa);
        let action = Erc20Action::new(Erc20Function::Transfer, token)
            .recipient(Address::repeat_byte(0xbb))
            .amount_limit_per_action(U256::from(10))
            .max_amount_limit(U256::from(100))
            .usage_limit(5)
            .time_frame(1000, 2000)
            .build(&PolicyAddresses::MODULE_SDK, 0)
            .unwrap();
        let addresses = PolicyAddresses::MODULE_SDK;
        let kinds: Vec<_> = action.actionPolicies.iter().map(|p| p.policy).collect();
        assert_eq!(kinds, vec![addresses.uni_action, addresses.usage_limit, addresses.time_frame]);
        let uni = &action.actionPolicies[0].initData;
        assert_eq!(U256::from_be_slice(&uni[32..64]), U256::from(2)); // two rules
        assert_eq!(uni[64 + 31], 0); // recipient: EQUAL
        assert_eq!(U256::from_be_slice(&uni[64 + 32..64 + 64]), U256::ZERO); // argument 1
        assert_eq!(uni[64 + 6 * 32 + 31], 4); // amount: LESS_THAN_OR_EQUAL
        assert_eq!(U256::from_be_slice(&uni[64 + 7 * 32..64 + 8 * 32]), U256::from(32)); // argument 2
        assert_eq!(uni[64 + 8 * 32 + 31], 1); // limited
    }

    #[test]
    fn no_options_means_sudo() {
        let action = Erc20Action::new(Erc20Function::Approve, Address::repeat_byte(1))
            .build(&PolicyAddresses::MODULE_SDK, 0)
            .unwrap();
        assert_eq!(action.actionPolicies.len(), 1);
        assert_eq!(action.actionPolicies[0].policy, PolicyAddresses::MODULE_SDK.sudo);
    }

    #[test]
    fn sessions_are_checked() {
        let empty = SessionBuilder::new(Address::repeat_byte(1), Bytes::new()).build();
        assert_eq!(empty, Err(BuildError::EmptySession));
        let no_validator = SessionBuilder::new(Address::ZERO, Bytes::new()).build();
        assert_eq!(no_validator, Err(BuildError::ZeroValidator));
        let zero_target = SessionBuilder::new(Address::repeat_byte(1), Bytes::new())
            .action(ActionData::default())
            .build();
        assert_eq!(zero_target, Err(BuildError::ZeroTarget { action: 0 }));
        assert_eq!(batch(vec![]), Err(BuildError::SmallBatch(0)));
    }
}
