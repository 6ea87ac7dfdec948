//! Differential tests: upstream Smart Sessions (runtime bytecode at the module-sdk addresses)
//! against ours, on the same devnet, with the same session key, the same scenarios, and every
//! mix of SmartSession and policies. Verdicts (included / rejected with which error) and
//! validation data must agree. Also prints a size and gas report (`--nocapture`).
//!
//! ```text
//! MANDATE_UPSTREAM_DIR="$(cd ../shared/upstream/smartsessions-f5aaf86 && pwd)" \
//!   cargo test --features upstream-parity --test it upstream_parity -- --nocapture
//! ```

#![cfg(feature = "upstream-parity")]
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate::{
    abi::{
        ActionData, ActionId, CallType, ExecType, PackedUserOperation, ParamCondition,
        PermissionId, Policy, Session, SmartSessionMode, TokenLimit,
        builder::fallback_action,
        encode_delegatecall, encode_use, execute_calldata, execute_calls, mode_code,
        sol::{IERC20, IERC7579Account, ISmartSession},
    },
    sim::{BUNDLER, BundleOutcome, DEPLOYER, Devnet, SimError, canonical},
};
use mandate_testing::{policy_data::*, world::*};

/// A devnet with upstream's runtimes placed at their canonical addresses.
fn devnet_with_upstream() -> Devnet {
    let mut devnet = Devnet::new().unwrap();
    devnet.place_canonical(&mandate_testing::upstream::runtimes());
    devnet
}

fn upstream(name: &str) -> Address {
    canonical::contracts().into_iter().find(|(n, _)| *n == name).map(|(_, a)| a).unwrap()
}

const RECIPIENT: Address = Address::repeat_byte(0x7e);

/// The policy contracts a scenario uses.
#[derive(Clone, Copy, Debug)]
struct Policies {
    sudo: Address,
    uni: Address,
    time_frame: Address,
    spending: Address,
    usage: Address,
    value: Address,
}

impl Policies {
    fn ours(devnet: &Devnet) -> Self {
        let d = devnet.deployments();
        Self {
            sudo: d.chain.policies.sudo,
            uni: d.chain.policies.uni_action,
            time_frame: d.chain.policies.time_frame,
            spending: d.chain.policies.erc20_spending_limit,
            usage: d.chain.policies.usage_limit,
            value: d.chain.policies.value_limit,
        }
    }

    fn upstream() -> Self {
        Self {
            sudo: upstream("SudoPolicy"),
            uni: upstream("UniActionPolicy"),
            time_frame: upstream("TimeFramePolicy"),
            spending: upstream("ERC20SpendingLimitPolicy"),
            usage: upstream("UsageLimitPolicy"),
            value: upstream("ValueLimitPolicy"),
        }
    }

