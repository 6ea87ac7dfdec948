//! A fixed account, owner and session on the embedded devnet, with the raw ops around them:
//! what tests and benches build on when they need exact control over each op (the
//! `mandate_client::SessionClient` is what applications use). The session allows `safeMint` on the
//! test ERC-721 and `transfer` on the test ERC-20, each under SudoPolicy.

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolValue};
use mandate_abi::{
    ActionData, Call, CallType, ExecType, ModuleInit, PackedUserOperation, PermissionId,
    PolicyData, Session, UserOperation, encode_delegatecall, encode_use, execute_calldata,
    execute_calls, mode_code,
    sol::{IERC20, IERC721, IERC7579Account, IMandateAccountFactory},
    validator_nonce, validator_nonce_key,
};
use mandate_sim::{Deployments, Devnet, SimError};

use crate::op::{Gas, user_op};

/// ERC-7579 module type of validators.
const MODULE_TYPE_VALIDATOR: u64 = 1;
/// ENABLE mode byte that prefixes SmartSession's install data.
const INSTALL_MODE_ENABLE: u8 = 1;

/// Errors of the session world.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionWorldError {
    /// The simulator failed.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(#[from] alloy_signer::Error),
}

/// The ops of one account, its owner and one session, built for any chain that has Mandate's
/// contracts: the addresses and the chain id are all it needs, so the same ops go to the
/// embedded devnet ([`SessionWorld`]) or to a real node through a bundler.
pub struct SessionOps {
    /// Where the EntryPoint, SmartSession, the factory and the test tokens are.
    pub deployments: Deployments,
    /// The chain the ops are signed for.
    pub chain_id: u64,
    owner: PrivateKeySigner,
    session_key: PrivateKeySigner,
    /// The account's address (counterfactual until the first op).
    pub account: Address,
    /// The session the account grants.
    pub session: Session,
    /// Its permission id.
    pub permission_id: PermissionId,
    validators: Vec<ModuleInit>,
}

impl std::fmt::Debug for SessionOps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionOps")
            .field("chain_id", &self.chain_id)
            .field("account", &self.account)
            .field("owner", &self.owner.address())
            .field("session_key", &self.session_key.address())
            .field("permission_id", &self.permission_id)
            .finish_non_exhaustive()
    }
}

impl SessionOps {
    /// An owner and a session key on a chain with `deployments`; the session allows
    /// `safeMint` on the test ERC-721 and `transfer` on the test ERC-20, each under SudoPolicy.
    /// The account's address is zero until [`Self::with_account`] sets it to what the
    /// factory answers to [`Self::account_query`].
    pub fn new(
        deployments: Deployments,
        chain_id: u64,
        owner: PrivateKeySigner,
        session_key: PrivateKeySigner,
    ) -> Self {
        let d = deployments;
        let sudo = || vec![PolicyData { policy: d.sudo_policy, initData: Bytes::new() }];
        let session = Session {
            sessionValidator: d.ecdsa_session_validator,
            sessionValidatorInitData: Bytes::copy_from_slice(session_key.address().as_slice()),
            salt: B256::ZERO,
            actions: vec![
                ActionData {
                    actionTargetSelector: IERC721::safeMintCall::SELECTOR.into(),
                    actionTarget: d.test_erc721,
                    actionPolicies: sudo(),
                },
                ActionData {
                    actionTargetSelector: IERC20::transferCall::SELECTOR.into(),
                    actionTarget: d.test_erc20,
                    actionPolicies: sudo(),
                },
            ],
            ..Default::default()
        };
        let permission_id = PermissionId::of(&session);
        let validators = vec![ModuleInit {
            module: d.k1_validator,
            initData: Bytes::copy_from_slice(owner.address().as_slice()),
        }];
        Self {
            deployments,
            chain_id,
            owner,
            session_key,
            account: Address::ZERO,
            session,
            permission_id,
            validators,
        }
    }

    /// Lets the session's ops be paid by an ERC-4337 paymaster (`permitERC4337Paymaster`,
    /// with SudoPolicy as the user-op policy SmartSession then requires); call it before the
    /// account is created.
    pub fn permit_paymaster(mut self) -> Self {
        self.session.permitERC4337Paymaster = true;
        let sudo = PolicyData { policy: self.deployments.sudo_policy, initData: Bytes::new() };
        self.session.userOpPolicies.push(sudo);
        self.permission_id = PermissionId::of(&self.session);
        self
    }

