//! The in-memory store.

use std::collections::BTreeMap;
use std::sync::{PoisonError, RwLock};

use super::{SessionStore, StoreError, StoredSession, check_batch, check_key};
use crate::{SessionKey, SessionRecord, SessionRef};

/// Sessions in process memory: gone when the store is dropped. Every method checks first,
/// then changes the map under one lock, so it is all-or-nothing.
#[derive(Default)]
pub struct MemoryStore {
    sessions: RwLock<BTreeMap<SessionRef, StoredSession>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sessions = self.sessions.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("MemoryStore").field("sessions", &sessions.len()).finish()
    }
}

// A panic while the lock is held cannot leave a half-done entry (nothing that can fail runs
// under it), so a poisoned lock is used as it is.
impl SessionStore for MemoryStore {
    fn save_all(&self, batch: &[(&SessionKey, &SessionRecord)]) -> Result<(), StoreError> {
        check_batch(batch)?;
        let mut sessions = self.sessions.write().unwrap_or_else(PoisonError::into_inner);
        for (key, record) in batch {
            let session = StoredSession { key: (*key).clone(), record: (*record).clone() };
            sessions.insert(record.reference(), session);
        }
        Ok(())
    }

    fn update(&self, record: &SessionRecord) -> Result<(), StoreError> {
        let reference = record.reference();
        let mut sessions = self.sessions.write().unwrap_or_else(PoisonError::into_inner);
        let stored = sessions.get_mut(&reference).ok_or(StoreError::NotFound(reference))?;
        check_key(stored.key.address(), record)?;
        stored.record = record.clone();
        Ok(())
    }

    fn load(&self, reference: &SessionRef) -> Result<Option<StoredSession>, StoreError> {
        let sessions = self.sessions.read().unwrap_or_else(PoisonError::into_inner);
        Ok(sessions.get(reference).cloned())
    }

    fn list(&self) -> Result<Vec<SessionRecord>, StoreError> {
        let sessions = self.sessions.read().unwrap_or_else(PoisonError::into_inner);
        Ok(sessions.values().map(|s| s.record.clone()).collect())
    }

    fn remove(&self, reference: &SessionRef) -> Result<bool, StoreError> {
        let mut sessions = self.sessions.write().unwrap_or_else(PoisonError::into_inner);
        Ok(sessions.remove(reference).is_some())
    }
}
