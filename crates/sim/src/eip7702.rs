//! EIP-7702 on the devnet: an EOA's signed authorization checked as the EVM will apply it
//! ([`Devnet::check_authorization`]), applied by a type-4 transaction
//! ([`Devnet::apply_authorizations`]), and carried by the bundle of the op it came with
//! ([`Devnet::handle_ops_with_authorizations`]): the bundler's `handleOps` is then itself a
//! type-4 transaction, as a bundler sends an op with ERC-7769's `eip7702Auth`.

use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_sol_types::SolCall;
use mandate_abi::{PackedUserOperation, alloy_eip7702::SignedAuthorization, sol::IEntryPoint};
use revm::context::tx::TxEnvBuildError;

use crate::{BUNDLER, BundleOutcome, Devnet, Preflight, RuleViolation, SimError};

/// Why an EIP-7702 authorization would not delegate the op's sender to the expected
/// implementation: each names the authorization's field that is wrong, what it holds and what
/// it must hold. The EVM skips such an authorization without failing the transaction, so the
/// op would then fail on an EOA without code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizationError {
    /// `chainId` is neither 0 (any chain) nor the chain's.
    #[error("eip7702Auth.chainId is {found}: must be 0 or the chain's, {chain}")]
    ChainId {
        /// The authorization's chain id.
        found: U256,
        /// The chain's.
        chain: u64,
    },
    /// `nonce` is not the EOA's current account nonce.
    #[error("eip7702Auth.nonce is {found}: the EOA {authority}'s nonce is {current}")]
    Nonce {
        /// The authorization's nonce.
        found: u64,
        /// The EOA's current nonce.
        current: u64,
        /// The EOA.
        authority: Address,
    },
    /// `address` is not the implementation the EOA should delegate to.
    #[error("eip7702Auth.address is {found}: the expected delegate is {expected}")]
    Delegate {
        /// The authorization's delegate.
        found: Address,
        /// The expected implementation.
        expected: Address,
    },
    /// The signature does not recover, or recovers to another address than the op's sender.
    #[error("eip7702Auth's signature is not the sender {sender}'s (it recovers to {recovered:?})")]
    Authority {
        /// The op's sender.
        sender: Address,
        /// Whom it recovers to, if anyone.
        recovered: Option<Address>,
    },
    /// The sender has code of its own (a contract), which no authorization replaces.
    #[error("eip7702Auth for {sender}, which is a contract, not an EOA")]
    NotAnEoa {
        /// The op's sender.
        sender: Address,
    },
}

/// The delegate of an EIP-7702 delegation designator (`0xef0100 ‖ delegate`).
fn designator_delegate(code: Option<&revm::bytecode::Bytecode>) -> Option<Address> {
    code.and_then(revm::bytecode::Bytecode::eip7702_address)
}

impl Devnet {
    /// The delegate `address` is delegated to (EIP-7702), if its code is a delegation.
    pub fn delegate_of(&self, address: Address) -> Option<Address> {
        designator_delegate(self.account_info(address).code.as_ref())
    }

    /// Checks `auth` as the EVM will apply it to delegate `sender` to `delegate`: its chain
    /// id (0 or the chain's), its nonce (the EOA's current one), its delegate, and that its
    /// signature is `sender`'s, whose code is empty or already a delegation.
    pub fn check_authorization(
        &self,
        sender: Address,
        auth: &SignedAuthorization,
        delegate: Address,
    ) -> Result<(), AuthorizationError> {
        let chain = self.chain_id();
        if !auth.chain_id.is_zero() && auth.chain_id != U256::from(chain) {
            return Err(AuthorizationError::ChainId { found: auth.chain_id, chain });
        }
        if auth.address != delegate {
            return Err(AuthorizationError::Delegate { found: auth.address, expected: delegate });
        }
        let recovered = auth.recover_authority().ok();
        if recovered != Some(sender) {
            return Err(AuthorizationError::Authority { sender, recovered });
        }
        let info = self.account_info(sender);
        let has_own_code = info.code.as_ref().is_some_and(|c| !c.is_empty())
            && designator_delegate(info.code.as_ref()).is_none();
        if has_own_code {
            return Err(AuthorizationError::NotAnEoa { sender });
        }
        if auth.nonce != info.nonce {
            return Err(AuthorizationError::Nonce {
                found: auth.nonce,
                current: info.nonce,
                authority: sender,
            });
        }
        Ok(())
    }

