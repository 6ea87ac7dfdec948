//! Who signs for a session: one key or several, checked against the session's validator
//! before anything is signed.
//!
//! A session names its session validator and that validator's data; a [`SessionSigner`] holds
//! the keys and [`SessionSigner::scheme`] says how they sign for it:
//!
//! - Mandate's ECDSA session signer: the one key whose address is the session's data, an
//!   EIP-191 personal-sign of the userOpHash (`v` 27/28);
//! - an OwnableValidator (Rhinestone's at module-sdk's address, or Mandate's): `threshold` of
//!   the owners, each an EIP-191 personal-sign with `v + 4` ([`mandate_abi::ownable`]). The
//!   signer needs `threshold` keys among the owners; it signs with the first `threshold` of
//!   them in the order given.
//!
//! ```
//! use mandate_abi::{
//!     Deployments, Session, SessionValidatorKind, alloy_primitives::B256, ownable::OwnableData,
//! };
//! use mandate_client::{SessionKey, SessionSigner};
//!
//! let validators = Deployments::MODULE_SDK_0_4.session_validators;
//! let (a, b) = (SessionKey::random(), SessionKey::random());
//! let owners = OwnableData::new(2, vec![a.address(), b.address(), SessionKey::random().address()])?;
//! let session = Session {
//!     sessionValidator: validators.ownable.expect("the preset has one"),
//!     sessionValidatorInitData: owners.encode(),
//!     ..Session::default()
//! };
//!
//! let signer = SessionSigner::new(vec![a, b])?;
//! let scheme = signer.scheme(&session, &validators)?;
//! assert_eq!(scheme.kind(), SessionValidatorKind::Ownable { threshold: 2 });
//! assert_eq!(scheme.sign(B256::repeat_byte(7))?.len(), 2 * 65);
//!
//! // One key of the three is not enough.
//! let one = SessionSigner::from(SessionKey::random());
//! assert!(one.scheme(&session, &validators).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloy_primitives::{Address, B256, Bytes};
use mandate_abi::{
    Session, SessionValidatorKind, SessionValidators,
    ownable::{OwnableData, OwnableDataError, encode_personal_signatures},
};

use crate::SessionKey;

/// The keys a backend holds for a session. Its `Debug` shows their addresses, never a secret.
#[derive(Clone)]
pub struct SessionSigner {
    keys: Vec<SessionKey>,
}

/// Why a [`SessionSigner`] cannot sign for a session. Names addresses, never a key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    /// A signer with no key.
    #[error("a session signer needs at least one key")]
    NoKeys,
    /// The same key given twice.
    #[error("key {0} is given twice")]
    DuplicateKey(Address),
    /// The session's validator is neither of the deployment's session validators.
    #[error(
        "session validator {0} is neither the deployment's ECDSA session signer nor its \
         OwnableValidator: no signature scheme for it"
    )]
    UnknownSessionValidator(Address),
    /// An ECDSA session whose key is none of the signer's.
    #[error("the session's ECDSA key is {expected}; the signer holds {held:?}")]
    NotTheKey {
        /// What the session's data names (empty if it is not 20 bytes).
        expected: Bytes,
        /// The signer's keys.
        held: Vec<Address>,
    },
    /// An OwnableValidator session whose data is not a configuration it can satisfy.
    #[error("the session's OwnableValidator data: {0}")]
    OwnableData(#[source] OwnableDataError),
    /// An OwnableValidator session needing more of its owners than the signer holds.
    #[error(
        "the session needs {threshold} of its owners' signatures; the signer holds {held} of them"
    )]
    TooFewOwners {
        /// The session's threshold.
        threshold: usize,
        /// How many of the signer's keys are owners.
        held: usize,
    },
    /// A key failed to sign.
    #[error("signing: {0}")]
    Sign(#[from] alloy_signer::Error),
}

impl SessionSigner {
    /// The signer of `keys` (several for an OwnableValidator threshold above one).
    pub fn new(keys: Vec<SessionKey>) -> Result<Self, SignerError> {
        if keys.is_empty() {
            return Err(SignerError::NoKeys);
        }
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].iter().any(|k| k.address() == key.address()) {
                return Err(SignerError::DuplicateKey(key.address()));
            }
        }
        Ok(Self { keys })
    }

    /// The keys, in the order given.
    pub fn keys(&self) -> &[SessionKey] {
        &self.keys
    }

    /// The first key: the one a session record names.
    pub fn primary(&self) -> &SessionKey {
        &self.keys[0]
    }

    fn addresses(&self) -> Vec<Address> {
        self.keys.iter().map(SessionKey::address).collect()
    }

    /// How these keys sign for `session`, given the deployment's session validators; an error
    /// if they cannot satisfy it.
    pub fn scheme(
        &self,
        session: &Session,
        validators: &SessionValidators,
    ) -> Result<SignScheme<'_>, SignerError> {
        let validator = session.sessionValidator;
        let data = &session.sessionValidatorInitData;
        if validators.ecdsa == Some(validator) {
            return self
                .keys
                .iter()
                .find(|key| data.as_ref() == key.address().as_slice())
                .map(SignScheme::Ecdsa)
                .ok_or_else(|| SignerError::NotTheKey {
                    expected: if data.len() == 20 { data.clone() } else { Bytes::new() },
                    held: self.addresses(),
                });
        }
        if validators.ownable == Some(validator) {
            let config = OwnableData::decode(data).map_err(SignerError::OwnableData)?;
            let owners: Vec<&SessionKey> =
                self.keys.iter().filter(|key| config.is_owner(key.address())).collect();
            let threshold = config.threshold();
            if owners.len() < threshold {
                return Err(SignerError::TooFewOwners { threshold, held: owners.len() });
            }
            return Ok(SignScheme::Ownable { threshold, keys: owners[..threshold].to_vec() });
        }
        Err(SignerError::UnknownSessionValidator(validator))
    }
}

