//! The file store: keystores and JSON in a directory, every write atomic.

use std::collections::{BTreeMap, btree_map};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use alloy_primitives::{Address, hex};
use fs4::FileExt;
use secrecy::{ExposeSecret, SecretString, zeroize::Zeroizing};

use super::keystore::{self, KeystoreError, ScryptCost};
use super::{SessionStore, StoreError, StoredSession, check_batch, check_key};
use crate::{SessionKey, SessionRecord, SessionRef};

const KEY_FILE: &str = "key.json";
const RECORD_FILE: &str = "session.json";
const RECORD_TMP_PREFIX: &str = "session.json.tmp-";
const TMP_PREFIX: &str = ".tmp-";
const LOCK_FILE: &str = ".lock";
/// A batch's marker: `.batch-<pid>-<random>`, one `<session directory>/<generation>` a line.
const BATCH_PREFIX: &str = ".batch-";

/// `.tmp-<pid>-` (or `session.json.tmp-<pid>-`): whose write a leftover was, for a human
/// looking at the directory. Cleanup does not trust it (pids are reused): the lock decides.
fn tmp_prefix(prefix: &str) -> String {
    format!("{prefix}{}-", std::process::id())
}

/// The password a [`FileStore`] encrypts keys with. Wiped from memory when dropped; its
/// `Debug` shows `Password(<redacted>)`.
pub struct Password(SecretString);

impl Password {
    /// Wraps a password. [`FileStore::open`] refuses an empty one.
    pub fn new(password: impl Into<String>) -> Self {
        Self(SecretString::from(password.into()))
    }

    pub(super) fn expose(&self) -> &[u8] {
        self.0.expose_secret().as_bytes()
    }
}

impl From<String> for Password {
    fn from(password: String) -> Self {
        Self::new(password)
    }
}

impl From<&str> for Password {
    fn from(password: &str) -> Self {
        Self::new(password)
    }
}