    fn labels(&self) -> [(Address, &'static str); 6] {
        [
            (self.sudo, "<sudo>"),
            (self.uni, "<uni>"),
            (self.time_frame, "<timeframe>"),
            (self.spending, "<spending>"),
            (self.usage, "<usage>"),
            (self.value, "<value>"),
        ]
    }
}

fn transfer(token: Address, amount: u64) -> Call {
    Call::new(
        token,
        IERC20::transferCall { to: RECIPIENT, amount: U256::from(amount) }.abi_encode(),
    )
}

fn send(tenths: u64) -> Call {
    Call::new(RECIPIENT, Bytes::new()).with_value(U256::from(tenths) * U256::from(10u64.pow(17)))
}

/// What one op asks for.
#[derive(Clone, Debug)]
enum Step {
    Use(Bytes),
    Enable(SmartSessionMode, Bytes),
    /// The enable data of the previous `Enable` step again.
    ReplayEnable(Bytes),
    /// A USE op of session `n` sponsored by the genesis VerifyingPaymaster.
    Sponsored(usize, Bytes),
}

struct Scenario {
    name: &'static str,
    sessions: fn(&World, &Policies) -> Vec<Session>,
    steps: fn(&World) -> Vec<Step>,
}

fn sudo_action(p: &Policies, target: Address, selector: [u8; 4]) -> ActionData {
    action(target, selector, vec![policy(p.sudo, vec![])])
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "uni action rules, limit and value cap",
            sessions: |w, p| {
                let rules = [
                    rule(ParamCondition::Equal, 1, U256::from_be_slice(RECIPIENT.as_slice())),
                    rule(ParamCondition::LessThanOrEqual, 2, U256::from(100))
                        .limited(U256::from(150)),
                ];
                let init = uni_action(U256::from(5), rules.to_vec());
                vec![w.session(
                    1,
                    vec![action(
                        w.ops.d.test_erc20,
                        IERC20::transferCall::SELECTOR,
                        vec![policy(p.uni, init)],
                    )],
                )]
            },
            steps: |w| {
                let t = w.ops.d.test_erc20;
                let other = Call::new(
                    t,
                    IERC20::transferCall { to: Address::repeat_byte(5), amount: U256::from(1) }
                        .abi_encode(),
                );
                vec![
                    Step::Use(execute_calls(&[transfer(t, 100)])),
                    Step::Use(execute_calls(&[transfer(t, 60)])),
                    Step::Use(execute_calls(&[transfer(t, 30), transfer(t, 30)])),
                    Step::Use(execute_calls(&[transfer(t, 50)])),
                    Step::Use(execute_calls(&[other])),
                    Step::Use(execute_calls(&[transfer(t, 1).with_value(U256::from(6))])),
                    Step::Use(execute_calls(&[transfer(t, 0)])),
                ]
            },
        },
        Scenario {
            name: "erc20 spending limit",
            sessions: |w, p| {
                let limit = TokenLimit { token: w.ops.d.test_erc20, limit: U256::from(100) };
                let init = init(Policy::Erc20SpendingLimit(vec![limit]));
                vec![w.session(
                    1,
                    vec![action(
                        w.ops.d.test_erc20,
                        IERC20::transferCall::SELECTOR,
                        vec![policy(p.spending, init)],
                    )],
                )]
            },
            steps: |w| {
                let t = w.ops.d.test_erc20;
                vec![
                    Step::Use(execute_calls(&[transfer(t, 60)])),
                    Step::Use(execute_calls(&[transfer(t, 30), transfer(t, 30)])),
                    Step::Use(execute_calls(&[transfer(t, 40)])),
                    Step::Use(execute_calls(&[transfer(t, 1)])),
                    Step::Use(execute_calls(&[transfer(t, 0).with_value(U256::from(1))])),
                ]
            },
        },
        Scenario {
            name: "usage limit (action) and time frame (user op)",
            sessions: |w, p| {
                let now = w.devnet.timestamp();
                let mut s = w.session(
                    1,
                    vec![action(
                        w.ops.d.test_erc20,
                        IERC20::transferCall::SELECTOR,
                        vec![policy(p.usage, init(Policy::UsageLimit(2)))],
                    )],
                );
                s.userOpPolicies = vec![policy(p.time_frame, time_frame(now + 1000, now - 1000))];
                let mut expired = w.session(
                    2,
                    vec![sudo_action(p, w.ops.d.test_erc20, IERC20::transferCall::SELECTOR)],
                );
                expired.userOpPolicies =
                    vec![policy(p.time_frame, time_frame(now - 1, now - 1000))];
                vec![s, expired]
            },
            steps: |w| {
                let t = w.ops.d.test_erc20;
                vec![
                    Step::Use(execute_calls(&[transfer(t, 1), transfer(t, 1), transfer(t, 1)])),
                    Step::Use(execute_calls(&[transfer(t, 1)])),
                    Step::Use(execute_calls(&[transfer(t, 1)])),
                    Step::Use(execute_calls(&[transfer(t, 1)])),
                ]
            },
        },
        Scenario {
            name: "value limit (user op) and sends",
            sessions: |w, p| {
                let mut s = w.session(1, vec![sudo_action(p, RECIPIENT, [0xff; 4])]);
                s.userOpPolicies =
                    vec![policy(p.value, init(Policy::ValueLimit(U256::from(10u64.pow(18)))))];
                vec![s]
            },
            steps: |_| {
                vec![
                    Step::Use(execute_calls(&[send(6), send(6)])),
                    Step::Use(execute_calls(&[send(5), send(5)])),
                    Step::Use(execute_calls(&[send(1)])),
                    Step::Use(execute_calldata(
                        mode_code(CallType::DelegateCall, ExecType::Default),
                        encode_delegatecall(RECIPIENT, &[]),
                    )),
                ]
            },
        },
        Scenario {
            name: "core rules: self calls, flag target, module management, SmartSession calls",
            sessions: |w, p| {
                vec![w.session(
                    1,
                    vec![
                        sudo_action(p, w.ops.d.test_erc20, IERC20::transferCall::SELECTOR),
                        fallback_action(vec![policy(p.sudo, vec![])]),
                    ],
                )]
            },
            steps: |w| {
                let install = IERC7579Account::installModuleCall {
                    moduleTypeId: U256::from(1),
                    module: w
                        .ops
                        .d
                        .ecdsa_session_validator()
                        .expect("the devnet's ECDSA validator"),
                    initData: Bytes::new(),
                }
                .abi_encode();
                let self_exec =
                    execute_calldata(mode_code(CallType::Single, ExecType::Default), vec![]);
                let remove =
                    ISmartSession::removeSessionCall { permissionId: B256::repeat_byte(1) }
                        .abi_encode();
                vec![
                    Step::Use(execute_calls(&[Call::new(w.ops.account, self_exec)])),
                    Step::Use(execute_calls(&[Call::new(
                        Address::with_last_byte(1),
                        vec![0, 0, 0, 1],
                    )])),
                    Step::Use(execute_calls(&[Call::new(w.ops.smart_session, remove)])),
                    Step::Use(install.clone().into()),
                    Step::Use(execute_calls(&[Call::new(w.ops.account, install)])),
                    Step::Use(execute_calls(&[Call::new(w.ops.d.test_erc721, vec![1, 2])])),
                    Step::Use(execute_calldata(
                        mode_code(CallType::Batch, ExecType::Default),
                        mandate::abi::encode_batch(&[]),
                    )),
                    Step::Use(execute_calldata(
                        mode_code(CallType::Single, ExecType::Try),
                        mandate::abi::encode_single(&transfer(w.ops.d.test_erc20, 1)),
                    )),
                ]
            },
        },
        Scenario {
            name: "paymaster opt-in",
            sessions: |w, p| {
                let nft = w.ops.d.test_erc20;
                let plain = w.session(1, vec![sudo_action(p, nft, IERC20::transferCall::SELECTOR)]);
                let mut permitted =
                    w.session(2, vec![sudo_action(p, nft, IERC20::transferCall::SELECTOR)]);
                permitted.permitERC4337Paymaster = true;
                let mut with_policy = permitted.clone();
                with_policy.salt = B256::with_last_byte(3);
                with_policy.userOpPolicies = vec![policy(p.usage, init(Policy::UsageLimit(1)))];
                vec![plain, permitted, with_policy]
            },
            steps: |w| {
                let t = w.ops.d.test_erc20;
                vec![
                    Step::Sponsored(0, execute_calls(&[transfer(t, 1)])),
                    Step::Sponsored(1, execute_calls(&[transfer(t, 1)])),
                    Step::Sponsored(2, execute_calls(&[transfer(t, 1)])),
                    Step::Sponsored(2, execute_calls(&[transfer(t, 1)])),
                ]
            },
        },
        Scenario {
            name: "enable, unsafe enable, replay",
            sessions: |_, _| vec![],
            steps: |w| {
                let t = w.ops.d.test_erc20;
                vec![
                    Step::Enable(SmartSessionMode::Enable, execute_calls(&[transfer(t, 1)])),
                    Step::ReplayEnable(execute_calls(&[transfer(t, 1)])),
                    Step::Use(execute_calls(&[transfer(t, 1)])),
                    Step::Enable(SmartSessionMode::UnsafeEnable, execute_calls(&[transfer(t, 1)])),
                ]
            },
        },
    ]
}

