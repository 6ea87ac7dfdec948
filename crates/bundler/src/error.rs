//! Typed errors of bundler calls, with the ERC-7769 codes.

use std::time::Duration;

use alloy_primitives::B256;
use alloy_transport::{RpcError, TransportErrorKind};

/// What a JSON-RPC error code means to an ERC-4337 bundler (ERC-7769).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RpcErrorKind {
    /// -32500: the EntryPoint's simulation rejected the op (account, factory or validation);
    /// the message carries the `AAxx` code.
    RejectedByEntryPoint,
    /// -32501: rejected by the paymaster's validation.
    RejectedByPaymaster,
    /// -32502: validation used a banned opcode.
    BannedOpcode,
    /// -32503: the op's validity time range is expired or too short.
    InvalidTimeRange,
    /// -32504: the paymaster, factory or aggregator is throttled or banned (reputation).
    Reputation,
    /// -32505: the entity's stake or unstake delay is too low.
    InsufficientStake,
    /// -32506: the aggregator is not supported.
    UnsupportedAggregator,
    /// -32507: the signature check failed.
    InvalidSignature,
    /// -32508: the paymaster's deposit cannot cover all its pending ops.
    PaymasterDepositTooLow,
    /// -32521: the op's execution reverted (gas estimation).
    ExecutionReverted,
    /// -32602: invalid fields.
    InvalidParams,
    /// -32601: the bundler does not offer the method.
    MethodNotFound,
    /// -32603: the bundler failed internally.
    Internal,
    /// -32600 / -32700: the request was malformed.
    InvalidRequest,
    /// Any other code.
    Other,
}

impl RpcErrorKind {
    /// The kind a JSON-RPC error code stands for.
    pub const fn from_code(code: i64) -> Self {
        match code {
            -32500 => Self::RejectedByEntryPoint,
            -32501 => Self::RejectedByPaymaster,
            -32502 => Self::BannedOpcode,
            -32503 => Self::InvalidTimeRange,
            -32504 => Self::Reputation,
            -32505 => Self::InsufficientStake,
            -32506 => Self::UnsupportedAggregator,
            -32507 => Self::InvalidSignature,
            -32508 => Self::PaymasterDepositTooLow,
            -32521 => Self::ExecutionReverted,
            -32602 => Self::InvalidParams,
            -32601 => Self::MethodNotFound,
            -32603 => Self::Internal,
            -32600 | -32700 => Self::InvalidRequest,
            _ => Self::Other,
        }
    }
}

/// A JSON-RPC error response from a bundler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcFailure {
    /// The method called.
    pub method: &'static str,
    /// The JSON-RPC code.
    pub code: i64,
    /// What the code means.
    pub kind: RpcErrorKind,
    /// The bundler's message.
    pub message: String,
    /// The EntryPoint's `AAxx` code, when the message carries one.
    pub aa_code: Option<String>,
    /// The `data` member, as JSON text.
    pub data: Option<String>,
}

impl RpcFailure {
    /// Builds a failure from an error response's code and message.
    pub fn new(method: &'static str, code: i64, message: String, data: Option<String>) -> Self {
        let aa_code = aa_code(&message);
        Self { method, code, kind: RpcErrorKind::from_code(code), message, aa_code, data }
    }
}

impl RpcFailure {
    /// Whether the code proves the bundler refused the request rather than failed while
    /// handling it: the ERC-7769 validation codes, invalid params or request, an unknown method
    /// and rate limits. An internal error (-32603) or a code of no standard may come after the
    /// bundler took an op.
    pub fn refused(&self) -> bool {
        use RpcErrorKind::*;
        match self.kind {
            RejectedByEntryPoint
            | RejectedByPaymaster
            | BannedOpcode
            | InvalidTimeRange
            | Reputation
            | InsufficientStake
            | UnsupportedAggregator
            | InvalidSignature
            | PaymasterDepositTooLow
            | ExecutionReverted
            | InvalidParams
            | MethodNotFound
            | InvalidRequest => true,
            Internal | Other => self.code == 429 || self.code == -32005,
        }
    }
}

/// The first `AAnn` code in `text`, e.g. `AA23` in `"AA23 reverted: ..."`.
pub fn aa_code(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    bytes.windows(4).enumerate().find_map(|(i, w)| {
        let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let after = bytes.get(i + 4).is_none_or(|b| !b.is_ascii_alphanumeric());
        (boundary && after && w[0] == b'A' && w[1] == b'A' && w[2..].iter().all(u8::is_ascii_digit))
            .then(|| text[i..i + 4].to_string())
    })
}

