//! The EIP-712 session digests an account owner signs to enable sessions (spec §7):
//! a per-chain `SignedSession` struct hash, and the multichain digest over
//! `MultiChainSession{ChainSession[]}` in the domain `{name: "SmartSession", version: "1"}`.

use alloy_primitives::{Address, B256, FixedBytes, Keccak256, U256, b256, keccak256};

use crate::{
    ids::{FALLBACK_SELECTOR, FALLBACK_SELECTOR_SMART_SESSION_CALL, FALLBACK_TARGET},
    signature::SmartSessionMode,
    sol::{
        ActionData, ChainDigest, ChainSession, ERC7739Context, ERC7739Data, PolicyData, Session,
        SignedPermissions, SignedSession,
    },
};

/// `PolicyData(address policy,bytes initData)`.
pub const POLICY_DATA_TYPEHASH: B256 =
    b256!("dddac12cd8b10a071bea04226e97ac9490698394e19224abc47a5cfeeeb6ee97");
/// `ActionData(bytes4 actionTargetSelector,address actionTarget,PolicyData[] actionPolicies)…`.
pub const ACTION_DATA_TYPEHASH: B256 =
    b256!("35809859dccf8877c407a59527c2f00fb81ca9c198ebcb0c832c3deaa38d3502");
/// `ERC7739Context(bytes32 appDomainSeparator,string[] contentName)`.
pub const ERC7739_CONTEXT_TYPEHASH: B256 =
    b256!("006166b2b3a1edaf1da1ce02715d02d4979a4ab93755bff9ec054b0e6a96a1da");
/// `ERC7739Data(ERC7739Context[] allowedERC7739Content,PolicyData[] erc1271Policies)…`.
pub const ERC7739_DATA_TYPEHASH: B256 =
    b256!("dfd9b5718eebaa2484740b4ea6939e96189024c15848f16ccce901118114e152");
/// `SignedPermissions(…)…`.
pub const SIGNED_PERMISSIONS_TYPEHASH: B256 =
    b256!("871289c05e426554eb0f843c9aa542f9c2bc4eba7742ada6a5c014d3568674d4");
/// `SignedSession(…)…`.
pub const SIGNED_SESSION_TYPEHASH: B256 =
    b256!("d44896e3cb83d70abc949a38dd6f9f75e675dc329dfe958617f066f79ff88f05");
/// `ChainSession(uint64 chainId,SignedSession session)…`.
pub const CHAIN_SESSION_TYPEHASH: B256 =
    b256!("1ea7e4bc398fa0ccd68d92b5d8931a3fd93eebe1cf0391b4ba28935801af7c80");
/// `MultiChainSession(ChainSession[] sessionsAndChainIds)…`.
pub const MULTICHAIN_SESSION_TYPEHASH: B256 =
    b256!("0c9d02fb89a1da34d66ea2088dc9ee6a58efee71cef6f1bb849ed74fc6003d98");
/// The domain separator of `{name: "SmartSession", version: "1"}` (no chain id, no contract).
pub const DOMAIN_SEPARATOR: B256 =
    b256!("057501e891776d1482927e5f094ae44049a4d893ba2d7b334dd7db8d38d3a0e1");

#[inline]
fn word_address(h: &mut Keccak256, a: Address) {
    h.update([0u8; 12]);
    h.update(a);
}

#[inline]
fn word_bool(h: &mut Keccak256, b: bool) {
    h.update(B256::with_last_byte(u8::from(b)));
}

/// `keccak256("")`: the hash of empty bytes and of an empty array.
const EMPTY_HASH: B256 = alloy_primitives::KECCAK256_EMPTY;

#[inline]
fn hash_bytes(bytes: &[u8]) -> B256 {
    if bytes.is_empty() { EMPTY_HASH } else { keccak256(bytes) }
}

fn hash_policy(p: &PolicyData) -> B256 {
    let mut h = Keccak256::new();
    h.update(POLICY_DATA_TYPEHASH);
    word_address(&mut h, p.policy);
    h.update(hash_bytes(&p.initData));
    h.finalize()
}