/// The session the ENABLE steps enable (index = salt).
fn enable_session(w: &World, p: &Policies, salt: u8) -> Session {
    let mut s =
        w.session(salt, vec![sudo_action(p, w.ops.d.test_erc20, IERC20::transferCall::SELECTOR)]);
    s.userOpPolicies = vec![policy(p.usage, init(Policy::UsageLimit(5)))];
    s
}

/// Replaces every known address and id in `text` with its label.
fn normalise(text: &str, labels: &[(String, String)]) -> String {
    let mut out = text.to_lowercase();
    for (from, to) in labels {
        out = out.replace(from, to);
    }
    out
}

/// Runs one scenario for an account using `smart_session` and `policies`; returns one verdict
/// string per step.
fn run(
    devnet: &Devnet,
    smart_session: Address,
    policies: Policies,
    key: &PrivateKeySigner,
    scenario: &Scenario,
    salt: u8,
) -> Vec<String> {
    let mut w = World::on(devnet.clone(), smart_session, B256::with_last_byte(salt));
    w.ops.key = key.clone();
    let call = IERC20::mintCall { to: w.ops.account, amount: U256::from(1_000) };
    w.devnet.transact_sol(DEPLOYER, w.ops.d.test_erc20, &call).unwrap();
    let sessions = (scenario.sessions)(&w, &policies);
    if !sessions.is_empty() {
        w.enable_sessions(sessions.clone());
    }
    let mut labels: Vec<(String, String)> = vec![
        (format!("{:x}", w.ops.account).trim_start_matches("0x").to_string(), "<account>".into()),
        (
            format!("{smart_session:x}").trim_start_matches("0x").to_string(),
            "<smartsession>".into(),
        ),
    ];
    for (a, l) in policies.labels() {
        labels.push((format!("{a:x}").trim_start_matches("0x").to_string(), l.into()));
    }
    let mut ids: Vec<PermissionId> = sessions.iter().map(PermissionId::of).collect();
    let enable_sessions: Vec<Session> =
        (10..12).map(|i| enable_session(&w, &policies, i)).collect();
    ids.extend(enable_sessions.iter().map(PermissionId::of));
    for id in &ids {
        // Config ids depend on the account: label them (also their 28-byte prefixes, which
        // appear in PolicyCheckReverted).
        let mut configs = vec![("user-op", id.user_op_config_id(w.ops.account).0)];
        for s in sessions.iter().chain(&enable_sessions) {
            for a in &s.actions {
                let aid = ActionId::new(a.actionTarget, a.actionTargetSelector);
                configs.push(("action", id.action_config_id(w.ops.account, aid).0));
            }
        }
        for (kind, c) in configs {
            let hex = format!("{c:x}").trim_start_matches("0x").to_string();
            labels.push((hex.clone(), format!("<{kind}-config>")));
            labels.push((hex[..56].to_string(), format!("<{kind}-config[..28]>")));
        }
    }

    let mut verdicts = Vec::new();
    let mut last_enable = None;
    let mut enable_index = 0usize;
    for step in (scenario.steps)(&w) {
        let id = ids.first().copied().unwrap_or(PermissionId(B256::ZERO));
        let (op, hash_labels) = match step {
            Step::Use(data) => {
                let use_id =
                    if sessions.is_empty() { PermissionId::of(&enable_sessions[0]) } else { id };
                (w.use_op_data(use_id, data), vec![])
            }
            Step::Enable(mode, data) => {
                let s = &enable_sessions[enable_index];
                enable_index += 1;
                let enable = w.enable_data(s, mode);
                let op = w.enable_op(mode, &enable, &decode_calls(&data));
                last_enable = Some(enable);
                (op, vec![])
            }
            Step::Sponsored(n, data) => (w.sponsored_use_op(ids[n], data), vec![]),
            Step::ReplayEnable(data) => {
                let enable = last_enable.clone().unwrap();
                let op = w.enable_op(SmartSessionMode::Enable, &enable, &decode_calls(&data));
                let s = &enable.sessionToEnable;
                let nonce = w.enable_nonce(PermissionId::of(s));
                let computed = w.session_digest(s, SmartSessionMode::Enable, nonce);
                let provided = enable.hashesAndChainIds[0].sessionDigest;
                (op, vec![(provided, "<provided-digest>"), (computed, "<computed-digest>")])
            }
        };
        let mut step_labels = labels.clone();
        for (h, l) in hash_labels {
            step_labels.push((format!("{h:x}").trim_start_matches("0x").to_string(), l.into()));
        }
        let outcome = w.submit(op);
        verdicts.push(normalise(&verdict(&outcome), &step_labels));
    }
    verdicts
}