/// Why a bundler URL does not parse (the `url` crate's `ParseError`).
pub type UrlError = <alloy_transport_http::reqwest::Url as std::str::FromStr>::Err;

/// Errors of bundler calls.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundlerError {
    /// The bundler answered with a JSON-RPC error.
    #[error("{} failed with {} ({:?}): {}", .0.method, .0.code, .0.kind, .0.message)]
    Rpc(RpcFailure),
    /// The server answered with an HTTP error status.
    #[error("{method}: HTTP {status}{}", retry_after.map(|d| format!(" (retry after {d:?})")).unwrap_or_default())]
    Http {
        /// The method called.
        method: &'static str,
        /// The status.
        status: u16,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// The request did not reach the server or the connection broke.
    #[error("{method}: transport failed: {reason}")]
    Transport {
        /// The method called.
        method: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// No answer within the request timeout.
    #[error("{method}: no answer within {after:?}")]
    Timeout {
        /// The method called.
        method: &'static str,
        /// The timeout.
        after: Duration,
    },
    /// The answer was not the JSON-RPC shape the method returns.
    #[error("{method}: malformed response: {reason}")]
    MalformedResponse {
        /// The method called.
        method: &'static str,
        /// What did not parse.
        reason: String,
    },
    /// The op got no receipt before the deadline.
    #[error("no receipt for user operation {user_op_hash} within {waited:?}")]
    ReceiptTimeout {
        /// The op.
        user_op_hash: B256,
        /// How long it was waited for.
        waited: Duration,
    },
    /// Waiting for the receipt was cancelled.
    #[error("waiting for user operation {user_op_hash} was cancelled")]
    Cancelled {
        /// The op.
        user_op_hash: B256,
    },
    /// The bundler gave back a different hash than the op has.
    #[error("bundler returned hash {returned} for user operation {expected}")]
    HashMismatch {
        /// The op's hash.
        expected: B256,
        /// What the bundler returned.
        returned: B256,
    },
    /// The bundler's receipt is of another op than the one asked for.
    #[error("asked for the receipt of user operation {expected}, got one of {returned}")]
    ReceiptMismatch {
        /// The op asked for.
        expected: B256,
        /// The op the receipt is of.
        returned: B256,
    },
    /// A send failed in a way that leaves open whether the bundler took the op, a resend was
    /// refused in a way the first copy's inclusion would explain (its nonce used, its account
    /// deployed), and no trace of the op settled it: the op may have run. Look for its receipt
    /// ([`crate::BundlerClient::wait_for_receipt`]) before sending another op for the same
    /// action, or give the client a [`crate::NonceReader`].
    #[error(
        "user operation {user_op_hash} may have been included: a send was ambiguous, the resend was refused ({rejection}), and no receipt was found"
    )]
    MaybeProcessed {
        /// The op.
        user_op_hash: B256,
        /// The resend's rejection.
        #[source]
        rejection: Box<Self>,
    },
    /// The URL could not be used. The parser's message never quotes the URL (it may carry an
    /// API key).
    #[error("invalid bundler URL: {0}")]
    InvalidUrl(#[source] UrlError),
    /// An in-process bundler failed (e.g. its EVM).
    #[error("bundler failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl BundlerError {
    /// Whether the same request may succeed if repeated later: rate limits, 5xx, timeouts,
    /// broken connections, a throttled entity and internal errors. A send is still only
    /// repeated after asking the bundler whether it already holds the op.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Http { status, .. } => matches!(status, 408 | 425 | 429 | 500..=599),
            Self::Transport { .. } | Self::Timeout { .. } => true,
            Self::Rpc(f) => {
                matches!(f.kind, RpcErrorKind::Reputation | RpcErrorKind::Internal)
                    || f.code == 429
                    || f.code == -32005
            }
            _ => false,
        }
    }

    /// The JSON-RPC failure, if the bundler answered with one.
    pub fn rpc(&self) -> Option<&RpcFailure> {
        match self {
            Self::Rpc(f) => Some(f),
            _ => None,
        }
    }

    /// The EntryPoint's `AAxx` code, if the bundler's rejection carries one.
    pub fn aa_code(&self) -> Option<&str> {
        self.rpc().and_then(|f| f.aa_code.as_deref())
    }

    /// How long the server asked to wait before retrying.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the server certainly did not act on the request (it refused it outright), so
    /// that repeating a send cannot duplicate an op.
    pub(crate) fn certainly_not_processed(&self) -> bool {
        match self {
            Self::Http { status, .. } => matches!(status, 408 | 425 | 429),
            Self::Rpc(f) => f.refused(),
            Self::InvalidUrl(_) => true,
            Self::Transport { reason, .. } => reason.contains("onnection refused"),
            _ => false,
        }
    }

    pub(crate) fn from_rpc(method: &'static str, err: RpcError<TransportErrorKind>) -> Self {
        match err {
            RpcError::ErrorResp(payload) => Self::Rpc(RpcFailure::new(
                method,
                payload.code,
                payload.message.into_owned(),
                payload.data.map(|d| d.get().to_string()),
            )),
            RpcError::NullResp => {
                Self::MalformedResponse { method, reason: "null result".to_string() }
            }
            RpcError::DeserError { err, text } => {
                let text = mandate_abi::json::excerpt(&text);
                Self::MalformedResponse { method, reason: format!("{err} in {text:?}") }
            }
            RpcError::SerError(e) => Self::Transport { method, reason: format!("encoding: {e}") },
            RpcError::Transport(kind) => Self::from_transport(method, kind),
            other => Self::Transport { method, reason: other.to_string() },
        }
    }

    fn from_transport(method: &'static str, kind: TransportErrorKind) -> Self {
        match kind {
            TransportErrorKind::HttpError(e) => {
                Self::Http { method, status: e.status, retry_after: None }
            }
            TransportErrorKind::HttpErrorWithRetryAfter { error, retry_after } => {
                Self::Http { method, status: error.status, retry_after: Some(retry_after) }
            }
            TransportErrorKind::Custom(e) => {
                // reqwest's error text, including what it wraps (e.g. "connection refused").
                let mut reason = e.to_string();
                let mut source = e.source();
                while let Some(s) = source {
                    reason.push_str(": ");
                    reason.push_str(&s.to_string());
                    source = s.source();
                }
                Self::Transport { method, reason: redact_urls(&reason) }
            }
            other => Self::Transport { method, reason: redact_urls(&other.to_string()) },
        }
    }
}

