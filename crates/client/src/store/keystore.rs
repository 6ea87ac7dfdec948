//! Web3 Secret Storage keystores (version 3: scrypt, AES-128-CTR, Keccak-256 MAC), written at
//! a chosen scrypt cost and read only after every parameter was checked, so a tampered file
//! is a typed error (naming the field) rather than a panic or an allocation abort.

use alloy_primitives::{Keccak256, hex};
use secrecy::zeroize::Zeroizing;
use serde::{Deserialize, Serialize};

/// The cipher every keystore uses.
const CIPHER: &str = "aes-128-ctr";
/// The key derivation function the store reads and writes.
const KDF: &str = "scrypt";
const IV_LEN: usize = 16;
const MAC_LEN: usize = 32;
/// A secp256k1 secret key.
const SECRET_LEN: usize = 32;
const SALT_LEN: usize = 32;
/// The shortest and longest salts read.
const SALT_RANGE: std::ops::RangeInclusive<usize> = 16..=64;
/// The derived key: 16 bytes of AES key, 16 of MAC key. Longer is allowed (and ignored).
const DKLEN_RANGE: std::ops::RangeInclusive<u64> = 32..=64;
const R: u32 = 8;
const P: u32 = 1;
/// The most memory scrypt may take to read a keystore (128·r·n bytes): 256 MiB, geth's
/// standard cost (n = 2^18, r = 8).
const MAX_SCRYPT_MEMORY: u64 = 256 << 20;
const MAX_R: u64 = 32;
const MAX_P: u64 = 16;

/// How costly a keystore's scrypt is to brute-force (and to open): n = 2^`log_n`, r = 8,
/// p = 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScryptCost {
    log_n: u8,
}

impl ScryptCost {
    /// What a [`FileStore`](super::FileStore) writes unless told otherwise: n = 2^16, 8×
    /// the former 2^13. Measured (release, r = 8, p = 1, median of 5) on the 2-core machine
    /// the project is built on, idle / shared with three other builds: 2^13 19 / 40 ms,
    /// 2^14 32 / 70 ms, 2^15 82 / 169 ms, 2^16 171 / 354 ms, 2^17 286 / 762 ms, 2^18 606 /
    /// 1633 ms. 2^16 keeps a CLI command (one key opened, plus the node and bundler
    /// round-trips) under a second even on a loaded machine; 2^17 would not.
    pub const DEFAULT: Self = Self { log_n: 16 };
    /// The cheapest cost accepted for writing: n = 2^13, eth-keystore's (and this store's
    /// former) cost. For tests that write many keys.
    pub const MIN: Self = Self { log_n: 13 };

    /// n = 2^`log_n`; `None` below [`Self::MIN`] or above 2^18 (geth's standard cost).
    pub const fn new(log_n: u8) -> Option<Self> {
        if log_n >= Self::MIN.log_n && log_n <= 18 { Some(Self { log_n }) } else { None }
    }

    /// log2 of n.
    pub const fn log_n(self) -> u8 {
        self.log_n
    }
}