/// The calls of `execute` calldata built by `execute_calls` (steps store calldata).
fn decode_calls(data: &Bytes) -> Vec<Call> {
    let call = IERC7579Account::executeCall::abi_decode(data).unwrap();
    let e = &call.executionCalldata;
    vec![Call {
        to: Address::from_slice(&e[..20]),
        value: U256::from_be_slice(&e[20..52]),
        data: Bytes::copy_from_slice(&e[52..]),
    }]
}

fn verdict(outcome: &BundleOutcome) -> String {
    match outcome {
        BundleOutcome::Included { receipts, .. } => {
            format!("included success={}", receipts[0].success)
        }
        BundleOutcome::Rejected(r) => match &r.inner {
            Some(inner) => format!("{} {inner}", r.code.clone().unwrap_or_default()),
            None => r.reason.clone(),
        },
        BundleOutcome::Reverted(revert) => format!("reverted {revert}"),
    }
}

#[test]
fn verdicts_match_upstream_in_every_mix() {
    let devnet = devnet_with_upstream();
    let ours_ss = devnet.deployments().chain.smart_session;
    let up_ss = upstream("SmartSession");
    let combos = [
        ("ours/ours", ours_ss, Policies::ours(&devnet)),
        ("upstream/upstream", up_ss, Policies::upstream()),
        ("upstream SmartSession / our policies", up_ss, Policies::ours(&devnet)),
        ("our SmartSession / upstream policies", ours_ss, Policies::upstream()),
    ];
    let key = PrivateKeySigner::random();
    let mut differences = Vec::new();
    for (i, scenario) in scenarios().iter().enumerate() {
        let results: Vec<(&str, Vec<String>)> = combos
            .iter()
            .enumerate()
            .map(|(j, (name, ss, p))| {
                let salt = u8::try_from(i * 4 + j + 1).unwrap();
                (*name, run(&devnet, *ss, *p, &key, scenario, salt))
            })
            .collect();
        let (_, reference) = &results[1];
        for (name, verdicts) in &results {
            assert_eq!(verdicts.len(), reference.len());
            for (k, (a, b)) in verdicts.iter().zip(reference).enumerate() {
                if a != b {
                    differences.push(format!(
                        "{}, step {k}, {name}: {a}\n    upstream: {b}",
                        scenario.name
                    ));
                }
            }
        }
        println!("{}:", scenario.name);
        for v in &results[0].1 {
            println!("    {v}");
        }
    }
    assert!(differences.is_empty(), "differences from upstream:\n{}", differences.join("\n"));
}

