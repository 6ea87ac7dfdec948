//! The end-to-end harness: real anvil and real Alto from the pinned npm packages in `e2e/`,
//! on 127.0.0.1 at free ports, with the EntryPoint at its canonical address and Mandate's
//! contracts deployed as on the embedded devnet. Dropping the harness (also while a test
//! panics) kills both processes. `Harness::start_paymaster` (feature `legacy-v2`) adds the
//! pinned ERC-7677 paymaster service (`@pimlico/mock-paymaster`), killed when its handle drops.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Mutex,
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_provider::{Provider, RootProvider, ext::AnvilApi};
use alloy_rpc_client::RpcClient;
use alloy_rpc_types_eth::{TransactionReceipt, TransactionRequest};
use alloy_sol_types::SolCall;
use mandate_abi::ENTRY_POINT_V07;
#[cfg(feature = "legacy-v2")]
use mandate_abi::legacy_v2::ENTRY_POINT_V06;
#[cfg(feature = "legacy-v2")]
use mandate_abi::legacy_v2::LegacyV2Deployments;
use mandate_sim::{DevnetDeployments, genesis};
use serde_json::Value;

use crate::proxy::LatencyProxy;

/// anvil's first dev account: deploys the contracts (anvil signs for it).
pub const DEPLOYER: Address =
    alloy_primitives::address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
/// The gas limit of the deployer's transactions and calls.
const GAS: u64 = 30_000_000;
/// anvil's second dev key: Alto's executor.
const EXECUTOR_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/// anvil's third dev key: Alto's utility wallet.
const UTILITY_KEY: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

/// A child process killed when dropped.
struct Process {
    name: &'static str,
    child: Child,
    log: Option<PathBuf>,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking()
            && let Some(log) = &self.log
        {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(60).collect();
            eprintln!("--- last lines of {} ({}) ---", self.name, log.display());
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// `<workspace>/<name>`, the directory of a `package.json`, above the crate of the test that
/// runs.
fn workspace_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join(name))
        .find(|dir| dir.join("package.json").is_file())
        .unwrap_or_else(|| panic!("the workspace's {name}/ directory (with a package.json)"))
}

fn e2e_dir() -> PathBuf {
    workspace_dir("e2e")
}

fn anvil_bin() -> PathBuf {
    e2e_dir().join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
}

fn alto_entry() -> PathBuf {
    e2e_dir().join("node_modules/@pimlico/alto/esm/cli/alto.js")
}

/// Whether every package `dir/package.json` pins is installed at its pinned version.
fn pinned_versions_installed(dir: &Path) -> bool {
    let read = |path: PathBuf| -> Option<Value> {
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
    };
    let Some(manifest) = read(dir.join("package.json")) else { return false };
    let Some(pins) = manifest["dependencies"].as_object() else { return false };
    pins.iter().all(|(name, version)| {
        read(dir.join("node_modules").join(name).join("package.json"))
            .is_some_and(|installed| installed["version"] == *version)
    })
}

/// `npm ci` in `dir` unless what its `package.json` pins is installed.
fn ensure_pinned(dir: &Path) {
    static INSTALL: Mutex<()> = Mutex::new(());
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if pinned_versions_installed(dir) {
        return;
    }
    let started = Instant::now();
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .status()
        .expect("npm runs (node and npm are needed for the end-to-end tests)");
    assert!(status.success(), "npm ci in {} failed: {status}", dir.display());
    eprintln!("npm ci in {} took {:?}", dir.display(), started.elapsed());
}

/// Installs the pinned anvil and Alto (`npm ci` in `e2e/`) unless they are there.
fn ensure_installed() {
    ensure_pinned(&e2e_dir());
    assert!(anvil_bin().exists() && alto_entry().exists(), "e2e/ installs anvil and Alto");
}

