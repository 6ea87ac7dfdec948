//! Where session keys live between uses: a [`SessionStore`] keeps a session's key together
//! with its [`SessionRecord`], filed under the record's [`SessionRef`].
//!
//! - [`MemoryStore`]: in process, for tests and short-lived agents;
//! - [`SqlStore`]: a SQL database (PostgreSQL for several machines, SQLite for one), the key a
//!   keystore as the file store's, with nonce lanes ([`SqlLanes`]) in the same database;
//! - [`FileStore`]: a directory; the key as a Web3 Secret Storage keystore (scrypt, AES-128-CTR)
//!   encrypted with the store's [`Password`], the details as JSON; every write atomic, so a
//!   process killed mid-write leaves the old session or the new one, never a torn one, and
//!   several processes may use one directory at once (an inter-process lock file).
//!
//! A store of your own (a database, a KMS, a vault) is one `impl SessionStore`: five
//! synchronous methods (`save` comes with `save_all`), object-safe, so `Box<dyn SessionStore>` and `Arc<dyn SessionStore>`
//! work wherever a store is taken.
//!
//! Keys never appear in `Debug`, `Display`, logs or errors: [`SessionKey`] and
//! [`StoredSession`] format as the key's address, [`Password`] as `<redacted>`, and a
//! [`StoreError`] names a session or a path, never a secret.
//!
//! ```
//! use mandate_client::store::{FileStore, SessionStore};
//! use mandate_client::{SessionKey, SessionRecord};
//! # use alloy_primitives::Address;
//! # use mandate_abi::Session;
//! # let dir = tempfile::tempdir()?;
//! # let (account, smart_session) = (Address::repeat_byte(0xaa), Address::repeat_byte(0x55));
//! # let session = Session::default();
//!
//! let store = FileStore::open(dir.path(), "correct horse battery staple")?;
//!
//! // A fresh key, and what was granted to it.
//! let key = SessionKey::random();
//! let record = SessionRecord {
//!     label: Some("mint NFTs".into()),
//!     ..SessionRecord::new(1, account, key.address(), session, smart_session)
//! };
//! store.save(&key, &record)?;
//!
//! // Later, maybe in another process: the same key and details.
//! let stored = store.load(&record.reference())?.expect("saved above");
//! assert_eq!(stored.key.address(), key.address());
//! assert_eq!(stored.record, record);
//! assert_eq!(store.list()?, vec![record]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod file;
mod keystore;
mod memory;
mod sql;

use std::path::PathBuf;
use std::sync::Arc;

use alloy_primitives::Address;

pub use file::{FileStore, Password};
pub use keystore::{KeystoreError, ScryptCost};
pub use memory::MemoryStore;
pub use sql::{SqlLanes, SqlPending, SqlStore};

use crate::{SessionKey, SessionRecord, SessionRef};

/// A session's key with its details, as loaded from a store. Its `Debug` shows the key's
/// address, never the secret.
#[derive(Clone, Debug)]
pub struct StoredSession {
    /// The session key.
    pub key: SessionKey,
    /// What the session allows and where it lives.
    pub record: SessionRecord,
}

/// Keeps session keys with their details, filed under [`SessionRecord::reference`].
///
/// Every method is all-or-nothing: when it returns an error (or the process dies in it) the
/// store holds what it held before or what was being written, never a mix. Implementations
/// must keep keys out of their errors and logs.
pub trait SessionStore: Send + Sync {
    /// Stores `key` with `record`, replacing any session filed under the same reference:
    /// [`save_all`](Self::save_all) of one session.
    fn save(&self, key: &SessionKey, record: &SessionRecord) -> Result<(), StoreError> {
        self.save_all(&[(key, record)])
    }

    /// Stores every key with its record, replacing sessions filed under the same
    /// references — all of them or, when it fails (or the process dies in it), none: the
    /// store then holds what it held before.
    ///
    /// Fails with [`StoreError::KeyMismatch`] if a record's `session_key` is not its key's
    /// address, and with [`StoreError::DuplicateInBatch`] if two records share a reference;
    /// nothing is written then.
    fn save_all(&self, sessions: &[(&SessionKey, &SessionRecord)]) -> Result<(), StoreError>;

    /// Replaces the details of a stored session, keeping its key (e.g. to drop
    /// [`SessionRecord::enable`] once the session is enabled on chain).
    ///
    /// Fails with [`StoreError::NotFound`] if nothing is filed under `record.reference()`,
    /// and with [`StoreError::KeyMismatch`] if `record.session_key` is not the stored key's
    /// address.
    fn update(&self, record: &SessionRecord) -> Result<(), StoreError>;

    /// The session filed under `reference`, key included; `None` if there is none.
    fn load(&self, reference: &SessionRef) -> Result<Option<StoredSession>, StoreError>;

    /// The details of every stored session, ordered by reference. No key is decrypted.
    fn list(&self) -> Result<Vec<SessionRecord>, StoreError>;

    /// Deletes the session filed under `reference`, key included; whether there was one.
    fn remove(&self, reference: &SessionRef) -> Result<bool, StoreError>;
}

