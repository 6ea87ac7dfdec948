//! Differential test: Mandate's OwnableValidator against Rhinestone's runtime (core-modules
//! 1f97c29, placed at module-sdk's address), on random thresholds, owner sets, signature words
//! (raw, EIP-191 with v + 4, plain EIP-191, contract signatures, garbage), short and padded
//! signatures: the same return value or the same revert data, stateless and installed; and the
//! local evaluator's model of it (`mandate_policy::ownable_validate`) on the same cases.
//!
//! ```text
//! MANDATE_UPSTREAM_DIR="$(cd ../shared/upstream/smartsessions-f5aaf86 && pwd)" \
//!   cargo test --features upstream-parity --test it ownable_parity
//! ```

#![cfg(feature = "upstream-parity")]

use std::cell::RefCell;

use alloy_primitives::{Address, B256, Bytes, U256, address, hex};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolError, SolValue};
use mandate::{
    abi::{
        deployments::OWNABLE_VALIDATOR,
        ownable::{OwnableData, encode_personal_signatures},
        sol::IOwnableValidator,
    },
    policy::{EvalError, ownable_validate},
    sim::{Devnet, SimError},
};
use mandate_testing::upstream::runtimes;
use proptest::{prelude::*, test_runner::TestRunner};

/// ERC-1271 signer: the magic value iff the hash is odd.
const ACCEPT_ODD: Address = address!("00000000000000000000000000000000000c0001");
/// ERC-1271 signer: always 0xffffffff.
const REJECT: Address = address!("00000000000000000000000000000000000c0002");
/// ERC-1271 signer: reverts with 0xdeadbeef.
const REVERTS: Address = address!("00000000000000000000000000000000000c0003");
/// ERC-1271 signer: returns only the 4 magic bytes.
const SHORT_RETURN: Address = address!("00000000000000000000000000000000000c0004");
/// No code at all.
const NO_CODE: Address = address!("00000000000000000000000000000000000c0005");
const CONTRACT_SIGNERS: [Address; 5] = [ACCEPT_ODD, REJECT, REVERTS, SHORT_RETURN, NO_CODE];

/// Keys 0..5 may be owners; key 5 never is.
const KEYS: usize = 6;

fn keys() -> Vec<PrivateKeySigner> {
    (1..=KEYS as u8).map(|i| PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).unwrap()).collect()
}

struct Fixture {
    devnet: Devnet,
    ours: Address,
    keys: Vec<PrivateKeySigner>,
}

fn fixture() -> Fixture {
    let mut devnet = Devnet::new().unwrap();
    let canonical = devnet.place_canonical(&runtimes());
    assert_eq!(canonical.session_validators.ownable, Some(OWNABLE_VALIDATOR));
    // PUSH1 4 CALLDATALOAD PUSH1 1 AND PUSH1 0x11 JUMPI PUSH4 ffffffff PUSH1 0x17 JUMP
    // JUMPDEST PUSH4 1626ba7e JUMPDEST PUSH1 0xe0 SHL PUSH1 0 MSTORE PUSH1 0x20 PUSH1 0 RETURN
    let accept_odd = "600435600116601157".to_owned()
        + "63ffffffff601756"
        + "5b631626ba7e"
        + "5b60e01b60005260206000f3";
    let reject = "63ffffffff60e01b60005260206000f3";
    let reverts = "63deadbeef6000526004601cfd";
    let short_return = "631626ba7e60e01b60005260046000f3";
    for (at, code) in [
        (ACCEPT_ODD, accept_odd.as_str()),
        (REJECT, reject),
        (REVERTS, reverts),
        (SHORT_RETURN, short_return),
    ] {
        devnet.set_code(at, hex::decode(code).unwrap().into());
    }
    let ours = devnet.deployments().chain.session_validators.ownable.unwrap();
    Fixture { devnet, ours, keys: keys() }
}

/// What a call gave: its return data, or its revert data, or how it halted.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Returned(Bytes),
    Reverted(Bytes),
    Halted(String),
}

