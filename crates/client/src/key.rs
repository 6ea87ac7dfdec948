//! Session keys: secp256k1 keys a backend holds to sign for a session. The secret never
//! appears in `Debug`, `Display`, logs or errors — only the key's address does.

use alloy_primitives::{Address, B256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;

/// A session key.
#[derive(Clone)]
pub struct SessionKey(PrivateKeySigner);

impl SessionKey {
    /// A fresh random key (from the operating system's generator), as `createSessionKeyEOA`.
    pub fn random() -> Self {
        Self(PrivateKeySigner::random())
    }

    /// Wraps an existing signer.
    pub const fn from_signer(signer: PrivateKeySigner) -> Self {
        Self(signer)
    }

    /// The key's address: what the session's ECDSA signer is initialised with.
    pub fn address(&self) -> Address {
        self.0.address()
    }

    /// The signer, to sign with or to write to a keystore.
    pub const fn signer(&self) -> &PrivateKeySigner {
        &self.0
    }

    /// Signs `hash` as an EIP-191 personal message (what the ECDSA session signer checks).
    pub fn sign_hash_personal(
        &self,
        hash: B256,
    ) -> Result<alloy_primitives::Signature, alloy_signer::Error> {
        self.0.sign_message_sync(hash.as_slice())
    }
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionKey({})", self.address())
    }
}

impl std::fmt::Display for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "session key {}", self.address())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_never_formatted() {
        let key = SessionKey::random();
        let secret = alloy_primitives::hex::encode(key.signer().to_bytes());
        for text in [format!("{key:?}"), format!("{key}"), format!("{key:#?}")] {
            assert!(!text.contains(&secret), "{text}");
            assert!(text.contains(&key.address().to_string()), "{text}");
        }
    }
}
