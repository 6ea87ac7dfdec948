//! The session stores: the same behaviour from the memory store and the file store, and the
//! file store's files, errors and secrecy.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use alloy_primitives::hex;
use alloy_signer_local::PrivateKeySigner;
use mandate_client::store::{FileStore, MemoryStore, Password, SessionStore, StoreError};
use mandate_client::{SessionKey, SessionRecord};
use mandate_testing::store::{PASSWORD, fresh, open, record, reference};

/// What every store does, whatever keeps it.
fn behaves_as_a_store(store: &dyn SessionStore) {
    assert!(store.list().unwrap().is_empty());
    assert!(store.load(&reference(0)).unwrap().is_none());

    // Save and load, two sessions.
    let (key0, record0) = fresh(0, "first");
    let (key1, record1) = fresh(1, "second");
    store.save(&key1, &record1).unwrap();
    store.save(&key0, &record0).unwrap();
    let loaded = store.load(&reference(0)).unwrap().unwrap();
    assert_eq!(loaded.key.address(), key0.address());
    assert_eq!(loaded.key.signer().to_bytes(), key0.signer().to_bytes());
    assert_eq!(loaded.record, record0);
    assert_eq!(store.load(&reference(1)).unwrap().unwrap().record, record1);
    assert_eq!(store.list().unwrap(), sorted(vec![record0, record1.clone()]));

    // Replace: a new key and new details under the same reference.
    let (key0b, record0b) = fresh(0, "first, re-granted");
    store.save(&key0b, &record0b).unwrap();
    let loaded = store.load(&reference(0)).unwrap().unwrap();
    assert_eq!(loaded.key.address(), key0b.address());
    assert_eq!(loaded.record, record0b);
    assert_eq!(store.list().unwrap().len(), 2);

    // Update: new details, same key.
    let mut enabled = record1.clone();
    enabled.enable = None;
    enabled.label = Some("enabled on chain".into());
    store.update(&enabled).unwrap();
    let loaded = store.load(&reference(1)).unwrap().unwrap();
    assert_eq!(loaded.key.address(), key1.address());
    assert_eq!(loaded.record, enabled);

    // Refusals leave the store as it was.
    let stranger = SessionKey::random();
    let err = store.save(&stranger, &record1).unwrap_err();
    assert!(
        matches!(err, StoreError::KeyMismatch { key, record, .. } if key == stranger.address() && record == key1.address()),
        "{err:?}"
    );
    let err = store.update(&record(1, stranger.address(), "hijack")).unwrap_err();
    assert!(matches!(err, StoreError::KeyMismatch { .. }), "{err:?}");
    let err = store.update(&record(2, key1.address(), "nowhere")).unwrap_err();
    assert!(matches!(err, StoreError::NotFound(r) if r == reference(2)), "{err:?}");
    assert_eq!(store.load(&reference(1)).unwrap().unwrap().record, enabled);
    assert_eq!(store.list().unwrap(), sorted(vec![record0b, enabled.clone()]));

    // A batch: one key under two new sessions and a replaced one, all stored together.
    let shared = SessionKey::random();
    let batch: Vec<SessionRecord> = [2, 3, 0].map(|n| record(n, shared.address(), "batch")).into();
    let pairs: Vec<_> = batch.iter().map(|r| (&shared, r)).collect();
    store.save_all(&pairs).unwrap();
    for r in &batch {
        let loaded = store.load(&r.reference()).unwrap().unwrap();
        assert_eq!(loaded.key.address(), shared.address());
        assert_eq!(&loaded.record, r);
    }
    let after_batch =
        sorted(vec![batch[2].clone(), enabled.clone(), batch[0].clone(), batch[1].clone()]);
    assert_eq!(store.list().unwrap(), after_batch);

    // A batch with one bad session stores none of it: a key that is not the record's, or
    // one reference twice.
    let (key4, record4) = fresh(4, "never stored");
    let replaced = record(0, key4.address(), "never stored either");
    let err = store.save_all(&[(&key4, &record4), (&key4, &replaced), (&stranger, &record1)]);
    assert!(
        matches!(err, Err(StoreError::KeyMismatch { key, .. }) if key == stranger.address()),
        "{err:?}"
    );
    let err = store.save_all(&[(&key4, &record4), (&key4, &record4)]).unwrap_err();
    assert!(matches!(err, StoreError::DuplicateInBatch(r) if r == reference(4)), "{err:?}");
    assert!(store.load(&reference(4)).unwrap().is_none());
    assert_eq!(store.list().unwrap(), after_batch);
    store.save_all(&[]).unwrap();
    assert_eq!(store.list().unwrap(), after_batch);
    for n in [2, 3] {
        assert!(store.remove(&reference(n)).unwrap());
    }

    // Remove.
    assert!(store.remove(&reference(0)).unwrap());
    assert!(!store.remove(&reference(0)).unwrap());
    assert!(store.load(&reference(0)).unwrap().is_none());
    assert_eq!(store.list().unwrap(), vec![enabled]);
    assert!(store.remove(&reference(1)).unwrap());
    assert!(store.list().unwrap().is_empty());
}