fn outcome(result: Result<Bytes, SimError>) -> Outcome {
    match result {
        Ok(output) => Outcome::Returned(output),
        Err(SimError::Reverted { revert, .. }) => Outcome::Reverted(revert.data),
        Err(SimError::Halted { reason, .. }) => Outcome::Halted(format!("{reason:?}")),
        Err(e) => panic!("the EVM failed: {e}"),
    }
}

fn stateless(f: &mut Fixture, at: Address, hash: B256, signature: &Bytes, data: &Bytes) -> Outcome {
    let call = IOwnableValidator::validateSignatureWithDataCall {
        hash,
        signature: signature.clone(),
        data: data.clone(),
    };
    outcome(f.devnet.call(at, call.abi_encode().into()))
}

fn returned_bool(value: bool) -> Outcome {
    Outcome::Returned(value.abi_encode().into())
}

// ------------------------------------------------------------------ the case

#[derive(Clone, Debug)]
enum Offset {
    /// Where the signature's bytes really are.
    Correct,
    /// Anything (mostly out of place).
    Arbitrary(u64),
    /// Near 2^256 (overflows `s + 32`).
    Huge,
}

#[derive(Clone, Debug)]
enum Word {
    /// ECDSA over the hash itself, v 27/28.
    Raw(usize),
    /// ECDSA over the EIP-191 hash, v + 4.
    Personal(usize),
    /// ECDSA over the EIP-191 hash, v 27/28 (what a plain `personal_sign` gives).
    PersonalPlain(usize),
    /// A contract signature (v 0) by `CONTRACT_SIGNERS[signer]`.
    Contract {
        signer: usize,
        bytes: Vec<u8>,
        offset: Offset,
    },
    /// 65 random bytes, or an ECDSA word with an odd `v`.
    Garbage(Vec<u8>),
    OddV {
        key: usize,
        v: u8,
    },
}

#[derive(Clone, Debug)]
enum Order {
    Sorted,
    Unsorted,
    Duplicated,
}

#[derive(Clone, Debug)]
enum Data {
    Config { threshold: u8, owners: Vec<usize>, contracts: Vec<usize>, zero: bool, order: Order },
    Garbage(Vec<u8>),
}

#[derive(Clone, Debug)]
struct Case {
    data: Data,
    words: Vec<Word>,
    trailing: Vec<u8>,
    truncate: Option<usize>,
    hash: [u8; 32],
}

fn word() -> impl Strategy<Value = Word> {
    let key = 0..KEYS;
    prop_oneof![
        4 => key.clone().prop_map(Word::Raw),
        4 => key.clone().prop_map(Word::Personal),
        2 => key.clone().prop_map(Word::PersonalPlain),
        // Contract words only where they are the signature's only word: mixed with ECDSA
        // words, upstream's build (checknsignatures f8389c1, whose source is not public at that
        // commit) answers in ways not modelled here (a refused contract word followed by an
        // owner's ECDSA word passes; some layouts run out of memory).
        // Garbage with v 0 is a contract word at a random offset: upstream reads memory at
        // that offset before checking it, and runs out of gas where ours answers (not modelled).
        1 => prop::collection::vec(any::<u8>(), 65).prop_map(|mut word| {
            word[64] = word[64].max(1);
            Word::Garbage(word)
        }),
        1 => (key, prop_oneof![1u8..27, 29u8..31, 33u8..=255])
            .prop_map(|(key, v)| Word::OddV { key, v }),
    ]
}

fn data() -> impl Strategy<Value = Data> {
    let order = prop_oneof![6 => Just(Order::Sorted), 2 => Just(Order::Unsorted), 1 => Just(Order::Duplicated)];
    prop_oneof![
        12 => (
            0u8..5,
            prop::collection::btree_set(0..KEYS - 1, 0..5),
            prop::collection::btree_set(0..CONTRACT_SIGNERS.len(), 0..3),
            prop::bool::weighted(0.1),
            order,
        )
            .prop_map(|(threshold, owners, contracts, zero, order)| Data::Config {
                threshold,
                owners: owners.into_iter().collect(),
                contracts: contracts.into_iter().collect(),
                zero,
                order,
            }),
        1 => prop::collection::vec(any::<u8>(), 0..100).prop_map(Data::Garbage),
    ]
}

