//! An in-process bundler over the embedded devnet: [`DevnetBundler`] implements
//! [`mandate_bundler::Bundler`] by running `handleOps` in revm, so code written against the
//! trait runs without any server.
//!
//! ```
//! use alloy_signer_local::PrivateKeySigner;
//! use mandate_bundler::{Bundler, WaitOptions};
//! use mandate_client::devnet_bundler::DevnetBundler;
//! use mandate_sim::Devnet;
//! use mandate_testing::{op::Gas, session::SessionOps}; // the workspace's test support
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut devnet = Devnet::new()?;
//! let (owner, session_key) = (PrivateKeySigner::random(), PrivateKeySigner::random());
//! let ops = SessionOps::new(*devnet.deployments(), devnet.chain_id(), owner, session_key, Gas::SESSION);
//! let (factory, query) = ops.account_query();
//! let ops = ops.with_account(devnet.call_sol(factory, &query)?);
//! devnet.set_balance(ops.account, alloy_primitives::U256::from(10u128.pow(18)));
//! let bundler = DevnetBundler::new(devnet);
//! let entry_point = ops.d.chain.entry_point;
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! let receipt = runtime.block_on(async {
//!     let mut op = ops.create_account_op(vec![ops.session.clone()]);
//!     ops.sign_owner(&mut op)?;
//!     let hash = bundler.send_user_operation(&op, entry_point).await?;
//!     Ok::<_, Box<dyn std::error::Error>>(bundler.wait_for_receipt(hash, &WaitOptions::default()).await?)
//! })?;
//! assert!(receipt.success);
//! assert_eq!(receipt.sender, ops.account);
//! # Ok(())
//! # }
//! ```

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
};

use alloy_primitives::{Address, B256, keccak256};
#[cfg(feature = "legacy-v2")]
use mandate_abi::legacy_v2::{ENTRY_POINT_V06, UserOperationV06};
use mandate_abi::{GasEstimate, UserOperation};
#[cfg(feature = "legacy-v2")]
use mandate_bundler::BundlerV06;
use mandate_bundler::{
    Bundler, BundlerError, RpcFailure, RpcLog, RpcTransactionReceipt, UserOperationReceipt,
};
use mandate_sim::{BundleOutcome, Devnet, OpReceipt};

/// A bundler that runs each op it is sent at once in its own `handleOps` on the embedded
/// devnet, and keeps the receipts. Clones share the devnet. Its gas estimates are the
/// simulator's ([`Devnet::estimate_gas`]): found by search, as a bundler's are.
#[derive(Clone, Debug)]
pub struct DevnetBundler {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    devnet: Devnet,
    bundles: u64,
    receipts: HashMap<B256, UserOperationReceipt>,
}

/// Another thread panicked while it held the devnet.
#[derive(Debug, thiserror::Error)]
#[error("devnet lock poisoned")]
struct LockPoisoned;

impl DevnetBundler {
    /// A bundler over `devnet`.
    pub fn new(devnet: Devnet) -> Self {
        Self { inner: Arc::new(Mutex::new(Inner { devnet, bundles: 0, receipts: HashMap::new() })) }
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, BundlerError> {
        self.inner.lock().map_err(|_| BundlerError::Backend(Box::new(LockPoisoned)))
    }

    /// Runs `f` on the devnet (to read state or change it between ops).
    pub fn with_devnet<R>(&self, f: impl FnOnce(&mut Devnet) -> R) -> Result<R, BundlerError> {
        Ok(f(&mut self.lock()?.devnet))
    }

    /// Gives the devnet back (a copy of its state when clones of the bundler remain).
    pub fn into_devnet(self) -> Result<Devnet, BundlerError> {
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner
                .into_inner()
                .map(|inner| inner.devnet)
                .map_err(|_| BundlerError::Backend(Box::new(LockPoisoned))),
            Err(shared) => shared
                .lock()
                .map(|inner| inner.devnet.clone())
                .map_err(|_| BundlerError::Backend(Box::new(LockPoisoned))),
        }
    }

    /// Runs one op in its own bundle (`run`) unless its hash is known; keeps its receipt.
    fn send(
        &self,
        entry_point: Address,
        expected_entry_point: impl FnOnce(&Devnet) -> bool,
        hash: impl FnOnce(&Devnet) -> Result<B256, mandate_sim::SimError>,
        paymaster: Option<Address>,
        run: impl FnOnce(&mut Devnet) -> Result<BundleOutcome, mandate_sim::SimError>,
    ) -> Result<B256, BundlerError> {
        const METHOD: &str = "eth_sendUserOperation";
        let mut inner = self.lock()?;
        let chain_id = inner.devnet.chain_id();
        if !expected_entry_point(&inner.devnet) {
            return Err(BundlerError::Rpc(RpcFailure::new(
                METHOD,
                -32602,
                format!("unsupported entry point {entry_point}"),
                None,
            )));
        }
        let hash = hash(&inner.devnet).map_err(|e| BundlerError::Backend(Box::new(e)))?;
        if inner.receipts.contains_key(&hash) {
            return Err(BundlerError::Rpc(RpcFailure::new(
                METHOD,
                -32602,
                "user operation already known".into(),
                None,
            )));
        }
        let outcome = run(&mut inner.devnet).map_err(|e| BundlerError::Backend(Box::new(e)))?;
        match outcome {
            BundleOutcome::Included { tx_gas_used, receipts } => {
                inner.bundles += 1;
                let tx_hash = keccak256(
                    [&chain_id.to_be_bytes()[..], &inner.bundles.to_be_bytes(), hash.as_slice()]
                        .concat(),
                );
                let number = inner.bundles;
                for r in receipts {
                    let receipt = receipt(&r, entry_point, paymaster, tx_hash, number, tx_gas_used);
                    inner.receipts.insert(r.user_op_hash, receipt);
                }
                Ok(hash)
            }
            // As a bundler's simulation would: -32500 with the EntryPoint's reason.
            BundleOutcome::Rejected(rejection) => {
                let mut message = rejection.reason.clone();
                if let Some(inner) = &rejection.inner {
                    message.push_str(&format!(": {inner}"));
                }
                Err(BundlerError::Rpc(RpcFailure::new(METHOD, -32500, message, None)))
            }
            BundleOutcome::Reverted(revert) => Err(BundlerError::Rpc(RpcFailure::new(
                METHOD,
                -32500,
                format!("handleOps reverted: {revert}"),
                None,
            ))),
        }
    }
}

fn receipt(
    r: &OpReceipt,
    entry_point: Address,
    paymaster: Option<Address>,
    transaction_hash: B256,
    block_number: u64,
    tx_gas_used: u64,
) -> UserOperationReceipt {
    let logs: Vec<RpcLog> = r
        .logs
        .iter()
        .map(|log| RpcLog {
            address: log.address,
            topics: log.data.topics().to_vec(),
            data: log.data.data.clone(),
            log_index: None,
            transaction_hash: Some(transaction_hash),
        })
        .collect();
    UserOperationReceipt {
        user_op_hash: r.user_op_hash,
        entry_point,
        sender: r.sender,
        nonce: r.nonce,
        paymaster,
        actual_gas_cost: r.actual_gas_cost,
        actual_gas_used: r.actual_gas_used,
        success: r.success,
        reason: r.revert_reason.as_ref().map(ToString::to_string),
        logs: logs.clone(),
        receipt: RpcTransactionReceipt {
            transaction_hash,
            block_hash: None,
            block_number: Some(block_number),
            gas_used: Some(tx_gas_used),
            status: Some(1),
            logs,
        },
    }
}

impl Bundler for DevnetBundler {
    async fn chain_id(&self) -> Result<u64, BundlerError> {
        Ok(self.lock()?.devnet.chain_id())
    }

    async fn supported_entry_points(&self) -> Result<Vec<Address>, BundlerError> {
        Ok(vec![self.lock()?.devnet.deployments().chain.entry_point])
    }

    async fn estimate_user_operation_gas(
        &self,
        op: &UserOperation,
        _entry_point: Address,
    ) -> Result<GasEstimate, BundlerError> {
        self.lock()?.devnet.estimate_gas(op).map_err(|e| BundlerError::Backend(Box::new(e)))
    }

    async fn send_user_operation(
        &self,
        op: &UserOperation,
        entry_point: Address,
    ) -> Result<B256, BundlerError> {
        self.send(
            entry_point,
            |d| entry_point == d.deployments().chain.entry_point,
            |d| d.user_op_hash_of(op),
            op.paymaster,
            // An op with an EIP-7702 authorization goes in a type-4 bundle carrying it.
            |d| {
                d.handle_ops_with_authorizations(
                    vec![op.pack()],
                    op.eip7702_auth.iter().cloned().collect(),
                )
            },
        )
    }

    async fn get_user_operation_receipt(
        &self,
        user_op_hash: B256,
    ) -> Result<Option<UserOperationReceipt>, BundlerError> {
        Ok(self.lock()?.receipts.get(&user_op_hash).cloned())
    }
}

#[cfg(feature = "legacy-v2")]
/// v0.6 ops go to the devnet's v0.6 EntryPoint, which must have been deployed
/// ([`Devnet::deploy_legacy_v2`]).
impl BundlerV06 for DevnetBundler {
    async fn estimate_user_operation_gas_v06(
        &self,
        op: &UserOperationV06,
        _entry_point: Address,
    ) -> Result<GasEstimate, BundlerError> {
        self.lock()?.devnet.estimate_gas_v06(op).map_err(|e| BundlerError::Backend(Box::new(e)))
    }

    async fn send_user_operation_v06(
        &self,
        op: &UserOperationV06,
        entry_point: Address,
    ) -> Result<B256, BundlerError> {
        let paymaster = (op.paymasterAndData.len() >= 20)
            .then(|| Address::from_slice(&op.paymasterAndData[..20]));
        self.send(
            entry_point,
            |d| entry_point == ENTRY_POINT_V06 && d.has_code(ENTRY_POINT_V06),
            |d| Ok(op.hash(entry_point, d.chain_id())),
            paymaster,
            |d| d.handle_ops_v06(vec![op.clone()]),
        )
    }
}
