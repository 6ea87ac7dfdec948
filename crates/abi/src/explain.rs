//! What a session allows, in words, and what in it is risky: [`explain`] decodes a
//! [`Session`]'s policies (by the addresses of a chain's [`Deployments`]) into structured
//! findings and plain-English lines; [`lint`] names the [`Risk`]s a grant should be refused for
//! unless the owner allows them, and the [`Warning`]s it only prints.
//!
//! ```
//! use mandate_abi::{
//!     Deployments, SessionBuilder, custom_action,
//!     explain::{Risk, explain, lint},
//!     policy::Policy,
//!     alloy_primitives::Address,
//! };
//!
//! let d = Deployments::MODULE_SDK_0_4;
//! let token = Address::repeat_byte(0x70);
//! let action = custom_action(token, "transfer(address,uint256)", &[Policy::Sudo], &d.policies)?;
//! let session = SessionBuilder::new(Address::repeat_byte(1), vec![2u8; 20]).action(action).build()?;
//! let lines = explain(&session, &d).lines;
//! assert!(lines.iter().any(|l| l.contains("transfer(address,uint256)")), "{lines:?}");
//! assert_eq!(lint(&session, &d).risks(), [Risk::UnboundedSudo]);
//! # Ok::<(), mandate_abi::BuildError>(())
//! ```

use std::{collections::BTreeSet, fmt, str::FromStr};

use alloy_primitives::{Address, B256, FixedBytes, U256};
use alloy_sol_types::SolValue;
use serde::{Deserialize, Serialize};

use crate::{
    ActionConfig, Deployments, LimitUsage, ParamCondition, ParamRule, ParamRules, PermissionId,
    Policy, PolicyData, Session, TimeFrame, TokenLimit,
    builder::signature_selector,
    ids::{FALLBACK_SELECTOR, FALLBACK_SELECTOR_SMART_SESSION_CALL, FALLBACK_TARGET},
    ownable::OwnableData,
    policy::MAX_RULES,
};

/// A risk a grant is refused for unless allowed by its name (`--allow NAME`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Risk {
    /// The session has ERC-1271 permissions: upstream SmartSession never compares the hash it
    /// is asked about with the one the session key signed (spec §8), so one session signature
    /// over allowed contents is valid for **any** hash on the account.
    Erc1271AnyHash,
    /// A generic fallback action (target `address(1)`): calls matching no explicit action are
    /// checked by its policies, and under it the key may call the account itself
    /// (`installModule`, `uninstallModule`) or, with selector `0x00000002`, SmartSession.
    FallbackAction,
    /// An action under SudoPolicy with neither a time frame nor a usage limit, in its own
    /// policies or the session's user-op policies: the key may call it forever.
    UnboundedSudo,
    /// `permitERC4337Paymaster` without a usage or value limit among the user-op policies: the
    /// key may spend the paymaster's deposit on as many ops as it likes.
    UnboundedPaymaster,
    /// The session's key already signs for another permission on the same account: the key
    /// signs the userOpHash, which excludes the signature, so whoever relays the op may swap
    /// the permission id and choose whose counters are spent.
    SharedSessionKey,
}

impl Risk {
    /// Every risk.
    pub const ALL: [Self; 5] = [
        Self::Erc1271AnyHash,
        Self::FallbackAction,
        Self::UnboundedSudo,
        Self::UnboundedPaymaster,
        Self::SharedSessionKey,
    ];

    /// The stable name `--allow` takes.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Erc1271AnyHash => "erc1271-any-hash",
            Self::FallbackAction => "fallback-action",
            Self::UnboundedSudo => "unbounded-sudo",
            Self::UnboundedPaymaster => "unbounded-paymaster",
            Self::SharedSessionKey => "shared-session-key",
        }
    }
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a [`Risk`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown risk {0:?} (erc1271-any-hash, fallback-action, unbounded-sudo, unbounded-paymaster, \
     shared-session-key)"
)]
#[non_exhaustive]
pub struct UnknownRisk(pub String);

impl FromStr for Risk {
    type Err = UnknownRisk;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|r| r.name() == s).ok_or_else(|| UnknownRisk(s.to_string()))
    }
}

/// What [`lint`] prints but does not refuse.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
#[non_exhaustive]
pub enum Warning {
    /// A UniActionPolicy rule whose offset is not the head word of an argument of the action's
    /// function (known from its signature).
    OffsetOffSignature {
        /// The action's index in `actions`.
        action: usize,
        /// The rule's index.
        rule: usize,
        /// Its offset (bytes after the selector).
        offset: u64,
        /// The function's signature.
        function: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OffsetOffSignature { action, rule, offset, function } => write!(
                f,
                "actions[{action}]: universal action rule {rule} reads offset {offset}, which is \
                 not on an argument of {function}"
            ),
        }
    }
}

/// One finding of [`lint`]: a risk (refused unless allowed) with where it is, or a warning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "level")]
#[non_exhaustive]
pub enum Finding {
    /// Refused unless allowed.
    Risk {
        /// Which.
        risk: Risk,
        /// Where and why, in words.
        detail: String,
    },
    /// Printed only.
    Warning(Warning),
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Risk { risk, detail } => write!(f, "{detail} (allow with --allow {risk})"),
            Self::Warning(warning) => write!(f, "warning: {warning}"),
        }
    }
}

/// What [`lint`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Findings(pub Vec<Finding>);