fn sorted(mut records: Vec<SessionRecord>) -> Vec<SessionRecord> {
    records.sort_by_key(SessionRecord::reference);
    records
}

#[test]
fn memory_store_behaves_as_a_store() {
    behaves_as_a_store(&MemoryStore::new());
}

#[test]
fn file_store_behaves_as_a_store() {
    let dir = tempfile::tempdir().unwrap();
    behaves_as_a_store(&open(dir.path()).unwrap());
    // Nothing left behind but the lock file: removed sessions and old generations are gone.
    let left: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, [".lock"]);
}

#[test]
fn stores_work_behind_box_and_arc() {
    let dir = tempfile::tempdir().unwrap();
    let boxed: Vec<Box<dyn SessionStore>> = vec![
        Box::new(MemoryStore::new()),
        Box::new(FileStore::open(dir.path(), PASSWORD).unwrap()),
    ];
    for store in boxed {
        let (key, record) = fresh(3, "boxed");
        store.save(&key, &record).unwrap();
        let shared: Arc<dyn SessionStore> = Arc::from(store);
        let other = Arc::clone(&shared);
        let loaded =
            std::thread::spawn(move || other.load(&reference(3)).unwrap()).join().unwrap().unwrap();
        assert_eq!(loaded.record, record);
        assert!(shared.remove(&reference(3)).unwrap());
    }
}

#[test]
fn a_file_store_reopens_with_its_sessions_and_standard_keystores() {
    let dir = tempfile::tempdir().unwrap();
    let (key, record) = fresh(0, "kept");
    FileStore::open(dir.path(), PASSWORD).unwrap().save(&key, &record).unwrap();

    let store = FileStore::open(dir.path(), Password::new(PASSWORD)).unwrap();
    assert_eq!(store.list().unwrap(), vec![record.clone()]);
    let loaded = store.load(&reference(0)).unwrap().unwrap();
    assert_eq!(loaded.key.address(), key.address());

    // The layout is as documented, and key.json is a Web3 Secret Storage keystore that any
    // wallet reads; session.json is the record as JSON.
    let session_dir = store.session_dir(&reference(0));
    assert_eq!(
        session_dir.file_name().unwrap().to_str().unwrap(),
        format!(
            "{}-{}-{}",
            record.chain_id,
            hex::encode_prefixed(record.account),
            record.permission_id
        )
    );
    let keystore: serde_json::Value =
        serde_json::from_slice(&std::fs::read(session_dir.join("1/key.json")).unwrap()).unwrap();
    assert_eq!(keystore["version"], 3);
    assert_eq!(keystore["crypto"]["kdf"], "scrypt");
    let signer =
        PrivateKeySigner::decrypt_keystore(session_dir.join("1/key.json"), PASSWORD).unwrap();
    assert_eq!(signer.address(), key.address());
    let on_disk: SessionRecord =
        serde_json::from_slice(&std::fs::read(session_dir.join("1/session.json")).unwrap())
            .unwrap();
    assert_eq!(on_disk, record);

    // A replacement is the next generation; the old one is gone.
    let (key2, record2) = fresh(0, "replaced");
    store.save(&key2, &record2).unwrap();
    assert!(!session_dir.join("1").exists());
    assert!(session_dir.join("2/key.json").is_file());
}

