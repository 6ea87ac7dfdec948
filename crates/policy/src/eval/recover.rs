//! Public-key recovery as the EVM's `ecrecover` precompile does it: the one recovery both
//! session validators' models use.

use alloy_primitives::{Address, B256, Signature, U256};

/// The `ecrecover` precompile: v 27/28, r and s in 1..n (a high s is accepted), else nobody.
pub(crate) fn ecrecover(digest: B256, v: u8, r: U256, s: U256) -> Option<Address> {
    if v != 27 && v != 28 {
        return None;
    }
    Signature::new(r, s, v == 28).recover_address_from_prehash(&digest).ok()
}