impl Findings {
    /// The risks found, each once, in [`Risk`] order.
    pub fn risks(&self) -> Vec<Risk> {
        let set: BTreeSet<Risk> = self
            .0
            .iter()
            .filter_map(|f| match f {
                Finding::Risk { risk, .. } => Some(*risk),
                Finding::Warning(_) => None,
            })
            .collect();
        set.into_iter().collect()
    }

    /// The risk findings not in `allowed`.
    pub fn refused<'a>(&'a self, allowed: &'a BTreeSet<Risk>) -> impl Iterator<Item = &'a Finding> {
        self.0.iter().filter(|f| matches!(f, Finding::Risk { risk, .. } if !allowed.contains(risk)))
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Warning> {
        self.0.iter().filter_map(|f| match f {
            Finding::Warning(w) => Some(w),
            Finding::Risk { .. } => None,
        })
    }

    /// Adds `other`'s findings.
    pub fn extend(&mut self, other: Self) {
        self.0.extend(other.0);
    }
}

/// A policy of a session, decoded by its address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
#[non_exhaustive]
pub enum DecodedPolicy {
    /// SudoPolicy: allows everything.
    Sudo,
    /// UniActionPolicy.
    UniAction(ActionConfig),
    /// TimeFramePolicy.
    TimeFrame(TimeFrame),
    /// ERC20SpendingLimitPolicy.
    Erc20SpendingLimit {
        /// The tokens and their totals.
        limits: Vec<TokenLimit>,
    },
    /// UsageLimitPolicy.
    UsageLimit {
        /// How many uses.
        limit: u128,
    },
    /// ValueLimitPolicy.
    ValueLimit {
        /// The total native value.
        #[serde(with = "crate::json::u256_flex")]
        limit: U256,
    },
    /// A contract that is none of the deployments' policies: its init data is not read.
    Unknown {
        /// The init data's length.
        init_len: usize,
    },
    /// A known policy whose init data it would refuse (the grant would revert).
    Malformed {
        /// Which policy.
        policy: &'static str,
        /// Why.
        reason: &'static str,
    },
}

impl DecodedPolicy {
    /// The policy's init data read as the deployments' policy at `policy` reads it.
    pub fn decode(data: &PolicyData, deployments: &Deployments) -> Self {
        let p = &deployments.policies;
        let init = data.initData.as_ref();
        let bad = |policy, reason| Self::Malformed { policy, reason };
        let addr = data.policy;
        if addr == Address::ZERO {
            return Self::Unknown { init_len: init.len() };
        }
        if addr == p.sudo {
            Self::Sudo
        } else if addr == p.time_frame {
            let Some(bytes) = init.get(..12) else { return bad("timeFrame", "init data short") };
            let until = be_u64(&bytes[..6]);
            let after = be_u64(&bytes[6..]);
            if until != 0 && after > until {
                return bad("timeFrame", "validAfter is after validUntil");
            }
            Self::TimeFrame(TimeFrame { valid_until: until, valid_after: after })
        } else if addr == p.usage_limit {
            let Some(bytes) = init.get(..16) else { return bad("usageLimit", "init data short") };
            let limit = u128::from_be_bytes(bytes.try_into().unwrap_or_default());
            if limit == 0 {
                return bad("usageLimit", "a zero limit");
            }
            Self::UsageLimit { limit }
        } else if addr == p.value_limit {
            let Some(bytes) = init.get(..32) else { return bad("valueLimit", "init data short") };
            let limit = U256::from_be_slice(bytes);
            if limit.is_zero() {
                return bad("valueLimit", "a zero limit");
            }
            Self::ValueLimit { limit }
        } else if addr == p.erc20_spending_limit {
            let Ok((tokens, limits)) = <(Vec<Address>, Vec<U256>)>::abi_decode_params(init) else {
                return bad("spendingLimits", "not abi.encode(address[], uint256[])");
            };
            if tokens.len() != limits.len() {
                return bad("spendingLimits", "tokens and limits differ in length");
            }
            if tokens.iter().any(|t| t.is_zero()) {
                return bad("spendingLimits", "a zero token");
            }
            if limits.iter().any(U256::is_zero) {
                return bad("spendingLimits", "a zero limit");
            }
            let limits =
                tokens.into_iter().zip(limits).map(|(token, limit)| TokenLimit { token, limit });
            Self::Erc20SpendingLimit { limits: limits.collect() }
        } else if addr == p.uni_action {
            match decode_action_config(init) {
                Some(config) => Self::UniAction(config),
                None => bad("universalAction", "not abi.encode(ActionConfig)"),
            }
        } else {
            Self::Unknown { init_len: init.len() }
        }
    }

    /// The policy, as [`Policy`], if it is a known one read whole.
    pub fn policy(&self) -> Option<Policy> {
        Some(match self {
            Self::Sudo => Policy::Sudo,
            Self::UniAction(config) => Policy::UniAction(config.clone()),
            Self::TimeFrame(frame) => Policy::TimeFrame(*frame),
            Self::Erc20SpendingLimit { limits } => Policy::Erc20SpendingLimit(limits.clone()),
            Self::UsageLimit { limit } => Policy::UsageLimit(*limit),
            Self::ValueLimit { limit } => Policy::ValueLimit(*limit),
            Self::Unknown { .. } | Self::Malformed { .. } => return None,
        })
    }

