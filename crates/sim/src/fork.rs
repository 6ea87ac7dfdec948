//! Where the simulator's state comes from: nothing (the embedded devnet, whose genesis the
//! simulator deploys itself) or a JSON-RPC node at a pinned block.
//!
//! A fork reads the node in JSON-RPC batches, each one round trip: what a check needs is
//! fetched together (see `Devnet::check`), and a read the batches missed is fetched alone.
//! Accounts, slots and block hashes are cached for the pinned block; code is cached by hash
//! across blocks and forks, in the process and (when [`ForkOptions::code_cache`] names a
//! directory) on disk, so that a fork of a later block fetches no code it has seen.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
};

use alloy_primitives::{Address, B256, Bytes, U64, U256, keccak256};
use alloy_provider::transport::{RpcError, TransportError, TransportErrorKind};
use alloy_rpc_client::{RpcClient, Waiter};
use revm::{
    DatabaseRef,
    bytecode::Bytecode,
    database_interface::DBErrorMarker,
    primitives::{KECCAK_EMPTY, StorageKey},
    state::AccountInfo,
};
use serde::Deserialize;
use serde_json::{Value, json};

/// The fork's node could not be reached or answered wrongly. No variant holds the node's URL
/// (API keys live in URLs).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForkError {
    /// The RPC URL does not parse.
    #[error("the RPC URL does not parse: {0}")]
    Url(#[source] url::ParseError),
    /// The runtime that runs the fork's reads could not start.
    #[error("starting the fork's runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A request to the node failed.
    #[error("reading fork state: {0}")]
    Rpc(#[source] TransportError),
    /// The node does not have the block.
    #[error("block {0} not found")]
    BlockNotFound(u64),
    /// The node's code for an account does not hash to the account's code hash.
    #[error("the node's code at {0} does not match its code hash")]
    CodeMismatch(Address),
}

impl DBErrorMarker for ForkError {}

impl From<TransportError> for ForkError {
    fn from(e: TransportError) -> Self {
        Self::Rpc(without_url(e))
    }
}

/// `e` without the request URL that HTTP client errors carry (in their message and `Debug`).
pub(crate) fn without_url(e: TransportError) -> TransportError {
    match e {
        RpcError::Transport(TransportErrorKind::Custom(custom)) => {
            match custom.downcast::<reqwest::Error>() {
                Ok(http) => TransportErrorKind::custom(http.without_url()),
                Err(other) => RpcError::Transport(TransportErrorKind::Custom(other)),
            }
        }
        e => e,
    }
}

/// How a fork reads its node.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ForkOptions {
    /// A directory where code is kept by hash across blocks and runs (`None`: in memory
    /// only). The default is `$MANDATE_CODE_CACHE` when set (empty: none), else
    /// `$XDG_CACHE_HOME/mandate/code`, else `$HOME/.cache/mandate/code`.
    pub code_cache: Option<PathBuf>,
    /// Whether to read with the basic methods only (`eth_getBalance`, `eth_getTransactionCount`,
    /// `eth_getCode`, `eth_getStorageAt`), leaving out `eth_getProof`, `eth_createAccessList`
    /// and `debug_traceCall`, for a node that refuses or charges them: a cold check then
    /// takes a round trip per layer of reads that depend on earlier ones.
    pub basic_methods_only: bool,
    /// Whether a check ([`crate::Devnet::check`]) asks in its first batch for what earlier
    /// checks of the same sender on the same chain read (kept in the process and beside the
    /// code cache), rather than learning it run by run. On by default.
    pub read_hints: bool,
}

impl Default for ForkOptions {
    fn default() -> Self {
        let env = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let code_cache = match std::env::var_os("MANDATE_CODE_CACHE") {
            Some(dir) if dir.is_empty() => None,
            Some(dir) => Some(PathBuf::from(dir)),
            None => env("XDG_CACHE_HOME")
                .or_else(|| env("HOME").map(|home| home.join(".cache")))
                .map(|cache| cache.join("mandate").join("code")),
        };
        Self { code_cache, basic_methods_only: false, read_hints: true }
    }
}

impl ForkOptions {
    /// Options keeping code by hash in `dir` (`None`: in memory only).
    pub fn with_code_cache(mut self, dir: Option<PathBuf>) -> Self {
        self.code_cache = dir;
        self
    }