/// The workspace's `interop/` (or a package under it, e.g. `interop/nexus-sdk`), its pinned
/// TypeScript SDKs installed (`npm ci` when they are not): where the end-to-end tests run the
/// Node scripts.
pub fn node_scripts(dir: &str) -> PathBuf {
    let dir = workspace_dir(dir);
    ensure_pinned(&dir);
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind loopback").local_addr().expect("addr").port()
}

fn log_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("mandate-{name}-{}.log", std::process::id()))
}

/// anvil, through alloy's provider and its anvil API.
#[derive(Clone, Debug)]
pub struct Node {
    provider: RootProvider,
}

impl Node {
    /// A node at `url`.
    pub fn new(url: &str) -> Self {
        Self { provider: RootProvider::new_http(url.parse().expect("url")) }
    }

    /// The provider, for what the helpers below do not cover.
    pub fn provider(&self) -> &RootProvider {
        &self.provider
    }

    /// `eth_call` of a typed call.
    pub async fn call<C: SolCall>(&self, to: Address, call: &C) -> C::Return {
        let tx = TransactionRequest::default().to(to).input(Bytes::from(call.abi_encode()).into());
        let out = self.provider.call(tx).await.unwrap_or_else(|e| panic!("eth_call: {e}"));
        C::abi_decode_returns(&out).expect("decodes")
    }

    /// `eth_call` of `data` to `to` from the deployer (a funded account) with a 30M gas limit:
    /// the output, or the revert data.
    pub async fn call_from_deployer(&self, to: Address, data: Bytes) -> Result<Bytes, Bytes> {
        let tx =
            TransactionRequest::default().from(DEPLOYER).to(to).input(data.into()).gas_limit(GAS);
        match self.provider.call(tx).await {
            Ok(out) => Ok(out),
            Err(alloy_json_rpc::RpcError::ErrorResp(payload)) => Err(payload
                .as_revert_data()
                .unwrap_or_else(|| panic!("eth_call: no revert data in {payload}"))),
            Err(other) => panic!("eth_call: {other}"),
        }
    }

    /// The code at `who`.
    pub async fn code(&self, who: Address) -> Bytes {
        self.provider.get_code_at(who).await.unwrap_or_else(|e| panic!("eth_getCode: {e}"))
    }

    /// The ether balance of `who`.
    pub async fn balance(&self, who: Address) -> U256 {
        self.provider.get_balance(who).await.unwrap_or_else(|e| panic!("eth_getBalance: {e}"))
    }

    /// The receipt of transaction `hash`, if it was included.
    pub async fn receipt(&self, hash: B256) -> Option<TransactionReceipt> {
        self.provider
            .get_transaction_receipt(hash)
            .await
            .unwrap_or_else(|e| panic!("eth_getTransactionReceipt: {e}"))
    }

    /// anvil's chain id.
    pub async fn chain_id(&self) -> u64 {
        self.provider.get_chain_id().await.unwrap_or_else(|e| panic!("eth_chainId: {e}"))
    }