    /// What the policy allows, in words.
    pub fn describe(&self, function: Option<&str>) -> String {
        match self {
            Self::Sudo => "sudo: no check at all".into(),
            Self::TimeFrame(TimeFrame { valid_until, valid_after }) => {
                match (*valid_after, *valid_until) {
                    (0, 0) => "time frame: no start and no end (not a limit)".into(),
                    (0, until) => format!("time frame: until {}", utc(until)),
                    (after, 0) => format!("time frame: from {}, no end", utc(after)),
                    (after, until) => {
                        format!("time frame: from {} until {}", utc(after), utc(until))
                    }
                }
            }
            Self::UsageLimit { limit } => format!("usage limit: at most {limit} use(s)"),
            Self::ValueLimit { limit } => format!("value limit: at most {limit} wei in total"),
            Self::Erc20SpendingLimit { limits } => {
                let each: Vec<String> =
                    limits.iter().map(|l| format!("{} of token {}", l.limit, l.token)).collect();
                format!("spending limits: at most {} in total", each.join(", "))
            }
            Self::UniAction(config) => {
                let mut out = format!(
                    "universal action: at most {} wei per call",
                    config.value_limit_per_use
                );
                let heads = function.and_then(argument_heads);
                for (i, rule) in checked_rules(config).iter().enumerate() {
                    out.push_str(&format!("; rule {}: ", i + 1));
                    out.push_str(&describe_rule(rule, heads.as_deref()));
                }
                out
            }
            Self::Unknown { init_len } => {
                format!(
                    "a policy that is none of the deployments' ({init_len} bytes of init data, not read)"
                )
            }
            Self::Malformed { policy, reason } => {
                format!("{policy} with init data it refuses ({reason}): the grant would revert")
            }
        }
    }
}

/// A unix time as a UTC date with its seconds beside it: `2024-12-04 08:13:20 UTC (unix
/// 1733300000)`; a time past the calendar's range (a `uint48` allows years past 262,143) as its
/// seconds only.
///
/// ```
/// assert_eq!(mandate_abi::explain::utc(86_400), "1970-01-02 00:00:00 UTC (unix 86400)");
/// assert_eq!(mandate_abi::explain::utc(u64::MAX >> 16), "unix 281474976710655 (past year 262143)");
/// ```
pub fn utc(secs: u64) -> String {
    match i64::try_from(secs).ok().and_then(|s| chrono::DateTime::from_timestamp(s, 0)) {
        Some(date) => format!("{} (unix {secs})", date.format("%Y-%m-%d %H:%M:%S UTC")),
        None => format!("unix {secs} (past year 262143)"),
    }
}

fn be_u64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

/// `abi.encode(ActionConfig)` as UniActionPolicy decodes it (98 static words).
fn decode_action_config(init: &[u8]) -> Option<ActionConfig> {
    const WORDS: usize = 2 + MAX_RULES * 6;
    if init.len() < WORDS * 32 {
        return None;
    }
    let word = |i: usize| U256::from_be_slice(&init[i * 32..i * 32 + 32]);
    let mut rules = Vec::with_capacity(MAX_RULES);
    for rule in 0..MAX_RULES {
        let base = 2 + 6 * rule;
        let condition = u8::try_from(word(base)).ok().and_then(ParamCondition::from_u8)?;
        let offset = u64::try_from(word(base + 1)).ok()?;
        let limited = word(base + 2);
        if limited > U256::from(1) {
            return None;
        }
        rules.push(ParamRule {
            condition,
            offset,
            is_limited: limited == U256::from(1),
            reference: B256::from(word(base + 3)),
            usage: LimitUsage { limit: word(base + 4), used: word(base + 5) },
        });
    }
    let length = word(1);
    if length > U256::from(MAX_RULES) {
        return None;
    }
    Some(ActionConfig { value_limit_per_use: word(0), param_rules: ParamRules { length, rules } })
}

fn checked_rules(config: &ActionConfig) -> &[ParamRule] {
    let rules = &config.param_rules.rules;
    let n = usize::try_from(config.param_rules.length).unwrap_or(MAX_RULES).min(rules.len());
    &rules[..n]
}

fn describe_rule(rule: &ParamRule, heads: Option<&[(u64, String)]>) -> String {
    let head = heads.and_then(|h| h.iter().enumerate().find(|(_, (o, _))| *o == rule.offset));
    let at = match head {
        Some((i, (_, ty))) => format!("argument {} ({ty}, offset {})", i + 1, rule.offset),
        None if rule.offset.is_multiple_of(32) => {
            format!("argument word {} (offset {})", rule.offset / 32 + 1, rule.offset)
        }
        None => format!("the 32 bytes at offset {}", rule.offset),
    };
    let reference = U256::from_be_bytes(rule.reference.0);
    let value = if rule.condition == ParamCondition::InRange {
        format!("{}..={}", reference >> 128, reference & U256::from(u128::MAX))
    } else if reference > U256::from(u128::MAX) || looks_like_address(reference) {
        format!("{}", rule.reference)
    } else {
        reference.to_string()
    };
    let mut out = format!("{at} {} {value}", rule.condition.name());
    if rule.is_limited {
        out.push_str(&format!(", at most {} in total", rule.usage.limit));
        if !rule.usage.used.is_zero() {
            out.push_str(&format!(" ({} already used)", rule.usage.used));
        }
    }
    out
}

fn looks_like_address(word: U256) -> bool {
    word >> 160 == U256::ZERO && word > U256::from(u64::MAX)
}

/// Well-known functions by selector: ERC-20, ERC-721 and the ERC-7579 account's own.
const KNOWN_FUNCTIONS: &[&str] = &[
    "transfer(address,uint256)",
    "approve(address,uint256)",
    "transferFrom(address,address,uint256)",
    "increaseAllowance(address,uint256)",
    "decreaseAllowance(address,uint256)",
    "safeTransferFrom(address,address,uint256)",
    "safeTransferFrom(address,address,uint256,bytes)",
    "setApprovalForAll(address,bool)",
    "mint(address,uint256)",
    "burn(uint256)",
    "execute(bytes32,bytes)",
    "installModule(uint256,address,bytes)",
    "uninstallModule(uint256,address,bytes)",
];

/// The signature of a well-known function with `selector` (ERC-20, ERC-721, the account's
/// `execute`, `installModule`, `uninstallModule`).
pub fn known_function(selector: FixedBytes<4>) -> Option<&'static str> {
    KNOWN_FUNCTIONS.iter().copied().find(|f| signature_selector(f) == Some(selector))
}

