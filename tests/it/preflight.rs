//! Pre-flight checks in revm: verdicts with gas per phase, decoded logs and state changes,
//! call paths to reverts, ERC-7562 warnings, and gas estimation by simulation.

#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, Bytes, U256, address};
use alloy_sol_types::SolCall;
use mandate::{
    abi::{
        PackedUserOperation, SessionValidatorKind, UserOperation, encode_use, execute_calls,
        sol::{IERC20, IERC721},
        validator_nonce,
    },
    sim::{ExecutionOutcome, Phase, Preflight, RuleViolation, SimError},
};
use mandate_testing::{op::Gas, world::World};

fn world() -> World {
    let mut world = World::counterfactual(Gas::SESSION);
    world.devnet.set_balance(world.ops.account, U256::from(10u128.pow(18)));
    let op = world.owner_op(world.ops.create_account_op(vec![world.ops.session.clone()]));
    assert!(world.devnet.handle_op(op).unwrap().receipt().is_some());
    world.fund_tokens(U256::from(1_000u64));
    world
}

fn accepted(verdict: &Preflight) -> &mandate::sim::Accepted {
    verdict.accepted().unwrap_or_else(|| panic!("rejected: {verdict}"))
}

#[test]
fn accepted_op_reports_phases_logs_and_state_changes_and_keeps_nothing() {
    let mut world = world();
    let op = world.use_op(world.ops.permission_id, &[world.ops.mint_call()]);
    // The plain check gives the verdict without the logs and state changes.
    let plain = world.devnet.check(&op).unwrap();
    let plain = accepted(&plain);
    assert!(plain.logs.is_empty() && plain.state_changes.is_empty() && plain.round_trips == 0);
    let verdict = world.devnet.check_detailed(&op).unwrap();
    let a = accepted(&verdict);
    assert_eq!(
        (a.gas, a.user_op_hash, &a.execution),
        (plain.gas, plain.user_op_hash, &plain.execution)
    );
    assert_eq!(a.execution, ExecutionOutcome::Succeeded);
    assert_eq!(a.user_op_hash, world.devnet.user_op_hash(&op).unwrap());
    assert!(a.gas.account_validation > 0 && a.gas.execution > 0);
    assert!(a.gas.deployment.is_none() && a.gas.paymaster_validation.is_none());
    assert!(a.gas.handle_ops > a.gas.account_validation + a.gas.execution);
    // No time-bounded policy: SmartSession's intersection gives validUntil = max, validAfter 0.
    assert_eq!(a.validation.valid_until, (1u64 << 48) - 1);
    assert_eq!(a.validation.valid_after, 0);
    assert!(!a.validation.sig_failed());
    let nft = world.devnet.deployments().test_erc721;
    let transfer = a.logs.iter().find(|l| l.address == nft).expect("the mint's Transfer");
    assert_eq!(transfer.name.as_deref(), Some("Transfer"));
    assert_eq!(transfer.params[1].1, world.ops.account.to_checksum(None));
    assert!(a.logs.iter().any(|l| l.name.as_deref() == Some("UserOperationEvent")));
    let nft_change = a.state_changes.iter().find(|c| c.address == nft).expect("the NFT's storage");
    assert!(nft_change.storage_writes >= 2);
    // Our modules keep to the storage bundlers allow.
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    // Nothing was kept: the same op still goes through.
    assert_eq!(world.nft_balance(world.ops.account), U256::ZERO);
    assert!(world.devnet.handle_op(op).unwrap().receipt().is_some());
}

#[test]
fn rejected_op_gives_the_error_and_the_call_path() {
    let mut world = world();
    let op = world.use_op(
        world.ops.permission_id,
        &[world.ops.approve_call(Address::repeat_byte(1), U256::from(1))],
    );
    let verdict = world.devnet.check(&op).unwrap();
    let r = verdict.rejected().unwrap_or_else(|| panic!("accepted: {verdict}"));
    assert_eq!(r.rejection.code.as_deref(), Some("AA23"));
    assert!(r.rejection.inner.as_ref().unwrap().is("NoPoliciesSet"));
    let labels: Vec<String> = r.path.iter().map(ToString::to_string).collect();
    assert_eq!(labels.first().map(String::as_str), Some("EntryPoint.handleOps"));
    assert_eq!(
        labels.last().map(String::as_str),
        Some("SmartSession.validateUserOp"),
        "{labels:?}"
    );
    assert!(verdict.to_string().contains("NoPoliciesSet"), "{verdict}");
}

