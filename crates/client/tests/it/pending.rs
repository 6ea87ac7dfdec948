//! Pending-aware verdicts on the embedded devnet: an op judged while another op of the same
//! account is sent and not yet included is judged after it. A session allowing two mints: two
//! ops held at the bundler (sent, not included), a third that fits the session alone is held
//! back (`HeldByPending`, naming the policy) — by the local verdict, and with the local verdict
//! off by the pre-flight, which runs the pending ops first — never sent to fail; once the two
//! are included it is refused as the chain refuses it. An op whose send fails releases what it
//! held.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::{
    Call, GasEstimate, Policy, SessionBuilder, UserOperation, custom_action, sol::IERC721,
};
use mandate_bundler::{Bundler, BundlerError, UserOperationReceipt};
use mandate_client::{
    Account, Chain, ClientError, MandateAccount, SessionClient, SessionKey, SessionRecord,
    devnet_bundler::DevnetBundler,
};
use mandate_sim::{Devnet, DevnetDeployments};

/// What the bundler does with the next ops sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    /// Forward it: included at once.
    Forward,
    /// Keep it (sent, not included) until released.
    Hold,
    /// Refuse it.
    Refuse,
}

/// The devnet's bundler, which can hold ops sent (accepted, not included) or refuse them.
#[derive(Clone, Debug)]
struct HoldingBundler {
    inner: DevnetBundler,
    next: Arc<Mutex<Next>>,
    held: Arc<Mutex<Vec<(UserOperation, Address)>>>,
    chain_id: u64,
    deployments: mandate_abi::Deployments,
}

impl HoldingBundler {
    fn set(&self, next: Next) {
        *self.next.lock().unwrap() = next;
    }

    fn held(&self) -> usize {
        self.held.lock().unwrap().len()
    }

    /// Includes the held ops.
    async fn release(&self) {
        let held = std::mem::take(&mut *self.held.lock().unwrap());
        for (op, entry_point) in held {
            self.inner.send_user_operation(&op, entry_point).await.unwrap();
        }
    }
}

impl Bundler for HoldingBundler {
    async fn chain_id(&self) -> Result<u64, BundlerError> {
        self.inner.chain_id().await
    }

    async fn supported_entry_points(&self) -> Result<Vec<Address>, BundlerError> {
        self.inner.supported_entry_points().await
    }

    async fn estimate_user_operation_gas(
        &self,
        op: &UserOperation,
        entry_point: Address,
    ) -> Result<GasEstimate, BundlerError> {
        self.inner.estimate_user_operation_gas(op, entry_point).await
    }

    async fn send_user_operation(
        &self,
        op: &UserOperation,
        entry_point: Address,
    ) -> Result<B256, BundlerError> {
        let next = *self.next.lock().unwrap();
        match next {
            Next::Forward => self.inner.send_user_operation(op, entry_point).await,
            Next::Hold => {
                self.held.lock().unwrap().push((op.clone(), entry_point));
                Ok(self.deployments.user_op_hash_of(op, self.chain_id, None).unwrap())
            }
            Next::Refuse => Err(BundlerError::Rpc(mandate_bundler::RpcFailure::new(
                "eth_sendUserOperation",
                -32602,
                "refused by the test".into(),
                None,
            ))),
        }
    }

    async fn get_user_operation_receipt(
        &self,
        user_op_hash: B256,
    ) -> Result<Option<UserOperationReceipt>, BundlerError> {
        self.inner.get_user_operation_receipt(user_op_hash).await
    }
}

struct Setup {
    client: Arc<SessionClient<HoldingBundler>>,
    bundler: HoldingBundler,
    d: DevnetDeployments,
    key: SessionKey,
    record: SessionRecord,
}