/// `validateUserOp` called directly (from an EOA acting as the account), to compare the exact
/// validation data, including intersected time windows.
#[test]
fn validation_data_matches_upstream() {
    let mut devnet = devnet_with_upstream();
    let d = *devnet.deployments();
    let key = PrivateKeySigner::random();
    let now = devnet.timestamp();
    let mut results: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (name, ss, p) in [
        ("ours", d.chain.smart_session, Policies::ours(&devnet)),
        ("upstream", upstream("SmartSession"), Policies::upstream()),
    ] {
        let session = Session {
            sessionValidator: d.ecdsa_session_validator().expect("the devnet's ECDSA validator"),
            sessionValidatorInitData: Bytes::copy_from_slice(key.address().as_slice()),
            salt: B256::with_last_byte(1),
            userOpPolicies: vec![
                policy(p.time_frame, time_frame(now + 500, now - 20)),
                policy(p.usage, init(Policy::UsageLimit(10))),
            ],
            actions: vec![
                action(
                    d.test_erc20,
                    IERC20::transferCall::SELECTOR,
                    vec![
                        policy(p.time_frame, time_frame(now + 300, now - 50)),
                        policy(p.sudo, vec![]),
                    ],
                ),
                action(RECIPIENT, [0xff; 4], vec![policy(p.sudo, vec![])]),
            ],
            ..Default::default()
        };
        let data = mandate::abi::calldata::enable_sessions(std::slice::from_ref(&session));
        devnet.transact(BUNDLER, ss, U256::ZERO, data).unwrap();
        let id = PermissionId::of(&session);
        let cases: Vec<Bytes> = vec![
            execute_calls(&[transfer(d.test_erc20, 1)]),
            execute_calls(&[send(1)]),
            execute_calls(&[send(1), transfer(d.test_erc20, 1)]),
            execute_calls(&[Call::new(d.test_erc721, vec![])]),
        ];
        for call_data in cases {
            let op =
                PackedUserOperation { sender: BUNDLER, callData: call_data, ..Default::default() };
            let hash = B256::repeat_byte(0x42);
            let sig = alloy_signer::SignerSync::sign_message_sync(&key, hash.as_slice()).unwrap();
            let mut signed = op.clone();
            signed.signature = encode_use(id, &sig.as_bytes());
            let call = ISmartSession::validateUserOpCall { userOp: signed, userOpHash: hash }
                .abi_encode()
                .into();
            let verdict = match devnet.call(ss, call) {
                Ok(out) => format!("validationData {:#x}", U256::from_be_slice(&out[..32])),
                Err(SimError::Reverted { revert, .. }) => {
                    format!("revert {}", revert.name.unwrap_or_default())
                }
                Err(e) => panic!("{e}"),
            };
            results.entry(name).or_default().push(verdict);
        }
    }
    println!("{results:#?}");
    assert_eq!(results["ours"], results["upstream"]);
    // The intersection: validAfter = max(now-20, now-50), validUntil = min(now+500, now+300).
    let expected = (U256::from(now - 20) << 208) | (U256::from(now + 300) << 160);
    assert_eq!(results["ours"][0], format!("validationData {expected:#x}"));
}