#[test]
fn a_wrong_password_is_named_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let (key, record) = fresh(1, "locked");
    FileStore::open(dir.path(), PASSWORD).unwrap().save(&key, &record).unwrap();

    let store = FileStore::open(dir.path(), "not the password").unwrap();
    // Details are not encrypted: listing needs no password.
    assert_eq!(store.list().unwrap(), vec![record]);
    let err = store.load(&reference(1)).unwrap_err();
    assert!(matches!(err, StoreError::WrongPassword(r) if r == reference(1)), "{err:?}");
    let secret = hex::encode(key.signer().to_bytes());
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("not the password") && !text.contains(&secret), "{text}");
        assert!(text.contains(&reference(1).permission_id.to_string()), "{text}");
    }
}

/// The one file named `name` in the store (leftovers and the lock file aside).
fn stored_file(dir: &Path, name: &str) -> PathBuf {
    let mut found = Vec::new();
    for session in std::fs::read_dir(dir).unwrap() {
        let session = session.unwrap().path();
        if !session.is_dir() {
            continue;
        }
        for generation in std::fs::read_dir(session).unwrap() {
            let path = generation.unwrap().path().join(name);
            if path.is_file() {
                found.push(path);
            }
        }
    }
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

#[test]
fn corrupt_files_are_typed_errors_with_their_path() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path(), PASSWORD).unwrap();
    let (key, saved) = fresh(0, "to be damaged");
    store.save(&key, &saved).unwrap();

    let session = stored_file(dir.path(), "session.json");
    let intact = std::fs::read(&session).unwrap();
    std::fs::write(&session, &intact[..intact.len() / 2]).unwrap();
    for err in [store.load(&reference(0)).unwrap_err(), store.list().unwrap_err()] {
        assert!(matches!(&err, StoreError::Json { path, .. } if *path == session), "{err:?}");
        assert!(err.to_string().contains(&session.display().to_string()), "{err}");
    }
    // Details filed under another session's name are refused, not returned.
    let elsewhere = record(1, key.address(), "misfiled");
    std::fs::write(&session, serde_json::to_vec(&elsewhere).unwrap()).unwrap();
    let err = store.load(&reference(0)).unwrap_err();
    assert!(matches!(&err, StoreError::Corrupt { path, .. } if *path == session), "{err:?}");
    assert!(matches!(store.list().unwrap_err(), StoreError::Corrupt { .. }));
    std::fs::write(&session, &intact).unwrap();

    let keystore = stored_file(dir.path(), "key.json");
    std::fs::write(&keystore, b"{\"version\": 3, \"crypto\": ").unwrap();
    let err = store.load(&reference(0)).unwrap_err();
    assert!(matches!(&err, StoreError::Keystore { path, .. } if *path == keystore), "{err:?}");
    // Listing reads no keystore.
    assert_eq!(store.list().unwrap(), vec![saved]);

    // A valid keystore of another key: the record and the key disagree.
    let other = SessionKey::random();
    let scratch = tempfile::tempdir().unwrap();
    PrivateKeySigner::encrypt_keystore(
        scratch.path(),
        &mut rand::thread_rng(),
        other.signer().to_bytes(),
        PASSWORD,
        Some("k"),
    )
    .unwrap();
    std::fs::copy(scratch.path().join("k"), &keystore).unwrap();
    let err = store.load(&reference(0)).unwrap_err();
    assert!(matches!(&err, StoreError::Corrupt { path, .. } if *path == keystore), "{err:?}");
    let secret = hex::encode(other.signer().to_bytes());
    assert!(!format!("{err} {err:?}").contains(&secret));
}

