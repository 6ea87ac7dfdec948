//! The session story on every account family, on the real bytecode (modulekit 0.5.9's Nexus,
//! Kernel v3.1, Safe 1.4.1 + Safe7579, MSAAdvanced; Mandate's account), with Mandate's modules
//! and the ECDSA session signer: grant (deploy + install + enable), USE single and batch, a
//! local refusal naming policy and rule (and the pre-flight's same refusal), ENABLE on first
//! use, status; a grant on an account that exists without SmartSession; a family that does not
//! match the account refused before anything is sent. One body, five families.
//!
//! Gas per family: `cargo test -p mandate-client --test it families::gas_per_family --
//! --nocapture`.

use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::{
    Call, Deployments, Erc20Action, Erc20Function, Session, SessionBuilder, SessionValidators,
    UserOperation, execute_calls,
    sol::{IERC20, IERC7579Account},
};
use mandate_client::{
    Account, AccountFamily, Chain, ClientError, Kernel, MandateAccount, Msa, Nexus, Remaining,
    Safe7579, SessionClient, SessionKey, SessionRecord, UseMode, devnet_bundler::DevnetBundler,
};
use mandate_sim::{BundleOutcome, Devnet, DevnetDeployments};

const SHOP: Address = Address::repeat_byte(0x5b);
const PER_CALL: u64 = 10;
/// Safe7579's `ExecutionFailed()`.
const SAFE7579_EXECUTION_FAILED: [u8; 4] = alloy_primitives::hex!("acfdb444");
const TOTAL: u64 = 100;

/// The five built-in families.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Mandate,
    Nexus,
    Kernel,
    Safe,
    Msa,
}

const ALL: [Family; 5] =
    [Family::Mandate, Family::Nexus, Family::Kernel, Family::Safe, Family::Msa];

impl Family {
    fn on(self, d: &DevnetDeployments) -> Arc<dyn AccountFamily> {
        match self {
            Self::Mandate => Arc::new(MandateAccount::devnet(d)),
            Self::Nexus => Arc::new(Nexus::devnet(d)),
            Self::Kernel => Arc::new(Kernel::devnet(d)),
            Self::Safe => Arc::new(Safe7579::devnet(d)),
            Self::Msa => Arc::new(Msa::devnet(d)),
        }
    }
}

/// Whose SmartSession and policies the account uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Modules {
    /// Mandate's, from the devnet's genesis.
    Mandate,
    /// Upstream's runtimes at the canonical (module-sdk 0.4.0) addresses, with Mandate's ECDSA
    /// session signer beside Rhinestone's OwnableValidator.
    Upstream,
}

const MODULES: [Modules; 2] = [Modules::Mandate, Modules::Upstream];

/// A client of `devnet` on `family`, with `modules`.
fn client_on(devnet: Devnet, family: Family, modules: Modules) -> SessionClient<DevnetBundler> {
    let d = *devnet.deployments();
    let chain_id = devnet.chain_id();
    let deployments = match modules {
        Modules::Mandate => d.chain,
        Modules::Upstream => Deployments {
            session_validators: SessionValidators {
                ecdsa: d.chain.session_validators.ecdsa,
                ..Deployments::MODULE_SDK_0_4.session_validators
            },
            paymaster: d.chain.paymaster,
            ..Deployments::MODULE_SDK_0_4
        },
    };
    let bundler = DevnetBundler::new(devnet);
    SessionClient::new(bundler.clone(), Chain::Devnet(bundler), deployments, chain_id)
        .with_family(family.on(&d))
}

struct Setup {
    client: SessionClient<DevnetBundler>,
    d: DevnetDeployments,
    owner: PrivateKeySigner,
    key: SessionKey,
}

fn bundler(client: &SessionClient<DevnetBundler>) -> &DevnetBundler {
    let Chain::Devnet(bundler) = client.chain() else { unreachable!("a devnet client") };
    bundler
}

async fn setup(family: Family) -> Setup {
    setup_with(family, Modules::Mandate).await
}

async fn setup_with(family: Family, modules: Modules) -> Setup {
    let mut devnet = Devnet::new().unwrap();
    if modules == Modules::Upstream {
        devnet.place_canonical(&mandate_testing::upstream::runtimes());
    }
    let d = *devnet.deployments();
    let client = client_on(devnet, family, modules);
    Setup { client, d, owner: PrivateKeySigner::random(), key: SessionKey::random() }
}

fn pay_session(s: &Setup, salt: u8) -> Session {
    let transfer = Erc20Action::new(Erc20Function::Transfer, s.d.test_erc20)
        .recipient(SHOP)
        .amount_limit_per_action(U256::from(PER_CALL))
        .max_amount_limit(U256::from(TOTAL))
        .build(&s.client.deployments().policies, 0)
        .unwrap();
    SessionBuilder::new(s.d.ecdsa_session_validator().unwrap(), s.key.address().to_vec())
        .action(transfer)
        .salt(B256::repeat_byte(salt))
        .build()
        .unwrap()
}

