//! The policy contracts SmartSession calls, one model each: what `checkUserOpPolicy` /
//! `checkAction` return or revert with, and the storage they write (undone when the validation
//! is not kept).

use alloy_primitives::{Address, B256, FixedBytes, U256};
use alloy_sol_types::{SolCall, SolError};
use mandate_abi::{ConfigId, PackedUserOperation, sol::IERC20};

use super::{EXECUTE, Run, Stop, addr_of};
use crate::{
    calldata::{DecodeStop, decode_batch, decode_single, execution_calldata, get_value},
    error::EvalError,
    revert::{
        DecodingError, InvalidTokenAddress, PolicyNotInitialized, UnsupportedCallType,
        ValueLimitExceeded, first_word, panic_word,
    },
    state::{AccountState, PolicyKind, PolicyState, TokenBudget},
};

const APPROVE: [u8; 4] = IERC20::approveCall::SELECTOR;
/// `increaseAllowance`, which ERC20SpendingLimitPolicy counts as an approval.
const INCREASE_ALLOWANCE: [u8; 4] = IERC20::increaseAllowanceCall::SELECTOR;
const TRANSFER: [u8; 4] = IERC20::transferCall::SELECTOR;
const TRANSFER_FROM: [u8; 4] = IERC20::transferFromCall::SELECTOR;

/// How policies end: return a word, or revert (SmartSession keeps the first 32 bytes).
pub(super) enum Out {
    Ret(U256, Option<String>),
    Revert(B256, String),
}

pub(super) enum Undo {
    Whole((Address, ConfigId), Option<PolicyState>),
    Token((Address, ConfigId), Address, TokenBudget),
}

pub(super) fn rollback(state: &mut AccountState, undo: Vec<Undo>) {
    for u in undo.into_iter().rev() {
        match u {
            Undo::Whole(key, old) => match old {
                Some(s) => {
                    state.policies.insert(key, s);
                }
                None => {
                    state.policies.remove(&key);
                }
            },
            Undo::Token(key, token, old) => {
                if let Some(PolicyState::Erc20(c)) = state.policies.get_mut(&key) {
                    if old.is_zero() {
                        c.budgets.remove(&token);
                    } else {
                        c.budgets.insert(token, old);
                    }
                }
            }
        }
    }
}

impl Run<'_, '_> {
    fn not_initialized(&self, id: ConfigId) -> Out {
        let e = PolicyNotInitialized {
            id: id.0,
            multiplexer: self.d.smart_session,
            account: self.account(),
        };
        Out::Revert(first_word(&e.abi_encode()), format!("PolicyNotInitialized({id})"))
    }

    fn time_frame(&self, policy: Address, id: ConfigId) -> Out {
        match self.state.policies.get(&(policy, id)) {
            Some(PolicyState::TimeFrame(frame)) if *frame != 0 => {
                let frame = U256::from(*frame);
                Out::Ret(
                    ((frame & U256::from(0xffff_ffff_ffffu64)) << 208) | ((frame >> 48) << 160),
                    None,
                )
            }
            _ => self.not_initialized(id),
        }
    }

    fn usage(&mut self, policy: Address, id: ConfigId) -> Out {
        let key = (policy, id);
        let old = self.state.policies.get(&key).cloned();
        let (limit, used) = match &old {
            Some(PolicyState::UsageLimit { limit, used }) => (*limit, *used),
            _ => (0, 0),
        };
        let Some(next) = used.checked_add(1) else {
            return Out::Revert(panic_word(), "usage counter overflow".into());
        };
        if next > limit {
            return Out::Ret(U256::from(1), Some(format!("use {next} exceeds the limit {limit}")));
        }
        self.undo.push(Undo::Whole(key, old));
        self.state.policies.insert(key, PolicyState::UsageLimit { limit, used: next });
        Out::Ret(U256::ZERO, None)
    }

    fn spend_value(&mut self, policy: Address, id: ConfigId, value: U256) -> Out {
        let key = (policy, id);
        let old = self.state.policies.get(&key).cloned();
        let (limit, used) = match &old {
            Some(PolicyState::ValueLimit { limit, used }) => (*limit, *used),
            _ => (U256::ZERO, U256::ZERO),
        };
        let Some(next) = used.checked_add(value) else {
            return Out::Revert(panic_word(), "value sum overflow".into());
        };
        if next > limit {
            return Out::Ret(
                U256::from(1),
                Some(format!("{used} used + {value} wei exceeds the value limit {limit}")),
            );
        }
        if !(limit.is_zero() && next.is_zero()) {
            self.undo.push(Undo::Whole(key, old));
            self.state.policies.insert(key, PolicyState::ValueLimit { limit, used: next });
        }
        Out::Ret(U256::ZERO, None)
    }

