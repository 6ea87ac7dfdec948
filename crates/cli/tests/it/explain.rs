//! `mandate session explain` says what a session allows, and `grant` refuses a risky session
//! before the node is asked anything or the owner signs (the URLs here have nothing behind
//! them): one line per risk, naming its `--allow` value.

use std::process::{Command, Output, Stdio};

use mandate::abi::{
    Deployments, Erc20Action, Erc20Function, Session, SessionBuilder,
    alloy_primitives::{Address, U256},
    custom_action,
    policy::Policy,
};

use crate::run::{error_line, mandate, stdout};

const TOKEN: Address = Address::repeat_byte(0x70);
const SHOP: Address = Address::repeat_byte(0x5b);

fn d() -> Deployments {
    Deployments::MODULE_SDK_0_4
}

/// `transfer` under SudoPolicy alone; validator and key left for `grant` to fill in.
fn sudo_session() -> Session {
    let transfer =
        custom_action(TOKEN, "transfer(address,uint256)", &[Policy::Sudo], &d().policies).unwrap();
    let mut s =
        SessionBuilder::new(Address::repeat_byte(1), Vec::new()).action(transfer).build().unwrap();
    s.sessionValidator = Address::ZERO;
    s
}

fn grant(session: &Session, extra: &[&str]) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("session.json");
    std::fs::write(&file, serde_json::to_string(session).unwrap()).unwrap();
    let (file, store) =
        (file.display().to_string(), dir.path().join("store").display().to_string());
    let mut args = vec!["session", "grant", "--session", file.as_str(), "--store", store.as_str()];
    args.extend(["--rpc-url", "http://127.0.0.1:9", "--bundler-url", "http://127.0.0.1:9"]);
    args.extend(["--deployments", "module-sdk-0.4", "--session-validator", "ownable"]);
    args.extend(["--account", "0x00000000000000000000000000000000000a11ce"]);
    args.extend_from_slice(extra);
    let out = Command::new(env!("CARGO_BIN_EXE_mandate"))
        .args(&args)
        .env("MANDATE_STORE_PASSWORD", "correct horse")
        .env("MANDATE_OWNER_KEY", format!("0x{}", "22".repeat(32)))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (out, dir)
}

#[test]
fn grant_refuses_an_unbounded_sudo_session_in_one_line_naming_its_allow() {
    let (out, dir) = grant(&sudo_session(), &[]);
    let err = error_line(&out);
    assert!(err.contains("refused before signing"), "{err}");
    assert!(err.contains("--allow unbounded-sudo"), "{err}");
    assert!(err.contains("transfer(address,uint256)"), "{err}");
    // Nothing was stored: no key, no pending record.
    let stored = std::fs::read_dir(dir.path().join("store"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(stored, 0, "nothing stored");

    // Allowed, the grant gets past the lint and on to the node (which is not there).
    let (out, _dir) = grant(&sudo_session(), &["--allow", "unbounded-sudo"]);
    let err = error_line(&out);
    assert!(!err.contains("refused before signing"), "{err}");

    // Two risks, two lines, each naming its own --allow.
    let mut both = sudo_session();
    both.permitERC4337Paymaster = true;
    let (out, _dir) = grant(&both, &[]);
    let err = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].contains("--allow unbounded-sudo"), "{err}");
    assert!(lines[1].contains("--allow unbounded-paymaster"), "{err}");
    let (out, _dir) = grant(&both, &["--allow", "unbounded-sudo"]);
    let err = error_line(&out);
    assert!(
        err.contains("--allow unbounded-paymaster") && !err.contains("unbounded-sudo"),
        "{err}"
    );

    // An unknown risk name is refused by the argument parser, naming the known ones.
    let (out, _dir) = grant(&sudo_session(), &["--allow", "sudo"]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("unbounded-sudo"), "{err}");
}

