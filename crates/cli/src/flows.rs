//! `mandate session grant|use|status`: the session client against a real node and bundler,
//! with the session store on disk.

use std::{path::PathBuf, sync::Arc};

use clap::Args;
use mandate::{
    abi::{
        Call, Deployments, PermissionId, Session, SmartSessionMode,
        account::AccountType,
        alloy_primitives::{Address, Bytes},
        grant::{Grant, GrantEntry, GrantFormat},
        json::quote_big_integers,
        ownable::OwnableData,
        sol::{Execution, IERC7579Account, ISmartSession},
    },
    client::{
        Account, Chain, FileLanes, GrantState, PaymasterService, SessionClient, SessionKey,
        SessionRecord, SessionRef, SessionSigner, Sponsor, Step, built_in,
        store::{FileStore, Password, SessionStore, StoredSession},
    },
    sim::DevnetDeployments,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::{
    input::{CliError, parse_json, read_json, read_text},
    prose::say,
};

/// Where the chain is.
#[derive(Args, Clone, Debug)]
pub(crate) struct ChainArgs {
    /// The node's JSON-RPC URL.
    #[arg(long, env = "MANDATE_RPC_URL", hide_env_values = true)]
    pub(crate) rpc_url: String,
    /// Where the contracts are: a built-in preset (`module-sdk-0.4`, the canonical deployment
    /// TypeScript dapps use; `module-sdk-0.2.3`, the one the Nexus SDK 0.0.29 addresses), or a
    /// JSON file — a chain's deployments (entryPoint, smartSession,
    /// policies, …) or what `mandate deploy` prints (the chain's under `chain`, with the
    /// devnet's account factories and tokens).
    #[arg(long)]
    pub(crate) deployments: String,
    /// The account's family: mandate, nexus, kernel, safe or msa (the ERC-7579 reference).
    /// A grant or import without it is for Mandate's account; a stored session is used as
    /// the family its record names (a different one given here is refused).
    #[arg(long)]
    pub(crate) account_type: Option<AccountType>,
    /// The validator the account's owner signs through, for an existing account when the
    /// deployments are a chain's (`mandate deploy`'s name the devnet's K1Validator).
    #[arg(long, value_parser = mandate::abi::json::parse_address)]
    owner_validator: Option<Address>,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `session grant`.
#[derive(Args, Clone, Debug)]
pub(crate) struct GrantArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// The bundler's JSON-RPC URL.
    #[arg(long, env = "MANDATE_BUNDLER_URL", hide_env_values = true)]
    bundler_url: String,
    /// A Session (module-sdk JSON). A zero `sessionValidator` becomes the one
    /// `--session-validator` names; the empty `sessionValidatorInitData` becomes the new
    /// session key's (its address for the ECDSA signer, a 1-of-1 owner set for an
    /// OwnableValidator).
    #[arg(long)]
    session: String,
    /// The session validator for a session whose `sessionValidator` is zero: `ecdsa`
    /// (Mandate's ECDSA session signer) or `ownable` (the deployments' OwnableValidator, as
    /// TypeScript dapps grant).
    #[arg(long, value_enum, default_value_t = SessionValidatorArg::Ecdsa)]
    session_validator: SessionValidatorArg,
    /// The environment variable holding the owner's private key (hex).
    #[arg(long, default_value = "MANDATE_OWNER_KEY")]
    owner_key_env: String,
    /// Grant in ENABLE mode: the owner signs now, the first use enables the session.
    #[arg(long)]
    enable_on_first_use: bool,
    /// An existing account (deployed by any wallet; SmartSession installed or not) instead of
    /// the owner's counterfactual one.
    #[arg(long, value_parser = mandate::abi::json::parse_address)]
    account: Option<Address>,
    /// A label kept with the session.
    #[arg(long)]
    label: Option<String>,
    #[command(flatten)]
    lint: crate::explain::LintArgs,
}

/// Which session validator `grant` fills in.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SessionValidatorArg {
    /// Mandate's ECDSA session signer.
    Ecdsa,
    /// An OwnableValidator (Rhinestone's at module-sdk's address, or Mandate's).
    Ownable,
}

/// `session use`.
#[derive(Args, Clone, Debug)]
pub(crate) struct UseArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// The bundler's JSON-RPC URL.
    #[arg(long, env = "MANDATE_BUNDLER_URL", hide_env_values = true)]
    bundler_url: String,
    /// The account.
    #[arg(long, value_parser = mandate::abi::json::parse_address)]
    account: Address,
    /// The session's permission id.
    #[arg(long)]
    permission_id: PermissionId,
    /// The calls: a JSON array of {target, value, callData}, or - for stdin.
    #[arg(long)]
    calls: String,
    /// An ERC-7677 paymaster service's URL: its paymaster pays the op's gas (the session must
    /// permit ERC-4337 paymasters). Never printed.
    #[arg(long, env = "MANDATE_PAYMASTER_URL", hide_env_values = true)]
    paymaster_url: Option<String>,
    /// The context sent to the paymaster service with both requests (JSON, e.g.
    /// '{"sponsorshipPolicyId":"sp_…"}'); `{}` by default.
    #[arg(long, requires = "paymaster_url")]
    paymaster_context: Option<String>,
}

impl UseArgs {
    /// The sponsor `--paymaster-url` names, if it does.
    fn sponsor(&self) -> Result<Option<Sponsor>, CliError> {
        let Some(url) = &self.paymaster_url else { return Ok(None) };
        let mut service = PaymasterService::new(url).map_err(CliError::other)?;
        if let Some(context) = &self.paymaster_context {
            let context = serde_json::from_str(context).map_err(|e| CliError::Invalid {
                what: "--paymaster-context",
                reason: e.to_string(),
            })?;
            service = service.with_context(context);
        }
        Ok(Some(Sponsor::Service(service)))
    }
}