impl Setup {
    /// Mandate's account granted a session that may mint the test NFT twice.
    async fn new() -> Self {
        let devnet = Devnet::new().unwrap();
        let (d, chain_id) = (*devnet.deployments(), devnet.chain_id());
        let inner = DevnetBundler::new(devnet);
        let bundler = HoldingBundler {
            inner: inner.clone(),
            next: Arc::new(Mutex::new(Next::Forward)),
            held: Arc::default(),
            chain_id,
            deployments: d.chain,
        };
        let client =
            SessionClient::new(bundler.clone(), Chain::Devnet(inner.clone()), d.chain, chain_id)
                .with_family(Arc::new(MandateAccount::devnet(&d)));
        let (owner, key) = (PrivateKeySigner::random(), SessionKey::random());
        let spec = Account::new(owner.address());
        let account = client.account_address(&spec).await.unwrap();
        inner.with_devnet(|dev| dev.set_balance(account, U256::from(10u128.pow(19)))).unwrap();
        let mint = custom_action(
            d.test_erc721,
            "mint(address)",
            &[Policy::UsageLimit(2)],
            &d.chain.policies,
        )
        .unwrap();
        let session =
            SessionBuilder::new(d.ecdsa_session_validator().unwrap(), key.address().to_vec())
                .action(mint)
                .build()
                .unwrap();
        client.grant(&owner, &spec, std::slice::from_ref(&session), &[]).await.unwrap();
        let record =
            SessionRecord::new(chain_id, account, key.address(), session, d.chain.smart_session);
        Self { client: Arc::new(client), bundler, d, key, record }
    }

    /// Another client of the same account and devnet (another worker), its pending ops and
    /// nonce lanes kept in `store`'s database.
    fn worker(
        &self,
        store: &mandate_client::store::SqlStore,
    ) -> Arc<SessionClient<HoldingBundler>> {
        let mut client = SessionClient::new(
            self.bundler.clone(),
            Chain::Devnet(self.bundler.inner.clone()),
            self.d.chain,
            self.client.chain_id(),
        )
        .with_family(Arc::new(MandateAccount::devnet(&self.d)));
        client.options_mut().pending = Arc::new(store.pending(Duration::from_secs(600)));
        client.options_mut().lanes = Arc::new(store.lanes(Duration::from_secs(600)));
        Arc::new(client)
    }

    fn mint(&self) -> Call {
        Call::new(self.d.test_erc721, IERC721::mintCall { to: self.record.account }.abi_encode())
    }

