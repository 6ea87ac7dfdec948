//! The session story on every account family, on the real bytecode (modulekit 0.5.9's Nexus,
//! Kernel v3.1, Safe 1.4.1 + Safe7579, MSAAdvanced; Mandate's account), with Mandate's modules
//! or upstream's runtimes at the canonical addresses, and with each session signer (Mandate's
//! ECDSA signer, an OwnableValidator 1-of-1 and 2-of-3 — Mandate's or Rhinestone's with the
//! modules): grant (deploy + install + enable), USE single and batch, a local refusal naming
//! policy and rule (and the pre-flight's same refusal), ENABLE on first use, status; a grant on
//! an account that exists without SmartSession; a family that does not match the account
//! refused before anything is sent. One body, every combination.
//!
//! Gas per combination: `cargo test -p mandate-client --test it families::gas_per_family --
//! --nocapture`.

use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::{
    Call, Deployments, Erc20Action, Erc20Function, Session, SessionBuilder, SessionValidators,
    SmartSessionMode, UserOperation,
    account::AccountType,
    execute_calls,
    ownable::OwnableData,
    sol::{IERC20, IERC7579Account},
};
use mandate_client::{
    Account, AccountFamily, Chain, ClientError, Kernel, MandateAccount, Msa, Nexus, Remaining,
    Safe7579, SessionClient, SessionKey, SessionRecord, SessionSigner, UseMode,
    devnet_bundler::DevnetBundler,
};
use mandate_sim::{BundleOutcome, Devnet, DevnetDeployments};

pub(crate) const SHOP: Address = Address::repeat_byte(0x5b);
const PER_CALL: u64 = 10;
/// Safe7579's `ExecutionFailed()`.
const SAFE7579_EXECUTION_FAILED: [u8; 4] = alloy_primitives::hex!("acfdb444");
const TOTAL: u64 = 100;

/// The five built-in families.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Mandate,
    Nexus,
    Kernel,
    Safe,
    Msa,
}

pub(crate) const ALL: [Family; 5] =
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
pub(crate) enum Modules {
    /// Mandate's, from the devnet's genesis.
    Mandate,
    /// Upstream's runtimes at the canonical (module-sdk 0.4.0) addresses, with Mandate's ECDSA
    /// session signer beside Rhinestone's OwnableValidator.
    Upstream,
}

const MODULES: [Modules; 2] = [Modules::Mandate, Modules::Upstream];

/// Who signs for the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signer {
    /// Mandate's ECDSA session signer, one key.
    Ecdsa,
    /// An OwnableValidator, one owner, its key held.
    Ownable1of1,
    /// An OwnableValidator, three owners, two of their keys held.
    Ownable2of3,
}

const SIGNERS: [Signer; 3] = [Signer::Ecdsa, Signer::Ownable1of1, Signer::Ownable2of3];