/// `session export`.
#[derive(Args, Clone, Debug)]
pub(crate) struct ExportArgs {
    /// The chain the session is on.
    #[arg(long)]
    chain_id: u64,
    /// The account.
    #[arg(long, value_parser = mandate::abi::json::parse_address)]
    account: Address,
    /// The session's permission id.
    #[arg(long)]
    permission_id: PermissionId,
    /// The account's family, written as an enable-mode record's `enableSessionData.accountType`:
    /// the record's own (a different one given here is refused); needed only for a record
    /// written before records held it (a wrong one would make the TypeScript SDK encode the
    /// enable signature for another account).
    #[arg(long)]
    account_type: Option<AccountType>,
    /// Write bigints plain (JSON numbers) instead of abstractjs's `{"__type":"bigint"}` tags.
    #[arg(long)]
    plain: bool,
    #[command(flatten)]
    store: StoreArgs,
}

/// What `session export` writes: module-sdk's `Session` (with its `chainId`), what
/// `encodeSmartSessionSignature` needs for USE, the account's family (its nonce key), and for a record still to be enabled on first
/// use abstractjs's `GrantPermissionResponse` (one entry). No key, only its address.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Exported {
    chain_id: u64,
    account: Address,
    smart_session: Address,
    permission_id: PermissionId,
    session_key: Address,
    /// The account's family (module-sdk's name), when the record or `--account-type` says.
    #[serde(skip_serializing_if = "Option::is_none")]
    account_type: Option<AccountType>,
    session: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    grant_response: Option<serde_json::Value>,
}

pub(crate) fn export(args: ExportArgs) -> Result<String, CliError> {
    use mandate::abi::grant::{Bigints, GrantEntry, session_json, write_grant_response};
    let store = args.store.open()?;
    let reference = SessionRef {
        chain_id: args.chain_id,
        account: args.account,
        permission_id: args.permission_id,
    };
    let stored = load_session(&store, &reference)?;
    let record = &stored.record;
    let bigints = if args.plain { Bigints::Plain } else { Bigints::Tagged };
    let account_type = match (args.account_type, record.account_type) {
        (Some(given), Some(stored)) if given != stored => {
            return Err(CliError::Invalid {
                what: "--account-type",
                reason: format!(
                    "{reference} was stored for a {} account, not {}",
                    stored.name(),
                    given.name()
                ),
            });
        }
        (given, stored) => stored.or(given),
    };
    let grant_response = match (&record.enable, &record.enable_as) {
        (Some(enable), Some(with)) => {
            let account_type = account_type.ok_or_else(|| CliError::Invalid {
                what: "--account-type",
                reason: format!(
                    "session {} is still to be enabled on first use: its export names the \
                     account's family (mandate|nexus|kernel|safe|msa), which its record \
                     (written before records held it) does not",
                    record.permission_id
                ),
            })?;
            let entry = GrantEntry {
                mode: with.mode,
                permission_id: record.permission_id,
                // A session signature of the right shape for estimates, never the key's: 65
                // zero bytes, an ECDSA signature's length.
                signature: Bytes::from(vec![0u8; 65]),
                enable_session_data: mandate::abi::EnableSessionData {
                    enable_session: enable.clone(),
                    validator: with.validator,
                    account_type,
                },
            };
            let text = write_grant_response(std::slice::from_ref(&entry), bigints);
            Some(serde_json::from_str(&text).map_err(CliError::other)?)
        }
        _ => None,
    };
    let exported = Exported {
        chain_id: record.chain_id,
        account: record.account,
        smart_session: record.smart_session,
        permission_id: record.permission_id,
        session_key: record.session_key,
        account_type,
        session: session_json(&record.session, record.chain_id, bigints),
        grant_response,
    };
    serde_json::to_string_pretty(&exported).map_err(CliError::other)
}

/// `session import`.
#[derive(Args, Clone, Debug)]
pub(crate) struct ImportArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// What the dapp handed over, or - for stdin: abstractjs's GrantPermissionResponse (plain
    /// JSON or its `stringify`'s, with bigint tags), module-sdk's EnableSessionData or the
    /// Nexus SDK's SessionData.
    file: String,
    /// Read the file as this SDK's shape instead of telling it from its keys: `abstractjs`
    /// (GrantPermissionResponse), `module-sdk` (EnableSessionData) or `nexus-sdk`
    /// (SessionData); a file holding another SDK's shape is refused.
    #[arg(long, value_enum)]
    format: Option<ImportFormat>,
    /// The account the permissions were granted on (required but for a SessionData, whose
    /// `granter` it is checked against).
    #[arg(long, value_parser = mandate::abi::json::parse_address)]
    account: Option<Address>,
    /// The environment variable holding the session key (hex) the permissions were granted to.
    #[arg(long, default_value = "MANDATE_SESSION_KEY")]
    session_key_env: String,
    /// The session key from an Ethereum JSON keystore (v3) instead of --session-key-env.
    #[arg(long, conflicts_with = "session_key_env")]
    key_file: Option<std::path::PathBuf>,
    /// The environment variable holding --key-file's password.
    #[arg(long, default_value = "MANDATE_KEYSTORE_PASSWORD", requires = "key_file")]
    password_env: String,
    /// A label kept with each session.
    #[arg(long)]
    label: Option<String>,
    // `--allow shared-session-key` stores a permission whose key already signs for another of
    // the account's (in the store or in the file); the grant's other risks are the granter's,
    // taken on when it signed (`session explain` lists them).
    #[command(flatten)]
    lint: crate::explain::LintArgs,
}

/// `import --format`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ImportFormat {
    /// abstractjs 1.2.3's GrantPermissionResponse.
    Abstractjs,
    /// module-sdk 0.4.0's EnableSessionData.
    ModuleSdk,
    /// The Nexus SDK 0.0.29's SessionData.
    NexusSdk,
}