/// A contract signature as the signature's only word.
fn lone_contract_word() -> impl Strategy<Value = Vec<Word>> {
    let offset = prop_oneof![
        6 => Just(Offset::Correct),
        2 => (0u64..200).prop_map(Offset::Arbitrary),
        1 => Just(Offset::Huge),
    ];
    (0..CONTRACT_SIGNERS.len(), prop::collection::vec(any::<u8>(), 0..70), offset)
        .prop_map(|(signer, bytes, offset)| vec![Word::Contract { signer, bytes, offset }])
}

fn case() -> impl Strategy<Value = Case> {
    (
        data(),
        prop_oneof![6 => prop::collection::vec(word(), 0..5), 1 => lone_contract_word()],
        prop_oneof![4 => Just(vec![]), 1 => prop::collection::vec(any::<u8>(), 1..40)],
        prop::option::weighted(0.15, any::<usize>()),
        any::<[u8; 32]>(),
    )
        .prop_map(|(data, words, trailing, truncate, hash)| Case {
            data,
            words,
            trailing,
            truncate,
            hash,
        })
}

fn encode_data(case: &Case, keys: &[PrivateKeySigner]) -> Bytes {
    match &case.data {
        Data::Garbage(bytes) => bytes.clone().into(),
        Data::Config { threshold, owners, contracts, zero, order } => {
            let mut list: Vec<Address> = owners.iter().map(|&i| keys[i].address()).collect();
            list.extend(contracts.iter().map(|&i| CONTRACT_SIGNERS[i]));
            if *zero {
                list.push(Address::ZERO);
            }
            list.sort();
            match order {
                Order::Sorted => {}
                Order::Unsorted => list.reverse(),
                Order::Duplicated => {
                    if let Some(first) = list.first().copied() {
                        list.push(first);
                        list.sort();
                    }
                }
            }
            (U256::from(*threshold), list).abi_encode_params().into()
        }
    }
}

fn encode_signature(case: &Case, keys: &[PrivateKeySigner]) -> Bytes {
    let hash = B256::from(case.hash);
    let statics = case.words.len() * 65;
    let mut words = Vec::new();
    let mut tail = Vec::new();
    for w in &case.words {
        let word: Vec<u8> = match w {
            Word::Raw(k) => keys[*k].sign_hash_sync(&hash).unwrap().as_bytes().to_vec(),
            Word::Personal(k) => {
                encode_personal_signatures(&[keys[*k].sign_message_sync(hash.as_slice()).unwrap()])
                    .to_vec()
            }
            Word::PersonalPlain(k) => {
                keys[*k].sign_message_sync(hash.as_slice()).unwrap().as_bytes().to_vec()
            }
            Word::Garbage(bytes) => bytes.clone(),
            Word::OddV { key, v } => {
                let mut word = keys[*key].sign_hash_sync(&hash).unwrap().as_bytes();
                word[64] = *v;
                word.to_vec()
            }
            Word::Contract { signer, bytes, offset } => {
                let at = statics + case.trailing.len() + tail.len();
                tail.extend_from_slice(&U256::from(bytes.len()).to_be_bytes::<32>());
                tail.extend_from_slice(bytes);
                let s = match offset {
                    Offset::Correct => U256::from(at),
                    Offset::Arbitrary(s) => U256::from(*s),
                    Offset::Huge => U256::MAX - U256::from(7),
                };
                let mut word = CONTRACT_SIGNERS[*signer].into_word().to_vec();
                word.extend_from_slice(&s.to_be_bytes::<32>());
                word.push(0);
                word
            }
        };
        words.extend(word);
    }
    words.extend_from_slice(&case.trailing);
    words.extend(tail);
    if let Some(cut) = case.truncate {
        words.truncate(cut % (words.len() + 1));
    }
    words.into()
}

