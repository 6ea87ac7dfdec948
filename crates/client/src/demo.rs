//! The story `mandate demo` tells (seeds 003 and 004): an owner grants a session key a
//! transfer action (one recipient, per-transfer and total limits, a usage limit, a time frame)
//! and a custom `mint` action (a universal rule: the first argument is the account); the
//! key uses it for one call and for a batch; the client refuses locally what would break a
//! limit, naming policy and rule; a second session is enabled by its own first use (ENABLE
//! mode); and what is left of each limit is read back from the chain.
//!
//! The same story runs on the embedded devnet ([`run_on_devnet`]) and against a real node and
//! bundler (`tests/client_e2e.rs` calls [`Story::run`] with Alto on anvil).

use std::{future::Future, pin::Pin};

use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::{
    ActionConfig, Call, Erc20Action, Erc20Function, ParamCondition, ParamRule, Policy, Session,
    SessionBuilder, custom_action,
    sol::{IERC20, IERC721},
};
use mandate_bundler::Bundler;
use mandate_sim::Devnet;
use serde::Serialize;

use crate::{ClientError, SessionClient, SessionKey, SessionRecord, SessionStatus, UseMode};

/// Where the story's tokens go.
pub const RECIPIENT: Address = Address::repeat_byte(0x7e);
/// Most tokens per transfer.
pub const PER_TRANSFER: u64 = 100;
/// Most tokens in total.
pub const TOTAL: u64 = 250;
/// Most transfers.
pub const TRANSFERS: u128 = 3;
/// Tokens the grant mints to the account.
pub const FUNDS: u64 = 1_000;

