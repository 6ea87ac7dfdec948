//! Where the client reads chain state and runs its pre-flights: the embedded devnet (shared
//! with its in-process bundler), or a node, forked afresh at its latest block for each step.

use mandate_abi::Deployments;
use mandate_sim::Devnet;

use crate::{ClientError, devnet_bundler::DevnetBundler};

/// The chain a client works on. Its `Debug` leaves the node's URL out (URLs carry API keys).
#[derive(Clone)]
pub enum Chain {
    /// The embedded devnet behind a [`DevnetBundler`]: reads and pre-flights see every op the
    /// bundler included.
    Devnet(DevnetBundler),
    /// A JSON-RPC node: each step reads a fork at the latest block (lazily, cached for the step).
    Node {
        /// The node's URL (never logged).
        rpc_url: String,
    },
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Devnet(bundler) => f.debug_tuple("Devnet").field(bundler).finish(),
            Self::Node { .. } => f.debug_struct("Node").finish_non_exhaustive(),
        }
    }
}

impl Chain {
    /// Runs `f` on the chain's current state. On a node this forks the latest block on a
    /// blocking thread; nothing `f` does reaches the node.
    pub async fn with_state<R, F>(&self, deployments: Deployments, f: F) -> Result<R, ClientError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Devnet) -> Result<R, ClientError> + Send + 'static,
    {
        match self {
            Self::Devnet(bundler) => bundler.with_devnet(f)?,
            Self::Node { rpc_url } => {
                let url = rpc_url.clone();
                tokio::task::spawn_blocking(move || {
                    let mut fork = Devnet::fork(&url, None, deployments)?;
                    f(&mut fork)
                })
                .await?
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_leaves_the_node_url_out() {
        let chain = Chain::Node { rpc_url: "https://node.example/v2/SECRET".into() };
        assert_eq!(format!("{chain:?}"), "Node { .. }");
    }
}