/// Whether a whole word of `signature` is a contract word (v 0) whose offset lies far past the
/// signature but not near 2^256: upstream's build reads memory there before it checks the
/// offset and runs out of gas, where ours answers (not modelled; real signatures never do it).
fn reads_memory_far(signature: &[u8]) -> bool {
    signature.chunks_exact(65).any(|word| {
        let s = U256::from_be_slice(&word[32..64]);
        word[64] == 0 && s > U256::from(1u64 << 20) && s < U256::MAX - U256::from(1u64 << 20)
    })
}

// ------------------------------------------------------------------ tests

#[test]
fn stateless_answers_match_upstream_on_random_cases() {
    let f = RefCell::new(fixture());
    // A fixed seed: the coverage asserted below is of these cases (a random draw of 600 has
    // been seen to give fewer than 10 valid signatures).
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig { cases: 600, ..ProptestConfig::default() },
        proptest::test_runner::TestRng::from_seed(
            proptest::test_runner::RngAlgorithm::ChaCha,
            &[0x0b; 32],
        ),
    );
    let seen = RefCell::new([0usize; 3]); // true, false, reverted
    let modelled = RefCell::new(0usize);
    runner
        .run(&case(), |case| {
            let f = &mut *f.borrow_mut();
            let (data, signature) = (encode_data(&case, &f.keys), encode_signature(&case, &f.keys));
            prop_assume!(!reads_memory_far(&signature));
            let hash = B256::from(case.hash);
            let ours = stateless(f, f.ours, hash, &signature, &data);
            let theirs = stateless(f, OWNABLE_VALIDATOR, hash, &signature, &data);
            prop_assert_eq!(&ours, &theirs);
            // The local evaluator's model gives the same answer, where it has one (a contract
            // word's ERC-1271 answer is the chain's).
            match ownable_validate(hash, &signature, &data) {
                Ok(model) => {
                    let model = match model {
                        Ok(valid) => returned_bool(valid),
                        Err(reject) => Outcome::Reverted(reject.data),
                    };
                    prop_assert_eq!(&model, &theirs, "the local evaluator's model");
                    *modelled.borrow_mut() += 1;
                }
                Err(EvalError::ContractSessionSigner { .. }) => {}
                Err(e) => panic!("unexpected evaluator error: {e}"),
            }
            let mut seen = seen.borrow_mut();
            match ours {
                o if o == returned_bool(true) => seen[0] += 1,
                Outcome::Returned(_) => seen[1] += 1,
                _ => seen[2] += 1,
            }
            Ok(())
        })
        .unwrap();
    // The cases reach every answer.
    let seen = *seen.borrow();
    assert!(seen[0] >= 10 && seen[1] >= 30 && seen[2] >= 30, "true / false / reverted: {seen:?}");
    assert!(*modelled.borrow() >= 450, "the model answered {} cases", modelled.borrow());
}

#[test]
fn installed_answers_match_upstream_on_random_cases() {
    let f = RefCell::new(fixture());
    let mut runner = TestRunner::new(ProptestConfig { cases: 300, ..ProptestConfig::default() });
    let installed = RefCell::new(0usize);
    let next_account = RefCell::new(0u64);
    runner
        .run(&case(), |case| {
            let f = &mut *f.borrow_mut();
            let (data, signature) = (encode_data(&case, &f.keys), encode_signature(&case, &f.keys));
            prop_assume!(!reads_memory_far(&signature));
            let hash = B256::from(case.hash);
            // A fresh account per case (shrinking repeats cases).
            let account = Address::from_word(alloy_primitives::keccak256(
                (B256::from(case.hash), U256::from(next_account.replace_with(|n| *n + 1)))
                    .abi_encode(),
            ));
            f.devnet.set_balance(account, U256::from(10u128.pow(18)));
            let mut run = |at: Address, data: Bytes| {
                f.devnet.transact(account, at, U256::ZERO, data).map(|r| r.output)
            };
            let install = IOwnableValidator::onInstallCall { data }.abi_encode();
            let ours = outcome(run(f.ours, install.clone().into()));
            let theirs = outcome(run(OWNABLE_VALIDATOR, install.into()));
            prop_assert_eq!(&ours, &theirs, "onInstall");
            if ours == Outcome::Returned(Bytes::new()) {
                *installed.borrow_mut() += 1;
                let check = IOwnableValidator::isValidSignatureWithSenderCall {
                    sender: Address::ZERO,
                    hash,
                    signature,
                }
                .abi_encode();
                let ours = outcome(run(f.ours, check.clone().into()));
                let theirs = outcome(run(OWNABLE_VALIDATOR, check.into()));
                prop_assert_eq!(ours, theirs, "isValidSignatureWithSender");
            }
            Ok(())
        })
        .unwrap();
    assert!(*installed.borrow() >= 50, "installed {} configurations", installed.borrow());
}