/// The head words of `signature`'s arguments: each argument's offset after the selector and
/// its type (a static tuple or fixed array counts as one argument of several words; its first
/// word is the one listed).
pub fn argument_heads(signature: &str) -> Option<Vec<(u64, String)>> {
    let function = alloy_json_abi::Function::parse(signature).ok()?;
    let mut offset = 0u64;
    let mut heads = Vec::with_capacity(function.inputs.len());
    for input in &function.inputs {
        heads.push((offset, input.selector_type().into_owned()));
        offset += 32 * static_words(&input.selector_type()).unwrap_or(1);
    }
    Some(heads)
}

/// The words a static ABI type occupies in place; `None` for a dynamic one (one head word).
fn static_words(ty: &str) -> Option<u64> {
    if let Some(inner) = ty.strip_suffix(']') {
        let open = inner.rfind('[')?;
        let (element, count) = (&inner[..open], &inner[open + 1..]);
        let count: u64 = count.parse().ok()?;
        return static_words(element).map(|w| w * count);
    }
    if let Some(inner) = ty.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        return split_top(inner).iter().map(|t| static_words(t)).sum();
    }
    (ty != "bytes" && ty != "string").then_some(1)
}

fn split_top(list: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0i32, 0usize, Vec::new());
    for (i, c) in list.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&list[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !list.is_empty() {
        out.push(&list[start..]);
    }
    out
}

/// One policy as found in a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyFinding {
    /// The policy contract.
    pub policy: Address,
    /// What its init data says.
    pub decoded: DecodedPolicy,
    /// In words.
    pub text: String,
}

/// One action as found in a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionFinding {
    /// The target (`address(1)`: a fallback action).
    pub target: Address,
    /// The selector.
    pub selector: FixedBytes<4>,
    /// The function's signature, when known.
    pub function: Option<String>,
    /// Whether this is a fallback action.
    pub fallback: bool,
    /// Its policies.
    pub policies: Vec<PolicyFinding>,
}

/// What a session allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// The session's permission id.
    pub permission_id: PermissionId,
    /// The session validator.
    pub session_validator: Address,
    /// The addresses that sign for the session (the ECDSA key, the OwnableValidator's owners),
    /// when the validator is one of the deployments'.
    pub signers: Vec<Address>,
    /// Checked on every op.
    pub user_op_policies: Vec<PolicyFinding>,
    /// The actions.
    pub actions: Vec<ActionFinding>,
    /// ERC-1271: the allowed (app domain separator, content names).
    pub erc1271_contents: Vec<(B256, Vec<String>)>,
    /// ERC-1271 policies.
    pub erc1271_policies: Vec<PolicyFinding>,
    /// Whether ops of the session may use a paymaster.
    pub permit_erc4337_paymaster: bool,
    /// All of it in plain English, one line each.
    pub lines: Vec<String>,
}

/// The signers of `session` by its validator: the ECDSA signer's key, an OwnableValidator's
/// owners; empty for a validator that is none of the deployments' (or data it refuses).
pub fn session_signers(session: &Session, deployments: &Deployments) -> Vec<Address> {
    let v = &deployments.session_validators;
    let data = session.sessionValidatorInitData.as_ref();
    if Some(session.sessionValidator) == v.ecdsa && data.len() == 20 {
        vec![Address::from_slice(data)]
    } else if Some(session.sessionValidator) == v.ownable {
        OwnableData::decode(data).map(|o| o.owners().to_vec()).unwrap_or_default()
    } else {
        Vec::new()
    }
}

fn policies(
    list: &[PolicyData],
    deployments: &Deployments,
    function: Option<&str>,
) -> Vec<PolicyFinding> {
    list.iter()
        .map(|p| {
            let decoded = DecodedPolicy::decode(p, deployments);
            let text = decoded.describe(function);
            PolicyFinding { policy: p.policy, decoded, text }
        })
        .collect()
}

/// What `session` allows, decoded by the policies of `deployments`, with plain-English lines.
pub fn explain(session: &Session, deployments: &Deployments) -> Explanation {
    explain_with(session, deployments, &[])
}

