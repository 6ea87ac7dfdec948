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
//! Judging an op and registering it is one critical section per account ([`PendingOps::section`]):
//! ops of one account prepared concurrently are judged one after another (their lanes still let
//! them wait for receipts side by side). A pending op is released when its receipt comes back —
//! included or reverted — or when sending it fails. One whose receipt did not come in time stays
//! until it is seen on chain (its nonce used) or until [`PendingOps::new`]'s time to live has
//! passed: it may still be in a mempool, and releasing it early would let the next op overspend.
//!
//! One [`PendingOps`] serves the clients of one process (share it through
//! [`Options::pending`](crate::Options::pending)).
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

#[derive(Debug)]
struct Entry {
    id: u64,
    op: PendingOp,
    /// Kept past its guard (its receipt did not come in time), until this instant.
    kept_until: Option<Instant>,
}

type Key = (u64, Address);

/// The pending ops of a process; see the [module docs](self).
#[derive(Debug)]
pub struct PendingOps {
    ttl: Duration,
    ops: Mutex<HashMap<Key, Vec<Entry>>>,
    sections: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
    next: Mutex<u64>,
}

impl Default for PendingOps {
    fn default() -> Self {
        Self::new(Duration::from_secs(600))
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl PendingOps {
    /// A registry whose ops without a receipt are kept for `ttl` at most (default 10 min).
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, ops: Mutex::default(), sections: Mutex::default(), next: Mutex::new(0) }
    }

    /// The critical section of `account` on `chain_id`: judge an op, then [`Self::add`] it,
    /// before dropping the guard.
    pub async fn section(
        &self,
        chain_id: u64,
        account: Address,
    ) -> tokio::sync::OwnedMutexGuard<()> {
        let section = Arc::clone(lock(&self.sections).entry((chain_id, account)).or_default());
        section.lock_owned().await
    }

    /// The account's pending ops, oldest first (those kept past their time to live dropped).
    pub fn of(&self, chain_id: u64, account: Address) -> Vec<PendingOp> {
        let mut ops = lock(&self.ops);
        let Some(entries) = ops.get_mut(&(chain_id, account)) else { return Vec::new() };
        let now = Instant::now();
        entries.retain(|e| e.kept_until.is_none_or(|until| now < until));
        entries.iter().map(|e| e.op.clone()).collect()
    }

    /// Registers `op`; it is pending until the guard is dropped (or, if
    /// [`PendingGuard::keep`] is called, until it is seen on chain or its time to live ends).
    pub fn add(self: &Arc<Self>, chain_id: u64, account: Address, op: PendingOp) -> PendingGuard {
        let id = {
            let mut next = lock(&self.next);
            *next += 1;
            *next
        };
        lock(&self.ops).entry((chain_id, account)).or_default().push(Entry {
            id,
            op,
            kept_until: None,
        });
        PendingGuard { ops: Arc::clone(self), key: (chain_id, account), id, keep: false }
    }
}

/// Holds an op pending; releases it when dropped.
#[derive(Debug)]
pub struct PendingGuard {
    ops: Arc<PendingOps>,
    key: Key,
    id: u64,
    keep: bool,
}

impl PendingGuard {
    /// Keeps the op pending after the guard is dropped: its receipt did not come in time, and
    /// it may still be included.
    pub fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        let mut ops = lock(&self.ops.ops);
        let Some(entries) = ops.get_mut(&self.key) else { return };
        if self.keep {
            let until = Instant::now() + self.ops.ttl;
            if let Some(entry) = entries.iter_mut().find(|e| e.id == self.id) {
                entry.kept_until = Some(until);
            }
        } else {
            entries.retain(|e| e.id != self.id);
        }
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
        let pending = Arc::new(PendingOps::new(Duration::from_secs(60)));
        let account = Address::repeat_byte(1);
        let a = pending.add(1, account, op(0));
        let b = pending.add(1, account, op(1));
        assert_eq!(pending.of(1, account), vec![op(0), op(1)]);
        assert!(pending.of(2, account).is_empty(), "per chain");
        drop(a);
        assert_eq!(pending.of(1, account), vec![op(1)]);
        // No receipt in time: kept (the client skips it once its nonce is used on chain).
        b.keep();
        assert_eq!(pending.of(1, account), vec![op(1)]);
    }

    #[test]
    fn a_kept_op_expires() {
        let pending = Arc::new(PendingOps::new(Duration::ZERO));
        let account = Address::repeat_byte(2);
        pending.add(1, account, op(3)).keep();
        assert!(pending.of(1, account).is_empty());
    }
}
