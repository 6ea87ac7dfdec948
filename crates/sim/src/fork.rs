//! Where the simulator's state comes from: nothing (the embedded devnet, whose genesis the
//! simulator deploys itself) or a JSON-RPC node at a pinned block, read lazily through revm's
//! `AlloyDB` and cached for the life of the simulator.

use std::sync::Arc;

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_provider::{DynProvider, Provider, ProviderBuilder, network::Ethereum};
use revm::{
    DatabaseRef,
    bytecode::Bytecode,
    database::{AlloyDB, BlockId, WrapDatabaseAsync},
    database_interface::DBErrorMarker,
    state::AccountInfo,
};

type RemoteDb = WrapDatabaseAsync<AlloyDB<Ethereum, DynProvider>>;

/// A state read from the node failed.
#[derive(Debug, thiserror::Error)]
#[error("reading fork state: {0}")]
pub(crate) struct BackendError(String);

impl DBErrorMarker for BackendError {}

/// The state under the simulator's cache.
#[derive(Clone, Debug)]
pub(crate) enum Backend {
    /// Nothing: every account starts empty.
    Empty,
    /// A node's state at one block.
    Remote(Arc<RemoteDb>),
}

fn remote_err(e: impl std::fmt::Display) -> BackendError {
    BackendError(e.to_string())
}

impl DatabaseRef for Backend {
    type Error = BackendError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        match self {
            Self::Empty => Ok(None),
            Self::Remote(db) => db.basic_ref(address).map_err(remote_err),
        }
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        match self {
            Self::Empty => Ok(Bytecode::default()),
            Self::Remote(db) => db.code_by_hash_ref(code_hash).map_err(remote_err),
        }
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Self::Error> {
        match self {
            Self::Empty => Ok(U256::ZERO),
            Self::Remote(db) => db.storage_ref(address, index).map_err(remote_err),
        }
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        match self {
            Self::Empty => Ok(keccak256(number.to_string().as_bytes())),
            Self::Remote(db) => db.block_hash_ref(number).map_err(remote_err),
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

/// Connects to `rpc_url` and pins `block` (the latest when `None`).
pub(crate) fn connect(
    rpc_url: &str,
    block: Option<u64>,
) -> Result<(Backend, ForkPoint), BackendError> {
    let url =
        rpc_url.parse().map_err(|e| BackendError(format!("{rpc_url:?} is not a URL: {e}")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(remote_err)?;
    let provider = ProviderBuilder::new().connect_http(url).erased();
    let point = runtime.block_on(async {
        let chain_id = provider.get_chain_id().await.map_err(remote_err)?;
        let number = match block {
            Some(n) => n,
            None => provider.get_block_number().await.map_err(remote_err)?,
        };
        let header = provider
            .get_block_by_number(number.into())
            .await
            .map_err(remote_err)?
            .ok_or_else(|| BackendError(format!("block {number} not found")))?
            .header;
        Ok::<_, BackendError>(ForkPoint {
            chain_id,
            number,
            timestamp: header.timestamp,
            base_fee: header.base_fee_per_gas.unwrap_or_default(),
        })
    })?;
    let db = AlloyDB::new(provider, BlockId::number(point.number));
    Ok((Backend::Remote(Arc::new(WrapDatabaseAsync::with_runtime(db, runtime))), point))
}