fn pay(s: &Setup, amount: u64) -> Call {
    Call::new(
        s.d.test_erc20,
        IERC20::transferCall { to: SHOP, amount: U256::from(amount) }.abi_encode(),
    )
}

fn mint(s: &Setup, to: Address) -> Call {
    Call::new(s.d.test_erc20, IERC20::mintCall { to, amount: U256::from(1000) }.abi_encode())
}

fn record(s: &Setup, account: Address, session: Session) -> SessionRecord {
    SessionRecord::new(
        s.client.chain_id(),
        account,
        s.key.address(),
        session,
        s.client.deployments().smart_session,
    )
}

fn shop_balance(s: &Setup) -> U256 {
    let token = s.d.test_erc20;
    bundler(&s.client)
        .with_devnet(|d| d.call_sol(token, &IERC20::balanceOfCall { owner: SHOP }).unwrap())
        .unwrap()
}

/// Creates the owner's account of `family` without SmartSession, as another wallet would have:
/// the family's own first op (signed by the owner through K1Validator) running one mint, sent
/// straight to the EntryPoint.
fn deploy_without_smart_session(s: &Setup) -> Address {
    let owner = s.owner.clone();
    let f = s.client.family().unwrap().clone();
    let (d, chain_id) = (s.d, s.client.chain_id());
    let address = bundler(&s.client)
        .with_devnet(move |dev| {
            let address = f.address(dev, owner.address(), B256::ZERO).unwrap();
            dev.set_balance(address, U256::from(10u128.pow(18)));
            let mint = Call::new(
                d.test_erc20,
                IERC20::mintCall { to: address, amount: U256::from(1) }.abi_encode(),
            );
            let first = f.first_op(owner.address(), B256::ZERO, execute_calls(&[mint]));
            let mut op = UserOperation {
                sender: address,
                nonce: dev.entry_point_nonce(address, f.owner_nonce_key()).unwrap(),
                factory: Some(first.factory),
                factory_data: first.factory_data,
                call_data: first.call_data,
                call_gas_limit: 2_000_000,
                verification_gas_limit: 3_000_000,
                pre_verification_gas: U256::from(100_000),
                max_fee_per_gas: u128::from(dev.base_fee()) * 2 + 1,
                max_priority_fee_per_gas: 1,
                ..Default::default()
            };
            let hash = op.hash(d.chain.entry_point, chain_id);
            let sig = owner.sign_message_sync(f.owner_op_message(hash).as_slice()).unwrap();
            op.signature = f.owner_op_signature(&sig.as_bytes());
            let outcome = dev.handle_op(op.pack()).unwrap();
            assert!(matches!(outcome, BundleOutcome::Included { .. }), "{outcome:?}");
            address
        })
        .unwrap();
    assert!(bundler(&s.client).with_devnet(|d| d.has_code(address)).unwrap());
    address
}

/// Gas of one family's ops, from their receipts.
#[derive(Debug, Default)]
struct Gas {
    grant: U256,
    use_single: U256,
    use_batch: U256,
    enable: U256,
}

