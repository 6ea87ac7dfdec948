//! Shrunk counterexamples the property test found, and hand-picked corner cases, each run on
//! both sides like a generated case (and checked to reach the verdict it is about).

use alloy_primitives::{B256, U256};
use mandate_abi::AccountType;

use super::harness::{
    ActionSpec, CallDataSpec, CallSpec, Case, OpSpec, PolicySpec, RuleSpec, SessionSpec, SigSpec,
    run_case_on,
};

fn session(user_op: Vec<PolicySpec>, actions: Vec<ActionSpec>) -> SessionSpec {
    SessionSpec { short_key: false, salt: 0, user_op, actions, paymaster: false }
}

/// An action on (token, transfer) with `policies`.
fn transfer_action(policies: Vec<PolicySpec>) -> ActionSpec {
    ActionSpec { target: 0, selector: 0, fallback: false, policies }
}

/// `transfer(word0, word1)` to the token.
fn transfer(args: Vec<U256>, value: U256) -> CallSpec {
    CallSpec { target: 0, value, selector: Some(0), args, cut: 0 }
}

fn op(call_data: CallDataSpec, sig: SigSpec) -> OpSpec {
    OpSpec { call_data, sig, paymaster: false, hash: B256::repeat_byte(0x42) }
}

/// Runs `case` on every family; each gives the same labels (the local verdicts), which are
/// returned.
fn run(case: Case) -> Vec<String> {
    let mut first: Option<Vec<String>> = None;
    for family in AccountType::ALL {
        let labels = run_case_on(family, &case).unwrap_or_else(|e| panic!("{family:?}: {e}"));
        match &first {
            None => first = Some(labels),
            Some(f) => assert_eq!(&labels, f, "{family:?}"),
        }
    }
    first.unwrap()
}

/// Found by the property test (shrunk): ERC20SpendingLimitPolicy initialised with no token leaves
/// no state at all; the evaluator had kept an empty config, so its state differed from storage.
#[test]
fn erc20_policy_without_tokens_leaves_no_state() {
    let labels = run(Case {
        sessions: vec![session(
            vec![],
            vec![transfer_action(vec![PolicySpec::Erc20 { tokens: vec![] }])],
        )],
        ops: vec![op(
            CallDataSpec::Single(transfer(vec![U256::ZERO; 2], U256::ZERO)),
            SigSpec::Good,
        )],
    });
    // No token is configured: only zero amounts pass.
    assert_eq!(labels, ["accept"]);
}

/// A wrong session signature returns 1, and the usage the policies counted stays (the contract
/// does not revert).
#[test]
fn wrong_signature_still_counts_usage() {
    let labels = run(Case {
        sessions: vec![session(
            vec![PolicySpec::Usage(2)],
            vec![transfer_action(vec![PolicySpec::Usage(1)])],
        )],
        ops: vec![
            op(
                CallDataSpec::Single(transfer(vec![U256::ZERO, U256::from(1)], U256::ZERO)),
                SigSpec::WrongKey,
            ),
            op(
                CallDataSpec::Single(transfer(vec![U256::ZERO, U256::from(1)], U256::ZERO)),
                SigSpec::Good,
            ),
        ],
    });
    assert_eq!(labels, ["signature fails", "PolicyViolation"]);
}

/// ValueLimitPolicy as a user-op policy refuses a delegatecall mode with its own
/// UnsupportedCallType, which SmartSession wraps before its own call-type check.
#[test]
fn value_limit_user_op_policy_reverts_on_delegatecall() {
    let labels = run(Case {
        sessions: vec![session(
            vec![PolicySpec::Value(U256::from(100))],
            vec![transfer_action(vec![PolicySpec::Sudo])],
        )],
        ops: vec![op(CallDataSpec::Delegate(transfer(vec![], U256::ZERO)), SigSpec::Good)],
    });
    assert_eq!(labels, ["PolicyCheckReverted 0xb96fcfe4"]);
}

/// A rule offset near 2^64 overflows UniActionPolicy's uint64 arithmetic: a panic, wrapped.
#[test]
fn uni_action_offset_overflow_panics() {
    let rule = RuleSpec {
        condition: 0,
        offset: u64::MAX - 20,
        limited: false,
        reference: U256::ZERO,
        limit: U256::ZERO,
    };
    let labels = run(Case {
        sessions: vec![session(
            vec![],
            vec![transfer_action(vec![PolicySpec::Uni {
                value_limit: U256::ZERO,
                rules: vec![rule],
            }])],
        )],
        ops: vec![op(
            CallDataSpec::Single(transfer(vec![U256::ZERO; 2], U256::ZERO)),
            SigSpec::Good,
        )],
    });
    assert_eq!(labels, ["PolicyCheckReverted 0x4e487b71"]);
}