#[cfg(unix)]
#[test]
fn files_are_0600_and_directories_0700() {
    use std::os::unix::fs::PermissionsExt;

    fn walk(path: &Path, seen: &mut Vec<(PathBuf, u32)>) {
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        seen.push((path.to_path_buf(), mode));
        if path.is_dir() {
            for entry in std::fs::read_dir(path).unwrap() {
                walk(&entry.unwrap().path(), seen);
            }
        }
    }

    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("sessions");
    let store = FileStore::open(&dir, PASSWORD).unwrap();
    for n in 0..2 {
        let (key, record) = fresh(n, "private");
        store.save(&key, &record).unwrap();
        let mut updated = record.clone();
        updated.label = None;
        store.update(&updated).unwrap();
    }
    let mut seen = Vec::new();
    walk(&dir, &mut seen);
    // The directory, its lock file, and per session a directory, a generation, two files.
    assert_eq!(seen.len(), 2 + 2 * (1 + 1 + 2), "{seen:?}");
    for (path, mode) in seen {
        let want = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode, want, "{} is {mode:o}", path.display());
    }
}

#[test]
fn leftovers_of_interrupted_writes_are_ignored_and_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path(), PASSWORD).unwrap();
    let (key, record) = fresh(0, "whole");
    store.save(&key, &record).unwrap();
    let session_dir = store.session_dir(&reference(0));

    // What writers killed at various points leave: a generation being written, a record
    // being replaced, a session being removed, a session whose first save never finished.
    std::fs::create_dir(session_dir.join(".tmp-half")).unwrap();
    std::fs::write(session_dir.join(".tmp-half/key.json"), b"{\"version\":").unwrap();
    std::fs::write(session_dir.join("1/session.json.tmp-abc"), b"{").unwrap();
    std::fs::create_dir(dir.path().join(".tmp-removed-0")).unwrap();
    let (_, unfinished) = fresh(1, "never finished");
    let unfinished_dir = store.session_dir(&unfinished.reference());
    std::fs::create_dir_all(unfinished_dir.join(".tmp-x")).unwrap();

    assert_eq!(store.list().unwrap(), vec![record.clone()]);
    assert!(store.load(&unfinished.reference()).unwrap().is_none());
    assert_eq!(store.load(&reference(0)).unwrap().unwrap().record, record);

    let store = FileStore::open(dir.path(), PASSWORD).unwrap();
    assert!(!session_dir.join(".tmp-half").exists());
    assert!(!session_dir.join("1/session.json.tmp-abc").exists());
    assert!(!dir.path().join(".tmp-removed-0").exists());
    assert!(!unfinished_dir.exists());
    assert_eq!(store.load(&reference(0)).unwrap().unwrap().record, record);
}

#[test]
fn secrets_stay_out_of_debug_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path(), PASSWORD).unwrap();
    let (key, record) = fresh(0, "secret");
    store.save(&key, &record).unwrap();
    let stored = store.load(&reference(0)).unwrap().unwrap();
    let secret = hex::encode(key.signer().to_bytes());

    let memory = MemoryStore::new();
    memory.save(&key, &record).unwrap();
    for text in [
        format!("{stored:?}"),
        format!("{stored:#?}"),
        format!("{store:?}"),
        format!("{memory:?}"),
        format!("{:?}", Password::new(PASSWORD)),
    ] {
        assert!(!text.contains(&secret), "{text}");
        assert!(!text.contains(PASSWORD), "{text}");
    }
    assert!(format!("{stored:?}").contains(&key.address().to_string()));
    assert_eq!(format!("{:?}", Password::new(PASSWORD)), "Password(<redacted>)");

    // On disk: the key only encrypted.
    for name in ["key.json", "session.json"] {
        let text = std::fs::read_to_string(stored_file(dir.path(), name)).unwrap();
        assert!(!text.contains(&secret) && !text.contains(PASSWORD), "{name}");
    }
}