#[test]
fn execution_revert_after_validation_is_reported_as_such() {
    let mut world = world();
    // The session allows transfer; the account holds 1,000 tokens, not 5,000.
    let op = world.use_op(
        world.ops.permission_id,
        &[world.ops.transfer_call(Address::repeat_byte(2), U256::from(5_000))],
    );
    let verdict = world.devnet.check(&op).unwrap();
    let a = accepted(&verdict);
    let ExecutionOutcome::Reverted { revert, path } = &a.execution else {
        panic!("execution succeeded")
    };
    assert!(revert.as_ref().unwrap().is("ERC20InsufficientBalance"), "{revert:?}");
    assert_eq!(path.last().unwrap().to_string(), "TestERC20.transfer");
    assert!(!verdict.is_success());
    assert!(verdict.to_string().contains("execution reverts"));
}

/// Assembles a tiny account whose `validateUserOp` runs `prologue` and returns 0.
fn raw_account(prologue: &[u8]) -> Bytes {
    let mut code = prologue.to_vec();
    // PUSH1 0 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
    code.extend_from_slice(&[0x60, 0x00, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3]);
    code.into()
}

fn raw_op(sender: Address) -> PackedUserOperation {
    UserOperation {
        sender,
        nonce: U256::ZERO,
        call_gas_limit: 100_000,
        verification_gas_limit: 200_000,
        pre_verification_gas: U256::from(50_000),
        // No fees: nothing to prefund, so the raw account need not pay.
        ..Default::default()
    }
    .pack()
}

#[test]
fn banned_opcodes_and_foreign_storage_in_validation_are_warnings() {
    let mut world = world();
    let token = world.devnet.deployments().test_erc20;
    let sender = address!("00000000000000000000000000000000000a11ce");
    // TIMESTAMP POP, then STATICCALL token.balanceOf(0xdead..) (a slot keyed by another address).
    let mut prologue = vec![0x42, 0x50];
    prologue.extend_from_slice(&[0x63]);
    prologue.extend_from_slice(&IERC20::balanceOfCall::SELECTOR);
    prologue.extend_from_slice(&[0x60, 0xe0, 0x1b, 0x60, 0x00, 0x52]); // PUSH1 224 SHL PUSH1 0 MSTORE
    prologue.push(0x73);
    prologue.extend_from_slice(Address::repeat_byte(0xde).as_slice());
    prologue.extend_from_slice(&[0x60, 0x04, 0x52]); // PUSH1 4 MSTORE (address word at 4..36)
    // STATICCALL(gas, token, 0, 36, 0, 0): out 0 0, in 0 36
    prologue.extend_from_slice(&[0x60, 0x00, 0x60, 0x00, 0x60, 0x24, 0x60, 0x00]);
    prologue.push(0x73);
    prologue.extend_from_slice(token.as_slice());
    prologue.extend_from_slice(&[0x5a, 0xfa, 0x50]); // GAS STATICCALL POP
    world.devnet.set_code(sender, raw_account(&prologue));
    let verdict = world.devnet.check(&raw_op(sender)).unwrap();
    let a = accepted(&verdict);
    assert!(
        a.warnings.contains(&RuleViolation::BannedOpcode {
            phase: Phase::AccountValidation,
            address: sender,
            opcode: "TIMESTAMP"
        }),
        "{:?} {:?}",
        a.warnings,
        a.gas
    );
    assert!(
        a.warnings.iter().any(|w| matches!(w, RuleViolation::UnassociatedStorage { address, write: false, .. } if *address == token)),
        "{:?}",
        a.warnings
    );
    // GAS right before STATICCALL is allowed.
    assert!(
        !a.warnings.iter().any(|w| matches!(w, RuleViolation::BannedOpcode { opcode: "GAS", .. }))
    );
}

fn unsigned_mint(world: &mut World) -> UserOperation {
    let smart_session = world.devnet.deployments().chain.smart_session;
    let nonce = world
        .devnet
        .entry_point_nonce(world.ops.account, mandate::abi::validator_nonce_key(smart_session, 0))
        .unwrap();
    let mut op = world.ops.base_op(nonce, execute_calls(&[world.ops.mint_call()]));
    op.signature =
        encode_use(world.ops.permission_id, &SessionValidatorKind::Ecdsa.dummy_signature());
    op
}

