//! The seeds 000–002 story that `mandate demo --legacy-v2` tells: an owner creates a batch
//! session (an ERC-20 leaf and an ABI leaf under one merkle root), the session key uses each
//! singly and both in one batch through the router, and two ops outside the sessions are
//! refused before anything is sent.

use alloy_primitives::{Address, B256, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::{
    Call,
    legacy_v2::{AbiCondition, AbiRule, AbiSessionData, Erc20SessionData, SessionLeaf},
    sol::{IERC20, IERC721},
};
use mandate_bundler::BundlerV06;
use mandate_sim::Devnet;
use serde::Serialize;

use super::{V2Account, V2Client, V2ClientError, V2Sent};
use crate::{
    SessionKey,
    demo::{FundError, Funder},
};

/// Where the story's tokens go.
pub const RECIPIENT: Address = Address::repeat_byte(0x7e);
/// The ERC-20 session's most per transfer.
pub const MAX_AMOUNT: u64 = 1_000;
/// Tokens the owner's op mints to the account.
const MINTED: u64 = 10_000;

/// An op of the story and how it ended.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct V2Step {
    /// What the step does.
    pub title: String,
    /// Included (with gas) or refused (with the reason).
    pub included: bool,
    /// The op's hash when included.
    pub user_op_hash: Option<B256>,
    /// `actualGasUsed` when included.
    pub gas_used: Option<U256>,
    /// Why it was refused.
    pub refused: Option<String>,
}

/// The story's report.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct V2Report {
    /// EntryPoint v0.6.
    pub entry_point: Address,
    /// The Smart Account v2.
    pub account: Address,
    /// The session key's address.
    pub session_key: Address,
    /// The merkle root of the session leaves.
    pub merkle_root: B256,
    /// The steps.
    pub steps: Vec<V2Step>,
    /// Tokens the recipient holds at the end.
    pub recipient_tokens: U256,
    /// NFTs the account holds at the end.
    pub nfts_held: U256,
}

impl V2Report {
    /// Whether each step's op was included, in order.
    pub fn included(&self) -> Vec<bool> {
        self.steps.iter().map(|s| s.included).collect()
    }

    /// The reasons of the refused steps, in order.
    pub fn refusals(&self) -> Vec<&str> {
        self.steps.iter().filter_map(|s| s.refused.as_deref()).collect()
    }
}

/// The story's cast and props: the owner, the session key, and the test tokens it uses (an
/// ERC-20 with an open `mint`, an ERC-721 with `safeMint(to)`).
#[derive(Debug)]
pub struct V2Story {
    /// The account's owner.
    pub owner: PrivateKeySigner,
    /// The session key.
    pub session_key: SessionKey,
    /// The ERC-20.
    pub token: Address,
    /// The ERC-721.
    pub nft: Address,
}

impl V2Story {
    /// A fresh owner and key over `token` and `nft`.
    pub fn random(token: Address, nft: Address) -> Self {
        Self { owner: PrivateKeySigner::random(), session_key: SessionKey::random(), token, nft }
    }

    /// The ERC-20 session (seed 001): `token` to [`RECIPIENT`], at most [`MAX_AMOUNT`] per call.
    pub fn erc20_leaf<B>(&self, client: &V2Client<B>) -> SessionLeaf {
        let data = Erc20SessionData {
            session_key: self.session_key.address(),
            token: self.token,
            recipient: RECIPIENT,
            max_amount: U256::from(MAX_AMOUNT),
        };
        SessionLeaf::new(0, 0, client.v2.erc20_svm, data.encode())
    }

    /// The ABI session (seed 001): `safeMint(to)` on the NFT only with `to` = `account`.
    pub fn abi_leaf<B>(
        &self,
        client: &V2Client<B>,
        account: Address,
    ) -> Result<SessionLeaf, V2ClientError> {
        let data = AbiSessionData {
            session_key: self.session_key.address(),
            target: self.nft,
            selector: IERC721::safeMintCall::SELECTOR.into(),
            value_limit: 0,
            rules: vec![AbiRule::new(0, AbiCondition::Equal, account.into_word())],
        };
        Ok(SessionLeaf::new(0, 0, client.v2.abi_svm, data.encode()?))
    }

