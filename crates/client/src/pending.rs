//! Ops the client has sent that are not settled yet, so that the next op of the same account is
//! judged after them.
//!
//! Two ops of one account that each fit a session's budget (a usage limit, an ERC-20 spending
//! limit, a value limit, a universal-action rule's budget) may not fit together; judged against
//! the chain alone, both pass and the second fails on chain. [`SessionClient`] registers every op
//! it sends here, from its pre-flight until its receipt: the local verdict of the next session op
//! of that account first runs the pending session ops through the evaluator (so their counters
//! are spent), and its pre-flight first runs every pending op in the simulator. An op that fits
//! alone but not after them is refused before it is sent, naming the policy and budget.
//!
//! Judging an op and registering it is one critical section per account ([`PendingRegistry::section`]):
//! ops of one account prepared concurrently are judged one after another (their lanes still let
//! them wait for receipts side by side). A pending op is released when its receipt comes back —
//! included or reverted — or when sending it fails. One whose receipt did not come in time stays
//! until it is seen on chain (its nonce used) or until the registry's time to live has passed:
//! it may still be in a mempool, and releasing it early would let the next op overspend.
//!
//! A [`MemoryPending`] serves the clients of one process (share it through
//! [`Options::pending`](crate::Options::pending)); an [`SqlPending`](crate::store::SqlPending)
//! the workers of several processes and machines, through the database of their
//! [`SqlStore`](crate::store::SqlStore).
//!
//! [`SessionClient`]: crate::SessionClient

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256};
use mandate_abi::PackedUserOperation;

/// An op sent and not settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingOp {
    /// Its hash (what the EntryPoint and the session key sign).
    pub user_op_hash: B256,
    /// The op, signed, as sent.
    pub op: PackedUserOperation,
    /// Whether a session key signed it (the local evaluator judges only those).
    pub session: bool,
}

/// Where pending ops are kept and who may judge an account's next op: one registry per
/// process ([`MemoryPending`]) or a database shared by several ([`SqlPending`](crate::store::SqlPending)).
/// Object-safe; [`Options::pending`](crate::Options::pending) holds one.
pub trait PendingRegistry: std::fmt::Debug + Send + Sync {
    /// The critical section of `account` on `chain_id`, waited for: judge an op, then
    /// [`Self::add`] it, before dropping the guard.
    fn section(&self, chain_id: u64, account: Address) -> SectionFuture<'_>;

    /// The account's pending ops, oldest first (those kept past their time to live left out).
    fn of(&self, chain_id: u64, account: Address) -> Result<Vec<PendingOp>, PendingError>;

    /// Registers `op`; it is pending until the guard is dropped (or, after
    /// [`PendingGuard::keep`], until its time to live ends; the client skips an op the chain
    /// has run).
    fn add(
        &self,
        chain_id: u64,
        account: Address,
        op: PendingOp,
    ) -> Result<PendingGuard, PendingError>;
}

/// What [`PendingRegistry::section`] returns.
pub type SectionFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<SectionGuard, PendingError>> + Send + 'a>,
>;

/// Why the registry failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PendingError {
    /// The database of an [`SqlPending`](crate::store::SqlPending) failed.
    #[error("pending ops database: {0}")]
    Database(#[source] sqlx::Error),
    /// A stored pending op does not decode.
    #[error("a stored pending op of {account} does not decode: {reason}")]
    Corrupt {
        /// The account.
        account: Address,
        /// What is wrong.
        reason: String,
    },
    /// A chain id too large for the database's BIGINT.
    #[error("chain id {0} does not fit a database BIGINT")]
    ChainIdTooLarge(u64),
}

/// An account's section, held until dropped.
pub struct SectionGuard(#[allow(dead_code)] Box<dyn std::any::Any + Send + Sync>);

impl SectionGuard {
    /// A section released when `guard` is dropped (for registries of one's own).
    pub fn new(guard: Box<dyn std::any::Any + Send + Sync>) -> Self {
        Self(guard)
    }
}

impl std::fmt::Debug for SectionGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SectionGuard")
    }
}

/// Holds an op pending; releases it when dropped.
pub struct PendingGuard {
    release: Option<Box<dyn FnOnce(bool) + Send + Sync>>,
}

impl std::fmt::Debug for PendingGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingGuard")
    }
}