impl From<SecretString> for Password {
    fn from(password: SecretString) -> Self {
        Self(password)
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Sessions in a directory: keys as Web3 Secret Storage keystores under one password,
/// details as JSON, every write atomic.
///
/// # Layout
///
/// ```text
/// <dir>/                                        0700
///   <chainId>-<account>-<permissionId>/         0700  one per session, e.g. 1-0xaa…aa-0x12…ef
///     <generation>/                             0700  1, 2, …: the highest is the session
///       key.json                                0600  Web3 Secret Storage keystore (v3, scrypt)
///       session.json                            0600  the SessionRecord, pretty JSON
///   .tmp-*                                            leftovers of interrupted writes, ignored
/// ```
///
/// # Why a killed writer loses nothing
///
/// - **save** encrypts the key (scrypt, the slow part) in memory, then writes a whole new
///   generation into a `.tmp-<pid>-*` directory beside the others (`key.json` and
///   `session.json`, each fsynced, then the directory fsynced), renames it to the next
///   generation number and fsyncs the session's directory. Readers only see generations, and
///   only the highest: before the rename they see the old session, after it the new one.
///   Older generations are deleted afterwards; a half-deleted one is never the highest.
/// - **save_all** stages every session's new generation the same way, then, for more than
///   one, writes a marker `.batch-<pid>-*` naming them (under a `.tmp-*` name, renamed: it is
///   whole or absent) before the renames, and deletes it after the last: the batch is in
///   place when its marker is gone. Readers and writers hold the lock, so a marker they see
///   is a dead writer's, and the generations it names are not there for them; the next
///   writer (or [`FileStore::open`]) deletes those generations, then the marker. A rename
///   that fails takes back the ones before it.
/// - **update** writes `session.json.tmp-<pid>-*` in the current generation, fsyncs it,
///   renames it over `session.json` and fsyncs the directory.
/// - **remove** renames the session's directory to a `.tmp-<pid>-*` name in `<dir>`, fsyncs
///   `<dir>` and then deletes it.
///
/// # Several processes, one directory
///
/// Every CLI command is a process of its own, so the store takes an inter-process lock on
/// `<dir>/.lock` (`flock(2)`, `LockFileEx` on Windows): writes hold it exclusively, from the
/// first `.tmp-*` they create to the last file they delete; reads (the record and the
/// keystore's bytes, not their decryption) hold it shared. A `.tmp-*` entry seen while
/// holding the lock exclusively therefore belongs to no live writer: its writer died. Only
/// then is it deleted — [`FileStore::open`] does so when the lock is free, and leaves
/// leftovers for a later open when it is not. The lock also serialises threads of one
/// process: each operation opens the lock file anew.
///
/// # Keystores
///
/// Written at the store's [`ScryptCost`] (n = 2^16 by default); read at whatever cost they
/// were written with (the former 2^13 included, up to 256 MiB of scrypt memory), every
/// parameter checked before anything is decrypted.
pub struct FileStore {
    dir: PathBuf,
    password: Password,
    cost: ScryptCost,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("dir", &self.dir)
            .field("password", &self.password)
            .field("cost", &self.cost)
            .finish()
    }
}

/// A held lock on the store's lock file; dropping it (closing the file) releases it.
struct Lock {
    _file: File,
}

impl FileStore {
    /// Opens the store in `dir`, creating the directory (0700) if it is missing, and deletes
    /// what writers that died left behind (if no other process is writing meanwhile). The
    /// password is checked when a key is loaded.
    ///
    /// Fails with [`StoreError::EmptyPassword`] for an empty password. On Unix, an existing
    /// `dir` that others may enter, read or write (0755, 0777, …) is made private (0700)
    /// first, with a warning: its files are 0600 and its keys encrypted, but the names of
    /// its sessions (accounts, permission ids) are nobody else's business.
    pub fn open(dir: impl AsRef<Path>, password: impl Into<Password>) -> Result<Self, StoreError> {
        let password = password.into();
        if password.expose().is_empty() {
            return Err(StoreError::EmptyPassword);
        }
        let dir = dir.as_ref().to_path_buf();
        private_dir_builder(true).create(&dir).map_err(io_error(&dir))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&dir).map_err(io_error(&dir))?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    dir = %dir.display(),
                    mode = format_args!("{mode:o}"),
                    "session store: the directory was open to other users; made it 0700"
                );
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
                    .map_err(io_error(&dir))?;
            }
        }
        let store = Self { dir, password, cost: ScryptCost::DEFAULT };
        if let Some(_lock) = store.try_lock_exclusive()? {
            store.clean_up()?;
        }
        Ok(store)
    }

    /// The store, writing keys at `cost` from now on (keys already written keep theirs).
    #[must_use]
    pub const fn with_scrypt_cost(mut self, cost: ScryptCost) -> Self {
        self.cost = cost;
        self
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory a session is filed in (it may not exist).
    pub fn session_dir(&self, reference: &SessionRef) -> PathBuf {
        self.dir.join(dir_name(reference))
    }

    fn lock_file(&self) -> Result<(File, PathBuf), StoreError> {
        let path = self.dir.join(LOCK_FILE);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&path).map_err(io_error(&path))?;
        Ok((file, path))
    }

    /// Shared: no writer (of any process) runs until it is dropped.
    fn read(&self) -> Result<Lock, StoreError> {
        let (file, path) = self.lock_file()?;
        FileExt::lock_shared(&file).map_err(io_error(&path))?;
        Ok(Lock { _file: file })
    }

    /// Exclusive: no reader or writer (of any process) runs until it is dropped. Batches
    /// whose writers died are rolled back first, so that no marker they left outlives them.
    fn write(&self) -> Result<Lock, StoreError> {
        let (file, path) = self.lock_file()?;
        FileExt::lock(&file).map_err(io_error(&path))?;
        let lock = Lock { _file: file };
        self.roll_back_batches()?;
        Ok(lock)
    }

    /// Exclusive, or `None` if another reader or writer holds the lock now.
    fn try_lock_exclusive(&self) -> Result<Option<Lock>, StoreError> {
        let (file, path) = self.lock_file()?;
        match FileExt::try_lock(&file) {
            Ok(()) => Ok(Some(Lock { _file: file })),
            Err(fs4::TryLockError::WouldBlock) => Ok(None),
            Err(fs4::TryLockError::Error(e)) => Err(io_error(&path)(e)),
        }
    }

    /// Deletes `.tmp-*` entries, older generations and sessions left without one: with the
    /// lock held exclusively (by the caller), every one of them was left by a writer that
    /// died. Best effort: what cannot be deleted is logged and stays, ignored by readers.
    fn clean_up(&self) -> Result<(), StoreError> {
        self.roll_back_batches()?;
        for entry in entries(&self.dir)? {
            let path = self.dir.join(&entry);
            if entry.starts_with(TMP_PREFIX) {
                discard(&path);
            } else if !entry.starts_with('.') && path.is_dir() {
                let generations = generations(&path)?;
                for name in entries(&path)? {
                    if name.starts_with(TMP_PREFIX) {
                        discard(&path.join(name));
                    }
                }
                if let Some((&latest, older)) = generations.split_last() {
                    for generation in older {
                        discard(&path.join(generation.to_string()));
                    }
                    let latest = path.join(latest.to_string());
                    for name in entries(&latest)? {
                        if name.starts_with(RECORD_TMP_PREFIX) {
                            discard(&latest.join(name));
                        }
                    }
                } else if entries(&path)?.is_empty() {
                    discard(&path);
                }
            }
        }
        Ok(())
    }

    /// The session's current generation directory, if it has one: the highest not named in
    /// `unplaced` (see [`Self::unplaced`]).
    fn current(
        &self,
        name: &str,
        unplaced: &[(String, u64)],
    ) -> Result<Option<PathBuf>, StoreError> {
        let session_dir = self.dir.join(name);
        if !session_dir.is_dir() {
            return Ok(None);
        }
        Ok(generations(&session_dir)?
            .into_iter()
            .rev()
            .find(|g| !unplaced.iter().any(|(s, u)| s == name && u == g))
            .map(|g| session_dir.join(g.to_string())))
    }

    /// Writes `record`'s next generation (with `keystore`) into a `.tmp-*` directory of its
    /// session's directory, every file and the directory fsynced. Holds the lock (the caller).
    fn stage(&self, keystore: &[u8], record: &SessionRecord) -> Result<Staged, StoreError> {
        let name = dir_name(&record.reference());
        let session_dir = self.dir.join(&name);
        match private_dir_builder(false).create(&session_dir) {
            Ok(()) => sync_dir(&self.dir)?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error(&session_dir)(e)),
        }
        let older = generations(&session_dir)?;
        let generation = match older.last() {
            None => 1,
            Some(latest) => latest.checked_add(1).ok_or_else(|| StoreError::Corrupt {
                path: session_dir.join(latest.to_string()),
                reason: "generation number overflows".into(),
            })?,
        };
        let mut builder = tempfile::Builder::new();
        let prefix = tmp_prefix(TMP_PREFIX);
        builder.prefix(&prefix);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(fs::Permissions::from_mode(0o700));
        }
        let tmp = builder.tempdir_in(&session_dir).map_err(io_error(&session_dir))?;
        write_new_file(&tmp.path().join(KEY_FILE), keystore)?;
        let record_path = tmp.path().join(RECORD_FILE);
        write_new_file(&record_path, &record_json(record, &record_path)?)?;
        sync_dir(tmp.path())?;
        Ok(Staged { tmp, name, session_dir, generation, older })
    }

    /// Writes a batch marker naming the staged generations (whole, or not at all: written
    /// under a `.tmp-*` name and renamed), and fsyncs the store's directory.
    fn write_marker(&self, staged: &[Staged]) -> Result<PathBuf, StoreError> {
        let mut names = String::new();
        for stage in staged {
            names.push_str(&format!("{}/{}\n", stage.name, stage.generation));
        }
        let name = format!("{}{:016x}", tmp_prefix(BATCH_PREFIX), rand::random::<u64>());
        let marker = self.dir.join(&name);
        let tmp = self.dir.join(format!("{}{name}", tmp_prefix(TMP_PREFIX)));
        write_new_file(&tmp, names.as_bytes())?;
        fs::rename(&tmp, &marker).map_err(io_error(&marker))?;
        sync_dir(&self.dir)?;
        Ok(marker)
    }

    /// The generations named by batch markers, which (the lock held, by the caller) belong to
    /// writers that died before their batch was in place: as `(session directory, generation)`.
    fn unplaced(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let mut unplaced = Vec::new();
        for marker in self.markers()? {
            unplaced.extend(read_marker(&marker)?);
        }
        Ok(unplaced)
    }

    fn markers(&self) -> Result<Vec<PathBuf>, StoreError> {
        Ok(entries(&self.dir)?
            .into_iter()
            .filter(|name| name.starts_with(BATCH_PREFIX))
            .map(|name| self.dir.join(name))
            .collect())
    }

    /// Deletes the generations of batches whose writers died, then their markers (a marker
    /// stays while a generation it names could not be deleted). Holds the lock exclusively
    /// (the caller).
    fn roll_back_batches(&self) -> Result<(), StoreError> {
        for marker in self.markers()? {
            let mut gone = true;
            for (session, generation) in read_marker(&marker)? {
                let path = self.dir.join(session).join(generation.to_string());
                if path.exists() {
                    discard(&path);
                    gone &= !path.exists();
                }
            }
            if gone {
                discard(&marker);
            }
        }
        Ok(())
    }

    fn decrypt(
        &self,
        json: &[u8],
        path: &Path,
        reference: &SessionRef,
    ) -> Result<SessionKey, StoreError> {
        match keystore::decrypt_key(json, self.password.expose()) {
            Err(KeystoreError::MacMismatch) => Err(StoreError::WrongPassword(*reference)),
            result => {
                result.map_err(|source| StoreError::Keystore { path: path.to_path_buf(), source })
            }
        }
    }
}

