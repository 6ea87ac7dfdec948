//! What a backend keeps about a session besides its key: where it lives, what it allows, and
//! how to enable it on first use.

use alloy_primitives::{Address, B256};
use mandate_abi::account::AccountType;
use mandate_abi::{EnableSession, PermissionId, Session, SmartSessionMode, grant::GrantEntry};
use serde::{Deserialize, Serialize};

/// Which stored session: one permission of one account on one chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRef {
    /// The chain.
    pub chain_id: u64,
    /// The smart account.
    pub account: Address,
    /// The session's permission id.
    pub permission_id: PermissionId,
}

impl std::fmt::Display for SessionRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "session {} of account {} on chain {}",
            self.permission_id, self.account, self.chain_id
        )
    }
}

/// A session as the store keeps it (JSON in module-sdk's shapes; never the key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecord {
    /// The chain.
    pub chain_id: u64,
    /// The smart account.
    pub account: Address,
    /// The session's permission id.
    pub permission_id: PermissionId,
    /// The session key's address.
    pub session_key: Address,
    /// The session, as granted.
    pub session: Session,
    /// The owner-signed data that enables the session in its first op (ENABLE mode), when
    /// it was granted that way; `None` once it is known to be enabled on chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable: Option<EnableSession>,
    /// How [`enable`](Self::enable) was signed, when not as
    /// [`SessionClient::prepare_enable`](crate::SessionClient::prepare_enable) signs by default
    /// (ENABLE, through the family's owner validator): e.g. a dapp's UNSAFE_ENABLE grant
    /// through the account's default validator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_as: Option<EnableAs>,
    /// The SmartSession module the session is granted on.
    pub smart_session: Address,
    /// The account's family, when known: grants and imports set it; records written before it
    /// existed have none (the family is then named where the record is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<AccountType>,
    /// A free label (e.g. what the session is for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The userOpHash of the op that granted it, when granted by an op.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted_by: Option<B256>,
    /// Where the grant stands. Absent (as in records written before it existed) means
    /// [`GrantState::Granted`]; a value that is none of [`GrantState`]'s is an error.
    #[serde(default, skip_serializing_if = "GrantState::is_granted")]
    pub state: GrantState,
}

/// The mode an owner's enable signature is for, and the validator the account asks about it
/// (module-sdk's `EnableSessionData.validator`): both must be what was signed, or
/// SmartSession refuses the first use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnableAs {
    /// ENABLE or UNSAFE_ENABLE (USE is refused when the session is used).
    pub mode: SmartSessionMode,
    /// The account's validator for the owner's signature.
    pub validator: Address,
}

/// Where a session's grant stands, as the store knows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum GrantState {
    /// Stored, key included, before the op granting it was sent: the op may or may not be
    /// on chain (the sender died or failed after sending). Read the chain (`session status`)
    /// to know.
    Pending,
    /// Granted on chain, or (ENABLE mode) signed by the owner to enable on first use.
    #[default]
    Granted,
    /// Revoked by the owner ([`SessionClient::revoke`](crate::SessionClient::revoke),
    /// [`SessionClient::rotate`](crate::SessionClient::rotate)): the client refuses to use it.
    /// The record and its key are kept (what it was, and the key to read its history with).
    Revoked,
}

impl GrantState {
    /// Whether it is [`GrantState::Granted`].
    pub const fn is_granted(&self) -> bool {
        matches!(self, Self::Granted)
    }

    /// Whether it is [`GrantState::Revoked`].
    pub const fn is_revoked(&self) -> bool {
        matches!(self, Self::Revoked)
    }
}

impl SessionRecord {
    /// The record of `session`, granted to the key at `session_key` on `account`'s
    /// `smart_session` on chain `chain_id`; its permission id is the session's
    /// ([`PermissionId::of`]), its state [`GrantState::Granted`]. No enable data, account
    /// family, label or granting op: set those fields when there are any.
    ///
    /// The key is taken by address: a store of one's own (a KMS, a vault) may hold the key where
    /// no [`SessionKey`](crate::SessionKey) is.
    pub fn new(
        chain_id: u64,
        account: Address,
        session_key: Address,
        session: Session,
        smart_session: Address,
    ) -> Self {
        Self {
            chain_id,
            account,
            permission_id: PermissionId::of(&session),
            session_key,
            session,
            enable: None,
            enable_as: None,
            smart_session,
            account_type: None,
            label: None,
            granted_by: None,
            state: GrantState::Granted,
        }
    }

    /// The record of a permission a dapp granted to `session_key` on `account`
    /// ([`mandate_abi::grant`]): the session, enabled by its first use in the mode and through
    /// the validator the owner signed for, on the account family the entry names. `None` if the entry's `chainDigestIndex` names no
    /// digest (entries from [`parse_grant_response`](mandate_abi::grant::parse_grant_response)
    /// always do).
    pub fn from_grant(
        entry: &GrantEntry,
        account: Address,
        session_key: Address,
        smart_session: Address,
    ) -> Option<Self> {
        let data = &entry.enable_session_data;
        let session = data.enable_session.sessionToEnable.clone();
        Some(Self {
            enable: Some(data.enable_session.clone()),
            enable_as: Some(EnableAs { mode: entry.mode, validator: data.validator }),
            account_type: Some(data.account_type),
            ..Self::new(entry.chain_id()?, account, session_key, session, smart_session)
        })
    }

    /// The reference the store files it under.
    pub const fn reference(&self) -> SessionRef {
        SessionRef {
            chain_id: self.chain_id,
            account: self.account,
            permission_id: self.permission_id,
        }
    }
}
