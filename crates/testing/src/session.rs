//! The ops of one account, its owner and its session key, built for any chain that has
//! Mandate's contracts: the devnet-free half of [`crate::world::World`], also sent as they are
//! to a real node through a bundler. Raw ops give tests exact control over each op (the
//! `mandate_client::SessionClient` is what applications use).
//!
//! The account is of one family ([`AccountType`], Mandate's own unless [`SessionOps::with_family`]
//! says otherwise): how it is created, how its owner's ops and SmartSession's are nonce-keyed and
//! SmartSession's install data are the family's, as `mandate_client::account::built_in` builds
//! them from mandate-abi's per-family encodings.

use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolValue};
use mandate_abi::{
    AccountType, ActionData, Call, CallType, ExecType, ModuleInit, PermissionId, PolicyData,
    Session, UserOperation,
    account::install_validator,
    encode_delegatecall, encode_use, execute_calldata, mode_code,
    sol::{IERC20, IERC721, IMandateAccountFactory},
};
use mandate_client::account::{AccountFamily, built_in};
use mandate_sim::DevnetDeployments;

use crate::op::Gas;

/// ENABLE mode byte that prefixes SmartSession's install data.
const INSTALL_MODE_ENABLE: u8 = 1;

/// An account (of one family, owned through K1Validator), its owner, a session key and the
/// fixed session, with the raw ops around them: the addresses and the chain id are all it
/// needs, so the same ops go to the embedded devnet ([`crate::world::World`]) or to a real node
/// through a bundler.
///
/// The fixed session allows `safeMint` on the test ERC-721 and `transfer` on the test ERC-20,
/// each under SudoPolicy; the account enables it when it is created with it
/// ([`Self::create_account_op`]).
pub struct SessionOps {
    /// Where the genesis contracts are.
    pub d: DevnetDeployments,
    /// The chain the ops are signed for.
    pub chain_id: u64,
    /// The account's owner (K1Validator).
    pub owner: PrivateKeySigner,
    /// The session key (of the fixed session, as built by [`Self::new`], and of the sessions
    /// [`crate::world::World::session`] builds).
    pub key: PrivateKeySigner,
    /// The account's address (counterfactual until the first op; zero until
    /// [`Self::with_account`] sets it).
    pub account: Address,
    /// Which SmartSession the account installs (ours unless a test swaps it).
    pub smart_session: Address,
    /// The factory salt of the account.
    pub salt: B256,
    /// The gas limits and fees of every op [`Self::base_op`] builds.
    pub gas: Gas,
    /// The fixed session.
    pub session: Session,
    /// Its permission id.
    pub permission_id: PermissionId,
    /// The account's family.
    pub account_type: AccountType,
    /// How that family creates, routes and signs (built from [`Self::d`]).
    pub family: Arc<dyn AccountFamily>,
}

impl std::fmt::Debug for SessionOps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionOps")
            .field("chain_id", &self.chain_id)
            .field("account_type", &self.account_type)
            .field("account", &self.account)
            .field("owner", &self.owner.address())
            .field("key", &self.key.address())
            .field("smart_session", &self.smart_session)
            .field("gas", &self.gas)
            .field("permission_id", &self.permission_id)
            .finish_non_exhaustive()
    }
}