#[test]
fn tampered_keystores_are_typed_errors_naming_the_field() {
    use mandate_client::store::KeystoreError;
    use serde_json::{Value, json};

    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let (key, record) = fresh(0, "tampered");
    store.save(&key, &record).unwrap();
    let path = stored_file(dir.path(), "key.json");
    let intact: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();

    // (what is changed, its new value, the field the error must name)
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/version", json!(4), "version"),
        ("/crypto/cipher", json!("aes-256-ctr"), "crypto.cipher"),
        ("/crypto/cipherparams/iv", json!("00ff"), "crypto.cipherparams.iv"),
        ("/crypto/cipherparams/iv", json!("not hex at all, no"), "crypto.cipherparams.iv"),
        ("/crypto/ciphertext", json!("00"), "crypto.ciphertext"),
        ("/crypto/kdf", json!("pbkdf2"), "crypto.kdf"),
        ("/crypto/kdfparams/dklen", json!(16), "crypto.kdfparams.dklen"),
        ("/crypto/kdfparams/dklen", json!(0), "crypto.kdfparams.dklen"),
        ("/crypto/kdfparams/dklen", json!(4096), "crypto.kdfparams.dklen"),
        ("/crypto/kdfparams/n", json!(1000), "crypto.kdfparams.n"),
        ("/crypto/kdfparams/n", json!(0), "crypto.kdfparams.n"),
        ("/crypto/kdfparams/n", json!(1u64 << 40), "crypto.kdfparams.n"),
        ("/crypto/kdfparams/n", json!(1u64 << 63), "crypto.kdfparams.n"),
        ("/crypto/kdfparams/r", json!(0), "crypto.kdfparams.r"),
        ("/crypto/kdfparams/r", json!(1_000_000), "crypto.kdfparams.r"),
        ("/crypto/kdfparams/p", json!(0), "crypto.kdfparams.p"),
        ("/crypto/kdfparams/p", json!(u32::MAX), "crypto.kdfparams.p"),
        ("/crypto/kdfparams/salt", json!(""), "crypto.kdfparams.salt"),
        ("/crypto/mac", json!("abcd"), "crypto.mac"),
    ];
    for (pointer, value, field) in cases {
        let mut tampered = intact.clone();
        *tampered.pointer_mut(pointer).unwrap() = value.clone();
        std::fs::write(&path, serde_json::to_vec(&tampered).unwrap()).unwrap();
        let err = store.load(&reference(0)).unwrap_err();
        assert!(
            matches!(
                &err,
                StoreError::Keystore { path: p, source: KeystoreError::Invalid { field: f, .. } }
                    if *p == path && *f == field
            ),
            "{pointer} = {value}: {err:?}"
        );
        let text = err.to_string();
        assert!(text.contains(field) && text.contains(&path.display().to_string()), "{text}");
    }

    // Wrong JSON types and missing fields: not keystore JSON.
    for (pointer, value) in [("/crypto/kdfparams/n", json!("8192")), ("/crypto", json!(null))] {
        let mut tampered = intact.clone();
        *tampered.pointer_mut(pointer).unwrap() = value;
        std::fs::write(&path, serde_json::to_vec(&tampered).unwrap()).unwrap();
        let err = store.load(&reference(0)).unwrap_err();
        assert!(
            matches!(&err, StoreError::Keystore { source: KeystoreError::Json(_), .. }),
            "{pointer}: {err:?}"
        );
    }

    // An altered ciphertext of the right length fails the MAC, as a wrong password does.
    let mut tampered = intact.clone();
    let ciphertext = tampered["crypto"]["ciphertext"].as_str().unwrap();
    let flipped =
        format!("{}{}", if ciphertext.starts_with('0') { '1' } else { '0' }, &ciphertext[1..]);
    tampered["crypto"]["ciphertext"] = json!(flipped);
    std::fs::write(&path, serde_json::to_vec(&tampered).unwrap()).unwrap();
    assert!(matches!(store.load(&reference(0)), Err(StoreError::WrongPassword(_))));

    // Put back, it loads.
    std::fs::write(&path, serde_json::to_vec(&intact).unwrap()).unwrap();
    assert_eq!(store.load(&reference(0)).unwrap().unwrap().key.address(), key.address());
}

