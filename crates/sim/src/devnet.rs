//! The embedded devnet: revm over an in-memory database whose genesis holds the EntryPoint and
//! Mandate's contracts.

use alloy_primitives::{Address, B256, Bytes, Log, Selector, TxKind, U256, address, b256, hex};
use alloy_sol_types::{SolCall, SolEvent, SolInterface};
use mandate_abi::{
    Deployments, EntryPointVersion, PackedUserOperation,
    sol::IEntryPoint::{self, IEntryPointErrors},
};
use mandate_contracts::{artifacts, names};
use revm::{
    Context, DatabaseCommit, DatabaseRef, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext,
    context::{BlockEnv, CfgEnv, TxEnv, result::ExecutionResult},
    database::CacheDB,
    primitives::hardfork::SpecId,
    state::AccountInfo,
};

use crate::{
    DeployError, DevnetDeployments, SimError,
    decode::{LogDecoder, RevertDecoder, decoders},
    fork::{self, Backend, ForkOptions},
    genesis::{self, Step},
    outcome::{BundleOutcome, OpReceipt, Rejection},
};

/// The account that deploys the genesis contracts.
pub const DEPLOYER: Address = address!("00000000000000000000000000000000000d3910");
/// The EOA that submits `handleOps` and collects the fees.
pub const BUNDLER: Address = address!("00000000000000000000000000000000b0a7d1e4");
/// Wei the bundler starts with.
pub const BUNDLER_FUNDS: u128 = 10u128.pow(27);
/// Chain id of the devnet.
pub const DEVNET_CHAIN_ID: u64 = 31337;
/// Block timestamp the devnet starts at (2025-06-15T14:40:00Z).
pub const GENESIS_TIMESTAMP: u64 = 1_750_000_000;
/// Base fee per gas of the devnet's blocks (1 gwei).
pub const BASE_FEE: u64 = 1_000_000_000;
/// Gas limit of the devnet's blocks.
pub const BLOCK_GAS_LIMIT: u64 = 30_000_000;
/// The devnet's contract code size limit (twice EIP-170's 24,576; EIP-3860's initcode limit
/// doubles with it): Kernel v3.1 (28,581 bytes of runtime) and MSAAdvanced (30,081) exceed
/// EIP-170. A [fork](Devnet::fork) keeps the chain's EIP-170 limit.
pub const CODE_SIZE_LIMIT: usize = 49_152;
/// Private key of the genesis VerifyingPaymaster's signer. A publicly known development key
/// (anvil's tenth account): never use it outside a devnet.
pub const PAYMASTER_SIGNER_KEY: B256 =
    b256!("2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6");
/// Address of [`PAYMASTER_SIGNER_KEY`].
pub const PAYMASTER_SIGNER: Address = address!("a0Ee7A142d267C1f36714E4a8F75612F20a79720");
/// Wei the genesis VerifyingPaymaster has deposited at the EntryPoint.
pub const PAYMASTER_DEPOSIT: u128 = 10u128.pow(21);

/// Result of a committed transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxReceipt {
    /// Gas the transaction used.
    pub gas_used: u64,
    /// Its logs.
    pub logs: Vec<Log>,
    /// Its return data.
    pub output: Bytes,
}

/// A saved chain state; see [`Devnet::snapshot`].
#[derive(Clone, Debug)]
pub struct Snapshot(Box<Devnet>);

/// An in-process EVM chain with the EntryPoint and Mandate's contracts at genesis.
#[derive(Clone, Debug)]
pub struct Devnet {
    db: CacheDB<Backend>,
    chain_id: u64,
    base_fee: u64,
    block_number: u64,
    timestamp: u64,
    code_size_limit: Option<usize>,
    deployments: DevnetDeployments,
}

impl Devnet {
    /// A fresh devnet: every genesis contract deployed, the bundler funded.
    ///
    /// The genesis plan runs once per process; later devnets start from a copy of its state.
    pub fn new() -> Result<Self, SimError> {
        static GENESIS: std::sync::OnceLock<Devnet> = std::sync::OnceLock::new();
        if let Some(genesis) = GENESIS.get() {
            return Ok(genesis.clone());
        }
        let genesis = Self::run_genesis()?;
        Ok(GENESIS.get_or_init(|| genesis).clone())
    }

