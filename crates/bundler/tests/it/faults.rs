//! The client against a faulty bundler of the tests' own: 5xx, 429 with Retry-After, answers
//! slower than the timeout, malformed JSON and an op that never gets a receipt. Each time the
//! client returns the right typed error (or recovers) and never sends an op the server holds.

use std::time::{Duration, Instant};

use crate::fault_server::{self, CHAIN_ID, Fault, FaultServer, client};
use mandate_bundler::{
    Bundler, BundlerClient, BundlerError, CancellationToken, ClientConfig, RetryPolicy,
    RpcErrorKind, WaitOptions,
    mandate_abi::{
        ENTRY_POINT_V07, UserOperation,
        alloy_primitives::{Bytes, U256},
    },
};

fn op(seed: u8) -> UserOperation {
    fault_server::op(seed, U256::from(seed))
}

const SEND: &str = "eth_sendUserOperation";

#[tokio::test]
async fn server_errors_on_reads_are_retried_then_typed() {
    let server = FaultServer::start().await;
    server.fault("eth_supportedEntryPoints", 1, Fault::Status(503));
    server.fault("eth_supportedEntryPoints", 2, Fault::Status(500));
    let entry_points = client(&server, Duration::from_secs(5), 3)
        .supported_entry_points()
        .await
        .expect("third attempt succeeds");
    assert_eq!(entry_points, vec![ENTRY_POINT_V07]);
    assert_eq!(server.calls("eth_supportedEntryPoints"), 3);

    server.fault("eth_supportedEntryPoints", 4, Fault::Status(502));
    let error = client(&server, Duration::from_secs(5), 1)
        .supported_entry_points()
        .await
        .expect_err("no retries allowed");
    assert!(matches!(error, BundlerError::Http { status: 502, .. }), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn server_error_after_accepting_an_op_is_not_resent() {
    let server = FaultServer::start().await;
    server.fault(SEND, 1, Fault::StatusAfterWork(502));
    let op = op(1);
    let hash = client(&server, Duration::from_secs(5), 4)
        .send_user_operation(&op, ENTRY_POINT_V07)
        .await
        .expect("the bundler holds it");
    assert_eq!(hash, op.hash(ENTRY_POINT_V07, CHAIN_ID));
    assert_eq!(server.calls(SEND), 1, "asked by hash instead of sending again");
    assert_eq!(server.calls("eth_getUserOperationByHash"), 1);
    assert_eq!(server.duplicate_sends(), 0);
}

#[tokio::test]
async fn server_error_before_accepting_is_resent_after_asking() {
    let server = FaultServer::start().await;
    server.fault(SEND, 1, Fault::Status(503));
    let op = op(2);
    let hash = client(&server, Duration::from_secs(5), 4)
        .send_user_operation(&op, ENTRY_POINT_V07)
        .await
        .expect("second send succeeds");
    assert_eq!(hash, op.hash(ENTRY_POINT_V07, CHAIN_ID));
    assert_eq!(server.calls(SEND), 2);
    assert_eq!(server.calls("eth_getUserOperationByHash"), 1, "asked before sending again");
    assert_eq!((server.held(), server.duplicate_sends()), (1, 0));
}

#[tokio::test]
async fn rate_limit_honours_retry_after() {
    let server = FaultServer::start().await;
    server.fault("eth_chainId", 1, Fault::RateLimited(1));
    let started = Instant::now();
    let chain_id = client(&server, Duration::from_secs(5), 3).chain_id().await.expect("retried");
    eprintln!("429 with Retry-After: 1 -> answered after {:?}", started.elapsed());
    assert_eq!(chain_id, CHAIN_ID);
    assert_eq!(server.calls("eth_chainId"), 2);

    // A send refused with 429 was certainly not taken: sent again without asking.
    let op = op(3);
    server.fault(SEND, 1, Fault::RateLimited(1));
    let c = client(&server, Duration::from_secs(5), 3);
    c.send_user_operation(&op, ENTRY_POINT_V07).await.expect("sent after waiting");
    assert_eq!((server.calls(SEND), server.duplicate_sends()), (2, 0));
    assert_eq!(server.calls("eth_getUserOperationByHash"), 0);

    // Without retries the error carries the server's delay.
    server.fault("eth_supportedEntryPoints", 1, Fault::RateLimited(7));
    let error = c
        .clone()
        .with_config(ClientConfig {
            retry: RetryPolicy { max_attempts: 1, ..c.config().retry },
            ..*c.config()
        })
        .supported_entry_points()
        .await
        .expect_err("rate limited");
    assert!(matches!(error, BundlerError::Http { status: 429, .. }), "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
    assert!(error.is_retryable());
}

#[tokio::test]
async fn slow_answers_time_out_and_sends_are_not_repeated() {
    let server = FaultServer::start().await;
    let c = client(&server, Duration::from_millis(300), 2);
    c.chain_id().await.expect("chain id");

    // The bundler takes the op but answers too late: the client asks and finds it.
    server.fault(SEND, 1, Fault::Slow(Duration::from_secs(2)));
    let op = op(4);
    let hash = c.send_user_operation(&op, ENTRY_POINT_V07).await.expect("held");
    assert_eq!(hash, op.hash(ENTRY_POINT_V07, CHAIN_ID));
    assert_eq!((server.calls(SEND), server.duplicate_sends()), (1, 0));

    // A read that is always too slow ends in a typed, retryable timeout.
    server.fault("eth_supportedEntryPoints", 1, Fault::Slow(Duration::from_secs(2)));
    server.fault("eth_supportedEntryPoints", 2, Fault::Slow(Duration::from_secs(2)));
    let error = c.supported_entry_points().await.expect_err("too slow");
    assert!(
        matches!(error, BundlerError::Timeout { method: "eth_supportedEntryPoints", .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert_eq!(server.calls("eth_supportedEntryPoints"), 2);
}

#[tokio::test]
async fn malformed_json_is_a_typed_error() {
    let server = FaultServer::start().await;
    server.fault("eth_supportedEntryPoints", 1, Fault::Malformed);
    let c = client(&server, Duration::from_secs(5), 3);
    let error = c.supported_entry_points().await.expect_err("malformed");
    assert!(matches!(error, BundlerError::MalformedResponse { .. }), "{error:?}");
    assert!(!error.is_retryable());
    assert_eq!(server.calls("eth_supportedEntryPoints"), 1, "not repeated");

    // An unreadable answer to a send: the client asks whether the bundler took the op, and
    // as it did not, returns the error without sending again (a malformed answer is no
    // reason to expect a better one).
    c.chain_id().await.expect("chain id");
    server.fault(SEND, 1, Fault::Malformed);
    let error = c.send_user_operation(&op(5), ENTRY_POINT_V07).await.expect_err("malformed");
    assert!(matches!(error, BundlerError::MalformedResponse { method: SEND, .. }), "{error:?}");
    assert_eq!(server.calls("eth_getUserOperationByHash"), 1);
    assert_eq!((server.calls(SEND), server.duplicate_sends()), (1, 0));
}

#[tokio::test]
async fn an_op_without_receipt_times_out_or_is_cancelled() {
    let server = FaultServer::start().await;
    let c = client(&server, Duration::from_secs(5), 3);
    let op = op(6);
    let hash = c.send_user_operation(&op, ENTRY_POINT_V07).await.expect("sent");
    let options = WaitOptions {
        timeout: Duration::from_millis(800),
        initial_interval: Duration::from_millis(20),
        max_interval: Duration::from_millis(200),
        cancel: None,
    };
    let error = c.wait_for_receipt(hash, &options).await.expect_err("no receipt");
    assert!(
        matches!(error, BundlerError::ReceiptTimeout { user_op_hash, .. } if user_op_hash == hash)
    );
    assert!(!error.is_retryable());
    let polls = server.calls("eth_getUserOperationReceipt");
    eprintln!("receipt wait of 800 ms polled {polls} times");

    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        cancel.cancel();
    });
    let options = WaitOptions::with_timeout(Duration::from_secs(60)).cancel_with(token);
    let error = Bundler::wait_for_receipt(&c, hash, &options).await.expect_err("cancelled");
    assert!(matches!(error, BundlerError::Cancelled { .. }), "{error:?}");
    assert_eq!((server.calls(SEND), server.duplicate_sends()), (1, 0));

    // Once the receipt shows up, the wait returns it.
    server.set_receipt(
        hash,
        serde_json::json!({
            "userOpHash": hash, "entryPoint": ENTRY_POINT_V07, "sender": op.sender,
            "nonce": "0x6", "paymaster": null, "actualGasCost": "0x10", "actualGasUsed": "0x8",
            "success": true, "reason": "", "logs": [],
            "receipt": {"transactionHash": format!("0x{}", "ab".repeat(32)), "blockNumber": "0x2",
                        "gasUsed": "0x1234", "status": "0x1", "logs": []}
        }),
    );
    let receipt = c.wait_for_receipt(hash, &WaitOptions::default()).await.expect("receipt");
    assert!(receipt.success);
    assert_eq!(receipt.receipt.block_number, Some(2));
}

#[tokio::test]
async fn rejections_are_typed_and_not_repeated() {
    let server = FaultServer::start().await;
    server.fault(
        SEND,
        1,
        Fault::RpcError(
            -32500,
            "UserOperation reverted during simulation with reason: AA24 signature error".into(),
        ),
    );
    let error = client(&server, Duration::from_secs(5), 4)
        .send_user_operation(&op(7), ENTRY_POINT_V07)
        .await
        .expect_err("rejected");
    let failure = error.rpc().expect("a JSON-RPC error");
    assert_eq!(failure.kind, RpcErrorKind::RejectedByEntryPoint);
    assert_eq!(error.aa_code(), Some("AA24"));
    assert!(!error.is_retryable());
    assert_eq!(server.calls(SEND), 1);
    assert_eq!(server.calls("eth_getUserOperationByHash"), 0);
}

#[tokio::test]
async fn gas_price_and_paymaster_extensions() {
    let server = FaultServer::start().await;
    let c = client(&server, Duration::from_secs(5), 1);
    let prices = c.user_operation_gas_price().await.expect("gas price");
    assert_eq!(prices.fast.max_fee_per_gas, U256::from(1_000_000_000u64));

    let mut op = op(8);
    let stub =
        c.paymaster_stub_data(&op, ENTRY_POINT_V07, 1, serde_json::json!({})).await.expect("stub");
    assert_eq!(stub.sponsor.map(|s| s.name).as_deref(), Some("Mandate tests"));
    assert_eq!(stub.paymaster_verification_gas_limit, Some(U256::from(100_000)));
    assert!(!stub.is_final);
    op.paymaster = stub.paymaster;
    let data =
        c.paymaster_data(&op, ENTRY_POINT_V07, 1, serde_json::json!({})).await.expect("data");
    assert_eq!(data.paymaster_data, Bytes::from(vec![0xab, 0xcd]));

    let error = c.get_user_operation_by_hash(Default::default()).await;
    assert!(matches!(error, Ok(None)));
}

#[tokio::test]
async fn a_server_that_is_gone_is_a_transport_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let c = BundlerClient::new(&format!("http://127.0.0.1:{port}/rpc?apikey=SECRET"))
        .expect("url")
        .with_config(ClientConfig {
            request_timeout: Duration::from_secs(2),
            retry: RetryPolicy { max_attempts: 2, ..RetryPolicy::default() },
        });
    let error = c.chain_id().await.expect_err("nobody listens");
    assert!(matches!(error, BundlerError::Transport { method: "eth_chainId", .. }), "{error:?}");
    assert!(error.is_retryable());
    assert!(!error.to_string().contains("SECRET"), "{error}");
    assert!(!format!("{c:?}").contains("SECRET"));

    // Without a TLS backend, an https URL is a typed error, not a panic.
    let tls = BundlerClient::new(&format!("https://127.0.0.1:{port}/rpc")).expect("url");
    let error = tls.supported_entry_points().await.expect_err("no TLS backend");
    assert!(matches!(error, BundlerError::Transport { .. }), "{error:?}");
    assert!(BundlerClient::new("not a url").is_err());
}

#[tokio::test]
async fn already_known_means_the_bundler_holds_the_op() {
    // Alto's answer to an op it holds but has not bundled yet (its eth_getUserOperationByHash
    // only finds included ops).
    let server = FaultServer::start().await;
    server.fault(SEND, 1, Fault::RpcError(-32602, "Already known".into()));
    let op = op(9);
    let hash = client(&server, Duration::from_secs(5), 4)
        .send_user_operation(&op, ENTRY_POINT_V07)
        .await
        .expect("held");
    assert_eq!(hash, op.hash(ENTRY_POINT_V07, CHAIN_ID));
    assert_eq!(server.calls(SEND), 1);
}