    pub(super) fn user_op_policy(
        &mut self,
        policy: Address,
        id: ConfigId,
        op: &PackedUserOperation,
    ) -> Result<Out, Stop> {
        Ok(match self.kind(policy)? {
            PolicyKind::Sudo => Out::Ret(U256::ZERO, None),
            PolicyKind::TimeFrame => self.time_frame(policy, id),
            PolicyKind::UsageLimit => self.usage(policy, id),
            PolicyKind::UniAction | PolicyKind::Erc20SpendingLimit => {
                Out::Revert(B256::ZERO, "the policy has no checkUserOpPolicy".into())
            }
            PolicyKind::ValueLimit => {
                let cd = op.callData.as_ref();
                if cd.len() < 4 {
                    return Ok(Out::Revert(B256::ZERO, "callData shorter than a selector".into()));
                }
                if cd[..4] != EXECUTE {
                    return Ok(Out::Ret(U256::ZERO, None));
                }
                if cd.len() < 36 {
                    return Ok(Out::Revert(B256::ZERO, "callData shorter than a mode".into()));
                }
                let call_type = cd[4];
                let total = match call_type {
                    0x00 => {
                        match execution_calldata(self.cd).and_then(|e| decode_single(self.cd, e)) {
                            Ok((_, value, _, _)) => value,
                            Err(e) => return policy_decode_stop(e),
                        }
                    }
                    0x01 => {
                        let (pointers, n) = match execution_calldata(self.cd)
                            .and_then(|e| decode_batch(self.cd, e))
                        {
                            Ok(x) => x,
                            Err(e) => return policy_decode_stop(e),
                        };
                        let mut total = U256::ZERO;
                        for i in 0..n {
                            match total.checked_add(get_value(self.cd, pointers, i)) {
                                Some(t) => total = t,
                                None => {
                                    return Ok(Out::Revert(
                                        panic_word(),
                                        "batch value sum overflow".into(),
                                    ));
                                }
                            }
                        }
                        total
                    }
                    other => {
                        let e = UnsupportedCallType { callType: FixedBytes([other]) };
                        return Ok(Out::Revert(
                            first_word(&e.abi_encode()),
                            format!("ValueLimitPolicy: unsupported call type {other:#04x}"),
                        ));
                    }
                };
                self.spend_value(policy, id, total)
            }
        })
    }

    pub(super) fn action_policy(
        &mut self,
        policy: Address,
        id: ConfigId,
        target: Address,
        value: U256,
        data: &[u8],
    ) -> Result<Out, Stop> {
        Ok(match self.kind(policy)? {
            PolicyKind::Sudo => Out::Ret(U256::ZERO, None),
            PolicyKind::TimeFrame => self.time_frame(policy, id),
            PolicyKind::UsageLimit => self.usage(policy, id),
            PolicyKind::ValueLimit => self.spend_value(policy, id, value),
            PolicyKind::UniAction => self.uni_action(policy, id, value, data),
            PolicyKind::Erc20SpendingLimit => self.erc20(policy, id, target, value, data),
        })
    }

    fn uni_action(&mut self, policy: Address, id: ConfigId, value: U256, data: &[u8]) -> Out {
        let key = (policy, id);
        if !self.saved.contains(&key)
            && let Some(config @ PolicyState::UniAction(c)) = self.state.policies.get(&key)
            && c.rules.iter().any(|r| r.is_limited)
        {
            self.undo.push(Undo::Whole(key, Some(config.clone())));
            self.saved.push(key);
        }
        let Some(PolicyState::UniAction(config)) = self.state.policies.get_mut(&key) else {
            return self.not_initialized(id);
        };
        if config.rules.is_empty() {
            return self.not_initialized(id);
        }
        let limit = config.value_limit_per_use;
        if value > limit {
            let e = ValueLimitExceeded { id: id.0, value, limit };
            return Out::Revert(
                first_word(&e.abi_encode()),
                format!("value {value} exceeds valueLimitPerUse {limit}"),
            );
        }
        for (i, rule) in config.rules.iter_mut().enumerate() {
            let Some(end) = rule.offset.checked_add(4).and_then(|s| s.checked_add(32)) else {
                return Out::Revert(
                    panic_word(),
                    format!("rule {i}: offset {} overflows uint64", rule.offset),
                );
            };
            let (start, end) = (end as usize - 32, end as usize);
            let Some(word) = data.get(start..end).filter(|_| end >= 32) else {
                return Out::Revert(
                    B256::ZERO,
                    format!(
                        "rule {i}: parameter at offset {} is past the calldata ({} bytes)",
                        rule.offset,
                        data.len()
                    ),
                );
            };
            let param = U256::from_be_slice(word);
            let r = U256::from_be_bytes(rule.reference.0);
            if !rule.condition.holds(param, r) {
                return Out::Ret(
                    U256::from(1),
                    Some(format!(
                        "rule {i}: parameter {} at offset {} fails condition {} against {}",
                        word_text(param),
                        rule.offset,
                        rule.condition.name(),
                        word_text(r),
                    )),
                );
            }
            if rule.is_limited {
                let Some(used) = rule.used.checked_add(param) else {
                    return Out::Revert(panic_word(), format!("rule {i}: usage overflow"));
                };
                if used > rule.limit {
                    return Out::Ret(
                        U256::from(1),
                        Some(format!(
                            "rule {i}: usage {} + {param} exceeds the limit {}",
                            rule.used, rule.limit
                        )),
                    );
                }
                rule.used = used;
            }
        }
        Out::Ret(U256::ZERO, None)
    }

