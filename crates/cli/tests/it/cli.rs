//! The `mandate` binary against the module-sdk vectors: same bytes on stdout, and a one-line
//! error with a non-zero exit on bad input.

use crate::run::{mandate, stdout};

fn vectors() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../interop/vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("vectors")).expect("json")
}

#[test]
fn session_commands_match_module_sdk() {
    let v = vectors();
    for s in v["sessions"].as_array().expect("sessions").iter().take(5) {
        let session = s["session"].to_string();
        assert_eq!(stdout(&mandate(&["session", "id", "-"], &session)), s["permissionId"]);
        let calldata = stdout(&mandate(&["session", "enable-calldata", "-"], &session));
        assert_eq!(calldata, s["enableSessionsCalldata"]);
    }
    let d = &v["digests"][0];
    let digest = stdout(&mandate(&["session", "digest", "-"], &d["chainSessions"].to_string()));
    assert_eq!(digest, d["digest"]);
    let a = &v["actionIds"][0];
    let id = stdout(&mandate(
        &[
            "session",
            "action-id",
            a["target"].as_str().expect("target"),
            a["selector"].as_str().expect("sel"),
        ],
        "",
    ));
    assert_eq!(id, a["actionId"]);
}

#[test]
fn signature_commands_match_module_sdk() {
    let v = vectors();
    let u = &v["useSignatures"][0];
    let sig = stdout(&mandate(
        &[
            "signature",
            "use",
            u["permissionId"].as_str().expect("id"),
            u["signature"].as_str().expect("sig"),
        ],
        "",
    ));
    assert_eq!(sig, u["encoded"]);
    for e in v["enableSignatures"].as_array().expect("enable") {
        let input = serde_json::json!({
            "enableSessionData": e["enableSessionData"],
            "signature": e["signature"],
            "mode": e["mode"],
        });
        let encoded = stdout(&mandate(&["signature", "enable", "-"], &input.to_string()));
        assert_eq!(encoded, e["encoded"]);
        let account_type = e["enableSessionData"]["accountType"].as_str().expect("type");
        let decoded = stdout(&mandate(
            &["signature", "decode", &encoded, "--account-type", account_type],
            "",
        ));
        let decoded: serde_json::Value = serde_json::from_str(&decoded).expect("json");
        assert_eq!(decoded["mode"], e["mode"]);
        assert_eq!(decoded["signature"], e["signature"]);
    }
}

#[test]
fn policy_encode_matches_module_sdk() {
    let v = vectors();
    for p in v["policies"].as_array().expect("policies") {
        let kind = p["kind"].as_str().expect("kind");
        let out = stdout(&mandate(&["policy", "encode", kind, "-"], &p["params"].to_string()));
        assert_eq!(out, p["initData"], "{kind}");
    }
}

/// Offsets off the argument words (module-sdk encodes them, the policy reads them) are
/// encoded, with a warning per rule on stderr.
#[test]
fn unaligned_offsets_are_encoded_with_a_warning() {
    let v = vectors();
    let unaligned = v["policies"]
        .as_array()
        .expect("policies")
        .iter()
        .find(|p| p["kind"] == "universal" && p["params"]["paramRules"]["rules"][1]["offset"] == 4)
        .expect("the vector with offsets 100, 4 and 1");
    let out = mandate(&["policy", "encode", "universal", "-"], &unaligned["params"].to_string());
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout.clone()).unwrap().trim(), unaligned["initData"]);
    let err = String::from_utf8(out.stderr).unwrap();
    let warnings: Vec<&str> = err.lines().collect();
    assert_eq!(warnings.len(), 3, "{err}");
    for (rule, offset) in [(0, 100), (1, 4), (2, 1)] {
        let line = warnings[rule];
        assert!(line.starts_with("mandate policy: warning: "), "{line}");
        assert!(line.contains(&format!("rules[{rule}].offset {offset} ")), "{line}");
    }
}

#[test]
fn bad_input_is_one_line_on_stderr_and_a_failure() {
    let cases: [(&[&str], &str); 5] = [
        (&["session", "id", "/nonexistent/session.json"], ""),
        (&["session", "id", "-"], "{\"sessionValidator\": 5}"),
        (&["signature", "use", "0x1234", "0x"], ""),
        (&["signature", "decode", "0x07"], ""),
        (&["policy", "encode", "usage-limit", "-"], "{\"limit\": 0}"),
    ];
    for (args, stdin) in cases {
        let out = mandate(args, stdin);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(out.stdout.is_empty(), "{args:?} wrote to stdout");
        let err = String::from_utf8(out.stderr).expect("utf-8");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("mandate "), "{err}");
    }
}

#[test]
fn both_demos_tell_their_stories_as_json() {
    let report: serde_json::Value =
        serde_json::from_str(&stdout(&mandate(&["demo", "--json"], ""))).expect("json");
    let steps = report["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 8);
    assert_eq!(steps.iter().filter(|s| s["outcome"] == "refused").count(), 3);
    assert_eq!(report["nftsHeld"], "0x3");
    assert_eq!(report["accountFamily"], "mandate");
    for family in ["nexus", "safe"] {
        let other: serde_json::Value =
            serde_json::from_str(&stdout(&mandate(&["demo", "--account", family, "--json"], "")))
                .expect("json");
        assert_eq!(other["accountFamily"], family);
        let outcomes = |r: &serde_json::Value| {
            let steps = r["steps"].as_array().expect("steps");
            steps.iter().map(|s| (s["title"].clone(), s["outcome"].clone())).collect::<Vec<_>>()
        };
        assert_eq!(outcomes(&other), outcomes(&report), "{family}");
        assert_eq!(other["nftsHeld"], "0x3", "{family}");
    }
    let unknown = mandate(&["demo", "--account", "argent"], "");
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(!unknown.status.success() && err.contains("argent"), "{err}");

    #[cfg(feature = "legacy-v2")]
    {
        let v2: serde_json::Value =
            serde_json::from_str(&stdout(&mandate(&["demo", "--legacy-v2", "--json"], "")))
                .expect("json");
        let steps = v2["steps"].as_array().expect("steps");
        assert_eq!(steps.iter().filter(|s| s["included"] == true).count(), 4);
        assert_eq!(steps.iter().filter(|s| s["refused"].is_string()).count(), 2);
        assert_eq!(v2["recipientTokens"], "0x1f4");
    }
}