fn gas_of(outcome: &BundleOutcome) -> (u64, u64) {
    match outcome {
        BundleOutcome::Included { tx_gas_used, receipts } => {
            assert!(receipts[0].success, "{:?}", receipts[0].revert_reason);
            (receipts[0].actual_gas_used.saturating_to(), *tx_gas_used)
        }
        other => panic!("not included: {other:?}"),
    }
}

/// Runtime sizes, and gas of USE ops (single and batch of 4) with 1, 4 and 16 UniAction rules
/// and of an ENABLE op, ours and upstream's in the same run.
#[test]
fn gas_report() {
    let devnet = devnet_with_upstream();
    println!("runtime bytes (ours / upstream):");
    for (name, at, code) in mandate_testing::upstream::runtimes().iter() {
        let Ok(ours) = mandate::contracts::artifacts().get(name) else {
            println!("  {name:<26}      - / {:>6}  (upstream at {at})", code.len());
            continue;
        };
        let ours = ours.deployed_bytecode.len();
        println!("  {name:<26} {ours:>6} / {:>6}  (upstream at {at})", code.len());
        assert!(
            ours <= code.len() || name != "SmartSession",
            "SmartSession is larger than upstream's"
        );
    }
    let key = PrivateKeySigner::random();
    let ours_ss = devnet.deployments().chain.smart_session;
    let mut salt = 100u8;
    println!("gas: EntryPoint actualGasUsed (handleOps tx gas), ours vs upstream:");
    for rules in [1usize, 4, 16] {
        for batch in [1usize, 4] {
            let mut row = Vec::new();
            for (ss, p) in [
                (ours_ss, Policies::ours(&devnet)),
                (upstream("SmartSession"), Policies::upstream()),
            ] {
                salt += 1;
                let mut w = World::on(devnet.clone(), ss, B256::with_last_byte(salt));
                w.ops.key = key.clone();
                let call = IERC20::mintCall { to: w.ops.account, amount: U256::from(1_000_000) };
                w.devnet.transact_sol(DEPLOYER, w.ops.d.test_erc20, &call).unwrap();
                let rule = rule(ParamCondition::LessThanOrEqual, 2, U256::from(1_000));
                let init = uni_action(U256::ZERO, vec![rule; rules]);
                let s = w.session(
                    1,
                    vec![action(
                        w.ops.d.test_erc20,
                        IERC20::transferCall::SELECTOR,
                        vec![policy(p.uni, init)],
                    )],
                );
                let id = w.enable_sessions(vec![s])[0];
                // Warm-up op so that both measure a steady state (nonce and balances non-zero).
                let calls: Vec<Call> =
                    (0..batch).map(|_| transfer(w.ops.d.test_erc20, 1)).collect();
                let op = w.use_op(id, &calls);
                gas_of(&w.submit(op));
                let op = w.use_op(id, &calls);
                row.push(gas_of(&w.submit(op)));
            }
            println!(
                "  USE, {rules:>2} UniAction rules, {} call(s): ours {} ({}) / upstream {} ({})",
                batch, row[0].0, row[0].1, row[1].0, row[1].1
            );
        }
    }
    let mut row = Vec::new();
    for (ss, p) in
        [(ours_ss, Policies::ours(&devnet)), (upstream("SmartSession"), Policies::upstream())]
    {
        salt += 1;
        let mut w = World::on(devnet.clone(), ss, B256::with_last_byte(salt));
        w.ops.key = key.clone();
        let call = IERC20::mintCall { to: w.ops.account, amount: U256::from(1_000) };
        w.devnet.transact_sol(DEPLOYER, w.ops.d.test_erc20, &call).unwrap();
        let s = enable_session(&w, &p, 1);
        let enable = w.enable_data(&s, SmartSessionMode::Enable);
        let op = w.enable_op(SmartSessionMode::Enable, &enable, &[transfer(w.ops.d.test_erc20, 1)]);
        row.push(gas_of(&w.submit(op)));
    }
    println!(
        "  ENABLE (usage-limit user-op policy + sudo action) + 1 call: ours {} ({}) / upstream {} ({})",
        row[0].0, row[0].1, row[1].0, row[1].1
    );
}

