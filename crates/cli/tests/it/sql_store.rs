//! `--store-url`: the CLI reads sessions from a SQL store (SQLite here; PostgreSQL through the
//! same code in the client's tests) — a session saved there by another program is exported —
//! and a bad URL is one error line that does not print it.

use std::process::Command;

use mandate::client::store::{ScryptCost, SessionStore, SqlStore};
use mandate_testing::store::{PASSWORD, fresh};

#[test]
fn the_cli_reads_sessions_from_a_sql_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.db");
    let store = SqlStore::sqlite(&path, PASSWORD).unwrap().with_scrypt_cost(ScryptCost::MIN);
    let (key, record) = fresh(1, "kept in SQLite");
    store.save(&key, &record).unwrap();
    drop(store);

    let url = format!("sqlite://{}", path.display());
    let export = |url: &str| {
        Command::new(env!("CARGO_BIN_EXE_mandate"))
            .args(["session", "export", "--store-url", url])
            .args(["--chain-id", &record.chain_id.to_string()])
            .args(["--account", &record.account.to_string()])
            .args(["--permission-id", &record.permission_id.to_string()])
            .env("MANDATE_STORE_PASSWORD", PASSWORD)
            .output()
            .unwrap()
    };
    let out = export(&url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let exported: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(exported["permissionId"], record.permission_id.to_string());
    assert_eq!(
        exported["sessionKey"].as_str().unwrap().to_lowercase(),
        format!("{:#x}", key.address())
    );

    // A URL of no database the store serves: refused, the URL not printed.
    let secret = "postgresql-password-in-the-url";
    let out = export(&format!("mysql://user:{secret}@127.0.0.1/db"));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("neither postgres:// nor sqlite:") && !err.contains(secret), "{err}");
}