impl Default for ScryptCost {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why a keystore could not be read or written. Never holds a key or a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeystoreError {
    /// The file is not keystore JSON (or a field has the wrong JSON type).
    #[error("not keystore JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// A parameter is outside what a valid keystore holds.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field, as a JSON path (`crypto.kdfparams.n`).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The password does not decrypt it (or its ciphertext or MAC was altered).
    #[error("the MAC does not match: wrong password, or altered ciphertext")]
    MacMismatch,
    /// The decrypted secret is not a secp256k1 key.
    #[error("the decrypted secret is not a secp256k1 key")]
    NotAKey,
}

#[derive(Serialize, Deserialize)]
struct Keystore {
    crypto: Crypto,
    id: String,
    version: u64,
}

#[derive(Serialize, Deserialize)]
struct Crypto {
    cipher: String,
    cipherparams: CipherParams,
    ciphertext: String,
    kdf: String,
    kdfparams: KdfParams,
    mac: String,
}

#[derive(Serialize, Deserialize)]
struct CipherParams {
    iv: String,
}

#[derive(Serialize, Deserialize)]
struct KdfParams {
    dklen: u64,
    n: u64,
    p: u64,
    r: u64,
    salt: String,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> KeystoreError {
    KeystoreError::Invalid { field, reason: reason.into() }
}

/// `text` as hex of a length in `lengths`.
fn bytes(
    field: &'static str,
    text: &str,
    lengths: std::ops::RangeInclusive<usize>,
) -> Result<Vec<u8>, KeystoreError> {
    let bytes = hex::decode(text).map_err(|e| invalid(field, format!("not hex: {e}")))?;
    if !lengths.contains(&bytes.len()) {
        let want = if lengths.start() == lengths.end() {
            format!("{}", lengths.start())
        } else {
            format!("{} to {}", lengths.start(), lengths.end())
        };
        return Err(invalid(field, format!("{} bytes, want {want}", bytes.len())));
    }
    Ok(bytes)
}

/// A keystore's scrypt parameters, checked: n a power of two, and the memory it takes
/// bounded.
fn scrypt_params(kdf: &KdfParams) -> Result<scrypt::Params, KeystoreError> {
    if !kdf.n.is_power_of_two() || kdf.n < 2 {
        return Err(invalid("crypto.kdfparams.n", format!("{} is not a power of two ≥ 2", kdf.n)));
    }
    if !(1..=MAX_R).contains(&kdf.r) {
        return Err(invalid("crypto.kdfparams.r", format!("{} is not in 1..={MAX_R}", kdf.r)));
    }
    if !(1..=MAX_P).contains(&kdf.p) {
        return Err(invalid("crypto.kdfparams.p", format!("{} is not in 1..={MAX_P}", kdf.p)));
    }
    let memory = 128u64.saturating_mul(kdf.r).saturating_mul(kdf.n);
    if memory > MAX_SCRYPT_MEMORY {
        return Err(invalid(
            "crypto.kdfparams.n",
            format!(
                "n = {} with r = {} takes {} MiB, more than the {} MiB allowed",
                kdf.n,
                kdf.r,
                memory >> 20,
                MAX_SCRYPT_MEMORY >> 20
            ),
        ));
    }
    let log_n = u8::try_from(kdf.n.trailing_zeros()).unwrap_or(u8::MAX);
    // r and p are bounded above, so these conversions hold.
    let (r, p) = (u32::try_from(kdf.r).unwrap_or(u32::MAX), u32::try_from(kdf.p).unwrap_or(1));
    scrypt::Params::new(log_n, r, p)
        .map_err(|e| invalid("crypto.kdfparams", format!("scrypt refuses them: {e}")))
}

/// The derived key for `password` (zeroized when dropped).
fn derive(
    password: &[u8],
    salt: &[u8],
    params: &scrypt::Params,
    dklen: usize,
) -> Result<Zeroizing<Vec<u8>>, KeystoreError> {
    let mut key = Zeroizing::new(vec![0u8; dklen]);
    scrypt::scrypt(password, salt, params, &mut key)
        .map_err(|e| invalid("crypto.kdfparams.dklen", format!("scrypt refuses it: {e}")))?;
    Ok(key)
}

fn mac(derived: &[u8], ciphertext: &[u8]) -> [u8; MAC_LEN] {
    let mut hasher = Keccak256::new();
    hasher.update(&derived[16..32]);
    hasher.update(ciphertext);
    hasher.finalize().0
}

fn apply_aes_128_ctr(derived: &[u8], iv: &[u8], data: &mut [u8]) {
    use aes::cipher::{KeyIvInit, StreamCipher};
    // Both lengths were checked: 16-byte key (half of a ≥ 32-byte derived key), 16-byte iv.
    let mut cipher = ctr::Ctr128BE::<aes::Aes128>::new(derived[..16].into(), iv.into());
    cipher.apply_keystream(data);
}

/// Decrypts the secp256k1 secret in keystore JSON `json` with `password`, every parameter
/// checked first.
pub(super) fn decrypt(
    json: &[u8],
    password: &[u8],
) -> Result<Zeroizing<[u8; SECRET_LEN]>, KeystoreError> {
    let keystore: Keystore = serde_json::from_slice(json).map_err(KeystoreError::Json)?;
    if keystore.version != 3 {
        return Err(invalid("version", format!("{}, want 3", keystore.version)));
    }
    let crypto = &keystore.crypto;
    if crypto.cipher != CIPHER {
        return Err(invalid("crypto.cipher", format!("{:?}, want {CIPHER:?}", crypto.cipher)));
    }
    let iv = bytes("crypto.cipherparams.iv", &crypto.cipherparams.iv, IV_LEN..=IV_LEN)?;
    let ciphertext = bytes("crypto.ciphertext", &crypto.ciphertext, SECRET_LEN..=SECRET_LEN)?;
    let mac_stored = bytes("crypto.mac", &crypto.mac, MAC_LEN..=MAC_LEN)?;
    if crypto.kdf != KDF {
        return Err(invalid("crypto.kdf", format!("{:?}, want {KDF:?}", crypto.kdf)));
    }
    let kdf = &crypto.kdfparams;
    if !DKLEN_RANGE.contains(&kdf.dklen) {
        return Err(invalid(
            "crypto.kdfparams.dklen",
            format!("{}, want {} to {}", kdf.dklen, DKLEN_RANGE.start(), DKLEN_RANGE.end()),
        ));
    }
    let salt = bytes("crypto.kdfparams.salt", &kdf.salt, SALT_RANGE)?;
    let params = scrypt_params(kdf)?;

    // dklen is at most 64.
    let derived = derive(password, &salt, &params, usize::try_from(kdf.dklen).unwrap_or(64))?;
    if mac(&derived, &ciphertext) != mac_stored.as_slice() {
        return Err(KeystoreError::MacMismatch);
    }
    let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
    secret.copy_from_slice(&ciphertext);
    apply_aes_128_ctr(&derived, &iv, secret.as_mut_slice());
    Ok(secret)
}

/// Encrypts `secret` with `password` at `cost` into keystore JSON.
pub(super) fn encrypt(
    secret: &[u8; SECRET_LEN],
    password: &[u8],
    cost: ScryptCost,
) -> Result<Vec<u8>, KeystoreError> {
    use rand::RngCore;
    let mut rng = rand::thread_rng();
    let mut salt = [0u8; SALT_LEN];
    let mut iv = [0u8; IV_LEN];
    let mut id = [0u8; 16];
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut iv);
    rng.fill_bytes(&mut id);
    // A version 4 (random) UUID.
    id[6] = (id[6] & 0x0f) | 0x40;
    id[8] = (id[8] & 0x3f) | 0x80;

