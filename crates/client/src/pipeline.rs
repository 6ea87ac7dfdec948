//! The pipeline both clients drive — [`crate::SessionClient`] for EntryPoint v0.7 ops and
//! (feature `legacy-v2`) `legacy_v2::V2Client` for v0.6 ones: the connect checks (the node's and
//! the bundler's chain ids agree, the bundler serves the EntryPoint), placeholder gas, prices
//! from the chain, progress, the bundler's estimate, send, wait and the receipt check. What
//! differs between the two op shapes is [`EntryPointOp`]; the rest is written once here.

use std::{future::Future, sync::Arc};

use alloy_primitives::{Address, B256, U256, aliases::U192};
use mandate_abi::Deployments;
use mandate_abi::GasEstimate;
use mandate_bundler::{
    Bundler, BundlerClient, BundlerError, NonceFuture, NonceReader, UserOperationReceipt,
};
use mandate_sim::Devnet;

use crate::{Chain, ClientError, Fees, Options, Step};

/// Gas limits an op carries until the bundler's estimate replaces them (and when estimation is
/// switched off).
pub(crate) const PLACEHOLDER_VERIFICATION_GAS: u64 = 2_000_000;
pub(crate) const PLACEHOLDER_CALL_GAS: u64 = 1_000_000;
pub(crate) const PLACEHOLDER_PRE_VERIFICATION_GAS: u64 = 100_000;

/// What differs between the EntryPoint versions' ops in the pipeline, for a bundler `B`.
pub(crate) trait EntryPointOp<B>: Send + Sync {
    /// The log line of a sent op.
    const SENT: &'static str;

    /// The op's sender.
    fn sender(&self) -> Address;

    /// The bundler's gas limits for the op.
    fn estimate(
        &self,
        bundler: &B,
        entry_point: Address,
    ) -> impl Future<Output = Result<GasEstimate, BundlerError>> + Send;

    /// Writes `estimate`'s limits into the op.
    fn apply(&mut self, estimate: &GasEstimate);

    /// Submits the op; its hash.
    fn send(
        &self,
        bundler: &B,
        entry_point: Address,
    ) -> impl Future<Output = Result<B256, BundlerError>> + Send;
}

impl<B: Bundler> EntryPointOp<B> for mandate_abi::UserOperation {
    const SENT: &'static str = "op sent";

    fn sender(&self) -> Address {
        self.sender
    }

    fn estimate(
        &self,
        bundler: &B,
        entry_point: Address,
    ) -> impl Future<Output = Result<GasEstimate, BundlerError>> + Send {
        bundler.estimate_user_operation_gas(self, entry_point)
    }

    fn apply(&mut self, estimate: &GasEstimate) {
        estimate.apply_to(self);
    }

    fn send(
        &self,
        bundler: &B,
        entry_point: Address,
    ) -> impl Future<Output = Result<B256, BundlerError>> + Send {
        bundler.send_user_operation(self, entry_point)
    }
}

#[cfg(feature = "legacy-v2")]
impl<B: mandate_bundler::BundlerV06> EntryPointOp<B> for mandate_abi::legacy_v2::UserOperationV06 {
    const SENT: &'static str = "v0.6 op sent";

    fn sender(&self) -> Address {
        self.sender
    }

    fn estimate(
        &self,
        bundler: &B,
        entry_point: Address,
    ) -> impl Future<Output = Result<GasEstimate, BundlerError>> + Send {
        bundler.estimate_user_operation_gas_v06(self, entry_point)
    }

    fn apply(&mut self, estimate: &GasEstimate) {
        estimate.apply_to_v06(self);
    }

    fn send(
        &self,
        bundler: &B,
        entry_point: Address,
    ) -> impl Future<Output = Result<B256, BundlerError>> + Send {
        bundler.send_user_operation_v06(self, entry_point)
    }
}

/// A client's chain, bundler and options, and the steps every op goes through.
pub(crate) struct Pipeline<B> {
    pub(crate) bundler: B,
    pub(crate) chain: Chain,
    pub(crate) chain_id: u64,
    pub(crate) options: Options,
    /// Which client drives it (in its debug log lines).
    client: &'static str,
}

impl<B> Pipeline<B> {
    pub(crate) fn new(bundler: B, chain: Chain, chain_id: u64, client: &'static str) -> Self {
        Self { bundler, chain, chain_id, options: Options::default(), client }
    }