fn hash_policies(ps: &[PolicyData]) -> B256 {
    if ps.is_empty() {
        return EMPTY_HASH;
    }
    let mut h = Keccak256::new();
    for p in ps {
        h.update(hash_policy(p));
    }
    h.finalize()
}

fn hash_action(a: &ActionData) -> B256 {
    let mut h = Keccak256::new();
    h.update(ACTION_DATA_TYPEHASH);
    h.update(a.actionTargetSelector);
    h.update([0u8; 28]);
    word_address(&mut h, a.actionTarget);
    h.update(hash_policies(&a.actionPolicies));
    h.finalize()
}

fn hash_context(c: &ERC7739Context) -> B256 {
    let mut names = Keccak256::new();
    for name in &c.contentNames {
        names.update(keccak256(name.as_bytes()));
    }
    let mut h = Keccak256::new();
    h.update(ERC7739_CONTEXT_TYPEHASH);
    h.update(c.appDomainSeparator);
    h.update(names.finalize());
    h.finalize()
}

fn hash_erc7739(d: &ERC7739Data) -> B256 {
    let mut contexts = Keccak256::new();
    for c in &d.allowedERC7739Content {
        contexts.update(hash_context(c));
    }
    let mut h = Keccak256::new();
    h.update(ERC7739_DATA_TYPEHASH);
    h.update(contexts.finalize());
    h.update(hash_policies(&d.erc1271Policies));
    h.finalize()
}

/// The struct hash of a session's `SignedPermissions`.
pub fn hash_permissions(p: &SignedPermissions) -> B256 {
    let mut actions = Keccak256::new();
    for a in &p.actions {
        actions.update(hash_action(a));
    }
    let mut h = Keccak256::new();
    h.update(SIGNED_PERMISSIONS_TYPEHASH);
    word_bool(&mut h, p.permitGenericPolicy);
    word_bool(&mut h, p.permitAdminAccess);
    word_bool(&mut h, p.ignoreSecurityAttestations);
    word_bool(&mut h, p.permitERC4337Paymaster);
    h.update(hash_policies(&p.userOpPolicies));
    h.update(hash_erc7739(&p.erc7739Policies));
    h.update(actions.finalize());
    h.finalize()
}

/// The struct hash of a `SignedSession`: the per-chain session digest SmartSession recomputes.
pub fn hash_signed_session(s: &SignedSession) -> B256 {
    hash_signed_session_with(s, hash_permissions(&s.permissions))
}

fn hash_signed_session_with(s: &SignedSession, permissions_hash: B256) -> B256 {
    let mut h = Keccak256::new();
    h.update(SIGNED_SESSION_TYPEHASH);
    word_address(&mut h, s.account);
    h.update(permissions_hash);
    word_address(&mut h, s.sessionValidator);
    h.update(hash_bytes(&s.sessionValidatorInitData));
    h.update(s.salt);
    word_address(&mut h, s.smartSession);
    h.update(s.nonce.to_be_bytes::<32>());
    h.finalize()
}

fn has_action(session: &Session, selector: FixedBytes<4>) -> bool {
    session
        .actions
        .iter()
        .any(|a| a.actionTarget == FALLBACK_TARGET && a.actionTargetSelector == selector)
}

impl SignedPermissions {
    /// The permissions SmartSession signs for `session` enabled in `mode`: the three flags
    /// derived as the contract derives them (fallback actions present; UNSAFE_ENABLE).
    pub fn of(session: &Session, mode: SmartSessionMode) -> Self {
        Self {
            permitGenericPolicy: has_action(session, FALLBACK_SELECTOR),
            permitAdminAccess: has_action(session, FALLBACK_SELECTOR_SMART_SESSION_CALL),
            ignoreSecurityAttestations: mode == SmartSessionMode::UnsafeEnable,
            permitERC4337Paymaster: session.permitERC4337Paymaster,
            userOpPolicies: session.userOpPolicies.clone(),
            erc7739Policies: session.erc7739Policies.clone(),
            actions: session.actions.clone(),
        }
    }
}

