//! One `handleOps` of a session-key user operation in revm, warm: the devnet already holds the
//! account with its session; each iteration runs the same signed op on a copy of that state.

// One crate of several sharing the package's dev-dependencies: not all of them are used here.
#![allow(unused_crate_dependencies)]

use std::hint::black_box;

use alloy_primitives::{Address, U256};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use mandate_testing::{op::Gas, world::World};

fn world() -> World {
    let mut world = World::counterfactual(Gas::SESSION);
    world.devnet.set_balance(world.ops.account, U256::from(10u128.pow(18)));
    let op = world.owner_op(world.ops.create_account_op(vec![world.ops.session.clone()]));
    assert!(world.devnet.handle_op(op).expect("runs").receipt().is_some());
    world.fund_tokens(U256::from(1_000u64));
    world
}

fn handle_ops(c: &mut Criterion) {
    let mut world = world();
    let single = world.use_op(world.ops.permission_id, &[world.ops.mint_call()]);
    let batch = world.use_op(
        world.ops.permission_id,
        &[world.ops.mint_call(), world.ops.transfer_call(Address::repeat_byte(7), U256::from(1))],
    );
    let mut group = c.benchmark_group("handle_ops");
    for (name, op) in [("use_single_mint", single), ("use_batch_mint_transfer", batch)] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || (world.devnet.clone(), op.clone()),
                |(mut devnet, op)| {
                    let outcome = devnet.handle_op(op).expect("runs");
                    assert!(outcome.receipt().is_some());
                    black_box(outcome)
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, handle_ops);
criterion_main!(benches);