    /// Options reading with the basic methods only (see [`Self::basic_methods_only`]).
    pub fn with_basic_methods_only(mut self) -> Self {
        self.basic_methods_only = true;
        self
    }

    /// Options without read hints (see [`Self::read_hints`]): every check learns what it
    /// reads afresh.
    pub fn without_read_hints(mut self) -> Self {
        self.read_hints = false;
        self
    }
}

/// Accounts, slots and block hashes to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Wanted {
    pub(crate) accounts: BTreeSet<Address>,
    pub(crate) slots: BTreeSet<(Address, U256)>,
    pub(crate) block_hashes: BTreeSet<u64>,
}

impl Wanted {
    pub(crate) fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.slots.is_empty() && self.block_hashes.is_empty()
    }

    pub(crate) fn extend(&mut self, other: Self) {
        self.accounts.extend(other.accounts);
        self.slots.extend(other.slots);
        self.block_hashes.extend(other.block_hashes);
    }
}

/// A call to run through `eth_createAccessList` beside a batch.
#[derive(Clone, Debug)]
pub(crate) struct AccessListCall {
    pub(crate) from: Address,
    pub(crate) to: Address,
    pub(crate) data: Bytes,
}

/// What a fork has read at its block.
#[derive(Debug, Default)]
struct Cache {
    /// Accounts with their code.
    accounts: HashMap<Address, AccountInfo>,
    storage: HashMap<(Address, U256), U256>,
    /// Accounts whose storage is empty (their proof's storage root): every slot is zero.
    empty_storage: HashSet<Address>,
    block_hashes: HashMap<u64, B256>,
}

/// Code by hash, shared by every fork of the process.
fn code_memory() -> &'static Mutex<HashMap<B256, Bytecode>> {
    static CODE: OnceLock<Mutex<HashMap<B256, Bytecode>>> = OnceLock::new();
    CODE.get_or_init(Default::default)
}

/// The code hash last seen at an account, per chain: whether its code need be fetched.
fn hash_hints() -> &'static Mutex<HashMap<(u64, Address), B256>> {
    static HINTS: OnceLock<Mutex<HashMap<(u64, Address), B256>>> = OnceLock::new();
    HINTS.get_or_init(Default::default)
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn bytecode(raw: Bytes) -> Bytecode {
    Bytecode::new_raw_checked(raw.clone()).unwrap_or_else(|_| Bytecode::new_legacy(raw))
}

/// A node's state at one block, read in batches and cached.
pub(crate) struct Remote {
    client: RpcClient,
    runtime: tokio::runtime::Runtime,
    chain_id: u64,
    block: u64,
    code_cache: Option<PathBuf>,
    /// Whether checks use and keep read hints.
    read_hints: bool,
    /// Whether the node answers `eth_getProof` (an account's fields and code hash in one call).
    proofs: AtomicBool,
    /// Whether the node answers `eth_createAccessList`.
    access_lists: AtomicBool,
    /// Whether the node answers `debug_traceCall` with the prestate tracer.
    prestate: AtomicBool,
    round_trips: AtomicU32,
    cache: Mutex<Cache>,
}

// No URL: the client's transport holds it.
impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("chain_id", &self.chain_id)
            .field("block", &self.block)
            .field("round_trips", &self.round_trips())
            .finish_non_exhaustive()
    }
}

/// `eth_getProof`'s answer, the fields a fork uses.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Proof {
    balance: U256,
    nonce: U64,
    code_hash: B256,
    storage_hash: B256,
}

/// `eth_getBlockByNumber`'s answer, the fields a fork uses.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    number: U64,
    hash: B256,
    timestamp: U64,
    base_fee_per_gas: Option<U64>,
}

/// One account's requests in a batch.
enum AccountReads {
    Proof(Waiter<Proof>, Option<Waiter<Bytes>>),
    Plain(Waiter<U256>, Waiter<U64>, Waiter<Bytes>),
}

/// JSON-RPC's code for a method the node does not have.
const METHOD_NOT_FOUND: i64 = -32601;

/// The storage root of an account without storage.
const EMPTY_ROOT: B256 =
    alloy_primitives::b256!("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");

impl Remote {
    /// JSON-RPC round trips made so far (each batch counts once).
    pub(crate) fn round_trips(&self) -> u32 {
        self.round_trips.load(Ordering::Relaxed)
    }