#[test]
fn gas_estimates_are_enough_and_tight() {
    let mut world = world();
    let op = unsigned_mint(&mut world);
    let estimate = world.devnet.estimate_gas(&op).unwrap();
    assert!(
        estimate.verification_gas_limit > 20_000 && estimate.verification_gas_limit < 500_000,
        "{estimate:?}"
    );
    assert!(estimate.call_gas_limit > 20_000 && estimate.call_gas_limit < 500_000, "{estimate:?}");
    assert!(estimate.pre_verification_gas > U256::from(21_000));

    // An op with exactly the estimated limits, signed for real, goes through ...
    let mut sized = op;
    sized.verification_gas_limit = estimate.verification_gas_limit.to();
    sized.call_gas_limit = estimate.call_gas_limit.to();
    sized.pre_verification_gas = estimate.pre_verification_gas;
    world.ops.sign_use(world.ops.permission_id, &world.ops.key, &mut sized).unwrap();
    let report = world.devnet.check_limits(&sized).unwrap();
    assert!(report.enough(), "{report:?}");
    assert!(world.devnet.check(&sized.pack()).unwrap().is_success());

    // ... and with a fifth less verification gas it does not.
    let mut short = sized.clone();
    short.verification_gas_limit = estimate.verification_gas_limit.to::<u128>() * 4 / 5;
    world.ops.sign_use(world.ops.permission_id, &world.ops.key, &mut short).unwrap();
    assert!(!world.devnet.check_limits(&short).unwrap().enough());
    assert!(world.devnet.check(&short.pack()).unwrap().rejected().is_some());

    // Too little call gas: included, but the execution runs out of gas.
    let mut starved = sized;
    starved.call_gas_limit = estimate.call_gas_limit.to::<u128>() / 3;
    world.ops.sign_use(world.ops.permission_id, &world.ops.key, &mut starved).unwrap();
    let verdict = world.devnet.check(&starved.pack()).unwrap();
    assert!(matches!(accepted(&verdict).execution, ExecutionOutcome::Reverted { .. }), "{verdict}");
}

#[test]
fn estimating_an_op_that_cannot_validate_says_why() {
    let mut world = world();
    let mut op = unsigned_mint(&mut world);
    op.call_data = execute_calls(&[world.ops.approve_call(Address::repeat_byte(1), U256::from(1))]);
    match world.devnet.estimate_gas(&op) {
        Err(SimError::ValidationFails(r)) => {
            assert!(r.rejection.inner.as_ref().unwrap().is("NoPoliciesSet"))
        }
        other => panic!("{other:?}"),
    }
    let mut op = unsigned_mint(&mut world);
    op.call_data =
        execute_calls(&[world.ops.transfer_call(Address::repeat_byte(2), U256::from(5_000))]);
    match world.devnet.estimate_gas(&op) {
        Err(SimError::ExecutionReverts(revert)) => assert!(revert.is("ERC20InsufficientBalance")),
        other => panic!("{other:?}"),
    }
    let _ = validator_nonce(Address::ZERO, 0, 0);
    let _ = IERC721::safeMintCall::SELECTOR;
}

