//! A load on the embedded devnet through a shared PostgreSQL store: `workers` clients (each
//! with its own connection to the database, as separate processes would have; their nonce
//! lanes and pending ops in it) send ops for `accounts` accounts × `sessions` sessions, every
//! session allowing `limit` mints and asked for `asks` — more than its limit, so that budgets
//! run out while ops are in flight; and one worker's op is killed mid-send. What it proves and
//! measures is in [`Report`].

use std::{
    collections::HashSet,
    sync::Arc,
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::{Call, Policy, SessionBuilder, custom_action, sol::IERC721};
use mandate_client::{
    Account, Chain, ClientError, MandateAccount, SessionClient, SessionKey, SessionRecord,
    devnet_bundler::DevnetBundler,
    store::{ScryptCost, SessionStore, SqlStore},
};
use mandate_sim::Devnet;

/// The load's shape.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    /// Worker clients.
    pub workers: usize,
    /// Accounts.
    pub accounts: usize,
    /// Sessions per account (one key each).
    pub sessions: usize,
    /// Mints each session allows.
    pub limit: u64,
    /// Mints asked of each session, spread over the workers, all at once.
    pub asks: u64,
}

/// What a load did.
#[derive(Clone, Debug)]
pub struct Report {
    /// Ops included, each successful.
    pub included: usize,
    /// Ops the client held back (fit alone, not after the pending ones) or refused (the
    /// chain's budget spent): never sent.
    pub held_or_refused: usize,
    /// Ops sent that failed on chain or at the bundler (nonce collisions among them): must be 0.
    pub failed: Vec<String>,
    /// Ops included more than once (a hash twice): must be 0.
    pub double_sends: usize,
    /// Included ops per second of wall time.
    pub ops_per_second: f64,
    /// Median and 95th percentile, from intent (`use_session` called) to receipt.
    pub p50: Duration,
    /// See `p50`.
    pub p95: Duration,
    /// The sessions' records read back from the store after the load, keys included.
    pub records: usize,
    /// Mints the chain holds: the ops included, and perhaps the op of the worker killed
    /// mid-send.
    pub minted: U256,
}