    /// The factory and the `getAddress` call whose answer is the account's address.
    pub fn account_query(&self) -> (Address, IMandateAccountFactory::getAddressCall) {
        let call = IMandateAccountFactory::getAddressCall {
            validators: self.validators.clone(),
            salt: B256::ZERO,
        };
        (self.deployments.account_factory, call)
    }

    /// Sets the account's address.
    pub fn with_account(mut self, account: Address) -> Self {
        self.account = account;
        self
    }

    /// The owner's address.
    pub fn owner(&self) -> Address {
        self.owner.address()
    }

    /// The session key's address.
    pub fn session_key(&self) -> Address {
        self.session_key.address()
    }

    /// An unsigned op of the account with the story's generous gas limits.
    pub fn base_op(&self, nonce: U256, call_data: Bytes) -> UserOperation {
        user_op(self.account, nonce, call_data, Gas::SESSION)
    }

    /// The owner's first op, unsigned: deploys the account through the factory and installs
    /// SmartSession with the session (install data `0x01 ‖ abi.encode(Session[])`).
    pub fn create_account_user_op(&self) -> UserOperation {
        let d = self.deployments;
        let mut install_data = vec![INSTALL_MODE_ENABLE];
        install_data.extend_from_slice(&vec![self.session.clone()].abi_encode());
        let call_data = IERC7579Account::installModuleCall {
            moduleTypeId: U256::from(MODULE_TYPE_VALIDATOR),
            module: d.smart_session,
            initData: install_data.into(),
        }
        .abi_encode();
        let mut op = self.base_op(validator_nonce(d.k1_validator, 0, 0), call_data.into());
        op.factory = Some(d.account_factory);
        op.factory_data = IMandateAccountFactory::createAccountCall {
            validators: self.validators.clone(),
            salt: B256::ZERO,
        }
        .abi_encode()
        .into();
        op
    }

    /// Signs `op` as the owner (K1Validator: a personal-sign of the user-op hash).
    pub fn sign_owner(&self, op: &mut UserOperation) -> Result<(), SessionWorldError> {
        let hash = op.hash(self.deployments.entry_point, self.chain_id);
        op.signature = self.owner.sign_message_sync(hash.as_slice())?.as_bytes().to_vec().into();
        Ok(())
    }

    /// The EntryPoint nonce key that routes an op to SmartSession.
    pub fn session_nonce_key(&self) -> U256 {
        validator_nonce_key(self.deployments.smart_session, 0)
    }

    /// Signs `op` in USE mode with `signer` (the session key, or another key to show a bad
    /// signature).
    pub fn sign_session(
        &self,
        op: &mut UserOperation,
        signer: &PrivateKeySigner,
    ) -> Result<(), SessionWorldError> {
        let hash = op.hash(self.deployments.entry_point, self.chain_id);
        let signature = signer.sign_message_sync(hash.as_slice())?;
        op.signature = encode_use(self.permission_id, &signature.as_bytes());
        Ok(())
    }

    /// Signs `op` in USE mode with the session key.
    pub fn sign_with_session_key(&self, op: &mut UserOperation) -> Result<(), SessionWorldError> {
        self.sign_session(op, &self.session_key)
    }

    /// The calls of the story: mint an NFT to the account.
    pub fn mint_call(&self) -> Call {
        let nft = self.deployments.test_erc721;
        Call::new(nft, IERC721::safeMintCall { to: self.account }.abi_encode())
    }

    /// A `transfer(to, amount)` on the test ERC-20.
    pub fn transfer_call(&self, to: Address, amount: U256) -> Call {
        let token = self.deployments.test_erc20;
        Call::new(token, IERC20::transferCall { to, amount }.abi_encode())
    }

    /// An `approve(spender, amount)` on the test ERC-20: not in the session.
    pub fn approve_call(&self, spender: Address, amount: U256) -> Call {
        let token = self.deployments.test_erc20;
        Call::new(token, IERC20::approveCall { spender, amount }.abi_encode())
    }

    /// `execute` with a delegatecall to `target`: SmartSession refuses the call type.
    pub fn delegatecall_data(&self, target: Address, data: &[u8]) -> Bytes {
        execute_calldata(
            mode_code(CallType::DelegateCall, ExecType::Default),
            encode_delegatecall(target, data),
        )
    }
}

/// An account on the devnet, its owner, and one session granted to a session key.
pub struct SessionWorld {
    /// The chain.
    pub devnet: Devnet,
    /// The ops, as built for any chain (with the account, the session and its permission id).
    pub ops: SessionOps,
}

