//! `mandate session revoke | rotate | change | uninstall-smart-session`: the owner's ops after a grant,
//! each recorded in the store (owner key and store password from the environment).

use mandate::{
    abi::{
        ActionId, PermissionId,
        account::AccountType,
        alloy_primitives::{Address, B256},
    },
    client::{
        GrantState, SessionChange, SessionKey, SessionRecord, SessionRef, store::SessionStore,
    },
};
use serde::Serialize;

use crate::{
    flows::{ChainArgs, client, env_key, load_session, output, runtime},
    input::{CliError, read_json},
    prose::say,
};

/// One stored session and the owner who acts on it.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct OwnerSessionArgs {
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
    /// The environment variable holding the owner's private key (hex).
    #[arg(long, default_value = "MANDATE_OWNER_KEY")]
    owner_key_env: String,
}

/// `session uninstall-smart-session`.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct UninstallArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// The bundler's JSON-RPC URL.
    #[arg(long, env = "MANDATE_BUNDLER_URL", hide_env_values = true)]
    bundler_url: String,
    /// The account.
    #[arg(long, value_parser = mandate::abi::json::parse_address)]
    account: Address,
    /// The environment variable holding the owner's private key (hex).
    #[arg(long, default_value = "MANDATE_OWNER_KEY")]
    owner_key_env: String,
}

/// The client for a stored session's account: the family `--account-type` names, else the
/// record's, else Mandate's.
async fn client_for(
    chain: &ChainArgs,
    bundler_url: &str,
    record_type: Option<AccountType>,
) -> Result<mandate::client::SessionClient<mandate::bundler::BundlerClient>, CliError> {
    client(chain, bundler_url, chain.account_type.or(record_type).unwrap_or(AccountType::Mandate))
        .await
}

/// The session `args` names, read from `store`, with the client for its account.
async fn owned_session(
    args: &OwnerSessionArgs,
    store: &dyn mandate::client::store::SessionStore,
) -> Result<
    (
        mandate::client::store::StoredSession,
        mandate::client::SessionClient<mandate::bundler::BundlerClient>,
    ),
    CliError,
> {
    let reference = SessionRef {
        chain_id: node_chain_id(&args.chain).await?,
        account: args.account,
        permission_id: args.permission_id,
    };
    let stored = load_session(store, &reference)?;
    let client = client_for(&args.chain, &args.bundler_url, stored.record.account_type).await?;
    Ok((stored, client))
}