/// How a [`SessionSigner`] signs for one session (from [`SessionSigner::scheme`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum SignScheme<'a> {
    /// Mandate's ECDSA session signer, with this key.
    Ecdsa(&'a SessionKey),
    /// An OwnableValidator: these `threshold` owners' keys.
    Ownable {
        /// How many owners sign.
        threshold: usize,
        /// The keys that sign, `threshold` of them.
        keys: Vec<&'a SessionKey>,
    },
}

impl SignScheme<'_> {
    /// The session validator's kind: the shape of the signature (and of its estimation stub).
    pub const fn kind(&self) -> SessionValidatorKind {
        match self {
            Self::Ecdsa(_) => SessionValidatorKind::Ecdsa,
            Self::Ownable { threshold, .. } => {
                SessionValidatorKind::Ownable { threshold: *threshold }
            }
        }
    }

    /// The session signature over `hash` (the userOpHash).
    pub fn sign(&self, hash: B256) -> Result<Bytes, SignerError> {
        Ok(match self {
            Self::Ecdsa(key) => key.sign_hash_personal(hash)?.as_bytes().to_vec().into(),
            Self::Ownable { keys, .. } => {
                let signatures = keys
                    .iter()
                    .map(|key| key.sign_hash_personal(hash))
                    .collect::<Result<Vec<_>, _>>()?;
                encode_personal_signatures(&signatures)
            }
        })
    }
}

impl From<SessionKey> for SessionSigner {
    fn from(key: SessionKey) -> Self {
        Self { keys: vec![key] }
    }
}

impl From<&SessionKey> for SessionSigner {
    fn from(key: &SessionKey) -> Self {
        Self { keys: vec![key.clone()] }
    }
}

impl From<&Self> for SessionSigner {
    fn from(signer: &Self) -> Self {
        signer.clone()
    }
}

impl std::fmt::Debug for SessionSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SessionSigner").field(&self.addresses()).finish()
    }
}

#[cfg(test)]
mod tests {
    use mandate_abi::Deployments;

    use super::*;

    fn validators() -> SessionValidators {
        SessionValidators {
            ecdsa: Some(Address::repeat_byte(0xec)),
            ..Deployments::MODULE_SDK_0_4.session_validators
        }
    }

    fn ecdsa_session(key: &SessionKey) -> Session {
        Session {
            sessionValidator: Address::repeat_byte(0xec),
            sessionValidatorInitData: key.address().to_vec().into(),
            ..Session::default()
        }
    }

    #[test]
    fn refuses_what_cannot_sign() {
        let key = SessionKey::random();
        assert!(matches!(SessionSigner::new(vec![]), Err(SignerError::NoKeys)));
        assert!(matches!(
            SessionSigner::new(vec![key.clone(), key.clone()]),
            Err(SignerError::DuplicateKey(_))
        ));
        let other = SessionSigner::from(SessionKey::random());
        let err = other.scheme(&ecdsa_session(&key), &validators()).unwrap_err();
        assert!(matches!(err, SignerError::NotTheKey { .. }), "{err}");
        let unknown = Session { sessionValidator: Address::repeat_byte(1), ..ecdsa_session(&key) };
        let err = other.scheme(&unknown, &validators()).unwrap_err();
        assert!(matches!(err, SignerError::UnknownSessionValidator(_)), "{err}");
        let bad = Session {
            sessionValidator: validators().ownable.unwrap(),
            sessionValidatorInitData: Bytes::from_static(&[1, 2]),
            ..Session::default()
        };
        let err = other.scheme(&bad, &validators()).unwrap_err();
        assert!(matches!(err, SignerError::OwnableData(_)), "{err}");
    }

    #[test]
    fn picks_the_matching_keys() {
        let (a, b, c) = (SessionKey::random(), SessionKey::random(), SessionKey::random());
        let signer = SessionSigner::new(vec![c, a.clone(), b.clone()]).unwrap();
        let SignScheme::Ecdsa(chosen) = signer.scheme(&ecdsa_session(&b), &validators()).unwrap()
        else {
            panic!("an ECDSA session");
        };
        assert_eq!(chosen.address(), b.address());
        let owners = OwnableData::new(2, vec![a.address(), b.address()]).unwrap();
        let session = Session {
            sessionValidator: validators().ownable.unwrap(),
            sessionValidatorInitData: owners.encode(),
            ..Session::default()
        };
        let scheme = signer.scheme(&session, &validators()).unwrap();
        let SignScheme::Ownable { keys, .. } = &scheme else { panic!("an ownable session") };
        assert_eq!(
            keys.iter().map(|k| k.address()).collect::<Vec<_>>(),
            [a.address(), b.address()]
        );
        let sig = scheme.sign(B256::repeat_byte(3)).unwrap();
        assert_eq!((sig.len(), sig[64] >= 31, sig[129] >= 31), (130, true, true));
        let err = SessionSigner::from(&a).scheme(&session, &validators()).unwrap_err();
        assert!(matches!(err, SignerError::TooFewOwners { threshold: 2, held: 1 }), "{err}");
    }

    #[test]
    fn debug_shows_addresses_only() {
        let key = SessionKey::random();
        let secret = alloy_primitives::hex::encode(key.signer().to_bytes());
        let text = format!("{:?}", SessionSigner::from(&key));
        assert!(
            text.contains(&format!("{:?}", key.address())) && !text.contains(&secret),
            "{text}"
        );
    }
}