impl SessionOps {
    /// An owner and a session key on a chain with `d`, with ops carrying `gas`; the account
    /// (Mandate's own, salt zero) installs our SmartSession. The account's address is zero until
    /// [`Self::with_account`] sets it to what the factory answers to [`Self::account_query`].
    pub fn new(
        d: DevnetDeployments,
        chain_id: u64,
        owner: PrivateKeySigner,
        key: PrivateKeySigner,
        gas: Gas,
    ) -> Self {
        let sudo = || vec![PolicyData { policy: d.chain.policies.sudo, initData: Bytes::new() }];
        let session = Session {
            sessionValidator: d.ecdsa_session_validator().expect("the devnet's ECDSA validator"),
            sessionValidatorInitData: Bytes::copy_from_slice(key.address().as_slice()),
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
        Self {
            d,
            chain_id,
            owner,
            key,
            account: Address::ZERO,
            smart_session: d.chain.smart_session,
            salt: B256::ZERO,
            gas,
            session,
            permission_id,
            account_type: AccountType::Mandate,
            family: built_in(AccountType::Mandate, &d),
        }
    }

    /// The account is of `account_type` (the devnet's contracts of that family, owned through
    /// K1Validator); call it before the account's address is known.
    pub fn with_family(mut self, account_type: AccountType) -> Self {
        self.account_type = account_type;
        self.family = built_in(account_type, &self.d);
        self
    }

    /// Lets the fixed session's ops be paid by an ERC-4337 paymaster
    /// (`permitERC4337Paymaster`, with SudoPolicy as the user-op policy SmartSession then
    /// requires); call it before the account is created.
    pub fn permit_paymaster(mut self) -> Self {
        self.session.permitERC4337Paymaster = true;
        let sudo = PolicyData { policy: self.d.chain.policies.sudo, initData: Bytes::new() };
        self.session.userOpPolicies.push(sudo);
        self.permission_id = PermissionId::of(&self.session);
        self
    }

    fn validators(&self) -> Vec<ModuleInit> {
        vec![ModuleInit {
            module: self.d.k1_validator,
            initData: Bytes::copy_from_slice(self.owner.address().as_slice()),
        }]
    }

    /// The factory and the `getAddress` call whose answer is the account's address (Mandate's
    /// account; another family's address is [`AccountFamily::address`] of [`Self::family`]).
    pub fn account_query(&self) -> (Address, IMandateAccountFactory::getAddressCall) {
        let call = IMandateAccountFactory::getAddressCall {
            validators: self.validators(),
            salt: self.salt,
        };
        (self.d.account_factory, call)
    }

    /// Sets the account's address.
    pub fn with_account(mut self, account: Address) -> Self {
        self.account = account;
        self
    }

    /// An unsigned op of the account with [`Self::gas`], no factory and no paymaster.
    pub fn base_op(&self, nonce: U256, call_data: Bytes) -> UserOperation {
        let gas = self.gas;
        UserOperation {
            sender: self.account,
            nonce,
            call_data,
            call_gas_limit: gas.call,
            verification_gas_limit: gas.verification,
            pre_verification_gas: U256::from(gas.pre_verification),
            max_fee_per_gas: gas.max_fee,
            max_priority_fee_per_gas: gas.max_priority_fee,
            ..Default::default()
        }
    }

    /// The owner's first op, unsigned: deploys the account through its family's factory and
    /// installs SmartSession with `sessions` enabled (SmartSession's init data `0x01 ‖
    /// abi.encode(Session[])`, none: empty, in the family's install envelope; on Safe7579 the
    /// install runs inside the launchpad's `setupSafe`).
    pub fn create_account_op(&self, sessions: Vec<Session>) -> UserOperation {
        let mut init = Vec::new();
        if !sessions.is_empty() {
            init.push(INSTALL_MODE_ENABLE);
            init.extend_from_slice(&sessions.abi_encode());
        }
        let install =
            install_validator(self.smart_session, self.family.smart_session_install_data(&init));
        let first = self.family.first_op(self.owner.address(), self.salt, install);
        // The first op's sequence number is 0: its nonce is the key alone, shifted in place.
        let mut op = self.base_op(self.owner_nonce_key() << 64usize, first.call_data);
        op.factory = Some(first.factory);
        op.factory_data = first.factory_data;
        op
    }

    /// The EntryPoint nonce key of the owner's ops (through K1Validator, or the root on Kernel).
    pub fn owner_nonce_key(&self) -> U256 {
        self.family.owner_nonce_key()
    }

    /// The EntryPoint nonce key that routes an op to SmartSession on the account's family.
    pub fn session_nonce_key(&self) -> U256 {
        self.family.validator_nonce_key(self.smart_session, 0).expect("lane 0 fits every family")
    }

    /// `op`'s user-op hash at the deployments' EntryPoint (v0.7's or v0.8's).
    pub fn user_op_hash(&self, op: &UserOperation) -> B256 {
        self.d.chain.user_op_hash(&op.pack(), self.chain_id).expect("no 0x7702 marker")
    }

    /// `signer`'s EIP-191 signature over `op`'s user-op hash.
    pub fn user_op_sig(
        &self,
        op: &UserOperation,
        signer: &PrivateKeySigner,
    ) -> Result<Vec<u8>, alloy_signer::Error> {
        let hash = self.user_op_hash(op);
        Ok(signer.sign_message_sync(hash.as_slice())?.as_bytes().to_vec())
    }

    /// Signs `op` as the owner (K1Validator: a personal-sign of the user-op hash, as the
    /// family has the owner sign it).
    pub fn sign_owner(&self, op: &mut UserOperation) -> Result<(), alloy_signer::Error> {
        let hash = self.user_op_hash(op);
        let message = self.family.owner_op_message(hash);
        let sig = self.owner.sign_message_sync(message.as_slice())?;
        op.signature = self.family.owner_op_signature(&sig.as_bytes());
        Ok(())
    }

    /// Signs `op` in USE mode of `permission_id` with `signer` (the session key, or another key
    /// to show a bad signature).
    pub fn sign_use(
        &self,
        permission_id: PermissionId,
        signer: &PrivateKeySigner,
        op: &mut UserOperation,
    ) -> Result<(), alloy_signer::Error> {
        op.signature = encode_use(permission_id, &self.user_op_sig(op, signer)?);
        Ok(())
    }

    /// The calls of the story: mint an NFT to the account.
    pub fn mint_call(&self) -> Call {
        Call::new(self.d.test_erc721, IERC721::safeMintCall { to: self.account }.abi_encode())
    }

    /// A `transfer(to, amount)` on the test ERC-20.
    pub fn transfer_call(&self, to: Address, amount: U256) -> Call {
        Call::new(self.d.test_erc20, IERC20::transferCall { to, amount }.abi_encode())
    }

    /// An `approve(spender, amount)` on the test ERC-20: not in the fixed session.
    pub fn approve_call(&self, spender: Address, amount: U256) -> Call {
        Call::new(self.d.test_erc20, IERC20::approveCall { spender, amount }.abi_encode())
    }

    /// `execute` with a delegatecall to `target`: SmartSession refuses the call type.
    pub fn delegatecall_data(&self, target: Address, data: &[u8]) -> Bytes {
        execute_calldata(
            mode_code(CallType::DelegateCall, ExecType::Default),
            encode_delegatecall(target, data),
        )
    }
}
