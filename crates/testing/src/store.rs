//! Sessions to store, shared by the store tests.

use alloy_primitives::{Address, B256, Bytes, keccak256};
use mandate_abi::{EnableSession, PermissionId, Session};
use mandate_client::store::{FileStore, ScryptCost, StoreError};
use mandate_client::{SessionKey, SessionRecord, SessionRef};
use std::path::Path;

/// The password the tests' file stores use.
pub const PASSWORD: &str = "hunter2 but longer";

/// Session number `n`: its validator init data and salt, hence its permission id, depend on
/// `n` only, so every version of it is filed under the same reference.
pub fn session(n: u8) -> Session {
    Session {
        sessionValidator: Address::repeat_byte(0x11),
        sessionValidatorInitData: Bytes::from(vec![n; 20]),
        salt: B256::with_last_byte(n),
        permitERC4337Paymaster: n.is_multiple_of(2),
        ..Session::default()
    }
}

/// The reference of session number `n`.
pub fn reference(n: u8) -> SessionRef {
    SessionRef {
        chain_id: 1 + u64::from(n % 2) * 8452,
        account: Address::repeat_byte(0xa0 + n),
        permission_id: PermissionId::of(&session(n)),
    }
}

/// A version of session number `n`, held by `key`, told apart by `label`.
pub fn record(n: u8, key: Address, label: &str) -> SessionRecord {
    let r = reference(n);
    SessionRecord {
        enable: (!n.is_multiple_of(2)).then(|| EnableSession {
            chainDigestIndex: 0,
            sessionToEnable: session(n),
            permissionEnableSig: Bytes::from(vec![0x42; 65]),
            ..EnableSession::default()
        }),
        label: Some(label.to_owned()),
        granted_by: Some(keccak256(label)),
        ..SessionRecord::new(r.chain_id, r.account, key, session(n), Address::repeat_byte(0x55))
    }
}

/// A fresh key and a record of session `n` for it.
pub fn fresh(n: u8, label: &str) -> (SessionKey, SessionRecord) {
    let key = SessionKey::random();
    let record = record(n, key.address(), label);
    (key, record)
}

/// A file store in `dir` under [`PASSWORD`], writing keys at the cheapest scrypt cost (tests
/// write many).
pub fn open(dir: &Path) -> Result<FileStore, StoreError> {
    Ok(FileStore::open(dir, PASSWORD)?.with_scrypt_cost(ScryptCost::MIN))
}