#[test]
fn explain_prints_what_the_session_allows() {
    let transfer = Erc20Action::new(Erc20Function::Transfer, TOKEN)
        .recipient(SHOP)
        .amount_limit_per_action(U256::from(100))
        .max_amount_limit(U256::from(250))
        .usage_limit(3)
        .time_frame(1_000, 2_000)
        .build(&d().policies, 0)
        .unwrap();
    let session =
        SessionBuilder::new(Address::repeat_byte(1), vec![2; 20]).action(transfer).build().unwrap();
    let json = serde_json::to_string(&session).unwrap();
    let out = stdout(&mandate(&["session", "explain", "-"], &json));
    for expected in [
        "action 1: transfer(address,uint256) (0xa9059cbb) on 0x7070707070707070707070707070707070707070",
        "  - universal action: at most 0 wei per call; rule 1: argument 1 (address, offset 0) EQUAL \
         0x0000000000000000000000005b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b; rule 2: argument 2 \
         (uint256, offset 32) LESS_THAN_OR_EQUAL 100, at most 250 in total",
        "  - usage limit: at most 3 use(s)",
        "  - time frame: from 1970-01-01 00:16:40 UTC (unix 1000) until 1970-01-01 00:33:20 UTC (unix 2000)",
        "on every op: no policy",
        "ERC-1271: none (the key cannot sign messages as the account)",
        "paymaster: not permitted",
    ] {
        assert!(out.lines().any(|l| l == expected), "{expected:?} not a line of\n{out}");
    }
    assert!(!out.contains("risk "), "{out}");

    // The unbounded sudo session: explained, its risk listed (explain itself refuses nothing).
    let json = serde_json::to_string(&sudo_session()).unwrap();
    let out = stdout(&mandate(&["session", "explain", "-"], &json));
    assert!(out.lines().any(|l| l == "  - sudo: no check at all"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("risk unbounded-sudo: actions[0]")), "{out}");
    let out = stdout(&mandate(&["session", "explain", "-", "--json"], &json));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"][0]["risk"], "unbounded-sudo", "{v}");
    assert_eq!(v["explanation"]["actions"][0]["policies"][0]["decoded"]["kind"], "sudo", "{v}");

    // A rule off the function's arguments, named by --function: a warning.
    let mint = custom_action(
        TOKEN,
        "mint(address,uint256,bytes)",
        &[
            Policy::UniAction(
                mandate::abi::ActionConfig::new(
                    U256::ZERO,
                    vec![mandate::abi::ParamRule { offset: 128, ..Default::default() }],
                )
                .unwrap(),
            ),
            Policy::UsageLimit(1),
        ],
        &d().policies,
    )
    .unwrap();
    let session =
        SessionBuilder::new(Address::repeat_byte(1), vec![2; 20]).action(mint).build().unwrap();
    let json = serde_json::to_string(&session).unwrap();
    let plain = stdout(&mandate(&["session", "explain", "-"], &json));
    assert!(!plain.contains("warning"), "{plain}");
    let named = stdout(&mandate(
        &["session", "explain", "-", "--function", "mint(address,uint256,bytes)"],
        &json,
    ));
    assert!(
        named.lines().any(|l| l.starts_with("warning: actions[0]: universal action rule 0 reads offset 128")),
        "{named}"
    );
}

/// `session import` stores one permission per key: a grant for a key that already signs for
/// another permission of the account (in the store) is refused before the node is asked, in
/// one line naming `--allow shared-session-key`.
#[test]
fn import_refuses_a_key_that_already_holds_a_permission_of_the_account() {
    use mandate::{
        abi::{
            EnableSessionData, SmartSessionMode,
            account::AccountType,
            alloy_primitives::B256,
            digest::{EnableTarget, prepare_enable},
            grant::{Bigints, GrantEntry, write_grant_response},
            ownable::OwnableData,
        },
        client::{
            SessionKey, SessionRecord,
            store::{FileStore, SessionStore},
        },
    };
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("store");
    let secret = format!("0x{}", "11".repeat(32));
    let key = SessionKey::from_signer(secret.parse().unwrap());
    let account = Address::with_last_byte(0xa1);
    let ownable = d().session_validators.ownable.unwrap();
    let session = |salt: u8| {
        let transfer = Erc20Action::new(Erc20Function::Transfer, TOKEN)
            .recipient(SHOP)
            .usage_limit(2)
            .build(&d().policies, 0)
            .unwrap();
        SessionBuilder::new(ownable, OwnableData::new(1, vec![key.address()]).unwrap().encode())
            .action(transfer)
            .salt(B256::with_last_byte(salt))
            .build()
            .unwrap()
    };
    let held = SessionRecord::new(1, account, key.address(), session(1), d().smart_session);
    FileStore::open(&store_dir, "correct horse").unwrap().save(&key, &held).unwrap();
    let response = |salt: u8| {
        let target = EnableTarget {
            chain_id: 1,
            account,
            smart_session: d().smart_session,
            nonce: U256::ZERO,
        };
        let mode = SmartSessionMode::UnsafeEnable;
        let enable_session = prepare_enable(&session(salt), &[target], mode, 0).enable_session;
        let data = EnableSessionData {
            enable_session,
            validator: ownable,
            account_type: AccountType::Nexus,
        };
        let file = dir.path().join(format!("grant-{salt}.json"));
        let entries = [GrantEntry::of_enable_data(data, mode)];
        std::fs::write(&file, write_grant_response(&entries, Bigints::Tagged)).unwrap();
        file.display().to_string()
    };
    let import = |file: &str, extra: &[&str]| {
        let store = store_dir.display().to_string();
        let account = account.to_string();
        let mut args = vec!["session", "import", file, "--rpc-url", "http://127.0.0.1:9"];
        args.extend(["--deployments", "module-sdk-0.4", "--store", store.as_str()]);
        args.extend(["--account", account.as_str(), "--account-type", "nexus"]);
        args.extend_from_slice(extra);
        let out = Command::new(env!("CARGO_BIN_EXE_mandate"))
            .args(&args)
            .env("MANDATE_STORE_PASSWORD", "correct horse")
            .env("MANDATE_SESSION_KEY", &secret)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        error_line(&out)
    };
    let second = response(2);
    let err = import(&second, &[]);
    assert!(err.contains("refused before storing"), "{err}");
    assert!(err.contains("--allow shared-session-key"), "{err}");
    assert!(err.contains(&held.permission_id.to_string()), "names the permission it holds: {err}");
    // Allowed, the import goes on to the node (not there); the same permission again is no
    // other permission: it goes on too.
    for (file, extra) in
        [(second.as_str(), &["--allow", "shared-session-key"][..]), (&response(1), &[])]
    {
        let err = import(file, extra);
        assert!(!err.contains("refused before storing"), "{err}");
    }
}
