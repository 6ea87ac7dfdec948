//! The session story on Nexus and Safe 1.4.1 + Safe7579 (modulekit 0.5.9's bytecode, in the
//! devnet genesis) through real Alto on real anvil: grant (deploy + install + enable), USE
//! single and batch, a local refusal naming policy and rule with nothing sent, ENABLE on first
//! use, status. One body for both families and both session signers (Mandate's ECDSA signer;
//! Mandate's OwnableValidator 2-of-3 with two of the keys), on one harness; every op estimated
//! by Alto, pre-flighted on a fork of anvil and sent to Alto.
//!
//! Gas per family: `cargo test --test e2e families_e2e -- --nocapture`.

use std::sync::Arc;

use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate::{
    abi::{
        Call, Erc20Action, Erc20Function, Session, SessionBuilder, ownable::OwnableData,
        sol::IERC20,
    },
    bundler::BundlerClient,
    client::{
        Account, AccountFamily, ClientError, Nexus, Remaining, Safe7579, SessionClient, SessionKey,
        SessionRecord, SessionSigner, UseMode,
    },
    sim::DevnetDeployments,
};
use mandate_testing::node::Harness;

const PER_CALL: u64 = 10;
const TOTAL: u64 = 100;

/// Gas the EntryPoint charged for each of one family's ops, from Alto's receipts.
#[derive(Debug, Default)]
struct Gas {
    grant: U256,
    use_single: U256,
    use_batch: U256,
    enable: U256,
}

struct Story<'a> {
    client: SessionClient<BundlerClient>,
    d: &'a DevnetDeployments,
    key: SessionSigner,
    /// Whether the session's validator is the OwnableValidator (2 of the keys and a third owner).
    ownable: bool,
    /// Where the session may pay, a fresh address per family.
    shop: Address,
}

impl Story<'_> {
    fn session(&self, salt: u8) -> Session {
        let transfer = Erc20Action::new(Erc20Function::Transfer, self.d.test_erc20)
            .recipient(self.shop)
            .amount_limit_per_action(U256::from(PER_CALL))
            .max_amount_limit(U256::from(TOTAL))
            .build(&self.d.chain.policies, 0)
            .unwrap();
        let first = self.key.primary().address();
        let (validator, data) = if self.ownable {
            let second = self.key.keys()[1].address();
            let owners = vec![first, second, SessionKey::random().address()];
            let data = OwnableData::new(2, owners).unwrap().encode().to_vec();
            (self.d.chain.session_validators.ownable.unwrap(), data)
        } else {
            (self.d.ecdsa_session_validator().unwrap(), first.to_vec())
        };
        SessionBuilder::new(validator, data)
            .action(transfer)
            .salt(B256::repeat_byte(salt))
            .build()
            .unwrap()
    }

    fn pay(&self, amount: u64) -> Call {
        Call::new(
            self.d.test_erc20,
            IERC20::transferCall { to: self.shop, amount: U256::from(amount) }.abi_encode(),
        )
    }

    fn record(&self, account: Address, session: Session) -> SessionRecord {
        SessionRecord::new(
            self.client.chain_id(),
            account,
            self.key.primary().address(),
            session,
            self.d.chain.smart_session,
        )
    }

    async fn balance(&self, owner: Address) -> U256 {
        let token = self.d.test_erc20;
        self.client
            .with_state(move |d| Ok(d.call_sol(token, &IERC20::balanceOfCall { owner })?))
            .await
            .unwrap()
    }
}

