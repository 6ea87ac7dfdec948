//! Sends whose outcome is ambiguous (a timeout, a 5xx, an internal error): the client finds out
//! what became of the op before it reports a failure, and never turns an executed op into an
//! error (issue #18, item 2).

use std::{sync::Arc, time::Duration};

use crate::fault_server::{self, CHAIN_ID, Fault, FaultServer};
use mandate_bundler::{
    BundlerClient, BundlerError, NonceFuture, NonceReader, WaitOptions,
    mandate_abi::{
        ENTRY_POINT_V07, UserOperation,
        alloy_primitives::{Address, B256, U256, aliases::U192},
    },
};

const SEND: &str = "eth_sendUserOperation";
const BY_HASH: &str = "eth_getUserOperationByHash";

fn op(seed: u8) -> UserOperation {
    fault_server::op(seed, (U256::from(7) << 64) | U256::from(seed))
}

fn aa25() -> Fault {
    Fault::RpcError(
        -32500,
        "UserOperation failed validation with reason: AA25 invalid account nonce".into(),
    )
}

/// A node's view of the account's EntryPoint nonce, for the tests: `nonce` for every key, and
/// what it was asked.
struct Nonces {
    nonce: U256,
    asked: std::sync::Mutex<Vec<(Address, Address, U192)>>,
}

impl NonceReader for Nonces {
    fn get_nonce(&self, entry_point: Address, sender: Address, key: U192) -> NonceFuture<'_> {
        self.asked.lock().expect("asked").push((entry_point, sender, key));
        let nonce = self.nonce;
        Box::pin(async move { Ok(nonce) })
    }
}

#[tokio::test]
async fn an_op_mined_while_the_client_resends_is_reported_as_sent() {
    // Alto: the op it took during the timed-out send is not found by hash while it waits in
    // the mempool; it is mined before the resend arrives, which then fails with AA25.
    let server = FaultServer::start().await;
    server.behave_like_alto();
    server.fault(SEND, 1, Fault::Slow(Duration::from_secs(2)));
    server.fault("eth_getUserOperationReceipt", 1, Fault::MineHeld);
    let c = client(&server, Duration::from_millis(300));
    let op = op(1);
    let hash = c.send_user_operation(&op, ENTRY_POINT_V07).await.expect("the op executed");
    assert_eq!(hash, op.hash(ENTRY_POINT_V07, CHAIN_ID));
    assert_eq!(server.calls(SEND), 2, "resent once, as Alto did not find it by hash");
    let receipt = c.wait_for_receipt(hash, &WaitOptions::default()).await.expect("receipt");
    assert!(receipt.success);
}

#[tokio::test]
async fn an_aa25_after_an_ambiguous_failure_is_never_a_plain_rejection() {
    // No receipt and no node to ask: the client cannot tell whether the op ran, and says so.
    let server = FaultServer::start().await;
    server.fault(SEND, 1, Fault::Status(503));
    server.fault(SEND, 2, aa25());
    let op = op(2);
    let error = client(&server, Duration::from_secs(5))
        .send_user_operation(&op, ENTRY_POINT_V07)
        .await
        .expect_err("cannot tell");
    let BundlerError::MaybeProcessed { user_op_hash, rejection } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(*user_op_hash, op.hash(ENTRY_POINT_V07, CHAIN_ID));
    assert_eq!(rejection.aa_code(), Some("AA25"));
    assert!(!error.is_retryable());
    assert_eq!(server.calls(SEND), 2);
}

#[tokio::test]
async fn the_accounts_nonce_settles_an_aa25_after_an_ambiguous_failure() {
    let op = op(3);
    // The nonce moved past the op's: the op (or, at worst, another with its nonce) ran.
    let server = FaultServer::start().await;
    server.fault(SEND, 1, Fault::Status(503));
    server.fault(SEND, 2, aa25());
    let moved = Arc::new(Nonces { nonce: op.nonce + U256::from(1), asked: Default::default() });
    let hash = client(&server, Duration::from_secs(5))
        .with_nonce_reader(moved.clone())
        .send_user_operation(&op, ENTRY_POINT_V07)
        .await
        .expect("the nonce moved past the op's");
    assert_eq!(hash, op.hash(ENTRY_POINT_V07, CHAIN_ID));
    let key = U192::from(7);
    assert_eq!(*moved.asked.lock().expect("asked"), vec![(ENTRY_POINT_V07, op.sender, key)]);

    // The nonce is still the op's: it certainly did not run, and the rejection stands.
    let server = FaultServer::start().await;
    server.fault(SEND, 1, Fault::Status(503));
    server.fault(SEND, 2, aa25());
    let still = Arc::new(Nonces { nonce: op.nonce, asked: Default::default() });
    let error = client(&server, Duration::from_secs(5))
        .with_nonce_reader(still)
        .send_user_operation(&op, ENTRY_POINT_V07)
        .await
        .expect_err("rejected");
    assert_eq!(error.aa_code(), Some("AA25"), "{error:?}");
}