impl SessionStore for FileStore {
    fn save_all(&self, sessions: &[(&SessionKey, &SessionRecord)]) -> Result<(), StoreError> {
        check_batch(sessions)?;
        // The slow part, before taking the lock: one keystore per distinct key (an import
        // stores one key under several permissions).
        let mut keystores: BTreeMap<Address, Vec<u8>> = BTreeMap::new();
        for (key, record) in sessions {
            if let btree_map::Entry::Vacant(entry) = keystores.entry(key.address()) {
                let path = self.session_dir(&record.reference()).join(KEY_FILE);
                let keystore = keystore::encrypt_key(key, self.password.expose(), self.cost)
                    .map_err(|source| StoreError::Keystore { path, source })?;
                entry.insert(keystore);
            }
        }

        let _lock = self.write()?;
        // Every new generation, complete and durable, under a name readers ignore; one that
        // fails drops (deletes) those staged before it.
        let mut staged = Vec::with_capacity(sessions.len());
        for (key, record) in sessions {
            staged.push(self.stage(&keystores[&key.address()], record)?);
        }
        // More than one rename is not one step: a marker names the generations until the
        // last is in place, and what a marker names is not there for readers (its writer
        // died, as only a writer holding the lock sees its own marker).
        let marker = match staged.as_slice() {
            [_, _, ..] => Some(self.write_marker(&staged)?),
            _ => None,
        };
        let mut placed: Vec<PathBuf> = Vec::with_capacity(staged.len());
        let mut olders = Vec::with_capacity(staged.len());
        for stage in staged {
            let generation = stage.session_dir.join(stage.generation.to_string());
            let result = fs::rename(stage.tmp.path(), &generation)
                .map_err(io_error(&generation))
                .map(|()| {
                    let _ = stage.tmp.keep();
                    placed.push(generation);
                })
                .and_then(|()| sync_dir(&stage.session_dir));
            if let Err(error) = result {
                // Take back what is in place; a generation that cannot be deleted stays
                // named by the marker, hence unseen, until a later writer deletes it.
                for generation in &placed {
                    discard(generation);
                }
                if let Some(marker) = &marker
                    && placed.iter().all(|g| !g.exists())
                {
                    discard(marker);
                }
                return Err(error);
            }
            olders.push((stage.session_dir, stage.older));
        }
        // The batch is in place once its marker is gone.
        if let Some(marker) = &marker {
            fs::remove_file(marker).map_err(io_error(marker))?;
            sync_dir(&self.dir)?;
        }
        for (session_dir, older) in olders {
            for old in older {
                discard(&session_dir.join(old.to_string()));
            }
        }
        Ok(())
    }