/// The signature forms, named: what the upstream build accepts, and that ours agrees.
#[test]
fn signature_forms_upstream_accepts() {
    let mut f = fixture();
    let hash = B256::repeat_byte(0x42);
    let (a, b, c) = (&f.keys[0], &f.keys[1], &f.keys[2]);
    let one = OwnableData::new(1, vec![a.address()]).unwrap().encode();
    let two_of_three =
        OwnableData::new(2, vec![a.address(), b.address(), c.address()]).unwrap().encode();
    let raw = Bytes::from(a.sign_hash_sync(&hash).unwrap().as_bytes().to_vec());
    let personal = encode_personal_signatures(&[a.sign_message_sync(hash.as_slice()).unwrap()]);
    let plain = Bytes::from(a.sign_message_sync(hash.as_slice()).unwrap().as_bytes().to_vec());
    let pair = encode_personal_signatures(&[
        c.sign_message_sync(hash.as_slice()).unwrap(),
        a.sign_message_sync(hash.as_slice()).unwrap(),
    ]);
    let twice = encode_personal_signatures(&[
        a.sign_message_sync(hash.as_slice()).unwrap(),
        a.sign_message_sync(hash.as_slice()).unwrap(),
    ]);
    let short = Outcome::Reverted(IOwnableValidator::InvalidSignature {}.abi_encode().into());
    let zero_threshold: Bytes = (U256::ZERO, vec![a.address()]).abi_encode_params().into();
    let unsorted: Bytes =
        (U256::from(1), vec![b.address().max(a.address()), b.address().min(a.address())])
            .abi_encode_params()
            .into();
    for at in [f.ours, OWNABLE_VALIDATOR] {
        assert_eq!(stateless(&mut f, at, hash, &raw, &one), returned_bool(true), "raw, v 27/28");
        assert_eq!(stateless(&mut f, at, hash, &personal, &one), returned_bool(true), "v + 4");
        assert_eq!(stateless(&mut f, at, hash, &plain, &one), returned_bool(false), "plain 191");
        assert_eq!(stateless(&mut f, at, hash, &pair, &two_of_three), returned_bool(true));
        assert_eq!(stateless(&mut f, at, hash, &twice, &two_of_three), returned_bool(false));
        assert_eq!(stateless(&mut f, at, hash, &personal, &two_of_three), short, "65 < 2 × 65");
        assert_eq!(stateless(&mut f, at, hash, &raw, &zero_threshold), returned_bool(false));
        assert_eq!(stateless(&mut f, at, hash, &raw, &unsorted), returned_bool(false));
        let is_type = |t: u64| IOwnableValidator::isModuleTypeCall { typeId: U256::from(t) };
        for (t, expected) in [(1, true), (7, true), (2, false)] {
            let out = f.devnet.call(at, is_type(t).abi_encode().into()).unwrap();
            assert_eq!(out, Bytes::from(expected.abi_encode()), "isModuleType({t}) at {at}");
        }
    }
}

