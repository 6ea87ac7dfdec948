//! The JSON-RPC bundler client.

use std::{collections::BTreeMap, fmt, future::Future, pin::Pin, sync::Arc, time::Duration};

use alloy_json_rpc::{RpcRecv, RpcSend};
use alloy_primitives::{Address, B256, Bytes, U256, aliases::U192};
use alloy_rpc_client::RpcClient;
#[cfg(feature = "legacy-v2")]
use mandate_abi::legacy_v2::UserOperationV06;
use mandate_abi::{GasEstimate, UserOperation, json::rpc as quantity};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use crate::{
    Bundler, BundlerError, GasPrices, PaymasterData, PaymasterStubData, RpcUserOperation,
    UserOperationByHash, UserOperationReceipt, WaitOptions, wait::poll_receipt,
};
#[cfg(feature = "legacy-v2")]
use crate::{BundlerV06, RpcUserOperationV06};

/// How often and how patiently requests are repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included (1 = never repeat).
    pub max_attempts: u32,
    /// Pause before the second attempt; it doubles for each further one.
    pub initial_backoff: Duration,
    /// Longest pause between attempts.
    pub max_backoff: Duration,
    /// Longest `Retry-After` honoured; a server asking for more ends the call.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The pause after failed attempt `attempt` (1-based), or `None` to stop.
    fn pause(&self, attempt: u32, error: &BundlerError) -> Option<Duration> {
        if attempt >= self.max_attempts || !error.is_retryable() {
            return None;
        }
        match error.retry_after() {
            Some(wait) if wait > self.max_retry_after => None,
            Some(wait) => Some(wait),
            None => {
                let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
                Some(self.initial_backoff.saturating_mul(factor).min(self.max_backoff))
            }
        }
    }
}

/// Settings of a [`BundlerClient`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// Longest wait for one answer.
    pub request_timeout: Duration,
    /// Repeats of failed calls.
    pub retry: RetryPolicy,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self { request_timeout: Duration::from_secs(10), retry: RetryPolicy::default() }
    }
}

/// One account's state override for `eth_estimateUserOperationGas` (geth's shape).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountOverride {
    /// Balance to assume.
    #[serde(default, with = "quantity::opt_u256", skip_serializing_if = "Option::is_none")]
    pub balance: Option<U256>,
    /// Nonce to assume.
    #[serde(default, with = "quantity::opt_u64", skip_serializing_if = "Option::is_none")]
    pub nonce: Option<u64>,
    /// Code to assume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Bytes>,
    /// Replaces the whole storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<BTreeMap<B256, B256>>,
    /// Replaces single slots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_diff: Option<BTreeMap<B256, B256>>,
}

/// State overrides by address.
pub type StateOverride = BTreeMap<Address, AccountOverride>;

/// What [`NonceReader::get_nonce`] returns.
pub type NonceFuture<'a> = Pin<Box<dyn Future<Output = Result<U256, BundlerError>> + Send + 'a>>;

/// Reads an account's EntryPoint nonce from a node (`EntryPoint.getNonce(sender, key)`: the key
/// in the high 192 bits, the next sequence number in the low 64), for a [`BundlerClient`] to
/// settle a resend the bundler refused with AA25: a nonce past the op's means the first copy
/// (or, at worst, another op with its nonce) was included. Bundlers do not serve `eth_call`, so
/// the client cannot read it on its own.
pub trait NonceReader: Send + Sync {
    /// The account's full nonce for `key` at the latest block.
    fn get_nonce(&self, entry_point: Address, sender: Address, key: U192) -> NonceFuture<'_>;
}

/// Messages with which bundlers say they already hold an op.
const ALREADY_KNOWN: [&str; 4] =
    ["already known", "already in mempool", "duplicate", "already exists"];

/// EntryPoint codes with which a resend fails when the first copy was included meanwhile: its
/// nonce is used (AA25), its account deployed (AA10).
const INCLUSION_TRACES: [&str; 2] = ["AA25", "AA10"];

