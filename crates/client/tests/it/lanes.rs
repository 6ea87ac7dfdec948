//! Nonce lanes on the embedded devnet: ops of one account in flight at once each take a lane
//! of their own and all land; a lane held by a process that is killed comes back; a family's
//! width (Kernel's 16 bits) bounds the lanes, its top lane works on chain and beyond it the op
//! is refused; an op refused locally gives its lane back.
//!
//! "In flight at once" is made sure of by a bundler that holds every op at
//! `eth_sendUserOperation` until all of them have got there: each op has read its nonce,
//! been estimated and pre-flighted before any of them is included.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;

use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::{Call, GasEstimate, SessionBuilder, UserOperation, custom_action, sol::IERC721};
use mandate_bundler::{Bundler, BundlerError, UserOperationReceipt};
use mandate_client::{
    Account, AccountFamily, Chain, ClientError, FileLanes, Kernel, LaneAllocator, LaneError,
    LaneLease, MandateAccount, MemoryLanes, SessionClient, SessionKey, SessionRecord, Used,
    devnet_bundler::DevnetBundler,
};
use mandate_sim::{Devnet, DevnetDeployments};
use tokio::sync::Barrier;

/// Ops of one account in flight at once.
const IN_FLIGHT: usize = 16;

/// The devnet's bundler, holding each op at `eth_sendUserOperation` until `gate` opens (all
/// its parties have arrived).
#[derive(Clone, Debug)]
struct GatedBundler {
    inner: DevnetBundler,
    gate: Arc<Barrier>,
}

impl Bundler for GatedBundler {
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
        self.gate.wait().await;
        self.inner.send_user_operation(op, entry_point).await
    }

    async fn get_user_operation_receipt(
        &self,
        user_op_hash: B256,
    ) -> Result<Option<UserOperationReceipt>, BundlerError> {
        self.inner.get_user_operation_receipt(user_op_hash).await
    }
}

struct Setup {
    client: Arc<SessionClient<GatedBundler>>,
    devnet: DevnetBundler,
    d: DevnetDeployments,
    family: Arc<dyn AccountFamily>,
    key: SessionKey,
    record: SessionRecord,
}

impl Setup {
    /// A `family` account granted a session that may mint the test NFT (any number; `mint`, not
    /// `safeMint`: Nexus's build has no ERC-721 receiver), its
    /// client leasing lanes from `lanes`, its sends gated `parties` at a time.
    async fn new(
        family: impl Fn(&DevnetDeployments) -> Arc<dyn AccountFamily>,
        lanes: Arc<dyn LaneAllocator>,
        parties: usize,
    ) -> Self {
        let devnet = Devnet::new().unwrap();
        let (d, chain_id) = (*devnet.deployments(), devnet.chain_id());
        let family = family(&d);
        let inner = DevnetBundler::new(devnet);
        let gated = GatedBundler { inner: inner.clone(), gate: Arc::new(Barrier::new(1)) };
        // The grant goes through ungated.
        let mut granting =
            SessionClient::new(gated, Chain::Devnet(inner.clone()), d.chain, chain_id)
                .with_family(Arc::clone(&family));
        // `mint` under SudoPolicy alone, as many times as the lanes need: allowed knowingly.
        granting.options_mut().allow.insert(mandate_abi::explain::Risk::UnboundedSudo);
        let (owner, key) = (PrivateKeySigner::random(), SessionKey::random());
        let spec = Account::new(owner.address());
        let account = granting.account_address(&spec).await.unwrap();
        inner.with_devnet(|dev| dev.set_balance(account, U256::from(10u128.pow(19)))).unwrap();
        let mint = custom_action(d.test_erc721, "mint(address)", &[], &d.chain.policies).unwrap();
        let session =
            SessionBuilder::new(d.ecdsa_session_validator().unwrap(), key.address().to_vec())
                .action(mint)
                .build()
                .unwrap();
        granting.grant(&owner, &spec, std::slice::from_ref(&session), &[]).await.unwrap();
        let record =
            SessionRecord::new(chain_id, account, key.address(), session, d.chain.smart_session);
        let gated = GatedBundler { inner: inner.clone(), gate: Arc::new(Barrier::new(parties)) };
        let client = SessionClient::new(gated, Chain::Devnet(inner.clone()), d.chain, chain_id)
            .with_family(Arc::clone(&family))
            .with_lanes(lanes);
        Self { client: Arc::new(client), devnet: inner, d, family, key, record }
    }

    fn mint(&self) -> Call {
        self.mint_to(self.record.account)
    }