impl From<ImportFormat> for GrantFormat {
    fn from(format: ImportFormat) -> Self {
        match format {
            ImportFormat::Abstractjs => Self::Abstractjs,
            ImportFormat::ModuleSdk => Self::ModuleSdk,
            ImportFormat::NexusSdk => Self::NexusSdk,
        }
    }
}

/// What `import` stored, per permission.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Imported {
    permission_id: PermissionId,
    mode: mandate::abi::SmartSessionMode,
    /// `enabled`, `pending first use` or `unknown` (the account has no code yet).
    state: &'static str,
}

/// `session status`.
#[derive(Args, Clone, Debug)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// Only this account's sessions.
    #[arg(long, value_parser = mandate::abi::json::parse_address, conflicts_with = "all")]
    account: Option<Address>,
    /// Every stored session on the node's chain (what a status without --account sweeps),
    /// each with its state read from the chain: enabled, pending first use, revoked, expired,
    /// exhausted or not granted.
    #[arg(long)]
    all: bool,
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CliError::other)
}

/// A secret from the environment, wiped from this process's copy when dropped.
fn env_secret(name: &str, what: &'static str) -> Result<SecretString, CliError> {
    std::env::var(name).map(SecretString::from).map_err(|_| CliError::Invalid {
        what,
        reason: format!("set the environment variable {name}"),
    })
}

/// What `--deployments` named: a chain's contracts, or a devnet's (`mandate deploy`'s output),
/// which adds account factories, the owners' validator and test tokens.
#[derive(Clone, Debug)]
pub(crate) enum DeploymentsArg {
    /// A preset or a chain's JSON.
    Chain(Box<Deployments>),
    /// `mandate deploy`'s JSON.
    Devnet(Box<DevnetDeployments>),
}

impl DeploymentsArg {
    /// A preset's name, else a JSON file (`-` for stdin): with a `chain` member, a devnet's.
    pub(crate) fn read(arg: &str) -> Result<Self, CliError> {
        if let Some(preset) = Deployments::preset(arg) {
            return Ok(Self::Chain(Box::new(preset)));
        }
        let text = read_text(arg)?;
        let is_devnet = serde_json::from_str::<serde_json::Value>(&quote_big_integers(&text))
            .ok()
            .is_some_and(|json| json.get("chain").is_some());
        Ok(if is_devnet {
            Self::Devnet(Box::new(parse_json(
                arg,
                &text,
                "a devnet's deployments (mandate deploy's JSON)",
            )?))
        } else {
            Self::Chain(Box::new(parse_json(
                arg,
                &text,
                "a chain's deployments, or a preset name",
            )?))
        })
    }

    /// The chain's part.
    pub(crate) fn chain(&self) -> Deployments {
        match self {
            Self::Chain(chain) => **chain,
            Self::Devnet(devnet) => devnet.chain,
        }
    }

    /// The devnet's contracts, when the deployments are a devnet's.
    pub(crate) fn devnet(&self) -> Option<&DevnetDeployments> {
        match self {
            Self::Chain(_) => None,
            Self::Devnet(devnet) => Some(devnet),
        }
    }
}

/// A private key from the environment variable `name` (hex). The signer wipes its key when
/// dropped; the hex text is wiped with the secret.
pub(crate) fn env_key(
    name: &str,
    what: &'static str,
) -> Result<alloy_signer_local::PrivateKeySigner, CliError> {
    env_secret(name, what)?.expose_secret().parse().map_err(|_| CliError::Invalid {
        what,
        reason: format!("{name} does not hold a hex private key"),
    })
}

/// The key in an Ethereum JSON keystore (v3), its password from the environment variable
/// `password_env`. Neither the key nor the password reaches an error.
fn keystore_key(
    path: &std::path::Path,
    password_env: &str,
) -> Result<alloy_signer_local::PrivateKeySigner, CliError> {
    let password = env_secret(password_env, "the keystore password")?;
    alloy_signer_local::PrivateKeySigner::decrypt_keystore(path, password.expose_secret()).map_err(
        |e| {
            let path = path.display().to_string();
            match e {
                alloy_signer_local::LocalSignerError::EthKeystoreError(
                    eth_keystore::KeystoreError::MacMismatch,
                ) => CliError::KeystorePassword { path, password_env: password_env.to_string() },
                other => CliError::Keystore { path, reason: other.to_string() },
            }
        },
    )
}

impl ChainArgs {
    pub(crate) fn deployments(&self) -> Result<DeploymentsArg, CliError> {
        DeploymentsArg::read(&self.deployments)
    }

    pub(crate) fn store(&self) -> Result<Box<dyn SessionStore>, CliError> {
        self.store.open()
    }
}

/// Where the session store is and which environment variable holds its password.
#[derive(Args, Clone, Debug)]
pub(crate) struct StoreArgs {
    /// The session store's directory.
    #[arg(long, env = "MANDATE_STORE", default_value = ".mandate/sessions")]
    store: PathBuf,
    /// A SQL database to keep the sessions in instead of the directory (`postgres://…`, or
    /// `sqlite:PATH` for one machine), shared by every process and machine using it, with
    /// their nonce lanes and pending ops. Never printed (a URL may hold a password).
    #[arg(long, env = "MANDATE_STORE_URL", hide_env_values = true)]
    store_url: Option<String>,
    /// The environment variable holding the store's password.
    #[arg(long, default_value = "MANDATE_STORE_PASSWORD")]
    store_password_env: String,
}

impl StoreArgs {
    fn open(&self) -> Result<Box<dyn SessionStore>, CliError> {
        Ok(match &self.store_url {
            Some(_) => Box::new(self.open_sql()?),
            None => {
                let password = env_secret(&self.store_password_env, "the store's password")?;
                Box::new(
                    FileStore::open(&self.store, Password::from(password))
                        .map_err(CliError::other)?,
                )
            }
        })
    }