    /// Runs [`genesis::mandate`] on an empty chain.
    fn run_genesis() -> Result<Self, SimError> {
        let mut devnet = Self {
            db: CacheDB::new(Backend::Empty),
            chain_id: DEVNET_CHAIN_ID,
            base_fee: BASE_FEE,
            block_number: 1,
            timestamp: GENESIS_TIMESTAMP,
            code_size_limit: Some(CODE_SIZE_LIMIT),
            deployments: DevnetDeployments::default(),
        };
        devnet.set_balance(BUNDLER, U256::from(BUNDLER_FUNDS));
        devnet.set_balance(DEPLOYER, U256::from(BUNDLER_FUNDS));
        devnet.deployments = devnet.execute(&genesis::mandate())?;
        Ok(devnet)
    }

    /// A simulator on a node's state at `block` (the latest when `None`), read over JSON-RPC
    /// in batches and cached (see [`Self::check`]); ops run as in the block after it.
    /// Mandate's contracts must be deployed there, at `deployments`. The bundler account is
    /// funded in the cache. Code is kept by hash where [`ForkOptions::default`] says.
    ///
    /// Reads block on a runtime of the simulator's own: call it from synchronous code (in an
    /// async program, from `spawn_blocking`).
    pub fn fork(
        rpc_url: &str,
        block: Option<u64>,
        deployments: Deployments,
    ) -> Result<Self, SimError> {
        Self::fork_with(rpc_url, block, deployments, &ForkOptions::default())
    }

    /// [`Self::fork`] with `options`. Connecting is one round trip (the chain id and the
    /// block's header in one batch).
    pub fn fork_with(
        rpc_url: &str,
        block: Option<u64>,
        deployments: Deployments,
        options: &ForkOptions,
    ) -> Result<Self, SimError> {
        let (remote, point) = fork::connect(rpc_url, block, options)?;
        let mut devnet = Self {
            db: CacheDB::new(Backend::Remote(remote)),
            chain_id: point.chain_id,
            base_fee: point.base_fee,
            block_number: point.number + 1,
            timestamp: point.timestamp + 1,
            code_size_limit: None,
            deployments: DevnetDeployments { chain: deployments, ..Default::default() },
        };
        // The bundler is Mandate's own address, with nothing on the chain: funded without a read.
        let funds = AccountInfo { balance: U256::from(BUNDLER_FUNDS), ..Default::default() };
        devnet.db.insert_account_info(BUNDLER, funds);
        Ok(devnet)
    }

    /// Loads `addresses` (balance, nonce, code) into the cache now, in one round trip, so
    /// that later checks read no account from the node.
    pub fn prefetch(&mut self, addresses: &[Address]) -> Result<(), SimError> {
        if let Some(remote) = self.remote() {
            let wanted = fork::Wanted {
                accounts: addresses.iter().copied().collect(),
                ..Default::default()
            };
            remote.fetch(&wanted, None)?;
        }
        Ok(())
    }

    /// JSON-RPC round trips this simulator's fork has made, one after another, since it
    /// connected (connecting included; each batch counts once): 0 on the embedded devnet.
    pub fn round_trips(&self) -> u32 {
        self.remote().map_or(0, |r| r.round_trips())
    }

    /// The fork's node, when this is a fork.
    pub(crate) fn remote(&self) -> Option<&std::sync::Arc<fork::Remote>> {
        match &self.db.db {
            Backend::Empty => None,
            Backend::Remote(remote) | Backend::Speculative(remote, _) => Some(remote),
        }
    }

    /// Sets where reads that miss the cache go.
    pub(crate) fn set_backend(&mut self, backend: Backend) {
        self.db.db = backend;
    }

    /// Forgets what a speculative run cached for reads it missed (the answers it got were
    /// stand-ins).
    pub(crate) fn forget(&mut self, missed: &fork::Wanted) {
        let cache = &mut self.db.cache;
        for account in &missed.accounts {
            cache.accounts.remove(account);
        }
        for (account, slot) in &missed.slots {
            if let Some(cached) = cache.accounts.get_mut(account) {
                cached.storage.remove(slot);
            }
        }
        for number in &missed.block_hashes {
            cache.block_hashes.remove(&U256::from(*number));
        }
    }

    /// Where the genesis contracts are (on a fork, only the chain part is known).
    pub const fn deployments(&self) -> &DevnetDeployments {
        &self.deployments
    }