    fn mint_to(&self, to: Address) -> Call {
        Call::new(self.d.test_erc721, IERC721::mintCall { to }.abi_encode())
    }

    /// `n` mints for the account at once (each a task), their results in task order.
    async fn mint_at_once(&self, n: usize) -> Vec<Result<Used, ClientError>> {
        self.at_once(vec![self.mint(); n]).await
    }

    /// An op of the account per call, all at once (each a task), their results in order.
    async fn at_once(&self, calls: Vec<Call>) -> Vec<Result<Used, ClientError>> {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, call) in calls.into_iter().enumerate() {
            let (client, key, record) =
                (Arc::clone(&self.client), self.key.clone(), self.record.clone());
            tasks.spawn(async move { (i, client.use_session(&key, &record, &[call]).await) });
        }
        let mut out: Vec<_> = tasks.join_all().await;
        out.sort_by_key(|(i, _)| *i);
        out.into_iter().map(|(_, r)| r).collect()
    }

    fn nfts(&self) -> U256 {
        let (nft, account) = (self.d.test_erc721, self.record.account);
        self.devnet
            .with_devnet(|d| d.call_sol(nft, &IERC721::balanceOfCall { owner: account }))
            .unwrap()
            .unwrap()
    }

    fn key_of(&self, lane: u32) -> U256 {
        self.family.validator_nonce_key(self.d.chain.smart_session, lane).unwrap()
    }
}

/// A family on the devnet's contracts.
type FamilyOn = fn(&DevnetDeployments) -> Arc<dyn AccountFamily>;

fn mandate(d: &DevnetDeployments) -> Arc<dyn AccountFamily> {
    Arc::new(MandateAccount::devnet(d))
}

fn kernel(d: &DevnetDeployments) -> Arc<dyn AccountFamily> {
    Arc::new(Kernel::devnet(d))
}

/// `IN_FLIGHT` ops of one account, all past their pre-flight before the first is included,
/// all land, each on its own lane and nonce key (sequence 0 of that key); the lanes are free
/// again after.
async fn ops_in_flight_take_distinct_lanes(lanes: Arc<dyn LaneAllocator>) {
    let s = Setup::new(mandate, Arc::clone(&lanes), IN_FLIGHT).await;
    let used: Vec<Used> = s.mint_at_once(IN_FLIGHT).await.into_iter().map(Result::unwrap).collect();
    let mut taken: Vec<u32> = used.iter().map(|u| u.sent.lane.unwrap()).collect();
    taken.sort_unstable();
    assert_eq!(taken, (0..u32::try_from(IN_FLIGHT).unwrap()).collect::<Vec<_>>());
    for u in &used {
        let lane = u.sent.lane.unwrap();
        assert!(u.sent.receipt.success, "lane {lane}");
        assert_eq!(u.sent.nonce_key, s.key_of(lane));
        assert_eq!(u.sent.user_op.nonce, s.key_of(lane) << 64, "sequence 0 of its own key");
    }
    assert_eq!(s.nfts(), U256::from(IN_FLIGHT));
    // Every lane came back: the next op alone takes lane 0 (its key's sequence 1 now).
    let s = Setup { client: Arc::new(rebuilt(&s, 1)), ..s };
    let next = s.mint_at_once(1).await.pop().unwrap().unwrap();
    assert_eq!(next.sent.lane, Some(0));
    assert_eq!(next.sent.user_op.nonce, (s.key_of(0) << 64) + U256::from(1));
}

/// `s`'s client with a gate of `parties`, on the same devnet and lanes.
fn rebuilt(s: &Setup, parties: usize) -> SessionClient<GatedBundler> {
    let gated = GatedBundler { inner: s.devnet.clone(), gate: Arc::new(Barrier::new(parties)) };
    SessionClient::new(gated, Chain::Devnet(s.devnet.clone()), s.d.chain, s.client.chain_id())
        .with_family(Arc::clone(&s.family))
        .with_lanes(Arc::clone(&s.client.options().lanes))
}

#[tokio::test]
async fn ops_in_flight_take_distinct_memory_lanes() {
    ops_in_flight_take_distinct_lanes(Arc::new(MemoryLanes::new())).await;
}

#[tokio::test]
async fn ops_in_flight_take_distinct_file_lanes() {
    let dir = tempfile::tempdir().unwrap();
    ops_in_flight_take_distinct_lanes(Arc::new(FileLanes::new(dir.path()))).await;
}

/// What the client did before lanes: every op on lane 0.
#[derive(Debug)]
struct LaneZero;

