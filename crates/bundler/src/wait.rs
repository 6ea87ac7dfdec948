//! Waiting for receipts: deadline, backoff and cancellation.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use alloy_primitives::B256;
use tokio_util::sync::CancellationToken;

use crate::{BundlerError, UserOperationReceipt};

/// How to wait for a receipt.
#[derive(Clone, Debug)]
pub struct WaitOptions {
    /// Give up after this long ([`BundlerError::ReceiptTimeout`]).
    pub timeout: Duration,
    /// First pause between polls.
    pub initial_interval: Duration,
    /// Longest pause between polls (the pause doubles up to it).
    pub max_interval: Duration,
    /// Stops the wait with [`BundlerError::Cancelled`].
    pub cancel: Option<CancellationToken>,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            initial_interval: Duration::from_millis(50),
            max_interval: Duration::from_secs(2),
            cancel: None,
        }
    }
}

impl WaitOptions {
    /// The defaults with another timeout.
    pub fn with_timeout(timeout: Duration) -> Self {
        Self { timeout, ..Self::default() }
    }

    /// Adds a cancellation token.
    pub fn cancel_with(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }
}

/// Polls `fetch` until it yields a receipt, the deadline passes or the wait is cancelled.
/// Retryable errors of single polls are logged and polling goes on; others end the wait, as
/// does a receipt of another op ([`BundlerError::ReceiptMismatch`]).
pub async fn poll_receipt<F, Fut>(
    user_op_hash: B256,
    options: &WaitOptions,
    mut fetch: F,
) -> Result<UserOperationReceipt, BundlerError>
where
    F: FnMut() -> Fut + Send,
    Fut: Future<Output = Result<Option<UserOperationReceipt>, BundlerError>> + Send,
{
    let started = Instant::now();
    // A timeout past what `Instant` can hold means "a century".
    let deadline = started
        .checked_add(options.timeout)
        .unwrap_or_else(|| started + Duration::from_secs(100 * 365 * 86_400));
    let cancelled = async {
        match &options.cancel {
            Some(token) => token.cancelled().await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(cancelled);
    let mut interval = options.initial_interval;
    loop {
        tokio::select! {
            biased;
            () = &mut cancelled => return Err(BundlerError::Cancelled { user_op_hash }),
            polled = tokio::time::timeout_at(deadline.into(), fetch()) => match polled {
                Err(_) => break,
                Ok(Ok(Some(receipt))) if receipt.user_op_hash != user_op_hash => {
                    return Err(BundlerError::ReceiptMismatch {
                        expected: user_op_hash,
                        returned: receipt.user_op_hash,
                    });
                }
                Ok(Ok(Some(receipt))) => return Ok(receipt),
                Ok(Ok(None)) => {}
                Ok(Err(e)) if e.is_retryable() => {
                    tracing::debug!(%user_op_hash, error = %e, "receipt poll failed; polling on");
                }
                Ok(Err(e)) => return Err(e),
            },
        }
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let pause = interval.min(deadline - now);
        tokio::select! {
            biased;
            () = &mut cancelled => return Err(BundlerError::Cancelled { user_op_hash }),
            () = tokio::time::sleep(pause) => {}
        }
        interval = interval.saturating_mul(2).min(options.max_interval);
    }
    Err(BundlerError::ReceiptTimeout { user_op_hash, waited: started.elapsed() })
}