    /// What earlier checks of `sender`'s ops on this chain read (nothing without read hints).
    pub(crate) fn read_hints(&self, sender: Address) -> Wanted {
        if !self.read_hints {
            return Wanted::default();
        }
        crate::read_hints::load(self.code_cache.as_deref(), self.chain_id, sender)
    }

    /// Keeps what a check of `sender`'s op read, for the next one.
    pub(crate) fn keep_read_hints(&self, sender: Address, reads: &Wanted) {
        if self.read_hints {
            crate::read_hints::keep(self.code_cache.as_deref(), self.chain_id, sender, reads);
        }
    }

    fn tag(&self) -> U64 {
        U64::from(self.block)
    }

    /// What of `wanted` is not cached yet.
    pub(crate) fn missing(&self, wanted: &Wanted) -> Wanted {
        let cache = lock(&self.cache);
        Wanted {
            accounts: wanted
                .accounts
                .iter()
                .filter(|a| !cache.accounts.contains_key(*a))
                .copied()
                .collect(),
            slots: wanted
                .slots
                .iter()
                .filter(|(a, s)| {
                    !cache.empty_storage.contains(a) && !cache.storage.contains_key(&(*a, *s))
                })
                .copied()
                .collect(),
            block_hashes: wanted
                .block_hashes
                .iter()
                .filter(|n| !cache.block_hashes.contains_key(n))
                .copied()
                .collect(),
        }
    }

    /// Code with `hash`, from memory or the disk cache.
    fn cached_code(&self, hash: B256) -> Option<Bytecode> {
        if let Some(code) = lock(code_memory()).get(&hash) {
            return Some(code.clone());
        }
        let raw = std::fs::read(self.code_cache.as_ref()?.join(format!("{hash:x}"))).ok()?;
        (keccak256(&raw) == hash).then(|| {
            let code = bytecode(raw.into());
            lock(code_memory()).insert(hash, code.clone());
            code
        })
    }

    /// Keeps `raw` (whose hash is `hash`) by hash, in memory and on disk (best effort: a
    /// cache that cannot be written is only slower).
    fn keep_code(&self, hash: B256, raw: Bytes) -> Bytecode {
        let code = bytecode(raw.clone());
        lock(code_memory()).insert(hash, code.clone());
        if let Some(dir) = &self.code_cache {
            let _ = write_atomically(dir, &format!("{hash:x}"), &raw);
        }
        code
    }

    fn hint(&self, account: Address) -> Option<B256> {
        lock(hash_hints()).get(&(self.chain_id, account)).copied().or_else(|| {
            let dir = self.code_cache.as_ref()?.join(format!("at-{}", self.chain_id));
            let text = std::fs::read_to_string(dir.join(format!("{account:x}"))).ok()?;
            text.trim().parse().ok()
        })
    }

    fn keep_hint(&self, account: Address, hash: B256) {
        if lock(hash_hints()).insert((self.chain_id, account), hash) == Some(hash) {
            return;
        }
        if let Some(dir) = &self.code_cache {
            let dir = dir.join(format!("at-{}", self.chain_id));
            let _ = write_atomically(&dir, &format!("{account:x}"), format!("{hash:x}").as_bytes());
        }
    }

    /// Reads what of `wanted` is not cached in one batch (one round trip; a second only when
    /// the node turns out not to answer `eth_getProof`, or an account's code changed since
    /// it was cached), with `eth_createAccessList` of `access_list` beside it when the node
    /// offers it. Returns what the access list names that is not cached.
    pub(crate) fn fetch(
        &self,
        wanted: &Wanted,
        access_list: Option<&AccessListCall>,
    ) -> Result<Wanted, ForkError> {
        self.fetch_with(wanted, access_list, 2)
    }