    /// The SQL store `--store-url` names (`None` without one).
    fn open_sql(&self) -> Result<mandate::client::store::SqlStore, CliError> {
        let url = self.store_url.as_deref().unwrap_or_default();
        let password = env_secret(&self.store_password_env, "the store's password")?;
        mandate::client::store::SqlStore::connect(url, Password::from(password))
            .map_err(CliError::other)
    }

    /// Where the sessions are, for a human (never the URL).
    pub(crate) fn describe(&self) -> String {
        match &self.store_url {
            Some(url) if url.starts_with("postgres") => "the PostgreSQL store".to_owned(),
            Some(_) => "the SQLite store".to_owned(),
            None => self.store.display().to_string(),
        }
    }
}

/// The stored session `reference` names, or an error naming it.
pub(crate) fn load_session(
    store: &dyn SessionStore,
    reference: &SessionRef,
) -> Result<StoredSession, CliError> {
    store.load(reference).map_err(CliError::other)?.ok_or_else(|| CliError::Invalid {
        what: "the session",
        reason: format!(
            "no session {} of {} on chain {} in the store",
            reference.permission_id, reference.account, reference.chain_id
        ),
    })
}

fn progress(json: bool) -> Option<mandate::client::Progress> {
    if json {
        return None;
    }
    Some(Arc::new(|step: Step| {
        let text = match step {
            Step::Reading => "reading the chain",
            Step::LocalVerdict => "asking the local evaluator",
            Step::Estimating => "estimating gas with the bundler",
            Step::Preflight => "pre-flight in revm on a fork of the latest block",
            Step::Sending => "sending to the bundler",
            Step::Waiting => "waiting for the receipt",
        };
        eprintln!("… {text}");
    }))
}

/// The client for `chain`, driving accounts of the family `account_type`.
pub(crate) async fn client(
    chain: &ChainArgs,
    bundler_url: &str,
    account_type: AccountType,
) -> Result<SessionClient<mandate::bundler::BundlerClient>, CliError> {
    let deployments = chain.deployments()?;
    let mut client = SessionClient::connect(&chain.rpc_url, bundler_url, deployments.chain())
        .await
        .map_err(CliError::other)?;
    if let Some(family) = family(chain, &deployments, account_type) {
        client = client.with_family(family);
    }
    client.options_mut().progress = progress(chain.json);
    // Each command is a process of its own: ops of one account sent by commands running at
    // once take distinct nonce lanes — through lock files beside the sessions (the store skips
    // dot entries; a command that dies gives its lane back), or in the SQL store's database
    // with the pending ops every process judges its op after (a dead command's rows expire).
    match &chain.store.store_url {
        Some(_) => {
            let sql = chain.store.open_sql()?;
            let ttl = std::time::Duration::from_secs(600);
            client.options_mut().lanes = Arc::new(sql.lanes(ttl));
            client.options_mut().pending = Arc::new(sql.pending(ttl));
        }
        None => {
            client.options_mut().lanes = Arc::new(FileLanes::new(chain.store.store.join(".lanes")));
        }
    }
    Ok(client)
}

/// The family `account_type` at `chain`'s deployments: for an existing account
/// (`--owner-validator`) only its routing, else the devnet's factories; `None` for a chain's
/// deployments without either (the client's own family).
fn family(
    chain: &ChainArgs,
    deployments: &DeploymentsArg,
    account_type: AccountType,
) -> Option<Arc<dyn mandate::client::AccountFamily>> {
    match (deployments.devnet(), chain.owner_validator) {
        (_, Some(owner_validator)) => {
            let routing = DevnetDeployments { k1_validator: owner_validator, ..Default::default() };
            Some(built_in(account_type, &routing))
        }
        (Some(devnet), None) => Some(built_in(account_type, devnet)),
        (None, None) => None,
    }
}