    fn erc20(
        &mut self,
        policy: Address,
        id: ConfigId,
        target: Address,
        value: U256,
        data: &[u8],
    ) -> Out {
        if !value.is_zero() {
            return Out::Ret(
                U256::from(1),
                Some(format!("ERC-20 calls may not send value ({value})")),
            );
        }
        if data.len() < 4 {
            return Out::Revert(B256::ZERO, "calldata shorter than a selector".into());
        }
        let selector = [data[0], data[1], data[2], data[3]];
        let args = &data[4..];
        let word = |i: usize| U256::from_be_slice(&args[i * 32..i * 32 + 32]);
        let is_addr = |w: U256| (w >> 160usize).is_zero();
        let approve = selector == APPROVE || selector == INCREASE_ALLOWANCE;
        let amount = if approve || selector == TRANSFER {
            if args.len() < 64 || !is_addr(word(0)) {
                return Out::Revert(
                    B256::ZERO,
                    "arguments do not decode as (address, uint256)".into(),
                );
            }
            word(1)
        } else if selector == TRANSFER_FROM {
            if args.len() < 96 || !is_addr(word(0)) || !is_addr(word(1)) {
                return Out::Revert(
                    B256::ZERO,
                    "arguments do not decode as (address, address, uint256)".into(),
                );
            }
            if addr_of(word(1)) == self.account() { U256::ZERO } else { word(2) }
        } else {
            return Out::Ret(
                U256::from(1),
                Some(format!(
                    "selector 0x{} is not an ERC-20 spend",
                    alloy_primitives::hex::encode(selector)
                )),
            );
        };
        if target.is_zero() {
            let e = InvalidTokenAddress { token: target };
            return Out::Revert(first_word(&e.abi_encode()), "token address zero".into());
        }
        let key = (policy, id);
        let budget = match self.state.policies.get(&key) {
            Some(PolicyState::Erc20(c)) => c.budgets.get(&target).copied().unwrap_or_default(),
            _ => TokenBudget::default(),
        };
        let mut next = budget;
        let total = if approve {
            let Some(a) = budget.approved.checked_add(amount) else {
                return Out::Revert(panic_word(), "approved amount overflow".into());
            };
            next.approved = a;
            budget.spent.checked_add(a)
        } else {
            let Some(s) = budget.spent.checked_add(amount) else {
                return Out::Revert(panic_word(), "spent amount overflow".into());
            };
            next.spent = s;
            s.checked_add(budget.approved)
        };
        let Some(total) = total else {
            return Out::Revert(panic_word(), "spent + approved overflow".into());
        };
        if total > budget.limit {
            return Out::Ret(
                U256::from(1),
                Some(format!(
                    "token {target}: spent + approved would be {total}, the limit is {}",
                    budget.limit
                )),
            );
        }
        if next != budget {
            self.undo.push(Undo::Token(key, target, budget));
            if let Some(PolicyState::Erc20(c)) = self.state.policies.get_mut(&key) {
                c.budgets.insert(target, next);
            }
        }
        Out::Ret(U256::ZERO, None)
    }
}

fn policy_decode_stop(e: DecodeStop) -> Result<Out, Stop> {
    match e {
        DecodeStop::Empty => Ok(Out::Revert(B256::ZERO, "malformed execution calldata".into())),
        DecodeStop::DecodingError => Ok(Out::Revert(
            first_word(&DecodingError {}.abi_encode()),
            "malformed batch encoding".into(),
        )),
        DecodeStop::OutOfGas => Err(Stop::Eval(EvalError::OutOfGas)),
    }
}

/// A 32-byte word in words: a number when it is small, else its hex (addresses and hashes).
fn word_text(word: U256) -> String {
    if word.bit_len() <= 128 { word.to_string() } else { format!("{word:#066x}") }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::hex;

    use super::*;

    #[test]
    fn increase_allowance_is_the_openzeppelin_selector() {
        assert_eq!(INCREASE_ALLOWANCE, hex!("39509351"));
    }
}