/// Contract signatures (v 0) alone: an accepting signer, a refusing one, bytes out of bounds,
/// a reverting signer, a signer answering 4 bytes and one without code. (Mixed with ECDSA
/// words, upstream's build answers differently — see the module's note in `word()`.)
#[test]
fn contract_signatures_match_upstream() {
    let mut f = fixture();
    let invalid = Outcome::Reverted(IOwnableValidator::InvalidSignature {}.abi_encode().into());
    let cases = [
        (ACCEPT_ODD, 1u8, 65u64, 3usize, returned_bool(true)),
        (ACCEPT_ODD, 1, 65, 0, returned_bool(true)),
        (ACCEPT_ODD, 0, 65, 3, invalid.clone()),
        (REJECT, 1, 65, 3, invalid.clone()),
        (ACCEPT_ODD, 1, 66, 3, invalid.clone()),
        (ACCEPT_ODD, 1, 97, 3, invalid.clone()),
        (ACCEPT_ODD, 1, 0, 3, invalid),
        (REVERTS, 1, 65, 3, Outcome::Reverted(hex::decode("deadbeef").unwrap().into())),
        (SHORT_RETURN, 1, 65, 3, Outcome::Reverted(Bytes::new())),
        (NO_CODE, 1, 65, 3, Outcome::Reverted(Bytes::new())),
    ];
    for (signer, odd, s, len, expected) in cases {
        let hash = B256::with_last_byte(odd);
        let data: Bytes = (U256::from(1), vec![signer]).abi_encode_params().into();
        let mut sig = signer.into_word().to_vec();
        sig.extend_from_slice(&U256::from(s).to_be_bytes::<32>());
        sig.push(0);
        sig.extend_from_slice(&U256::from(len).to_be_bytes::<32>());
        sig.extend(vec![7u8; len]);
        let sig = Bytes::from(sig);
        for at in [f.ours, OWNABLE_VALIDATOR] {
            let got = stateless(&mut f, at, hash, &sig, &data);
            assert_eq!(got, expected, "{signer} s {s} len {len} at {at}");
        }
    }
}

/// Gas of one `validateSignatureWithData` transaction (21,000 base included) for the ECDSA
/// session signer and OwnableValidator 1-of-1 / 2-of-3, ours and upstream's (`--nocapture`).
#[test]
#[allow(clippy::print_stdout)]
fn validation_gas() {
    let mut f = fixture();
    let hash = B256::repeat_byte(0x24);
    let (a, b, c) = (f.keys[0].clone(), f.keys[1].clone(), f.keys[2].clone());
    let sign = |k: &PrivateKeySigner| k.sign_message_sync(hash.as_slice()).unwrap();
    let one = OwnableData::new(1, vec![a.address()]).unwrap();
    let two = OwnableData::new(2, vec![a.address(), b.address(), c.address()]).unwrap();
    let ecdsa = f.devnet.deployments().chain.session_validators.ecdsa.unwrap();
    let cases = [
        (
            "ECDSA signer",
            ecdsa,
            Bytes::from(sign(&a).as_bytes().to_vec()),
            a.address().to_vec().into(),
        ),
        ("Ownable 1-of-1, ours", f.ours, encode_personal_signatures(&[sign(&a)]), one.encode()),
        (
            "Ownable 1-of-1, upstream",
            OWNABLE_VALIDATOR,
            encode_personal_signatures(&[sign(&a)]),
            one.encode(),
        ),
        (
            "Ownable 2-of-3, ours",
            f.ours,
            encode_personal_signatures(&[sign(&a), sign(&c)]),
            two.encode(),
        ),
        (
            "Ownable 2-of-3, upstream",
            OWNABLE_VALIDATOR,
            encode_personal_signatures(&[sign(&a), sign(&c)]),
            two.encode(),
        ),
    ];
    for (label, at, signature, data) in cases {
        let call = IOwnableValidator::validateSignatureWithDataCall { hash, signature, data };
        let receipt = f
            .devnet
            .transact(mandate::sim::BUNDLER, at, U256::ZERO, call.abi_encode().into())
            .unwrap();
        assert_eq!(receipt.output, Bytes::from(true.abi_encode()), "{label}");
        println!("{label:<26} {:>6} gas", receipt.gas_used);
    }
}

