//! `mandate deploy`: the devnet's genesis plan run on a node, for a new user with a local
//! chain (anvil) that holds none of Mandate's contracts yet.

use clap::Args;
use mandate::sim::genesis;

use crate::{
    flows::{env_key, runtime},
    input::CliError,
};

/// `deploy`.
#[derive(Args, Clone, Debug)]
pub(crate) struct DeployArgs {
    /// The node's JSON-RPC URL (anvil, or a node with its `anvil_setCode` and a code size
    /// limit past EIP-170).
    #[arg(long, env = "MANDATE_RPC_URL", hide_env_values = true)]
    rpc_url: String,
    /// The environment variable holding the deployer's private key (hex); its account pays.
    #[arg(long, default_value = "MANDATE_DEPLOYER_KEY")]
    deployer_key_env: String,
}

/// Deploys, and returns the deployments JSON that `--deployments` takes.
pub(crate) fn deploy(args: DeployArgs) -> Result<String, CliError> {
    let deployer = env_key(&args.deployer_key_env, "the deployer's key")?;
    let deployments = runtime()?
        .block_on(genesis::deploy_with_key(&args.rpc_url, deployer, &genesis::mandate()))
        .map_err(CliError::other)?;
    serde_json::to_string_pretty(&deployments).map_err(CliError::other)
}