    let params = scrypt::Params::new(cost.log_n, R, P)
        .map_err(|e| invalid("crypto.kdfparams", format!("scrypt refuses them: {e}")))?;
    let derived = derive(password, &salt, &params, 32)?;
    let mut ciphertext = *secret;
    apply_aes_128_ctr(&derived, &iv, &mut ciphertext);
    let mac = mac(&derived, &ciphertext);

    let id = hex::encode(id);
    let keystore = Keystore {
        crypto: Crypto {
            cipher: CIPHER.into(),
            cipherparams: CipherParams { iv: hex::encode(iv) },
            ciphertext: hex::encode(ciphertext),
            kdf: KDF.into(),
            kdfparams: KdfParams {
                dklen: 32,
                n: 1 << cost.log_n,
                p: P.into(),
                r: R.into(),
                salt: hex::encode(salt),
            },
            mac: hex::encode(mac),
        },
        id: format!("{}-{}-{}-{}-{}", &id[..8], &id[8..12], &id[12..16], &id[16..20], &id[20..]),
        version: 3,
    };
    serde_json::to_vec(&keystore).map_err(KeystoreError::Json)
}

/// `key` as a keystore under `password` at `cost`: what both stores write.
pub(super) fn encrypt_key(
    key: &crate::SessionKey,
    password: &[u8],
    cost: ScryptCost,
) -> Result<Vec<u8>, KeystoreError> {
    let secret = Zeroizing::new(key.signer().to_bytes().0);
    encrypt(&secret, password, cost)
}

/// The session key in keystore `json` under `password` ([`KeystoreError::MacMismatch`] for a
/// wrong password): what both stores read.
pub(super) fn decrypt_key(
    json: &[u8],
    password: &[u8],
) -> Result<crate::SessionKey, KeystoreError> {
    let secret = decrypt(json, password)?;
    let signer = alloy_signer_local::PrivateKeySigner::from_slice(secret.as_slice())
        .map_err(|_| KeystoreError::NotAKey)?;
    Ok(crate::SessionKey::from_signer(signer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_a_wrong_password() {
        let secret = [0x42; 32];
        let json = encrypt(&secret, b"pw", ScryptCost::MIN).unwrap();
        assert_eq!(*decrypt(&json, b"pw").unwrap(), secret);
        assert!(matches!(decrypt(&json, b"other"), Err(KeystoreError::MacMismatch)));
    }

    #[test]
    fn costs_are_bounded() {
        assert_eq!(ScryptCost::new(12), None);
        assert_eq!(ScryptCost::new(19), None);
        assert_eq!(ScryptCost::new(16), Some(ScryptCost::DEFAULT));
    }
}