/// `text` with every URL replaced by `<url>`: bundler URLs often carry API keys, and
/// transport errors quote them.
fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) =
        [rest.find("http://"), rest.find("https://")].into_iter().flatten().min()
    {
        out.push_str(&rest[..start]);
        out.push_str("<url>");
        let tail = &rest[start..];
        let end =
            tail.find(|c: char| c.is_whitespace() || c == ')' || c == '"').unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_aa_codes() {
        assert_eq!(aa_code("AA23 reverted: 0x1234").as_deref(), Some("AA23"));
        assert_eq!(
            aa_code("UserOperation reverted during simulation with reason: AA13 initCode failed")
                .as_deref(),
            Some("AA13")
        );
        assert_eq!(aa_code("BAA23 or AA2 or AA234"), None);
    }

    #[test]
    fn transport_errors_do_not_quote_urls() {
        let text =
            "error sending request for url (https://api.example/v2/rpc?apikey=SECRET): refused";
        assert_eq!(redact_urls(text), "error sending request for url (<url>): refused");
        assert_eq!(redact_urls("a http://x/k b https://y/k"), "a <url> b <url>");
    }

    #[test]
    fn classifies_codes() {
        let f = RpcFailure::new(
            "eth_sendUserOperation",
            -32500,
            "AA21 didn't pay prefund".into(),
            None,
        );
        assert_eq!(f.kind, RpcErrorKind::RejectedByEntryPoint);
        assert_eq!(f.aa_code.as_deref(), Some("AA21"));
        assert!(!BundlerError::Rpc(f).is_retryable());
        let throttled = RpcFailure::new("eth_sendUserOperation", -32504, "throttled".into(), None);
        assert!(BundlerError::Rpc(throttled.clone()).is_retryable());
        assert!(BundlerError::Rpc(throttled).certainly_not_processed());
        for (code, refused) in [
            (-32500, true),
            (-32507, true),
            (-32602, true),
            (-32005, true),
            (-32603, false),
            (-32099, false),
            (1, false),
        ] {
            let f = RpcFailure::new("eth_sendUserOperation", code, "x".into(), None);
            assert_eq!(BundlerError::Rpc(f).certainly_not_processed(), refused, "{code}");
        }
        let http = BundlerError::Http { method: "eth_chainId", status: 503, retry_after: None };
        assert!(http.is_retryable() && !http.certainly_not_processed());
    }
}
