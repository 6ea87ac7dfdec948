//! [`SqlStore`] and [`SqlLanes`]: sessions and nonce lanes in a SQL database.

use std::{
    future::Future,
    path::Path,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy_primitives::{Address, B256};
use sqlx::{AnyPool, Row, any::AnyPoolOptions};

use super::{
    Password, ScryptCost, SessionStore, StoreError, StoredSession, check_batch, check_key,
    keystore::{self, KeystoreError},
};
use crate::{
    SessionKey, SessionRecord, SessionRef,
    lanes::{LaneAllocator, LaneError, LaneLease},
    pending::{
        PendingError, PendingGuard, PendingOp, PendingRegistry, SectionFuture, SectionGuard,
    },
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The pool and the runtime its queries run on.
struct Db {
    pool: AnyPool,
    /// `Some` until dropped (shut down in the background: a runtime may not be dropped where
    /// blocking is not allowed).
    runtime: Option<tokio::runtime::Runtime>,
    /// `postgres` or `sqlite`, for `Debug`.
    backend: &'static str,
}

impl Db {
    /// Runs `fut` to its end on the store's runtime: on this thread, or on a thread of its own
    /// when this one is already in a runtime (which cannot block on another).
    fn run<T: Send>(&self, fut: impl Future<Output = T> + Send) -> T {
        let runtime = self.runtime.as_ref().expect("the runtime lives as long as the store");
        block_on(runtime, fut)
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// `fut` run to its end on `runtime`: on this thread, or on a thread of its own when this one
/// is already in a runtime (which cannot block on another).
fn block_on<T: Send>(runtime: &tokio::runtime::Runtime, fut: impl Future<Output = T> + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return runtime.block_on(fut);
    }
    std::thread::scope(|s| {
        s.spawn(|| runtime.block_on(fut))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

fn db_error(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Database { operation, source }
}

/// [`SqlStore`]: sessions in a SQL database shared by several processes and machines —
/// PostgreSQL, or SQLite for one machine — through one code path (`sqlx`'s `Any` driver and
/// portable SQL), with the nonce lanes of [`SqlLanes`] in the same database.
///
/// A row per session: its reference, the record as JSON, and the key as a Web3 Secret Storage
/// keystore under the store's password (scrypt, AES-128-CTR: the secrecy of
/// [`FileStore`](super::FileStore)'s keystores; the database never sees a key in the clear).
/// Every method is one transaction. The schema is migrated on connect (`crates/client/
/// migrations`, embedded). The URL (which may carry the database's password) is never kept,
/// logged or put in an error.
///
/// The [`SessionStore`] methods are synchronous: the store runs its queries on a runtime of its
/// own, on a thread of their own when called from async code, so it may be used anywhere a
/// [`FileStore`](super::FileStore) is.
///
/// ```
/// use mandate_client::store::{ScryptCost, SessionStore, SqlStore};
/// use mandate_client::{SessionKey, SessionRecord};
/// # use alloy_primitives::Address;
/// # let dir = tempfile::tempdir()?;
/// # let record = |key: &SessionKey| SessionRecord::new(
/// #     1, Address::repeat_byte(0xaa), key.address(), Default::default(), Address::repeat_byte(0x55));
///
/// let path = dir.path().join("sessions.db");
/// let store = SqlStore::sqlite(&path, "correct horse battery staple")?
///     .with_scrypt_cost(ScryptCost::MIN);
/// let key = SessionKey::random();
/// store.save(&key, &record(&key))?;
///
/// // Another process (or, with PostgreSQL, another machine): the same key.
/// let again = SqlStore::sqlite(&path, "correct horse battery staple")?;
/// let stored = again.load(&record(&key).reference())?.expect("saved");
/// assert_eq!(stored.key.address(), key.address());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Its `Debug` names the backend, never the URL or the password.
pub struct SqlStore {
    db: Arc<Db>,
    password: Password,
    cost: ScryptCost,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore").field("backend", &self.db.backend).finish_non_exhaustive()
    }
}

impl SqlStore {
    /// Connects to the database at `url` (`postgres://…` or `sqlite:…`) and migrates its
    /// schema; keys are encrypted under `password` (an empty one is refused).
    pub fn connect(url: &str, password: impl Into<Password>) -> Result<Self, StoreError> {
        let password = password.into();
        if password.expose().is_empty() {
            return Err(StoreError::EmptyPassword);
        }
        let backend = if url.starts_with("postgres") {
            "postgres"
        } else if url.starts_with("sqlite") {
            "sqlite"
        } else {
            return Err(StoreError::UnsupportedDatabase);
        };
        sqlx::any::install_default_drivers();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| StoreError::Database { operation: "start", source: e.into() })?;
        let url = url.to_owned();
        let pool = block_on(&runtime, async move {
            let pool = AnyPoolOptions::new()
                .max_connections(4)
                .connect(&url)
                .await
                .map_err(db_error("connect"))?;
            MIGRATOR
                .run(&pool)
                .await
                .map_err(|e| StoreError::Database { operation: "migrate", source: e.into() })?;
            Ok::<_, StoreError>(pool)
        })?;
        Ok(Self {
            db: Arc::new(Db { pool, runtime: Some(runtime), backend }),
            password,
            cost: ScryptCost::DEFAULT,
        })
    }

    /// A store in the SQLite database file at `path` (created if missing).
    pub fn sqlite(
        path: impl AsRef<Path>,
        password: impl Into<Password>,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::connect(&url, password)
    }

    /// The scrypt cost new keys are encrypted at (default [`ScryptCost::DEFAULT`]).
    pub const fn with_scrypt_cost(mut self, cost: ScryptCost) -> Self {
        self.cost = cost;
        self
    }

    /// Nonce lanes leased through this store's database, shared by every process and machine
    /// using it; a lease a holder does not release (it died) expires after `ttl`.
    pub fn lanes(&self, ttl: Duration) -> SqlLanes {
        SqlLanes { db: Arc::clone(&self.db), ttl, holder: holder_id(), limit: u64::MAX }
    }

    fn decrypt(&self, keystore: &str, reference: &SessionRef) -> Result<SessionKey, StoreError> {
        match keystore::decrypt_key(keystore.as_bytes(), self.password.expose()) {
            Err(KeystoreError::MacMismatch) => Err(StoreError::WrongPassword(*reference)),
            result => {
                result.map_err(|source| StoreError::RowKeystore { reference: *reference, source })
            }
        }
    }
}

/// The row key of `reference`: the chain id as a BIGINT, the account and the permission id as
/// lower-case `0x` hex (which sorts as the bytes do).
fn row_key(reference: &SessionRef) -> Result<(i64, String, String), StoreError> {
    let chain_id = i64::try_from(reference.chain_id)
        .map_err(|_| StoreError::ChainIdTooLarge(reference.chain_id))?;
    Ok((chain_id, format!("{:#x}", reference.account), format!("{:#x}", reference.permission_id.0)))
}

fn record_of(json: &str, reference: &SessionRef) -> Result<SessionRecord, StoreError> {
    let record: SessionRecord = serde_json::from_str(json)
        .map_err(|source| StoreError::RowJson { reference: *reference, source })?;
    if record.reference() != *reference {
        return Err(StoreError::CorruptRow {
            row: reference.to_string(),
            reason: format!("its record is filed as {}", record.reference()),
        });
    }
    Ok(record)
}

impl SessionStore for SqlStore {
    fn save_all(&self, sessions: &[(&SessionKey, &SessionRecord)]) -> Result<(), StoreError> {
        check_batch(sessions)?;
        // The slow part, before the transaction: one keystore per distinct key.
        let mut keystores = std::collections::BTreeMap::new();
        for (key, record) in sessions {
            if let std::collections::btree_map::Entry::Vacant(entry) =
                keystores.entry(key.address())
            {
                let json = keystore::encrypt_key(key, self.password.expose(), self.cost).map_err(
                    |source| StoreError::RowKeystore { reference: record.reference(), source },
                )?;
                entry.insert(String::from_utf8_lossy(&json).into_owned());
            }
        }
        let mut rows = Vec::with_capacity(sessions.len());
        for (key, record) in sessions {
            let (chain_id, account, permission_id) = row_key(&record.reference())?;
            let json = serde_json::to_string(record)
                .map_err(|source| StoreError::RowJson { reference: record.reference(), source })?;
            let keystore = keystores[&key.address()].clone();
            rows.push((
                chain_id,
                account,
                permission_id,
                format!("{:#x}", key.address()),
                json,
                keystore,
            ));
        }
        self.db.run(async {
            let mut tx = self.db.pool.begin().await.map_err(db_error("begin"))?;
            for (chain_id, account, permission_id, session_key, record, keystore) in rows {
                sqlx::query(
                    "INSERT INTO mandate_sessions \
                     (chain_id, account, permission_id, session_key, record, keystore) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (chain_id, account, permission_id) DO UPDATE SET \
                     session_key = excluded.session_key, record = excluded.record, \
                     keystore = excluded.keystore",
                )
                .bind(chain_id)
                .bind(account)
                .bind(permission_id)
                .bind(session_key)
                .bind(record)
                .bind(keystore)
                .execute(&mut *tx)
                .await
                .map_err(db_error("save"))?;
            }
            tx.commit().await.map_err(db_error("commit"))
        })
    }

    fn update(&self, record: &SessionRecord) -> Result<(), StoreError> {
        let reference = record.reference();
        let (chain_id, account, permission_id) = row_key(&reference)?;
        let json = serde_json::to_string(record)
            .map_err(|source| StoreError::RowJson { reference, source })?;
        self.db.run(async {
            let mut tx = self.db.pool.begin().await.map_err(db_error("begin"))?;
            let row = sqlx::query(
                "SELECT session_key FROM mandate_sessions \
                 WHERE chain_id = $1 AND account = $2 AND permission_id = $3",
            )
            .bind(chain_id)
            .bind(&account)
            .bind(&permission_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error("update"))?
            .ok_or(StoreError::NotFound(reference))?;
            let stored: String = row.try_get(0).map_err(db_error("update"))?;
            let key: Address = stored.parse().map_err(|_| StoreError::CorruptRow {
                row: reference.to_string(),
                reason: format!("session_key {stored:?} is not an address"),
            })?;
            check_key(key, record)?;
            sqlx::query(
                "UPDATE mandate_sessions SET record = $4 \
                 WHERE chain_id = $1 AND account = $2 AND permission_id = $3",
            )
            .bind(chain_id)
            .bind(&account)
            .bind(&permission_id)
            .bind(json)
            .execute(&mut *tx)
            .await
            .map_err(db_error("update"))?;
            tx.commit().await.map_err(db_error("commit"))
        })
    }

    fn load(&self, reference: &SessionRef) -> Result<Option<StoredSession>, StoreError> {
        let (chain_id, account, permission_id) = row_key(reference)?;
        let row = self.db.run(async {
            sqlx::query(
                "SELECT record, keystore FROM mandate_sessions \
                 WHERE chain_id = $1 AND account = $2 AND permission_id = $3",
            )
            .bind(chain_id)
            .bind(account)
            .bind(permission_id)
            .fetch_optional(&self.db.pool)
            .await
            .map_err(db_error("load"))
        })?;
        let Some(row) = row else { return Ok(None) };
        let (json, keystore): (String, String) =
            (row.try_get(0).map_err(db_error("load"))?, row.try_get(1).map_err(db_error("load"))?);
        let record = record_of(&json, reference)?;
        let key = self.decrypt(&keystore, reference)?;
        check_key(key.address(), &record).map_err(|_| StoreError::CorruptRow {
            row: reference.to_string(),
            reason: format!(
                "its key is {}, its record names {}",
                key.address(),
                record.session_key
            ),
        })?;
        Ok(Some(StoredSession { key, record }))
    }

    fn list(&self) -> Result<Vec<SessionRecord>, StoreError> {
        let rows = self.db.run(async {
            sqlx::query("SELECT chain_id, account, permission_id, record FROM mandate_sessions")
                .fetch_all(&self.db.pool)
                .await
                .map_err(db_error("list"))
        })?;
        let mut records = Vec::with_capacity(rows.len());
        for row in rows {
            let chain_id: i64 = row.try_get(0).map_err(db_error("list"))?;
            let account: String = row.try_get(1).map_err(db_error("list"))?;
            let permission_id: String = row.try_get(2).map_err(db_error("list"))?;
            let json: String = row.try_get(3).map_err(db_error("list"))?;
            let reference =
                match (u64::try_from(chain_id), account.parse(), permission_id.parse::<B256>()) {
                    (Ok(chain_id), Ok(account), Ok(id)) => SessionRef {
                        chain_id,
                        account,
                        permission_id: mandate_abi::PermissionId(id),
                    },
                    _ => {
                        return Err(StoreError::CorruptRow {
                            row: format!("({chain_id}, {account}, {permission_id})"),
                            reason: "not a chain id, an account and a permission id".to_owned(),
                        });
                    }
                };
            records.push(record_of(&json, &reference)?);
        }
        records.sort_by_key(SessionRecord::reference);
        Ok(records)
    }

    fn remove(&self, reference: &SessionRef) -> Result<bool, StoreError> {
        let (chain_id, account, permission_id) = row_key(reference)?;
        self.db.run(async {
            let done = sqlx::query(
                "DELETE FROM mandate_sessions \
                 WHERE chain_id = $1 AND account = $2 AND permission_id = $3",
            )
            .bind(chain_id)
            .bind(account)
            .bind(permission_id)
            .execute(&self.db.pool)
            .await
            .map_err(db_error("remove"))?;
            Ok(done.rows_affected() > 0)
        })
    }
}

/// Who holds a lease: this process on this machine, and a random tag (pids are reused).
fn holder_id() -> String {
    use rand::Rng;
    let host = std::env::var("HOSTNAME").unwrap_or_default();
    format!("{host}:{}:{:016x}", std::process::id(), rand::thread_rng().r#gen::<u64>())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Nonce lanes in a [`SqlStore`]'s database ([`SqlStore::lanes`]): a lease is a row
/// (chain, account, lane) — the primary key makes two holders of one lane impossible, on any
/// number of machines — with its holder and its expiry. Dropping the lease deletes the row; a
/// holder that dies leaves it until it expires, and the lane then comes back. Choose the time
/// to live longer than an op takes to its receipt.
pub struct SqlLanes {
    db: Arc<Db>,
    ttl: Duration,
    holder: String,
    limit: u64,
}

impl std::fmt::Debug for SqlLanes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlLanes")
            .field("backend", &self.db.backend)
            .field("ttl", &self.ttl)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl SqlLanes {
    /// At most `limit` lanes per account (e.g. what a bundler accepts of one sender at once).
    pub const fn with_limit(mut self, limit: u64) -> Self {
        self.limit = limit;
        self
    }
}

/// Deletes its row when dropped.
struct SqlLeaseGuard {
    db: Arc<Db>,
    key: (i64, String, i64),
    holder: String,
}

impl Drop for SqlLeaseGuard {
    fn drop(&mut self) {
        let (chain_id, account, lane) = (self.key.0, self.key.1.clone(), self.key.2);
        let holder = self.holder.clone();
        let db = Arc::clone(&self.db);
        let done = db.run(async {
            sqlx::query(
                "DELETE FROM mandate_lanes \
                 WHERE chain_id = $1 AND account = $2 AND lane = $3 AND holder = $4",
            )
            .bind(chain_id)
            .bind(account)
            .bind(lane)
            .bind(holder)
            .execute(&db.pool)
            .await
        });
        if let Err(error) = done {
            // The row stays until it expires: the lane comes back then.
            tracing::warn!(%error, lane, "could not release a nonce lane; it comes back when its lease expires");
        }
    }
}

impl LaneAllocator for SqlLanes {
    fn lease(&self, chain_id: u64, account: Address, lanes: u64) -> Result<LaneLease, LaneError> {
        let count = lanes.min(self.limit).min(1 << 32);
        let exhausted = LaneError::Exhausted { chain_id, account, lanes: count };
        let chain = i64::try_from(chain_id).map_err(|_| {
            LaneError::Database(sqlx::Error::Protocol(format!(
                "chain id {chain_id} does not fit a BIGINT"
            )))
        })?;
        let who = format!("{account:#x}");
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX);
        let lane = self.db.run(async {
            // A few tries: another holder may take the lane found free between the read and
            // the insert (the insert then does nothing). An expired lease counts as free, and
            // the insert takes its row over.
            for _ in 0..8 {
                let now = unix_now();
                let taken: Vec<i64> = sqlx::query(
                    "SELECT lane FROM mandate_lanes \
                     WHERE chain_id = $1 AND account = $2 AND expires_at > $3 ORDER BY lane",
                )
                .bind(chain)
                .bind(&who)
                .bind(now)
                .fetch_all(&self.db.pool)
                .await?
                .iter()
                .map(|row| row.try_get::<i64, _>(0))
                .collect::<Result<_, _>>()?;
                let end = i64::try_from(count).unwrap_or(i64::MAX);
                let free = (0..end)
                    .zip(taken.iter().copied().chain(std::iter::repeat(i64::MAX)))
                    .find(|(lane, held)| lane != held)
                    .map(|(lane, _)| lane);
                let Some(lane) = free else { return Ok(None) };
                let inserted = sqlx::query(
                    "INSERT INTO mandate_lanes (chain_id, account, lane, holder, expires_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (chain_id, account, lane) DO UPDATE \
                     SET holder = excluded.holder, expires_at = excluded.expires_at \
                     WHERE mandate_lanes.expires_at <= $6",
                )
                .bind(chain)
                .bind(&who)
                .bind(lane)
                .bind(&self.holder)
                .bind(now.saturating_add(ttl))
                .bind(now)
                .execute(&self.db.pool)
                .await?;
                if inserted.rows_affected() == 1 {
                    return Ok(Some(lane));
                }
            }
            Ok(None)
        });
        let lane = lane.map_err(LaneError::Database)?.ok_or(exhausted)?;
        let guard = SqlLeaseGuard {
            db: Arc::clone(&self.db),
            key: (chain, who, lane),
            holder: self.holder.clone(),
        };
        let lane = u32::try_from(lane).map_err(|_| LaneError::Exhausted {
            chain_id,
            account,
            lanes: count,
        })?;
        Ok(LaneLease::new(chain_id, account, lane, Box::new(guard)))
    }
}

/// The pending ops ([`crate::pending`]) of every worker using a [`SqlStore`]'s database
/// ([`SqlStore::pending`]): a row per op, and a row per account whose next op is being judged
/// (the section: its primary key lets one worker at a time in, on any machine). Rows of a
/// worker that died expire: its ops after the time to live, its section then too (after a
/// minute at most).
pub struct SqlPending {
    db: Arc<Db>,
    ttl: Duration,
    holder: String,
}

impl std::fmt::Debug for SqlPending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlPending")
            .field("backend", &self.db.backend)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// The longest a section row lasts if its holder dies holding it (a registry with a shorter
/// time to live uses that).
const SECTION_TTL_SECS: i64 = 60;

impl SqlStore {
    /// Pending ops kept in this store's database, shared by every worker using it; an op
    /// whose worker died (or whose receipt never came) is forgotten after `ttl`.
    pub fn pending(&self, ttl: Duration) -> SqlPending {
        SqlPending { db: Arc::clone(&self.db), ttl, holder: holder_id() }
    }
}

fn pending_key(chain_id: u64, account: Address) -> Result<(i64, String), PendingError> {
    let chain = i64::try_from(chain_id).map_err(|_| PendingError::ChainIdTooLarge(chain_id))?;
    Ok((chain, format!("{account:#x}")))
}

impl SqlPending {
    /// One try at the section: whether it was taken.
    fn try_section(&self, chain: i64, account: &str) -> Result<bool, sqlx::Error> {
        self.db.run(async {
            // Taken if free, or if its holder's row has expired (the row is taken over).
            let now = unix_now();
            let inserted = sqlx::query(
                "INSERT INTO mandate_sections (chain_id, account, holder, expires_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (chain_id, account) DO UPDATE \
                 SET holder = excluded.holder, expires_at = excluded.expires_at \
                 WHERE mandate_sections.expires_at <= $5",
            )
            .bind(chain)
            .bind(account)
            .bind(&self.holder)
            .bind(now + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX).min(SECTION_TTL_SECS))
            .bind(now)
            .execute(&self.db.pool)
            .await?;
            Ok(inserted.rows_affected() == 1)
        })
    }
}

/// Deletes a section row when dropped.
struct SqlSection {
    db: Arc<Db>,
    chain: i64,
    account: String,
    holder: String,
}

impl Drop for SqlSection {
    fn drop(&mut self) {
        let db = Arc::clone(&self.db);
        let done = db.run(async {
            sqlx::query(
                "DELETE FROM mandate_sections WHERE chain_id = $1 AND account = $2 AND holder = $3",
            )
            .bind(self.chain)
            .bind(&self.account)
            .bind(&self.holder)
            .execute(&db.pool)
            .await
        });
        if let Err(error) = done {
            tracing::warn!(%error, "could not leave a pending-ops section; it expires by itself");
        }
    }
}

impl PendingRegistry for SqlPending {
    fn section(&self, chain_id: u64, account: Address) -> SectionFuture<'_> {
        Box::pin(async move {
            let (chain, who) = pending_key(chain_id, account)?;
            let mut pause = Duration::from_millis(2);
            while !self.try_section(chain, &who).map_err(PendingError::Database)? {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Ok(SectionGuard::new(Box::new(SqlSection {
                db: Arc::clone(&self.db),
                chain,
                account: who,
                holder: self.holder.clone(),
            })))
        })
    }

    fn of(&self, chain_id: u64, account: Address) -> Result<Vec<PendingOp>, PendingError> {
        let (chain, who) = pending_key(chain_id, account)?;
        let rows = self
            .db
            .run(async {
                sqlx::query(
                    "SELECT user_op_hash, op, session FROM mandate_pending \
                     WHERE chain_id = $1 AND account = $2 AND expires_at > $3 ORDER BY id",
                )
                .bind(chain)
                .bind(&who)
                .bind(unix_now())
                .fetch_all(&self.db.pool)
                .await
            })
            .map_err(PendingError::Database)?;
        let corrupt = |reason: String| PendingError::Corrupt { account, reason };
        rows.iter()
            .map(|row| {
                let hash: String = row.try_get(0).map_err(PendingError::Database)?;
                let op: String = row.try_get(1).map_err(PendingError::Database)?;
                let session: i64 = row.try_get(2).map_err(PendingError::Database)?;
                Ok(PendingOp {
                    user_op_hash: hash.parse().map_err(|e| corrupt(format!("its hash: {e}")))?,
                    op: serde_json::from_str(&op).map_err(|e| corrupt(format!("its op: {e}")))?,
                    session: session != 0,
                })
            })
            .collect()
    }

    fn add(
        &self,
        chain_id: u64,
        account: Address,
        op: PendingOp,
    ) -> Result<PendingGuard, PendingError> {
        use rand::Rng;
        let (chain, who) = pending_key(chain_id, account)?;
        // Ordered by time of adding, then told apart.
        let id = format!("{:020}-{:016x}", unix_nanos(), rand::thread_rng().r#gen::<u64>());
        let json = serde_json::to_string(&op.op)
            .map_err(|e| PendingError::Corrupt { account, reason: e.to_string() })?;
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX);
        self.db
            .run(async {
                sqlx::query(
                    "INSERT INTO mandate_pending \
                     (chain_id, account, id, user_op_hash, op, session, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(chain)
                .bind(&who)
                .bind(&id)
                .bind(format!("{:#x}", op.user_op_hash))
                .bind(json)
                .bind(i64::from(op.session))
                .bind(unix_now().saturating_add(ttl))
                .execute(&self.db.pool)
                .await
            })
            .map_err(PendingError::Database)?;
        let db = Arc::clone(&self.db);
        Ok(PendingGuard::new(move |kept| {
            let done = db.run(async {
                if kept {
                    // Its receipt did not come in time: kept for the time to live from now.
                    sqlx::query(
                        "UPDATE mandate_pending SET expires_at = $4 \
                         WHERE chain_id = $1 AND account = $2 AND id = $3",
                    )
                    .bind(chain)
                    .bind(&who)
                    .bind(&id)
                    .bind(unix_now().saturating_add(ttl))
                    .execute(&db.pool)
                    .await
                } else {
                    sqlx::query(
                        "DELETE FROM mandate_pending WHERE chain_id = $1 AND account = $2 AND id = $3",
                    )
                    .bind(chain)
                    .bind(&who)
                    .bind(&id)
                    .execute(&db.pool)
                    .await
                }
            });
            if let Err(error) = done {
                tracing::warn!(%error, "could not release a pending op; it expires by itself");
            }
        }))
    }
}

fn unix_nanos() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}
