//! Byte equality with the Biconomy SDK (`@biconomy/account` 4.6.3, viem, merkletreejs) for
//! session keys v2: every vector in `interop/legacy_v2_vectors.json`, which
//! `node interop/legacy_v2_vectors.mjs` makes from seeded random inputs (CI makes it afresh from
//! the pinned packages). Checked: ABI and ERC-20 session key data from the SDK's own arguments
//! read as JSON (`createABISessionDatum`, `createERC20SessionDatum`; bigints as numbers, decimal
//! or hex strings; reference values as bigint, short hex or `{raw}`; selectors as signatures or
//! `{raw}`), the module addresses, the merkle root, proofs and `setMerkleRoot`
//! calldata of `SessionKeyManagerModule.createSessionData`, the single-session module signature
//! of `SessionKeyManagerModule.signUserOpHash` and the batch one of
//! `BatchedSessionRouterModule.signUserOpHash` (leaves in call order, `additionalSessionData`).

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use alloy_primitives::{Address, B256, Bytes};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::legacy_v2::{
    ABI_SVM, AbiSessionParams, BATCHED_SESSION_ROUTER, ERC20_SVM, Erc20SessionData,
    Erc20SessionParams, MerkleTree, SESSION_KEY_MANAGER_V1, SessionLeaf, batch_module_signature,
    personal_hash, single_module_signature,
    sol::{ISessionKeyManagerV1, SessionData},
};
use serde_json::Value;

fn vectors() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop/legacy_v2_vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn address(v: &Value) -> Address {
    s(v).parse().unwrap()
}

fn bytes(v: &Value) -> Bytes {
    s(v).parse().unwrap()
}

/// The leaf from the SDK's own arguments (`createABISessionDatum` / `createERC20SessionDatum`,
/// bigints in any JSON form); ERC-20 data also rebuilt from its four values.
fn leaf_of(v: &Value) -> SessionLeaf {
    match s(&v["kind"]) {
        "abi" => {
            let params: AbiSessionParams = serde_json::from_value(v["params"].clone()).unwrap();
            params.leaf().unwrap()
        }
        _ => {
            let params: Erc20SessionParams = serde_json::from_value(v["params"].clone()).unwrap();
            let data: Erc20SessionData = serde_json::from_value(v["erc20"].clone()).unwrap();
            assert_eq!(data.encode(), params.session_key_data);
            params.leaf().unwrap()
        }
    }
}

#[test]
fn module_addresses_are_the_sdks() {
    let v = vectors();
    let c = &v["constants"];
    assert_eq!(address(&c["sessionKeyManager"]), SESSION_KEY_MANAGER_V1);
    assert_eq!(address(&c["batchedSessionRouter"]), BATCHED_SESSION_ROUTER);
    assert_eq!(address(&c["abiSvm"]), ABI_SVM);
    assert_eq!(address(&c["erc20Svm"]), ERC20_SVM);
}

#[test]
fn session_data_tree_and_signatures_match_the_sdk() {
    let v = vectors();
    let all = v["vectors"].as_array().unwrap();
    assert!(all.len() >= 20);
    let (mut abi, mut erc20, mut batches) = (0, 0, 0);
    for (n, vector) in all.iter().enumerate() {
        let leaves: Vec<SessionLeaf> =
            vector["leaves"].as_array().unwrap().iter().map(leaf_of).collect();
        for (leaf, expected) in leaves.iter().zip(vector["leaves"].as_array().unwrap()) {
            assert_eq!(leaf.session_key_data, bytes(&expected["sessionKeyData"]), "vector {n}");
            assert_eq!(
                leaf.session_validation_module,
                address(&expected["sessionValidationModule"])
            );
            if leaf.session_validation_module == ABI_SVM { abi += 1 } else { erc20 += 1 }
        }
        let tree = MerkleTree::from_leaves(&leaves);
        assert_eq!(tree.root(), s(&vector["root"]).parse::<B256>().unwrap(), "vector {n} root");
        let calldata =
            ISessionKeyManagerV1::setMerkleRootCall { _merkleRoot: tree.root() }.abi_encode();
        assert_eq!(Bytes::from(calldata), bytes(&vector["setMerkleRootCalldata"]));
        for (leaf, proof) in leaves.iter().zip(vector["proofs"].as_array().unwrap()) {
            let expected: Vec<B256> =
                proof.as_array().unwrap().iter().map(|p| s(p).parse().unwrap()).collect();
            assert_eq!(tree.proof(leaf.hash()).unwrap(), expected, "vector {n} proof");
        }

        let key: PrivateKeySigner = s(&vector["sessionKeyPrivateKey"]).parse().unwrap();
        let hash: B256 = s(&vector["userOpHash"]).parse().unwrap();
        // The SDK signs the user-op hash as a raw 32-byte message, for single sessions and
        // batches alike.
        let sig = key.sign_hash_sync(&personal_hash(hash)).unwrap().as_bytes();
        for single in vector["single"].as_array().unwrap() {
            let leaf = &leaves[usize::try_from(single["index"].as_u64().unwrap()).unwrap()];
            let ours = single_module_signature(leaf, &tree.proof(leaf.hash()).unwrap(), &sig);
            assert_eq!(ours, bytes(&single["moduleSignature"]), "vector {n} single");
        }
        let batch = &vector["batch"];
        let sessions: Vec<SessionData> = batch["indexes"]
            .as_array()
            .unwrap()
            .iter()
            .zip(batch["callSpecificData"].as_array().unwrap())
            .map(|(i, extra)| {
                let leaf = &leaves[usize::try_from(i.as_u64().unwrap()).unwrap()];
                SessionData {
                    validUntil: alloy_primitives::aliases::U48::from(leaf.valid_until),
                    validAfter: alloy_primitives::aliases::U48::from(leaf.valid_after),
                    sessionValidationModule: leaf.session_validation_module,
                    sessionKeyData: leaf.session_key_data.clone(),
                    merkleProof: tree.proof(leaf.hash()).unwrap(),
                    callSpecificData: bytes(extra),
                }
            })
            .collect();
        let ours = batch_module_signature(SESSION_KEY_MANAGER_V1, &sessions, &sig);
        assert_eq!(ours, bytes(&batch["moduleSignature"]), "vector {n} batch");
        batches += 1;
    }
    assert!(abi > 20 && erc20 > 10 && batches >= 20, "abi {abi} erc20 {erc20} batches {batches}");
}