    /// The chain id.
    pub const fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The base fee of the block the next transactions run in.
    pub const fn base_fee(&self) -> u64 {
        self.base_fee
    }

    /// The current block timestamp.
    pub const fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// Moves the clock (the next transactions run in a block with this timestamp).
    pub const fn set_timestamp(&mut self, timestamp: u64) {
        self.timestamp = timestamp;
    }

    /// The decoder that knows every error of the embedded contracts.
    pub fn decoder(&self) -> &'static RevertDecoder {
        &decoders().reverts
    }

    /// The decoder that knows every event of the embedded contracts.
    pub fn log_decoder(&self) -> &'static LogDecoder {
        &decoders().logs
    }

    /// `Contract.function` for a call, where the contract is a genesis one and the selector is
    /// in an embedded ABI.
    pub fn label(&self, address: Address, selector: Option<Selector>) -> Option<String> {
        let d = &self.deployments;
        let (c, p) = (&d.chain, &d.chain.policies);
        let contract = [
            (Some(c.entry_point), names::ENTRY_POINT),
            (Some(c.smart_session), names::SMART_SESSION),
            (Some(p.sudo), names::SUDO_POLICY),
            (c.session_validators.ecdsa, names::ECDSA_SESSION_VALIDATOR),
            (Some(d.k1_validator), names::K1_VALIDATOR),
            (Some(d.account_factory), names::ACCOUNT_FACTORY),
            (Some(d.test_erc20), names::TEST_ERC20),
            (Some(d.test_erc721), names::TEST_ERC721),
            (Some(p.uni_action), names::UNI_ACTION_POLICY),
            (Some(p.time_frame), names::TIME_FRAME_POLICY),
            (Some(p.erc20_spending_limit), names::ERC20_SPENDING_LIMIT_POLICY),
            (Some(p.usage_limit), names::USAGE_LIMIT_POLICY),
            (Some(p.value_limit), names::VALUE_LIMIT_POLICY),
            (c.paymaster, names::VERIFYING_PAYMASTER),
        ]
        .into_iter()
        .find(|(a, _)| *a == Some(address))
        .map(|(_, name)| name.to_string());
        let function = selector.and_then(|s| decoders().functions.get(&s).cloned());
        match (contract, function) {
            (None, None) => None,
            (contract, function) => Some(format!(
                "{}.{}",
                contract.unwrap_or_else(|| address.to_string()),
                function.unwrap_or_else(
                    || selector.map_or_else(|| "fallback".into(), |s| s.to_string())
                )
            )),
        }
    }

    /// Sets an account's native balance.
    pub fn set_balance(&mut self, address: Address, balance: U256) {
        let mut info = self.account_info(address);
        info.balance = balance;
        self.db.insert_account_info(address, info);
    }

    /// An account's native balance.
    pub fn balance(&self, address: Address) -> U256 {
        self.account_info(address).balance
    }

    /// The account nonce of `address` (an EOA's transaction count, as EIP-7702
    /// authorizations name it).
    pub fn account_nonce(&self, address: Address) -> u64 {
        self.account_info(address).nonce
    }

    /// Replaces the runtime code at `address` (as `anvil_setCode`), keeping its balance, nonce
    /// and storage. Empty `runtime` removes the code.
    pub fn set_code(&mut self, address: Address, runtime: Bytes) {
        let mut info = self.account_info(address);
        info.code_hash = alloy_primitives::keccak256(&runtime);
        info.code = Some(revm::bytecode::Bytecode::new_raw(runtime));
        if info.code.as_ref().is_some_and(|c| c.is_empty()) {
            info.code_hash = revm::primitives::KECCAK_EMPTY;
        }
        self.db.insert_account_info(address, info);
    }

    /// The storage word at `slot` of `address` (0 when never written).
    pub fn storage(&self, address: Address, slot: U256) -> U256 {
        self.db.storage_ref(address, slot).unwrap_or_default()
    }

    /// Whether the code at `address` is Mandate's SmartSession (the embedded artifact), whose
    /// storage layout (contracts/STORAGE.md) the local evaluator reads; upstream's keeps
    /// another.
    pub fn holds_mandate_smart_session(&self, address: Address) -> bool {
        static HASH: std::sync::OnceLock<Option<B256>> = std::sync::OnceLock::new();
        let ours = HASH.get_or_init(|| {
            artifacts()
                .get(names::SMART_SESSION)
                .ok()
                .map(|c| alloy_primitives::keccak256(&c.deployed_bytecode))
        });
        ours.is_some_and(|ours| self.account_info(address).code_hash == ours)
    }

    /// Whether `address` has code.
    pub fn has_code(&self, address: Address) -> bool {
        self.account_info(address).code.is_some_and(|c| !c.is_empty())
    }

    pub(crate) fn account_info(&self, address: Address) -> AccountInfo {
        // From the cache, or (on a fork) from the node; a failed read counts as empty.
        self.db.basic_ref(address).ok().flatten().unwrap_or_default()
    }

    /// The user-op hash of `op` on this chain, as the deployments' EntryPoint computes it (its
    /// release told by [`Deployments::entry_point_version`](mandate_abi::Deployments::entry_point_version),
    /// v0.7 for an EntryPoint at another address); for a v0.8 op with the `0x7702` initCode
    /// marker, with the delegate in the sender's EIP-7702 designator.
    pub fn user_op_hash(&self, op: &PackedUserOperation) -> Result<B256, SimError> {
        let chain = &self.deployments.chain;
        let version = chain.entry_point_version().unwrap_or(EntryPointVersion::V07);
        let delegate = self.account_info(op.sender).code.and_then(|code| code.eip7702_address());
        Ok(op.hash_for(version, chain.entry_point, self.chain_id, delegate)?)
    }

    /// [`Self::user_op_hash`] of an unpacked op: with the delegate of the EIP-7702
    /// authorization it carries, if any, else the sender's current one.
    pub fn user_op_hash_of(&self, op: &mandate_abi::UserOperation) -> Result<B256, SimError> {
        let delegate = self.account_info(op.sender).code.and_then(|code| code.eip7702_address());
        Ok(self.deployments.chain.user_op_hash_of(op, self.chain_id, delegate)?)
    }

    /// This devnet with its deployments seen from the EntryPoint `version`
    /// ([`DevnetDeployments::on_entry_point`]): the state is the same, ops go to that
    /// release and accounts are created by Mandate's factory for it.
    pub fn on_entry_point(mut self, version: EntryPointVersion) -> Self {
        self.deployments = self.deployments.on_entry_point(version);
        self
    }

    pub(crate) fn evm_context(
        &mut self,
    ) -> Context<BlockEnv, TxEnv, CfgEnv, &mut CacheDB<Backend>> {
        let (number, timestamp, chain_id, base_fee, code_size_limit) =
            (self.block_number, self.timestamp, self.chain_id, self.base_fee, self.code_size_limit);
        Context::mainnet()
            .with_db(&mut self.db)
            .modify_cfg_chained(|cfg| {
                cfg.chain_id = chain_id;
                cfg.set_spec_and_mainnet_gas_params(SpecId::PRAGUE);
                // Calls from contract addresses (the EntryPoint, in gas estimation) are allowed,
                // as a node's eth_call allows them.
                cfg.disable_eip3607 = true;
                cfg.limit_contract_code_size = code_size_limit;
            })
            .modify_block_chained(|block| {
                block.number = U256::from(number);
                block.timestamp = U256::from(timestamp);
                block.basefee = base_fee;
                block.gas_limit = BLOCK_GAS_LIMIT;
                block.beneficiary = BUNDLER;
            })
    }

    pub(crate) fn tx(
        &self,
        from: Address,
        to: TxKind,
        value: U256,
        data: Bytes,
        gas_limit: u64,
    ) -> Result<TxEnv, SimError> {
        let nonce = self.account_info(from).nonce;
        TxEnv::builder()
            .caller(from)
            .kind(to)
            .value(value)
            .data(data)
            .gas_limit(gas_limit)
            .gas_price(u128::from(self.base_fee))
            .nonce(nonce)
            .chain_id(Some(self.chain_id))
            .build()
            .map_err(SimError::TxEnv)
    }

    /// Runs a transaction and keeps its effects.
    pub(crate) fn commit(&mut self, tx: TxEnv) -> Result<ExecutionResult, SimError> {
        let result = self.evm_context().build_mainnet().transact_commit(tx)?;
        self.block_number += 1;
        Ok(result)
    }

    /// Runs a transaction and throws its effects away.
    fn dry_run(&mut self, tx: TxEnv) -> Result<ExecutionResult, SimError> {
        let mut evm = self.evm_context().build_mainnet();
        Ok(evm.transact(tx)?.result)
    }

    pub(crate) fn receipt_of(
        &self,
        to: Address,
        result: ExecutionResult,
    ) -> Result<TxReceipt, SimError> {
        match result {
            ExecutionResult::Success { gas, logs, output, .. } => {
                Ok(TxReceipt { gas_used: gas.tx_gas_used(), logs, output: output.into_data() })
            }
            ExecutionResult::Revert { output, .. } => {
                Err(SimError::Reverted { to, revert: self.decoder().decode(&output) })
            }
            ExecutionResult::Halt { reason, .. } => Err(SimError::Halted { to, reason }),
        }
    }

    /// Deploys the embedded contract `name` with ABI-encoded constructor arguments.
    pub fn deploy(&mut self, name: &str, constructor_args: &[u8]) -> Result<Address, SimError> {
        let contract = artifacts().get(name)?;
        self.deploy_code(name, &contract.bytecode, constructor_args)
    }

    /// Deploys creation code with ABI-encoded constructor arguments, from the deployer;
    /// `name` only labels errors.
    pub fn deploy_code(
        &mut self,
        name: &str,
        creation_code: &[u8],
        constructor_args: &[u8],
    ) -> Result<Address, SimError> {
        let code: Bytes = [creation_code, constructor_args].concat().into();
        let address = DEPLOYER.create(self.account_info(DEPLOYER).nonce);
        let tx = self.tx(DEPLOYER, TxKind::Create, U256::ZERO, code, BLOCK_GAS_LIMIT)?;
        let result = self.commit(tx)?;
        let failed = |reason| SimError::Deploy { name: name.to_string(), reason };
        self.receipt_of(address, result)
            .map_err(|e| failed(DeployError::Transaction(Box::new(e))))?;
        if !self.has_code(address) {
            return Err(failed(DeployError::NoCode));
        }
        Ok(address)
    }

    /// Deploys a contract compiled by forge or solc: `path` is its artifact JSON (forge's
    /// `out/<File>.sol/<Name>.json`, or any JSON with `bytecode.object` or `bytecode` as hex).
    pub fn deploy_artifact_file(
        &mut self,
        path: &std::path::Path,
        constructor_args: &[u8],
    ) -> Result<Address, SimError> {
        let name = path.display().to_string();
        let bad = |reason| SimError::Deploy { name: name.clone(), reason };
        let text = std::fs::read_to_string(path).map_err(|e| bad(DeployError::Read(e)))?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(DeployError::Json(e)))?;
        let bytecode = json["bytecode"]["object"]
            .as_str()
            .or_else(|| json["bytecode"].as_str())
            .ok_or_else(|| bad(DeployError::NoBytecode))?;
        let code = hex::decode(bytecode).map_err(|e| bad(DeployError::Hex(e)))?;
        self.deploy_code(&name, &code, constructor_args)
    }

    /// A copy of the whole chain state, to [`Self::revert_to`] later.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot(Box::new(self.clone()))
    }

    /// Puts the chain back as it was at `snapshot` (state, clock and block number).
    pub fn revert_to(&mut self, snapshot: Snapshot) {
        *self = *snapshot.0;
    }

    /// Runs a genesis `plan` (see [`genesis`]) from [`DEPLOYER`] and returns where its
    /// contracts are.
    pub fn execute<D: Default>(&mut self, plan: &genesis::Plan<D>) -> Result<D, SimError> {
        let mut built = D::default();
        for step in plan.steps() {
            match step {
                Step::Deploy { set, name, args, field } => {
                    let code = genesis::creation_code(*set, name, args, &built, DEPLOYER)?;
                    *field(&mut built) = self.deploy_code(name, &code, &[])?;
                }
                Step::Relocate { name, field, target } => {
                    let deployed = *field(&mut built);
                    self.relocate(name, deployed, *target)?;
                    *field(&mut built) = *target;
                }
                Step::Construct { set, name, target } => {
                    self.construct(name, set.bytecode(name)?.clone(), *target)?;
                }
                Step::Deposit { entry_point, account, value } => {
                    let account = account(&built).ok_or_else(|| SimError::Deploy {
                        name: "depositTo".into(),
                        reason: DeployError::NotDeployed,
                    })?;
                    let calldata = genesis::deposit_calldata(account);
                    self.transact(DEPLOYER, entry_point(&built), *value, calldata)?;
                }
            }
        }
        Ok(built)
    }

    /// [`Step::Construct`]: runs `creation` (a constructor without arguments) at `target` and
    /// installs the runtime code it returns there; `name` only labels errors.
    fn construct(&mut self, name: &str, creation: Bytes, target: Address) -> Result<(), SimError> {
        let failed = |reason| SimError::Deploy { name: name.to_string(), reason };
        let mut info = self.account_info(target);
        info.nonce = 1;
        self.db.insert_account_info(target, info);
        self.set_code(target, creation);
        let receipt = self
            .transact(DEPLOYER, target, U256::ZERO, Bytes::new())
            .map_err(|e| failed(DeployError::Transaction(Box::new(e))))?;
        if receipt.output.is_empty() {
            return Err(failed(DeployError::NoCode));
        }
        self.set_code(target, receipt.output);
        Ok(())
    }

    /// [`Step::Relocate`]: moves the code and storage of `from` to `target`, and copies the
    /// SenderCreator `from` created to `target.create(1)`; `name` only labels errors.
    fn relocate(&mut self, name: &str, from: Address, target: Address) -> Result<(), SimError> {
        let vanished =
            || SimError::Deploy { name: name.to_string(), reason: DeployError::Vanished };
        let account = self.db.cache.accounts.remove(&from).ok_or_else(vanished)?;
        self.db.insert_account_info(target, account.info);
        for (slot, value) in account.storage {
            self.db.insert_account_storage(target, slot, value)?;
        }
        let sender_creator = self.account_info(from.create(1)).code.ok_or_else(vanished)?;
        self.set_code(target.create(1), sender_creator.original_bytes());
        Ok(())
    }

    /// Sends a transaction from `from` and keeps its effects.
    pub fn transact(
        &mut self,
        from: Address,
        to: Address,
        value: U256,
        data: Bytes,
    ) -> Result<TxReceipt, SimError> {
        let tx = self.tx(from, TxKind::Call(to), value, data, BLOCK_GAS_LIMIT)?;
        let result = self.commit(tx)?;
        self.receipt_of(to, result)
    }

    /// Calls `to` without keeping effects (as `eth_call`), from the bundler.
    pub fn call(&mut self, to: Address, data: Bytes) -> Result<Bytes, SimError> {
        let tx = self.tx(BUNDLER, TxKind::Call(to), U256::ZERO, data, BLOCK_GAS_LIMIT)?;
        let result = self.dry_run(tx)?;
        self.receipt_of(to, result).map(|r| r.output)
    }

    /// Calls a typed function on `to` without keeping effects.
    pub fn call_sol<C: SolCall>(&mut self, to: Address, call: &C) -> Result<C::Return, SimError> {
        let output = self.call(to, call.abi_encode().into())?;
        C::abi_decode_returns(&output).map_err(|source| SimError::Decode { to, source })
    }

    /// Sends a typed transaction from `from` and keeps its effects.
    pub fn transact_sol<C: SolCall>(
        &mut self,
        from: Address,
        to: Address,
        call: &C,
    ) -> Result<TxReceipt, SimError> {
        self.transact(from, to, U256::ZERO, call.abi_encode().into())
    }

    /// The EntryPoint nonce of `sender` under a 192-bit `key`.
    pub fn entry_point_nonce(&mut self, sender: Address, key: U256) -> Result<U256, SimError> {
        let key = alloy_primitives::aliases::U192::from(key);
        self.call_sol(
            self.deployments.chain.entry_point,
            &IEntryPoint::getNonceCall { sender, key },
        )
    }

    /// Submits `ops` in one `handleOps` transaction from the bundler, as a bundler would, and
    /// keeps its effects when it goes through.
    pub fn handle_ops(&mut self, ops: Vec<PackedUserOperation>) -> Result<BundleOutcome, SimError> {
        let entry_point = self.deployments.chain.entry_point;
        let call = IEntryPoint::handleOpsCall { ops, beneficiary: BUNDLER };
        self.submit_bundle(entry_point, call.abi_encode().into())
    }

    /// Sends `handleOps` calldata to `entry_point` from the bundler; keeps the state only when
    /// the bundle goes through.
    pub(crate) fn submit_bundle(
        &mut self,
        entry_point: Address,
        calldata: Bytes,
    ) -> Result<BundleOutcome, SimError> {
        let tx =
            self.tx(BUNDLER, TxKind::Call(entry_point), U256::ZERO, calldata, BLOCK_GAS_LIMIT)?;
        self.submit_bundle_tx(entry_point, tx)
    }

    /// Sends the bundle transaction `tx` to `entry_point`; keeps the state only when the
    /// bundle goes through.
    pub(crate) fn submit_bundle_tx(
        &mut self,
        entry_point: Address,
        tx: TxEnv,
    ) -> Result<BundleOutcome, SimError> {
        // Only keep the state of bundles that go through, as a chain would only include those.
        let run = self.evm_context().build_mainnet().transact(tx)?;
        match run.result {
            result @ ExecutionResult::Success { .. } => {
                self.db.commit(run.state);
                self.block_number += 1;
                let receipt = self.receipt_of(entry_point, result)?;
                Ok(BundleOutcome::Included {
                    tx_gas_used: receipt.gas_used,
                    receipts: self.receipts(entry_point, receipt.logs),
                })
            }
            ExecutionResult::Revert { output, .. } => Ok(self.bundle_revert(&output)),
            ExecutionResult::Halt { reason, .. } => {
                Err(SimError::Halted { to: entry_point, reason })
            }
        }
    }

    /// Submits one op; see [`Self::handle_ops`].
    pub fn handle_op(&mut self, op: PackedUserOperation) -> Result<BundleOutcome, SimError> {
        self.handle_ops(vec![op])
    }

    pub(crate) fn bundle_revert(&self, output: &[u8]) -> BundleOutcome {
        let rejection = |op_index: U256, reason: String, inner: Option<&[u8]>| {
            let code = reason
                .get(..4)
                .filter(|c| c.starts_with("AA") && c[2..].bytes().all(|b| b.is_ascii_digit()))
                .map(str::to_string);
            BundleOutcome::Rejected(Rejection {
                op_index: op_index.saturating_to(),
                code,
                reason,
                inner: inner.map(|data| self.decoder().decode(data)),
            })
        };
        match IEntryPointErrors::abi_decode(output) {
            Ok(IEntryPointErrors::FailedOp(e)) => rejection(e.opIndex, e.reason, None),
            Ok(IEntryPointErrors::FailedOpWithRevert(e)) => {
                rejection(e.opIndex, e.reason, Some(&e.inner))
            }
            _ => BundleOutcome::Reverted(self.decoder().decode(output)),
        }
    }

    /// Splits the logs of `handleOps` into per-op receipts: each op's logs end with its
    /// `UserOperationEvent`. Validation runs for the whole bundle before any execution, so the
    /// first receipt also holds the validation-phase logs of later ops.
    pub(crate) fn receipts(&self, entry_point: Address, logs: Vec<Log>) -> Vec<OpReceipt> {
        let mut receipts = Vec::new();
        let mut pending: Vec<Log> = Vec::new();
        let mut revert_reason = None;
        for log in logs {
            let topic = log.topics().first().copied().filter(|_| log.address == entry_point);
            match topic {
                Some(IEntryPoint::BeforeExecution::SIGNATURE_HASH) => continue,
                Some(IEntryPoint::UserOperationRevertReason::SIGNATURE_HASH) => {
                    if let Ok(event) =
                        IEntryPoint::UserOperationRevertReason::decode_log_data(&log.data)
                    {
                        revert_reason = Some(self.decoder().decode(&event.revertReason));
                    }
                    pending.push(log);
                }
                Some(IEntryPoint::UserOperationEvent::SIGNATURE_HASH) => {
                    let Ok(event) = IEntryPoint::UserOperationEvent::decode_log_data(&log.data)
                    else {
                        pending.push(log);
                        continue;
                    };
                    pending.push(log);
                    receipts.push(OpReceipt {
                        user_op_hash: event.userOpHash,
                        sender: event.sender,
                        nonce: event.nonce,
                        success: event.success,
                        actual_gas_used: event.actualGasUsed,
                        actual_gas_cost: event.actualGasCost,
                        revert_reason: revert_reason.take(),
                        logs: std::mem::take(&mut pending),
                    });
                }
                _ => pending.push(log),
            }
        }
        receipts
    }
}