/// A client of `devnet` on `family`, with `modules`.
pub(crate) fn client_on(
    devnet: Devnet,
    family: Family,
    modules: Modules,
) -> SessionClient<DevnetBundler> {
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

pub(crate) struct Setup {
    pub(crate) client: SessionClient<DevnetBundler>,
    pub(crate) d: DevnetDeployments,
    pub(crate) owner: PrivateKeySigner,
    signer: Signer,
    pub(crate) keys: SessionSigner,
    /// An owner of the 2-of-3 session whose key nobody here holds.
    absent_owner: Address,
}

pub(crate) fn bundler(client: &SessionClient<DevnetBundler>) -> &DevnetBundler {
    let Chain::Devnet(bundler) = client.chain() else { unreachable!("a devnet client") };
    bundler
}

pub(crate) async fn setup(family: Family) -> Setup {
    setup_with(family, Modules::Mandate, Signer::Ecdsa).await
}

pub(crate) async fn setup_with(family: Family, modules: Modules, signer: Signer) -> Setup {
    let mut devnet = Devnet::new().unwrap();
    if modules == Modules::Upstream {
        devnet.place_canonical(&mandate_testing::upstream::runtimes());
    }
    let d = *devnet.deployments();
    let client = client_on(devnet, family, modules);
    let held = if signer == Signer::Ownable2of3 { 2 } else { 1 };
    let keys = SessionSigner::new((0..held).map(|_| SessionKey::random()).collect()).unwrap();
    Setup {
        client,
        d,
        owner: PrivateKeySigner::random(),
        signer,
        keys,
        absent_owner: SessionKey::random().address(),
    }
}

/// The session's validator and its data, for the setup's signer.
fn session_validator(s: &Setup) -> (Address, Bytes) {
    let held: Vec<Address> = s.keys.keys().iter().map(SessionKey::address).collect();
    let ownable = s.client.deployments().session_validators.ownable.unwrap();
    match s.signer {
        Signer::Ecdsa => (s.d.ecdsa_session_validator().unwrap(), held[0].to_vec().into()),
        Signer::Ownable1of1 => (ownable, OwnableData::new(1, held).unwrap().encode()),
        Signer::Ownable2of3 => {
            let owners = [held, vec![s.absent_owner]].concat();
            (ownable, OwnableData::new(2, owners).unwrap().encode())
        }
    }
}

pub(crate) fn pay_session(s: &Setup, salt: u8) -> Session {
    let transfer = Erc20Action::new(Erc20Function::Transfer, s.d.test_erc20)
        .recipient(SHOP)
        .amount_limit_per_action(U256::from(PER_CALL))
        .max_amount_limit(U256::from(TOTAL))
        .build(&s.client.deployments().policies, 0)
        .unwrap();
    let (validator, data) = session_validator(s);
    SessionBuilder::new(validator, data.to_vec())
        .action(transfer)
        .salt(B256::repeat_byte(salt))
        .build()
        .unwrap()
}

pub(crate) fn pay(s: &Setup, amount: u64) -> Call {
    Call::new(
        s.d.test_erc20,
        IERC20::transferCall { to: SHOP, amount: U256::from(amount) }.abi_encode(),
    )
}

pub(crate) fn mint(s: &Setup, to: Address) -> Call {
    Call::new(s.d.test_erc20, IERC20::mintCall { to, amount: U256::from(1000) }.abi_encode())
}

pub(crate) fn record(s: &Setup, account: Address, session: Session) -> SessionRecord {
    SessionRecord::new(
        s.client.chain_id(),
        account,
        s.keys.primary().address(),
        session,
        s.client.deployments().smart_session,
    )
}

pub(crate) fn shop_balance(s: &Setup) -> U256 {
    let token = s.d.test_erc20;
    bundler(&s.client)
        .with_devnet(|d| d.call_sol(token, &IERC20::balanceOfCall { owner: SHOP }).unwrap())
        .unwrap()
}

/// The owner's counterfactual account of the setup's family, funded, granted
/// `pay_session(s, 1)` (deploy + install + enable) in an op that also mints it tokens.
pub(crate) async fn granted_with_mint(s: &Setup) -> (Address, Session) {
    let account = Account::new(s.owner.address());
    let address = s.client.account_address(&account).await.unwrap();
    s.client.set_balance(address, U256::from(10u128.pow(18))).unwrap();
    let session = pay_session(s, 1);
    s.client
        .grant(&s.owner, &account, std::slice::from_ref(&session), &[mint(s, address)])
        .await
        .unwrap();
    (address, session)
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

/// The whole story on `family` with `modules` and `signer`, from a counterfactual account.
async fn story(family: Family, modules: Modules, signer: Signer) -> Gas {
    let s = setup_with(family, modules, signer).await;
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
    let used = s.client.use_session(&s.keys, &r, &[pay(&s, 7)]).await.unwrap();
    assert_eq!(used.mode, UseMode::Use);
    assert!(used.sent.receipt.success);
    gas.use_single = used.sent.receipt.actual_gas_used;
    let used = s.client.use_session(&s.keys, &r, &[pay(&s, 3), pay(&s, 4)]).await.unwrap();
    assert!(used.sent.receipt.success);
    gas.use_batch = used.sent.receipt.actual_gas_used;
    assert_eq!(shop_balance(&s), U256::from(14));

    // A local refusal names policy and rule; the pre-flight alone refuses the same.
    let err = s.client.use_session(&s.keys, &r, &[pay(&s, 11)]).await.unwrap_err();
    let ClientError::Refused { error, reason } = err else { panic!("{family:?}: {err}") };
    assert!(error.starts_with("PolicyViolation("), "{family:?}: {error}");
    assert!(reason.contains("UniActionPolicy") && reason.contains("rule 1"), "{reason}");
    {
        let mut c = s.client.options().clone();
        c.checks.local_verdict = false;
        c.checks.estimate_gas = false;
        let devnet = bundler(&s.client).with_devnet(|d| d.clone()).unwrap();
        let blind = client_on(devnet, family, modules).with_options(c);
        let err = blind.use_session(&s.keys, &r, &[pay(&s, 11)]).await.unwrap_err();
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

    // Status: the total left on the amount rule (on upstream's SmartSession, whose own storage
    // is laid out otherwise, the session as granted with its policies' counters).
    let status = s.client.session_status(&r).await.unwrap();
    assert!(status.enabled, "{family:?} {modules:?}");
    let left = status.limits.iter().find_map(|l| match l.remaining {
        Remaining::Rule { used, left, .. } => Some((used, left)),
        _ => None,
    });
    assert_eq!(left, Some((U256::from(14), U256::from(TOTAL - 14))), "{family:?} {modules:?}");

    // ENABLE on first use: a second session signed by the owner, enabled by the session's op.
    let second = pay_session(&s, 2);
    let enable = s
        .client
        .prepare_enable(&s.owner, address, &second, SmartSessionMode::Enable)
        .await
        .unwrap();
    let mut r2 = record(&s, address, second);
    r2.enable = Some(enable);
    let used = s
        .client
        .use_session(&s.keys, &r2, &[pay(&s, 5)])
        .await
        .unwrap_or_else(|e| panic!("{family:?} enable: {e}"));
    assert_eq!(used.mode, UseMode::Enable);
    assert!(used.sent.receipt.success);
    gas.enable = used.sent.receipt.actual_gas_used;
    assert!(s.client.is_permission_enabled(address, r2.permission_id).await.unwrap());
    gas
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
    let (address, session) = granted_with_mint(&s).await;
    let devnet = bundler(&s.client).with_devnet(|d| d.clone()).unwrap();
    let kernel = SessionClient::devnet(devnet).with_family(Family::Kernel.on(&s.d));
    let nonce_before = bundler(&kernel)
        .with_devnet(|d| d.entry_point_nonce(address, U256::ZERO).unwrap())
        .unwrap();
    let r = record(&s, address, session.clone());
    let err = kernel.use_session(&s.keys, &r, &[pay(&s, 1)]).await.unwrap_err();
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
    // A record that names its family is refused by that alone, before the chain is read.
    let typed = SessionRecord { account_type: Some(AccountType::Nexus), ..r.clone() };
    let err = kernel.use_session(&s.keys, &typed, &[pay(&s, 1)]).await.unwrap_err();
    assert!(
        matches!(&err, ClientError::FamilyMismatch { record: "nexus", family, .. } if family == "kernel"),
        "{err}"
    );
    let nonce_after = bundler(&kernel)
        .with_devnet(|d| d.entry_point_nonce(address, U256::ZERO).unwrap())
        .unwrap();
    assert_eq!(nonce_before, nonce_after, "nothing sent");
    // Its own family's client uses it.
    let used = s.client.use_session(&s.keys, &typed, &[pay(&s, 1)]).await.unwrap();
    assert!(used.sent.receipt.success);
}

/// The story on every family × modules × signer, and its gas (`--nocapture` prints it).
#[tokio::test]
async fn gas_per_family() {
    println!(
        "| family | modules | signer | grant op | USE single | USE batch (2) | ENABLE (1 call) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for family in ALL {
        for modules in MODULES {
            for signer in SIGNERS {
                let g = story(family, modules, signer).await;
                println!(
                    "| {family:?} | {modules:?} | {signer:?} | {} | {} | {} | {} |",
                    g.grant, g.use_single, g.use_batch, g.enable
                );
                assert!(
                    g.grant > g.use_single && !g.use_batch.is_zero() && g.enable > g.use_single
                );
            }
        }
    }
}

/// An OwnableValidator session with too few of its owners' keys, or a key that is no owner,
/// is refused before anything is signed, as is a session whose data no signature can satisfy
/// (owners out of order); the two keys held, in either order, go through.
#[tokio::test]
async fn ownable_sessions_need_their_threshold_of_owners() {
    for modules in MODULES {
        let s = setup_with(Family::Nexus, modules, Signer::Ownable2of3).await;
        let (address, session) = granted_with_mint(&s).await;
        let r = record(&s, address, session);
        let one = &s.keys.keys()[0];
        let err = s.client.use_session(one, &r, &[pay(&s, 1)]).await.unwrap_err();
        assert!(
            matches!(
                &err,
                ClientError::Signer {
                    source: mandate_client::SignerError::TooFewOwners { threshold: 2, held: 1 },
                    ..
                }
            ),
            "{err}"
        );
        let stranger = SessionSigner::new(vec![one.clone(), SessionKey::random()]).unwrap();
        let err = s.client.use_session(&stranger, &r, &[pay(&s, 1)]).await.unwrap_err();
        assert!(matches!(err, ClientError::Signer { .. }), "{err}");
        let mut unsorted = r.clone();
        let (validator, _) = session_validator(&s);
        let mut owners: Vec<Address> = s.keys.keys().iter().map(SessionKey::address).collect();
        owners.sort();
        owners.reverse();
        unsorted.session.sessionValidator = validator;
        unsorted.session.sessionValidatorInitData =
            alloy_sol_types::SolValue::abi_encode_params(&(U256::from(1), owners)).into();
        unsorted.permission_id = mandate_abi::PermissionId::of(&unsorted.session);
        let err = s.client.use_session(&s.keys, &unsorted, &[pay(&s, 1)]).await.unwrap_err();
        assert!(
            matches!(
                &err,
                ClientError::Signer { source: mandate_client::SignerError::OwnableData(_), .. }
            ),
            "{err}"
        );
        // The right two keys in either order go through.
        let reversed = SessionSigner::new(s.keys.keys().iter().rev().cloned().collect()).unwrap();
        let used = s.client.use_session(&reversed, &r, &[pay(&s, 2)]).await.unwrap();
        assert!(used.sent.receipt.success, "{modules:?}");
        assert_eq!(shop_balance(&s), U256::from(2));
    }
}

/// The estimation stub of an OwnableValidator 2-of-3 session (two words, `v` 31) estimates what
/// the real signature costs; a stub of the ECDSA signer's shape (one word) cannot be estimated
/// at all: the validator reverts `InvalidSignature()` on it.
#[tokio::test]
async fn ownable_stubs_estimate_what_the_real_signature_costs() {
    let s = setup_with(Family::Nexus, Modules::Upstream, Signer::Ownable2of3).await;
    let (address, session) = granted_with_mint(&s).await;
    let permission_id = mandate_abi::PermissionId::of(&session);
    let scheme = s.keys.scheme(&session, &s.client.deployments().session_validators).unwrap();
    let (entry_point, chain_id) = (s.client.deployments().entry_point, s.client.chain_id());
    let key = s
        .client
        .family()
        .unwrap()
        .validator_nonce_key(s.client.deployments().smart_session, 0)
        .unwrap();
    let call_data = execute_calls(&[pay(&s, 1)]);
    let real = scheme.clone();
    let estimates = bundler(&s.client)
        .with_devnet(move |d| {
            let op = UserOperation {
                sender: address,
                nonce: d.entry_point_nonce(address, key).unwrap(),
                call_data,
                call_gas_limit: 1_000_000,
                verification_gas_limit: 1_000_000,
                pre_verification_gas: U256::from(100_000),
                max_fee_per_gas: u128::from(d.base_fee()) * 2 + 1,
                max_priority_fee_per_gas: 1,
                ..Default::default()
            };
            let estimate = |d: &mut Devnet, op: &UserOperation, sig: &[u8]| {
                let mut op = op.clone();
                op.signature = mandate_abi::encode_use(permission_id, sig);
                d.estimate_gas(&op)
            };
            let stub = estimate(d, &op, &real.kind().dummy_signature()).unwrap();
            let signed = real.sign(op.hash(entry_point, chain_id)).unwrap();
            let signed = estimate(d, &op, &signed).unwrap();
            let ecdsa_shape =
                estimate(d, &op, &mandate_abi::SessionValidatorKind::Ecdsa.dummy_signature());
            (stub, signed, ecdsa_shape)
        })
        .unwrap();
    let (stub, signed, ecdsa_shape) = estimates;
    let (a, b) = (stub.verification_gas_limit, signed.verification_gas_limit);
    let gap = if a > b { a - b } else { b - a };
    println!("verification gas limit: stub {a}, real signature {b}");
    assert!(gap * U256::from(100) <= b, "stub {a} against the real signature's {b}");
    assert_eq!(stub.call_gas_limit, signed.call_gas_limit);
    let err = ecdsa_shape.unwrap_err();
    assert!(
        err.to_string().contains("InvalidSignature") || err.to_string().contains("AA23"),
        "{err}"
    );
}

/// On upstream's SmartSession, the local verdict counts what the session has used (its
/// policies' counters read from the chain): an op past the session's total is refused before
/// anything is sent, naming the rule — not left to the pre-flight.
#[tokio::test]
async fn upstreams_counters_reach_the_local_verdict() {
    let s = setup_with(Family::Nexus, Modules::Upstream, Signer::Ecdsa).await;
    let (address, session) = granted_with_mint(&s).await;
    let r = record(&s, address, session);
    let all: Vec<Call> = (0..TOTAL / PER_CALL).map(|_| pay(&s, PER_CALL)).collect();
    let used = s.client.use_session(&s.keys, &r, &all).await.unwrap();
    assert!(used.sent.receipt.success);
    let err = s.client.use_session(&s.keys, &r, &[pay(&s, 1)]).await.unwrap_err();
    let ClientError::Refused { error, reason } = &err else { panic!("{err}") };
    assert!(error.starts_with("PolicyViolation("), "{error}");
    assert!(reason.contains("rule 1") && reason.contains(&TOTAL.to_string()), "{reason}");
    assert_eq!(shop_balance(&s), U256::from(TOTAL), "nothing more sent");
}

/// An enable signed for UNSAFE_ENABLE (as TypeScript dapps sign) is used in UNSAFE_ENABLE
/// mode, through the validator the record names; a record naming another mode or another
/// validator than what was signed is refused before anything is sent.
#[tokio::test]
async fn enables_are_used_as_they_were_signed() {
    use mandate_client::EnableAs;
    for modules in MODULES {
        let s = setup_with(Family::Nexus, modules, Signer::Ecdsa).await;
        let (address, _) = granted_with_mint(&s).await;
        let owner_validator = s.client.family().unwrap().owner_validator();
        let sent_before = shop_balance(&s);

        // Signed for UNSAFE_ENABLE: the record says so, the op is UNSAFE_ENABLE.
        let unsafe_session = pay_session(&s, 2);
        let enable = s
            .client
            .prepare_enable(&s.owner, address, &unsafe_session, SmartSessionMode::UnsafeEnable)
            .await
            .unwrap();
        let signed_as =
            EnableAs { mode: SmartSessionMode::UnsafeEnable, validator: owner_validator };
        // Claimed as ENABLE: the digest is not the session's under that mode.
        let claimed_enable = SessionRecord {
            enable: Some(enable.clone()),
            enable_as: Some(EnableAs { mode: SmartSessionMode::Enable, ..signed_as }),
            ..record(&s, address, unsafe_session.clone())
        };
        let err = s.client.use_session(&s.keys, &claimed_enable, &[pay(&s, 1)]).await.unwrap_err();
        let ClientError::Refused { error, .. } = &err else { panic!("{modules:?}: {err}") };
        assert!(error.starts_with("HashMismatch("), "{modules:?}: {error}");
        // Through another validator than the owner's: the account does not accept it.
        let other_validator = SessionRecord {
            enable: Some(enable.clone()),
            enable_as: Some(EnableAs { validator: Address::repeat_byte(0x77), ..signed_as }),
            ..record(&s, address, unsafe_session.clone())
        };
        let err = s.client.use_session(&s.keys, &other_validator, &[pay(&s, 1)]).await.unwrap_err();
        assert!(matches!(err, ClientError::Refused { .. }), "{modules:?}: {err}");
        let as_use = SessionRecord {
            enable_as: Some(EnableAs { mode: SmartSessionMode::Use, ..signed_as }),
            ..other_validator
        };
        let err = s.client.use_session(&s.keys, &as_use, &[pay(&s, 1)]).await.unwrap_err();
        assert!(matches!(err, ClientError::NotAnEnableMode), "{err}");
        assert_eq!(shop_balance(&s), sent_before, "{modules:?}: nothing sent");

        let r = SessionRecord {
            enable: Some(enable),
            enable_as: Some(signed_as),
            ..record(&s, address, unsafe_session)
        };
        let used = s.client.use_session(&s.keys, &r, &[pay(&s, 3)]).await.unwrap();
        assert_eq!(used.mode, UseMode::UnsafeEnable, "{modules:?}");
        assert!(used.sent.receipt.success);
        assert!(s.client.is_permission_enabled(address, r.permission_id).await.unwrap());
        assert_eq!(shop_balance(&s), sent_before + U256::from(3));
    }
}

/// A grant response in abstractjs's shape (UNSAFE_ENABLE, the account's validator, bigint
/// tags, OwnableValidator's stub as its signature) for an OwnableValidator session on a Nexus
/// account with upstream's modules, read and redeemed: the first use enables it in
/// UNSAFE_ENABLE mode.
#[tokio::test]
async fn a_dapps_grant_response_is_read_and_redeemed() {
    use mandate_abi::{EnableSessionData, account::AccountType, grant::GrantEntry};
    let s = setup_with(Family::Nexus, Modules::Upstream, Signer::Ownable1of1).await;
    let (address, _) = granted_with_mint(&s).await;
    let session = pay_session(&s, 2);
    let enable = s
        .client
        .prepare_enable(&s.owner, address, &session, SmartSessionMode::UnsafeEnable)
        .await
        .unwrap();
    let entry = GrantEntry {
        mode: SmartSessionMode::UnsafeEnable,
        permission_id: mandate_abi::PermissionId::of(&session),
        signature: OwnableData::new(1, vec![Address::repeat_byte(1)]).unwrap().dummy_signature(),
        enable_session_data: EnableSessionData {
            enable_session: enable,
            validator: s.client.family().unwrap().owner_validator(),
            account_type: AccountType::Nexus,
        },
    };
    // As abstractjs's `stringify` writes it: every bigint (the chain ids) tagged.
    let mut json = serde_json::to_value(vec![entry]).unwrap();
    for digest in
        json[0]["enableSessionData"]["enableSession"]["hashesAndChainIds"].as_array_mut().unwrap()
    {
        let id = digest["chainId"].to_string();
        digest["chainId"] =
            serde_json::json!({ "__type": "bigint", "value": id.trim_matches('"') });
    }
    let entries = mandate_abi::grant::parse_grant_response(&json.to_string()).unwrap();
    let r = SessionRecord::from_grant(
        &entries[0],
        address,
        s.keys.primary().address(),
        s.client.deployments().smart_session,
    )
    .unwrap();
    assert_eq!(r.chain_id, s.client.chain_id());
    let used = s.client.use_session(&s.keys, &r, &[pay(&s, 4)]).await.unwrap();
    assert_eq!(used.mode, UseMode::UnsafeEnable);
    assert!(used.sent.receipt.success);
    assert!(s.client.is_permission_enabled(address, r.permission_id).await.unwrap());
    let again = s.client.use_session(&s.keys, &r, &[pay(&s, 1)]).await.unwrap();
    assert_eq!(again.mode, UseMode::Use);
    assert_eq!(shop_balance(&s), U256::from(5));
}
