//! `Devnet::check` per op, warm (validation and execution of a USE op whose transfer action has
//! one UniActionPolicy rule), and its throughput on one and two threads; a mint op's plain
//! check, detailed check and bare `handleOps` side by side. Then, against real anvil and Alto
//! started on 127.0.0.1 (the end-to-end harness) behind loopback proxies that hold each HTTP
//! request 20 ms, then 100 ms (a remote RPC; Alto reads anvil through one too): a mint op's
//! check on a cold fork (connecting included) and on a warm one, anvil's `eth_call` of the
//! same `handleOps`, and Alto's `eth_estimateUserOperationGas`; each delay's sequential round
//! trips are printed before its times.
//!
//! `cargo bench --bench preflight` (a few minutes; `-- remote_` for the proxied part only).

// One crate of several sharing the package's dev-dependencies: not all of them are used here.
#![allow(unused_crate_dependencies)]

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, U256};
use alloy_rpc_client::RpcClient;
use alloy_sol_types::SolCall;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use mandate::{
    abi::{
        ActionConfig, ENTRY_POINT_V07, ParamCondition, ParamRule, Policy, PolicyData,
        execute_calls, sol::IEntryPoint,
    },
    sim::{BUNDLER, Devnet, ForkOptions},
};
use mandate_testing::{fork, node::Harness, op::Gas, proxy::LatencyProxy, world::World};
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
    let mint = world.use_op(world.ops.permission_id, &[world.ops.mint_call()]);
    assert!(world.devnet.check(&mint).expect("checks").is_success());
    let mut group = c.benchmark_group("preflight");
    group.bench_function("check_use_op_uni_policy", |b| {
        b.iter(|| black_box(world.devnet.check(black_box(&op)).expect("checks")))
    });
    // The plain verdict, the detailed one and the bare handleOps of the same mint op: the
    // price of the pre-flight over the EVM run.
    group.bench_function("check_use_op_mint", |b| {
        b.iter(|| black_box(world.devnet.check(black_box(&mint)).expect("checks")))
    });
    group.bench_function("check_detailed_use_op_mint", |b| {
        b.iter(|| black_box(world.devnet.check_detailed(black_box(&mint)).expect("checks")))
    });
    group.bench_function("bare_handle_ops_use_op_mint", |b| {
        b.iter_batched(
            || (world.devnet.clone(), mint.clone()),
            |(mut devnet, op)| black_box(devnet.handle_op(op).expect("runs")),
            BatchSize::SmallInput,
        )
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

/// Latencies the proxy adds to each HTTP request, in milliseconds.
const DELAYS_MS: [u64; 2] = [20, 100];

fn against_real_node(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    // Alto reads anvil through one proxy; the fork and the user's requests to anvil and to
    // Alto go through proxies with the same delay.
    let harness = rt.block_on(Harness::start_behind_proxy());
    let (ops, nonce) = fork::session_account(&rt, &harness);
    let mut op = ops.base_op(nonce, execute_calls(&[ops.mint_call()]));
    ops.sign_use(ops.permission_id, &ops.key, &mut op).expect("signs");
    let packed = op.pack();
    let d = harness.deployments.chain;
    let alto_node = harness.node_proxy.as_ref().expect("Alto reads anvil through a proxy");
    let node = LatencyProxy::start(&harness.node_url);
    let alto = LatencyProxy::start(&harness.bundler_url);
    let proxies = [alto_node, &node, &alto];
    // Code as a later block's cold fork finds it: on disk, from the first fork on.
    let code_cache =
        std::env::temp_dir().join(format!("mandate-bench-code-{}", std::process::id()));
    // Cold: no read hints (each check learns what it reads); the basic methods only, without
    // and with the hints an earlier check of the same sender left.
    let options =
        ForkOptions::default().with_code_cache(Some(code_cache.clone())).without_read_hints();
    let basic = options.clone().with_basic_methods_only();
    let hinted =
        ForkOptions::default().with_code_cache(Some(code_cache.clone())).with_basic_methods_only();
    let check_on = |options: &ForkOptions| {
        let mut fork = Devnet::fork_with(&node.url, None, d, options).expect("forks");
        let verdict = fork.check(&packed).expect("checks");
        assert!(verdict.is_success(), "{verdict}");
        (fork, verdict)
    };
    let cold_check = || check_on(&options);
    let bundler = RpcClient::new_http(alto.url.parse().expect("url"));
    let node_rpc = mandate_testing::node::Node::new(&node.url);
    let handle_ops: alloy_primitives::Bytes =
        IEntryPoint::handleOpsCall { ops: vec![packed.clone()], beneficiary: BUNDLER }
            .abi_encode()
            .into();
    let estimate = json!([fork::rpc_json(&op), ENTRY_POINT_V07]);
    let estimate_works = rt
        .block_on(bundler.request::<_, Value>("eth_estimateUserOperationGas", estimate.clone()))
        .map_err(|e| eprintln!("Alto's eth_estimateUserOperationGas failed, not measured: {e}"))
        .is_ok();

    for delay in DELAYS_MS {
        for proxy in proxies {
            proxy.set_delay(Duration::from_millis(delay));
        }
        // Sequential round trips, once, beside the times.
        let (mut warm, verdict) = cold_check();
        let before = alto_node.requests();
        if estimate_works {
            rt.block_on(
                bundler.request::<_, Value>("eth_estimateUserOperationGas", estimate.clone()),
            )
            .expect("estimates");
        }
        eprintln!(
            "{delay} ms per request: cold fork check {} round trips ({} connecting, {} checking); \
             warm {}; Alto's estimate {} requests to its node",
            warm.round_trips(),
            warm.round_trips() - verdict.round_trips(),
            verdict.round_trips(),
            warm.check(&packed).expect("checks").round_trips(),
            alto_node.requests() - before,
        );
        eprintln!(
            "{delay} ms per request, basic methods only: cold check {} round trips without read \
             hints, {} with",
            check_on(&basic).1.round_trips(),
            check_on(&hinted).1.round_trips(),
        );
        let mut group = c.benchmark_group(format!("remote_{delay}ms"));
        group.sample_size(10).warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(if delay >= 100 { 8 } else { 4 }));
        group.bench_function("cold_fork_check", |b| b.iter(|| black_box(cold_check())));
        group.bench_function("cold_fork_check_basic_methods_no_hints", |b| {
            b.iter(|| black_box(check_on(&basic)))
        });
        group.bench_function("cold_fork_check_basic_methods_read_hints", |b| {
            b.iter(|| black_box(check_on(&hinted)))
        });
        group.bench_function("warm_fork_check", |b| {
            b.iter(|| black_box(warm.check(&packed).expect("checks")))
        });
        group.bench_function("anvil_eth_call_handle_ops", |b| {
            b.iter(|| {
                rt.block_on(node_rpc.call_from_deployer(ENTRY_POINT_V07, handle_ops.clone()))
                    .expect("eth_call")
            })
        });
        if estimate_works {
            group.bench_function("alto_estimate_user_operation_gas", |b| {
                b.iter(|| {
                    rt.block_on(
                        bundler
                            .request::<_, Value>("eth_estimateUserOperationGas", estimate.clone()),
                    )
                    .expect("estimates")
                })
            });
        }
        group.finish();
    }
    let _ = std::fs::remove_dir_all(code_cache);
}

criterion_group!(benches, preflight, against_real_node);
criterion_main!(benches);