/// [`explain`], with function signatures the caller knows (e.g. `mint(address,uint256)`):
/// each names the actions whose selector is its own, before the well-known ones.
pub fn explain_with(
    session: &Session,
    deployments: &Deployments,
    functions: &[&str],
) -> Explanation {
    let known = |selector: FixedBytes<4>| {
        functions
            .iter()
            .find(|f| signature_selector(f) == Some(selector))
            .map(|f| {
                alloy_json_abi::Function::parse(f).map_or_else(|_| f.to_string(), |f| f.signature())
            })
            .or_else(|| known_function(selector).map(str::to_string))
    };
    let permission_id = PermissionId::of(session);
    let signers = session_signers(session, deployments);
    let user_op_policies = policies(&session.userOpPolicies, deployments, None);
    let actions: Vec<ActionFinding> = session
        .actions
        .iter()
        .map(|a| {
            let selector = a.actionTargetSelector;
            let function = known(selector);
            ActionFinding {
                target: a.actionTarget,
                selector,
                fallback: a.actionTarget == FALLBACK_TARGET,
                policies: policies(&a.actionPolicies, deployments, function.as_deref()),
                function,
            }
        })
        .collect();
    let erc = &session.erc7739Policies;
    let erc1271_contents: Vec<(B256, Vec<String>)> = erc
        .allowedERC7739Content
        .iter()
        .map(|c| (c.appDomainSeparator, c.contentNames.clone()))
        .collect();
    let erc1271_policies = policies(&erc.erc1271Policies, deployments, None);

    let mut lines = Vec::new();
    let who = match &signers[..] {
        [] => "a validator that is none of the deployments'".to_string(),
        [one] => format!("key {one}"),
        many => format!("{} owner(s) {}", many.len(), join(many)),
    };
    lines.push(format!(
        "permission {permission_id}: signed by {who} through session validator {}",
        session.sessionValidator
    ));
    push_policies(&mut lines, "on every op", &user_op_policies);
    if actions.is_empty() {
        lines.push("no action: the key may call nothing".into());
    }
    for (i, a) in actions.iter().enumerate() {
        let head = if a.target == FALLBACK_TARGET && a.selector == FALLBACK_SELECTOR {
            "the fallback action: any call that matches no other action, the account's own \
             installModule / uninstallModule included"
                .to_string()
        } else if a.target == FALLBACK_TARGET && a.selector == FALLBACK_SELECTOR_SMART_SESSION_CALL
        {
            "the fallback action for calls to SmartSession itself (enabling sessions included)"
                .to_string()
        } else {
            let f = a.function.as_deref().unwrap_or("an unknown function");
            format!("{f} ({}) on {}", a.selector, a.target)
        };
        lines.push(format!("action {}: {head}", i + 1));
        for p in &a.policies {
            lines.push(format!("  - {}", p.text));
        }
        if a.policies.is_empty() {
            lines.push("  - no policy: SmartSession refuses it (NoPoliciesSet)".into());
        }
    }
    if erc1271_policies.is_empty() && erc1271_contents.is_empty() {
        lines.push("ERC-1271: none (the key cannot sign messages as the account)".into());
    } else {
        lines.push(
            "ERC-1271: the key signs as the account, and one signature over allowed contents is \
             valid for any hash (upstream never compares the hash)"
                .into(),
        );
        for (separator, names) in &erc1271_contents {
            lines.push(format!("  - app domain {separator}: {}", names.join(", ")));
        }
        for p in &erc1271_policies {
            lines.push(format!("  - {}", p.text));
        }
    }
    lines.push(if session.permitERC4337Paymaster {
        "paymaster: permitted (ops may be sponsored)".into()
    } else {
        "paymaster: not permitted".into()
    });
    Explanation {
        permission_id,
        session_validator: session.sessionValidator,
        signers,
        user_op_policies,
        actions,
        erc1271_contents,
        erc1271_policies,
        permit_erc4337_paymaster: session.permitERC4337Paymaster,
        lines,
    }
}

fn push_policies(lines: &mut Vec<String>, what: &str, list: &[PolicyFinding]) {
    if list.is_empty() {
        lines.push(format!("{what}: no policy"));
        return;
    }
    lines.push(format!("{what}:"));
    for p in list {
        lines.push(format!("  - {}", p.text));
    }
}

fn join(addresses: &[Address]) -> String {
    addresses.iter().map(Address::to_string).collect::<Vec<_>>().join(", ")
}

/// Whether `list` bounds a session in time (a time frame with an end) or in uses.
fn bounds(list: &[PolicyFinding]) -> (bool, bool, bool) {
    let mut time = false;
    let mut usage = false;
    let mut value = false;
    for p in list {
        match p.decoded {
            DecodedPolicy::TimeFrame(TimeFrame { valid_until, .. }) => time |= valid_until != 0,
            DecodedPolicy::UsageLimit { .. } => usage = true,
            DecodedPolicy::ValueLimit { .. } => value = true,
            _ => {}
        }
    }
    (time, usage, value)
}

/// The risks and warnings of `session` by itself (see [`shared_key`] for those it has beside
/// other sessions of the account).
pub fn lint(session: &Session, deployments: &Deployments) -> Findings {
    lint_explained(&explain(session, deployments))
}

/// [`lint`], with the function signatures the caller knows (see [`explain_with`]): a
/// UniActionPolicy rule off the arguments of an action's function is warned of.
pub fn lint_with(session: &Session, deployments: &Deployments, functions: &[&str]) -> Findings {
    lint_explained(&explain_with(session, deployments, functions))
}

