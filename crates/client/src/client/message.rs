//! A session key signing as the account (ERC-1271 through SmartSession, ERC-7739's nested
//! `TypedDataSign`; [`mandate_abi::erc7739`]): typed data in, a signature the account's
//! `isValidSignature` accepts out — judged by the local evaluator and by the account itself in
//! the simulator before it is returned.

use alloy_dyn_abi::TypedData;
use alloy_primitives::{Address, B256, Bytes};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use mandate_abi::{
    account::MODULE_TYPE_FALLBACK,
    erc7739::{AccountDomain, Contents},
    execution::Call,
    sol::{IERC5267, IERC7579Account},
};
use mandate_bundler::Bundler;
use mandate_policy::{Deployment, Evaluator, SignatureVerdict};

use super::{Sent, SessionClient, account_state};
use crate::{ClientError, SessionRecord, SessionSigner};

/// A session key's signature as the account, for an app's typed data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountSignature {
    /// The hash the app asks the account about (its EIP-712 signing hash of the typed data).
    pub hash: B256,
    /// What to hand the app: the account's routing prefix to SmartSession, then the ERC-7739
    /// session signature.
    pub signature: Bytes,
    /// What the session key signed: the nested `TypedDataSign` digest.
    pub digest: B256,
    /// The account's EIP-712 domain it was nested under.
    pub account_domain: AccountDomain,
    /// What the session must allow under the app's domain separator (its description).
    pub contents: Contents,
}

impl<B: Bundler> SessionClient<B> {
    /// Signs `typed` (an `eth_signTypedData_v4` request of an app) as `record`'s account with
    /// the session key: the contents and their description from the typed data, the account's
    /// `eip712Domain()` read from the chain, the nested digest signed by the session's
    /// validator scheme, the family's routing prefix to SmartSession. Before it is returned the
    /// local evaluator judges it (permission enabled, content allowed, ERC-1271 policies at the
    /// block's time, the signature) — a refusal names why — and the account's
    /// `isValidSignature` must answer `0x1626ba7e` in the simulator.
    ///
    /// SmartSession does not bind the signature to the app's hash (spec §8): whoever holds it
    /// can present it for any hash to this account. Grant ERC-1271 content knowingly
    /// ([`mandate_abi::explain`]'s `erc1271-any-hash`).
    pub async fn sign_typed_data(
        &self,
        signer: impl Into<SessionSigner>,
        record: &SessionRecord,
        typed: &TypedData,
    ) -> Result<AccountSignature, ClientError> {
        self.check_record(record)?;
        let permission_id = record.permission_id;
        let signer = signer.into();
        let scheme = signer
            .scheme(&record.session, &self.deployments.session_validators)
            .map_err(|source| ClientError::Signer { permission_id, source })?;
        let contents = Contents::from_typed_data(typed)?;
        let account = record.account;
        let account_domain = self
            .with_state(move |d| {
                if !d.has_code(account) {
                    return Err(ClientError::NoAccountDomain { account });
                }
                let call = IERC5267::eip712DomainCall {};
                d.call_sol(account, &call)
                    .map(AccountDomain::from)
                    .map_err(|_| ClientError::NoAccountDomain { account })
            })
            .await?;
        let digest = contents.signing_hash(&account_domain)?;
        let session_sig =
            scheme.sign(digest).map_err(|source| ClientError::Signer { permission_id, source })?;
        let inner = contents.encode_signature(permission_id, &session_sig)?;
        let family = self.family()?;
        let ss = self.deployments.smart_session;
        let signature: Bytes = [&family.erc1271_prefix(ss)[..], &inner[..]].concat().into();
        let hash = contents.app_hash();
        // The app that will ask: the typed data's verifying contract, when it names one.
        let sender = typed.domain.verifying_contract.unwrap_or_default();
        let (deployments, session, domain) =
            (self.deployments, record.session.clone(), account_domain.clone());
        let formatted = signature.clone();
        self.with_state(move |d| {
            let deployment = Deployment::new(&deployments);
            let state = account_state(d, &deployment, account, &session, None)?;
            let verdict = Evaluator::new(deployment).check_signature(
                &state,
                sender,
                hash,
                &inner,
                &domain,
                d.timestamp(),
            )?;
            match verdict {
                SignatureVerdict::Valid => {}
                SignatureVerdict::Invalid(refusal) => {
                    return Err(ClientError::SignatureRefused { reason: refusal.to_string() });
                }
                SignatureVerdict::Reverts(reject) => {
                    return Err(ClientError::SignatureRefused {
                        reason: format!(
                            "SmartSession reverts {}({}): {}",
                            reject.name,
                            reject.args.join(", "),
                            reject.reason
                        ),
                    });
                }
                SignatureVerdict::Erc7739Supported => {
                    return Err(ClientError::SignatureRefused {
                        reason: "the typed data hashes to ERC-7739's detection hash".into(),
                    });
                }
                // A verdict added later: not one to hand an app.
                _ => {
                    return Err(ClientError::SignatureRefused { reason: format!("{verdict:?}") });
                }
            }
            let call = IERC7579Account::isValidSignatureCall { hash, signature: formatted };
            match d.call(account, call.abi_encode().into()) {
                Ok(out) if out.starts_with(&IERC7579Account::isValidSignatureCall::SELECTOR) => {
                    Ok(())
                }
                Ok(out) => Err(ClientError::SignatureDisagreement { answer: out.to_string() }),
                Err(e) => Err(ClientError::SignatureDisagreement { answer: e.to_string() }),
            }
        })
        .await?;
        Ok(AccountSignature { hash, signature, digest, account_domain, contents })
    }

    /// Installs the deployment's compatibility fallback on `account` for `eip712Domain()`
    /// (call type STATIC, in the family's install data) with one owner op, for the families
    /// without a domain of their own (Safe7579, the reference account): a session key can sign
    /// as the account only once SmartSession can read one. Refused on the other families.
    pub async fn install_compatibility_fallback(
        &self,
        owner: &PrivateKeySigner,
        account: Address,
    ) -> Result<Sent, ClientError> {
        let fallback =
            self.deployments.compatibility_fallback.ok_or(ClientError::NoCompatibilityFallback)?;
        let family = self.family()?;
        let data = family.compatibility_fallback_install_data().ok_or(ClientError::Empty(
            "this family answers eip712Domain() itself: no compatibility fallback to install",
        ))?;
        let call = IERC7579Account::installModuleCall {
            moduleTypeId: alloy_primitives::U256::from(MODULE_TYPE_FALLBACK),
            module: fallback,
            initData: data,
        };
        self.owner_op(owner, account, &[Call::new(account, call.abi_encode())]).await
    }
}