impl LaneAllocator for LaneZero {
    fn lease(&self, chain_id: u64, account: Address, _: u64) -> Result<LaneLease, LaneError> {
        Ok(LaneLease::new(chain_id, account, 0, Box::new(())))
    }
}

/// The gate does put ops in flight together: on one lane, the second op carries the nonce the
/// first (sent, held at the gate) will consume. The client's pre-flight, which runs the
/// account's pending ops first ([`mandate_client::pending`]), holds the second back (AA25 after
/// the first) instead of sending it to fail; the first lands once the gate opens.
#[tokio::test]
async fn without_lanes_ops_in_flight_collide() {
    let s = Setup::new(mandate, Arc::new(LaneZero), 2).await;
    let (client, key, record, call) =
        (Arc::clone(&s.client), s.key.clone(), s.record.clone(), s.mint());
    let first = tokio::spawn(async move { client.use_session(&key, &record, &[call]).await });
    let (chain_id, account) = (s.client.chain_id(), s.record.account);
    while s.client.options().pending.of(chain_id, account).unwrap().is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let other = [s.mint_to(Address::repeat_byte(0x0b))];
    let err = s.client.use_session(&s.key, &s.record, &other).await.unwrap_err();
    assert!(
        matches!(&err, ClientError::HeldByPending { pending: 1, reason } if reason.contains("AA25")),
        "{err:?}"
    );
    // The second party at the gate: the first op goes through.
    s.client.bundler().gate.wait().await;
    let used = first.await.unwrap().unwrap();
    assert_eq!(used.sent.user_op.nonce, s.key_of(0) << 64);
    assert_eq!(s.nfts(), U256::from(1));
}

/// Each op on `lane`, whatever else is in flight; remembers the lane count it was asked for.
#[derive(Debug)]
struct FixedLane {
    lane: u32,
    asked: std::sync::Mutex<Vec<u64>>,
}

impl LaneAllocator for FixedLane {
    fn lease(&self, chain_id: u64, account: Address, lanes: u64) -> Result<LaneLease, LaneError> {
        self.asked.lock().unwrap().push(lanes);
        Ok(LaneLease::new(chain_id, account, self.lane, Box::new(())))
    }
}

/// On Nexus (24 bits, the lane first in its key), Safe7579 and the ERC-7579 reference (32
/// bits), an op on the family's top lane lands, and the client asked for the family's width.
#[tokio::test]
async fn the_top_lane_of_each_wide_family_lands() {
    let families: [FamilyOn; 3] = [
        |d| Arc::new(mandate_client::Nexus::devnet(d)),
        |d| Arc::new(mandate_client::Safe7579::devnet(d)),
        |d| Arc::new(mandate_client::Msa::devnet(d)),
    ];
    for (family, bits) in families.into_iter().zip([24, 32, 32]) {
        let top = u32::try_from((1u64 << bits) - 1).unwrap();
        let lanes = Arc::new(FixedLane { lane: top, asked: Default::default() });
        let s = Setup::new(family, lanes.clone(), 1).await;
        let name = s.family.name().to_owned();
        let used = s.mint_at_once(1).await.pop().unwrap();
        let used = used.unwrap_or_else(|e| panic!("{name} lane {top:#x}: {e}"));
        assert!(used.sent.receipt.success, "{name}");
        assert_eq!(used.sent.lane, Some(top), "{name}");
        assert_eq!(used.sent.nonce_key, s.key_of(top), "{name}");
        assert_eq!(*lanes.asked.lock().unwrap(), [1u64 << bits], "{name}");
        assert_eq!(s.nfts(), U256::from(1), "{name}");
    }
}

/// Kernel's lanes are 16 bits: with 65535 of them leased, the op takes the top one (0xffff)
/// and lands with it; with all 65536 leased, it is refused before anything is sent.
#[tokio::test]
async fn kernels_sixteen_bits_bound_its_lanes() {
    let lanes = Arc::new(MemoryLanes::new());
    let s = Setup::new(kernel, lanes.clone(), 1).await;
    assert_eq!(s.family.lanes(), 1 << 16);
    let (chain_id, account) = (s.client.chain_id(), s.record.account);
    let mut held: Vec<LaneLease> =
        (0..0xffff).map(|_| lanes.lease(chain_id, account, s.family.lanes()).unwrap()).collect();
    let top = s.mint_at_once(1).await.pop().unwrap().unwrap();
    assert_eq!(top.sent.lane, Some(0xffff));
    assert!(top.sent.receipt.success);
    assert_eq!(top.sent.nonce_key, s.key_of(0xffff));
    assert_eq!(s.nfts(), U256::from(1));

    held.push(lanes.lease(chain_id, account, s.family.lanes()).unwrap());
    let refused = s.mint_at_once(1).await.pop().unwrap();
    assert!(
        matches!(refused, Err(ClientError::Lane(LaneError::Exhausted { lanes: 0x1_0000, .. }))),
        "{refused:?}"
    );
    assert_eq!(s.nfts(), U256::from(1), "nothing sent");
    drop(held);
    assert_eq!(lanes.leased(chain_id, account).unwrap(), Vec::<u32>::new());
}

