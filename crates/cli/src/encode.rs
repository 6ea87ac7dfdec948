//! The cast-style encoding commands: `session`, `signature` and `policy`.

use clap::Subcommand;
use mandate::abi::{
    AccountType, ActionId, ChainSession, EnableSessionData, PermissionId, Policy,
    PolicyParamsError, Session, SmartSessionMode,
    alloy_primitives::{B256, Bytes, hex},
    builder::selector,
    calldata, decode_signature, encode_enable, encode_use, hash_chain_sessions,
    json::{parse_address, quote_big_integers},
};
use serde::Deserialize;

use std::io::Write as _;

use crate::input::{CliError, hex_arg, read_json, read_text};

#[derive(Subcommand)]
pub(crate) enum SessionCommand {
    /// Print the permissionId of the Session in FILE.
    Id {
        /// A JSON Session (module-sdk shape), or - for stdin.
        file: String,
    },
    /// Print the calldata of enableSessions(Session[]) for the Session or array in FILE.
    EnableCalldata {
        /// A JSON Session or array of Sessions, or - for stdin.
        file: String,
    },
    /// Print the actionId of TARGET and SELECTOR.
    ActionId {
        /// The contract.
        target: String,
        /// A selector (0x12345678) or a function signature (transfer(address,uint256)).
        selector: String,
    },
    /// Print the multichain session digest of the ChainSession array in FILE.
    Digest {
        /// A JSON array of ChainSession, or - for stdin.
        file: String,
    },
    /// What the Session in FILE allows, in words, and its risks (those `grant` refuses unless
    /// `--allow`ed) and warnings.
    Explain(Box<crate::explain::ExplainArgs>),
    /// Create a session key and grant it a session on a node, through a bundler; keep both in
    /// the store (owner key and store password from the environment).
    Grant(Box<crate::flows::GrantArgs>),
    /// Use a stored session for calls: local verdict, gas, signature, pre-flight, send, receipt.
    Use(Box<crate::flows::UseArgs>),
    /// What the stored sessions still allow and where each stands (enabled, pending first use,
    /// revoked, expired, exhausted), read from the node.
    Status(Box<crate::flows::StatusArgs>),
    /// Revoke a stored session with an owner op (removeSession, or revokeEnableSignature for a
    /// grant not used yet); the store marks it revoked.
    Revoke(Box<crate::lifecycle::OwnerSessionArgs>),
    /// Move a stored session to a new key with the same permissions, the old one revoked, in one
    /// owner op; the store gets the new key and marks the old session revoked in one write.
    Rotate(Box<crate::lifecycle::OwnerSessionArgs>),
    /// Change a stored session's policies with one owner op (add action, user-op or ERC-1271
    /// policies, remove user-op or ERC-1271 policies, disable an action id, permit or forbid a
    /// paymaster); the stored record is updated to the session the chain now has.
    Change(Box<crate::lifecycle::ChangeArgs>),
    /// Sign an app's typed data (eth_signTypedData_v4 JSON) as the account with a stored
    /// session's key (ERC-1271 through SmartSession, ERC-7739): judged by the local evaluator
    /// and by the account's isValidSignature on a fork before it is printed.
    Sign(Box<crate::lifecycle::SignArgs>),
    /// Uninstall SmartSession from an account with an owner op (the family's uninstall data);
    /// the store marks the account's sessions revoked.
    UninstallSmartSession(Box<crate::lifecycle::UninstallArgs>),
    /// Store the permissions a dapp granted to a key this backend holds (abstractjs's
    /// GrantPermissionResponse), after checking them against the node; the key from the
    /// environment.
    Import(Box<crate::flows::ImportArgs>),
    /// Write a stored session as the JSON the TypeScript SDKs read: module-sdk's Session, the
    /// permission id for `encodeSmartSessionSignature`, and for a session enabled on first use
    /// abstractjs's GrantPermissionResponse. Never the key.
    Export(Box<crate::flows::ExportArgs>),
}

