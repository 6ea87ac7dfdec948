//! Nonce lanes: ops of one account sent at once, each on a nonce key of its own.
//!
//! An account's EntryPoint nonce is a sequence per 192-bit key. Two ops of one account on the
//! same key collide (the second reads the nonce the first consumes), so a client that sends
//! several ops of one account concurrently gives each its own *lane*: the free bits of the
//! family's nonce key ([`AccountFamily::lane_bits`]: Nexus 24, Kernel 16, Safe7579, the
//! ERC-7579 reference and Mandate's account 32). [`SessionClient::use_session`] leases the
//! lowest free lane of the account from its [`LaneAllocator`] for the op, builds the nonce key
//! with it, and releases it when the receipt (or an error) comes back — so an op sent alone
//! uses lane 0, as before.
//!
//! - [`MemoryLanes`]: in process; share one (an `Arc`) between the clients of a process.
//! - [`FileLanes`]: a directory, for several processes of one machine. A lease is an
//!   exclusive `flock(2)` (`LockFileEx` on Windows) on `<dir>/<chain id>/<account>/<lane>.lock`,
//!   held by the open file: releasing the lease closes it, and the kernel drops the locks of a
//!   process that dies, so the lane of a crashed worker comes back by itself. The lock files
//!   stay (deleting one while another process has it open would let two processes lock two
//!   different files of one lane); there are as many as the account ever had ops in flight.
//!
//! Both refuse a lease when every lane is taken ([`LaneError::Exhausted`]): within the family's
//! width, and within the allocator's own limit ([`MemoryLanes::with_limit`],
//! [`FileLanes::with_limit`]), e.g. what a bundler accepts of one sender at once. Nothing waits:
//! the op is refused before anything is read or sent.
//!
//! A lease covers one call of [`SessionClient::use_session`]: when it ends without a receipt
//! (the wait for it timed out, the process died) the lane is free again while the op may still
//! be in a mempool, and the next op on that lane reads the same nonce — it replaces the first or
//! fails. Keeping such a lane until its op is settled is the pending-ops work of issue #19.
//!
//! An allocator of one's own (a database shared by several machines) is one
//! `impl LaneAllocator`: one synchronous, object-safe method returning a [`LaneLease`] that
//! releases the lane when dropped.
//!
//! ```
//! use alloy_primitives::Address;
//! use mandate_client::lanes::{LaneAllocator, LaneError, MemoryLanes};
//!
//! let lanes = MemoryLanes::new();
//! let account = Address::repeat_byte(0xaa);
//! let first = lanes.lease(1, account, 1 << 16)?;
//! let second = lanes.lease(1, account, 1 << 16)?;
//! assert_eq!((first.lane(), second.lane()), (0, 1));
//! drop(first);
//! // The lowest free lane is leased first.
//! assert_eq!(lanes.lease(1, account, 1 << 16)?.lane(), 0);
//! // Two lanes wide: both taken.
//! let _third = lanes.lease(1, account, 1 << 16)?;
//! assert!(matches!(lanes.lease(1, account, 2), Err(LaneError::Exhausted { .. })));
//! # Ok::<(), LaneError>(())
//! ```
//!
//! [`AccountFamily::lane_bits`]: crate::AccountFamily::lane_bits
//! [`SessionClient::use_session`]: crate::SessionClient::use_session

use std::any::Any;
use std::collections::{BTreeSet, HashMap};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use alloy_primitives::Address;
use fs4::FileExt;

/// Why no lane was leased.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LaneError {
    /// Every lane the account may use is leased.
    #[error(
        "every nonce lane of account {account} on chain {chain_id} is in use ({lanes} lanes): \
         wait for an op of it to come back"
    )]
    Exhausted {
        /// The chain.
        chain_id: u64,
        /// The account.
        account: Address,
        /// How many lanes it may use (the family's width or the allocator's limit).
        lanes: u64,
    },
    /// A lock file could not be opened or locked.
    #[error("nonce lane lock {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The database of an [`SqlLanes`](crate::store::SqlLanes) failed.
    #[error("nonce lanes database: {0}")]
    Database(#[source] sqlx::Error),
    /// Another thread panicked while it held the allocator.
    #[error("nonce lane allocator poisoned")]
    Poisoned,
}

