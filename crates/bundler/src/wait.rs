//! Waiting for receipts: deadline, backoff and cancellation.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use alloy_primitives::B256;
use tokio::sync::Notify;

use crate::{BundlerError, UserOperationReceipt};

/// Cancels a wait from elsewhere (another task, a shutdown handler). Clones share one state.
#[derive(Clone, Debug, Default)]
pub struct CancelToken {
    inner: Arc<(AtomicBool, Notify)>,
}

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels every wait holding this token (or a clone of it).
    pub fn cancel(&self) {
        self.inner.0.store(true, Ordering::SeqCst);
        self.inner.1.notify_waiters();
    }

    /// Whether [`Self::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.0.load(Ordering::SeqCst)
    }

    /// Resolves once the token is cancelled.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.inner.1.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

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
    pub cancel: Option<CancelToken>,
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
    pub fn cancel_with(mut self, token: CancelToken) -> Self {
        self.cancel = Some(token);
        self
    }
}

/// Polls `fetch` until it yields a receipt, the deadline passes or the wait is cancelled.
/// Retryable errors of single polls are logged and polling goes on; others end the wait.
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