impl PendingGuard {
    /// A guard calling `release(kept)` once: when dropped (`false`), or on [`Self::keep`]
    /// (`true`) — for registries of one's own.
    pub fn new(release: impl FnOnce(bool) + Send + Sync + 'static) -> Self {
        Self { release: Some(Box::new(release)) }
    }

    /// Keeps the op pending after the guard is dropped: its receipt did not come in time, and
    /// it may still be included.
    pub fn keep(mut self) {
        if let Some(release) = self.release.take() {
            release(true);
        }
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            release(false);
        }
    }
}

#[derive(Debug)]
struct Entry {
    id: u64,
    op: PendingOp,
    /// Kept past its guard (its receipt did not come in time), until this instant.
    kept_until: Option<Instant>,
}

type Key = (u64, Address);

#[derive(Debug, Default)]
struct Shared {
    ops: Mutex<HashMap<Key, Vec<Entry>>>,
    next: Mutex<u64>,
}

/// The pending ops of one process; see the [module docs](self).
#[derive(Debug)]
pub struct MemoryPending {
    ttl: Duration,
    shared: Arc<Shared>,
    sections: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
}

impl Default for MemoryPending {
    fn default() -> Self {
        Self::new(Duration::from_secs(600))
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl MemoryPending {
    /// A registry whose ops without a receipt are kept for `ttl` at most (default 10 min).
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, shared: Arc::default(), sections: Mutex::default() }
    }
}

impl PendingRegistry for MemoryPending {
    fn section(&self, chain_id: u64, account: Address) -> SectionFuture<'_> {
        let section = Arc::clone(lock(&self.sections).entry((chain_id, account)).or_default());
        Box::pin(async move { Ok(SectionGuard::new(Box::new(section.lock_owned().await))) })
    }

    fn of(&self, chain_id: u64, account: Address) -> Result<Vec<PendingOp>, PendingError> {
        let mut ops = lock(&self.shared.ops);
        let Some(entries) = ops.get_mut(&(chain_id, account)) else { return Ok(Vec::new()) };
        let now = Instant::now();
        entries.retain(|e| e.kept_until.is_none_or(|until| now < until));
        Ok(entries.iter().map(|e| e.op.clone()).collect())
    }

    fn add(
        &self,
        chain_id: u64,
        account: Address,
        op: PendingOp,
    ) -> Result<PendingGuard, PendingError> {
        let id = {
            let mut next = lock(&self.shared.next);
            *next += 1;
            *next
        };
        let key = (chain_id, account);
        lock(&self.shared.ops).entry(key).or_default().push(Entry { id, op, kept_until: None });
        let (shared, ttl) = (Arc::clone(&self.shared), self.ttl);
        Ok(PendingGuard::new(move |kept| {
            let mut ops = lock(&shared.ops);
            let Some(entries) = ops.get_mut(&key) else { return };
            if kept {
                if let Some(entry) = entries.iter_mut().find(|e| e.id == id) {
                    entry.kept_until = Some(Instant::now() + ttl);
                }
            } else {
                entries.retain(|e| e.id != id);
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;

    fn op(nonce: u64) -> PendingOp {
        PendingOp {
            user_op_hash: B256::with_last_byte(nonce as u8),
            op: PackedUserOperation { nonce: U256::from(nonce), ..Default::default() },
            session: true,
        }
    }

    #[test]
    fn ops_are_pending_until_released_or_seen_on_chain() {
        let pending = MemoryPending::new(Duration::from_secs(60));
        let account = Address::repeat_byte(1);
        let a = pending.add(1, account, op(0)).unwrap();
        let b = pending.add(1, account, op(1)).unwrap();
        assert_eq!(pending.of(1, account).unwrap(), vec![op(0), op(1)]);
        assert!(pending.of(2, account).unwrap().is_empty(), "per chain");
        drop(a);
        assert_eq!(pending.of(1, account).unwrap(), vec![op(1)]);
        // No receipt in time: kept (the client skips it once its nonce is used on chain).
        b.keep();
        assert_eq!(pending.of(1, account).unwrap(), vec![op(1)]);
    }

    #[test]
    fn a_kept_op_expires() {
        let pending = MemoryPending::new(Duration::ZERO);
        let account = Address::repeat_byte(2);
        pending.add(1, account, op(3)).unwrap().keep();
        assert!(pending.of(1, account).unwrap().is_empty());
    }
}