    fn fetch_with(
        &self,
        wanted: &Wanted,
        access_list: Option<&AccessListCall>,
        retries: u8,
    ) -> Result<Wanted, ForkError> {
        let wanted = self.missing(wanted);
        let access_list = access_list.filter(|_| self.access_lists.load(Ordering::Relaxed));
        if wanted.is_empty() && access_list.is_none() {
            return Ok(Wanted::default());
        }
        let tag = self.tag();
        let proofs = self.proofs.load(Ordering::Relaxed);
        let (named, retry) = self.runtime.block_on(async {
            let mut batch = self.client.new_batch();
            let mut accounts = Vec::with_capacity(wanted.accounts.len());
            for &account in &wanted.accounts {
                let hint = self.hint(account);
                let known = hint.is_some_and(|h| self.cached_code(h).is_some());
                let reads = if proofs {
                    let no_slots: &[B256] = &[];
                    let proof = batch.add_call("eth_getProof", &(account, no_slots, tag))?;
                    let code = if known {
                        None
                    } else {
                        Some(batch.add_call("eth_getCode", &(account, tag))?)
                    };
                    AccountReads::Proof(proof, code)
                } else {
                    AccountReads::Plain(
                        batch.add_call("eth_getBalance", &(account, tag))?,
                        batch.add_call("eth_getTransactionCount", &(account, tag))?,
                        batch.add_call("eth_getCode", &(account, tag))?,
                    )
                };
                accounts.push((account, reads));
            }
            let mut slots = Vec::with_capacity(wanted.slots.len());
            for &(account, slot) in &wanted.slots {
                let read: Waiter<U256> =
                    batch.add_call("eth_getStorageAt", &(account, slot, tag))?;
                slots.push((account, slot, read));
            }
            let mut hashes = Vec::with_capacity(wanted.block_hashes.len());
            for &number in &wanted.block_hashes {
                let read: Waiter<Option<Header>> =
                    batch.add_call("eth_getBlockByNumber", &(U64::from(number), false))?;
                hashes.push((number, read));
            }
            let tx = access_list.map(|c| json!({ "from": c.from, "to": c.to, "data": c.data }));
            let listed: Option<Waiter<Value>> = match &tx {
                Some(tx) => Some(batch.add_call("eth_createAccessList", &(tx, tag))?),
                None => None,
            };
            // The prestate tracer names what the call read even when it reverts (an access
            // list then is an error).
            let traced: Option<Waiter<Value>> = match &tx {
                Some(tx) if self.prestate.load(Ordering::Relaxed) => {
                    let config = json!({ "tracer": "prestateTracer",
                        "tracerConfig": { "disableCode": true } });
                    Some(batch.add_call("debug_traceCall", &(tx, tag, config))?)
                }
                _ => None,
            };
            self.round_trips.fetch_add(1, Ordering::Relaxed);
            batch.send().await?;

            let mut retry = Wanted::default();
            let mut fetched_accounts = Vec::with_capacity(accounts.len());
            for (account, reads) in accounts {
                match reads {
                    AccountReads::Proof(proof, code) => {
                        let proof = match proof.await {
                            Ok(proof) => proof,
                            Err(RpcError::ErrorResp(_)) => {
                                // No eth_getProof here: read accounts field by field from now on.
                                self.proofs.store(false, Ordering::Relaxed);
                                retry.accounts.insert(account);
                                continue;
                            }
                            Err(e) => return Err(e.into()),
                        };
                        let code = match code {
                            Some(code) => Some(code.await?),
                            None => None,
                        };
                        let hash = proof.code_hash;
                        let code = if hash == KECCAK_EMPTY || hash == B256::ZERO {
                            None
                        } else if let Some(code) = self.cached_code(hash) {
                            self.keep_hint(account, hash);
                            Some((hash, code))
                        } else if let Some(raw) = code.as_ref().filter(|raw| keccak256(raw) == hash)
                        {
                            self.keep_hint(account, hash);
                            Some((hash, self.keep_code(hash, raw.clone())))
                        } else if code.is_none() && retries > 0 {
                            // Its code changed since it was cached: read it (the hint is now
                            // the new hash, whose code is not cached).
                            self.keep_hint(account, hash);
                            retry.accounts.insert(account);
                            continue;
                        } else {
                            return Err(ForkError::CodeMismatch(account));
                        };
                        fetched_accounts.push((
                            account,
                            proof.balance,
                            proof.nonce.to(),
                            code,
                            Some(proof.storage_hash),
                        ));
                    }
                    AccountReads::Plain(balance, nonce, code) => {
                        let (balance, nonce, raw) = (balance.await?, nonce.await?, code.await?);
                        let code = (!raw.is_empty()).then(|| {
                            let hash = keccak256(&raw);
                            (
                                hash,
                                self.cached_code(hash).unwrap_or_else(|| self.keep_code(hash, raw)),
                            )
                        });
                        fetched_accounts.push((account, balance, nonce.to(), code, None));
                    }
                }
            }
            let mut fetched_slots = Vec::with_capacity(slots.len());
            for (account, slot, read) in slots {
                fetched_slots.push((account, slot, read.await?));
            }
            let mut fetched_hashes = Vec::with_capacity(hashes.len());
            for (number, read) in hashes {
                let header = read.await?.ok_or(ForkError::BlockNotFound(number))?;
                fetched_hashes.push((number, header.hash));
            }
            let listed = match listed {
                Some(read) => match read.await {
                    Ok(list) => Some(list),
                    Err(RpcError::ErrorResp(e)) => {
                        if e.code == METHOD_NOT_FOUND {
                            // Not offered here: do not ask again.
                            self.access_lists.store(false, Ordering::Relaxed);
                        }
                        None
                    }
                    Err(RpcError::DeserError { .. }) => None,
                    Err(e) => return Err(e.into()),
                },
                None => None,
            };
            let traced = match traced {
                Some(read) => match read.await {
                    Ok(prestate) => Some(prestate),
                    Err(RpcError::ErrorResp(_)) | Err(RpcError::DeserError { .. }) => {
                        // No debug namespace (or no prestate tracer) here: do not ask again.
                        self.prestate.store(false, Ordering::Relaxed);
                        None
                    }
                    Err(e) => return Err(e.into()),
                },
                None => None,
            };
            let mut named = listed.as_ref().map(listed_state).unwrap_or_default();
            named.extend(traced.as_ref().map(prestate_state).unwrap_or_default());

            let mut cache = lock(&self.cache);
            for (account, balance, nonce, code, storage_root) in fetched_accounts {
                let (code_hash, code) = code.unwrap_or((KECCAK_EMPTY, Bytecode::default()));
                if storage_root == Some(EMPTY_ROOT) {
                    cache.empty_storage.insert(account);
                }
                cache.accounts.insert(account, AccountInfo::new(balance, nonce, code_hash, code));
            }
            for (account, slot, value) in fetched_slots {
                cache.storage.insert((account, slot), value);
            }
            for (number, hash) in fetched_hashes {
                cache.block_hashes.insert(number, hash);
            }
            Ok::<_, ForkError>((named, retry))
        })?;
        if !retry.is_empty() {
            self.fetch_with(&retry, None, retries.saturating_sub(1))?;
        }
        Ok(self.missing(&named))
    }