#[derive(Subcommand)]
pub(crate) enum SignatureCommand {
    /// Print a USE-mode signature.
    Use {
        /// The permissionId (32 bytes hex).
        permission_id: String,
        /// The session key's signature (hex).
        signature: String,
    },
    /// Print an ENABLE-mode signature from {"enableSessionData", "signature", "mode"?}.
    Enable {
        /// A JSON file, or - for stdin.
        file: String,
    },
    /// Decode a SmartSession signature to JSON.
    Decode {
        /// The signature (hex).
        signature: String,
        /// How the account routes the owner's enable signature.
        #[arg(long, default_value = "erc7579-implementation")]
        account_type: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum PolicyCommand {
    /// Print a policy's initData from module-sdk's builder parameters.
    Encode {
        /// sudo, universal, timeframe, spending-limits, usage-limit or value-limit.
        kind: String,
        /// The parameters as JSON (for sudo: {} or an empty file), or - for stdin.
        file: String,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<Session>),
    One(Box<Session>),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EnableInput {
    enable_session_data: EnableSessionData,
    #[serde(with = "mandate::abi::json::hex_bytes")]
    signature: Bytes,
    #[serde(default = "enable_mode")]
    mode: SmartSessionMode,
}

const fn enable_mode() -> SmartSessionMode {
    SmartSessionMode::Enable
}

fn hex_out(bytes: &[u8]) -> String {
    hex::encode_prefixed(bytes)
}

pub(crate) fn session(command: SessionCommand) -> Result<String, CliError> {
    Ok(match command {
        SessionCommand::Explain(args) => crate::explain::explain(*args)?,
        SessionCommand::Grant(args) => crate::flows::grant(*args)?,
        SessionCommand::Use(args) => crate::flows::use_session(*args)?,
        SessionCommand::Status(args) => crate::flows::status(*args)?,
        SessionCommand::Revoke(args) => crate::lifecycle::revoke(*args)?,
        SessionCommand::Sign(args) => crate::lifecycle::sign(*args)?,
        SessionCommand::Rotate(args) => crate::lifecycle::rotate(*args)?,
        SessionCommand::Change(args) => crate::lifecycle::change(*args)?,
        SessionCommand::UninstallSmartSession(args) => crate::lifecycle::uninstall(*args)?,
        SessionCommand::Import(args) => crate::flows::import(*args)?,
        SessionCommand::Export(args) => crate::flows::export(*args)?,
        SessionCommand::Id { file } => {
            let session: Session = read_json(&file, "a Session")?;
            PermissionId::of(&session).to_string()
        }
        SessionCommand::EnableCalldata { file } => {
            let sessions = match read_json(&file, "a Session or an array of Sessions")? {
                OneOrMany::Many(many) => many,
                OneOrMany::One(one) => vec![*one],
            };
            hex_out(&calldata::enable_sessions(&sessions))
        }
        SessionCommand::ActionId { target, selector: function } => {
            let target = parse_address(&target)
                .map_err(|e| CliError::Invalid { what: "TARGET", reason: e.to_string() })?;
            let selector = selector(&function).map_err(CliError::other)?;
            ActionId::new(target, selector).to_string()
        }
        SessionCommand::Digest { file } => {
            let sessions: Vec<ChainSession> = read_json(&file, "an array of ChainSession")?;
            hash_chain_sessions(&sessions).to_string()
        }
    })
}

pub(crate) fn signature(command: SignatureCommand) -> Result<String, CliError> {
    Ok(match command {
        SignatureCommand::Use { permission_id, signature } => {
            let id = hex_arg("PERMISSION_ID", &permission_id)?;
            if id.len() != 32 {
                return Err(CliError::Invalid {
                    what: "PERMISSION_ID",
                    reason: format!("{} bytes, expected 32", id.len()),
                });
            }
            let sig = hex_arg("SIGNATURE", &signature)?;
            hex_out(&encode_use(PermissionId(B256::from_slice(&id)), &sig))
        }
        SignatureCommand::Enable { file } => {
            let input: EnableInput = read_json(&file, "{enableSessionData, signature, mode?}")?;
            let encoded = encode_enable(input.mode, &input.enable_session_data, &input.signature)
                .map_err(CliError::other)?;
            hex_out(&encoded)
        }
        SignatureCommand::Decode { signature, account_type } => {
            let account_type: AccountType = account_type.parse().map_err(CliError::other)?;
            let bytes = hex_arg("SIGNATURE", &signature)?;
            let decoded = decode_signature(&bytes, account_type).map_err(CliError::other)?;
            serde_json::to_string_pretty(&decoded).map_err(CliError::other)?
        }
    })
}

pub(crate) fn policy(command: PolicyCommand) -> Result<String, CliError> {
    match command {
        PolicyCommand::Encode { kind, file } => {
            let text = read_text(&file)?;
            // getSudoPolicy() takes nothing: an empty file will do.
            let policy = if text.trim().is_empty() {
                Policy::from_params(&kind, serde_json::Value::Null).map_err(CliError::other)?
            } else {
                let text = quote_big_integers(&text);
                let expected = "the policy's parameters";
                let mut json = serde_json::Deserializer::from_str(&text);
                let mut track = serde_path_to_error::Track::new();
                let params = serde_path_to_error::Deserializer::new(&mut json, &mut track);
                let policy = match Policy::from_params(&kind, params) {
                    Err(PolicyParamsError::Json { source, .. }) => {
                        let error = serde_path_to_error::Error::new(track.path(), source);
                        return Err(CliError::json(&file, expected, error));
                    }
                    policy => policy.map_err(CliError::other)?,
                };
                json.end().map_err(|source| CliError::Json {
                    path: file.clone(),
                    expected,
                    field: None,
                    source,
                })?;
                policy
            };
            let init_data = policy.init_data().map_err(CliError::other)?;
            // What the contract accepts but may not be meant: said on stderr, one line each.
            let mut stderr = std::io::stderr().lock();
            for warning in policy.warnings() {
                // A closed stderr leaves nobody to warn.
                let _ = writeln!(stderr, "mandate policy: warning: {warning}");
            }
            Ok(hex_out(&init_data))
        }
    }
}