    /// Reports `step` (debug log and the progress callback).
    pub(crate) fn progress(&self, step: Step) {
        tracing::debug!(?step, chain_id = self.chain_id, "{}", self.client);
        if let Some(progress) = &self.options.progress {
            progress(step);
        }
    }

    /// `(maxFeePerGas, maxPriorityFeePerGas)` under the options' [`Fees`], for a chain whose
    /// latest base fee is `base_fee`.
    pub(crate) fn prices(&self, base_fee: u64) -> (u128, u128) {
        match self.options.fees {
            Fees::FromChain { tip } => (u128::from(base_fee) * 2 + tip, tip),
            Fees::Fixed { max_fee, max_priority_fee } => (max_fee, max_priority_fee),
        }
    }

    /// Runs `f` on the chain's current state (with Mandate's contracts at `deployments`).
    pub(crate) async fn with_state<R, F>(
        &self,
        deployments: Deployments,
        f: F,
    ) -> Result<R, ClientError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Devnet) -> Result<R, ClientError> + Send + 'static,
    {
        self.chain.with_state(deployments, f).await
    }
}

impl<B: Bundler> Pipeline<B> {
    /// The bundler's gas limits, written into `op`.
    pub(crate) async fn estimate<O: EntryPointOp<B>>(
        &self,
        op: &mut O,
        entry_point: Address,
    ) -> Result<(), BundlerError> {
        self.progress(Step::Estimating);
        let estimate = op.estimate(&self.bundler, entry_point).await?;
        op.apply(&estimate);
        Ok(())
    }

    /// Sends `op`, waits for its receipt and checks it succeeded ([`ClientError::Reverted`]
    /// when its execution reverted).
    pub(crate) async fn send<O: EntryPointOp<B>>(
        &self,
        op: &O,
        entry_point: Address,
    ) -> Result<(B256, UserOperationReceipt), ClientError> {
        self.progress(Step::Sending);
        let user_op_hash = op.send(&self.bundler, entry_point).await?;
        tracing::info!(%user_op_hash, sender = %op.sender(), "{}", O::SENT);
        self.progress(Step::Waiting);
        let receipt = self.bundler.wait_for_receipt(user_op_hash, &self.options.wait).await?;
        if !receipt.success {
            return Err(ClientError::Reverted {
                user_op_hash,
                reason: receipt.reason.clone().unwrap_or_default(),
                receipt: Box::new(receipt),
            });
        }
        Ok((user_op_hash, receipt))
    }
}

impl Pipeline<BundlerClient> {
    /// Connects to a node (`rpc_url`) and a bundler (`bundler_url`), and checks the bundler
    /// serves the node's chain and `entry_point`.
    pub(crate) async fn connect(
        rpc_url: &str,
        bundler_url: &str,
        deployments: Deployments,
        entry_point: Address,
        client: &'static str,
    ) -> Result<Self, ClientError> {
        let chain = Chain::Node { rpc_url: rpc_url.to_string() };
        // With the node's nonces the bundler client settles an AA25 on a resend after an
        // ambiguous send (the first copy included meanwhile) instead of reporting it unsettled.
        let nonces = NodeNonces { chain: chain.clone(), deployments };
        let bundler = BundlerClient::new(bundler_url)?.with_nonce_reader(Arc::new(nonces));
        let node_chain = chain.with_state(deployments, |d| Ok(d.chain_id())).await?;
        let chain_id = Bundler::chain_id(&bundler).await?;
        if chain_id != node_chain {
            return Err(ClientError::ChainMismatch { bundler: chain_id, node: node_chain });
        }
        let entry_points = Bundler::supported_entry_points(&bundler).await?;
        if !entry_points.contains(&entry_point) {
            return Err(ClientError::UnsupportedEntryPoint { entry_point });
        }
        Ok(Self::new(bundler, chain, chain_id, client))
    }
}

/// An account's EntryPoint nonce read from the client's node.
struct NodeNonces {
    chain: Chain,
    deployments: Deployments,
}

impl NonceReader for NodeNonces {
    fn get_nonce(&self, entry_point: Address, sender: Address, key: U192) -> NonceFuture<'_> {
        let deployments = Deployments { entry_point, ..self.deployments };
        Box::pin(async move {
            self.chain
                .with_state(deployments, move |d| Ok(d.entry_point_nonce(sender, U256::from(key))?))
                .await
                .map_err(|e| BundlerError::Backend(Box::new(e)))
        })
    }
}