/// A bundler's JSON-RPC API over an alloy [`RpcClient`] (HTTP by default; any alloy transport
/// such as WebSocket through [`Self::from_rpc_client`]).
///
/// Reads are repeated on retryable errors. `eth_sendUserOperation` is repeated only when the
/// bundler certainly did not take the op, or after asking it for the op's hash and not finding
/// it: an op is never sent again while the bundler may hold it, and an op that was included is
/// never reported as failed (see [`Self::send_user_operation`]).
#[derive(Clone)]
pub struct BundlerClient {
    rpc: RpcClient,
    config: ClientConfig,
    chain_id: Arc<OnceCell<u64>>,
    nonces: Option<Arc<dyn NonceReader>>,
}

impl fmt::Debug for BundlerClient {
    // The URL may hold an API key: it is never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BundlerClient").field("config", &self.config).finish_non_exhaustive()
    }
}

impl BundlerClient {
    /// A client of the bundler at `url` over plain HTTP (this crate enables no TLS backend;
    /// for `https://` see [`Self::with_reqwest`]).
    pub fn new(url: &str) -> Result<Self, BundlerError> {
        Self::with_reqwest(alloy_transport_http::reqwest::Client::new(), url)
    }

    /// A client over a `reqwest` client of the caller's: depend on `reqwest` 0.13 with a TLS
    /// feature (`rustls` or `native-tls`) to reach `https://` bundlers, and set proxies, headers
    /// or connection pools there.
    pub fn with_reqwest(
        client: alloy_transport_http::reqwest::Client,
        url: &str,
    ) -> Result<Self, BundlerError> {
        let url: alloy_transport_http::reqwest::Url =
            url.parse().map_err(BundlerError::InvalidUrl)?;
        let is_local = alloy_transport::utils::guess_local_url(url.as_str());
        let http = alloy_transport_http::Http::with_client(client, url);
        Ok(Self::from_rpc_client(RpcClient::new(http, is_local)))
    }

    /// A client over any alloy RPC client (WebSocket, IPC, layered transports).
    pub fn from_rpc_client(rpc: RpcClient) -> Self {
        Self { rpc, config: ClientConfig::default(), chain_id: Default::default(), nonces: None }
    }

    /// Lets the client read account nonces from a node to settle ambiguous resends (see
    /// [`Self::send_user_operation`]).
    pub fn with_nonce_reader(mut self, nonces: Arc<dyn NonceReader>) -> Self {
        self.nonces = Some(nonces);
        self
    }

    /// Replaces the settings.
    pub fn with_config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// The settings.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// One request, bounded by the request timeout.
    async fn call_once<P: RpcSend, R: RpcRecv>(
        &self,
        method: &'static str,
        params: P,
    ) -> Result<R, BundlerError> {
        let after = self.config.request_timeout;
        match tokio::time::timeout(after, self.rpc.request::<P, R>(method, params)).await {
            Err(_) => Err(BundlerError::Timeout { method, after }),
            Ok(result) => result.map_err(|e| BundlerError::from_rpc(method, e)),
        }
    }

    /// A request without side effects, repeated on retryable errors.
    async fn call<P: RpcSend, R: RpcRecv>(
        &self,
        method: &'static str,
        params: P,
    ) -> Result<R, BundlerError> {
        let mut attempt = 1;
        loop {
            match self.call_once(method, params.clone()).await {
                Ok(r) => return Ok(r),
                Err(e) => match self.config.retry.pause(attempt, &e) {
                    Some(pause) => {
                        tracing::debug!(method, attempt, error = %e, ?pause, "retrying");
                        tokio::time::sleep(pause).await;
                        attempt += 1;
                    }
                    None => return Err(e),
                },
            }
        }
    }

    /// `eth_chainId` (asked once, then remembered).
    pub async fn chain_id(&self) -> Result<u64, BundlerError> {
        self.chain_id
            .get_or_try_init(|| async {
                let id: U256 = self.call("eth_chainId", ()).await?;
                u64::try_from(id).map_err(|_| BundlerError::MalformedResponse {
                    method: "eth_chainId",
                    reason: format!("chain id {id} exceeds u64"),
                })
            })
            .await
            .copied()
    }