    /// The ERC-7562 rules for EIP-7702 senders (its AUTH rules, as Mandate checks them) that
    /// `op`, carrying `auth` or not, breaks: only the sender may be a delegated EOA (a
    /// paymaster or factory that is one would be dropped), and an authorization the sender
    /// already holds is sent again for nothing (it costs the bundle 12,500–25,000 gas).
    pub fn authorization_warnings(
        &self,
        op: &PackedUserOperation,
        auth: Option<&SignedAuthorization>,
    ) -> Vec<RuleViolation> {
        let mut warnings = Vec::new();
        let paymaster = (op.paymasterAndData.len() >= 20)
            .then(|| Address::from_slice(&op.paymasterAndData[..20]));
        let factory = (op.initCode.len() >= 20 && !mandate_abi::is_eip7702_init_code(&op.initCode))
            .then(|| Address::from_slice(&op.initCode[..20]));
        for entity in [paymaster, factory].into_iter().flatten() {
            if let Some(delegate) = self.delegate_of(entity) {
                warnings.push(RuleViolation::DelegatedEntity { entity, delegate });
            }
        }
        if let Some(auth) = auth
            && self.delegate_of(op.sender) == Some(auth.address)
        {
            warnings.push(RuleViolation::AuthorizationResent {
                sender: op.sender,
                delegate: auth.address,
            });
        }
        warnings
    }

    /// Applies `auths` with a type-4 transaction from the bundler (to itself, no calldata),
    /// as the chain would: each valid one delegates its authority and bumps its nonce; an
    /// invalid one is skipped.
    pub fn apply_authorizations(
        &mut self,
        auths: Vec<SignedAuthorization>,
    ) -> Result<(), SimError> {
        let tx = self.authorized_tx(TxKind::Call(BUNDLER), Bytes::new(), auths)?;
        let result = self.commit(tx)?;
        self.receipt_of(BUNDLER, result).map(|_| ())
    }

    /// [`Self::handle_ops`] as a type-4 transaction carrying `auths` (the ops'
    /// `eip7702Auth`s): the authorizations are applied before `handleOps` runs.
    pub fn handle_ops_with_authorizations(
        &mut self,
        ops: Vec<PackedUserOperation>,
        auths: Vec<SignedAuthorization>,
    ) -> Result<BundleOutcome, SimError> {
        if auths.is_empty() {
            return self.handle_ops(ops);
        }
        let entry_point = self.deployments().chain.entry_point;
        let call = IEntryPoint::handleOpsCall { ops, beneficiary: BUNDLER };
        let tx = self.authorized_tx(TxKind::Call(entry_point), call.abi_encode().into(), auths)?;
        self.submit_bundle_tx(entry_point, tx)
    }

    /// [`Self::check`] of `op` with `auth` applied first, on a copy of the chain, and the
    /// ERC-7562 AUTH warnings ([`Self::authorization_warnings`]) added to its verdict's.
    pub fn check_with_authorization(
        &mut self,
        op: &PackedUserOperation,
        auth: Option<&SignedAuthorization>,
    ) -> Result<Preflight, SimError> {
        let extra = self.authorization_warnings(op, auth);
        let mut verdict = match auth {
            None => self.check(op)?,
            Some(auth) => {
                let mut copy = self.clone();
                copy.apply_authorizations(vec![auth.clone()])?;
                copy.check(op)?
            }
        };
        match &mut verdict {
            Preflight::Accepted(a) => a.warnings.extend(extra),
            Preflight::Rejected(r) => r.warnings.extend(extra),
        }
        Ok(verdict)
    }

    fn authorized_tx(
        &self,
        to: TxKind,
        data: Bytes,
        auths: Vec<SignedAuthorization>,
    ) -> Result<revm::context::TxEnv, SimError> {
        let mut tx = self.tx(BUNDLER, to, U256::ZERO, data, crate::BLOCK_GAS_LIMIT)?;
        tx.gas_priority_fee = Some(0);
        tx.set_signed_authorization(auths);
        tx.derive_tx_type().map_err(|e| SimError::TxEnv(TxEnvBuildError::DeriveErr(e)))?;
        Ok(tx)
    }
}