pub(crate) fn output<T: Serialize>(
    json: bool,
    value: &T,
    prose: impl FnOnce(&mut String, &T),
) -> Result<String, CliError> {
    if json {
        return serde_json::to_string_pretty(value).map_err(CliError::other);
    }
    let mut out = String::new();
    prose(&mut out, value);
    // `main` ends what it prints with a newline of its own.
    if out.ends_with('\n') {
        out.pop();
    }
    Ok(out)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GrantOutput {
    account: Address,
    permission_id: PermissionId,
    session_key: Address,
    mode: &'static str,
    user_op_hash: Option<mandate::abi::alloy_primitives::B256>,
    stored_in: String,
    /// What the session allows, and its findings (risks allowed, warnings).
    explained: crate::explain::Explained,
    #[serde(skip)]
    explained_lines: Vec<String>,
}

pub(crate) fn grant(args: GrantArgs) -> Result<String, CliError> {
    let store = args.chain.store()?;
    let owner = env_key(&args.owner_key_env, "the owner's key")?;
    let mut session: Session = read_json(&args.session, "a Session")?;
    let runtime = runtime()?;
    runtime.block_on(async {
        let account_type = args.chain.account_type.unwrap_or(AccountType::Mandate);
        let d = args.chain.deployments()?;
        let key = SessionKey::random();
        let validators = d.chain().session_validators;
        if session.sessionValidator == Address::ZERO {
            let (chosen, name) = match args.session_validator {
                SessionValidatorArg::Ecdsa => (validators.ecdsa, "ECDSA session signer"),
                SessionValidatorArg::Ownable => (validators.ownable, "OwnableValidator"),
            };
            session.sessionValidator = chosen.ok_or_else(|| CliError::Invalid {
                what: "the deployments",
                reason: format!("no {name} to fill the session's zero sessionValidator"),
            })?;
        }
        if !session.sessionValidatorInitData.is_empty() {
            return Err(CliError::Invalid {
                what: "the session",
                reason: "sessionValidatorInitData must be empty: the new session key goes there"
                    .into(),
            });
        }
        session.sessionValidatorInitData = if Some(session.sessionValidator) == validators.ecdsa {
            Bytes::copy_from_slice(key.address().as_slice())
        } else if Some(session.sessionValidator) == validators.ownable {
            OwnableData::new(1, vec![key.address()]).map_err(CliError::other)?.encode()
        } else {
            return Err(CliError::Invalid {
                what: "the session",
                reason: format!(
                    "sessionValidator {} is neither the deployments' ECDSA session signer nor \
                     their OwnableValidator",
                    session.sessionValidator
                ),
            });
        };
        // Linted before the node is asked anything or the owner signs. The key is new, so it
        // shares no permission: the session's own risks are all there is.
        let (explanation, findings) = args.lint.explain(&session, &d.chain());
        args.lint.refuse(&findings, "signing")?;
        let explained = crate::explain::Explained { explanation, findings };
        let explained_lines = explained.lines(&args.lint.allowed());
        let mut client = client(&args.chain, &args.bundler_url, account_type).await?;
        client.options_mut().allow = args.lint.allowed();
        let spec = match args.account {
            Some(account) => Account::existing(account),
            None if d.devnet().is_none() || args.chain.owner_validator.is_some() => {
                return Err(CliError::Invalid {
                    what: "the deployments",
                    reason: "a new account needs its factory: give the JSON `mandate deploy` \
                             prints (without --owner-validator), or an existing --account"
                        .into(),
                });
            }
            None => Account::new(owner_address(&owner)),
        };
        let account = client.account_address(&spec).await.map_err(CliError::other)?;
        let permission_id = PermissionId::of(&session);
        let mut record = SessionRecord {
            label: args.label.clone(),
            account_type: Some(account_type),
            state: GrantState::Pending,
            ..SessionRecord::new(
                client.chain_id(),
                account,
                key.address(),
                session,
                d.chain().smart_session,
            )
        };
        let user_op_hash = if args.enable_on_first_use {
            // Nothing is sent: the owner signs, the first use enables.
            let enable = client
                .prepare_enable(
                    &owner,
                    account,
                    &record.session,
                    mandate::abi::SmartSessionMode::Enable,
                )
                .await
                .map_err(CliError::other)?;
            record.enable = Some(enable);
            record.state = GrantState::Granted;
            store.save(&key, &record).map_err(CliError::other)?;
            None
        } else {
            // The key and a pending record are on disk before anything is sent: however the
            // grant ends (an error, a kill), a permission enabled on chain has its key.
            store.save(&key, &record).map_err(CliError::other)?;
            let granted = client
                .grant(&owner, &spec, std::slice::from_ref(&record.session), &[])
                .await
                .map_err(|cause| {
                    CliError::other(GrantPending {
                        permission_id,
                        account,
                        cause: cause.to_string(),
                    })
                })?;
            record.granted_by = granted.sent.map(|s| s.user_op_hash);
            record.state = GrantState::Granted;
            store.update(&record).map_err(CliError::other)?;
            record.granted_by
        };
        let out = GrantOutput {
            account,
            permission_id,
            session_key: key.address(),
            mode: if args.enable_on_first_use { "enable-on-first-use" } else { "granted" },
            user_op_hash,
            stored_in: args.chain.store.describe(),
            explained,
            explained_lines,
        };
        output(args.chain.json, &out, |out, o| {
            say!(out, "session {} for account {}", o.permission_id, o.account);
            say!(out, "  session key {} (stored in {})", o.session_key, o.stored_in);
            match o.user_op_hash {
                Some(hash) => say!(out, "  granted by op {hash}"),
                None if o.mode == "granted" => say!(out, "  already enabled"),
                None => say!(out, "  the owner signed it; its first use enables it"),
            }
            say!(out, "it allows:");
            for line in &o.explained_lines {
                say!(out, "  {line}");
            }
        })
    })
}

/// A grant that failed after its key and pending record were stored.
#[derive(Debug, thiserror::Error)]
#[error(
    "{cause}; session {permission_id} of account {account} is kept in the store as pending, \
     its key included: `mandate session status` tells whether the grant went through"
)]
struct GrantPending {
    permission_id: PermissionId,
    account: Address,
    cause: String,
}

fn owner_address(owner: &alloy_signer_local::PrivateKeySigner) -> Address {
    owner.address()
}

pub(crate) fn use_session(args: UseArgs) -> Result<String, CliError> {
    let store = args.chain.store()?;
    let calls: Vec<Execution> = read_json(&args.calls, "an array of {target, value, callData}")?;
    let calls: Vec<Call> = calls
        .into_iter()
        .map(|e| Call { to: e.target, value: e.value, data: e.callData })
        .collect();
    let sponsor = args.sponsor()?;
    let runtime = runtime()?;
    runtime.block_on(async {
        // The chain id (hence the record) comes from the node: the family is known after.
        let given = args.chain.account_type;
        let mut client =
            client(&args.chain, &args.bundler_url, given.unwrap_or(AccountType::Mandate)).await?;
        client.options_mut().sponsor = sponsor;
        let reference = SessionRef {
            chain_id: client.chain_id(),
            account: args.account,
            permission_id: args.permission_id,
        };
        let stored = load_session(&store, &reference)?;
        // Without --account-type, the record's family (a different one given is refused
        // by the client, naming both).
        if let (None, Some(stored)) = (given, stored.record.account_type)
            && stored != AccountType::Mandate
            && let Some(family) = family(&args.chain, &args.chain.deployments()?, stored)
        {
            client = client.with_family(family);
        }
        let used = client
            .use_session(&stored.key, &stored.record, &calls)
            .await
            .map_err(CliError::other)?;
        // The op went through: the session is enabled on chain (it may have been pending).
        if stored.record.enable.is_some() || !stored.record.state.is_granted() {
            let record = SessionRecord {
                enable: None,
                enable_as: None,
                state: GrantState::Granted,
                ..stored.record.clone()
            };
            store.update(&record).map_err(CliError::other)?;
        }
        output(args.chain.json, &used, |out, u| {
            say!(
                out,
                "op {} included ({:?} mode, nonce lane {}): {} gas charged",
                u.sent.user_op_hash,
                u.mode,
                u.sent.lane.unwrap_or_default(),
                u.sent.receipt.actual_gas_used
            );
            if let Some(paymaster) = u.sent.receipt.paymaster {
                say!(out, "  paid by paymaster {paymaster}");
            }
        })
    })
}

