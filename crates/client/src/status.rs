//! What a session still allows, read from chain state: uses, value, token spend and rule
//! budgets left, and the time window — per user-op policy and per action.

use alloy_primitives::{Address, FixedBytes, U256};
use mandate_abi::{ActionId, PermissionId};
use mandate_policy::{AccountState, PolicyState};
use serde::Serialize;

use crate::{GrantState, SessionRecord};

/// Where a session stands, read from the chain (with what the store knows of it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum SessionState {
    /// Enabled on chain, with something left to use.
    Enabled,
    /// Not enabled yet; the record's owner signature still enables it on first use (its
    /// digest is the one SmartSession's `getSessionDigest` gives at the current enable nonce).
    PendingFirstUse,
    /// Not enabled on chain and nothing enables it: removed (`removeSession`, SmartSession
    /// uninstalled), its enable signature revoked (the enable nonce moved past it), or marked
    /// revoked in the store.
    Revoked,
    /// Enabled, but a time frame's `validUntil` is past: for every op (a user-op policy), or
    /// for every action.
    Expired,
    /// Enabled, but a usage limit, a token spending limit (every token) or a rule's total is
    /// used up: for every op (a user-op policy), or for every action.
    Exhausted,
    /// The grant's op is not known to have gone through ([`GrantState::Pending`]) and the
    /// session is not enabled on chain.
    NotGranted,
}

impl SessionState {
    /// In words, as the CLI prints it.
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::PendingFirstUse => "pending first use",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::Exhausted => "exhausted",
            Self::NotGranted => "not granted",
        }
    }
}

/// Where a limit applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "scope")]
pub enum Scope {
    /// Every op of the session.
    UserOp,
    /// Calls of one action.
    Action {
        /// The target.
        target: Address,
        /// The selector.
        selector: FixedBytes<4>,
    },
}

/// What is left under one policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "kind")]
pub enum Remaining {
    /// UsageLimitPolicy.
    Uses {
        /// The limit.
        limit: u128,
        /// Used so far.
        used: u128,
        /// Left.
        left: u128,
    },
    /// ValueLimitPolicy (wei).
    Value {
        /// The budget.
        limit: U256,
        /// Used so far.
        used: U256,
        /// Left.
        left: U256,
    },
    /// ERC20SpendingLimitPolicy, per token.
    Spend {
        /// The token.
        token: Address,
        /// The limit.
        limit: U256,
        /// Spent so far.
        spent: U256,
        /// Left.
        left: U256,
    },
    /// A limited UniActionPolicy rule (a cumulative total over one argument).
    Rule {
        /// The rule's index.
        rule: usize,
        /// The argument's byte offset after the selector.
        offset: u64,
        /// The limit.
        limit: U256,
        /// Used so far.
        used: U256,
        /// Left.
        left: U256,
    },
    /// UniActionPolicy's native value per call.
    ValuePerCall {
        /// The most per call.
        limit: U256,
    },
    /// TimeFramePolicy.
    Window {
        /// Not before.
        valid_after: u64,
        /// Not after (0: no end).
        valid_until: u64,
        /// Whether the chain's time is inside.
        open: bool,
    },
}

/// One policy's limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Limit {
    /// Where it applies.
    #[serde(flatten)]
    pub scope: Scope,
    /// The policy contract.
    pub policy: Address,
    /// What is left.
    pub remaining: Remaining,
}

/// A session's state on its chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionStatus {
    /// The chain.
    pub chain_id: u64,
    /// The account.
    pub account: Address,
    /// The permission.
    pub permission_id: PermissionId,
    /// Where it stands.
    pub state: SessionState,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Whether the record still holds ENABLE-mode data that would enable it on first use.
    pub enable_pending: bool,
    /// The chain's time.
    pub now: u64,
    /// Every limit with something to count.
    pub limits: Vec<Limit>,
}