    fn account(&self, address: Address) -> Result<AccountInfo, ForkError> {
        if let Some(info) = lock(&self.cache).accounts.get(&address) {
            return Ok(info.clone());
        }
        self.fetch(&Wanted { accounts: [address].into(), ..Default::default() }, None)?;
        Ok(lock(&self.cache).accounts.get(&address).cloned().unwrap_or_default())
    }

    /// A cached slot (zero for an account known to have no storage).
    fn cached_slot(&self, address: Address, slot: U256) -> Option<U256> {
        let cache = lock(&self.cache);
        if cache.empty_storage.contains(&address) {
            return Some(U256::ZERO);
        }
        cache.storage.get(&(address, slot)).copied()
    }

    fn slot(&self, address: Address, slot: U256) -> Result<U256, ForkError> {
        if let Some(value) = self.cached_slot(address, slot) {
            return Ok(value);
        }
        self.fetch(&Wanted { slots: [(address, slot)].into(), ..Default::default() }, None)?;
        Ok(self.cached_slot(address, slot).unwrap_or_default())
    }

    fn block_hash(&self, number: u64) -> Result<B256, ForkError> {
        if let Some(hash) = lock(&self.cache).block_hashes.get(&number) {
            return Ok(*hash);
        }
        self.fetch(&Wanted { block_hashes: [number].into(), ..Default::default() }, None)?;
        Ok(lock(&self.cache).block_hashes.get(&number).copied().unwrap_or_default())
    }

    fn code(&self, hash: B256) -> Bytecode {
        self.cached_code(hash).unwrap_or_default()
    }
}

/// The accounts and slots an `eth_createAccessList` answer names.
fn listed_state(answer: &Value) -> Wanted {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Item {
        address: Address,
        #[serde(default)]
        storage_keys: Vec<B256>,
    }
    let items: Vec<Item> = serde_json::from_value(answer["accessList"].clone()).unwrap_or_default();
    let mut wanted = Wanted::default();
    for item in items {
        wanted.accounts.insert(item.address);
        for key in item.storage_keys {
            wanted.slots.insert((item.address, U256::from_be_bytes(key.0)));
        }
    }
    wanted
}