pub(crate) fn import(args: ImportArgs) -> Result<String, CliError> {
    let store = args.chain.store()?;
    let text = read_text(&args.file)?;
    let grant = mandate::abi::grant::read_grant(&text, args.format.map(GrantFormat::from))
        .map_err(|e| CliError::Invalid { what: "the grant response", reason: e.to_string() })?;
    let invalid = |reason: String| CliError::Invalid { what: "the grant response", reason };
    let (signer, key_source) = match &args.key_file {
        Some(path) => {
            (keystore_key(path, &args.password_env)?, format!("keystore {}", path.display()))
        }
        None => (env_key(&args.session_key_env, "the session key")?, args.session_key_env.clone()),
    };
    let key = SessionKey::from_signer(signer);
    let deployments = args.chain.deployments()?.chain();
    let chain = Chain::Node { rpc_url: args.chain.rpc_url.clone() };
    let account_type = args.chain.account_type.unwrap_or(AccountType::Mandate);
    let runtime = runtime()?;
    let required = |shape: &str| {
        args.account.ok_or_else(|| CliError::Invalid {
            what: "--account",
            reason: format!("required for {shape} (only a SessionData names its granter)"),
        })
    };
    // Each permission to store, with what enables it on first use (none: enabled already,
    // USE), and where that data sits in the file.
    let (account, pending, at): (Address, Vec<Pending>, fn(usize) -> String) = match grant {
        Grant::Entries(entries) => (
            required("abstractjs's GrantPermissionResponse")?,
            entries.into_iter().map(Pending::Enable).collect(),
            |i| format!("[{i}].enableSessionData."),
        ),
        Grant::EnableSessionData(data) => {
            let account = required("module-sdk's EnableSessionData")?;
            let mode = enable_mode(&runtime, &chain, deployments, account, &data)?;
            (account, vec![Pending::Enable(GrantEntry::of_enable_data(*data, mode))], |_| {
                String::new()
            })
        }
        Grant::SessionData(data) => {
            let account = data.granter;
            if let Some(given) = args.account.filter(|given| *given != account) {
                return Err(invalid(format!("granter is {account}, --account says {given}")));
            }
            if data.session_public_key != key.address() {
                return Err(invalid(format!(
                    "sessionPublicKey is {}, the session key in {key_source} is {}",
                    data.session_public_key,
                    key.address()
                )));
            }
            let signed_for = data.smart_session();
            if signed_for != deployments.smart_session {
                let hint = if signed_for == Deployments::MODULE_SDK_0_2_3.smart_session {
                    " (module-sdk 0.2.3's, the Nexus SDK 0.0.29's: --deployments module-sdk-0.2.3)"
                } else {
                    ""
                };
                return Err(invalid(format!(
                    "moduleData.action.target: the sessions are for SmartSession \
                     {signed_for}{hint}, whose address every enable digest binds; the \
                     deployments have SmartSession {}",
                    deployments.smart_session
                )));
            }
            let pending = if data.is_use() {
                data.sessions
                    .iter()
                    .map(|(chain_id, s)| Pending::Use(*chain_id, s.clone()))
                    .collect()
            } else {
                nexus_entries(&runtime, &chain, deployments, account, account_type, &data)?
                    .into_iter()
                    .map(Pending::Enable)
                    .collect()
            };
            (account, pending, |_| "moduleData.enableSessionData.".into())
        }
        _ => return Err(invalid("a shape this mandate does not import".into())),
    };
    // One key per permission, before the node is asked anything: none of these may share its
    // key with another permission of the account on its chain, stored (and not revoked) or
    // earlier in the file, unless allowed.
    let stored = store.list().map_err(CliError::other)?;
    let mut findings = mandate::abi::explain::Findings::default();
    let mut seen: Vec<(u64, &Session)> = Vec::with_capacity(pending.len());
    for p in &pending {
        let (chain_id, session) = match p {
            Pending::Enable(entry) => {
                (entry.chain_id(), &entry.enable_session_data.enable_session.sessionToEnable)
            }
            Pending::Use(chain_id, session) => (Some(*chain_id), session),
        };
        let Some(chain_id) = chain_id else { continue };
        let others = stored
            .iter()
            .filter(|r| r.account == account && r.chain_id == chain_id && !r.state.is_revoked())
            .map(|r| &r.session)
            .chain(seen.iter().filter(|(c, _)| *c == chain_id).map(|(_, s)| *s));
        findings.extend(mandate::abi::explain::shared_key(session, others, &deployments));
        seen.push((chain_id, session));
    }
    args.lint.refuse(&findings, "storing")?;
    // Everything is checked before anything is stored.
    let mut checked = Vec::with_capacity(pending.len());
    for (index, pending) in pending.into_iter().enumerate() {
        let (mut record, mode, enable) = match pending {
            Pending::Enable(entry) => {
                let data = &entry.enable_session_data;
                if data.account_type != account_type {
                    return Err(invalid(format!(
                        "{}accountType is {:?}, --account-type says {:?}",
                        at(index),
                        data.account_type,
                        account_type
                    )));
                }
                let record = SessionRecord::from_grant(
                    &entry,
                    account,
                    key.address(),
                    deployments.smart_session,
                )
                .ok_or_else(|| {
                    invalid(format!("[{index}]: its chainDigestIndex names no digest"))
                })?;
                let enable = (data.enable_session.clone(), data.validator);
                (record, entry.mode, Some(enable))
            }
            Pending::Use(chain_id, session) => {
                let record = SessionRecord {
                    account_type: Some(account_type),
                    ..SessionRecord::new(
                        chain_id,
                        account,
                        key.address(),
                        session,
                        deployments.smart_session,
                    )
                };
                (record, SmartSessionMode::Use, None)
            }
        };
        record.label = args.label.clone();
        SessionSigner::from(&key)
            .scheme(&record.session, &deployments.session_validators)
            .map_err(|e| invalid(format!("[{index}]: the key in {key_source}: {e}")))?;
        let permission_id = record.permission_id;
        let needs_enable = enable.is_some();
        let (chain_id, state) = runtime
            .block_on(chain.with_state(deployments, move |d| {
                let (ss, chain_id) = (deployments.smart_session, d.chain_id());
                if !d.has_code(account) {
                    return Ok((chain_id, Some("unknown")));
                }
                let enabled = ISmartSession::isPermissionEnabledCall {
                    permissionId: permission_id.0,
                    account,
                };
                if d.call_sol(ss, &enabled)? {
                    return Ok((chain_id, Some("enabled")));
                }
                let Some((enable, validator)) = enable else { return Ok((chain_id, None)) };
                let valid = owner_signed(d, account, account_type, validator, &enable);
                // `None`: the account refuses its owner's signature.
                Ok((chain_id, valid.then_some("pending first use")))
            }))
            .map_err(CliError::other)?;
        if record.chain_id != chain_id {
            return Err(invalid(format!(
                "[{index}] enables on chain {}, the node is chain {chain_id}",
                record.chain_id
            )));
        }
        let Some(state) = state else {
            return Err(invalid(if needs_enable {
                format!(
                    "[{index}]: account {account} does not accept its owner's signature (not the \
                     granter, or another validator)"
                )
            } else {
                format!(
                    "moduleData.sessions[{index}]: permission {permission_id} is not enabled on \
                     account {account}, and a SessionData without moduleData.mode is used as \
                     enabled (USE)"
                )
            }));
        };
        if state == "enabled" {
            record.enable = None;
            record.enable_as = None;
        }
        checked.push((Imported { permission_id, mode, state }, record));
    }
    // Every entry checked: stored together, or none of them.
    let batch: Vec<_> = checked.iter().map(|(_, record)| (&key, record)).collect();
    store.save_all(&batch).map_err(CliError::other)?;
    let imported: Vec<Imported> = checked.into_iter().map(|(i, _)| i).collect();
    output(args.chain.json, &imported, |out, all| {
        for i in all {
            say!(out, "stored permission {} ({:?}): {}", i.permission_id, i.mode, i.state);
        }
    })
}