/// The findings of an [`Explanation`].
pub fn lint_explained(e: &Explanation) -> Findings {
    let mut out = Vec::new();
    if !e.erc1271_policies.is_empty() || !e.erc1271_contents.is_empty() {
        out.push(Finding::Risk {
            risk: Risk::Erc1271AnyHash,
            detail: format!(
                "permission {} has ERC-1271 permissions ({} content(s), {} polic(ies)): one \
                 session signature over allowed contents is valid for any hash on the account",
                e.permission_id,
                e.erc1271_contents.iter().map(|(_, n)| n.len()).sum::<usize>(),
                e.erc1271_policies.len()
            ),
        });
    }
    let (op_time, op_usage, op_value) = bounds(&e.user_op_policies);
    for (i, a) in e.actions.iter().enumerate() {
        if a.fallback {
            out.push(Finding::Risk {
                risk: Risk::FallbackAction,
                detail: format!(
                    "actions[{i}]: the fallback action ({}, {}): the key may call anything no \
                     other action names, the account's installModule and uninstallModule included",
                    a.target, a.selector
                ),
            });
        }
        let sudo = a.policies.iter().any(|p| p.decoded == DecodedPolicy::Sudo);
        let (time, usage, _) = bounds(&a.policies);
        if sudo && !(time || usage || op_time || op_usage) {
            let name = a.function.as_deref().map_or_else(|| a.selector.to_string(), str::to_string);
            out.push(Finding::Risk {
                risk: Risk::UnboundedSudo,
                detail: format!(
                    "actions[{i}]: {name} on {} under SudoPolicy with neither a time frame nor a \
                     usage limit",
                    a.target
                ),
            });
        }
        let function = a.function.as_deref();
        let Some(heads) = function.and_then(argument_heads) else { continue };
        for p in &a.policies {
            let DecodedPolicy::UniAction(config) = &p.decoded else { continue };
            for (rule, r) in checked_rules(config).iter().enumerate() {
                if !heads.iter().any(|(o, _)| *o == r.offset) {
                    out.push(Finding::Warning(Warning::OffsetOffSignature {
                        action: i,
                        rule,
                        offset: r.offset,
                        function: function.unwrap_or_default().to_string(),
                    }));
                }
            }
        }
    }
    if e.permit_erc4337_paymaster && !(op_usage || op_value) {
        out.push(Finding::Risk {
            risk: Risk::UnboundedPaymaster,
            detail: format!(
                "permission {} permits the ERC-4337 paymaster with neither a usage nor a value \
                 limit among the user-op policies",
                e.permission_id
            ),
        });
    }
    Findings(out)
}

/// [`Risk::SharedSessionKey`] if a signer of `session` also signs for one of `others` (other
/// permissions of the same account; the same permission id is not another).
pub fn shared_key<'a>(
    session: &Session,
    others: impl IntoIterator<Item = &'a Session>,
    deployments: &Deployments,
) -> Findings {
    let id = PermissionId::of(session);
    let mine = session_signers(session, deployments);
    let mut out = Vec::new();
    for other in others {
        let other_id = PermissionId::of(other);
        if other_id == id {
            continue;
        }
        let same_data = other.sessionValidator == session.sessionValidator
            && other.sessionValidatorInitData == session.sessionValidatorInitData;
        let theirs = session_signers(other, deployments);
        let shared: Vec<Address> = mine.iter().filter(|k| theirs.contains(k)).copied().collect();
        if same_data || !shared.is_empty() {
            let who = if shared.is_empty() {
                "the same validator data".to_string()
            } else {
                format!("key {}", join(&shared))
            };
            out.push(Finding::Risk {
                risk: Risk::SharedSessionKey,
                detail: format!(
                    "{who} of permission {id} already signs for permission {other_id} on \
                     the account; one key per permission"
                ),
            });
        }
    }
    Findings(out)
}

#[cfg(test)]
mod tests {
    use alloy_primitives::Bytes;

    use super::*;
    use crate::{
        ERC7739Context, ERC7739Data, Erc20Action, Erc20Function, SessionBuilder,
        builder::fallback_action, custom_action,
    };

    const KEY: Address = Address::repeat_byte(0x5e);

    fn d() -> Deployments {
        Deployments {
            session_validators: crate::SessionValidators {
                ecdsa: Some(Address::repeat_byte(0xec)),
                ownable: Some(crate::deployments::OWNABLE_VALIDATOR),
            },
            ..Deployments::MODULE_SDK_0_4
        }
    }

    fn builder(key: Address) -> SessionBuilder {
        SessionBuilder::new(Address::repeat_byte(0xec), Bytes::copy_from_slice(key.as_slice()))
    }

    fn token() -> Address {
        Address::repeat_byte(0x70)
    }

    fn sudo_transfer() -> crate::ActionData {
        custom_action(token(), "transfer(address,uint256)", &[Policy::Sudo], &d().policies).unwrap()
    }

    fn p(policy: Policy) -> PolicyData {
        policy.to_policy_data(&d().policies).unwrap()
    }