impl SignedSession {
    /// What the owner signs for `session` on one chain: the account, the SmartSession
    /// address, the account's current enable nonce and the mode.
    pub fn of(
        session: &Session,
        account: Address,
        smart_session: Address,
        nonce: U256,
        mode: SmartSessionMode,
    ) -> Self {
        Self {
            account,
            permissions: SignedPermissions::of(session, mode),
            sessionValidator: session.sessionValidator,
            sessionValidatorInitData: session.sessionValidatorInitData.clone(),
            salt: session.salt,
            smartSession: smart_session,
            nonce,
        }
    }

    /// The session digest (struct hash).
    pub fn digest(&self) -> B256 {
        hash_signed_session(self)
    }
}

fn chain_hash(chain_id: u64, session_digest: B256) -> B256 {
    let mut h = Keccak256::new();
    h.update(CHAIN_SESSION_TYPEHASH);
    h.update(U256::from(chain_id).to_be_bytes::<32>());
    h.update(session_digest);
    h.finalize()
}

fn multichain(chain_hashes: impl Iterator<Item = B256>) -> B256 {
    let mut list = Keccak256::new();
    for c in chain_hashes {
        list.update(c);
    }
    let mut st = Keccak256::new();
    st.update(MULTICHAIN_SESSION_TYPEHASH);
    st.update(list.finalize());
    let mut h = Keccak256::new();
    h.update([0x19, 0x01]);
    h.update(DOMAIN_SEPARATOR);
    h.update(st.finalize());
    h.finalize()
}

/// The digest the owner signs, from per-chain session digests (as SmartSession computes it).
pub fn multichain_digest(chain_digests: &[ChainDigest]) -> B256 {
    multichain(chain_digests.iter().map(|c| chain_hash(c.chainId, c.sessionDigest)))
}

/// The digest the owner signs, from full chain sessions (as module-sdk's `hashChainSessions`).
pub fn hash_chain_sessions(sessions: &[ChainSession]) -> B256 {
    multichain(chain_digests(sessions).into_iter().map(|c| chain_hash(c.chainId, c.sessionDigest)))
}

/// The per-chain digests of `sessions`, for an `EnableSession`'s `hashesAndChainIds`.
///
/// A multichain session usually grants the same permissions on every chain: their struct hash
/// (most of the work) is computed once for each distinct set.
pub fn chain_digests(sessions: &[ChainSession]) -> Vec<ChainDigest> {
    let mut seen: Vec<(&SignedPermissions, B256)> = Vec::with_capacity(sessions.len());
    sessions
        .iter()
        .map(|c| {
            let permissions = &c.session.permissions;
            let hash = match seen.iter().find(|(p, _)| *p == permissions) {
                Some((_, hash)) => *hash,
                None => {
                    let hash = hash_permissions(permissions);
                    seen.push((permissions, hash));
                    hash
                }
            };
            ChainDigest {
                chainId: c.chainId,
                sessionDigest: hash_signed_session_with(&c.session, hash),
            }
        })
        .collect()
}

/// Where a session is enabled: one chain, its account, its SmartSession and the account's
/// current enable nonce for the permission (`SmartSession.getNonce`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EnableTarget {
    /// The chain.
    pub chain_id: u64,
    /// The account there.
    pub account: Address,
    /// SmartSession there.
    pub smart_session: Address,
    /// The account's enable nonce for this permission there.
    pub nonce: U256,
}

/// What enabling `session` on several chains with one owner signature takes: the chain
/// sessions, the digest the owner signs, and the `EnableSession` for the chain at `index`
/// (its `permissionEnableSig` left empty for the owner's signature).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultichainEnable {
    /// One signed session per chain.
    pub chain_sessions: Vec<ChainSession>,
    /// The EIP-712 digest the owner signs.
    pub digest: B256,
    /// The enable data for the op on chain `index`.
    pub enable_session: crate::sol::EnableSession,
}