/// A permission to import: enabled on first use by an entry, or enabled already (USE: the
/// chain and session of a Nexus SDK SessionData without `mode`).
enum Pending {
    Enable(GrantEntry),
    Use(u64, Session),
}

/// Whether `account` accepts its owner's enable signature: ERC-1271 on the multichain digest
/// of `enable`'s chain digests, routed through `validator` as `account_type` routes it.
fn owner_signed(
    d: &mut mandate::sim::Devnet,
    account: Address,
    account_type: AccountType,
    validator: Address,
    enable: &mandate::abi::EnableSession,
) -> bool {
    let check = IERC7579Account::isValidSignatureCall {
        hash: mandate::abi::multichain_digest(&enable.hashesAndChainIds),
        signature: account_type.format_enable_signature(validator, &enable.permissionEnableSig),
    };
    d.call_sol(account, &check).is_ok_and(|magic| {
        magic.0
            == <IERC7579Account::isValidSignatureCall as mandate::abi::alloy_sol_types::SolCall>::SELECTOR
    })
}

/// A Nexus SDK SessionData's permissions as entries, in the mode its owner signed: the one
/// whose rebuilt chain digests `account` accepts the signature over
/// ([`mandate::abi::grant::SessionData::enable_entries`]; the SDK names UNSAFE_ENABLE and
/// signs ENABLE's digest), each permission's nonce read from the chain (for one already
/// enabled, the nonce before its enabling).
fn nexus_entries(
    runtime: &tokio::runtime::Runtime,
    chain: &Chain,
    deployments: Deployments,
    account: Address,
    account_type: AccountType,
    data: &mandate::abi::grant::SessionData,
) -> Result<Vec<GrantEntry>, CliError> {
    let invalid = |reason: String| CliError::Invalid { what: "the grant response", reason };
    let given = data.enable_session_data.clone().expect("checked: an enable SessionData");
    let (ids, ss) = (data.permission_ids(), deployments.smart_session);
    let nonces = runtime
        .block_on(chain.with_state(deployments, move |d| {
            if !d.has_code(account) {
                return Ok(None);
            }
            let mut nonces = Vec::with_capacity(ids.len());
            for id in &ids {
                let nonce =
                    d.call_sol(ss, &ISmartSession::getNonceCall { permissionId: id.0, account })?;
                let enabled =
                    ISmartSession::isPermissionEnabledCall { permissionId: id.0, account };
                let back = d.call_sol(ss, &enabled)? && !nonce.is_zero();
                nonces.push(if back {
                    nonce - mandate::abi::alloy_primitives::U256::from(1)
                } else {
                    nonce
                });
            }
            Ok(Some(nonces))
        }))
        .map_err(CliError::other)?
        .ok_or_else(|| {
            invalid(format!(
                "granter {account} has no code: which mode its owner signed (ENABLE or \
                 UNSAFE_ENABLE) is the account's to say (ERC-1271); deploy it first"
            ))
        })?;
    for mode in [SmartSessionMode::Enable, SmartSessionMode::UnsafeEnable] {
        let entries = data.enable_entries(mode, &nonces).map_err(|e| invalid(e.to_string()))?;
        let enable = entries[0].enable_session_data.enable_session.clone();
        let validator = given.validator;
        let accepted = runtime
            .block_on(chain.with_state(deployments, move |d| {
                Ok(owner_signed(d, account, account_type, validator, &enable))
            }))
            .map_err(CliError::other)?;
        if accepted {
            return Ok(entries);
        }
    }
    Err(invalid(format!(
        "account {account} accepts its owner's signature over neither ENABLE's nor \
         UNSAFE_ENABLE's chain digests through validator {} (not the granter's owner, or \
         another validator)",
        given.validator
    )))
}