    #[test]
    fn explain_reads_every_policy() {
        let action = Erc20Action::new(Erc20Function::Transfer, token())
            .recipient(Address::repeat_byte(0xbb))
            .amount_limit_per_action(U256::from(100))
            .max_amount_limit(U256::from(250))
            .usage_limit(3)
            .time_frame(1000, 2000)
            .build(&d().policies, 0)
            .unwrap();
        let spend = vec![TokenLimit { token: token(), limit: U256::from(7) }];
        let session = builder(KEY)
            .action(action)
            .user_op_policy(p(Policy::ValueLimit(U256::from(9))))
            .action(
                custom_action(
                    token(),
                    "approve(address,uint256)",
                    &[Policy::Erc20SpendingLimit(spend.clone())],
                    &d().policies,
                )
                .unwrap(),
            )
            .build()
            .unwrap();
        let e = explain(&session, &d());
        assert_eq!(e.signers, [KEY]);
        assert_eq!(e.actions[0].function.as_deref(), Some("transfer(address,uint256)"));
        assert!(matches!(
            &e.actions[0].policies[0].decoded,
            DecodedPolicy::UniAction(c) if checked_rules(c).len() == 2
        ));
        assert_eq!(e.actions[0].policies[1].decoded, DecodedPolicy::UsageLimit { limit: 3 });
        assert_eq!(
            e.actions[0].policies[2].decoded,
            DecodedPolicy::TimeFrame(TimeFrame { valid_until: 2000, valid_after: 1000 })
        );
        assert_eq!(
            e.actions[1].policies[0].decoded,
            DecodedPolicy::Erc20SpendingLimit { limits: spend }
        );
        assert_eq!(
            e.user_op_policies[0].decoded,
            DecodedPolicy::ValueLimit { limit: U256::from(9) }
        );
        let text = e.lines.join("\n");
        for expected in [
            "transfer(address,uint256) (0xa9059cbb) on 0x7070707070707070707070707070707070707070",
            "rule 1: argument 1 (address, offset 0) EQUAL 0x000000000000000000000000bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
            "rule 2: argument 2 (uint256, offset 32) LESS_THAN_OR_EQUAL 100, at most 250 in total",
            "usage limit: at most 3 use(s)",
            "time frame: from 1970-01-01 00:16:40 UTC (unix 1000) until 1970-01-01 00:33:20 UTC (unix 2000)",
            "spending limits: at most 7 of token 0x7070707070707070707070707070707070707070 in total",
            "value limit: at most 9 wei in total",
            "approve(address,uint256)",
            "ERC-1271: none",
            "paymaster: not permitted",
        ] {
            assert!(text.contains(expected), "{expected:?} not in\n{text}");
        }
        // Every policy decodes back to what built it.
        let rebuilt: Vec<PolicyData> =
            e.actions[0].policies.iter().map(|f| p(f.decoded.policy().unwrap())).collect();
        assert_eq!(rebuilt, session.actions[0].actionPolicies);
        assert!(lint(&session, &d()).0.is_empty());
    }

    #[test]
    fn malformed_and_unknown_policies_are_named() {
        let zero_usage =
            PolicyData { policy: d().policies.usage_limit, initData: vec![0; 16].into() };
        assert!(matches!(
            DecodedPolicy::decode(&zero_usage, &d()),
            DecodedPolicy::Malformed { policy: "usageLimit", .. }
        ));
        let other = PolicyData { policy: Address::repeat_byte(9), initData: vec![1, 2].into() };
        assert_eq!(DecodedPolicy::decode(&other, &d()), DecodedPolicy::Unknown { init_len: 2 });
    }

    #[test]
    fn erc1271_any_hash() {
        let allowed = ERC7739Data {
            allowedERC7739Content: vec![ERC7739Context {
                appDomainSeparator: B256::repeat_byte(1),
                contentNames: vec!["Permit(bytes32 stuff)Permit".into()],
            }],
            erc1271Policies: vec![p(Policy::Sudo)],
        };
        let with = builder(KEY).erc7739(allowed).build().unwrap();
        assert_eq!(lint(&with, &d()).risks(), [Risk::Erc1271AnyHash]);
        assert!(
            explain(&with, &d()).lines.iter().any(|l| l.contains("Permit(bytes32 stuff)Permit"))
        );
        let without = builder(KEY).action(bounded_sudo()).build().unwrap();
        assert_eq!(lint(&without, &d()).risks(), []);
    }

    fn bounded_sudo() -> crate::ActionData {
        custom_action(
            token(),
            "transfer(address,uint256)",
            &[Policy::Sudo, Policy::UsageLimit(2)],
            &d().policies,
        )
        .unwrap()
    }

    #[test]
    fn fallback_action_is_a_risk() {
        let fallback = builder(KEY).action(fallback_action(vec![p(Policy::Sudo)])).build().unwrap();
        let risks = lint(&fallback, &d()).risks();
        assert!(risks.contains(&Risk::FallbackAction), "{risks:?}");
        assert!(
            explain(&fallback, &d()).lines.iter().any(|l| l.contains("installModule")),
            "the explanation says the account's own functions are reachable"
        );
        let explicit = builder(KEY).action(bounded_sudo()).build().unwrap();
        assert!(!lint(&explicit, &d()).risks().contains(&Risk::FallbackAction));
    }

    #[test]
    fn unbounded_sudo() {
        let sudo = builder(KEY).action(sudo_transfer()).build().unwrap();
        assert_eq!(lint(&sudo, &d()).risks(), [Risk::UnboundedSudo]);
        // A usage limit on the action, or a time frame with an end on every op, bounds it.
        assert_eq!(lint(&builder(KEY).action(bounded_sudo()).build().unwrap(), &d()).risks(), []);
        let timed = builder(KEY)
            .action(sudo_transfer())
            .user_op_policy(p(Policy::TimeFrame(TimeFrame { valid_until: 5, valid_after: 1 })))
            .build()
            .unwrap();
        assert_eq!(lint(&timed, &d()).risks(), []);
        // A time frame without an end does not.
        let endless = builder(KEY)
            .action(sudo_transfer())
            .user_op_policy(p(Policy::TimeFrame(TimeFrame { valid_until: 0, valid_after: 1 })))
            .build()
            .unwrap();
        assert_eq!(lint(&endless, &d()).risks(), [Risk::UnboundedSudo]);
    }