    /// `eth_supportedEntryPoints`.
    pub async fn supported_entry_points(&self) -> Result<Vec<Address>, BundlerError> {
        self.call("eth_supportedEntryPoints", ()).await
    }

    /// `eth_estimateUserOperationGas`, with state overrides when given.
    pub async fn estimate_user_operation_gas(
        &self,
        op: &UserOperation,
        entry_point: Address,
        state_override: Option<&StateOverride>,
    ) -> Result<GasEstimate, BundlerError> {
        let op = RpcUserOperation::from(op);
        match state_override {
            Some(o) => {
                self.call("eth_estimateUserOperationGas", (op, entry_point, o.clone())).await
            }
            None => self.call("eth_estimateUserOperationGas", (op, entry_point)).await,
        }
    }

    /// `eth_getUserOperationByHash`; `None` when the bundler does not know the op.
    pub async fn get_user_operation_by_hash(
        &self,
        user_op_hash: B256,
    ) -> Result<Option<UserOperationByHash>, BundlerError> {
        self.call("eth_getUserOperationByHash", (user_op_hash,)).await
    }

    /// `eth_getUserOperationReceipt`; `None` while pending or unknown.
    pub async fn get_user_operation_receipt(
        &self,
        user_op_hash: B256,
    ) -> Result<Option<UserOperationReceipt>, BundlerError> {
        self.call("eth_getUserOperationReceipt", (user_op_hash,)).await
    }

    /// Whether the bundler holds or has included the op.
    async fn holds(&self, user_op_hash: B256) -> Result<bool, BundlerError> {
        if self.get_user_operation_by_hash(user_op_hash).await?.is_some() {
            return Ok(true);
        }
        Ok(self.get_user_operation_receipt(user_op_hash).await?.is_some())
    }

    /// `eth_sendUserOperation`: submits `op` and returns its hash, which is checked against the
    /// hash computed here.
    ///
    /// After a failure that leaves open whether the bundler took the op (a timeout, a 5xx, a
    /// broken connection, an unreadable answer, an internal or non-standard JSON-RPC error),
    /// the client asks for the op by hash: if the bundler holds it, that is success; if the
    /// question itself fails, the original error is returned and nothing is sent again. Some
    /// bundlers (Alto among them) find only included ops by hash: an op still in their mempool
    /// is then sent once more, unchanged, and their "already known" answer counts as success.
    /// If the first copy was included meanwhile, the resend fails its nonce check (AA25, or
    /// AA10 for an op that deploys its account): the client then looks for the op's receipt
    /// and, with a [`NonceReader`], reads the account's nonce. Found, or the nonce past the
    /// op's, is success; the nonce still at or before the op's leaves the rejection; nothing to
    /// tell either way is [`BundlerError::MaybeProcessed`], never the bare rejection.
    pub async fn send_user_operation(
        &self,
        op: &UserOperation,
        entry_point: Address,
    ) -> Result<B256, BundlerError> {
        let expected = op.hash(entry_point, self.chain_id().await?);
        let sent = Sent { hash: expected, sender: op.sender, nonce: op.nonce, entry_point };
        self.send_rpc_op(RpcUserOperation::from(op), sent).await
    }

    #[cfg(feature = "legacy-v2")]
    /// Submits a v0.6 `op` to a v0.6 `entry_point` with the same care as
    /// [`Self::send_user_operation`].
    pub async fn send_user_operation_v06(
        &self,
        op: &UserOperationV06,
        entry_point: Address,
    ) -> Result<B256, BundlerError> {
        let expected = op.hash(entry_point, self.chain_id().await?);
        let sent = Sent { hash: expected, sender: op.sender, nonce: op.nonce, entry_point };
        self.send_rpc_op(RpcUserOperationV06::from(op), sent).await
    }