/// The chain id the node serves.
async fn node_chain_id(chain: &ChainArgs) -> Result<u64, CliError> {
    let deployments = chain.deployments()?.chain();
    mandate::client::Chain::Node { rpc_url: chain.rpc_url.clone() }
        .with_state(deployments, |d| Ok(d.chain_id()))
        .await
        .map_err(CliError::other)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RevokeOutput {
    account: Address,
    permission_id: PermissionId,
    removed: bool,
    enable_revoked: bool,
    user_op_hash: mandate::abi::alloy_primitives::B256,
    gas: mandate::abi::alloy_primitives::U256,
}

pub(crate) fn revoke(args: OwnerSessionArgs) -> Result<String, CliError> {
    let store = args.chain.store()?;
    let owner = env_key(&args.owner_key_env, "the owner's key")?;
    runtime()?.block_on(async {
        let (stored, client) = owned_session(&args, &store).await?;
        let revoked = client.revoke(&owner, &stored.record).await.map_err(CliError::other)?;
        let record = SessionRecord { state: GrantState::Revoked, ..stored.record.clone() };
        store.update(&record).map_err(CliError::other)?;
        let out = RevokeOutput {
            account: revoked.account,
            permission_id: revoked.permission_id,
            removed: revoked.removed,
            enable_revoked: revoked.enable_revoked,
            user_op_hash: revoked.sent.user_op_hash,
            gas: revoked.sent.receipt.actual_gas_used,
        };
        output(args.chain.json, &out, |out, o| {
            let how = if o.removed { "removed" } else { "its enable signature revoked" };
            say!(out, "session {} of account {}: {how}", o.permission_id, o.account);
            say!(out, "  by op {} ({} gas); the store marks it revoked", o.user_op_hash, o.gas);
        })
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RotateOutput {
    account: Address,
    revoked: PermissionId,
    permission_id: PermissionId,
    session_key: Address,
    user_op_hash: mandate::abi::alloy_primitives::B256,
    gas: mandate::abi::alloy_primitives::U256,
}

pub(crate) fn rotate(args: OwnerSessionArgs) -> Result<String, CliError> {
    let store = args.chain.store()?;
    let owner = env_key(&args.owner_key_env, "the owner's key")?;
    runtime()?.block_on(async {
        let (stored, client) = owned_session(&args, &store).await?;
        let key = SessionKey::random();
        // The new key and a pending record are on disk before the op is sent: a permission
        // enabled on chain has its key, however this ends.
        let pending = SessionRecord {
            state: GrantState::Pending,
            ..client.rotated_record(&stored.record, key.address()).map_err(CliError::other)?
        };
        store.save(&key, &pending).map_err(CliError::other)?;
        let rotated =
            client.rotate(&owner, &stored.record, key.address()).await.map_err(CliError::other)?;
        // The new session granted and the old one revoked, in one write.
        let retired = SessionRecord { state: GrantState::Revoked, ..stored.record.clone() };
        store
            .save_all(&[(&key, &rotated.record), (&stored.key, &retired)])
            .map_err(CliError::other)?;
        let out = RotateOutput {
            account: rotated.record.account,
            revoked: rotated.revoked,
            permission_id: rotated.record.permission_id,
            session_key: key.address(),
            user_op_hash: rotated.sent.user_op_hash,
            gas: rotated.sent.receipt.actual_gas_used,
        };
        output(args.chain.json, &out, |out, o| {
            say!(
                out,
                "session {} of account {} rotated to {}",
                o.revoked,
                o.account,
                o.permission_id
            );
            say!(out, "  new session key {} (stored); the old one revoked", o.session_key);
            say!(out, "  by op {} ({} gas)", o.user_op_hash, o.gas);
        })
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UninstallOutput {
    account: Address,
    deinit_data: mandate::abi::alloy_primitives::Bytes,
    user_op_hash: mandate::abi::alloy_primitives::B256,
    gas: mandate::abi::alloy_primitives::U256,
    /// The stored sessions of the account, now marked revoked.
    revoked: Vec<PermissionId>,
}

pub(crate) fn uninstall(args: UninstallArgs) -> Result<String, CliError> {
    let store = args.chain.store()?;
    let owner = env_key(&args.owner_key_env, "the owner's key")?;
    runtime()?.block_on(async {
        let chain_id = node_chain_id(&args.chain).await?;
        let smart_session = args.chain.deployments()?.chain().smart_session;
        // The account's sessions on this SmartSession (those on another stay as they are).
        let records: Vec<SessionRecord> = store
            .list()
            .map_err(CliError::other)?
            .into_iter()
            .filter(|r| {
                r.chain_id == chain_id
                    && r.account == args.account
                    && r.smart_session == smart_session
            })
            .collect();
        let record_type = records.iter().find_map(|r| r.account_type);
        let client = client_for(&args.chain, &args.bundler_url, record_type).await?;
        let done =
            client.uninstall_smart_session(&owner, args.account).await.map_err(CliError::other)?;
        let mut revoked = Vec::new();
        for record in records.into_iter().filter(|r| !r.state.is_revoked()) {
            revoked.push(record.permission_id);
            store
                .update(&SessionRecord { state: GrantState::Revoked, ..record })
                .map_err(CliError::other)?;
        }
        let out = UninstallOutput {
            account: done.account,
            deinit_data: done.deinit_data,
            user_op_hash: done.sent.user_op_hash,
            gas: done.sent.receipt.actual_gas_used,
            revoked,
        };
        output(args.chain.json, &out, |out, o| {
            say!(
                out,
                "SmartSession uninstalled from {} by op {} ({} gas)",
                o.account,
                o.user_op_hash,
                o.gas
            );
            say!(out, "  {} stored session(s) marked revoked", o.revoked.len());
        })
    })
}

/// `session change`: the changes run in one owner op, in the order listed here.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct ChangeArgs {
    #[command(flatten)]
    session: OwnerSessionArgs,
    /// Add action policies (an action not in the session is added): a JSON file of
    /// `ActionData[]` (`actionTargetSelector`, `actionTarget`, `actionPolicies`).
    #[arg(long, value_name = "FILE")]
    add_action_policies: Option<String>,
    /// Remove policies from an action (the action goes with its last policy):
    /// `ACTION_ID=POLICY[,POLICY…]`; repeatable.
    #[arg(long, value_name = "ACTION_ID=POLICIES", value_parser = parse_action_policies)]
    disable_action_policies: Vec<(ActionId, Vec<Address>)>,
    /// Remove an action and all its policies (its action id, 32 bytes hex); repeatable.
    #[arg(long, value_name = "ACTION_ID")]
    disable_action_id: Vec<B256>,
    /// Add user-op policies: a JSON file of `PolicyData[]` (`policy`, `initData`).
    #[arg(long, value_name = "FILE")]
    add_user_op_policies: Option<String>,
    /// Remove a user-op policy (its address); repeatable.
    #[arg(long, value_name = "POLICY", value_parser = mandate::abi::json::parse_address)]
    remove_user_op_policy: Vec<Address>,
    /// Add ERC-7739 contents and ERC-1271 policies: a JSON file of `ERC7739Data`
    /// (`allowedERC7739Content`, `erc1271Policies`).
    #[arg(long, value_name = "FILE")]
    add_erc1271_policies: Option<String>,
    /// Remove an ERC-1271 policy (its address); repeatable.
    #[arg(long, value_name = "POLICY", value_parser = mandate::abi::json::parse_address)]
    remove_erc1271_policy: Vec<Address>,
    /// Remove ERC-7739 contents: a JSON file of `ERC7739Context[]` (`appDomainSeparator`,
    /// `contentName`); a separator goes with its last content.
    #[arg(long, value_name = "FILE")]
    remove_erc7739_content: Option<String>,
    /// Change despite this risk the change would give the session (repeatable): as `grant`'s
    /// `--allow` (adding ERC-7739 content is `erc1271-any-hash`).
    #[arg(long = "allow", value_name = "RISK")]
    allow: Vec<mandate::abi::explain::Risk>,
    /// Whether the session's ops may be sponsored by a paymaster.
    #[arg(long, value_name = "BOOL")]
    permit_paymaster: Option<bool>,
}

impl ChangeArgs {
    /// The changes the flags ask for, in the order they run.
    fn changes(&self) -> Result<Vec<SessionChange>, CliError> {
        let mut changes = Vec::new();
        if let Some(path) = &self.add_action_policies {
            changes.push(SessionChange::EnableActionPolicies(read_json(path, "ActionData[]")?));
        }
        changes.extend(self.disable_action_policies.iter().map(|(action, policies)| {
            SessionChange::DisableActionPolicies { action: *action, policies: policies.clone() }
        }));
        changes.extend(
            self.disable_action_id.iter().map(|id| SessionChange::DisableActionId(ActionId(*id))),
        );
        if let Some(path) = &self.add_user_op_policies {
            changes.push(SessionChange::EnableUserOpPolicies(read_json(path, "PolicyData[]")?));
        }
        if !self.remove_user_op_policy.is_empty() {
            changes.push(SessionChange::DisableUserOpPolicies(self.remove_user_op_policy.clone()));
        }
        if let Some(path) = &self.add_erc1271_policies {
            changes.push(SessionChange::EnableErc1271Policies(read_json(path, "ERC7739Data")?));
        }
        let contents = match &self.remove_erc7739_content {
            Some(path) => read_json(path, "ERC7739Context[]")?,
            None => Vec::new(),
        };
        if !self.remove_erc1271_policy.is_empty() || !contents.is_empty() {
            changes.push(SessionChange::DisableErc1271Policies {
                policies: self.remove_erc1271_policy.clone(),
                contents,
            });
        }
        if let Some(permit) = self.permit_paymaster {
            changes.push(SessionChange::SetPermitPaymaster(permit));
        }
        if changes.is_empty() {
            return Err(CliError::Invalid {
                what: "session change",
                reason: "no change given (see --help)".to_owned(),
            });
        }
        Ok(changes)
    }
}

/// `ACTION_ID=POLICY[,POLICY…]`.
fn parse_action_policies(text: &str) -> Result<(ActionId, Vec<Address>), String> {
    let (id, policies) =
        text.split_once('=').ok_or_else(|| "expected ACTION_ID=POLICY[,POLICY…]".to_owned())?;
    let id: B256 = id.trim().parse().map_err(|e| format!("the action id: {e}"))?;
    let policies = policies
        .split(',')
        .map(|p| mandate::abi::json::parse_address(p.trim()).map_err(|e| format!("a policy: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((ActionId(id), policies))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChangeOutput {
    account: Address,
    permission_id: PermissionId,
    changes: usize,
    user_op_hash: B256,
    gas: mandate::abi::alloy_primitives::U256,
}

pub(crate) fn change(args: ChangeArgs) -> Result<String, CliError> {
    let changes = args.changes()?;
    let a = &args.session;
    let store = a.chain.store()?;
    let owner = env_key(&a.owner_key_env, "the owner's key")?;
    runtime()?.block_on(async {
        let (stored, mut client) = owned_session(a, &store).await?;
        client.options_mut().allow = args.allow.iter().copied().collect();
        let changed = client
            .change_session(&owner, &stored.record, &changes)
            .await
            .map_err(CliError::other)?;
        store.update(&changed.record).map_err(CliError::other)?;
        let out = ChangeOutput {
            account: changed.record.account,
            permission_id: changed.record.permission_id,
            changes: changes.len(),
            user_op_hash: changed.sent.user_op_hash,
            gas: changed.sent.receipt.actual_gas_used,
        };
        output(a.chain.json, &out, |out, o| {
            say!(
                out,
                "session {} of account {}: {} change(s)",
                o.permission_id,
                o.account,
                o.changes
            );
            say!(out, "  by op {} ({} gas); the stored record updated", o.user_op_hash, o.gas);
        })
    })
}

/// `session sign`: a stored session's key signs an app's typed data as the account.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct SignArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// The bundler's JSON-RPC URL (the client's; nothing is sent to it).
    #[arg(long, env = "MANDATE_BUNDLER_URL", hide_env_values = true)]
    bundler_url: String,
    /// The account.
    #[arg(long, value_parser = mandate::abi::json::parse_address)]
    account: Address,
    /// The session's permission id.
    #[arg(long)]
    permission_id: PermissionId,
    /// The typed data: an `eth_signTypedData_v4` JSON request (`types`, `primaryType`,
    /// `domain`, `message`), or - for stdin.
    #[arg(long, value_name = "FILE")]
    typed_data: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignOutput {
    account: Address,
    permission_id: PermissionId,
    /// The hash the app asks `isValidSignature` about.
    hash: B256,
    /// The signature to hand the app.
    signature: mandate::abi::alloy_primitives::Bytes,
    /// What the session key signed.
    digest: B256,
    /// The contents description the session allows.
    contents_description: String,
    /// The account's EIP-712 domain name and version.
    account_domain: (String, String),
}

pub(crate) fn sign(args: SignArgs) -> Result<String, CliError> {
    let typed: mandate::abi::alloy_dyn_abi::TypedData =
        read_json(&args.typed_data, "eth_signTypedData_v4 typed data")?;
    let store = args.chain.store()?;
    runtime()?.block_on(async {
        let reference = SessionRef {
            chain_id: node_chain_id(&args.chain).await?,
            account: args.account,
            permission_id: args.permission_id,
        };
        let stored = load_session(&store, &reference)?;
        let client = client_for(&args.chain, &args.bundler_url, stored.record.account_type).await?;
        let signed = client
            .sign_typed_data(&stored.key, &stored.record, &typed)
            .await
            .map_err(CliError::other)?;
        let out = SignOutput {
            account: args.account,
            permission_id: args.permission_id,
            hash: signed.hash,
            signature: signed.signature,
            digest: signed.digest,
            contents_description: String::from_utf8_lossy(&signed.contents.description)
                .into_owned(),
            account_domain: (signed.account_domain.name, signed.account_domain.version),
        };
        output(args.chain.json, &out, |out, o| {
            say!(out, "signed as account {} by session {}", o.account, o.permission_id);
            say!(out, "  for hash {} ({})", o.hash, o.contents_description);
            say!(
                out,
                "  nested under {} {}: digest {}",
                o.account_domain.0,
                o.account_domain.1,
                o.digest
            );
            say!(out, "  signature {}", o.signature);
            say!(
                out,
                "  (SmartSession does not bind it to the hash: it is valid for any hash asked of \
                 the account)"
            );
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_policies_argument() {
        let id = B256::repeat_byte(0xab);
        let (a, b) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let parsed = parse_action_policies(&format!("{id}={a}, {b}")).unwrap();
        assert_eq!(parsed, (ActionId(id), vec![a, b]));
        assert!(parse_action_policies(&id.to_string()).is_err());
        assert!(parse_action_policies(&format!("0x12={a}")).is_err());
        assert!(parse_action_policies(&format!("{id}=0x12")).is_err());
    }
}
