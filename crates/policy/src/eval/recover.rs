//! Public-key recovery as the EVM's `ecrecover` precompile does it, with the library revm's
//! precompile runs (libsecp256k1): the one recovery both session validators' models and the
//! legacy v2 modules' use.

use alloy_primitives::{Address, B256, U256, keccak256};
use secp256k1::{
    Message, SECP256K1,
    ecdsa::{RecoverableSignature, RecoveryId},
};

/// The `ecrecover` precompile: v 27/28, r and s in 1..n (a high s is accepted), else nobody.
pub(crate) fn ecrecover(digest: B256, v: u8, r: U256, s: U256) -> Option<Address> {
    let id = match v {
        27 => RecoveryId::Zero,
        28 => RecoveryId::One,
        _ => return None,
    };
    let mut compact = [0u8; 64];
    compact[..32].copy_from_slice(&r.to_be_bytes::<32>());
    compact[32..].copy_from_slice(&s.to_be_bytes::<32>());
    // Refuses r or s at or above n; a zero r or s fails the recovery.
    let signature = RecoverableSignature::from_compact(&compact, id).ok()?;
    let public = SECP256K1.recover_ecdsa(Message::from_digest(digest.0), &signature).ok()?;
    Some(Address::from_slice(&keccak256(&public.serialize_uncompressed()[1..])[12..]))
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{Signature, keccak256};

    use super::*;

    /// The same signer as alloy's recovery (k256) on signatures with low and high s, and
    /// nobody where the precompile finds nobody.
    #[test]
    fn recovers_as_the_precompile() {
        const N: U256 = alloy_primitives::uint!(
            0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141_U256
        );
        let digest = keccak256("mandate");
        // r on the curve (the generator's x): every s recovers someone.
        let r = alloy_primitives::uint!(
            0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798_U256
        );
        let s = U256::from(12345);
        for (v, s) in [(27, s), (28, s), (27, N - s), (28, N - s)] {
            let ours = ecrecover(digest, v, r, s);
            let alloy = Signature::new(r, s, v == 28).recover_address_from_prehash(&digest).ok();
            assert!(ours.is_some());
            assert_eq!(ours, alloy, "v {v} s {s}");
        }
        assert_eq!(ecrecover(digest, 29, r, s), None);
        assert_eq!(ecrecover(digest, 27, U256::ZERO, s), None);
        assert_eq!(ecrecover(digest, 27, r, U256::ZERO), None);
        assert_eq!(ecrecover(digest, 27, N, s), None);
        assert_eq!(ecrecover(digest, 27, r, N), None);
    }
}