    /// Sends a mint that the bundler holds; returns its task once it is held.
    async fn held_mint(
        &self,
        client: &Arc<SessionClient<HoldingBundler>>,
    ) -> tokio::task::JoinHandle<Result<mandate_client::Used, ClientError>> {
        let before = self.bundler.held();
        self.bundler.set(Next::Hold);
        let (client, key, record, call) =
            (Arc::clone(client), self.key.clone(), self.record.clone(), self.mint());
        let task = tokio::spawn(async move { client.use_session(&key, &record, &[call]).await });
        while self.bundler.held() == before {
            assert!(
                !task.is_finished(),
                "the op ended before the bundler held it: {:?}",
                task.await
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        task
    }

    fn nfts(&self) -> U256 {
        let (nft, account) = (self.d.test_erc721, self.record.account);
        self.bundler
            .inner
            .with_devnet(|d| d.call_sol(nft, &IERC721::balanceOfCall { owner: account }))
            .unwrap()
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_op_that_fits_alone_but_not_after_the_pending_ones_is_held_back() {
    let s = Setup::new().await;
    let first = s.held_mint(&s.client).await;
    let second = s.held_mint(&s.client).await;
    s.bundler.set(Next::Forward);

    // Alone it fits (the chain has used none of the two mints): after the two pending, not.
    let err = s.client.use_session(&s.key, &s.record, &[s.mint()]).await.unwrap_err();
    let ClientError::HeldByPending { pending, reason } = &err else { panic!("{err}") };
    assert_eq!(*pending, 2);
    // Named by the local verdict (the pre-flight would say "op 0 rejected: AA23 …").
    assert!(reason.starts_with("PolicyViolation(") && reason.contains("UsageLimit"), "{reason}");

    // The local verdict off: the pre-flight, which runs the pending ops first, holds it back.
    let mut options = s.client.options().clone();
    options.checks.local_verdict = false;
    let mut preflight_only = SessionClient::new(
        s.bundler.clone(),
        Chain::Devnet(s.bundler.inner.clone()),
        s.d.chain,
        s.client.chain_id(),
    )
    .with_family(Arc::new(MandateAccount::devnet(&s.d)));
    *preflight_only.options_mut() = options;
    let err = preflight_only.use_session(&s.key, &s.record, &[s.mint()]).await.unwrap_err();
    assert!(matches!(err, ClientError::HeldByPending { pending: 2, .. }), "{err}");
    assert_eq!(s.nfts(), U256::ZERO, "nothing included yet");

    // The two included: both succeed, and the third is refused as the chain refuses it.
    s.bundler.release().await;
    for task in [first, second] {
        assert!(task.await.unwrap().unwrap().sent.receipt.success);
    }
    assert_eq!(s.nfts(), U256::from(2));
    let err = s.client.use_session(&s.key, &s.record, &[s.mint()]).await.unwrap_err();
    assert!(matches!(err, ClientError::Refused { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_op_whose_send_fails_releases_what_it_held() {
    let s = Setup::new().await;
    let first = s.held_mint(&s.client).await;
    s.bundler.set(Next::Refuse);
    let err = s.client.use_session(&s.key, &s.record, &[s.mint()]).await.unwrap_err();
    assert!(matches!(err, ClientError::Bundler(_)), "{err}");
    // The refused op holds nothing: one more still fits beside the held one.
    s.bundler.set(Next::Forward);
    let used = s.client.use_session(&s.key, &s.record, &[s.mint()]).await.unwrap();
    assert!(used.sent.receipt.success);
    s.bundler.release().await;
    assert!(first.await.unwrap().unwrap().sent.receipt.success);
    assert_eq!(s.nfts(), U256::from(2));
}

/// Workers (clients, each with its own connection to one PostgreSQL database, as processes
/// would have) share their pending ops and nonce lanes through it: two ops of two workers held
/// at the bundler, on distinct lanes, make a third worker hold back the op that does not fit
/// after them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_sharing_a_postgres_database_see_each_others_pending_ops() {
    use mandate_client::pending::PendingRegistry;
    let pg = mandate_testing::postgres::Postgres::start();
    let s = Setup::new().await;
    let connect = || {
        mandate_client::store::SqlStore::connect(&pg.url, mandate_testing::store::PASSWORD).unwrap()
    };
    let (one, two) = (s.worker(&connect()), s.worker(&connect()));
    let first = s.held_mint(&one).await;
    let second = s.held_mint(&two).await;
    s.bundler.set(Next::Forward);
    // A third worker's registry on the same database sees both.
    let third = connect();
    let pending = third.pending(Duration::from_secs(600));
    assert_eq!(pending.of(s.client.chain_id(), s.record.account).unwrap().len(), 2);
    let err = s.worker(&third).use_session(&s.key, &s.record, &[s.mint()]).await.unwrap_err();
    assert!(matches!(err, ClientError::HeldByPending { pending: 2, .. }), "{err}");
    s.bundler.release().await;
    let mut lanes = Vec::new();
    for task in [first, second] {
        let used = task.await.unwrap().unwrap();
        assert!(used.sent.receipt.success);
        lanes.push(used.sent.lane.unwrap());
    }
    assert_eq!(lanes, [0, 1], "distinct lanes across the workers");
    // Settled: released from the database.
    assert!(pending.of(s.client.chain_id(), s.record.account).unwrap().is_empty());
    assert_eq!(s.nfts(), U256::from(2));
}