/// Malformed validator data — offsets and lengths at the decoder's bounds, dirty owner bits —
/// answered alike by both contracts and by the local evaluator's model.
#[test]
fn malformed_data_matches_upstream_and_the_model() {
    let mut f = fixture();
    let hash = B256::repeat_byte(0x11);
    let a = f.keys[0].address();
    let signature =
        encode_personal_signatures(&[f.keys[0].sign_message_sync(hash.as_slice()).unwrap()]);
    let word = |x: U256| x.to_be_bytes::<32>().to_vec();
    let with = |threshold: U256, offset: U256, length: U256, owners: &[Vec<u8>]| -> Bytes {
        let mut data = [word(threshold), word(offset), word(length)].concat();
        for owner in owners {
            data.extend_from_slice(owner);
        }
        data.into()
    };
    let owner = a.into_word().to_vec();
    let mut dirty = owner.clone();
    dirty[0] = 1;
    let limit = (U256::from(u64::MAX) - U256::from(0x80 + 32)) / U256::from(32);
    let (one, x40) = (U256::from(1), U256::from(0x40));
    let cases: Vec<(&str, Bytes)> = vec![
        ("well formed", with(one, x40, one, std::slice::from_ref(&owner))),
        ("dirty owner", with(one, x40, one, &[dirty])),
        ("length past the data", with(one, x40, U256::from(2), std::slice::from_ref(&owner))),
        ("length 2^32", with(one, x40, U256::from(1u64 << 32), &[])),
        ("length at the allocation limit", with(one, x40, limit, &[])),
        ("length above it", with(one, x40, limit + one, &[])),
        ("length 2^64", with(one, x40, U256::from(1u128 << 64), &[])),
        ("length 2^256 - 1", with(one, x40, U256::MAX, &[])),
        ("offset 2^64", with(one, U256::from(1u128 << 64), one, std::slice::from_ref(&owner))),
        ("offset at the last word", with(one, U256::from(64), one, std::slice::from_ref(&owner))),
        ("offset one past it", with(one, U256::from(97), one, std::slice::from_ref(&owner))),
        ("offset 2^256 - 1", with(one, U256::MAX, one, std::slice::from_ref(&owner))),
        ("threshold 2^256 - 1", with(U256::MAX, x40, one, std::slice::from_ref(&owner))),
        ("one word", Bytes::from(word(one))),
        ("empty", Bytes::new()),
    ];
    // A threshold whose × 65 wraps to 49, with a reverting contract signer's word: does the
    // length check wrap, or divide?
    let wraps = U256::MAX / U256::from(65) + one;
    let wrap_data: Bytes = (wraps, vec![REVERTS]).abi_encode_params().into();
    let mut contract_word = REVERTS.into_word().to_vec();
    contract_word.extend_from_slice(&word(U256::from(65)));
    contract_word.push(0);
    contract_word.extend_from_slice(&word(U256::from(3)));
    contract_word.extend_from_slice(&[7, 7, 7]);
    let contract_word = Bytes::from(contract_word);
    let mut reverted = 0;
    let cases = cases.into_iter().map(|(label, data)| (label, data, signature.clone())).chain([(
        "threshold × 65 wraps",
        wrap_data,
        contract_word,
    )]);
    for (label, data, signature) in cases {
        let theirs = stateless(&mut f, OWNABLE_VALIDATOR, hash, &signature, &data);
        let ours = f.ours;
        assert_eq!(stateless(&mut f, ours, hash, &signature, &data), theirs, "{label}: ours");
        let model = match ownable_validate(hash, &signature, &data).unwrap() {
            Ok(valid) => returned_bool(valid),
            Err(reject) => Outcome::Reverted(reject.data),
        };
        assert_eq!(model, theirs, "{label}: the model");
        reverted += usize::from(matches!(theirs, Outcome::Reverted(_)));
    }
    assert!(reverted >= 10, "{reverted} of the cases revert");
}