mod erc1271 {
    use alloy_primitives::{Address, B256, Bytes, FixedBytes};
    use alloy_signer::SignerSync;
    use alloy_signer_local::PrivateKeySigner;
    use alloy_sol_types::{Eip712Domain, SolStruct, SolValue, eip712_domain};
    use mandate::abi::{ERC7739Context, ERC7739Data, PermissionId, sol::IERC7579Account};

    use super::*;

    use mandate_testing::erc7739::{IERC5267, Mail, TypedDataSign};

    fn app() -> Eip712Domain {
        eip712_domain! { name: "Mail App", version: "1", chain_id: 31337, verifying_contract: Address::repeat_byte(0xaa), }
    }

    fn sig(id: PermissionId, key: &PrivateKeySigner, hash: B256, description: &str) -> Vec<u8> {
        let s = key.sign_message_sync(hash.as_slice()).unwrap();
        let mail = Mail { contents: "hello".into() };
        [
            id.0.as_slice(),
            &s.as_bytes(),
            app().separator().as_slice(),
            mail.eip712_hash_struct().as_slice(),
            description.as_bytes(),
            &u16::try_from(description.len()).unwrap().to_be_bytes(),
        ]
        .concat()
    }

    /// The same ERC-1271 requests answered by upstream's SmartSession and ours.
    #[test]
    fn erc1271_answers_match_upstream() {
        let devnet = devnet_with_upstream();
        let key = PrivateKeySigner::random();
        let mut answers = Vec::new();
        for (i, (ss, p)) in [
            (devnet.deployments().chain.smart_session, Policies::ours(&devnet)),
            (upstream("SmartSession"), Policies::upstream()),
        ]
        .into_iter()
        .enumerate()
        {
            let mut w =
                World::on(devnet.clone(), ss, B256::with_last_byte(200 + u8::try_from(i).unwrap()));
            w.ops.key = key.clone();
            let now = w.devnet.timestamp();
            let mut s = w.session(1, vec![]);
            s.erc7739Policies = ERC7739Data {
                allowedERC7739Content: vec![ERC7739Context {
                    appDomainSeparator: app().separator(),
                    contentNames: vec![
                        "Mail(string contents)".into(),
                        "mail(string contents)".into(),
                    ],
                }],
                erc1271Policies: vec![
                    policy(p.sudo, vec![]),
                    policy(p.time_frame, time_frame(now + 100, now - 100)),
                ],
            };
            let id = w.enable_sessions(vec![s])[0];
            let domain = w.devnet.call_sol(w.ops.account, &IERC5267::eip712DomainCall {}).unwrap();
            let hash = TypedDataSign {
                contents: Mail { contents: "hello".into() },
                name: domain.name,
                version: domain.version,
                chainId: domain.chainId,
                verifyingContract: domain.verifyingContract,
                salt: domain.salt,
            }
            .eip712_signing_hash(&app());
            let valid = sig(id, &key, hash, "Mail(string contents)");
            let wrapped = [
                (Address::repeat_byte(1), Bytes::new(), Bytes::from(valid.clone()))
                    .abi_encode_params(),
                [0x64, 0x92].repeat(16),
            ]
            .concat();
            let cases: Vec<(&str, B256, Vec<u8>)> = vec![
                ("valid", hash, valid.clone()),
                ("valid, other hash argument", B256::repeat_byte(3), valid.clone()),
                ("erc-6492 wrapped", hash, wrapped),
                (
                    "explicit mode, not allowed",
                    hash,
                    sig(id, &key, hash, "Mail(string contents)Mail"),
                ),
                ("lower-case name", hash, sig(id, &key, hash, "mail(string contents)")),
                (
                    "other key",
                    hash,
                    sig(id, &PrivateKeySigner::random(), hash, "Mail(string contents)"),
                ),
                (
                    "unknown permission",
                    hash,
                    sig(PermissionId(B256::repeat_byte(9)), &key, hash, "Mail(string contents)"),
                ),
                ("7739 probe", B256::from_slice(&[0x77, 0x39].repeat(16)), vec![]),
            ];
            let mut run = |label: &str, at: u64, w: &mut World| {
                w.devnet.set_timestamp(at);
                for (name, h, s) in &cases {
                    let signature: Bytes = [ss.as_slice(), s].concat().into();
                    let call = IERC7579Account::isValidSignatureCall { hash: *h, signature };
                    let answer: Result<FixedBytes<4>, _> = w.devnet.call_sol(w.ops.account, &call);
                    let answer = match answer {
                        Ok(magic) => format!("{magic}"),
                        Err(SimError::Reverted { revert, .. }) => format!("revert {revert}"),
                        Err(e) => panic!("{e}"),
                    };
                    answers.push((i, format!("{label}, {name}: {answer}")));
                }
            };
            run("in the window", now, &mut w);
            run("after the window", now + 100, &mut w);
        }
        let ours: Vec<_> =
            answers.iter().filter(|(i, _)| *i == 0).map(|(_, a)| a.clone()).collect();
        let theirs: Vec<_> =
            answers.iter().filter(|(i, _)| *i == 1).map(|(_, a)| a.clone()).collect();
        println!("{ours:#?}");
        assert_eq!(ours, theirs);
        assert!(ours[0].ends_with("0x1626ba7e"), "{}", ours[0]);
    }
}