/// The whole story on `family` with `modules`, from a counterfactual account.
async fn story(family: Family, modules: Modules) -> Gas {
    let s = setup_with(family, modules).await;
    let mut gas = Gas::default();
    let account = Account::new(s.owner.address());
    let address = s.client.account_address(&account).await.unwrap();
    s.client.set_balance(address, U256::from(10u128.pow(18))).unwrap();

    // Grant: deploy (unless there), install SmartSession with the session, mint in the same op.
    let session = pay_session(&s, 1);
    let granted = s
        .client
        .grant(&s.owner, &account, std::slice::from_ref(&session), &[mint(&s, address)])
        .await
        .unwrap_or_else(|e| panic!("{family:?} grant: {e}"));
    assert_eq!(granted.account, address);
    assert_eq!(granted.deployed, matches!(account, Account::Counterfactual { .. }), "{family:?}");
    assert!(granted.installed, "{family:?}");
    let sent = granted.sent.unwrap();
    assert!(sent.receipt.success, "{family:?}");
    gas.grant = sent.receipt.actual_gas_used;
    let is_installed = IERC7579Account::isModuleInstalledCall {
        moduleTypeId: U256::from(1),
        module: s.client.deployments().smart_session,
        additionalContext: Bytes::new(),
    };
    let installed =
        bundler(&s.client).with_devnet(|d| d.call_sol(address, &is_installed).unwrap()).unwrap();
    assert!(installed, "{family:?}: SmartSession installed");
    assert!(s.client.is_permission_enabled(address, granted.permission_ids[0]).await.unwrap());

    // USE, one call and a batch.
    let r = record(&s, address, session);
    let used = s.client.use_session(&s.key, &r, &[pay(&s, 7)]).await.unwrap();
    assert_eq!(used.mode, UseMode::Use);
    assert!(used.sent.receipt.success);
    gas.use_single = used.sent.receipt.actual_gas_used;
    let used = s.client.use_session(&s.key, &r, &[pay(&s, 3), pay(&s, 4)]).await.unwrap();
    assert!(used.sent.receipt.success);
    gas.use_batch = used.sent.receipt.actual_gas_used;
    assert_eq!(shop_balance(&s), U256::from(14));

    // A local refusal names policy and rule; the pre-flight alone refuses the same.
    let err = s.client.use_session(&s.key, &r, &[pay(&s, 11)]).await.unwrap_err();
    let ClientError::Refused { error, reason } = err else { panic!("{family:?}: {err}") };
    assert!(error.starts_with("PolicyViolation("), "{family:?}: {error}");
    assert!(reason.contains("UniActionPolicy") && reason.contains("rule 1"), "{reason}");
    {
        let mut c = s.client.options().clone();
        c.checks.local_verdict = false;
        c.checks.estimate_gas = false;
        let devnet = bundler(&s.client).with_devnet(|d| d.clone()).unwrap();
        let blind = client_on(devnet, family, modules).with_options(c);
        let err = blind.use_session(&s.key, &r, &[pay(&s, 11)]).await.unwrap_err();
        let ClientError::Preflight { verdict, .. } = err else { panic!("{family:?}: {err}") };
        let rejected = verdict.rejected().unwrap();
        assert_eq!(rejected.rejection.code.as_deref(), Some("AA23"), "{family:?}");
        let inner = rejected.rejection.inner.as_ref().unwrap();
        if family == Family::Safe {
            // Safe7579 calls its validator through the Safe, which drops the revert data:
            // SmartSession's refusal reaches the EntryPoint as `ExecutionFailed()`.
            assert_eq!(inner.data.as_ref(), SAFE7579_EXECUTION_FAILED, "{verdict}");
            let last = rejected.path.last().unwrap();
            assert_eq!(last.address, s.d.families.safe.adapter, "{verdict}");
        } else {
            assert!(inner.is("PolicyViolation"), "{family:?}: {verdict}");
        }
    }
    assert_eq!(shop_balance(&s), U256::from(14), "nothing was sent");

    // Status: the total left on the amount rule; upstream's SmartSession keeps another
    // storage layout, which is refused rather than misread.
    if modules == Modules::Upstream {
        let err = s.client.session_status(&r).await.unwrap_err();
        assert!(matches!(err, ClientError::UnreadableState { .. }), "{err}");
    } else {
        let status = s.client.session_status(&r).await.unwrap();
        assert!(status.enabled);
        let left = status.limits.iter().find_map(|l| match l.remaining {
            Remaining::Rule { used, left, .. } => Some((used, left)),
            _ => None,
        });
        assert_eq!(left, Some((U256::from(14), U256::from(TOTAL - 14))), "{family:?}");
    }

    // ENABLE on first use: a second session signed by the owner, enabled by the session's op.
    let second = pay_session(&s, 2);
    let enable = s.client.prepare_enable(&s.owner, address, &second).await.unwrap();
    let mut r2 = record(&s, address, second);
    r2.enable = Some(enable);
    let used = s
        .client
        .use_session(&s.key, &r2, &[pay(&s, 5)])
        .await
        .unwrap_or_else(|e| panic!("{family:?} enable: {e}"));
    assert_eq!(used.mode, UseMode::Enable);
    assert!(used.sent.receipt.success);
    gas.enable = used.sent.receipt.actual_gas_used;
    assert!(s.client.is_permission_enabled(address, r2.permission_id).await.unwrap());
    gas
}

#[tokio::test]
async fn the_story_runs_on_every_family_with_mandates_and_upstreams_modules() {
    for modules in MODULES {
        for family in ALL {
            story(family, modules).await;
        }
    }
}