#[test]
fn snapshots_revert_the_chain_and_artifacts_deploy_from_files() {
    let mut world = world();
    let snapshot = world.devnet.snapshot();
    let clock = world.devnet.timestamp();
    let op = world.use_op(world.ops.permission_id, &[world.ops.mint_call()]);
    assert!(world.devnet.handle_op(op).unwrap().receipt().is_some());
    world.devnet.set_timestamp(clock + 3600);
    assert_eq!(world.nft_balance(world.ops.account), U256::from(1));
    world.devnet.revert_to(snapshot);
    assert_eq!(world.nft_balance(world.ops.account), U256::ZERO);
    assert_eq!(world.devnet.timestamp(), clock);

    // A forge-style artifact file: the test ERC-20's creation code under bytecode.object.
    let creation = &mandate::contracts::artifacts().get("TestERC20").unwrap().bytecode;
    let dir = std::env::temp_dir().join(format!("mandate-artifact-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("TestERC20.json");
    let json = serde_json::json!({ "bytecode": { "object": creation.to_string() } });
    std::fs::write(&path, json.to_string()).unwrap();
    let token = world.devnet.deploy_artifact_file(&path, &[]).unwrap();
    assert!(world.devnet.has_code(token));
    let balance =
        world.devnet.call_sol(token, &IERC20::balanceOfCall { owner: world.ops.account }).unwrap();
    assert_eq!(balance, U256::ZERO);
    std::fs::write(&path, "{\"bytecode\": 5}").unwrap();
    assert!(matches!(world.devnet.deploy_artifact_file(&path, &[]), Err(SimError::Deploy { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `check` inspects opcodes only in the validation phases; revm's inspection of every opcode
/// of every frame must give the same verdicts.
#[test]
fn verdicts_are_those_of_inspecting_every_opcode() {
    let mut world = world();
    let token = world.devnet.deployments().test_erc20;
    let mut ops = vec![
        world.use_op(world.ops.permission_id, &[world.ops.mint_call()]),
        world.use_op(
            world.ops.permission_id,
            &[
                world.ops.mint_call(),
                world.ops.transfer_call(Address::repeat_byte(3), U256::from(1)),
            ],
        ),
        world.use_op(
            world.ops.permission_id,
            &[world.ops.approve_call(Address::repeat_byte(1), U256::from(1))],
        ),
        world.use_op(
            world.ops.permission_id,
            &[world.ops.transfer_call(Address::repeat_byte(2), U256::from(5_000))],
        ),
    ];
    // A fresh account deployed by the op: the deployment phase.
    let mut fresh = World::counterfactual(Gas::SESSION);
    fresh.devnet.set_balance(fresh.ops.account, U256::from(10u128.pow(18)));
    let deploy = fresh.owner_op(fresh.ops.create_account_op(vec![fresh.ops.session.clone()]));
    // Raw accounts breaking rules: TIMESTAMP, GAS not before a call, a foreign slot read.
    let sender = address!("00000000000000000000000000000000000a11ce");
    let mut prologue = vec![0x42, 0x50, 0x5a, 0x50];
    prologue.extend_from_slice(&[0x63]);
    prologue.extend_from_slice(&IERC20::balanceOfCall::SELECTOR);
    prologue.extend_from_slice(&[0x60, 0xe0, 0x1b, 0x60, 0x00, 0x52]);
    prologue.push(0x73);
    prologue.extend_from_slice(Address::repeat_byte(0xde).as_slice());
    prologue.extend_from_slice(&[0x60, 0x04, 0x52]);
    prologue.extend_from_slice(&[0x60, 0x00, 0x60, 0x00, 0x60, 0x24, 0x60, 0x00]);
    prologue.push(0x73);
    prologue.extend_from_slice(token.as_slice());
    prologue.extend_from_slice(&[0x5a, 0xfa, 0x50]);
    world.devnet.set_code(sender, raw_account(&prologue));
    ops.push(raw_op(sender));

    let sorted = |mut verdict: Preflight| {
        // State changes come from a hash map: compare them in address order.
        if let Preflight::Accepted(a) = &mut verdict {
            a.state_changes.sort_by_key(|c| c.address);
        }
        verdict
    };
    let compare = |devnet: &mut mandate::sim::Devnet, op: &PackedUserOperation| {
        let gated = sorted(devnet.check_detailed(op).unwrap());
        let every = sorted(devnet.check_inspecting_every_opcode(op).unwrap());
        assert_eq!(gated, every);
        gated
    };
    let verdicts: Vec<Preflight> = ops.iter().map(|op| compare(&mut world.devnet, op)).collect();
    assert!(verdicts[0].is_success() && verdicts[1].is_success());
    // The session's storage is associated with the sender through the hashes of its address:
    // a USE op breaks no rule.
    for verdict in &verdicts[..2] {
        assert!(accepted(verdict).warnings.is_empty(), "{:?}", accepted(verdict).warnings);
    }
    assert!(verdicts[2].rejected().is_some());
    assert!(verdicts[3].accepted().is_some() && !verdicts[3].is_success());
    assert!(accepted(&verdicts[4]).warnings.len() >= 3, "{:?}", accepted(&verdicts[4]).warnings);
    let deployed = compare(&mut fresh.devnet, &deploy);
    assert!(accepted(&deployed).gas.deployment.is_some());
}