/// A lane of one account, leased until dropped.
pub struct LaneLease {
    chain_id: u64,
    account: Address,
    lane: u32,
    _guard: Box<dyn Any + Send + Sync>,
}

impl std::fmt::Debug for LaneLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LaneLease")
            .field("chain_id", &self.chain_id)
            .field("account", &self.account)
            .field("lane", &self.lane)
            .finish_non_exhaustive()
    }
}

impl LaneLease {
    /// A lease of `lane` of `account` on `chain_id`, released when `guard` is dropped (for
    /// allocators of one's own).
    pub fn new(
        chain_id: u64,
        account: Address,
        lane: u32,
        guard: Box<dyn Any + Send + Sync>,
    ) -> Self {
        Self { chain_id, account, lane, _guard: guard }
    }

    /// The lane.
    pub const fn lane(&self) -> u32 {
        self.lane
    }

    /// The account.
    pub const fn account(&self) -> Address {
        self.account
    }

    /// The chain.
    pub const fn chain_id(&self) -> u64 {
        self.chain_id
    }
}

/// Leases nonce lanes so that concurrent ops of one account take distinct ones.
pub trait LaneAllocator: std::fmt::Debug + Send + Sync {
    /// Leases the lowest free lane below `lanes` (at most `2^32`; the family's
    /// [`lane count`](crate::AccountFamily::lanes)) of `account` on `chain_id`, or fails with
    /// [`LaneError::Exhausted`] when they are all leased. The lane is free again when the
    /// lease is dropped.
    fn lease(&self, chain_id: u64, account: Address, lanes: u64) -> Result<LaneLease, LaneError>;
}

impl<T: LaneAllocator + ?Sized> LaneAllocator for Arc<T> {
    fn lease(&self, chain_id: u64, account: Address, lanes: u64) -> Result<LaneLease, LaneError> {
        (**self).lease(chain_id, account, lanes)
    }
}

/// The lanes one account uses: every lane below `next` is leased or in `free`.
#[derive(Debug, Default)]
struct AccountLanes {
    next: u64,
    free: BTreeSet<u32>,
}

/// Per (chain, account): its lanes.
type AccountMap = HashMap<(u64, Address), AccountLanes>;
type Leases = Mutex<AccountMap>;

/// Lanes leased in this process. Clones share the leases.
#[derive(Clone)]
pub struct MemoryLanes {
    leases: Arc<Leases>,
    limit: u64,
}

impl std::fmt::Debug for MemoryLanes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let accounts = self.leases.try_lock().map(|leases| leases.len()).ok();
        f.debug_struct("MemoryLanes")
            .field("limit", &self.limit)
            .field("accounts_with_leases", &accounts)
            .finish()
    }
}

impl Default for MemoryLanes {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryLanes {
    /// No lane leased; as many lanes per account as its family has.
    pub fn new() -> Self {
        Self { leases: Arc::default(), limit: u64::MAX }
    }

    /// At most `limit` lanes per account (ops of one account in flight at once).
    #[must_use]
    pub const fn with_limit(mut self, limit: u64) -> Self {
        self.limit = limit;
        self
    }

    fn lock(&self) -> Result<MutexGuard<'_, AccountMap>, LaneError> {
        self.leases.lock().map_err(|_| LaneError::Poisoned)
    }

    /// The lanes of `account` on `chain_id` leased now, lowest first.
    pub fn leased(&self, chain_id: u64, account: Address) -> Result<Vec<u32>, LaneError> {
        let leases = self.lock()?;
        let Some(lanes) = leases.get(&(chain_id, account)) else { return Ok(Vec::new()) };
        Ok((0..lanes.next)
            .filter_map(|lane| u32::try_from(lane).ok())
            .filter(|lane| !lanes.free.contains(lane))
            .collect())
    }
}