/// Runs `load` against a fresh devnet, its store in the PostgreSQL database at `url`.
pub async fn run(load: Load, url: &str) -> Report {
    let devnet = Devnet::new().expect("devnet");
    let (d, chain_id) = (*devnet.deployments(), devnet.chain_id());
    let bundler = DevnetBundler::new(devnet);
    let store = Arc::new(
        SqlStore::connect(url, crate::store::PASSWORD)
            .expect("store")
            .with_scrypt_cost(ScryptCost::MIN),
    );
    // Accounts and their sessions, granted by their owners; keys and records in the store.
    let owner_client =
        SessionClient::new(bundler.clone(), Chain::Devnet(bundler.clone()), d.chain, chain_id)
            .with_family(Arc::new(MandateAccount::devnet(&d)));
    let mut records = Vec::new();
    for a in 0..load.accounts {
        let owner = PrivateKeySigner::random();
        let spec = Account::new(owner.address());
        let account = owner_client.account_address(&spec).await.expect("address");
        bundler
            .with_devnet(|dev| dev.set_balance(account, U256::from(10u128.pow(20))))
            .expect("funds");
        let mut sessions = Vec::new();
        for k in 0..load.sessions {
            let key = SessionKey::random();
            let mint = custom_action(
                d.test_erc721,
                "mint(address)",
                &[Policy::UsageLimit(u128::from(load.limit))],
                &d.chain.policies,
            )
            .expect("action");
            let session = SessionBuilder::new(
                d.ecdsa_session_validator().expect("signer"),
                key.address().to_vec(),
            )
            .action(mint)
            .salt(B256::with_last_byte(u8::try_from(k).expect("sessions < 256")))
            .build()
            .expect("session");
            let record = SessionRecord::new(
                chain_id,
                account,
                key.address(),
                session.clone(),
                d.chain.smart_session,
            );
            store.save(&key, &record).expect("saved");
            sessions.push(session);
            records.push(record.reference());
        }
        owner_client
            .grant(&owner, &spec, &sessions, &[])
            .await
            .unwrap_or_else(|e| panic!("grant {a}: {e}"));
    }
    let mut clients = Vec::new();
    for _ in 0..load.workers {
        let worker = SqlStore::connect(url, crate::store::PASSWORD).expect("worker's connection");
        let mut client =
            SessionClient::new(bundler.clone(), Chain::Devnet(bundler.clone()), d.chain, chain_id)
                .with_family(Arc::new(MandateAccount::devnet(&d)));
        client.options_mut().pending = Arc::new(worker.pending(Duration::from_secs(600)));
        client.options_mut().lanes = Arc::new(worker.lanes(Duration::from_secs(600)));
        clients.push((Arc::new(client), Arc::new(worker)));
    }

    // Every ask at once, dealt round-robin to the workers; one more task, killed mid-send,
    // rewriting a record.
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut n = 0usize;
    for reference in &records {
        for _ in 0..load.asks {
            let (client, worker) = clients[n % clients.len()].clone();
            n += 1;
            let reference = *reference;
            let nft = d.test_erc721;
            tasks.spawn(async move {
                let stored = worker.load(&reference).expect("loads").expect("stored");
                let call = Call::new(nft, IERC721::mintCall { to: reference.account }.abi_encode());
                let asked = Instant::now();
                let result = client.use_session(&stored.key, &stored.record, &[call]).await;
                (asked.elapsed(), result)
            });
        }
    }
    // A worker killed mid-send: its op's task aborted while in flight.
    let victim = {
        let (client, worker) = clients[0].clone();
        let reference = records[0];
        let nft = d.test_erc721;
        tokio::spawn(async move {
            let stored = worker.load(&reference).expect("loads").expect("stored");
            let call = Call::new(nft, IERC721::mintCall { to: reference.account }.abi_encode());
            client.use_session(&stored.key, &stored.record, &[call]).await
        })
    };
    tokio::time::sleep(Duration::from_millis(5)).await;
    victim.abort();
    let mut latencies = Vec::new();
    let (mut included, mut held_or_refused, mut failed, mut hashes, mut double_sends) =
        (0, 0, Vec::new(), HashSet::new(), 0);
    while let Some(done) = tasks.join_next().await {
        let (latency, result) = done.expect("task");
        match result {
            Ok(used) if used.sent.receipt.success => {
                included += 1;
                latencies.push(latency);
                if !hashes.insert(used.sent.user_op_hash) {
                    double_sends += 1;
                }
            }
            Ok(used) => failed.push(format!("reverted: {:?}", used.sent.receipt.reason)),
            Err(ClientError::HeldByPending { .. } | ClientError::Refused { .. }) => {
                held_or_refused += 1
            }
            Err(e) => failed.push(e.to_string()),
        }
    }
    let wall = started.elapsed();
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    // This load's records (the database may hold earlier loads'), each with its key.
    let stored: Vec<_> = store
        .list()
        .expect("lists")
        .into_iter()
        .filter(|r| records.contains(&r.reference()))
        .filter(|r| store.load(&r.reference()).expect("loads").is_some())
        .collect();
    let accounts: std::collections::BTreeSet<Address> = records.iter().map(|r| r.account).collect();
    let minted = accounts.into_iter().fold(U256::ZERO, |sum, account| {
        let nft = d.test_erc721;
        sum + bundler
            .with_devnet(move |dev| dev.call_sol(nft, &IERC721::balanceOfCall { owner: account }))
            .expect("devnet")
            .expect("balance")
    });
    Report {
        included,
        held_or_refused,
        failed,
        double_sends,
        ops_per_second: included as f64 / wall.as_secs_f64(),
        p50: at(0.5),
        p95: at(0.95),
        records: stored.len(),
        minted,
    }
}