    /// Runs the story; `fund` gives the (counterfactual) account native currency for its
    /// prefunds. Refusals are steps of the report; any other failure ends the story.
    pub async fn run<B: BundlerV06>(
        &self,
        client: &V2Client<B>,
        fund: Funder<'_>,
    ) -> Result<V2Report, V2ClientError> {
        let account = client.account(V2Account::new(self.owner.address(), 0)).await?;
        let address = account.address;
        fund(address).await.map_err(V2ClientError::Fund)?;
        let (erc20, abi) = (self.erc20_leaf(client), self.abi_leaf(client, address)?);
        let transfer = |amount: u64| {
            let call = IERC20::transferCall { to: RECIPIENT, amount: U256::from(amount) };
            Call::new(self.token, call.abi_encode())
        };
        let mint = |to: Address| Call::new(self.nft, IERC721::safeMintCall { to }.abi_encode());
        let mut steps = Vec::new();

        let minted = IERC20::mintCall { to: address, amount: U256::from(MINTED) };
        let (sessions, sent) = client
            .create_sessions(
                &self.owner,
                &account,
                vec![erc20.clone(), abi.clone()],
                &[Call::new(self.token, minted.abi_encode())],
            )
            .await?;
        record(
            &mut steps,
            "owner deploys the account and creates a batch session: an ERC-20 leaf and an ABI \
             leaf under one merkle root (seed 001)",
            Ok(sent),
        )?;
        let key = &self.session_key;
        let r = client.use_single(key, &sessions, &erc20, transfer(300)).await;
        record(
            &mut steps,
            "session key transfers 300 tokens with the ERC-20 session (seed 000)",
            r,
        )?;
        let r = client.use_single(key, &sessions, &abi, mint(address)).await;
        record(&mut steps, "session key mints an NFT to the account with the ABI session", r)?;
        let r = client
            .use_batch(
                key,
                &sessions,
                &[(erc20.clone(), transfer(200)), (abi.clone(), mint(address))],
            )
            .await;
        record(
            &mut steps,
            "session key transfers 200 tokens and mints an NFT in one batch through the router \
             (seed 002)",
            r,
        )?;
        let r = client.use_single(key, &sessions, &erc20, transfer(MAX_AMOUNT + 1)).await;
        record(
            &mut steps,
            "session key tries to transfer 1001 tokens: over the session's maximum",
            r,
        )?;
        let r = client.use_single(key, &sessions, &abi, mint(key.address())).await;
        record(
            &mut steps,
            "session key tries to mint an NFT to itself: the ABI rule wants the account",
            r,
        )?;

        let (token, nft) = (self.token, self.nft);
        let (recipient_tokens, nfts_held) = client
            .with_state(move |d| {
                Ok((
                    d.call_sol(token, &IERC20::balanceOfCall { owner: RECIPIENT })?,
                    d.call_sol(nft, &IERC721::balanceOfCall { owner: address })?,
                ))
            })
            .await?;
        Ok(V2Report {
            entry_point: client.v2.entry_point,
            account: address,
            session_key: key.address(),
            merkle_root: sessions.root(),
            steps,
            recipient_tokens,
            nfts_held,
        })
    }
}

fn record(
    steps: &mut Vec<V2Step>,
    title: &str,
    result: Result<V2Sent, V2ClientError>,
) -> Result<(), V2ClientError> {
    let step = match result {
        Ok(sent) => V2Step {
            title: title.into(),
            included: true,
            user_op_hash: Some(sent.user_op_hash),
            gas_used: Some(sent.receipt.actual_gas_used),
            refused: None,
        },
        Err(V2ClientError::Refused(why)) => V2Step {
            title: title.into(),
            included: false,
            user_op_hash: None,
            gas_used: None,
            refused: Some(why),
        },
        Err(e) => return Err(e),
    };
    steps.push(step);
    Ok(())
}

/// The story on a fresh embedded devnet, with its test tokens.
pub fn run_demo() -> Result<V2Report, V2ClientError> {
    let devnet = Devnet::new()?;
    let (token, nft) = (devnet.deployments().test_erc20, devnet.deployments().test_erc721);
    let client = V2Client::devnet(devnet)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let fund: Funder<'_> = &|account| {
        let funded = client.set_balance(account, U256::from(10u128.pow(18)));
        Box::pin(async move { funded.map_err(FundError::from) })
    };
    runtime.block_on(V2Story::random(token, nft).run(&client, fund))
}