    /// A transaction from the deployer (anvil signs, automine includes it); its receipt.
    pub async fn transact(
        &self,
        to: Option<Address>,
        value: U256,
        data: Bytes,
    ) -> TransactionReceipt {
        let mut tx = TransactionRequest::default()
            .from(DEPLOYER)
            .input(data.into())
            .value(value)
            .gas_limit(GAS);
        if let Some(to) = to {
            tx = tx.to(to);
        }
        let pending = self
            .provider
            .send_transaction(tx)
            .await
            .unwrap_or_else(|e| panic!("eth_sendTransaction: {e}"));
        let hash = *pending.tx_hash();
        for _ in 0..200 {
            if let Some(receipt) = self.receipt(hash).await {
                assert!(receipt.status(), "transaction failed: {receipt:?}");
                return receipt;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no receipt for {hash}");
    }

    /// Places the canonical deployment's runtimes at their addresses (`anvil_setCode`) and
    /// returns that deployment.
    pub async fn place_canonical(
        &self,
        runtimes: &mandate_sim::canonical::Runtimes,
    ) -> mandate_abi::Deployments {
        for (name, address, code) in runtimes.iter() {
            self.provider
                .anvil_set_code(address, code.clone())
                .await
                .unwrap_or_else(|e| panic!("anvil_setCode for {name}: {e}"));
        }
        mandate_abi::Deployments::MODULE_SDK_0_4
    }

    /// Places `code` at `at` (`anvil_setCode`).
    pub async fn set_code(&self, at: Address, code: Bytes) {
        self.provider
            .anvil_set_code(at, code)
            .await
            .unwrap_or_else(|e| panic!("anvil_setCode at {at}: {e}"));
    }

    /// Mines an empty block (`anvil_mine`).
    pub async fn mine(&self) {
        self.provider.anvil_mine(Some(1), None).await.unwrap_or_else(|e| panic!("anvil_mine: {e}"));
    }

    /// Sets a balance.
    pub async fn set_balance(&self, who: Address, wei: U256) {
        self.provider
            .anvil_set_balance(who, wei)
            .await
            .unwrap_or_else(|e| panic!("anvil_setBalance: {e}"));
    }

    #[cfg(feature = "legacy-v2")]
    /// The Biconomy v2 stack, deployed by the same plan as `mandate_sim::Devnet::deploy_legacy_v2`
    /// ([`genesis::legacy_v2`]).
    pub async fn deploy_legacy_v2(&self) -> LegacyV2Deployments {
        self.run(&genesis::legacy_v2()).await
    }

    /// Runs a genesis plan from the deployer (anvil signs).
    async fn run<D: Default>(&self, plan: &genesis::Plan<D>) -> D {
        genesis::deploy_on_node(&self.provider, DEPLOYER, plan)
            .await
            .expect("the genesis plan runs")
    }
}

/// anvil + Alto with Mandate's contracts.
pub struct Harness {
    /// anvil's URL.
    pub node_url: String,
    /// Alto's URL.
    pub bundler_url: String,
    /// JSON-RPC to anvil.
    pub node: Node,
    /// Where the contracts are.
    pub deployments: DevnetDeployments,
    #[cfg(feature = "legacy-v2")]
    /// Where the Biconomy v2 stack is, when [`Harness::start_with_legacy_v2`] deployed it.
    pub legacy_v2: Option<LegacyV2Deployments>,
    /// anvil's chain id.
    pub chain_id: u64,
    /// From the start to Alto answering (without `npm ci`).
    pub started_in: Duration,
    /// Of which anvil up and contracts deployed.
    pub deployed_in: Duration,
    /// The latency proxy between Alto and anvil, when [`Harness::start_behind_proxy`] put one
    /// there (its URL reaches anvil too).
    pub node_proxy: Option<LatencyProxy>,
    /// Killed when the harness drops (Alto first: it talks to anvil).
    _alto: Process,
    _anvil: Process,
}

async fn wait_until_up(url: &str, method: &'static str, what: &str, process: &mut Process) {
    let rpc = RpcClient::new_http(url.parse().expect("url"));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(Ok(_)) =
            tokio::time::timeout(Duration::from_secs(2), rpc.request::<_, Value>(method, ())).await
        {
            return;
        }
        if let Ok(Some(status)) = process.child.try_wait() {
            panic!("{what} exited with {status}");
        }
        assert!(Instant::now() < deadline, "{what} did not come up at {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// The URLs are local, but no URL goes into a Debug (the house rule: API keys live in URLs).
impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("Harness");
        debug.field("deployments", &self.deployments);
        #[cfg(feature = "legacy-v2")]
        debug.field("legacy_v2", &self.legacy_v2);
        debug
            .field("chain_id", &self.chain_id)
            .field("started_in", &self.started_in)
            .field("deployed_in", &self.deployed_in)
            .finish_non_exhaustive()
    }
}

/// The pinned `@pimlico/mock-paymaster` (a real ERC-7677 paymaster service over Pimlico's
/// singleton paymasters) on a free loopback port, killed when dropped; its output goes to a
/// temporary log file, shown when a test panics.
pub struct MockPaymaster {
    /// Its JSON-RPC URL.
    pub url: String,
    /// The test ERC-20 it deploys and takes in ERC-20 mode (context `{"token": …}`); anyone
    /// may `sudoMint(address,uint256)` it.
    pub erc20: Address,
    _process: Process,
}

impl std::fmt::Debug for MockPaymaster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockPaymaster").finish_non_exhaustive()
    }
}