#[tokio::test]
async fn an_aa25_on_a_first_send_is_a_plain_rejection() {
    let server = FaultServer::start().await;
    server.fault(SEND, 1, aa25());
    let error = client(&server, Duration::from_secs(5))
        .send_user_operation(&op(4), ENTRY_POINT_V07)
        .await
        .expect_err("rejected");
    assert_eq!(error.aa_code(), Some("AA25"), "{error:?}");
    assert_eq!((server.calls(SEND), server.calls(BY_HASH)), (1, 0));
}

#[tokio::test]
async fn an_internal_error_after_accepting_an_op_is_not_resent() {
    let server = FaultServer::start().await;
    server.fault(SEND, 1, Fault::RpcErrorAfterWork(-32603, "internal error".into()));
    let op = op(5);
    let hash = client(&server, Duration::from_secs(5))
        .send_user_operation(&op, ENTRY_POINT_V07)
        .await
        .expect("the bundler holds it");
    assert_eq!(hash, op.hash(ENTRY_POINT_V07, CHAIN_ID));
    assert_eq!(server.calls(SEND), 1, "asked by hash instead of sending again");
    assert_eq!(server.calls(BY_HASH), 1);
    assert_eq!(server.duplicate_sends(), 0);
}

#[tokio::test]
async fn internal_and_unknown_errors_are_asked_about_before_resending() {
    // An internal error before accepting: asked, not found, sent again.
    let server = FaultServer::start().await;
    server.fault(SEND, 1, Fault::RpcError(-32603, "internal error".into()));
    let op = op(6);
    let hash = client(&server, Duration::from_secs(5))
        .send_user_operation(&op, ENTRY_POINT_V07)
        .await
        .expect("second send succeeds");
    assert_eq!(hash, op.hash(ENTRY_POINT_V07, CHAIN_ID));
    assert_eq!((server.calls(SEND), server.calls(BY_HASH), server.duplicate_sends()), (2, 1, 0));

    // A code of no standard: asked about, found.
    let server = FaultServer::start().await;
    server.fault(SEND, 1, Fault::RpcErrorAfterWork(-32099, "upstream hiccup".into()));
    client(&server, Duration::from_secs(5))
        .send_user_operation(&op, ENTRY_POINT_V07)
        .await
        .expect("the bundler holds it");
    assert_eq!((server.calls(SEND), server.calls(BY_HASH), server.duplicate_sends()), (1, 1, 0));

    // Invalid params prove the op was not taken: not asked about.
    let server = FaultServer::start().await;
    server.fault(SEND, 1, Fault::RpcError(-32602, "invalid maxFeePerGas".into()));
    let error = client(&server, Duration::from_secs(5))
        .send_user_operation(&op, ENTRY_POINT_V07)
        .await
        .expect_err("refused");
    assert!(matches!(error, BundlerError::Rpc(_)), "{error:?}");
    assert_eq!((server.calls(SEND), server.calls(BY_HASH)), (1, 0));
}

#[tokio::test]
async fn a_receipt_of_another_op_is_refused() {
    let server = FaultServer::start().await;
    let c = client(&server, Duration::from_secs(5));
    let op = op(8);
    let hash = c.send_user_operation(&op, ENTRY_POINT_V07).await.expect("sent");
    let other = B256::repeat_byte(0xee);
    server.set_receipt(hash, fault_server::receipt(other, op.sender, op.nonce));
    let error = c.wait_for_receipt(hash, &WaitOptions::default()).await.expect_err("not ours");
    assert!(
        matches!(error, BundlerError::ReceiptMismatch { expected, returned }
            if expected == hash && returned == other),
        "{error:?}"
    );
    assert!(!error.is_retryable());
}

fn client(server: &FaultServer, timeout: Duration) -> BundlerClient {
    fault_server::client(server, timeout, 4)
}