/// The story on `family`, from a counterfactual account of a fresh owner.
async fn story(
    harness: &Harness,
    name: &str,
    family: Arc<dyn AccountFamily>,
    shop: Address,
    ownable: bool,
) -> Gas {
    let d = &harness.deployments;
    let client = SessionClient::connect(&harness.node_url, &harness.bundler_url, d.chain)
        .await
        .unwrap()
        .with_family(family);
    let keys = (0..if ownable { 2 } else { 1 }).map(|_| SessionKey::random()).collect();
    let s = Story { client, d, key: SessionSigner::new(keys).unwrap(), ownable, shop };
    let owner = PrivateKeySigner::random();
    let account = Account::new(owner.address());
    let address = s.client.account_address(&account).await.unwrap();
    harness.node.set_balance(address, U256::from(10u128.pow(18))).await;
    assert!(harness.node.code(address).await.is_empty(), "{name}: counterfactual");
    let mut gas = Gas::default();

    // Grant: deploy, install SmartSession with the session, mint 1000 tokens, in one op.
    let session = s.session(1);
    let mint = Call::new(
        d.test_erc20,
        IERC20::mintCall { to: address, amount: U256::from(1000) }.abi_encode(),
    );
    let granted = s
        .client
        .grant(&owner, &account, std::slice::from_ref(&session), &[mint])
        .await
        .unwrap_or_else(|e| panic!("{name} grant: {e}"));
    assert!(granted.deployed && granted.installed, "{name}");
    let sent = granted.sent.unwrap();
    assert!(sent.receipt.success, "{name}");
    gas.grant = sent.receipt.actual_gas_used;
    assert!(!harness.node.code(address).await.is_empty(), "{name}: deployed on anvil");
    assert!(s.client.is_permission_enabled(address, granted.permission_ids[0]).await.unwrap());
    assert_eq!(s.balance(address).await, U256::from(1000), "{name}");

    // USE: one call, then a batch of two.
    let r = s.record(address, session);
    let used = s.client.use_session(&s.key, &r, &[s.pay(7)]).await.unwrap();
    assert_eq!(used.mode, UseMode::Use, "{name}");
    assert!(used.sent.receipt.success, "{name}");
    gas.use_single = used.sent.receipt.actual_gas_used;
    let used = s.client.use_session(&s.key, &r, &[s.pay(3), s.pay(4)]).await.unwrap();
    assert!(used.sent.receipt.success, "{name}");
    gas.use_batch = used.sent.receipt.actual_gas_used;
    assert_eq!(s.balance(s.shop).await, U256::from(14), "{name}");

    // A refusal before sending, naming policy and rule (on Safe7579 only the local verdict
    // can: SmartSession's revert reaches the EntryPoint as the adapter's `ExecutionFailed()`).
    let paid = harness.node.balance(address).await;
    let err = s.client.use_session(&s.key, &r, &[s.pay(11)]).await.unwrap_err();
    let ClientError::Refused { error, reason } = &err else { panic!("{name}: {err}") };
    assert!(error.starts_with("PolicyViolation("), "{name}: {error}");
    assert!(reason.contains("UniActionPolicy") && reason.contains("rule 1"), "{name}: {reason}");
    assert_eq!(harness.node.balance(address).await, paid, "{name}: no gas paid");
    assert_eq!(s.balance(s.shop).await, U256::from(14), "{name}: nothing sent");

    // Status: what is left of the total.
    let status = s.client.session_status(&r).await.unwrap();
    assert!(status.enabled, "{name}");
    let left = status.limits.iter().find_map(|l| match l.remaining {
        Remaining::Rule { used, left, .. } => Some((used, left)),
        _ => None,
    });
    assert_eq!(left, Some((U256::from(14), U256::from(TOTAL - 14))), "{name}");

    // ENABLE on first use: a second session the owner signed off-chain.
    let second = s.session(2);
    let enable = s
        .client
        .prepare_enable(&owner, address, &second, mandate::abi::SmartSessionMode::Enable)
        .await
        .unwrap();
    let mut r2 = s.record(address, second);
    r2.enable = Some(enable);
    assert!(!s.client.is_permission_enabled(address, r2.permission_id).await.unwrap());
    let used = s
        .client
        .use_session(&s.key, &r2, &[s.pay(5)])
        .await
        .unwrap_or_else(|e| panic!("{name} enable: {e}"));
    assert_eq!(used.mode, UseMode::Enable, "{name}");
    assert!(used.sent.receipt.success, "{name}");
    gas.enable = used.sent.receipt.actual_gas_used;
    assert!(s.client.is_permission_enabled(address, r2.permission_id).await.unwrap());
    assert_eq!(s.balance(s.shop).await, U256::from(19), "{name}");

    // Every op has Alto's receipt, with anvil's transaction.
    let alto = BundlerClient::new(&harness.bundler_url).unwrap();
    for hash in [sent.user_op_hash, used.sent.user_op_hash] {
        let receipt = alto.get_user_operation_receipt(hash).await.unwrap().unwrap();
        assert!(receipt.success, "{name}");
        assert!(harness.node.receipt(receipt.receipt.transaction_hash).await.is_some());
    }
    gas
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_story_on_nexus_and_safe7579_through_alto_on_anvil() {
    let harness = Harness::start().await;
    let d = &harness.deployments;
    let families: [(&str, Arc<dyn AccountFamily>); 2] =
        [("Nexus", Arc::new(Nexus::devnet(d))), ("Safe7579", Arc::new(Safe7579::devnet(d)))];
    println!(
        "| family (through Alto) | session signer | grant op | USE single | USE batch (2) | ENABLE (1 call) |"
    );
    println!("|---|---|---|---|---|---|");
    for (i, (name, family)) in (0u8..).zip(families) {
        for ownable in [false, true] {
            let shop = Address::repeat_byte(0x5b + 2 * i + u8::from(ownable));
            let g = story(&harness, name, Arc::clone(&family), shop, ownable).await;
            let signer = if ownable { "OwnableValidator 2-of-3" } else { "ECDSA" };
            println!(
                "| {name} | {signer} | {} | {} | {} | {} |",
                g.grant, g.use_single, g.use_batch, g.enable
            );
            // (The first USE pays for the policies' and the shop's first storage writes: the
            // batch after it may cost less.)
            assert!(g.grant > g.enable && g.enable > g.use_single && !g.use_batch.is_zero());
        }
    }
}