#[test]
fn keys_are_written_at_n_2_16_and_old_2_13_keystores_still_load() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path(), PASSWORD).unwrap();
    let (key, record) = fresh(0, "costly");
    store.save(&key, &record).unwrap();
    let path = stored_file(dir.path(), "key.json");
    let keystore: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(keystore["crypto"]["kdfparams"]["n"], 1 << 16);
    assert_eq!(keystore["crypto"]["kdfparams"]["r"], 8);
    assert_eq!(keystore["crypto"]["kdfparams"]["p"], 1);

    // A keystore as the store wrote them before (eth-keystore's n = 2^13).
    let scratch = tempfile::tempdir().unwrap();
    PrivateKeySigner::encrypt_keystore(
        scratch.path(),
        &mut rand::thread_rng(),
        key.signer().to_bytes(),
        PASSWORD,
        Some("old"),
    )
    .unwrap();
    let old: serde_json::Value =
        serde_json::from_slice(&std::fs::read(scratch.path().join("old")).unwrap()).unwrap();
    assert_eq!(old["crypto"]["kdfparams"]["n"], 1 << 13);
    std::fs::copy(scratch.path().join("old"), &path).unwrap();
    let loaded = store.load(&reference(0)).unwrap().unwrap();
    assert_eq!(loaded.key.signer().to_bytes(), key.signer().to_bytes());
}

#[test]
fn an_empty_password_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = FileStore::open(dir.path(), "").unwrap_err();
    assert!(matches!(err, StoreError::EmptyPassword), "{err:?}");
    assert!(matches!(
        FileStore::open(dir.path(), Password::new("")),
        Err(StoreError::EmptyPassword)
    ));
}

#[cfg(unix)]
#[test]
fn a_store_directory_open_to_others_is_made_private() {
    use std::os::unix::fs::PermissionsExt;

    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("sessions");
    std::fs::create_dir(&dir).unwrap();
    for loose in [0o777, 0o755, 0o711] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(loose)).unwrap();
        let store = open(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{loose:o} became {mode:o}");
        let (key, record) = fresh(0, "private again");
        store.save(&key, &record).unwrap();
    }
}

#[test]
fn a_pending_record_is_kept_and_old_records_read_as_granted() {
    use mandate_client::GrantState;

    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let (key, mut pending) = fresh(0, "pending");
    pending.state = GrantState::Pending;
    store.save(&key, &pending).unwrap();
    assert_eq!(store.load(&reference(0)).unwrap().unwrap().record.state, GrantState::Pending);
    let path = stored_file(dir.path(), "session.json");
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["state"], "pending");

    // Granted records are written as before (no `state`), and records written before it
    // existed read as granted.
    let granted = SessionRecord { state: GrantState::Granted, ..pending };
    store.update(&granted).unwrap();
    let on_disk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert!(on_disk.get("state").is_none(), "{on_disk}");
    assert_eq!(store.load(&reference(0)).unwrap().unwrap().record, granted);

    // Anything else is refused, not read as a default.
    for bad in [serde_json::json!("bogus"), serde_json::json!(null), serde_json::json!(1)] {
        json["state"] = bad.clone();
        std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
        let err = store.load(&reference(0)).unwrap_err();
        assert!(matches!(&err, StoreError::Json { path: p, .. } if *p == path), "{bad}: {err:?}");
    }

    // A revoked record is written and read as such.
    json["state"] = serde_json::json!("revoked");
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    let revoked = store.load(&reference(0)).unwrap().unwrap().record;
    assert_eq!(revoked.state, GrantState::Revoked);
    store.update(&SessionRecord { state: GrantState::Revoked, ..granted }).unwrap();
    let on_disk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(on_disk["state"], "revoked");
}