/// The accounts and slots a prestate trace (`debug_traceCall` with `prestateTracer`) names.
fn prestate_state(answer: &Value) -> Wanted {
    let mut wanted = Wanted::default();
    let Some(accounts) = answer.as_object() else { return wanted };
    for (address, state) in accounts {
        let Ok(address) = address.parse::<Address>() else { continue };
        wanted.accounts.insert(address);
        for slot in state["storage"].as_object().into_iter().flat_map(|s| s.keys()) {
            if let Ok(slot) = slot.parse::<B256>() {
                wanted.slots.insert((address, U256::from_be_bytes(slot.0)));
            }
        }
    }
    wanted
}

pub(crate) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let temp = dir.join(format!(".{name}.{}", std::process::id()));
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, dir.join(name))
}

/// The state under the simulator's cache.
#[derive(Clone, Debug)]
pub(crate) enum Backend {
    /// Nothing: every account starts empty.
    Empty,
    /// A node's state at one block; a read not cached is fetched alone.
    Remote(Arc<Remote>),
    /// A node's state at one block, as far as it is cached: a read not cached is noted (to
    /// be fetched with the others) and answered with an empty account or a zero.
    Speculative(Arc<Remote>, Arc<Mutex<Wanted>>),
}

impl DatabaseRef for Backend {
    type Error = ForkError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        match self {
            Self::Empty => Ok(None),
            Self::Remote(remote) => remote.account(address).map(Some),
            Self::Speculative(remote, missed) => {
                if let Some(info) = lock(&remote.cache).accounts.get(&address) {
                    return Ok(Some(info.clone()));
                }
                lock(missed).accounts.insert(address);
                // Existing, so that its slots are asked for (and noted) too.
                Ok(Some(AccountInfo::default()))
            }
        }
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        match self {
            Self::Empty => Ok(Bytecode::default()),
            Self::Remote(remote) | Self::Speculative(remote, _) => Ok(remote.code(code_hash)),
        }
    }

    fn storage_ref(&self, address: Address, index: StorageKey) -> Result<U256, Self::Error> {
        match self {
            Self::Empty => Ok(U256::ZERO),
            Self::Remote(remote) => remote.slot(address, index),
            Self::Speculative(remote, missed) => match remote.cached_slot(address, index) {
                Some(value) => Ok(value),
                None => {
                    lock(missed).slots.insert((address, index));
                    Ok(U256::ZERO)
                }
            },
        }
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        match self {
            Self::Empty => Ok(keccak256(number.to_string().as_bytes())),
            Self::Remote(remote) => remote.block_hash(number),
            Self::Speculative(remote, missed) => {
                match lock(&remote.cache).block_hashes.get(&number) {
                    Some(hash) => Ok(*hash),
                    None => {
                        lock(missed).block_hashes.insert(number);
                        Ok(B256::ZERO)
                    }
                }
            }
        }
    }
}

/// The block a fork starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ForkPoint {
    pub(crate) chain_id: u64,
    pub(crate) number: u64,
    pub(crate) timestamp: u64,
    pub(crate) base_fee: u64,
}