/// A bare anvil (installed if needed) on a free loopback port, killed when dropped: no
/// contracts deployed.
pub struct Anvil {
    /// Its URL.
    pub url: String,
    process: Process,
}

impl std::fmt::Debug for Anvil {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anvil").finish_non_exhaustive()
    }
}

impl Anvil {
    /// Starts anvil and waits until it answers.
    pub async fn start() -> Self {
        ensure_installed();
        let port = free_port();
        let anvil_log = log_file("anvil");
        let mut process = Process {
            name: "anvil",
            child: Command::new(anvil_bin())
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                // The genesis plan's Kernel v3.1 and MSAAdvanced are over EIP-170.
                .args(["--code-size-limit", &mandate_sim::CODE_SIZE_LIMIT.to_string()])
                .stdout(Stdio::from(std::fs::File::create(&anvil_log).expect("log file")))
                .stderr(Stdio::null())
                .stdin(Stdio::null())
                .spawn()
                .expect("anvil starts"),
            log: Some(anvil_log),
        };
        let url = format!("http://127.0.0.1:{port}");
        wait_until_up(&url, "eth_chainId", "anvil", &mut process).await;
        Self { url, process }
    }
}

impl Harness {
    /// Installs (if needed) and starts anvil, deploys the contracts, starts Alto.
    pub async fn start() -> Self {
        Self::start_with(false).await
    }

    #[cfg(feature = "legacy-v2")]
    /// [`Harness::start`] with the Biconomy v2 stack as well, and Alto serving EntryPoint v0.6
    /// beside v0.7.
    pub async fn start_with_legacy_v2() -> Self {
        Self::start_with(true).await
    }

    /// [`Harness::start`] with Alto reading anvil through a [`LatencyProxy`] (no delay until
    /// one is set): a bundler on a remote node.
    pub async fn start_behind_proxy() -> Self {
        Self::start_with_options(false, true).await
    }