/// The mode module-sdk's EnableSessionData was signed for, from `account`'s enable nonce for
/// its permission ([`mandate::abi::grant::enable_mode_of`]); ENABLE when the permission is
/// already enabled (nothing is then enabled on use); nonce 0 for an account with no code yet.
fn enable_mode(
    runtime: &tokio::runtime::Runtime,
    chain: &Chain,
    deployments: Deployments,
    account: Address,
    data: &mandate::abi::EnableSessionData,
) -> Result<SmartSessionMode, CliError> {
    let invalid = |reason: String| CliError::Invalid { what: "the grant response", reason };
    let enable = &data.enable_session;
    if enable.hashesAndChainIds.get(usize::from(enable.chainDigestIndex)).is_none() {
        return Err(invalid(format!(
            "enableSession.chainDigestIndex: {}, with {} digest(s)",
            enable.chainDigestIndex,
            enable.hashesAndChainIds.len()
        )));
    }
    let permission_id = PermissionId::of(&enable.sessionToEnable);
    let ss = deployments.smart_session;
    let nonce = runtime
        .block_on(chain.with_state(deployments, move |d| {
            if !d.has_code(account) {
                return Ok(None);
            }
            let enabled =
                ISmartSession::isPermissionEnabledCall { permissionId: permission_id.0, account };
            if d.call_sol(ss, &enabled)? {
                return Ok(Some(None));
            }
            let nonce = ISmartSession::getNonceCall { permissionId: permission_id.0, account };
            Ok(Some(Some(d.call_sol(ss, &nonce)?)))
        }))
        .map_err(CliError::other)?;
    let nonce = match nonce {
        Some(Some(nonce)) => nonce,
        Some(None) => return Ok(SmartSessionMode::Enable),
        None => mandate::abi::alloy_primitives::U256::ZERO,
    };
    mandate::abi::grant::enable_mode_of(data, account, ss, nonce).ok_or_else(|| {
        invalid(format!(
            "enableSession.hashesAndChainIds[{}].sessionDigest is the digest of neither ENABLE nor \
             UNSAFE_ENABLE for account {account} on SmartSession {ss} at enable nonce {nonce} \
             (module-sdk's EnableSessionData does not say its mode: another account, \
             SmartSession or nonce)",
            enable.chainDigestIndex
        ))
    })
}

pub(crate) fn status(args: StatusArgs) -> Result<String, CliError> {
    let store = args.chain.store()?;
    let deployments = args.chain.deployments()?;
    let chain = Chain::Node { rpc_url: args.chain.rpc_url.clone() };
    let runtime = runtime()?;
    let chain_id = runtime
        .block_on(chain.with_state(deployments.chain(), |d| Ok(d.chain_id())))
        .map_err(CliError::other)?;
    let records: Vec<SessionRecord> = store
        .list()
        .map_err(CliError::other)?
        .into_iter()
        .filter(|r| {
            r.chain_id == chain_id && (args.all || args.account.is_none_or(|a| a == r.account))
        })
        .collect();
    let statuses = runtime.block_on(async {
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            let status = mandate::client::read_status(&chain, deployments.chain(), &record)
                .await
                .map_err(CliError::other)?;
            out.push(status);
        }
        Ok::<_, CliError>(out)
    })?;
    output(args.chain.json, &statuses, |out, all| {
        if all.is_empty() {
            say!(out, "no sessions in the store");
        }
        for status in all {
            crate::demo::print_status(out, "session", status);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A keystore made with alloy-signer-local's encoder: the right password opens it, a wrong
    /// one is [`CliError::KeystorePassword`], a file that is no keystore [`CliError::Keystore`];
    /// neither error carries the password.
    #[test]
    fn keystore_key_opens_refuses_and_keeps_the_password_out_of_errors() {
        let dir = tempfile::tempdir().unwrap();
        let (signer, _) = alloy_signer_local::PrivateKeySigner::new_keystore(
            dir.path(),
            &mut rand::thread_rng(),
            "right horse",
            Some("key.json"),
        )
        .unwrap();
        let path = dir.path().join("key.json");
        // Each test names its own variables: the process environment is shared.
        // SAFETY: no other thread of this test binary reads or writes these names.
        unsafe {
            std::env::set_var("MANDATE_TEST_KS_RIGHT", "right horse");
            std::env::set_var("MANDATE_TEST_KS_WRONG", "wrong horse");
        }
        let opened = keystore_key(&path, "MANDATE_TEST_KS_RIGHT").unwrap();
        assert_eq!(opened.address(), signer.address());
        let wrong = keystore_key(&path, "MANDATE_TEST_KS_WRONG").unwrap_err();
        assert!(matches!(wrong, CliError::KeystorePassword { .. }), "{wrong}");
        let line = wrong.to_string();
        assert!(line.contains("MANDATE_TEST_KS_WRONG") && line.contains("key.json"), "{line}");
        assert!(!line.contains("horse") && !format!("{wrong:?}").contains("horse"), "{line}");
        let not_one = dir.path().join("not-a-keystore.json");
        std::fs::write(&not_one, "{}").unwrap();
        let refused = keystore_key(&not_one, "MANDATE_TEST_KS_RIGHT").unwrap_err();
        assert!(matches!(refused, CliError::Keystore { .. }), "{refused}");
        let unset = keystore_key(&path, "MANDATE_TEST_KS_UNSET").unwrap_err();
        assert!(unset.to_string().contains("MANDATE_TEST_KS_UNSET"), "{unset}");
    }
}