impl LaneAllocator for MemoryLanes {
    fn lease(&self, chain_id: u64, account: Address, lanes: u64) -> Result<LaneLease, LaneError> {
        let count = lanes.min(self.limit).min(1 << 32);
        let mut leases = self.lock()?;
        let entry = leases.entry((chain_id, account)).or_default();
        let lane = match entry.free.first() {
            Some(&lane) if u64::from(lane) < count => {
                entry.free.remove(&lane);
                lane
            }
            _ if entry.next < count => {
                let lane = u32::try_from(entry.next).map_err(|_| LaneError::Exhausted {
                    chain_id,
                    account,
                    lanes: count,
                })?;
                entry.next += 1;
                lane
            }
            _ => {
                if entry.next == 0 {
                    leases.remove(&(chain_id, account));
                }
                return Err(LaneError::Exhausted { chain_id, account, lanes: count });
            }
        };
        let guard =
            MemoryGuard { leases: Arc::clone(&self.leases), key: (chain_id, account), lane };
        Ok(LaneLease::new(chain_id, account, lane, Box::new(guard)))
    }
}

/// Gives a [`MemoryLanes`] lane back when dropped.
struct MemoryGuard {
    leases: Arc<Leases>,
    key: (u64, Address),
    lane: u32,
}

impl Drop for MemoryGuard {
    fn drop(&mut self) {
        // A poisoned allocator refuses every lease anyway.
        let Ok(mut leases) = self.leases.lock() else { return };
        let Some(lanes) = leases.get_mut(&self.key) else { return };
        lanes.free.insert(self.lane);
        // Shrink the high-water mark over the free lanes at the top.
        while let Some(top) = lanes.next.checked_sub(1).and_then(|top| u32::try_from(top).ok()) {
            if !lanes.free.remove(&top) {
                break;
            }
            lanes.next -= 1;
        }
        if lanes.next == 0 {
            leases.remove(&self.key);
        }
    }
}

/// Lanes leased by the processes of one machine through lock files in a directory (see the
/// [module docs](self)): a process that dies gives its lanes back.
#[derive(Clone, Debug)]
pub struct FileLanes {
    dir: PathBuf,
    limit: u64,
}

impl FileLanes {
    /// The allocator of `dir` (created, with its subdirectories, when a lane is first leased).
    pub fn new(dir: impl AsRef<Path>) -> Self {
        Self { dir: dir.as_ref().to_path_buf(), limit: u64::MAX }
    }