/// Reads `record`'s limits out of the account's loaded state at time `now`; `enable_valid`:
/// whether the record's enable signature (if any) is still the one the chain's enable nonce
/// accepts.
pub fn session_status(
    record: &SessionRecord,
    state: &AccountState,
    chain_id: u64,
    now: u64,
    enable_valid: bool,
) -> SessionStatus {
    let pid = record.permission_id;
    let enabled = state.is_enabled(&pid);
    let mut limits = Vec::new();
    if let Some(session) = state.sessions.get(&pid).filter(|_| enabled) {
        let config = pid.user_op_config_id(record.account);
        for policy in &session.user_op_policies {
            if let Some(p) = state.policies.get(&(*policy, config)) {
                push(&mut limits, Scope::UserOp, *policy, p, now);
            }
        }
        for action in &record.session.actions {
            let id = ActionId::new(action.actionTarget, action.actionTargetSelector);
            let scope = Scope::Action {
                target: action.actionTarget,
                selector: action.actionTargetSelector,
            };
            let config = pid.action_config_id(record.account, id);
            for policy in session.action_policies.get(&id).into_iter().flatten() {
                if let Some(p) = state.policies.get(&(*policy, config)) {
                    push(&mut limits, scope, *policy, p, now);
                }
            }
        }
    }
    let enable_pending = !enabled && record.enable.is_some() && enable_valid;
    let session_state = if record.state == GrantState::Revoked {
        SessionState::Revoked
    } else if enabled {
        if used_up(record, &limits, now, expired, false) {
            SessionState::Expired
        } else if used_up(record, &limits, now, exhausted, true) {
            SessionState::Exhausted
        } else {
            SessionState::Enabled
        }
    } else if enable_pending {
        SessionState::PendingFirstUse
    } else if record.state == GrantState::Pending {
        SessionState::NotGranted
    } else {
        SessionState::Revoked
    };
    SessionStatus {
        chain_id,
        account: record.account,
        permission_id: pid,
        state: session_state,
        enabled,
        enable_pending,
        now,
        limits,
    }
}

/// Whether `test` holds of a limit of every op, or of a limit of each of the session's actions
/// (or, with `spend`, each action's token spending limits are all used up).
fn used_up(
    record: &SessionRecord,
    limits: &[Limit],
    now: u64,
    test: fn(&Remaining, u64) -> bool,
    spend: bool,
) -> bool {
    if limits.iter().any(|l| l.scope == Scope::UserOp && test(&l.remaining, now)) {
        return true;
    }
    !record.session.actions.is_empty()
        && record.session.actions.iter().all(|action| {
            let scope = Scope::Action {
                target: action.actionTarget,
                selector: action.actionTargetSelector,
            };
            let of_action: Vec<&Limit> = limits.iter().filter(|l| l.scope == scope).collect();
            of_action.iter().any(|l| test(&l.remaining, now))
                || (spend && spend_used_up(of_action.iter().map(|l| &l.remaining)))
        })
}

/// A time frame whose end is past.
fn expired(remaining: &Remaining, now: u64) -> bool {
    matches!(remaining, Remaining::Window { valid_until, .. } if *valid_until != 0 && now > *valid_until)
}

/// A usage limit or a rule's total with nothing left.
fn exhausted(remaining: &Remaining, _now: u64) -> bool {
    match remaining {
        Remaining::Uses { left, .. } => *left == 0,
        Remaining::Rule { left, .. } => left.is_zero(),
        _ => false,
    }
}

/// Token spending limits, every token's used up (false when there are none).
fn spend_used_up<'a>(remaining: impl Iterator<Item = &'a Remaining>) -> bool {
    let mut any = false;
    for r in remaining {
        if let Remaining::Spend { left, .. } = r {
            if !left.is_zero() {
                return false;
            }
            any = true;
        }
    }
    any
}

fn push(limits: &mut Vec<Limit>, scope: Scope, policy: Address, state: &PolicyState, now: u64) {
    let mut add = |remaining| limits.push(Limit { scope, policy, remaining });
    match state {
        PolicyState::UsageLimit { limit, used } => {
            add(Remaining::Uses { limit: *limit, used: *used, left: limit.saturating_sub(*used) });
        }
        PolicyState::ValueLimit { limit, used } => {
            add(Remaining::Value { limit: *limit, used: *used, left: limit.saturating_sub(*used) })
        }
        PolicyState::Erc20(config) => {
            for token in &config.tokens {
                let budget = config.budgets.get(token).copied().unwrap_or_default();
                add(Remaining::Spend {
                    token: *token,
                    limit: budget.limit,
                    spent: budget.spent,
                    left: budget.limit.saturating_sub(budget.spent),
                });
            }
        }
        PolicyState::UniAction(config) => {
            if !config.value_limit_per_use.is_zero() {
                add(Remaining::ValuePerCall { limit: config.value_limit_per_use });
            }
            for (rule, r) in config.rules.iter().enumerate().filter(|(_, r)| r.is_limited) {
                add(Remaining::Rule {
                    rule,
                    offset: r.offset,
                    limit: r.limit,
                    used: r.used,
                    left: r.limit.saturating_sub(r.used),
                });
            }
        }
        PolicyState::TimeFrame(packed) => {
            let mask = (1u128 << 48) - 1;
            let valid_until = u64::try_from((packed >> 48) & mask).unwrap_or(u64::MAX);
            let valid_after = u64::try_from(packed & mask).unwrap_or(u64::MAX);
            let open = now >= valid_after && (valid_until == 0 || now <= valid_until);
            add(Remaining::Window { valid_after, valid_until, open });
        }
    }
}