    #[cfg(feature = "legacy-v2")]
    /// Starts the pinned `@pimlico/mock-paymaster` against this anvil and Alto and waits until
    /// it answers. At start the service deploys Pimlico's singleton paymasters for EntryPoint
    /// v0.6, v0.7 and v0.8 through the deterministic deployer anvil holds, reads each one's
    /// deposit at its EntryPoint (`getDeposit`, i.e. `balanceOf` on all three) and tops it up to
    /// 50 ETH: EntryPoint v0.7 and v0.8 are in the genesis plan, the real v0.6 one is deployed
    /// here ([`genesis::entry_point_v06`]) unless the v2 stack put it there. Verifying mode is
    /// asked for with a context without `token` (e.g. `{}`).
    pub async fn start_paymaster(&self) -> MockPaymaster {
        if self.node.code(ENTRY_POINT_V06).await.is_empty() {
            self.node.run(&genesis::entry_point_v06()).await;
        }
        let port = free_port();
        let log_path = log_file("mock-paymaster");
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut process = Process {
            name: "mock-paymaster",
            child: Command::new("node")
                .arg(e2e_dir().join("mock-paymaster.mjs"))
                .arg(&self.node_url)
                .arg(&self.bundler_url)
                .arg(port.to_string())
                .current_dir(e2e_dir())
                .stdout(Stdio::from(log.try_clone().expect("log file")))
                .stderr(Stdio::from(log))
                .stdin(Stdio::null())
                .spawn()
                .expect("node runs the mock paymaster"),
            log: Some(log_path),
        };
        let url = format!("http://127.0.0.1:{port}");
        // Requests it does not serve go to Alto: eth_chainId answers once it listens.
        wait_until_up(&url, "eth_chainId", "mock-paymaster", &mut process).await;
        // The launcher's "listening" line names the token.
        let deadline = Instant::now() + Duration::from_secs(10);
        let erc20 = loop {
            let log =
                std::fs::read_to_string(process.log.as_ref().expect("a log")).unwrap_or_default();
            if let Some(at) = log.find(", ERC-20 0x") {
                let hex = &log[at + ", ERC-20 ".len()..][..42];
                break hex.parse::<Address>().expect("the token's address");
            }
            assert!(Instant::now() < deadline, "mock-paymaster did not name its ERC-20");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        MockPaymaster { url, erc20, _process: process }
    }

    async fn start_with(legacy_v2: bool) -> Self {
        Self::start_with_options(legacy_v2, false).await
    }

    async fn start_with_options(legacy_v2: bool, proxy: bool) -> Self {
        ensure_installed();
        let started = Instant::now();

        let Anvil { url: node_url, process: anvil } = Anvil::start().await;
        let node = Node::new(&node_url);
        let chain_id = node.chain_id().await;

        let deployments = node.run(&genesis::mandate()).await;
        #[cfg(not(feature = "legacy-v2"))]
        let _ = legacy_v2; // only the v2 stack is optional
        #[cfg(feature = "legacy-v2")]
        let legacy_v2 = if legacy_v2 { Some(node.deploy_legacy_v2().await) } else { None };
        #[cfg_attr(not(feature = "legacy-v2"), allow(unused_mut))]
        let mut entry_points = ENTRY_POINT_V07.to_checksum(None);
        #[cfg(feature = "legacy-v2")]
        if legacy_v2.is_some() {
            entry_points = format!("{entry_points},{}", ENTRY_POINT_V06.to_checksum(None));
        }
        let deployed_in = started.elapsed();
        let node_proxy = proxy.then(|| LatencyProxy::start(&node_url));
        let alto_node_url = node_proxy.as_ref().map_or(node_url.clone(), |p| p.url.clone());

        let port = free_port();
        let alto_log = log_file("alto");
        let log = std::fs::File::create(&alto_log).expect("log file");
        let mut alto = Process {
            name: "alto",
            child: Command::new("node")
                .arg("--require")
                .arg(e2e_dir().join("loopback.cjs"))
                .arg(alto_entry())
                .args(["--entrypoints", &entry_points])
                .args(["--executor-private-keys", EXECUTOR_KEY])
                .args(["--utility-private-key", UTILITY_KEY])
                .args(["--rpc-url", &alto_node_url])
                .args(["--safe-mode", "false"])
                .args(["--port", &port.to_string()])
                .args(["--log-level", "warn"])
                .current_dir(e2e_dir())
                .stdout(Stdio::from(log.try_clone().expect("log file")))
                .stderr(Stdio::from(log))
                .stdin(Stdio::null())
                .spawn()
                .expect("node runs Alto"),
            log: Some(alto_log),
        };
        let bundler_url = format!("http://127.0.0.1:{port}/rpc");
        wait_until_up(&bundler_url, "eth_supportedEntryPoints", "Alto", &mut alto).await;
        Self {
            node_url,
            bundler_url,
            node,
            deployments,
            #[cfg(feature = "legacy-v2")]
            legacy_v2,
            chain_id,
            started_in: started.elapsed(),
            deployed_in,
            node_proxy,
            _alto: alto,
            _anvil: anvil,
        }
    }
}
