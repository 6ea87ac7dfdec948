//! Reading an account's state out of contract storage (layout: `contracts/STORAGE.md`), from any
//! source that answers `(address, slot) -> word`: a simulator, a state dump, `eth_getStorageAt`.

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use mandate_abi::{ActionId, ConfigId, ParamCondition, PermissionId};

use crate::{
    error::LoadError,
    state::{
        AccountState, Deployment, Erc20Config, PolicyKind, PolicyState, SessionState, TokenBudget,
        UniConfig, UniRule,
    },
};

/// Raw storage access.
pub trait StorageReader {
    /// The word at `slot` of `address`.
    fn storage(&self, address: Address, slot: U256) -> U256;
}

fn word_of_address(a: Address) -> B256 {
    a.into_word()
}

fn h2(a: B256, b: B256) -> B256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(a.as_slice());
    buf[32..].copy_from_slice(b.as_slice());
    keccak256(buf)
}

/// `S(A, k)`.
fn assoc(account: Address, k: B256) -> U256 {
    U256::from_be_bytes(h2(word_of_address(account), k).0)
}

/// `KEY(tag, P, x)`.
fn key(tag: u8, pid: B256, x: B256) -> B256 {
    let mut buf = [0u8; 96];
    buf[31] = tag;
    buf[32..64].copy_from_slice(pid.as_slice());
    buf[64..].copy_from_slice(x.as_slice());
    keccak256(buf)
}

fn set_values<R: StorageReader + ?Sized>(
    r: &R,
    contract: Address,
    account: Address,
    set: B256,
) -> Result<Vec<B256>, LoadError> {
    let root = assoc(account, set);
    let n = r.storage(contract, root);
    let n = usize::try_from(n)
        .ok()
        .filter(|n| *n <= 1 << 16)
        .ok_or(LoadError::Inconsistent("set length out of range"))?;
    Ok((0..n).map(|i| B256::from(r.storage(contract, root + U256::from(1 + i)))).collect())
}

fn policy_base(id: ConfigId, m: Address, a: Address) -> U256 {
    let inner = h2(id.0, B256::ZERO);
    let mid = h2(word_of_address(m), inner);
    U256::from_be_bytes(h2(word_of_address(a), mid).0)
}

fn token_base(id: ConfigId, m: Address, t: Address, a: Address) -> U256 {
    let inner = h2(id.0, B256::ZERO);
    let mid = h2(word_of_address(m), inner);
    let tok = h2(word_of_address(t), mid);
    U256::from_be_bytes(h2(word_of_address(a), tok).0)
}

/// Where an ERC20SpendingLimitPolicy keeps a config's tokens and budgets.
#[derive(Clone, Copy)]
enum Erc20Layout {
    /// `contracts/STORAGE.md`: budgets at `TOKEN_BASE` (slot 0), the token set with set id
    /// `H(ID, M)`.
    Mandate,
    /// Upstream's (f5aaf86): the token set per `(ID, M)` at slot 0, the budgets per
    /// `(ID, M, T, A)` at slot 1.
    Upstream,
}

fn erc20_tokens<R: StorageReader + ?Sized>(
    r: &R,
    policy: Address,
    id: ConfigId,
    m: Address,
    a: Address,
    layout: Erc20Layout,
) -> Result<Vec<Address>, LoadError> {
    let set = match layout {
        Erc20Layout::Mandate => h2(id.0, word_of_address(m)),
        Erc20Layout::Upstream => h2(word_of_address(m), h2(id.0, B256::ZERO)),
    };
    Ok(set_values(r, policy, a, set)?.into_iter().map(Address::from_word).collect())
}

/// `$policyData[id][m][t][a]` of upstream's ERC20SpendingLimitPolicy (mapping at slot 1).
fn upstream_token_base(id: ConfigId, m: Address, t: Address, a: Address) -> U256 {
    let inner = h2(id.0, B256::with_last_byte(1));
    let mid = h2(word_of_address(m), inner);
    let tok = h2(word_of_address(t), mid);
    U256::from_be_bytes(h2(word_of_address(a), tok).0)
}