/// Errors of the story.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The client failed where the story expects success.
    #[error("{step}: {source}")]
    Client {
        /// The step.
        step: &'static str,
        /// Why.
        source: Box<ClientError>,
    },
    /// A step did not end as the story expects.
    #[error("{step}: {detail}")]
    Unexpected {
        /// The step.
        step: &'static str,
        /// What happened instead.
        detail: String,
    },
    /// The session could not be built.
    #[error("building the session: {0}")]
    Build(#[from] mandate_abi::BuildError),
    /// Setting the devnet up failed.
    #[error("devnet: {0}")]
    Sim(#[from] mandate_sim::SimError),
    /// Funding the account failed.
    #[error("funding the account: {0}")]
    Fund(#[source] FundError),
    /// A runtime could not be started.
    #[error("runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// How one step ended.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "outcome")]
pub enum Outcome {
    /// Sent and included.
    Included {
        /// The op's hash.
        user_op_hash: B256,
        /// Gas the EntryPoint charged.
        gas_used: U256,
        /// USE or ENABLE, for session ops.
        #[serde(skip_serializing_if = "Option::is_none")]
        mode: Option<UseMode>,
    },
    /// Refused before anything was sent.
    Refused {
        /// The contract error the op would have met.
        error: String,
        /// Which policy and rule, and the values compared.
        reason: String,
    },
}

/// One step of the story.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    /// What the step does.
    pub title: String,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The whole story.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoReport {
    /// The chain.
    pub chain_id: u64,
    /// The EntryPoint.
    pub entry_point: Address,
    /// SmartSession.
    pub smart_session: Address,
    /// The account.
    pub account: Address,
    /// The account's family (its name).
    pub account_family: String,
    /// The owner.
    pub owner: Address,
    /// The session key's address (never the key).
    pub session_key: Address,
    /// The granted session.
    pub session: SessionRecord,
    /// The steps, in order.
    pub steps: Vec<StepReport>,
    /// What the session allows after the story.
    pub status: SessionStatus,
    /// What the second, ENABLE-mode session allows after its uses.
    pub enable_mode_status: SessionStatus,
    /// Tokens the recipient holds at the end.
    pub recipient_tokens: U256,
    /// NFTs the account holds at the end.
    pub nfts_held: U256,
}

impl DemoReport {
    /// How each included op was signed, in order (`None` for the owner's op).
    pub fn included_modes(&self) -> Vec<Option<UseMode>> {
        self.steps
            .iter()
            .filter_map(|s| match &s.outcome {
                Outcome::Included { mode, .. } => Some(*mode),
                Outcome::Refused { .. } => None,
            })
            .collect()
    }

    /// The ops refused before sending: the contract error and the reason.
    pub fn refusals(&self) -> Vec<(&str, &str)> {
        self.steps
            .iter()
            .filter_map(|s| match &s.outcome {
                Outcome::Refused { error, reason } => Some((error.as_str(), reason.as_str())),
                Outcome::Included { .. } => None,
            })
            .collect()
    }
}

/// Gives the account native currency for gas (the devnet sets its balance; a test against a
/// node asks the node).
pub type Funder<'a> =
    &'a (dyn Fn(Address) -> Pin<Box<dyn Future<Output = Result<(), FundError>> + Send>> + Sync);

/// Why a [`Funder`] failed.
pub type FundError = Box<dyn std::error::Error + Send + Sync>;

/// The story's cast: who owns the account and which key acts for it.
#[derive(Debug)]
pub struct Story {
    /// The account's owner.
    pub owner: PrivateKeySigner,
    /// The session key of the first session.
    pub session_key: SessionKey,
    /// The session key of the ENABLE-mode session.
    pub second_key: SessionKey,
}

impl Story {
    /// Fresh random keys.
    pub fn random() -> Self {
        Self {
            owner: PrivateKeySigner::random(),
            session_key: SessionKey::random(),
            second_key: SessionKey::random(),
        }
    }

    /// The first session: the transfer action with every limit, and `mint` to the
    /// account only.
    pub fn session(
        &self,
        client_deployments: &mandate_sim::DevnetDeployments,
        account: Address,
        now: u64,
    ) -> Result<Session, DemoError> {
        let d = client_deployments;
        let addresses = d.chain.policies;
        let transfer = Erc20Action::new(Erc20Function::Transfer, d.test_erc20)
            .recipient(RECIPIENT)
            .amount_limit_per_action(U256::from(PER_TRANSFER))
            .max_amount_limit(U256::from(TOTAL))
            .usage_limit(TRANSFERS)
            .time_frame(now.saturating_sub(60), now + 86_400)
            .build(&addresses, now)?;
        let to_account = ParamRule::on_argument(
            1,
            ParamCondition::Equal,
            B256::left_padding_from(account.as_slice()),
        )?;
        let mint = custom_action(
            d.test_erc721,
            "mint(address)",
            &[Policy::UniAction(ActionConfig::new(U256::ZERO, vec![to_account])?)],
            &addresses,
        )?;
        Ok(SessionBuilder::new(ecdsa_validator(d)?, self.session_key.address().to_vec())
            .actions([transfer, mint])
            .build()?)
    }

    /// Runs the story with `client` on a chain that holds the devnet's contracts at
    /// `deployments`; `fund` gives the account gas money.
    pub async fn run<B: Bundler>(
        &self,
        client: &SessionClient<B>,
        deployments: &mandate_sim::DevnetDeployments,
        fund: Funder<'_>,
    ) -> Result<DemoReport, DemoError> {
        let d = *deployments;
        let account_spec = crate::Account::new(self.owner.address());
        let at = |step: &'static str| move |e| DemoError::Client { step, source: Box::new(e) };
        let account = client.account_address(&account_spec).await.map_err(at("account"))?;
        fund(account).await.map_err(DemoError::Fund)?;
        let now = client.with_state(|d| Ok(d.timestamp())).await.map_err(at("clock"))?;
        let session = self.session(&d, account, now)?;
        let mut steps = Vec::new();

        // 1. Grant: deploy, install SmartSession with the session, and mint tokens, in one op.
        let title = "owner deploys the account, installs SmartSession with the session and \
                     mints 1000 tokens to the account (one op)";
        let fund_tokens = Call::new(
            d.test_erc20,
            IERC20::mintCall { to: account, amount: U256::from(FUNDS) }.abi_encode(),
        );
        let granted = client
            .grant(&self.owner, &account_spec, std::slice::from_ref(&session), &[fund_tokens])
            .await
            .map_err(at("grant"))?;
        let sent = granted
            .sent
            .ok_or(DemoError::Unexpected { step: "grant", detail: "nothing was sent".into() })?;
        steps.push(included(title, &sent, None));
        let record = SessionRecord {
            label: Some("demo: transfers to one recipient, mints to the account".into()),
            granted_by: Some(sent.user_op_hash),
            ..SessionRecord::new(
                client.chain_id(),
                account,
                self.session_key.address(),
                session,
                d.chain.smart_session,
            )
        };

        let transfer = |amount: u64| transfer_call(d.test_erc20, RECIPIENT, U256::from(amount));
        let mint = |to: Address| Call::new(d.test_erc721, IERC721::mintCall { to }.abi_encode());
        let key = &self.session_key;

        // 2. One call.
        let used = client.use_session(key, &record, &[transfer(100)]).await.map_err(at("use"))?;
        steps.push(included(
            "session key transfers 100 tokens (single call)",
            &used.sent,
            Some(used.mode),
        ));

        // 3. A batch.
        let used = client
            .use_session(key, &record, &[mint(account), transfer(100)])
            .await
            .map_err(at("batch"))?;
        steps.push(included(
            "session key mints an NFT to the account and transfers 100 tokens (batch of 2)",
            &used.sent,
            Some(used.mode),
        ));

        // 4. Refusals, before anything is sent.
        for (title, calls) in [
            ("session key tries to transfer 60 more: 260 > the total of 250", vec![transfer(60)]),
            (
                "session key tries to transfer 150 in one call: > 100 per transfer",
                vec![transfer(150)],
            ),
            ("session key tries to mint an NFT to itself", vec![mint(key.address())]),
        ] {
            match client.use_session(key, &record, &calls).await {
                Err(ClientError::Refused { error, reason }) => steps.push(StepReport {
                    title: title.into(),
                    outcome: Outcome::Refused { error, reason },
                }),
                Err(e) => return Err(DemoError::Client { step: "refusal", source: Box::new(e) }),
                Ok(used) => {
                    return Err(DemoError::Unexpected {
                        step: "refusal",
                        detail: format!("op {} was sent", used.sent.user_op_hash),
                    });
                }
            }
        }

        // 5. A second session, enabled by its first use (ENABLE mode): the owner signs the
        //    session digest off-chain; the session key's first op carries that signature.
        let second = SessionBuilder::new(ecdsa_validator(&d)?, self.second_key.address().to_vec())
            .action(custom_action(
                d.test_erc721,
                "mint(address)",
                &[Policy::UsageLimit(2)],
                &d.chain.policies,
            )?)
            .build()?;
        let enable = client
            .prepare_enable(&self.owner, account, &second, mandate_abi::SmartSessionMode::Enable)
            .await
            .map_err(at("prepare enable"))?;
        let mut second_record = SessionRecord {
            enable: Some(enable),
            label: Some("demo: two mints, enabled on first use".into()),
            ..SessionRecord::new(
                record.chain_id,
                record.account,
                self.second_key.address(),
                second,
                record.smart_session,
            )
        };
        let used = client
            .use_session(&self.second_key, &second_record, &[mint(account)])
            .await
            .map_err(at("enable-mode use"))?;
        steps.push(included(
            "a second session key mints an NFT; its first op enables its session (ENABLE mode)",
            &used.sent,
            Some(used.mode),
        ));
        second_record.enable = None;
        let used = client
            .use_session(&self.second_key, &second_record, &[mint(account)])
            .await
            .map_err(at("second use"))?;
        steps.push(included(
            "the second session key mints again (USE mode)",
            &used.sent,
            Some(used.mode),
        ));

        // 6. What is left.
        let status = client.session_status(&record).await.map_err(at("status"))?;
        let enable_mode_status =
            client.session_status(&second_record).await.map_err(at("status"))?;
        let (erc20, erc721) = (d.test_erc20, d.test_erc721);
        let (recipient_tokens, nfts_held) = client
            .with_state(move |d| {
                let tokens = d.call_sol(erc20, &IERC20::balanceOfCall { owner: RECIPIENT })?;
                let nfts = d.call_sol(erc721, &IERC721::balanceOfCall { owner: account })?;
                Ok((tokens, nfts))
            })
            .await
            .map_err(at("balances"))?;
        Ok(DemoReport {
            chain_id: client.chain_id(),
            entry_point: d.chain.entry_point,
            smart_session: d.chain.smart_session,
            account,
            account_family: client.family().map_err(at("family"))?.name().to_string(),
            owner: self.owner.address(),
            session_key: self.session_key.address(),
            session: record,
            steps,
            status,
            enable_mode_status,
            recipient_tokens,
            nfts_held,
        })
    }
}

fn included(title: &str, sent: &crate::Sent, mode: Option<UseMode>) -> StepReport {
    StepReport {
        title: title.into(),
        outcome: Outcome::Included {
            user_op_hash: sent.user_op_hash,
            gas_used: sent.receipt.actual_gas_used,
            mode,
        },
    }
}

fn transfer_call(token: Address, to: Address, amount: U256) -> Call {
    Call::new(token, IERC20::transferCall { to, amount }.abi_encode())
}

/// The story on a fresh embedded devnet, on an account of `account_type`.
pub fn run_on_devnet(
    story: &Story,
    account_type: mandate_abi::account::AccountType,
) -> Result<DemoReport, DemoError> {
    let devnet = Devnet::new()?;
    let deployments = *devnet.deployments();
    let client =
        SessionClient::devnet(devnet).with_family(crate::built_in(account_type, &deployments));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let fund: Funder<'_> = &|account| {
        let funded = client.set_balance(account, U256::from(10u128.pow(18)));
        Box::pin(async move { funded.map_err(FundError::from) })
    };
    runtime.block_on(story.run(&client, &deployments, fund))
}

/// Mandate's ECDSA session signer, which the story's sessions use.
fn ecdsa_validator(d: &mandate_sim::DevnetDeployments) -> Result<Address, DemoError> {
    d.ecdsa_session_validator().ok_or_else(|| DemoError::Unexpected {
        step: "session",
        detail: "the deployments hold no ECDSA session validator".into(),
    })
}