    fn update(&self, record: &SessionRecord) -> Result<(), StoreError> {
        let reference = record.reference();
        let _lock = self.write()?;
        let current =
            self.current(&dir_name(&reference), &[])?.ok_or(StoreError::NotFound(reference))?;
        let path = current.join(RECORD_FILE);
        let stored = read_record(&path)?;
        check_key(stored.session_key, record)?;

        let json = record_json(record, &path)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(&tmp_prefix(RECORD_TMP_PREFIX))
            .tempfile_in(&current)
            .map_err(io_error(&current))?;
        tmp.write_all(&json)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(io_error(tmp.path()))?;
        tmp.persist(&path).map_err(|e| io_error(&path)(e.error))?;
        sync_dir(&current)
    }

    fn load(&self, reference: &SessionRef) -> Result<Option<StoredSession>, StoreError> {
        let lock = self.read()?;
        let unplaced = self.unplaced()?;
        let Some(current) = self.current(&dir_name(reference), &unplaced)? else {
            return Ok(None);
        };
        let record_path = current.join(RECORD_FILE);
        let record = read_record(&record_path)?;
        let key_path = current.join(KEY_FILE);
        let keystore = Zeroizing::new(fs::read(&key_path).map_err(io_error(&key_path))?);
        // The bytes are read: decrypting (the slow part) needs no lock.
        drop(lock);
        if record.reference() != *reference {
            return Err(StoreError::Corrupt {
                path: record_path,
                reason: format!("it holds {}, filed as {reference}", record.reference()),
            });
        }
        let key = self.decrypt(&keystore, &key_path, reference)?;
        if key.address() != record.session_key {
            return Err(StoreError::Corrupt {
                path: key_path,
                reason: format!(
                    "the key is {}, the session's record names {}",
                    key.address(),
                    record.session_key
                ),
            });
        }
        Ok(Some(StoredSession { key, record }))
    }