/// A batch that fails part-way through the file store (the third session's directory cannot
/// be made: a file sits where it goes) leaves every session as it was and nothing behind.
#[test]
fn a_failed_batch_leaves_the_file_store_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let (key0, record0) = fresh(0, "before");
    store.save(&key0, &record0).unwrap();
    std::fs::write(store.session_dir(&reference(2)), b"in the way").unwrap();

    let key = SessionKey::random();
    let batch = [0, 1, 2].map(|n| record(n, key.address(), "batch"));
    let err = store.save_all(&batch.each_ref().map(|r| (&key, r))).unwrap_err();
    assert!(
        matches!(&err, StoreError::Io { path, .. } if *path == store.session_dir(&reference(2))),
        "{err:?}"
    );
    assert_eq!(store.list().unwrap(), vec![record0.clone()]);
    assert_eq!(store.load(&reference(0)).unwrap().unwrap().key.address(), key0.address());
    assert!(store.load(&reference(1)).unwrap().is_none());
    drop(store);
    let store = open(dir.path()).unwrap();
    assert_eq!(store.list().unwrap(), vec![record0]);
    let mut left: Vec<_> = walk(dir.path());
    left.sort();
    assert!(left.iter().all(|p| !p.contains(".tmp-") && !p.contains(".batch-")), "{left:?}");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        found.push(path.display().to_string());
        if path.is_dir() {
            found.extend(walk(&path));
        }
    }
    found
}

/// A record's account family is kept under `accountType` (module-sdk's names); a record
/// without one is written and read without it; a name that is no family is refused.
#[test]
fn a_records_account_family_is_kept_by_name() {
    use mandate_abi::account::AccountType;

    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    let (key, untyped) = fresh(0, "typed");
    store.save(&key, &untyped).unwrap();
    let path = stored_file(dir.path(), "session.json");
    let read =
        || serde_json::from_slice::<serde_json::Value>(&std::fs::read(&path).unwrap()).unwrap();
    assert!(read().get("accountType").is_none());
    for family in AccountType::ALL {
        let typed = SessionRecord { account_type: Some(family), ..untyped.clone() };
        store.update(&typed).unwrap();
        assert_eq!(read()["accountType"], family.name());
        assert_eq!(store.load(&reference(0)).unwrap().unwrap().record, typed);
    }
    let mut json = read();
    json["accountType"] = serde_json::json!("kernel-v9");
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    let err = store.load(&reference(0)).unwrap_err();
    assert!(matches!(&err, StoreError::Json { path: p, .. } if *p == path), "{err:?}");
}

/// A SQL store at `url` under [`PASSWORD`], writing keys at the cheapest scrypt cost.
fn sql(url: &str) -> mandate_client::store::SqlStore {
    mandate_client::store::SqlStore::connect(url, PASSWORD)
        .unwrap()
        .with_scrypt_cost(mandate_client::store::ScryptCost::MIN)
}

#[test]
fn sqlite_store_behaves_as_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.db");
    let store = mandate_client::store::SqlStore::sqlite(&path, PASSWORD)
        .unwrap()
        .with_scrypt_cost(mandate_client::store::ScryptCost::MIN);
    behaves_as_a_store(&store);
}