impl std::fmt::Debug for SessionWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionWorld").field("ops", &self.ops).finish_non_exhaustive()
    }
}

impl SessionWorld {
    /// A fresh devnet, an owner and a session key; the session allows `safeMint` on the test
    /// ERC-721 and `transfer` on the test ERC-20, each under SudoPolicy.
    pub fn new(
        owner: PrivateKeySigner,
        session_key: PrivateKeySigner,
    ) -> Result<Self, SessionWorldError> {
        let mut devnet = Devnet::new()?;
        let ops = SessionOps::new(*devnet.deployments(), devnet.chain_id(), owner, session_key);
        let (factory, query) = ops.account_query();
        let ops = ops.with_account(devnet.call_sol(factory, &query)?);
        Ok(Self { devnet, ops })
    }

    /// The owner's address.
    pub fn owner(&self) -> Address {
        self.ops.owner()
    }

    /// The session key's address.
    pub fn session_key(&self) -> Address {
        self.ops.session_key()
    }

    /// The owner's first op: deploys the account through the factory and installs SmartSession
    /// with the session (install data `0x01 ‖ abi.encode(Session[])`).
    pub fn create_account_op(&mut self) -> Result<PackedUserOperation, SessionWorldError> {
        let mut op = self.ops.create_account_user_op();
        self.ops.sign_owner(&mut op)?;
        Ok(op.pack())
    }

    /// An op with `call_data` signed in USE mode by `signer` (the session key, or another key
    /// to show a bad signature).
    pub fn session_op(
        &mut self,
        call_data: Bytes,
        signer: &PrivateKeySigner,
    ) -> Result<PackedUserOperation, SessionWorldError> {
        let nonce =
            self.devnet.entry_point_nonce(self.ops.account, self.ops.session_nonce_key())?;
        let mut op = self.ops.base_op(nonce, call_data);
        self.ops.sign_session(&mut op, signer)?;
        Ok(op.pack())
    }

    /// An op the session key signs for `calls` (single for one call, batch otherwise).
    pub fn use_session(
        &mut self,
        calls: &[Call],
    ) -> Result<PackedUserOperation, SessionWorldError> {
        self.use_session_calldata(execute_calls(calls))
    }

    /// An op the session key signs for any account calldata.
    pub fn use_session_calldata(
        &mut self,
        call_data: Bytes,
    ) -> Result<PackedUserOperation, SessionWorldError> {
        let nonce =
            self.devnet.entry_point_nonce(self.ops.account, self.ops.session_nonce_key())?;
        let mut op = self.ops.base_op(nonce, call_data);
        self.ops.sign_with_session_key(&mut op)?;
        Ok(op.pack())
    }

    /// The calls of the story: mint an NFT to the account.
    pub fn mint_call(&self) -> Call {
        self.ops.mint_call()
    }

    /// A `transfer(to, amount)` on the test ERC-20.
    pub fn transfer_call(&self, to: Address, amount: U256) -> Call {
        self.ops.transfer_call(to, amount)
    }

    /// An `approve(spender, amount)` on the test ERC-20: not in the session.
    pub fn approve_call(&self, spender: Address, amount: U256) -> Call {
        self.ops.approve_call(spender, amount)
    }

    /// `execute` with a delegatecall to `target`: SmartSession refuses the call type.
    pub fn delegatecall_data(&self, target: Address, data: &[u8]) -> Bytes {
        self.ops.delegatecall_data(target, data)
    }

    /// Mints test tokens to the account (a plain transaction from the deployer).
    pub fn fund_tokens(&mut self, amount: U256) -> Result<(), SessionWorldError> {
        let token = self.devnet.deployments().test_erc20;
        let account = self.ops.account;
        self.devnet.transact_sol(
            mandate_sim::DEPLOYER,
            token,
            &IERC20::mintCall { to: account, amount },
        )?;
        Ok(())
    }

    /// The test ERC-20 balance of `who`.
    pub fn token_balance(&mut self, who: Address) -> Result<U256, SessionWorldError> {
        let token = self.devnet.deployments().test_erc20;
        Ok(self.devnet.call_sol(token, &IERC20::balanceOfCall { owner: who })?)
    }

    /// The number of test NFTs `who` holds.
    pub fn nft_balance(&mut self, who: Address) -> Result<U256, SessionWorldError> {
        let nft = self.devnet.deployments().test_erc721;
        Ok(self.devnet.call_sol(nft, &IERC721::balanceOfCall { owner: who })?)
    }
}