/// Reads every enabled session of `account` and the state of its policies' configs.
pub fn load_account<R: StorageReader + ?Sized>(
    reader: &R,
    deployment: &Deployment,
    account: Address,
) -> Result<AccountState, LoadError> {
    let ss = deployment.smart_session;
    let mut state = AccountState::new(account);
    let addr = |w: B256| Address::from_word(w);
    for pid in set_values(reader, ss, account, B256::ZERO)? {
        let pid = PermissionId(pid);
        let header = reader.storage(ss, assoc(account, h2(B256::ZERO, pid.0)));
        let validator =
            Address::from_word(B256::from(header & ((U256::from(1) << 160) - U256::from(1))));
        let permit_paymaster = header.bit(160);
        let len = usize::try_from((header >> 192) & U256::from(0xffff_ffffu64))
            .map_err(|_| LoadError::Inconsistent("config length"))?;
        let config_root = assoc(account, key(7, pid.0, B256::ZERO));
        let mut config = Vec::with_capacity(len.div_ceil(32) * 32);
        for j in 0..len.div_ceil(32) {
            config.extend_from_slice(
                &reader.storage(ss, config_root + U256::from(j)).to_be_bytes::<32>(),
            );
        }
        config.truncate(len);
        let nonce = reader.storage(ss, assoc(account, key(8, pid.0, B256::ZERO)));
        let user_op_policies: Vec<Address> =
            set_values(reader, ss, account, key(1, pid.0, B256::ZERO))?
                .into_iter()
                .map(addr)
                .collect();
        let erc1271_policies: Vec<Address> =
            set_values(reader, ss, account, key(2, pid.0, B256::ZERO))?
                .into_iter()
                .map(addr)
                .collect();
        let mut erc7739_content = Vec::new();
        for separator in set_values(reader, ss, account, key(5, pid.0, B256::ZERO))? {
            let hashes = set_values(reader, ss, account, key(6, pid.0, separator))?;
            erc7739_content.push((separator, hashes));
        }
        let action_ids: Vec<ActionId> = set_values(reader, ss, account, key(3, pid.0, B256::ZERO))?
            .into_iter()
            .map(ActionId)
            .collect();
        let mut action_policies = crate::state::IdMap::default();
        for aid in &action_ids {
            let policies: Vec<Address> = set_values(reader, ss, account, key(4, pid.0, aid.0))?
                .into_iter()
                .map(addr)
                .collect();
            for p in &policies {
                load_policy(
                    reader,
                    deployment,
                    &mut state,
                    *p,
                    pid.action_config_id(account, *aid),
                )?;
            }
            action_policies.insert(*aid, policies);
        }
        for p in &user_op_policies {
            load_policy(reader, deployment, &mut state, *p, pid.user_op_config_id(account))?;
        }
        for p in &erc1271_policies {
            load_policy(reader, deployment, &mut state, *p, pid.erc1271_config_id(account))?;
        }
        state.enabled.push(pid);
        state.sessions.insert(
            pid,
            SessionState {
                validator,
                validator_config: Bytes::from(config),
                permit_paymaster,
                nonce,
                user_op_policies,
                erc1271_policies,
                erc7739_content,
                action_ids,
                action_policies,
            },
        );
    }
    Ok(state)
}

/// Reads, from the policies' storage, the state of every policy config of the sessions `state`
/// holds, replacing whatever policy state it had. For a SmartSession whose own storage is not
/// laid out as Mandate's (upstream's): the sessions' structure comes from elsewhere (the
/// sessions as granted, [`AccountState::enable_sessions`]), the counters from the policies,
/// whose storage upstream's lay out as Mandate's (`contracts/STORAGE.md`) but for
/// ERC20SpendingLimitPolicy, whose two layouts are both read.
pub fn load_policy_state<R: StorageReader + ?Sized>(
    reader: &R,
    deployment: &Deployment,
    state: &mut AccountState,
) -> Result<(), LoadError> {
    state.policies.clear();
    let account = state.account;
    let mut configs = Vec::new();
    for (pid, session) in &state.sessions {
        for (aid, policies) in &session.action_policies {
            let id = pid.action_config_id(account, *aid);
            configs.extend(policies.iter().map(|p| (*p, id)));
        }
        let id = pid.user_op_config_id(account);
        configs.extend(session.user_op_policies.iter().map(|p| (*p, id)));
        let id = pid.erc1271_config_id(account);
        configs.extend(session.erc1271_policies.iter().map(|p| (*p, id)));
    }
    for (policy, id) in configs {
        load_policy(reader, deployment, state, policy, id)?;
    }
    Ok(())
}

