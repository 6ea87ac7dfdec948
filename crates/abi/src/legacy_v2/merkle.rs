//! Session leaves and the merkle tree over their hashes, as the SDK builds it (merkletreejs with
//! keccak256, `sortPairs: true`, `hashLeaves: false`: pairs sorted before hashing, an odd last
//! node promoted unchanged) and as OpenZeppelin's `MerkleProof.verify` checks it.

use alloy_primitives::{Address, B256, Bytes, keccak256};
use serde::{Deserialize, Serialize};

use super::LegacyV2EncodeError;

/// Largest uint48.
pub(crate) const MAX_U48: u64 = (1 << 48) - 1;

/// One session: a leaf of the account's merkle tree (the SDK's `CreateSessionDataParams`
/// without `sessionPublicKey`, in its JSON shape).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionLeaf {
    /// Last second the session is valid (0: no end). Must fit in uint48.
    pub valid_until: u64,
    /// First second the session is valid. Must fit in uint48.
    pub valid_after: u64,
    /// The session validation module that reads [`Self::session_key_data`].
    pub session_validation_module: Address,
    /// The module's data (session key and permissions).
    pub session_key_data: Bytes,
}

impl SessionLeaf {
    /// A leaf.
    pub fn new(
        valid_until: u64,
        valid_after: u64,
        session_validation_module: Address,
        session_key_data: impl Into<Bytes>,
    ) -> Self {
        Self {
            valid_until,
            valid_after,
            session_validation_module,
            session_key_data: session_key_data.into(),
        }
    }

    /// Checks both timestamps fit in uint48.
    pub fn check(&self) -> Result<(), LegacyV2EncodeError> {
        for (field, value) in [("validUntil", self.valid_until), ("validAfter", self.valid_after)] {
            if value > MAX_U48 {
                return Err(LegacyV2EncodeError::Timestamp { field, value });
            }
        }
        Ok(())
    }

    /// `packed(uint48 validUntil, uint48 validAfter, address svm, bytes sessionKeyData)`
    /// (timestamps above uint48 are cut to their low 48 bits, as `pad(toHex(x), {size: 6})`
    /// would refuse them: call [`Self::check`] first).
    pub fn packed(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.session_key_data.len());
        out.extend_from_slice(&self.valid_until.to_be_bytes()[2..]);
        out.extend_from_slice(&self.valid_after.to_be_bytes()[2..]);
        out.extend_from_slice(self.session_validation_module.as_slice());
        out.extend_from_slice(&self.session_key_data);
        out
    }

    /// The leaf hash: `keccak256(packed)`.
    pub fn hash(&self) -> B256 {
        keccak256(self.packed())
    }
}

/// `keccak256` of a pair, sorted (merkletreejs `sortPairs`, OpenZeppelin `_hashPair`).
fn hash_pair(a: B256, b: B256) -> B256 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(lo.as_slice());
    buf[32..].copy_from_slice(hi.as_slice());
    keccak256(buf)
}

/// The merkle tree over leaf hashes, layer by layer (leaves first).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MerkleTree {
    layers: Vec<Vec<B256>>,
}

impl MerkleTree {
    /// The tree over these leaf hashes, in this order (the SDK appends new leaves to the
    /// stored ones).
    pub fn new(leaves: Vec<B256>) -> Self {
        let mut layers = vec![leaves];
        while let Some(last) = layers.last().filter(|l| l.len() > 1) {
            let next = last
                .chunks(2)
                .map(|pair| match *pair {
                    [a, b] => hash_pair(a, b),
                    [a] => a,
                    _ => B256::ZERO,
                })
                .collect();
            layers.push(next);
        }
        Self { layers }
    }

    /// The tree over these sessions' leaf hashes.
    pub fn from_leaves(leaves: &[SessionLeaf]) -> Self {
        Self::new(leaves.iter().map(SessionLeaf::hash).collect())
    }

    /// The leaf hashes.
    pub fn leaves(&self) -> &[B256] {
        self.layers.first().map(Vec::as_slice).unwrap_or_default()
    }

    /// The root (a single leaf is its own root; an empty tree's root is zero, which no proof
    /// verifies against).
    pub fn root(&self) -> B256 {
        self.layers.last().and_then(|l| l.first()).copied().unwrap_or_default()
    }