/// A limited rule accumulates over a batch and the fourth transfer of 300 crosses 1000.
#[test]
fn uni_action_limit_accumulates_over_a_batch() {
    let rule = RuleSpec {
        condition: 4,
        offset: 32,
        limited: true,
        reference: U256::from(300),
        limit: U256::from(1000),
    };
    let policy = PolicySpec::Uni { value_limit: U256::ZERO, rules: vec![rule] };
    let t = transfer(vec![U256::ZERO, U256::from(300)], U256::ZERO);
    let labels = run(Case {
        sessions: vec![session(vec![], vec![transfer_action(vec![policy])])],
        ops: vec![
            op(CallDataSpec::Batch(vec![t.clone(), t.clone(), t.clone()]), SigSpec::Good),
            op(CallDataSpec::Single(t), SigSpec::Good),
        ],
    });
    assert_eq!(labels, ["accept", "PolicyViolation"]);
}

/// Time windows from a user-op and an action policy intersect (max validAfter, min validUntil).
#[test]
fn time_frames_intersect() {
    let now = mandate_sim::GENESIS_TIMESTAMP;
    let labels = run(Case {
        sessions: vec![session(
            vec![PolicySpec::Time { until: now + 1000, after: now - 1 }],
            vec![transfer_action(vec![PolicySpec::Time { until: (1 << 48) - 1, after: now + 1 }])],
        )],
        ops: vec![op(
            CallDataSpec::Single(transfer(vec![U256::ZERO; 2], U256::ZERO)),
            SigSpec::Good,
        )],
    });
    assert_eq!(labels, ["accept"]);
}

/// Found by the property test (shrunk): an ENABLE payload whose FastLZ stream is cut by one byte.
/// solady's decompressor reads past its input (here: the zero padding after it) and the contract
/// went on to enable the session; the evaluator had refused the stream as truncated. It now
/// mirrors solady's memory reads.
#[test]
fn enable_stream_cut_by_one_byte_decompresses_like_solady() {
    use super::harness::EnableSpec;
    let enabled = SessionSpec {
        short_key: false,
        salt: 0,
        user_op: vec![],
        actions: vec![ActionSpec {
            target: 0,
            selector: 6,
            fallback: false,
            policies: vec![PolicySpec::Sudo],
        }],
        paymaster: false,
    };
    let enable = EnableSpec {
        unsafe_mode: false,
        session: enabled,
        index_past: false,
        wrong_chain: false,
        stale_nonce: false,
        owner_ok: true,
        key_ok: false,
        cut: 1,
    };
    let labels = run(Case {
        sessions: vec![session(vec![], vec![])],
        ops: vec![op(
            CallDataSpec::Single(CallSpec {
                target: 0,
                value: U256::ZERO,
                selector: None,
                args: vec![],
                cut: 0,
            }),
            SigSpec::Enable(Box::new(enable)),
        )],
    });
    assert_eq!(labels, ["signature fails"]);
}

/// A session may authorise a direct call of an account function (an action on the account and
/// the selector): SmartSession accepts it on every family, but Kernel v3.1 checks the selector
/// after its validator returned and refuses every selector SmartSession was not installed with
/// (`execute` only): `InvalidValidator()`, SmartSession's writes undone.
#[test]
fn kernel_refuses_a_direct_account_call_smart_session_accepts() {
    let case = Case {
        sessions: vec![session(
            vec![],
            vec![ActionSpec {
                target: 2,
                selector: 4,
                fallback: false,
                policies: vec![PolicySpec::Usage(1)],
            }],
        )],
        ops: vec![
            op(CallDataSpec::AccountCall(4, vec![]), SigSpec::Good),
            op(CallDataSpec::AccountCall(4, vec![]), SigSpec::Good),
        ],
    };
    for family in AccountType::ALL {
        let labels = run_case_on(family, &case).unwrap_or_else(|e| panic!("{family:?}: {e}"));
        if family == AccountType::Kernel {
            // Refused twice: the usage the first op counted was undone.
            assert_eq!(labels, ["kernel refuses", "kernel refuses"]);
        } else {
            assert_eq!(labels, ["accept", "PolicyViolation"], "{family:?}");
        }
    }
}