/// Connects to `rpc_url` and pins `block` (the latest when `None`): one round trip.
pub(crate) fn connect(
    rpc_url: &str,
    block: Option<u64>,
    options: &ForkOptions,
) -> Result<(Arc<Remote>, ForkPoint), ForkError> {
    let url = rpc_url.parse().map_err(ForkError::Url)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(ForkError::Runtime)?;
    let client = RpcClient::new_http(url);
    let (chain_id, header) = runtime.block_on(async {
        let mut batch = client.new_batch();
        let chain_id: Waiter<U64> = batch.add_call("eth_chainId", &())?;
        let header: Waiter<Option<Header>> = match block {
            Some(n) => batch.add_call("eth_getBlockByNumber", &(U64::from(n), false))?,
            None => batch.add_call("eth_getBlockByNumber", &("latest", false))?,
        };
        batch.send().await?;
        let chain_id = chain_id.await?;
        let header = header.await?.ok_or(ForkError::BlockNotFound(block.unwrap_or_default()))?;
        Ok::<_, ForkError>((chain_id.to::<u64>(), header))
    })?;
    let point = ForkPoint {
        chain_id,
        number: header.number.to(),
        timestamp: header.timestamp.to(),
        base_fee: header.base_fee_per_gas.map_or(0, |fee| fee.to()),
    };
    let mut cache = Cache::default();
    cache.block_hashes.insert(point.number, header.hash);
    let remote = Remote {
        client,
        runtime,
        chain_id,
        block: point.number,
        code_cache: options.code_cache.clone(),
        read_hints: options.read_hints,
        proofs: AtomicBool::new(!options.basic_methods_only),
        access_lists: AtomicBool::new(!options.basic_methods_only),
        prestate: AtomicBool::new(!options.basic_methods_only),
        round_trips: AtomicU32::new(1),
        cache: Mutex::new(cache),
    };
    Ok((Arc::new(remote), point))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fork_error_does_not_hold_the_url() {
        // Port 9 (discard) on loopback: nothing answers. The socket address may show (the
        // connect error names it), the URL and the key in its path must not.
        let url = "http://127.0.0.1:9/v2/secret-api-key";
        let Err(e) = connect(url, None, &ForkOptions::default()) else {
            panic!("nothing listens there")
        };
        assert!(matches!(e, ForkError::Rpc(_)), "{e:?}");
        let mut texts = vec![e.to_string(), format!("{e:?}")];
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            texts.push(s.to_string());
            texts.push(format!("{s:?}"));
            source = s.source();
        }
        for text in texts {
            assert!(!text.contains("secret-api-key") && !text.contains("http://"), "{text}");
        }
    }

    #[test]
    fn an_access_list_names_accounts_and_slots() {
        let answer = json!({
            "accessList": [
                { "address": Address::repeat_byte(1), "storageKeys": [B256::with_last_byte(2)] },
                { "address": Address::repeat_byte(3), "storageKeys": [] },
            ],
            "gasUsed": "0x5208",
        });
        let wanted = listed_state(&answer);
        assert_eq!(wanted.accounts.len(), 2);
        assert_eq!(wanted.slots, [(Address::repeat_byte(1), U256::from(2))].into());
        assert!(listed_state(&json!({ "error": "reverted" })).is_empty());
    }

    #[test]
    fn a_prestate_trace_names_accounts_and_slots() {
        let answer = json!({
            "0x0000000000000000000000000000000000000001": { "balance": "0x0" },
            "0x0202020202020202020202020202020202020202": {
                "balance": "0x1", "nonce": 1,
                "storage": { "0x0000000000000000000000000000000000000000000000000000000000000007": "0x01" },
            },
        });
        let wanted = prestate_state(&answer);
        assert_eq!(wanted.accounts.len(), 2);
        assert_eq!(wanted.slots, [(Address::repeat_byte(2), U256::from(7))].into());
        assert!(prestate_state(&json!("nothing")).is_empty());
    }

    #[test]
    fn code_is_kept_by_hash_on_disk_and_hints_by_chain() {
        let dir = tempfile::tempdir().expect("temp dir");
        let options = ForkOptions::default().with_code_cache(Some(dir.path().to_path_buf()));
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let remote = Remote {
            client: RpcClient::new_http("http://127.0.0.1:9".parse().expect("url")),
            runtime,
            chain_id: 7,
            block: 1,
            code_cache: options.code_cache,
            read_hints: true,
            proofs: AtomicBool::new(true),
            access_lists: AtomicBool::new(true),
            prestate: AtomicBool::new(true),
            round_trips: AtomicU32::new(0),
            cache: Mutex::default(),
        };
        // Code no other test keeps (the memory cache is the process's).
        let raw = Bytes::from(b"\x60\x01\x60\x00\x55 code_is_kept_by_hash_on_disk".to_vec());
        let hash = keccak256(&raw);
        assert!(remote.cached_code(hash).is_none());
        remote.keep_code(hash, raw.clone());
        lock(code_memory()).remove(&hash);
        assert_eq!(remote.cached_code(hash).expect("from disk").original_bytes(), raw);
        // A file whose bytes do not hash to its name is not code.
        let other = keccak256(b"other");
        std::fs::write(dir.path().join(format!("{other:x}")), &raw).expect("writes");
        assert!(remote.cached_code(other).is_none());

        let account = Address::repeat_byte(0xc0);
        remote.keep_hint(account, hash);
        lock(hash_hints()).remove(&(7, account));
        assert_eq!(remote.hint(account), Some(hash), "from disk");
        assert_eq!(Remote { chain_id: 8, ..remote }.hint(account), None, "per chain");
    }
}