    #[test]
    fn unbounded_paymaster() {
        let open =
            builder(KEY).action(bounded_sudo()).permit_erc4337_paymaster(true).build().unwrap();
        assert_eq!(lint(&open, &d()).risks(), [Risk::UnboundedPaymaster]);
        let bounded = builder(KEY)
            .action(bounded_sudo())
            .user_op_policy(p(Policy::UsageLimit(10)))
            .permit_erc4337_paymaster(true)
            .build()
            .unwrap();
        assert_eq!(lint(&bounded, &d()).risks(), []);
    }

    #[test]
    fn shared_session_key() {
        let first = builder(KEY).action(bounded_sudo()).build().unwrap();
        let second =
            builder(KEY).salt(B256::repeat_byte(2)).action(bounded_sudo()).build().unwrap();
        assert_eq!(shared_key(&second, [&first], &d()).risks(), [Risk::SharedSessionKey]);
        // The same key behind an OwnableValidator is the same key.
        let ownable = SessionBuilder::new(
            crate::deployments::OWNABLE_VALIDATOR,
            OwnableData::new(1, vec![KEY]).unwrap().encode(),
        )
        .action(bounded_sudo())
        .build()
        .unwrap();
        assert_eq!(shared_key(&ownable, [&first], &d()).risks(), [Risk::SharedSessionKey]);
        // Another key, or the same permission again, is not shared.
        let other = builder(Address::repeat_byte(0x11)).action(bounded_sudo()).build().unwrap();
        assert_eq!(shared_key(&other, [&first], &d()).risks(), []);
        assert_eq!(shared_key(&first, [&first], &d()).risks(), []);
    }

    #[test]
    fn offset_off_signature_is_a_warning() {
        let nested = ParamRule { offset: 36, ..ParamRule::default() };
        let config = ActionConfig::new(U256::ZERO, vec![ParamRule::default(), nested]).unwrap();
        let action = custom_action(
            token(),
            "transfer(address,uint256)",
            &[Policy::UniAction(config), Policy::UsageLimit(1)],
            &d().policies,
        )
        .unwrap();
        let session = builder(KEY).action(action).build().unwrap();
        let findings = lint(&session, &d());
        assert_eq!(findings.risks(), []);
        let warnings: Vec<&Warning> = findings.warnings().collect();
        assert_eq!(
            warnings,
            [&Warning::OffsetOffSignature {
                action: 0,
                rule: 1,
                offset: 36,
                function: "transfer(address,uint256)".into()
            }]
        );
        // Past the heads of a two-argument function is off it too; a function given by the
        // caller with a `bytes` argument whose data starts there is not.
        let f = "mint(address,uint256,bytes)";
        let far = ParamRule { offset: 64, ..ParamRule::default() };
        let config = ActionConfig::new(U256::ZERO, vec![far]).unwrap();
        let action = custom_action(
            token(),
            f,
            &[Policy::UniAction(config), Policy::UsageLimit(1)],
            &d().policies,
        )
        .unwrap();
        let session = builder(KEY).action(action).build().unwrap();
        assert_eq!(lint(&session, &d()).warnings().count(), 0, "unknown selector: no signature");
        assert_eq!(lint_with(&session, &d(), &[f]).warnings().count(), 0);
        // A signature of another selector names no action.
        assert_eq!(lint_with(&session, &d(), &["mint(address,uint256)"]).warnings().count(), 0);
        let two_args = custom_action(
            token(),
            "mint(address,uint256)",
            &[
                Policy::UniAction(ActionConfig::new(U256::ZERO, vec![far]).unwrap()),
                Policy::UsageLimit(1),
            ],
            &d().policies,
        )
        .unwrap();
        let session = builder(KEY).action(two_args).build().unwrap();
        assert_eq!(
            lint_with(&session, &d(), &["function mint(address to, uint amount)"])
                .warnings()
                .count(),
            1
        );
    }

    #[test]
    fn heads_of_static_tuples_and_arrays() {
        let heads = argument_heads("f(uint256,(address,uint256),uint8[3],bytes,bool)").unwrap();
        let offsets: Vec<u64> = heads.iter().map(|(o, _)| *o).collect();
        assert_eq!(offsets, [0, 32, 96, 192, 224]);
        assert_eq!(argument_heads("g((bytes,uint256),uint256)").unwrap()[1].0, 32);
    }

    #[test]
    fn time_frames_read_as_dates_and_say_which_bound_is_open() {
        let frame = |valid_after, valid_until| {
            DecodedPolicy::TimeFrame(TimeFrame { valid_until, valid_after }).describe(None)
        };
        assert_eq!(frame(0, 0), "time frame: no start and no end (not a limit)");
        assert_eq!(
            frame(0, 1_733_300_000),
            "time frame: until 2024-12-04 08:13:20 UTC (unix 1733300000)"
        );
        assert_eq!(
            frame(86_400, 0),
            "time frame: from 1970-01-02 00:00:00 UTC (unix 86400), no end"
        );
        // uint48's largest value is past the calendar: the seconds stay, nothing is clamped.
        let far = (1u64 << 48) - 1;
        assert_eq!(frame(0, far), format!("time frame: until unix {far} (past year 262143)"));
    }

    #[test]
    fn risk_names_are_stable() {
        let names: Vec<&str> = Risk::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(
            names,
            [
                "erc1271-any-hash",
                "fallback-action",
                "unbounded-sudo",
                "unbounded-paymaster",
                "shared-session-key"
            ]
        );
        for risk in Risk::ALL {
            assert_eq!(risk.name().parse::<Risk>().unwrap(), risk);
            assert_eq!(serde_json::to_value(risk).unwrap(), risk.name());
        }
        assert!("sudo".parse::<Risk>().is_err());
    }
}