/// On a real PostgreSQL server: the store's behaviour; two stores (two workers) on one
/// database seeing each other's sessions; the wrong password named; no secret in the
/// database's rows, in `Debug` or in errors; the URL in no error.
#[test]
fn postgres_store_behaves_as_a_store_shared_by_workers() {
    let pg = mandate_testing::postgres::Postgres::start();
    behaves_as_a_store(&sql(&pg.url));

    let (a, b) = (sql(&pg.url), sql(&pg.url));
    let (key, record) = fresh(5, "shared");
    a.save(&key, &record).unwrap();
    let loaded = b.load(&record.reference()).unwrap().unwrap();
    assert_eq!(loaded.key.signer().to_bytes(), key.signer().to_bytes());
    let mut changed = record.clone();
    changed.label = Some("changed by the other worker".into());
    b.update(&changed).unwrap();
    assert_eq!(a.list().unwrap(), vec![changed]);

    let wrong = mandate_client::store::SqlStore::connect(&pg.url, "not the password").unwrap();
    let err = wrong.load(&record.reference()).unwrap_err();
    assert!(matches!(err, StoreError::WrongPassword(r) if r == record.reference()), "{err:?}");

    let secret = hex::encode(key.signer().to_bytes());
    for text in [format!("{a:?}"), format!("{err:?}"), err.to_string()] {
        assert!(!text.contains(&secret) && !text.contains(PASSWORD) && !text.contains("host="));
    }
    // The database holds the keystore, never the key.
    let rows: Vec<String> = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&pg.url).await.unwrap();
            sqlx::query_scalar("SELECT keystore FROM mandate_sessions").fetch_all(&pool).await
        })
        .unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        assert!(row.contains("scrypt") && !row.contains(&secret), "{row}");
    }
    // A server that is not there: an error without the URL.
    let gone = pg.url.replace("mandate-pg-", "mandate-pg-gone-");
    let err = mandate_client::store::SqlStore::connect(&gone, PASSWORD).unwrap_err();
    assert!(matches!(err, StoreError::Database { operation: "connect", .. }), "{err:?}");
    assert!(!err.to_string().contains("mandate-pg"), "{err}");
    assert!(matches!(
        mandate_client::store::SqlStore::connect("mysql://x", PASSWORD),
        Err(StoreError::UnsupportedDatabase)
    ));
}

/// Nonce lanes in PostgreSQL: two workers lease distinct lanes of one account, a released
/// lane is leased again, the limit holds, and a lane whose holder died (its lease never
/// released) comes back once the lease has expired.
#[test]
fn postgres_lanes_are_distinct_across_workers_and_a_dead_holders_lane_comes_back() {
    let pg = mandate_testing::postgres::Postgres::start();
    lanes_behave(&pg.url);
}

/// The same on SQLite (one machine's processes).
#[test]
fn sqlite_lanes_are_distinct_across_workers_and_a_dead_holders_lane_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    lanes_behave(&format!("sqlite://{}?mode=rwc", dir.path().join("lanes.db").display()));
}

fn lanes_behave(url: &str) {
    use mandate_client::lanes::{LaneAllocator, LaneError};
    use std::time::Duration;
    let account = alloy_primitives::Address::repeat_byte(0xaa);
    let (one, two) = (
        sql(url).lanes(Duration::from_secs(600)).with_limit(3),
        sql(url).lanes(Duration::from_secs(600)).with_limit(3),
    );
    let a = one.lease(1, account, 1 << 16).unwrap();
    let b = two.lease(1, account, 1 << 16).unwrap();
    let c = one.lease(1, account, 1 << 16).unwrap();
    assert_eq!((a.lane(), b.lane(), c.lane()), (0, 1, 2));
    assert!(matches!(two.lease(1, account, 1 << 16), Err(LaneError::Exhausted { lanes: 3, .. })));
    // Another account, another chain: lanes of their own.
    assert_eq!(two.lease(1, alloy_primitives::Address::repeat_byte(0xbb), 4).unwrap().lane(), 0);
    assert_eq!(two.lease(8453, account, 4).unwrap().lane(), 0);
    drop(b);
    assert_eq!(two.lease(1, account, 1 << 16).unwrap().lane(), 1);

    // A holder that dies: its lease is never released. With a lease of 0 s it has expired at
    // once, and the lane comes back to the next worker.
    let mortal = sql(url).lanes(Duration::ZERO);
    let other = alloy_primitives::Address::repeat_byte(0xcc);
    std::mem::forget(mortal.lease(1, other, 4).unwrap());
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(one.lease(1, other, 4).unwrap().lane(), 0, "the dead holder's lane");
    drop((a, c));
}