    /// At most `limit` lanes per account (ops of one account in flight at once).
    #[must_use]
    pub const fn with_limit(mut self, limit: u64) -> Self {
        self.limit = limit;
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of the lock files of `account`'s lanes on `chain_id`.
    pub fn account_dir(&self, chain_id: u64, account: Address) -> PathBuf {
        self.dir.join(chain_id.to_string()).join(format!("{account:#x}"))
    }
}

impl LaneAllocator for FileLanes {
    fn lease(&self, chain_id: u64, account: Address, lanes: u64) -> Result<LaneLease, LaneError> {
        let count = lanes.min(self.limit).min(1 << 32);
        let dir = self.account_dir(chain_id, account);
        std::fs::create_dir_all(&dir)
            .map_err(|source| LaneError::Io { path: dir.clone(), source })?;
        for lane in 0..count {
            let lane = u32::try_from(lane).map_err(|_| LaneError::Exhausted {
                chain_id,
                account,
                lanes: count,
            })?;
            let path = dir.join(format!("{lane}.lock"));
            let mut options = OpenOptions::new();
            options.read(true).write(true).create(true).truncate(false);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let file: File = options
                .open(&path)
                .map_err(|source| LaneError::Io { path: path.clone(), source })?;
            match FileExt::try_lock(&file) {
                // The open file holds the lock: dropping the lease closes it.
                Ok(()) => return Ok(LaneLease::new(chain_id, account, lane, Box::new(file))),
                Err(fs4::TryLockError::WouldBlock) => {}
                Err(fs4::TryLockError::Error(source)) => {
                    return Err(LaneError::Io { path, source });
                }
            }
        }
        Err(LaneError::Exhausted { chain_id, account, lanes: count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: Address = Address::repeat_byte(0xaa);

    #[test]
    fn memory_lanes_lease_the_lowest_free_lane_and_forget_released_accounts() {
        let lanes = MemoryLanes::new();
        let held: Vec<_> = (0..5).map(|_| lanes.lease(1, ACCOUNT, 1 << 16).unwrap()).collect();
        assert_eq!(held.iter().map(LaneLease::lane).collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
        // Another chain, another account: their own lanes.
        assert_eq!(lanes.lease(2, ACCOUNT, 1 << 16).unwrap().lane(), 0);
        assert_eq!(lanes.lease(1, Address::ZERO, 1 << 16).unwrap().lane(), 0);
        let mut held = held.into_iter();
        let (l0, l1, l2, l3, l4) = (
            held.next().unwrap(),
            held.next().unwrap(),
            held.next().unwrap(),
            held.next().unwrap(),
            held.next().unwrap(),
        );
        drop((l1, l3));
        assert_eq!(lanes.leased(1, ACCOUNT).unwrap(), [0, 2, 4]);
        assert_eq!(lanes.lease(1, ACCOUNT, 1 << 16).unwrap().lane(), 1);
        drop((l4, l2));
        assert_eq!(lanes.leased(1, ACCOUNT).unwrap(), [0]);
        drop(l0);
        assert!(lanes.lock().unwrap().is_empty(), "no account left behind");
    }

    #[test]
    fn the_limit_and_the_width_bound_the_lanes() {
        let lanes = MemoryLanes::new().with_limit(2);
        let _a = lanes.lease(1, ACCOUNT, 1 << 16).unwrap();
        let _b = lanes.lease(1, ACCOUNT, 1 << 16).unwrap();
        assert!(matches!(
            lanes.lease(1, ACCOUNT, 1 << 16),
            Err(LaneError::Exhausted { lanes: 2, .. })
        ));
        // A lane freed above a narrower width is not handed out under it.
        let lanes = MemoryLanes::new();
        let held: Vec<_> = (0..3).map(|_| lanes.lease(1, ACCOUNT, 4).unwrap()).collect();
        drop(held);
        let low = lanes.lease(1, ACCOUNT, 1).unwrap();
        assert!(matches!(lanes.lease(1, ACCOUNT, 1), Err(LaneError::Exhausted { lanes: 1, .. })));
        drop(low);
        // No lane at all: refused, and nothing kept for the account.
        assert!(matches!(lanes.lease(1, ACCOUNT, 0), Err(LaneError::Exhausted { lanes: 0, .. })));
        assert!(lanes.lock().unwrap().is_empty());
        assert!(format!("{lanes:?}").starts_with("MemoryLanes"));
    }

    #[test]
    fn file_lanes_are_exclusive_between_open_files_and_free_when_closed() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (FileLanes::new(dir.path()), FileLanes::new(dir.path()).with_limit(3));
        let l0 = a.lease(7, ACCOUNT, 1 << 16).unwrap();
        let l1 = b.lease(7, ACCOUNT, 1 << 16).unwrap();
        let l2 = a.lease(7, ACCOUNT, 1 << 16).unwrap();
        assert_eq!((l0.lane(), l1.lane(), l2.lane()), (0, 1, 2));
        assert!(matches!(b.lease(7, ACCOUNT, 1 << 16), Err(LaneError::Exhausted { lanes: 3, .. })));
        assert!(matches!(a.lease(7, ACCOUNT, 3), Err(LaneError::Exhausted { lanes: 3, .. })));
        drop(l1);
        assert_eq!(b.lease(7, ACCOUNT, 1 << 16).unwrap().lane(), 1);
        assert!(a.account_dir(7, ACCOUNT).join("2.lock").is_file());
    }
}
