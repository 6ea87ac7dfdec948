//! `Devnet::check` per op, warm (validation and execution of a USE op whose transfer action has
//! one UniActionPolicy rule), and its throughput on one and two threads; then, against real
//! anvil and Alto started on 127.0.0.1 (the end-to-end harness), the same check on a fork with
//! a warm cache, Alto's `eth_estimateUserOperationGas` and anvil's `eth_call` of `handleOps`
//! for a mint op.

// One crate of several sharing the package's dev-dependencies: not all of them are used here.
#![allow(unused_crate_dependencies)]

use std::{hint::black_box, time::Instant};

use alloy_primitives::{Address, B256, U256};
use alloy_rpc_client::RpcClient;
use alloy_sol_types::SolCall;
use criterion::{Criterion, criterion_group, criterion_main};
use mandate::{
    abi::{
        ActionConfig, ENTRY_POINT_V07, ParamCondition, ParamRule, Policy, PolicyData,
        execute_calls, sol::IEntryPoint,
    },
    sim::{BUNDLER, Devnet},
};
use mandate_testing::{fork, node::Harness, op::Gas, world::World};
use serde_json::{Value, json};

const RECIPIENT: Address = Address::repeat_byte(0x7e);

fn world() -> World {
    let mut world = World::counterfactual(Gas::SESSION);
    // transfer(to, amount) only to RECIPIENT: one UniActionPolicy rule on argument 1.
    let rule = ParamRule::on_argument(
        1,
        ParamCondition::Equal,
        B256::left_padding_from(RECIPIENT.as_slice()),
    )
    .expect("argument 1");
    let config = ActionConfig::new(U256::ZERO, vec![rule]).expect("one rule");
    let policy = PolicyData {
        policy: world.devnet.deployments().chain.policies.uni_action,
        initData: Policy::UniAction(config).init_data().expect("encodes"),
    };
    world.ops.session.actions[1].actionPolicies = vec![policy];
    world.ops.session = world.ops.session.clone();
    world.devnet.set_balance(world.ops.account, U256::from(10u128.pow(18)));
    let op = world.owner_op(world.ops.create_account_op(vec![world.ops.session.clone()]));
    assert!(world.devnet.handle_op(op).expect("runs").receipt().is_some());
    world.fund_tokens(U256::from(1_000u64));
    world
}

fn preflight(c: &mut Criterion) {
    let mut world = world();
    let op =
        world.use_op(world.ops.permission_id, &[world.ops.transfer_call(RECIPIENT, U256::from(1))]);
    assert!(world.devnet.check(&op).expect("checks").is_success());
    let mut group = c.benchmark_group("preflight");
    group.bench_function("check_use_op_uni_policy", |b| {
        b.iter(|| black_box(world.devnet.check(black_box(&op)).expect("checks")))
    });
    for threads in [1usize, 2] {
        group.bench_function(format!("throughput_{threads}_threads_per_op"), |b| {
            b.iter_custom(|iters| {
                let per_thread = iters.div_ceil(threads as u64);
                let devnets: Vec<_> = (0..threads).map(|_| world.devnet.clone()).collect();
                let start = Instant::now();
                std::thread::scope(|s| {
                    for mut devnet in devnets {
                        let op = &op;
                        s.spawn(move || {
                            for _ in 0..per_thread {
                                black_box(devnet.check(op).expect("checks"));
                            }
                        });
                    }
                });
                // Wall time for `iters` ops shared by the threads: criterion reports 1 / throughput.
                start.elapsed()
            })
        });
    }
    group.finish();
}

fn against_real_node(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let harness = rt.block_on(Harness::start());
    let (ops, nonce) = fork::session_account(&rt, &harness);
    let mut op = ops.base_op(nonce, execute_calls(&[ops.mint_call()]));
    ops.sign_use(ops.permission_id, &ops.key, &mut op).expect("signs");
    let packed = op.pack();

    let mut fork = Devnet::fork(&harness.node_url, None, harness.deployments.chain).expect("forks");
    assert!(fork.check(&packed).expect("checks").is_success(), "warms the cache");
    let bundler = RpcClient::new_http(harness.bundler_url.parse().expect("url"));
    let handle_ops: alloy_primitives::Bytes =
        IEntryPoint::handleOpsCall { ops: vec![packed.clone()], beneficiary: BUNDLER }
            .abi_encode()
            .into();
    let estimate = json!([fork::rpc_json(&op), ENTRY_POINT_V07]);
    let estimate_works = rt
        .block_on(bundler.request::<_, Value>("eth_estimateUserOperationGas", estimate.clone()))
        .map_err(|e| eprintln!("Alto's eth_estimateUserOperationGas failed, not measured: {e}"))
        .is_ok();

    let mut group = c.benchmark_group("real_node");
    group.bench_function("check_on_fork_warm", |b| {
        b.iter(|| black_box(fork.check(&packed).expect("checks")))
    });
    group.bench_function("anvil_eth_call_handle_ops", |b| {
        b.iter(|| {
            rt.block_on(harness.node.call_from_deployer(ENTRY_POINT_V07, handle_ops.clone()))
                .expect("eth_call")
        })
    });
    if estimate_works {
        group.bench_function("alto_estimate_user_operation_gas", |b| {
            b.iter(|| {
                rt.block_on(
                    bundler.request::<_, Value>("eth_estimateUserOperationGas", estimate.clone()),
                )
                .expect("estimates")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, preflight, against_real_node);
criterion_main!(benches);
