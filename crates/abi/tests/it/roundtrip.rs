//! Property tests: decoding what was encoded gives it back, for every type and signature mode.

use alloy_primitives::{Address, B256, Bytes, FixedBytes, U256};
use alloy_sol_types::SolValue;
use mandate_abi::{
    AccountType, ActionData, ChainDigest, ERC7739Context, ERC7739Data, EnableSession,
    EnableSessionData, PackedUserOperation, PermissionId, PolicyData, Session, SmartSessionMode,
    ValidationData, decode_signature, encode_enable, encode_use, fastlz,
};
use proptest::prelude::*;

fn address() -> impl Strategy<Value = Address> {
    any::<[u8; 20]>().prop_map(Address::from)
}

fn b256() -> impl Strategy<Value = B256> {
    any::<[u8; 32]>().prop_map(B256::from)
}

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn policy() -> impl Strategy<Value = PolicyData> {
    (address(), bytes(100))
        .prop_map(|(policy, init_data)| PolicyData { policy, initData: init_data })
}

fn session() -> impl Strategy<Value = Session> {
    let action = (any::<[u8; 4]>(), address(), prop::collection::vec(policy(), 0..3)).prop_map(
        |(sel, target, policies)| ActionData {
            actionTargetSelector: FixedBytes::from(sel),
            actionTarget: target,
            actionPolicies: policies,
        },
    );
    let context =
        (b256(), prop::collection::vec(".{0,12}", 0..3)).prop_map(|(separator, names)| {
            ERC7739Context { appDomainSeparator: separator, contentNames: names }
        });
    (
        address(),
        bytes(80),
        b256(),
        prop::collection::vec(policy(), 0..3),
        prop::collection::vec(context, 0..2),
        prop::collection::vec(policy(), 0..2),
        prop::collection::vec(action, 0..4),
        any::<bool>(),
    )
        .prop_map(|(validator, init, salt, user_op, contexts, erc1271, actions, paymaster)| {
            Session {
                sessionValidator: validator,
                sessionValidatorInitData: init,
                salt,
                userOpPolicies: user_op,
                erc7739Policies: ERC7739Data {
                    allowedERC7739Content: contexts,
                    erc1271Policies: erc1271,
                },
                actions,
                permitERC4337Paymaster: paymaster,
            }
        })
}

fn account_type() -> impl Strategy<Value = AccountType> {
    prop_oneof![
        Just(AccountType::Mandate),
        Just(AccountType::Nexus),
        Just(AccountType::Safe),
        Just(AccountType::Kernel),
        Just(AccountType::Msa),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn fastlz_round_trips(data in prop::collection::vec(any::<u8>(), 0..4096)) {
        prop_assert_eq!(fastlz::decompress(&fastlz::compress(&data)).unwrap(), data);
    }

    #[test]
    fn fastlz_round_trips_repetitive(seed in prop::collection::vec(any::<u8>(), 1..16), len in 0usize..20_000) {
        let data: Vec<u8> = seed.iter().copied().cycle().take(len).collect();
        prop_assert_eq!(fastlz::decompress(&fastlz::compress(&data)).unwrap(), data);
    }

    #[test]
    fn fastlz_never_panics_on_garbage(data in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = fastlz::decompress(&data);
    }

    #[test]
    fn session_abi_and_json_round_trip(s in session()) {
        prop_assert_eq!(&Session::abi_decode(&s.abi_encode()).unwrap(), &s);
        let json = serde_json::to_string(&s).unwrap();
        prop_assert_eq!(serde_json::from_str::<Session>(&json).unwrap(), s);
    }

    #[test]
    fn use_signature_round_trips(id in b256(), sig in bytes(200), t in account_type()) {
        let encoded = encode_use(PermissionId(id), &sig);
        let decoded = decode_signature(&encoded, t).unwrap();
        prop_assert_eq!(decoded.mode, SmartSessionMode::Use);
        prop_assert_eq!(decoded.permission_id, id);
        prop_assert_eq!(decoded.signature, sig);
    }

    #[test]
    fn enable_signatures_round_trip(
        s in session(),
        digests in prop::collection::vec((any::<u64>(), b256()), 1..4),
        index in any::<u8>(),
        owner_sig in bytes(130),
        session_sig in bytes(130),
        validator in address(),
        t in account_type(),
        unsafe_mode in any::<bool>(),
    ) {
        let data = EnableSessionData {
            enable_session: EnableSession {
                chainDigestIndex: index,
                hashesAndChainIds: digests.into_iter().map(|(chain_id, digest)| ChainDigest { chainId: chain_id, sessionDigest: digest }).collect(),
                sessionToEnable: s.clone(),
                permissionEnableSig: owner_sig,
            },
            validator,
            account_type: t,
        };
        let mode = if unsafe_mode { SmartSessionMode::UnsafeEnable } else { SmartSessionMode::Enable };
        let encoded = encode_enable(mode, &data, &session_sig).unwrap();
        let decoded = decode_signature(&encoded, t).unwrap();
        prop_assert_eq!(decoded.mode, mode);
        prop_assert_eq!(decoded.permission_id, PermissionId::of(&s).0);
        prop_assert_eq!(decoded.signature, session_sig);
        prop_assert_eq!(decoded.enable_session_data, Some(data));
    }

    #[test]
    fn user_op_json_round_trips(sender in address(), nonce in any::<[u8; 32]>(), call in bytes(300)) {
        let op = PackedUserOperation { sender, nonce: U256::from_be_bytes(nonce), callData: call, ..Default::default() };
        let json = serde_json::to_string(&op).unwrap();
        prop_assert_eq!(serde_json::from_str::<PackedUserOperation>(&json).unwrap(), op);
    }

    #[test]
    fn validation_data_round_trips(agg in any::<[u8; 20]>(), until in 0u64..(1 << 48), after in 0u64..(1 << 48)) {
        let v = ValidationData { aggregator: U256::from_be_slice(&agg), valid_until: until, valid_after: after };
        prop_assert_eq!(ValidationData::unpack(v.pack()), v);
    }
}