macro_rules! forward_store {
    ($($ty:ty),*) => {$(
        impl<S: SessionStore + ?Sized> SessionStore for $ty {
            fn save_all(
                &self,
                sessions: &[(&SessionKey, &SessionRecord)],
            ) -> Result<(), StoreError> {
                (**self).save_all(sessions)
            }
            fn update(&self, record: &SessionRecord) -> Result<(), StoreError> {
                (**self).update(record)
            }
            fn load(&self, reference: &SessionRef) -> Result<Option<StoredSession>, StoreError> {
                (**self).load(reference)
            }
            fn list(&self) -> Result<Vec<SessionRecord>, StoreError> {
                (**self).list()
            }
            fn remove(&self, reference: &SessionRef) -> Result<bool, StoreError> {
                (**self).remove(reference)
            }
        }
    )*};
}

forward_store!(&S, Box<S>, Arc<S>);

/// Why a store could not do what was asked. Names sessions and paths, never a key or a
/// password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading or writing a file or directory failed.
    #[error("session store: {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A session's details are not valid JSON of a [`SessionRecord`] (or could not be
    /// written as JSON).
    #[error("session store: {} is not a session record: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        source: serde_json::Error,
    },
    /// A keystore could not be written, or is not a valid Web3 Secret Storage keystore (a
    /// parameter out of bounds, named by [`KeystoreError::Invalid`]'s field, is checked
    /// before anything is decrypted).
    #[error("session store: keystore {}: {source}", path.display())]
    Keystore {
        /// The keystore file.
        path: PathBuf,
        /// What is wrong.
        source: KeystoreError,
    },
    /// The store's password does not decrypt this session's key (or the keystore's
    /// ciphertext or MAC was altered: the two cannot be told apart).
    #[error("session store: wrong password for the key of {0} (or its keystore was altered)")]
    WrongPassword(SessionRef),
    /// A file store's password is empty.
    #[error("session store: the password is empty")]
    EmptyPassword,
    /// A stored file does not agree with where it is filed or with its key.
    #[error("session store: {}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What disagrees.
        reason: String,
    },
    /// The database failed or refused (its own message; never its URL).
    #[error("session store: database ({operation}): {source}")]
    Database {
        /// What the store was doing: `connect`, `migrate`, `save`, `load`, …
        operation: &'static str,
        /// What the database (or its driver) said.
        source: sqlx::Error,
    },
    /// A database URL of a kind the store does not serve (only `postgres://` and `sqlite:`).
    #[error("session store: the database URL is neither postgres:// nor sqlite:")]
    UnsupportedDatabase,
    /// A chain id too large for the database's BIGINT.
    #[error("session store: chain id {0} does not fit a database BIGINT")]
    ChainIdTooLarge(u64),
    /// A database row does not agree with where it is filed or with its key.
    #[error("session store: row {row}: {reason}")]
    CorruptRow {
        /// Where it is filed.
        row: String,
        /// What disagrees.
        reason: String,
    },
    /// A database row's record is not JSON of a [`SessionRecord`] (or could not be written).
    #[error("session store: the record of {reference}: {source}")]
    RowJson {
        /// The session.
        reference: SessionRef,
        /// What the parser said.
        source: serde_json::Error,
    },
    /// A database row's keystore could not be written or is not a valid keystore.
    #[error("session store: the keystore of {reference}: {source}")]
    RowKeystore {
        /// The session.
        reference: SessionRef,
        /// What is wrong.
        source: KeystoreError,
    },
    /// Nothing is stored under this reference.
    #[error("session store: no {0}")]
    NotFound(SessionRef),
    /// A [`SessionStore::save_all`] batch holds two records filed under this reference.
    #[error("session store: {0} appears twice in one batch")]
    DuplicateInBatch(SessionRef),
    /// A record's `sessionKey` is not the address of the key it is stored (or to be stored)
    /// with.
    #[error("session store: {reference}: the key is {key}, the record names {record}")]
    KeyMismatch {
        /// The session.
        reference: SessionRef,
        /// The key's address.
        key: Address,
        /// The record's `sessionKey`.
        record: Address,
    },
}

/// [`StoreError::KeyMismatch`] or [`StoreError::DuplicateInBatch`] for the first session
/// of a batch that cannot be stored.
fn check_batch(sessions: &[(&SessionKey, &SessionRecord)]) -> Result<(), StoreError> {
    let mut seen = std::collections::BTreeSet::new();
    for (key, record) in sessions {
        check_key(key.address(), record)?;
        if !seen.insert(record.reference()) {
            return Err(StoreError::DuplicateInBatch(record.reference()));
        }
    }
    Ok(())
}

/// [`StoreError::KeyMismatch`] unless `record.session_key` is `key`.
fn check_key(key: Address, record: &SessionRecord) -> Result<(), StoreError> {
    if key == record.session_key {
        Ok(())
    } else {
        Err(StoreError::KeyMismatch {
            reference: record.reference(),
            key,
            record: record.session_key,
        })
    }
}