#[tokio::test]
async fn a_grant_on_an_existing_account_without_smart_session_installs_it() {
    for family in ALL {
        let s = setup(family).await;
        let address = deploy_without_smart_session(&s);
        let session = pay_session(&s, 1);
        let granted = s
            .client
            .grant(&s.owner, &Account::existing(address), std::slice::from_ref(&session), &[])
            .await
            .unwrap_or_else(|e| panic!("{family:?}: {e}"));
        assert!(!granted.deployed && granted.installed, "{family:?}");
        assert!(granted.sent.unwrap().receipt.success);
        // Again: nothing left to do.
        let again = s
            .client
            .grant(&s.owner, &Account::existing(address), std::slice::from_ref(&session), &[])
            .await
            .unwrap();
        assert!(again.sent.is_none(), "{family:?}");
        // Another session on the installed SmartSession: enabled by `enableSessions`.
        let other = pay_session(&s, 2);
        let granted = s
            .client
            .grant(&s.owner, &Account::existing(address), std::slice::from_ref(&other), &[])
            .await
            .unwrap_or_else(|e| panic!("{family:?} enableSessions: {e}"));
        assert!(!granted.installed && granted.sent.unwrap().receipt.success, "{family:?}");
        assert!(s.client.is_permission_enabled(address, granted.permission_ids[0]).await.unwrap());
    }
}

#[tokio::test]
async fn an_owner_who_signs_elsewhere_gets_the_calls_and_the_message() {
    let s = setup(Family::Nexus).await;
    let account = Account::new(s.owner.address());
    let address = s.client.account_address(&account).await.unwrap();
    s.client.set_balance(address, U256::from(10u128.pow(18))).unwrap();
    let session = pay_session(&s, 1);
    let prepared =
        s.client.prepare_grant(&account, std::slice::from_ref(&session), &[]).await.unwrap();
    assert!(prepared.deploys && prepared.installs);
    assert_eq!(prepared.calls.len(), 1, "SmartSession's install");
    let op = prepared.op.clone().unwrap();
    // A wrong signature is refused by the pre-flight, nothing sent.
    let stranger = PrivateKeySigner::random();
    let bad = stranger.sign_message_sync(op.message.as_slice()).unwrap().as_bytes();
    let err = s.client.submit_grant(prepared.clone(), &bad).await.unwrap_err();
    assert!(matches!(err, ClientError::Preflight { .. }), "{err}");
    // The owner's signature of the message goes through.
    let good = s.owner.sign_message_sync(op.message.as_slice()).unwrap().as_bytes();
    let granted = s.client.submit_grant(prepared, &good).await.unwrap();
    assert!(granted.sent.unwrap().receipt.success);
    assert!(s.client.is_permission_enabled(address, granted.permission_ids[0]).await.unwrap());
}

#[tokio::test]
async fn a_family_that_is_not_the_accounts_is_refused_before_sending() {
    // A Nexus account with a session, driven by a Kernel client.
    let s = setup(Family::Nexus).await;
    let account = Account::new(s.owner.address());
    let address = s.client.account_address(&account).await.unwrap();
    s.client.set_balance(address, U256::from(10u128.pow(18))).unwrap();
    let session = pay_session(&s, 1);
    s.client
        .grant(&s.owner, &account, std::slice::from_ref(&session), &[mint(&s, address)])
        .await
        .unwrap();
    let devnet = bundler(&s.client).with_devnet(|d| d.clone()).unwrap();
    let kernel = SessionClient::devnet(devnet).with_family(Family::Kernel.on(&s.d));
    let nonce_before = bundler(&kernel)
        .with_devnet(|d| d.entry_point_nonce(address, U256::ZERO).unwrap())
        .unwrap();
    let r = record(&s, address, session.clone());
    let err = kernel.use_session(&s.key, &r, &[pay(&s, 1)]).await.unwrap_err();
    let ClientError::WrongFamily { account, family, account_id } = &err else { panic!("{err}") };
    assert_eq!((*account, family.as_str()), (address, "kernel"));
    assert!(account_id.as_deref().unwrap().starts_with("biconomy.nexus."), "{account_id:?}");
    assert!(err.to_string().contains("is not a kernel account"), "{err}");
    let err = kernel
        .grant(&s.owner, &Account::existing(address), std::slice::from_ref(&session), &[])
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::WrongFamily { .. }), "{err}");
    let err = kernel.enable_target(address, r.permission_id).await.unwrap_err();
    assert!(matches!(err, ClientError::WrongFamily { .. }), "{err}");
    let nonce_after = bundler(&kernel)
        .with_devnet(|d| d.entry_point_nonce(address, U256::ZERO).unwrap())
        .unwrap();
    assert_eq!(nonce_before, nonce_after, "nothing sent");
}

#[tokio::test]
async fn gas_per_family() {
    println!("| family | modules | grant op | USE single | USE batch (2) | ENABLE (1 call) |");
    println!("|---|---|---|---|---|---|");
    for family in ALL {
        for modules in MODULES {
            let g = story(family, modules).await;
            println!(
                "| {family:?} | {modules:?} | {} | {} | {} | {} |",
                g.grant, g.use_single, g.use_batch, g.enable
            );
            assert!(g.grant > g.use_single && !g.use_batch.is_zero() && g.enable > g.use_single);
        }
    }
}