/// Prepares a multichain enable of `session` (module-sdk's `getEnableSessionDetails`, with the
/// permission flags derived as the contract derives them).
pub fn prepare_enable(
    session: &Session,
    targets: &[EnableTarget],
    mode: SmartSessionMode,
    index: u8,
) -> MultichainEnable {
    let chain_sessions: Vec<ChainSession> = targets
        .iter()
        .map(|t| ChainSession {
            chainId: t.chain_id,
            session: SignedSession::of(session, t.account, t.smart_session, t.nonce, mode),
        })
        .collect();
    let digests = chain_digests(&chain_sessions);
    let digest = multichain_digest(&digests);
    MultichainEnable {
        chain_sessions,
        digest,
        enable_session: crate::sol::EnableSession {
            chainDigestIndex: index,
            hashesAndChainIds: digests,
            sessionToEnable: session.clone(),
            permissionEnableSig: alloy_primitives::Bytes::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{Bytes, address, b256};

    use super::*;

    fn type_hash(s: &str) -> B256 {
        keccak256(s.as_bytes())
    }

    #[test]
    fn typehashes_are_those_of_the_type_strings() {
        let policy = "PolicyData(address policy,bytes initData)";
        let action = "ActionData(bytes4 actionTargetSelector,address actionTarget,PolicyData[] actionPolicies)";
        let ctx = "ERC7739Context(bytes32 appDomainSeparator,string[] contentName)";
        let data =
            "ERC7739Data(ERC7739Context[] allowedERC7739Content,PolicyData[] erc1271Policies)";
        let perms = "SignedPermissions(bool permitGenericPolicy,bool permitAdminAccess,bool ignoreSecurityAttestations,bool permitERC4337Paymaster,PolicyData[] userOpPolicies,ERC7739Data erc7739Policies,ActionData[] actions)";
        let session = "SignedSession(address account,SignedPermissions permissions,address sessionValidator,bytes sessionValidatorInitData,bytes32 salt,address smartSession,uint256 nonce)";
        let chain = "ChainSession(uint64 chainId,SignedSession session)";
        let multi = "MultiChainSession(ChainSession[] sessionsAndChainIds)";
        assert_eq!(type_hash(policy), POLICY_DATA_TYPEHASH);
        assert_eq!(type_hash(&format!("{action}{policy}")), ACTION_DATA_TYPEHASH);
        assert_eq!(type_hash(ctx), ERC7739_CONTEXT_TYPEHASH);
        assert_eq!(type_hash(&format!("{data}{ctx}{policy}")), ERC7739_DATA_TYPEHASH);
        assert_eq!(
            type_hash(&format!("{perms}{action}{ctx}{data}{policy}")),
            SIGNED_PERMISSIONS_TYPEHASH
        );
        assert_eq!(
            type_hash(&format!("{session}{action}{ctx}{data}{policy}{perms}")),
            SIGNED_SESSION_TYPEHASH
        );
        assert_eq!(
            type_hash(&format!("{chain}{action}{ctx}{data}{policy}{perms}{session}")),
            CHAIN_SESSION_TYPEHASH
        );
        assert_eq!(
            type_hash(&format!("{multi}{action}{chain}{ctx}{data}{policy}{perms}{session}")),
            MULTICHAIN_SESSION_TYPEHASH
        );
        let domain = type_hash("EIP712Domain(string name,string version)");
        let mut buf = domain.to_vec();
        buf.extend_from_slice(keccak256("SmartSession").as_slice());
        buf.extend_from_slice(keccak256("1").as_slice());
        assert_eq!(keccak256(buf), DOMAIN_SEPARATOR);
        assert_eq!(keccak256([]), EMPTY_HASH);
    }

    /// Upstream's EIP712Test vectors (spec §7.5).
    #[test]
    fn upstream_vectors() {
        let zero_policy = PolicyData { policy: Address::ZERO, initData: Bytes::new() };
        let policy = PolicyData {
            policy: address!("f022051bEB9E8848e99f47D3eD1397CEEfBF3d4F"),
            initData: Bytes::new(),
        };
        assert_eq!(
            hash_policy(&policy),
            b256!("531c8f7eafebd3a565ad77225700ee7551c4c552b8e8a8417710ec2aa7990e9d")
        );
        let action = ActionData {
            actionTargetSelector: [0x9c, 0xfd, 0x7c, 0xff].into(),
            actionTarget: address!("7227DCfB0c5EC7A5F539F97b18Be261C49687eD6"),
            actionPolicies: vec![policy],
        };
        assert_eq!(
            hash_action(&action),
            b256!("e7fd3595c8793c559219f8cfb42f912d7e5f196fdc8db29bbdb718127fbed2e4")
        );
        let ctx = ERC7739Context {
            appDomainSeparator: b256!(
                "506da236a69b2f437f547d7900eb350f6a4cb145b6b850a499f29954b24c5739"
            ),
            contentNames: vec!["mockContent".into()],
        };
        assert_eq!(
            hash_context(&ctx),
            b256!("a14177305407015f2a679ca5174b5eb5909103442ee0afc188c16de6b7639a90")
        );
        let erc7739 = ERC7739Data {
            allowedERC7739Content: vec![ctx],
            erc1271Policies: vec![zero_policy.clone()],
        };
        assert_eq!(
            hash_erc7739(&erc7739),
            b256!("afb9c58316bd5fb3daaebf6b22549b226c400dab58a9e081fbb384de7cd73850")
        );
        let session = Session {
            sessionValidator: Address::ZERO,
            sessionValidatorInitData: Bytes::new(),
            salt: B256::ZERO,
            userOpPolicies: vec![zero_policy.clone()],
            erc7739Policies: erc7739,
            actions: vec![ActionData {
                actionTargetSelector: FixedBytes::ZERO,
                actionTarget: Address::ZERO,
                actionPolicies: vec![zero_policy],
            }],
            permitERC4337Paymaster: true,
        };
        assert_eq!(
            hash_permissions(&SignedPermissions::of(&session, SmartSessionMode::Enable)),
            b256!("c2d2c0d689188f83a8bcd8f712ac5d99592c650dd4b11aa3854069bd63e366ea")
        );
        let account = address!("6605F8785E09a245DD558e55F9A0f4A508434503");
        let digest =
            SignedSession::of(&session, account, account, U256::ZERO, SmartSessionMode::Enable)
                .digest();
        assert_eq!(
            digest,
            b256!("fe5ab8aab1e51d73d0ff471e7bc35458db292e47e8edcca72bab35a26bde6460")
        );
        assert_eq!(
            multichain_digest(&[ChainDigest { chainId: 1, sessionDigest: digest }]),
            b256!("0c72e36a501d54cd5fd8a537862caee2b492b60d7daa8cdd12fd526205267e16")
        );
        assert_eq!(
            multichain_digest(&[
                ChainDigest { chainId: 1, sessionDigest: digest },
                ChainDigest { chainId: 10, sessionDigest: digest }
            ]),
            b256!("8872d93dd0840358447cb76ef438cea3e1176320ef2f622083f8eba76e7771f1")
        );
        let target = |chain_id| EnableTarget {
            chain_id,
            account,
            smart_session: account,
            nonce: U256::ZERO,
        };
        let prepared =
            prepare_enable(&session, &[target(1), target(10)], SmartSessionMode::Enable, 1);
        assert_eq!(
            prepared.digest,
            b256!("8872d93dd0840358447cb76ef438cea3e1176320ef2f622083f8eba76e7771f1")
        );
        assert_eq!(prepared.enable_session.hashesAndChainIds[1].sessionDigest, digest);
        assert_eq!(hash_chain_sessions(&prepared.chain_sessions), prepared.digest);
    }
}