    /// The proof of `leaf` (its first occurrence, as merkletreejs `getHexProof`): the sibling
    /// at each layer that has one.
    pub fn proof(&self, leaf: B256) -> Result<Vec<B256>, LegacyV2EncodeError> {
        let mut index = self
            .leaves()
            .iter()
            .position(|l| *l == leaf)
            .ok_or(LegacyV2EncodeError::LeafNotInTree(leaf))?;
        let mut proof = Vec::new();
        for layer in &self.layers[..self.layers.len().saturating_sub(1)] {
            let sibling = if index % 2 == 1 { index - 1 } else { index + 1 };
            if let Some(node) = layer.get(sibling) {
                proof.push(*node);
            }
            index /= 2;
        }
        Ok(proof)
    }

    /// OpenZeppelin `MerkleProof.verify`: folds the proof with sorted-pair hashing.
    pub fn verify(proof: &[B256], root: B256, leaf: B256) -> bool {
        proof.iter().fold(leaf, |node, sibling| hash_pair(node, *sibling)) == root
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn leaf(i: u8) -> B256 {
        keccak256([i])
    }

    #[test]
    fn single_leaf_is_its_own_root_with_an_empty_proof() {
        let tree = MerkleTree::new(vec![leaf(1)]);
        assert_eq!(tree.root(), leaf(1));
        assert!(tree.proof(leaf(1)).unwrap().is_empty());
    }

    #[test]
    fn three_leaves_promote_the_odd_one() {
        let (a, b, c) = (leaf(1), leaf(2), leaf(3));
        let tree = MerkleTree::new(vec![a, b, c]);
        assert_eq!(tree.root(), hash_pair(hash_pair(a, b), c));
        assert_eq!(tree.proof(c).unwrap(), vec![hash_pair(a, b)]);
        assert_eq!(tree.proof(a).unwrap(), vec![b, c]);
    }

    #[test]
    fn every_proof_verifies_and_a_stranger_has_none() {
        for n in 1..=9u8 {
            let leaves: Vec<B256> = (0..n).map(leaf).collect();
            let tree = MerkleTree::new(leaves.clone());
            for l in &leaves {
                assert!(MerkleTree::verify(&tree.proof(*l).unwrap(), tree.root(), *l), "n={n}");
            }
            assert_eq!(tree.proof(leaf(200)), Err(LegacyV2EncodeError::LeafNotInTree(leaf(200))));
            assert!(!MerkleTree::verify(&[], tree.root(), leaf(200)));
        }
    }

    #[test]
    fn leaf_reads_the_sdks_stored_leaf_node() {
        // A `SessionLeafNode` as the SDK's session storage keeps it (extra fields ignored).
        let json = r#"{"validUntil":0,"validAfter":1700000000,
            "sessionValidationModule":"0x000006bc2ecdae38113929293d241cf252d91861",
            "sessionKeyData":"0x0102","sessionPublicKey":"0x5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e",
            "sessionID":"a1b2","status":"ACTIVE"}"#;
        let leaf: SessionLeaf = serde_json::from_str(json).unwrap();
        assert_eq!(leaf.valid_after, 1_700_000_000);
        assert_eq!(leaf.session_validation_module, crate::legacy_v2::ABI_SVM);
        assert_eq!(leaf.session_key_data.as_ref(), &[1, 2]);
        let back = serde_json::to_value(&leaf).unwrap();
        assert_eq!(back["sessionKeyData"], "0x0102");
        assert_eq!(back["validAfter"], 1_700_000_000);
    }

    #[test]
    fn leaf_packing_is_6_6_20_data() {
        let l = SessionLeaf::new(0x0102_0304_0506, 7, Address::repeat_byte(9), vec![0xaa]);
        let packed = l.packed();
        assert_eq!(packed.len(), 33);
        assert_eq!(&packed[..6], &[1, 2, 3, 4, 5, 6]);
        assert_eq!(&packed[6..12], &[0, 0, 0, 0, 0, 7]);
        assert_eq!(packed[32], 0xaa);
        assert!(SessionLeaf::new(1 << 48, 0, Address::ZERO, vec![]).check().is_err());
    }
}
