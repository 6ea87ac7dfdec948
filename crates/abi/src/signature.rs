//! `userOp.signature` encodings of SmartSession (spec §3.1).

use alloy_primitives::Bytes;

use crate::ids::PermissionId;

/// The mode byte at the start of a SmartSession signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SmartSessionMode {
    /// Use an enabled session.
    Use = 0,
    /// Enable a session with the owner's signature, then use it.
    Enable = 1,
    /// As `Enable`, signing that registry attestations are ignored.
    UnsafeEnable = 2,
}

/// A USE-mode signature: `0x00 ‖ permissionId ‖ sessionSignature`.
pub fn encode_use(permission_id: PermissionId, session_signature: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(33 + session_signature.len());
    out.push(SmartSessionMode::Use as u8);
    out.extend_from_slice(permission_id.0.as_slice());
    out.extend_from_slice(session_signature);
    out.into()
}

/// A dummy 65-byte ECDSA signature of the right shape, for gas estimation.
pub const DUMMY_ECDSA_SIGNATURE: [u8; 65] = {
    let mut sig = [0xffu8; 65];
    sig[64] = 0x1c;
    sig
};

#[cfg(test)]
mod tests {
    use alloy_primitives::B256;

    use super::*;

    #[test]
    fn use_layout() {
        let id = PermissionId(B256::repeat_byte(0x42));
        let sig = encode_use(id, &[1, 2, 3]);
        assert_eq!(sig.len(), 36);
        assert_eq!(sig[0], 0);
        assert_eq!(&sig[1..33], id.0.as_slice());
        assert_eq!(&sig[33..], &[1, 2, 3]);
    }
}
