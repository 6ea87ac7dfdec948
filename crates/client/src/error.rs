//! What can go wrong between a grant or a use and its receipt.

use alloy_primitives::{Address, B256};
use mandate_abi::{PermissionId, SignatureError};
use mandate_bundler::{BundlerError, UserOperationReceipt};
use mandate_policy::{EvalError, LoadError};
use mandate_sim::{Preflight, SimError};

use crate::store::StoreError;

/// Errors of the session client. None of them carries a key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The simulator (embedded devnet or fork) failed to run.
    #[error("simulator: {0}")]
    Sim(#[from] SimError),
    /// The op's hash cannot be computed for the chain's EntryPoint.
    #[error("user-op hash: {0}")]
    UserOpHash(#[from] mandate_abi::UserOpHashError),
    /// The bundler refused or failed.
    #[error("bundler: {0}")]
    Bundler(#[from] BundlerError),
    /// The ERC-7677 paymaster service refused the op or failed (`pm_getPaymasterStubData` or
    /// `pm_getPaymasterData`, with the service's code and message; never its URL): nothing was
    /// sent.
    #[error("paymaster service, nothing sent: {0}")]
    PaymasterService(#[source] BundlerError),
    /// No nonce lane was free for the op (nothing was sent).
    #[error("nonce lanes: {0}")]
    Lane(#[from] crate::lanes::LaneError),
    /// Signing failed.
    #[error("signing: {0}")]
    Sign(#[from] alloy_signer::Error),
    /// The account's session state could not be read.
    #[error("reading the account's sessions: {0}")]
    Load(#[from] LoadError),
    /// The local evaluator could not evaluate the op.
    #[error("local evaluator: {0}")]
    Eval(#[from] EvalError),
    /// The local evaluator says SmartSession would refuse the op: nothing was sent.
    #[error("refused locally, nothing sent: {error}: {reason}")]
    Refused {
        /// The contract's error, e.g. `PolicyViolation(0x…, 0x…)`.
        error: String,
        /// Which call, action, policy and rule, and the values compared.
        reason: String,
    },
    /// SmartSession would accept the op, but not at this block time: nothing was sent.
    #[error(
        "refused locally, nothing sent: the session allows this op from {valid_after} until \
         {valid_until}, and the chain's time is {now}"
    )]
    OutsideTimeWindow {
        /// validAfter of the op's window.
        valid_after: u64,
        /// validUntil of the op's window.
        valid_until: u64,
        /// The block time it would run at.
        now: u64,
    },
    /// The op's EIP-7702 authorization would not delegate its sender as expected (checked by
    /// the pre-flight before anything is estimated or sent); the error names the field.
    #[error("pre-flight of {account}'s EIP-7702 authorization, nothing sent: {source}")]
    Authorization {
        /// The account (the EOA).
        account: Address,
        /// What is wrong, naming the authorization's field.
        #[source]
        source: mandate_sim::AuthorizationError,
    },
    /// The account is an EOA to be delegated (EIP-7702) by its first op, and no signed
    /// authorization was given for it ([`crate::SessionClient::eip7702_authorization`]).
    #[error(
        "{account} is an EOA not yet delegated to {delegate}: its first op needs its signed EIP-7702 authorization"
    )]
    AuthorizationMissing {
        /// The EOA.
        account: Address,
        /// The implementation it must delegate to.
        delegate: Address,
    },
    /// The pre-flight in revm says the op would fail: nothing was sent.
    #[error("pre-flight in revm, nothing sent: {summary}")]
    Preflight {
        /// In words.
        summary: String,
        /// The simulator's whole verdict.
        verdict: Box<Preflight>,
    },
    /// The op fits the session alone but not after the account's ops sent and not yet settled
    /// ([`crate::pending`]): nothing was sent. It passes once they are settled, if they leave
    /// room for it.
    #[error(
        "held: the op would fail after the account's {pending} pending op(s), nothing sent: {reason}"
    )]
    HeldByPending {
        /// How many pending ops it was judged after.
        pending: usize,
        /// What refuses it after them (the policy and budget).
        reason: String,
    },
    /// The op was included but its execution reverted (the chain moved after the pre-flight).
    #[error("op {user_op_hash} was included but its execution reverted: {reason}")]
    Reverted {
        /// The op.
        user_op_hash: B256,
        /// The revert reason, when the bundler reports one.
        reason: String,
        /// The receipt.
        receipt: Box<UserOperationReceipt>,
    },
    /// The session is not enabled on the account and the record holds no enable data.
    #[error("permission {permission_id} is not enabled on {account} and has no enable data")]
    NotEnabled {
        /// The account.
        account: Address,
        /// The permission.
        permission_id: PermissionId,
    },
    /// An ENABLE-mode grant needs SmartSession installed on the account.
    #[error("SmartSession is not installed on {account}: grant with an op first")]
    NotInstalled {
        /// The account.
        account: Address,
    },
    /// The client knows no account family (see `SessionClient::with_family`).
    #[error("no account family is set: say which family the accounts are (with_family)")]
    NoAccountFamily,
    /// A deployed account is not of the client's family (e.g. Kernel routing on a Nexus
    /// account): nothing was sent.
    #[error(
        "account {account} is not a {family} account (its accountId() is {}): nothing sent",
        account_id.as_deref().map_or("missing".to_string(), |id| format!("{id:?}"))
    )]
    WrongFamily {
        /// The account.
        account: Address,
        /// The family the client drives.
        family: String,
        /// What the account's `accountId()` answered, if it answered.
        account_id: Option<String>,
    },
    /// The account is given as existing but has no code.
    #[error("account {account} has no code: give its owner and salt to deploy it")]
    NotDeployed {
        /// The account.
        account: Address,
    },
    /// A nonce key could not be made.
    #[error("nonce key: {0}")]
    NonceKey(#[from] mandate_abi::NonceKeyError),
    /// An answer of the chain did not decode.
    #[error("decoding a call's answer: {0}")]
    Decode(#[from] alloy_sol_types::Error),
    /// The session is not one SmartSession would enable (the local model's refusal).
    #[error("the session cannot be enabled: {0}")]
    Session(#[from] mandate_policy::EnableError),
    /// The signer cannot sign for the session (not its key, too few of its owners, a session
    /// validator without a known scheme).
    #[error("permission {permission_id}: {source}")]
    Signer {
        /// The permission.
        permission_id: PermissionId,
        /// Why not.
        source: crate::SignerError,
    },
    /// An enable signature for USE mode: only ENABLE and UNSAFE_ENABLE enable a session.
    #[error("USE is not an enable mode: an owner signs for ENABLE or UNSAFE_ENABLE")]
    NotAnEnableMode,
    /// A session record's permission id is not its session's.
    #[error("the record names permission {permission_id}, its session is permission {session}")]
    RecordMismatch {
        /// The record's permission id.
        permission_id: PermissionId,
        /// Its session's.
        session: PermissionId,
    },
    /// A session record names another account family than the client drives.
    #[error(
        "permission {permission_id} was granted on a {record} account; the client drives {family} accounts"
    )]
    FamilyMismatch {
        /// The record's permission id.
        permission_id: PermissionId,
        /// The family the record names.
        record: &'static str,
        /// The client's family.
        family: String,
    },
    /// The store's record says the session was revoked: the client does not use it (nothing
    /// was read or sent).
    #[error("session {permission_id} of account {account} is revoked: not used")]
    Revoked {
        /// The permission.
        permission_id: PermissionId,
        /// The account.
        account: Address,
    },
    /// Nothing to revoke: the session is not enabled on chain and its record holds no owner
    /// signature that would enable it (nothing was sent).
    #[error(
        "session {permission_id} of account {account} is not enabled and has no pending enable \
         signature: nothing to revoke"
    )]
    NothingToRevoke {
        /// The permission.
        permission_id: PermissionId,
        /// The account.
        account: Address,
    },
    /// A rotation needs to write the new key into the session validator's data, and knows how
    /// only for the deployments' ECDSA session signer and OwnableValidator.
    #[error(
        "session {permission_id}: its session validator {validator} is neither the deployments' \
         ECDSA session signer nor their OwnableValidator, so the new key cannot be written in"
    )]
    UnknownSessionValidator {
        /// The permission.
        permission_id: PermissionId,
        /// Its session validator.
        validator: Address,
    },
    /// The module is not in the account's validator list (`getValidatorsPaginated`): nothing
    /// to uninstall it after.
    #[error("{module} is not among the {listed} validators account {account} lists")]
    NotInValidatorList {
        /// The account.
        account: Address,
        /// The module looked for.
        module: Address,
        /// How many validators the account listed.
        listed: usize,
    },
    /// Uninstalling SmartSession left sessions of the account enabled on a copy of the state,
    /// whatever call gas limit was tried (nothing was sent).
    #[error(
        "uninstalling SmartSession from {account} leaves its sessions enabled, even with a call \
         gas limit of {call_gas_limit}: nothing sent"
    )]
    UninstallLeftSessions {
        /// The account.
        account: Address,
        /// The last call gas limit tried.
        call_gas_limit: u64,
    },
    /// The account's validator list did not end within the pages read.
    #[error("account {account}'s validator list did not end after {read} entries")]
    ValidatorListTooLong {
        /// The account.
        account: Address,
        /// Entries read.
        read: usize,
    },
    /// The bundler serves another chain than the node.
    #[error("the bundler serves chain {bundler}, the node chain {node}")]
    ChainMismatch {
        /// The bundler's chain id.
        bundler: u64,
        /// The node's chain id.
        node: u64,
    },
    /// The session is on another chain than the node.
    #[error("session {permission_id} is on chain {session}, the node on chain {node}")]
    SessionChainMismatch {
        /// The session's permission.
        permission_id: PermissionId,
        /// The session's chain id.
        session: u64,
        /// The node's chain id.
        node: u64,
    },
    /// The bundler does not serve the EntryPoint the client sends to.
    #[error("the bundler does not serve EntryPoint {entry_point}")]
    UnsupportedEntryPoint {
        /// The EntryPoint.
        entry_point: Address,
    },
    /// The session signature could not be encoded.
    #[error("{0}")]
    Signature(#[from] SignatureError),
    /// More chains in one multichain enable than its one-byte chain index counts.
    #[error("at most 256 chains per enable")]
    TooManyChains {
        /// The chains given.
        chains: usize,
    },
    /// Nothing to do: e.g. a use with no calls.
    #[error("{0}")]
    Empty(&'static str),
    /// A blocking task failed (panicked or was cancelled).
    #[error("background task: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The pending-ops registry failed.
    #[error("pending ops: {0}")]
    Pending(#[from] crate::pending::PendingError),
    /// The session store failed.
    #[error("session store: {0}")]
    Store(#[from] StoreError),
    /// The typed data cannot be signed as ERC-7739 contents.
    #[error("ERC-7739: {0}")]
    Erc7739(#[from] mandate_abi::erc7739::Erc7739Error),
    /// The account answers no `eip712Domain()` (ERC-5267), which SmartSession nests a session
    /// signature under: Safe7579 and the reference account need the compatibility fallback
    /// installed (`SessionClient::install_compatibility_fallback`).
    #[error(
        "account {account} has no eip712Domain() (ERC-5267): install the compatibility fallback \
         before a session key can sign as it"
    )]
    NoAccountDomain {
        /// The account.
        account: Address,
    },
    /// The deployment has no compatibility fallback to install.
    #[error("the deployment names no compatibility fallback")]
    NoCompatibilityFallback,
    /// SmartSession would not accept the session key's signature as the account's: nothing is
    /// returned to the app.
    #[error("the account would not accept the session signature: {reason}")]
    SignatureRefused {
        /// Why, as the local evaluator models it (or the account's answer).
        reason: String,
    },
    /// The local evaluator accepts the session signature, but the account's
    /// `isValidSignature` on the chain does not: its answer (or revert data).
    #[error("the account's isValidSignature answers {answer} where the local evaluator accepts")]
    SignatureDisagreement {
        /// The account's return or revert data, in hex.
        answer: String,
    },
    /// A session of the grant has risks its options do not allow ([`crate::Options::allow`]):
    /// nothing was signed or sent.
    #[error("refused before signing: {}", findings.join("; "))]
    Risky {
        /// The risks not allowed.
        risks: Vec<mandate_abi::explain::Risk>,
        /// Each finding in words, naming the `--allow` value.
        findings: Vec<String>,
    },
}
