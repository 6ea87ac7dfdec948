//! Sponsorship: ops paid by a paymaster instead of the account.
//!
//! - [`Sponsor::Verifying`] is the EntryPoint package's sample VerifyingPaymaster (on the
//!   embedded devnet at genesis) with a key the client holds: its signer signs
//!   `getHash(op, validUntil, validAfter)` and the signature rides in `paymasterData`.
//! - [`Sponsor::Service`] is an ERC-7677 paymaster service: `pm_getPaymasterStubData` before
//!   gas estimation gives the paymaster, stub data and the paymaster's gas limits;
//!   `pm_getPaymasterData` after estimation (unless the stub was final) gives the data the op
//!   is signed and sent with. The caller's `context` (a sponsorship policy id, a token) goes to
//!   both calls.
//!
//! Either way the session must permit ERC-4337 paymasters (`permitERC4337Paymaster`) and hold
//! a user-op policy: the local verdict judges the op with its paymaster fields, and refuses
//! before anything is sent (`PaymasterValidationNotEnabled`) when it does not.

use alloy_primitives::B256;
use alloy_primitives::{Address, Bytes, U256, aliases::U48};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolValue;
use mandate_abi::Deployments;
use mandate_abi::{UserOperation, sol::IVerifyingPaymaster};
use mandate_bundler::{BundlerClient, BundlerError, ClientConfig};
use mandate_sim::Devnet;

use crate::{ClientError, pipeline::Pipeline};

/// A throwaway key whose only use is a well-formed stub signature (not secret).
const STUB_KEY: B256 = B256::repeat_byte(0x11);
/// Paymaster limits a sponsored op carries before it is estimated (and the validation limit
/// when a service's stub gives none).
const PLACEHOLDER_PAYMASTER_GAS: u128 = 300_000;

/// Who pays for ops.
#[derive(Clone)]
#[non_exhaustive]
pub enum Sponsor {
    /// A VerifyingPaymaster and the key it trusts.
    Verifying {
        /// The paymaster.
        paymaster: Address,
        /// Its signer.
        signer: PrivateKeySigner,
    },
    /// An ERC-7677 paymaster service ([`Sponsor::service`]).
    Service(PaymasterService),
}

impl std::fmt::Debug for Sponsor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Verifying { paymaster, signer } => f
                .debug_struct("Verifying")
                .field("paymaster", paymaster)
                .field("signer", &signer.address())
                .finish(),
            Self::Service(service) => f.debug_tuple("Service").field(service).finish(),
        }
    }
}

/// An ERC-7677 paymaster service: a JSON-RPC client of its URL and the context sent with
/// every request. The URL (API keys live in URLs) is never printed: not in `Debug`, not in
/// errors.
#[derive(Clone)]
pub struct PaymasterService {
    rpc: BundlerClient,
    context: serde_json::Value,
}

impl std::fmt::Debug for PaymasterService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymasterService")
            .field("config", self.rpc.config())
            .finish_non_exhaustive()
    }
}

/// What the stub step leaves for the final one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stubbed {
    /// The stub is the final data (no `pm_getPaymasterData`).
    is_final: bool,
    /// The service's `paymasterPostOpGasLimit`, which an estimate may not lower.
    post_op_gas: Option<u128>,
}

impl PaymasterService {
    /// The service at `url` (plain HTTP, as [`BundlerClient::new`]), with an empty context
    /// (`{}`). A URL that does not parse is refused without quoting it.
    pub fn new(url: &str) -> Result<Self, ClientError> {
        let rpc = BundlerClient::new(url).map_err(ClientError::PaymasterService)?;
        Ok(Self { rpc, context: serde_json::json!({}) })
    }

    /// The service over a JSON-RPC client of the caller's (e.g. [`BundlerClient::with_reqwest`]
    /// for `https://`).
    pub fn from_client(rpc: BundlerClient) -> Self {
        Self { rpc, context: serde_json::json!({}) }
    }

    /// Sends `context` (ERC-7677's last parameter: a sponsorship policy id, a token to pay
    /// in) with both requests.
    pub fn with_context(mut self, context: serde_json::Value) -> Self {
        self.context = context;
        self
    }

    /// Replaces the client's timeouts and retries.
    pub fn with_config(mut self, config: ClientConfig) -> Self {
        self.rpc = self.rpc.with_config(config);
        self
    }

    /// The context sent with every request.
    pub fn context(&self) -> &serde_json::Value {
        &self.context
    }

    async fn stub(
        &self,
        op: &mut UserOperation,
        entry_point: Address,
        chain_id: u64,
    ) -> Result<Stubbed, ClientError> {
        const METHOD: &str = "pm_getPaymasterStubData";
        let stub = self
            .rpc
            .paymaster_stub_data(op, entry_point, chain_id, self.context.clone())
            .await
            .map_err(ClientError::PaymasterService)?;
        let paymaster = stub.paymaster.ok_or_else(|| malformed(METHOD, "no paymaster"))?;
        let gas = |limit: Option<U256>| limit.map(|v| u128::try_from(v).unwrap_or(u128::MAX));
        op.paymaster = Some(paymaster);
        op.paymaster_data = stub.paymaster_data.unwrap_or_default();
        op.paymaster_verification_gas_limit =
            gas(stub.paymaster_verification_gas_limit).unwrap_or(PLACEHOLDER_PAYMASTER_GAS);
        let post_op_gas = gas(stub.paymaster_post_op_gas_limit);
        op.paymaster_post_op_gas_limit = post_op_gas.unwrap_or_default();
        Ok(Stubbed { is_final: stub.is_final, post_op_gas })
    }

