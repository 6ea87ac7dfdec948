//! What a real user operation can carry, so that decoding hostile input takes bounded time and
//! memory: an ENABLE signature is FastLZ-compressed and ABI-encoded, and both let a few
//! kilobytes stand for gigabytes (long back-references; ABI offsets that point many entries at
//! one `ActionData`). These bounds are far above what any session enabled on-chain can use.

use crate::sol::{EnableSession, Session};

/// Most bytes an ENABLE payload may decompress to (4 MiB). SmartSession decompresses it into
/// EVM memory and ABI-decodes a copy of it there: 8 MiB of memory costs over 134M gas, more
/// than any Ethereum block holds (and eight times EIP-7825's 2^24 per-transaction cap).
pub const MAX_ENABLE_PAYLOAD: usize = 1 << 22;

/// Most chain digests an ENABLE payload may list: `chainDigestIndex` is a `uint8`, so a digest
/// past index 255 can never be the one a chain enables with.
pub const MAX_CHAIN_DIGESTS: usize = 256;

/// Most entries (actions, policies, ERC-7739 contexts and content names, all lists together)
/// a session enabled in an op may hold. Enabling each writes at least one fresh storage slot
/// (20,000 gas): 1024 of them cost over 20M gas, more than EIP-7825's 2^24 gas cap on a
/// transaction.
pub const MAX_SESSION_ENTRIES: usize = 1024;

/// How many times its own size an ENABLE payload may take once ABI-decoded. A canonical
/// encoding, or any encoding whose parts do not overlap, decodes to at most its size; only
/// offsets aliasing one another (many entries pointing at the same data) decode to more.
pub const MAX_DECODE_FACTOR: usize = 2;

/// Why decoding was refused before it could take unbounded time or memory.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BoundsError {
    /// Decoding would take more than [`MAX_DECODE_FACTOR`] times the input's size.
    #[error(
        "{field}: decoding its {size} bytes would take more than {limit} bytes: its ABI offsets \
         alias one another"
    )]
    Aliased {
        /// What was being decoded.
        field: &'static str,
        /// Its encoded size.
        size: usize,
        /// The decoded size allowed.
        limit: usize,
    },
    /// A list longer than any op can carry.
    #[error("{field}: {count} entries, more than the {limit} an op can carry")]
    TooManyEntries {
        /// The list, as a path from the ENABLE payload (`sessionToEnable.actions[3].actionPolicies`).
        field: String,
        /// How many entries it has (for a session: all its lists up to this one).
        count: usize,
        /// The bound.
        limit: usize,
    },
}

/// Checks the lists of a decoded ENABLE payload against [`MAX_CHAIN_DIGESTS`] and
/// [`MAX_SESSION_ENTRIES`], naming the first list past its bound.
pub fn check_enable_session(enable: &EnableSession) -> Result<(), BoundsError> {
    let digests = enable.hashesAndChainIds.len();
    if digests > MAX_CHAIN_DIGESTS {
        return Err(BoundsError::TooManyEntries {
            field: "hashesAndChainIds".into(),
            count: digests,
            limit: MAX_CHAIN_DIGESTS,
        });
    }
    check_session("sessionToEnable", &enable.sessionToEnable)
}

/// Checks that `session`'s lists together hold at most [`MAX_SESSION_ENTRIES`] entries; the
/// error names the list where the count passes it, under `prefix`.
fn check_session(prefix: &str, session: &Session) -> Result<(), BoundsError> {
    let mut count = 0usize;
    let mut add = |n: usize, field: &dyn Fn() -> String| {
        count += n;
        if count > MAX_SESSION_ENTRIES {
            return Err(BoundsError::TooManyEntries {
                field: format!("{prefix}.{}", field()),
                count,
                limit: MAX_SESSION_ENTRIES,
            });
        }
        Ok(())
    };
    add(session.userOpPolicies.len(), &|| "userOpPolicies".into())?;
    let erc7739 = &session.erc7739Policies;
    add(erc7739.erc1271Policies.len(), &|| "erc7739Policies.erc1271Policies".into())?;
    add(erc7739.allowedERC7739Content.len(), &|| "erc7739Policies.allowedERC7739Content".into())?;
    for (i, context) in erc7739.allowedERC7739Content.iter().enumerate() {
        add(context.contentNames.len(), &|| {
            format!("erc7739Policies.allowedERC7739Content[{i}].contentName")
        })?;
    }
    add(session.actions.len(), &|| "actions".into())?;
    for (i, action) in session.actions.iter().enumerate() {
        add(action.actionPolicies.len(), &|| format!("actions[{i}].actionPolicies"))?;
    }
    Ok(())
}