    fn list(&self) -> Result<Vec<SessionRecord>, StoreError> {
        let _lock = self.read()?;
        let unplaced = self.unplaced()?;
        let mut records = Vec::new();
        for entry in entries(&self.dir)? {
            if entry.starts_with('.') {
                continue;
            }
            let Some(current) = self.current(&entry, &unplaced)? else { continue };
            let path = current.join(RECORD_FILE);
            let record = read_record(&path)?;
            if dir_name(&record.reference()) != entry {
                return Err(StoreError::Corrupt {
                    path,
                    reason: format!("it holds {}, filed as {entry}", record.reference()),
                });
            }
            records.push(record);
        }
        records.sort_by_key(SessionRecord::reference);
        Ok(records)
    }

    fn remove(&self, reference: &SessionRef) -> Result<bool, StoreError> {
        let _lock = self.write()?;
        let session_dir = self.session_dir(reference);
        if !session_dir.is_dir() {
            return Ok(false);
        }
        let existed = self.current(&dir_name(reference), &[])?.is_some();
        // Out of sight in one step, then deleted at leisure.
        let trash = self.dir.join(format!(
            "{}removed-{:016x}",
            tmp_prefix(TMP_PREFIX),
            rand::random::<u64>()
        ));
        fs::rename(&session_dir, &trash).map_err(io_error(&session_dir))?;
        sync_dir(&self.dir)?;
        discard(&trash);
        Ok(existed)
    }
}

/// A session's next generation, written under a `.tmp-*` name (deleted when dropped).
struct Staged {
    tmp: tempfile::TempDir,
    /// The session's directory name, [`dir_name`].
    name: String,
    session_dir: PathBuf,
    generation: u64,
    /// The generations it replaces, deleted once it is in place.
    older: Vec<u64>,
}

/// A batch marker's `(session directory, generation)` lines.
fn read_marker(path: &Path) -> Result<Vec<(String, u64)>, StoreError> {
    let text = fs::read_to_string(path).map_err(io_error(path))?;
    text.lines()
        .map(|line| {
            line.split_once('/')
                .and_then(|(session, generation)| {
                    Some((session.to_owned(), generation.parse().ok()?))
                })
                .filter(|(session, _)| !session.is_empty() && !session.starts_with('.'))
                .ok_or_else(|| StoreError::Corrupt {
                    path: path.to_path_buf(),
                    reason: format!(
                        "a batch marker's line is not <session>/<generation>: {line:?}"
                    ),
                })
        })
        .collect()
}

/// `<chainId>-<account>-<permissionId>`, lowercase hex.
fn dir_name(reference: &SessionRef) -> String {
    format!(
        "{}-{}-{}",
        reference.chain_id,
        hex::encode_prefixed(reference.account),
        hex::encode_prefixed(reference.permission_id.0)
    )
}

fn record_json(record: &SessionRecord, path: &Path) -> Result<Vec<u8>, StoreError> {
    let mut json = serde_json::to_vec_pretty(record)
        .map_err(|source| StoreError::Json { path: path.to_path_buf(), source })?;
    json.push(b'\n');
    Ok(json)
}

fn read_record(path: &Path) -> Result<SessionRecord, StoreError> {
    let bytes = fs::read(path).map_err(io_error(path))?;
    serde_json::from_slice(&bytes)
        .map_err(|source| StoreError::Json { path: path.to_path_buf(), source })
}

/// Creates `path` (0600), writes `bytes` and fsyncs it.
fn write_new_file(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io_error(path))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(io_error(path))
}