fn load_policy<R: StorageReader + ?Sized>(
    r: &R,
    d: &Deployment,
    state: &mut AccountState,
    policy: Address,
    id: ConfigId,
) -> Result<(), LoadError> {
    let Some(kind) = d.kind(policy) else { return Ok(()) };
    let a = state.account;
    let m = d.smart_session;
    let base = policy_base(id, m, a);
    let at = |n: u64| r.storage(policy, base + U256::from(n));
    let loaded = match kind {
        PolicyKind::Sudo => None,
        PolicyKind::TimeFrame => {
            let frame = at(0);
            let frame = u128::try_from(frame).map_err(|_| LoadError::Inconsistent("time frame"))?;
            (frame != 0).then_some(PolicyState::TimeFrame(frame))
        }
        PolicyKind::UsageLimit => {
            let w = at(0);
            let limit = u128::try_from(w & U256::from(u128::MAX)).unwrap_or_default();
            let used = u128::try_from(w >> 128).unwrap_or_default();
            (!w.is_zero()).then_some(PolicyState::UsageLimit { limit, used })
        }
        PolicyKind::ValueLimit => {
            let (limit, used) = (at(0), at(1));
            (!(limit.is_zero() && used.is_zero()))
                .then_some(PolicyState::ValueLimit { limit, used })
        }
        PolicyKind::UniAction => {
            let value_limit_per_use = at(0);
            let n = usize::try_from(at(1))
                .ok()
                .filter(|n| *n <= 16)
                .ok_or(LoadError::Inconsistent("more than 16 rules"))?;
            let mut rules = Vec::with_capacity(n);
            for i in 0..n as u64 {
                let packed = at(2 + 4 * i);
                let condition = u8::try_from(packed & U256::from(0xff))
                    .ok()
                    .and_then(ParamCondition::from_u8)
                    .ok_or(LoadError::Inconsistent("a rule's condition is not a ParamCondition"))?;
                rules.push(UniRule {
                    condition,
                    offset: u64::try_from((packed >> 8) & U256::from(u64::MAX)).unwrap_or_default(),
                    is_limited: !((packed >> 72usize) & U256::from(0xff)).is_zero(),
                    reference: B256::from(at(3 + 4 * i)),
                    limit: at(4 + 4 * i),
                    used: at(5 + 4 * i),
                });
            }
            (!value_limit_per_use.is_zero() || n != 0)
                .then_some(PolicyState::UniAction(UniConfig { value_limit_per_use, rules }))
        }
        PolicyKind::Erc20SpendingLimit => {
            // Mandate's layout, else upstream's (whose token set and budgets sit elsewhere):
            // each contract writes only its own slots, so the non-empty set is the one.
            let mut layout = Erc20Layout::Mandate;
            let mut tokens = erc20_tokens(r, policy, id, m, a, layout)?;
            if tokens.is_empty() {
                layout = Erc20Layout::Upstream;
                tokens = erc20_tokens(r, policy, id, m, a, layout)?;
            }
            let mut budgets = alloy_primitives::map::AddressMap::default();
            for t in &tokens {
                let b = match layout {
                    Erc20Layout::Mandate => token_base(id, m, *t, a),
                    Erc20Layout::Upstream => upstream_token_base(id, m, *t, a),
                };
                let budget = TokenBudget {
                    spent: r.storage(policy, b),
                    approved: r.storage(policy, b + U256::from(1)),
                    limit: r.storage(policy, b + U256::from(2)),
                };
                if !budget.is_zero() {
                    budgets.insert(*t, budget);
                }
            }
            (!tokens.is_empty()).then_some(PolicyState::Erc20(Erc20Config { tokens, budgets }))
        }
    };
    if let Some(s) = loaded {
        state.policies.insert((policy, id), s);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use alloy_primitives::{address, b256};

    use mandate_abi::SessionValidators;

    use super::*;

    const A: Address = address!("6605F8785E09a245DD558e55F9A0f4A508434503");
    const P: B256 = b256!("95ed33cacfb4bd126a51fa675a03b306beb369f81d951b7a40616cc1ac09e2cf");
    const AID: B256 = b256!("fd55e842d732698272150a05ea8bc4c63f93ccf30ef07ffeeddec43d2ac72f8c");

    fn u(b: B256) -> U256 {
        U256::from_be_bytes(b.0)
    }

    /// The slot vectors of contracts/STORAGE.md.
    #[test]
    fn slots_match_storage_md() {
        assert_eq!(
            assoc(A, B256::ZERO),
            u(b256!("df2df5b3deb9f21fbd335244d94e0d86fb5a5095423ac6b1e755695f0007d897"))
        );
        assert_eq!(
            assoc(A, h2(B256::ZERO, P)),
            u(b256!("4f4dc4b6dddd93bff9ae0c65bb7fa1591010c0164add192e3583f2a408f64740"))
        );
        assert_eq!(
            key(1, P, B256::ZERO),
            b256!("dd649b42485e527f1e44798aaa30035d9a583180962fdde4bbfe607d49100879")
        );
        assert_eq!(
            assoc(A, key(1, P, B256::ZERO)),
            u(b256!("e47a138fa2953107b82386e313b7f1e60cd2f65e6f025b94a4dbc2b50332437b"))
        );
        assert_eq!(
            assoc(A, key(3, P, B256::ZERO)),
            u(b256!("a8ed2a181d0e8598d857e2d912d3d38d72416ec798bb3a874e850ed9087f16a2"))
        );
        assert_eq!(
            assoc(A, key(4, P, AID)),
            u(b256!("33fa46e3911f7e361c64d86208e9242f88fb4b19872ce25e28c9687d7dc3539c"))
        );
        assert_eq!(
            assoc(A, key(7, P, B256::ZERO)),
            u(b256!("4a0d092e0982203d92d3b4758725c7c88ad50eaa6834ca2efa5d8f15688d4f30"))
        );
        assert_eq!(
            assoc(A, key(8, P, B256::ZERO)),
            u(b256!("32819b37f24165f5b773d381f418e97ef784631329f5bd62e5a203c69d0a7425"))
        );
    }

    struct Map(std::collections::HashMap<(Address, U256), U256>);

    impl StorageReader for Map {
        fn storage(&self, address: Address, slot: U256) -> U256 {
            self.0.get(&(address, slot)).copied().unwrap_or_default()
        }
    }

    /// A header with the paymaster flag and a 21-byte config spanning two words.
    #[test]
    fn reads_a_session_header_and_config() {
        let ss = Address::repeat_byte(0x55);
        let validator = Address::repeat_byte(0xe1);
        let d = Deployment {
            smart_session: ss,
            session_validators: SessionValidators { ecdsa: Some(validator), ownable: None },
            policies: vec![],
        };
        let mut m = std::collections::HashMap::new();
        let pid = PermissionId(P);
        m.insert((ss, assoc(A, B256::ZERO)), U256::from(1));
        m.insert((ss, assoc(A, B256::ZERO) + U256::from(1)), u(P));
        let header = U256::from_be_slice(validator.as_slice())
            | (U256::from(1) << 160)
            | (U256::from(21) << 192)
            | (U256::from(1) << 224);
        m.insert((ss, assoc(A, h2(B256::ZERO, P))), header);
        let root = assoc(A, key(7, P, B256::ZERO));
        m.insert((ss, root), U256::from_be_bytes([0xab; 32]));
        m.insert((ss, root + U256::from(1)), U256::from(0xcd) << 248);
        m.insert((ss, assoc(A, key(8, P, B256::ZERO))), U256::from(3));
        let state = load_account(&Map(m), &d, A).unwrap();
        assert_eq!(state.enabled, vec![pid]);
        let s = &state.sessions[&pid];
        assert_eq!(s.validator, validator);
        assert!(s.permit_paymaster);
        assert_eq!(s.nonce, U256::from(3));
        let mut config = vec![0xab; 32];
        config.truncate(20);
        config.push(0xab);
        assert_eq!(s.validator_config.len(), 21);
        assert_eq!(s.validator_config[..21], config[..]);
    }
}