/// An op refused locally, and one whose pre-flight fails, give their lanes back; so does an
/// op refused for want of a lane.
#[tokio::test]
async fn refused_ops_release_their_lanes() {
    let lanes = Arc::new(MemoryLanes::new().with_limit(2));
    let s = Setup::new(mandate, lanes.clone(), 1).await;
    let (chain_id, account) = (s.client.chain_id(), s.record.account);
    let _held = lanes.lease(chain_id, account, s.family.lanes()).unwrap();
    // No action for this target: refused by the local verdict, on lane 1.
    let elsewhere =
        Call::new(Address::repeat_byte(0x77), IERC721::mintCall { to: account }.abi_encode());
    let refused = s.client.use_session(&s.key, &s.record, &[elsewhere]).await;
    assert!(matches!(refused, Err(ClientError::Refused { .. })), "{refused:?}");
    assert_eq!(lanes.leased(chain_id, account).unwrap(), [0]);
    // Out of funds: the pre-flight fails.
    s.devnet.with_devnet(|d| d.set_balance(account, U256::ZERO)).unwrap();
    let broke = s.client.use_session(&s.key, &s.record, &[s.mint()]).await;
    assert!(broke.is_err(), "{broke:?}");
    assert_eq!(lanes.leased(chain_id, account).unwrap(), [0]);
    s.devnet.with_devnet(|d| d.set_balance(account, U256::from(10u128.pow(19)))).unwrap();
    let second = lanes.lease(chain_id, account, s.family.lanes()).unwrap();
    let exhausted = s.client.use_session(&s.key, &s.record, &[s.mint()]).await;
    assert!(matches!(exhausted, Err(ClientError::Lane(LaneError::Exhausted { lanes: 2, .. }))));
    drop(second);
    let used = s.client.use_session(&s.key, &s.record, &[s.mint()]).await.unwrap();
    assert_eq!(used.sent.lane, Some(1));
    assert_eq!(lanes.leased(chain_id, account).unwrap(), [0]);
    assert_eq!(s.nfts(), U256::from(1));
}

const CHILD_DIR: &str = "MANDATE_LANES_CHILD_DIR";
const MARK: &str = "@lanes ";
const CHAIN: u64 = 31_337;
const ACCOUNT: Address = Address::repeat_byte(0xac);

/// A lane leased in a process that is SIGKILLed comes back; while the process lives, another
/// process's lease skips it. The child is this test binary again, running this test with
/// `MANDATE_LANES_CHILD_DIR` set: it leases a lane, says which, and sleeps.
#[cfg(unix)]
#[test]
fn a_killed_processs_lane_comes_back() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};

    if let Ok(dir) = std::env::var(CHILD_DIR) {
        let lease = FileLanes::new(dir).lease(CHAIN, ACCOUNT, 1 << 16).unwrap();
        let line = format!("{MARK}LEASED {}\n", lease.lane());
        std::io::stdout().lock().write_all(line.as_bytes()).unwrap();
        loop {
            std::thread::park();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let lanes = FileLanes::new(dir.path());
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "lanes::a_killed_processs_lane_comes_back", "--nocapture"])
        .args(["--test-threads=1"])
        .env(CHILD_DIR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut said = None;
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        if let Some((_, report)) = line.trim_end().split_once(MARK) {
            said = Some(report.to_owned());
            break;
        }
        line.clear();
    }
    let said = said.unwrap_or_else(|| {
        child.kill().unwrap();
        panic!("the child said nothing")
    });
    assert_eq!(said, "LEASED 0");
    // The child holds lane 0.
    assert_eq!(lanes.lease(CHAIN, ACCOUNT, 1 << 16).unwrap().lane(), 1);
    assert!(matches!(lanes.lease(CHAIN, ACCOUNT, 1), Err(LaneError::Exhausted { .. })));
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "killed, not exited");
    assert_eq!(lanes.lease(CHAIN, ACCOUNT, 1).unwrap().lane(), 0, "the dead child's lane");
}