    async fn finish(
        &self,
        op: &mut UserOperation,
        entry_point: Address,
        chain_id: u64,
    ) -> Result<(), ClientError> {
        const METHOD: &str = "pm_getPaymasterData";
        let data = self
            .rpc
            .paymaster_data(op, entry_point, chain_id, self.context.clone())
            .await
            .map_err(ClientError::PaymasterService)?;
        if data.paymaster.is_some_and(|p| Some(p) != op.paymaster) {
            // The op was estimated with the stub's paymaster.
            return Err(malformed(METHOD, "the data names another paymaster than the stub"));
        }
        op.paymaster_data = data.paymaster_data;
        Ok(())
    }
}

fn malformed(method: &'static str, reason: &str) -> ClientError {
    ClientError::PaymasterService(BundlerError::MalformedResponse {
        method,
        reason: reason.to_string(),
    })
}

impl Sponsor {
    /// A [`PaymasterService`] at `url`, with an empty context.
    pub fn service(url: &str) -> Result<Self, ClientError> {
        PaymasterService::new(url).map(Self::Service)
    }

    fn validity() -> (U48, U48) {
        (U48::ZERO, U48::ZERO)
    }

    /// `paymasterData` of the right shape for estimation: a signature that recovers to some
    /// other key (the paymaster then answers "invalid signature" instead of reverting, and
    /// the estimate completes).
    fn stub_data() -> Bytes {
        let stub = PrivateKeySigner::from_bytes(&STUB_KEY)
            .ok()
            .and_then(|k| k.sign_message_sync(b"mandate: paymaster stub").ok())
            .map(|s| s.as_bytes().to_vec())
            .unwrap_or_default();
        [Self::validity().abi_encode_params(), stub].concat().into()
    }

    /// Writes the paymaster fields `op` is estimated (and judged locally) with: the
    /// VerifyingPaymaster's stub, or the service's `pm_getPaymasterStubData`.
    pub(crate) async fn stub(
        &self,
        op: &mut UserOperation,
        entry_point: Address,
        chain_id: u64,
    ) -> Result<Stubbed, ClientError> {
        match self {
            Self::Verifying { paymaster, .. } => {
                op.paymaster = Some(*paymaster);
                op.paymaster_verification_gas_limit = PLACEHOLDER_PAYMASTER_GAS;
                op.paymaster_post_op_gas_limit = PLACEHOLDER_PAYMASTER_GAS;
                op.paymaster_data = Self::stub_data();
                Ok(Stubbed { is_final: false, post_op_gas: None })
            }
            Self::Service(service) => service.stub(op, entry_point, chain_id).await,
        }
    }

    /// After estimation: keeps the service's post-op limit if the estimate lowered it.
    pub(crate) fn keep_limits(stubbed: Stubbed, op: &mut UserOperation) {
        if let Some(post_op) = stubbed.post_op_gas {
            op.paymaster_post_op_gas_limit = op.paymaster_post_op_gas_limit.max(post_op);
        }
    }

    /// Writes the final `paymasterData` into `op` (whose gas limits are final): the
    /// VerifyingPaymaster's signature over `getHash`, read on the pipeline's chain, or the
    /// service's `pm_getPaymasterData` (unless its stub was final).
    pub(crate) async fn finish<B>(
        &self,
        stubbed: Stubbed,
        op: &mut UserOperation,
        pipeline: &Pipeline<B>,
        deployments: Deployments,
    ) -> Result<(), ClientError> {
        match self {
            Self::Verifying { paymaster, signer } => {
                let (paymaster, signer, unsigned) = (*paymaster, signer.clone(), op.clone());
                op.paymaster_data = pipeline
                    .with_state(deployments, move |d| {
                        sign_verifying(d, paymaster, &signer, &unsigned)
                    })
                    .await?;
                Ok(())
            }
            Self::Service(_) if stubbed.is_final => Ok(()),
            Self::Service(service) => {
                service.finish(op, deployments.entry_point, pipeline.chain_id).await
            }
        }
    }
}

/// The VerifyingPaymaster's signed `paymasterData` for `op` (whose gas limits are final).
fn sign_verifying(
    devnet: &mut Devnet,
    paymaster: Address,
    signer: &PrivateKeySigner,
    op: &UserOperation,
) -> Result<Bytes, ClientError> {
    let mut stubbed = op.clone();
    stubbed.paymaster_data = Sponsor::stub_data();
    let (valid_until, valid_after) = Sponsor::validity();
    let hash = devnet.call_sol(
        paymaster,
        &IVerifyingPaymaster::getHashCall {
            userOp: stubbed.pack(),
            validUntil: valid_until,
            validAfter: valid_after,
        },
    )?;
    let signature = signer.sign_message_sync(hash.as_slice())?;
    Ok([(valid_until, valid_after).abi_encode_params(), signature.as_bytes().to_vec()]
        .concat()
        .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_url_is_never_printed() {
        let url = "http://127.0.0.1:9/rpc?apikey=SECRET";
        let sponsor = Sponsor::service(url).expect("parses");
        let debug = format!("{sponsor:?}");
        assert!(
            debug.starts_with("Service(PaymasterService") && !debug.contains("SECRET"),
            "{debug}"
        );
        for bad in ["https://api.example:99999/?apikey=SECRET", "SECRET-not-a-url"] {
            let error = PaymasterService::new(bad).expect_err(bad);
            assert!(matches!(error, ClientError::PaymasterService(BundlerError::InvalidUrl(_))));
            let text = format!("{error} {error:?}");
            assert!(text.starts_with("paymaster service") && !text.contains("SECRET"), "{text}");
        }
    }
}