    #[cfg(feature = "legacy-v2")]
    /// Gas limits for a v0.6 `op` (its signature must pass the account's check or be a dummy
    /// the account accepts during simulation).
    pub async fn estimate_user_operation_gas_v06(
        &self,
        op: &UserOperationV06,
        entry_point: Address,
    ) -> Result<GasEstimate, BundlerError> {
        self.call("eth_estimateUserOperationGas", (RpcUserOperationV06::from(op), entry_point))
            .await
    }

    /// `eth_sendUserOperation` of an op in either version's JSON shape: repeated only while the
    /// bundler certainly does not hold it.
    async fn send_rpc_op<O: RpcSend>(&self, rpc_op: O, sent: Sent) -> Result<B256, BundlerError> {
        const METHOD: &str = "eth_sendUserOperation";
        let Sent { hash: expected, entry_point, .. } = sent;
        let mut attempt = 1;
        // Whether an earlier attempt may have reached the bundler.
        let mut ambiguous = false;
        loop {
            let error = match self.call_once::<_, B256>(METHOD, (rpc_op.clone(), entry_point)).await
            {
                Ok(returned) if returned == expected => return Ok(returned),
                Ok(returned) => return Err(BundlerError::HashMismatch { expected, returned }),
                Err(e) => e,
            };
            if let Some(f) = error.rpc() {
                let message = f.message.to_ascii_lowercase();
                if ALREADY_KNOWN.iter().any(|m| message.contains(m)) {
                    tracing::debug!(%expected, "bundler already holds the op");
                    return Ok(expected);
                }
            }
            if ambiguous && error.aa_code().is_some_and(|c| INCLUSION_TRACES.contains(&c)) {
                return self.settle(sent, error).await;
            }
            if !error.certainly_not_processed() {
                ambiguous = true;
                match self.holds(expected).await {
                    Ok(true) => {
                        tracing::debug!(%expected, error = %error, "send failed but the bundler holds the op");
                        return Ok(expected);
                    }
                    Ok(false) => {}
                    Err(lookup) => {
                        tracing::debug!(%expected, error = %lookup, "cannot tell whether the bundler holds the op");
                        return Err(error);
                    }
                }
            }
            match self.config.retry.pause(attempt, &error) {
                Some(pause) => {
                    tracing::debug!(attempt, error = %error, ?pause, "sending again");
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                None => return Err(error),
            }
        }
    }

    /// Settles a resend refused with `rejection` (one of [`INCLUSION_TRACES`]) after an
    /// ambiguous attempt: success if the first copy's receipt is found or the account's nonce
    /// moved past the op's.
    async fn settle(&self, sent: Sent, rejection: BundlerError) -> Result<B256, BundlerError> {
        let Sent { hash, sender, nonce, entry_point } = sent;
        match self.get_user_operation_receipt(hash).await {
            Ok(Some(receipt)) if receipt.user_op_hash == hash => {
                tracing::debug!(%hash, error = %rejection, "resend refused; the first copy was included");
                return Ok(hash);
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(%hash, error = %e, "receipt lookup failed"),
        }
        let maybe = |rejection| BundlerError::MaybeProcessed {
            user_op_hash: hash,
            rejection: Box::new(rejection),
        };
        let Some(nonces) = &self.nonces else { return Err(maybe(rejection)) };
        // The key is the nonce's high 192 bits.
        let key = U192::from(nonce >> 64);
        match nonces.get_nonce(entry_point, sender, key).await {
            Ok(current) if current > nonce => {
                tracing::debug!(%hash, %current, "resend refused; the account's nonce moved past the op's");
                Ok(hash)
            }
            Ok(_) => Err(rejection),
            Err(e) => {
                tracing::debug!(%hash, error = %e, "nonce lookup failed");
                Err(maybe(rejection))
            }
        }
    }

    /// Polls `eth_getUserOperationReceipt` until the receipt, the deadline or cancellation.
    pub async fn wait_for_receipt(
        &self,
        user_op_hash: B256,
        options: &WaitOptions,
    ) -> Result<UserOperationReceipt, BundlerError> {
        poll_receipt(user_op_hash, options, || self.get_user_operation_receipt(user_op_hash)).await
    }

    /// `pimlico_getUserOperationGasPrice` (Pimlico, Alto and compatible bundlers).
    pub async fn user_operation_gas_price(&self) -> Result<GasPrices, BundlerError> {
        self.call("pimlico_getUserOperationGasPrice", ()).await
    }

    /// `pm_getPaymasterStubData` (ERC-7677) of a paymaster service (this client pointed at
    /// its URL), for an op before gas estimation on chain `chain_id` (given, not asked: a
    /// paymaster service need not serve `eth_chainId`).
    pub async fn paymaster_stub_data(
        &self,
        op: &UserOperation,
        entry_point: Address,
        chain_id: u64,
        context: serde_json::Value,
    ) -> Result<PaymasterStubData, BundlerError> {
        let op = RpcUserOperation::from(op);
        let chain_id = format!("{chain_id:#x}");
        self.call("pm_getPaymasterStubData", (op, entry_point, chain_id, context)).await
    }

    /// `pm_getPaymasterData` (ERC-7677) of a paymaster service, for an op with its final gas
    /// limits on chain `chain_id`.
    pub async fn paymaster_data(
        &self,
        op: &UserOperation,
        entry_point: Address,
        chain_id: u64,
        context: serde_json::Value,
    ) -> Result<PaymasterData, BundlerError> {
        let op = RpcUserOperation::from(op);
        let chain_id = format!("{chain_id:#x}");
        self.call("pm_getPaymasterData", (op, entry_point, chain_id, context)).await
    }
}

/// What identifies a sent op when its fate must be looked up.
#[derive(Clone, Copy)]
struct Sent {
    hash: B256,
    sender: Address,
    nonce: U256,
    entry_point: Address,
}

impl Bundler for BundlerClient {
    async fn chain_id(&self) -> Result<u64, BundlerError> {
        Self::chain_id(self).await
    }

    async fn supported_entry_points(&self) -> Result<Vec<Address>, BundlerError> {
        Self::supported_entry_points(self).await
    }

    async fn estimate_user_operation_gas(
        &self,
        op: &UserOperation,
        entry_point: Address,
    ) -> Result<GasEstimate, BundlerError> {
        Self::estimate_user_operation_gas(self, op, entry_point, None).await
    }

    async fn send_user_operation(
        &self,
        op: &UserOperation,
        entry_point: Address,
    ) -> Result<B256, BundlerError> {
        Self::send_user_operation(self, op, entry_point).await
    }

    async fn get_user_operation_receipt(
        &self,
        user_op_hash: B256,
    ) -> Result<Option<UserOperationReceipt>, BundlerError> {
        Self::get_user_operation_receipt(self, user_op_hash).await
    }

    async fn wait_for_receipt(
        &self,
        user_op_hash: B256,
        options: &WaitOptions,
    ) -> Result<UserOperationReceipt, BundlerError> {
        Self::wait_for_receipt(self, user_op_hash, options).await
    }
}

#[cfg(feature = "legacy-v2")]
impl BundlerV06 for BundlerClient {
    async fn estimate_user_operation_gas_v06(
        &self,
        op: &UserOperationV06,
        entry_point: Address,
    ) -> Result<GasEstimate, BundlerError> {
        Self::estimate_user_operation_gas_v06(self, op, entry_point).await
    }

    async fn send_user_operation_v06(
        &self,
        op: &UserOperationV06,
        entry_point: Address,
    ) -> Result<B256, BundlerError> {
        Self::send_user_operation_v06(self, op, entry_point).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_url_is_refused_without_quoting_it() {
        for url in ["https://api.example:99999/rpc?apikey=SECRET", "SECRET-not-a-url"] {
            let error = BundlerClient::new(url).expect_err(url);
            assert!(matches!(error, BundlerError::InvalidUrl(_)), "{error:?}");
            assert!(!format!("{error} {error:?}").contains("SECRET"), "{error} {error:?}");
        }
    }
}
