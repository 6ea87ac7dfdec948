//! Where the simulator's state comes from: nothing (the embedded devnet, whose genesis the
//! simulator deploys itself) or a JSON-RPC node at a pinned block, read lazily through revm's
//! `AlloyDB` and cached for the life of the simulator.

use std::sync::Arc;

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_provider::{
    DynProvider, Provider, ProviderBuilder,
    network::Ethereum,
    transport::{RpcError, TransportError, TransportErrorKind},
};
use revm::{
    DatabaseRef,
    bytecode::Bytecode,
    database::{AlloyDB, AlloyDBError, BlockId, WrapDatabaseAsync},
    database_interface::{AsyncError, DBErrorMarker},
    state::AccountInfo,
};

type RemoteDb = WrapDatabaseAsync<AlloyDB<Ethereum, DynProvider>>;

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
    /// The blocking bridge to the async reads failed (never an error of the node).
    #[error("reading fork state: {0}")]
    Async(#[source] Box<AsyncError<AlloyDBError>>),
}

impl DBErrorMarker for ForkError {}

impl From<TransportError> for ForkError {
    fn from(e: TransportError) -> Self {
        Self::Rpc(without_url(e))
    }
}

impl From<AsyncError<AlloyDBError>> for ForkError {
    fn from(e: AsyncError<AlloyDBError>) -> Self {
        match e {
            AsyncError::Inner(e) => e.into(),
            e => Self::Async(Box::new(e)),
        }
    }
}

impl From<AlloyDBError> for ForkError {
    fn from(e: AlloyDBError) -> Self {
        match e {
            AlloyDBError::Transport(e) => e.into(),
            AlloyDBError::BlockNotFound(number) => Self::BlockNotFound(number),
        }
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

/// The state under the simulator's cache.
#[derive(Clone, Debug)]
pub(crate) enum Backend {
    /// Nothing: every account starts empty.
    Empty,
    /// A node's state at one block.
    Remote(Arc<RemoteDb>),
}

impl DatabaseRef for Backend {
    type Error = ForkError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        match self {
            Self::Empty => Ok(None),
            Self::Remote(db) => db.basic_ref(address).map_err(ForkError::from),
        }
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        match self {
            Self::Empty => Ok(Bytecode::default()),
            Self::Remote(db) => db.code_by_hash_ref(code_hash).map_err(ForkError::from),
        }
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Self::Error> {
        match self {
            Self::Empty => Ok(U256::ZERO),
            Self::Remote(db) => db.storage_ref(address, index).map_err(ForkError::from),
        }
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        match self {
            Self::Empty => Ok(keccak256(number.to_string().as_bytes())),
            Self::Remote(db) => db.block_hash_ref(number).map_err(ForkError::from),
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
) -> Result<(Backend, ForkPoint), ForkError> {
    let url = rpc_url.parse().map_err(ForkError::Url)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(ForkError::Runtime)?;
    let provider = ProviderBuilder::new().connect_http(url).erased();
    let point = runtime.block_on(async {
        let chain_id = provider.get_chain_id().await?;
        let number = match block {
            Some(n) => n,
            None => provider.get_block_number().await?,
        };
        let header = provider
            .get_block_by_number(number.into())
            .await?
            .ok_or(ForkError::BlockNotFound(number))?
            .header;
        Ok::<_, ForkError>(ForkPoint {
            chain_id,
            number,
            timestamp: header.timestamp,
            base_fee: header.base_fee_per_gas.unwrap_or_default(),
        })
    })?;
    let db = AlloyDB::new(provider, BlockId::number(point.number));
    Ok((Backend::Remote(Arc::new(WrapDatabaseAsync::with_runtime(db, runtime))), point))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fork_error_does_not_hold_the_url() {
        // Port 9 (discard) on loopback: nothing answers. The socket address may show (the
        // connect error names it), the URL and the key in its path must not.
        let url = "http://127.0.0.1:9/v2/secret-api-key";
        let Err(e) = connect(url, None) else { panic!("nothing listens there") };
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
}