fn private_dir_builder(recursive: bool) -> fs::DirBuilder {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(recursive);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
}

/// Makes a directory's entries (creations, renames) durable.
fn sync_dir(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    File::open(path).and_then(|dir| dir.sync_all()).map_err(io_error(path))?;
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The names in a directory.
fn entries(dir: &Path) -> Result<Vec<String>, StoreError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        // Names the store does not write are not UTF-8-checked; they are not ours.
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    Ok(names)
}

/// A session directory's generations, ascending.
fn generations(session_dir: &Path) -> Result<Vec<u64>, StoreError> {
    let mut generations: Vec<u64> = entries(session_dir)?
        .iter()
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|name| name.parse().ok())
        .collect();
    generations.sort_unstable();
    Ok(generations)
}

/// Deletes a leftover file or directory, logging (not failing) if it cannot.
fn discard(path: &Path) {
    let result = if path.is_dir() { fs::remove_dir_all(path) } else { fs::remove_file(path) };
    if let Err(error) = result {
        tracing::warn!(path = %path.display(), %error, "session store: could not delete a leftover");
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use alloy_primitives::B256;
    use mandate_abi::Session;

    use super::*;

    fn record(salt: u8, key: &SessionKey, label: &str) -> SessionRecord {
        let session = Session { salt: B256::with_last_byte(salt), ..Session::default() };
        SessionRecord {
            label: Some(label.into()),
            ..SessionRecord::new(
                1,
                Address::repeat_byte(0xaa),
                key.address(),
                session,
                Address::ZERO,
            )
        }
    }

    /// A writer that dies between a batch's renames (its first session in place, its marker
    /// on disk): readers see every session as before the batch, and the next writer deletes
    /// what the batch put in place, then its marker.
    #[test]
    fn a_batch_cut_between_its_renames_is_not_there() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path(), "pw").unwrap().with_scrypt_cost(ScryptCost::MIN);
        let old_key = SessionKey::random();
        let mut before = [record(1, &old_key, "before"), record(2, &old_key, "before")];
        before.sort_by_key(SessionRecord::reference);
        store.save_all(&before.each_ref().map(|r| (&old_key, r))).unwrap();

        // The batch as save_all runs it, up to a death after the first rename.
        let key = SessionKey::random();
        let batch = [record(1, &key, "cut"), record(2, &key, "cut")];
        let keystore = keystore::encrypt(&[7; 32], b"pw", ScryptCost::MIN).unwrap();
        {
            let _lock = store.write().unwrap();
            let staged: Vec<Staged> =
                batch.iter().map(|r| store.stage(&keystore, r).unwrap()).collect();
            let marker = store.write_marker(&staged).unwrap();
            assert!(marker.file_name().unwrap().to_str().unwrap().starts_with(BATCH_PREFIX));
            let first = &staged[0];
            let placed = first.session_dir.join(first.generation.to_string());
            fs::rename(first.tmp.path(), &placed).unwrap();
            std::mem::forget(staged); // died: nothing is dropped or deleted
        }
        assert_eq!(store.markers().unwrap().len(), 1);
        assert_eq!(generations(&store.session_dir(&batch[0].reference())).unwrap(), [1, 2]);

        // Readers: the sessions as they were.
        assert_eq!(store.list().unwrap(), before);
        for r in &before {
            let loaded = store.load(&r.reference()).unwrap().unwrap();
            assert_eq!((loaded.key.address(), &loaded.record), (old_key.address(), r));
        }

        // The next writer rolls the batch back first.
        let other = record(3, &key, "later");
        store.save(&key, &other).unwrap();
        assert!(store.markers().unwrap().is_empty());
        assert_eq!(generations(&store.session_dir(&batch[0].reference())).unwrap(), [1]);
        let mut all = before.to_vec();
        all.push(other);
        all.sort_by_key(SessionRecord::reference);
        assert_eq!(store.list().unwrap(), all);
    }

    /// A marker that is not `<session>/<generation>` lines is a typed error naming it.
    #[test]
    fn a_garbled_marker_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path(), "pw").unwrap();
        let marker = dir.path().join(format!("{BATCH_PREFIX}1-0"));
        fs::write(&marker, "1-0xaa-0xbb/one\n").unwrap();
        let err = store.list().unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt { path, reason } if *path == marker && reason.contains("\"1-0xaa-0xbb/one\"")),
            "{err:?}"
        );
    }
}
