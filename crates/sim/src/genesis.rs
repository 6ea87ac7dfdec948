//! The genesis plan: the ordered deployments that put the EntryPoint and Mandate's contracts (or
//! the legacy Biconomy v2 stack) on a chain, written once and run by two executors — revm, for
//! the embedded [`Devnet`](crate::Devnet), and a JSON-RPC node through alloy-provider
//! ([`deploy_on_node`]) — so that both chains hold the same contracts by construction, each
//! at its deployer's `CREATE` addresses in the plan's order.
//!
//! ```
//! use mandate_sim::{Devnet, genesis};
//!
//! let devnet = Devnet::new()?;
//! // The devnet's genesis is the plan, run by revm.
//! assert_eq!(genesis::mandate().deploys().count(), 31);
//! assert_eq!(devnet.deployments().chain.entry_point, mandate_abi::ENTRY_POINT_V07);
//! # Ok::<(), mandate_sim::SimError>(())
//! ```

use alloy_dyn_abi::DynSolValue;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_provider::{
    Network, PendingTransactionError, Provider,
    ext::AnvilApi,
    network::{Ethereum, ReceiptResponse, TransactionBuilder},
    transport::TransportError,
};
use alloy_sol_types::SolCall;
#[cfg(feature = "legacy-v2")]
use mandate_abi::legacy_v2::ENTRY_POINT_V06;
use mandate_abi::{ENTRY_POINT_V07, ENTRY_POINT_V08, sol::IEntryPoint};
#[cfg(feature = "legacy-v2")]
use mandate_contracts::legacy_v2_artifacts;
use mandate_contracts::{ArtifactError, artifacts, modulekit_artifacts, names, v08_artifacts};

use crate::{
    BLOCK_GAS_LIMIT, DevnetDeployments, PAYMASTER_DEPOSIT, PAYMASTER_SIGNER, fork::without_url,
};
#[cfg(feature = "legacy-v2")]
use mandate_abi::legacy_v2::LegacyV2Deployments;

/// Storage slots of a relocated contract that [`deploy_on_node`] copies (a node has no call
/// that lists an account's storage; the EntryPoints' constructors write only low slots).
const RELOCATED_SLOTS: u64 = 16;

type TransactionRequest = <Ethereum as Network>::TransactionRequest;

/// Which embedded artifact file a contract is compiled in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArtifactSet {
    /// [`mandate_contracts::artifacts`].
    Mandate,
    /// [`mandate_contracts::legacy_v2_artifacts`].
    #[cfg(feature = "legacy-v2")]
    LegacyV2,
    /// [`mandate_contracts::modulekit_artifacts`]: the smart-account families.
    Modulekit,
    /// [`mandate_contracts::v08_artifacts`]: the EntryPoint v0.8.
    V08,
}

impl ArtifactSet {
    /// The creation bytecode of the contract `name` in this set.
    pub fn bytecode(self, name: &str) -> Result<&'static Bytes, ArtifactError> {
        match self {
            Self::Mandate => Ok(&artifacts().get(name)?.bytecode),
            #[cfg(feature = "legacy-v2")]
            Self::LegacyV2 => Ok(&legacy_v2_artifacts().get(name)?.bytecode),
            Self::Modulekit => Ok(&modulekit_artifacts().get(name)?.bytecode),
            Self::V08 => Ok(&v08_artifacts().get(name)?.bytecode),
        }
    }
}

/// A constructor argument, ABI-encoded with the others as the constructor's parameters.
#[derive(Clone, Copy, Debug)]
pub enum Arg<D> {
    /// A fixed address.
    Address(Address),
    /// Where an earlier step put a contract (read from the deployments built so far).
    Deployed(fn(&D) -> Address),
    /// The account that runs the plan.
    Deployer,
    /// `bytes`: the creation bytecode of another contract (a factory that deploys it).
    Creation(ArtifactSet, &'static str),
}

/// One step of a [`Plan`] producing deployments `D`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Step<D> {
    /// Deploys `name` of `set` from the deployer with ABI-encoded `args`, and records its
    /// address in `field`.
    Deploy {
        /// The artifact file.
        set: ArtifactSet,
        /// The contract's name in it.
        name: &'static str,
        /// Its constructor arguments.
        args: Vec<Arg<D>>,
        /// Where its address goes.
        field: fn(&mut D) -> &mut Address,
    },
    /// Moves the code and storage of the EntryPoint recorded in `field` to `target` (its
    /// canonical address) and records `target` there instead (on a node, which cannot delete
    /// an account, the deployed copy stays behind). The EntryPoint's SenderCreator
    /// stays where its constructor created it (its address is an immutable of the runtime); a
    /// copy of its code goes to `target.create(1)`, where the EntryPoint's own first `CREATE`
    /// would put it and where ERC-4337's simulation contracts look for it.
    Relocate {
        /// The contract's name (labels errors).
        name: &'static str,
        /// The contract moved.
        field: fn(&mut D) -> &mut Address,
        /// Where it goes.
        target: Address,
    },
    /// Runs the constructor of `name` of `set` (no arguments) at `target` itself: `target`
    /// holds the creation code with nonce 1 (a new contract's), the deployer calls it, and the
    /// runtime code the constructor returns replaces it. So the immutables are what a
    /// deployment at `target` gives (the address the EntryPoint v0.8's EIP-712 domain caches,
    /// its SenderCreator at `target.create(1)`, whose own immutable `entryPoint` is `target`)
    /// — where [`Step::Relocate`] would leave them naming the deployer's address.
    Construct {
        /// The artifact file.
        set: ArtifactSet,
        /// The contract's name in it.
        name: &'static str,
        /// Where it is constructed.
        target: Address,
    },
    /// The deployer deposits `value` wei for `account` at `entry_point` (`depositTo`).
    Deposit {
        /// The EntryPoint.
        entry_point: fn(&D) -> Address,
        /// The account credited (a paymaster): `None` if the plan has not deployed it yet,
        /// which stops the plan.
        account: fn(&D) -> Option<Address>,
        /// Wei.
        value: U256,
    },
}

/// An ordered list of [`Step`]s whose result is the deployments `D`.
#[derive(Clone, Debug)]
pub struct Plan<D> {
    steps: Vec<Step<D>>,
}

impl<D> Plan<D> {
    /// The steps, in order.
    pub fn steps(&self) -> &[Step<D>] {
        &self.steps
    }

    /// The contracts deployed, in order: `(set, name)`.
    pub fn deploys(&self) -> impl Iterator<Item = (ArtifactSet, &'static str)> + '_ {
        self.steps.iter().filter_map(|step| match step {
            Step::Deploy { set, name, .. } => Some((*set, *name)),
            _ => None,
        })
    }
}

fn deploy<D>(
    set: ArtifactSet,
    name: &'static str,
    args: Vec<Arg<D>>,
    field: fn(&mut D) -> &mut Address,
) -> Step<D> {
    Step::Deploy { set, name, args, field }
}

/// The EntryPoint v0.7 (at [`ENTRY_POINT_V07`]), Smart Sessions, its policies and validators, the
/// account and its factory, the test tokens, the VerifyingPaymaster (signer
/// [`PAYMASTER_SIGNER`], [`PAYMASTER_DEPOSIT`] deposited), then the smart-account families
/// (Nexus, Kernel v3.1, Safe 1.4.1 + Safe7579, MSAAdvanced; see [`crate::families`]) and the
/// EntryPoint v0.8 (constructed at [`ENTRY_POINT_V08`]) with Mandate's account and factory for
/// it: the embedded devnet's genesis.
pub fn mandate() -> Plan<DevnetDeployments> {
    use ArtifactSet::{Mandate, Modulekit};
    use names::modulekit as mk;
    let none = Vec::new;
    Plan {
        steps: vec![
            deploy(Mandate, names::ENTRY_POINT, none(), |d| &mut d.chain.entry_point),
            Step::Relocate {
                name: names::ENTRY_POINT,
                field: |d| &mut d.chain.entry_point,
                target: ENTRY_POINT_V07,
            },
            deploy(Mandate, names::SMART_SESSION, none(), |d| &mut d.chain.smart_session),
            deploy(Mandate, names::SUDO_POLICY, none(), |d| &mut d.chain.policies.sudo),
            deploy(Mandate, names::ECDSA_SESSION_VALIDATOR, none(), |d| {
                d.chain.session_validators.ecdsa.insert(Address::ZERO)
            }),
            deploy(Mandate, names::K1_VALIDATOR, none(), |d| &mut d.k1_validator),
            deploy(Mandate, names::ACCOUNT, vec![Arg::Deployed(|d| d.chain.entry_point)], |d| {
                &mut d.account_implementation
            }),
            deploy(
                Mandate,
                names::ACCOUNT_FACTORY,
                vec![Arg::Deployed(|d| d.account_implementation)],
                |d| &mut d.account_factory,
            ),
            deploy(Mandate, names::TEST_ERC20, none(), |d| &mut d.test_erc20),
            deploy(Mandate, names::TEST_ERC721, none(), |d| &mut d.test_erc721),
            deploy(Mandate, names::UNI_ACTION_POLICY, none(), |d| &mut d.chain.policies.uni_action),
            deploy(Mandate, names::TIME_FRAME_POLICY, none(), |d| &mut d.chain.policies.time_frame),
            deploy(Mandate, names::ERC20_SPENDING_LIMIT_POLICY, none(), |d| {
                &mut d.chain.policies.erc20_spending_limit
            }),
            deploy(Mandate, names::USAGE_LIMIT_POLICY, none(), |d| {
                &mut d.chain.policies.usage_limit
            }),
            deploy(Mandate, names::VALUE_LIMIT_POLICY, none(), |d| {
                &mut d.chain.policies.value_limit
            }),
            deploy(
                Mandate,
                names::VERIFYING_PAYMASTER,
                vec![Arg::Deployed(|d| d.chain.entry_point), Arg::Address(PAYMASTER_SIGNER)],
                |d| d.chain.paymaster.insert(Address::ZERO),
            ),
            Step::Deposit {
                entry_point: |d| d.chain.entry_point,
                account: |d| d.chain.paymaster,
                value: U256::from(PAYMASTER_DEPOSIT),
            },
            deploy(Modulekit, mk::NEXUS, vec![Arg::Deployed(|d| d.chain.entry_point)], |d| {
                &mut d.families.nexus.implementation
            }),
            deploy(
                Modulekit,
                mk::NEXUS_ACCOUNT_FACTORY,
                vec![Arg::Deployed(|d| d.families.nexus.implementation), Arg::Deployer],
                |d| &mut d.families.nexus.factory,
            ),
            deploy(Modulekit, mk::NEXUS_BOOTSTRAP, none(), |d| &mut d.families.nexus.bootstrap),
            deploy(Modulekit, mk::KERNEL, vec![Arg::Deployed(|d| d.chain.entry_point)], |d| {
                &mut d.families.kernel.implementation
            }),
            deploy(
                Modulekit,
                mk::KERNEL_FACTORY,
                vec![Arg::Deployed(|d| d.families.kernel.implementation)],
                |d| &mut d.families.kernel.factory,
            ),
            deploy(Modulekit, mk::SAFE7579, none(), |d| &mut d.families.safe.adapter),
            deploy(
                Modulekit,
                mk::SAFE7579_LAUNCHPAD,
                // No ERC-7484 registry: with one, installing an unattested module reverts.
                vec![Arg::Deployed(|d| d.chain.entry_point), Arg::Address(Address::ZERO)],
                |d| &mut d.families.safe.launchpad,
            ),
            deploy(Modulekit, mk::SAFE_SINGLETON, none(), |d| &mut d.families.safe.singleton),
            deploy(Modulekit, mk::SAFE_PROXY_FACTORY, none(), |d| {
                &mut d.families.safe.proxy_factory
            }),
            deploy(Modulekit, mk::MSA, none(), |d| &mut d.families.msa.implementation),
            deploy(Modulekit, mk::MSA_BOOTSTRAP, none(), |d| &mut d.families.msa.bootstrap),
            deploy(
                Mandate,
                names::MSA_PROXY_FACTORY,
                vec![
                    Arg::Deployed(|d| d.families.msa.implementation),
                    Arg::Creation(Modulekit, mk::MSA_PROXY),
                ],
                |d| &mut d.families.msa.factory,
            ),
            deploy(Mandate, names::COMPATIBILITY_FALLBACK, none(), |d| {
                d.chain.compatibility_fallback.insert(Address::ZERO)
            }),
            deploy(Mandate, names::OWNABLE_VALIDATOR, none(), |d| {
                d.chain.session_validators.ownable.insert(Address::ZERO)
            }),
            // Last, so that the deployer's CREATE addresses above stay as they were.
            Step::Construct {
                set: ArtifactSet::V08,
                name: names::v08::ENTRY_POINT,
                target: ENTRY_POINT_V08,
            },
            // Mandate's account for the v0.8 EntryPoint (its EntryPoint is an immutable of the
            // implementation) and a factory of proxies to it.
            deploy(Mandate, names::ACCOUNT, vec![Arg::Address(ENTRY_POINT_V08)], |d| {
                &mut d.v08.account_implementation
            }),
            deploy(
                Mandate,
                names::ACCOUNT_FACTORY,
                vec![Arg::Deployed(|d| d.v08.account_implementation)],
                |d| &mut d.v08.account_factory,
            ),
        ],
    }
}

#[cfg(feature = "legacy-v2")]
/// The Biconomy v2 stack: the EntryPoint v0.6 (at [`ENTRY_POINT_V06`]), Smart Account v2 and
/// its factory (owned by the deployer), the ECDSA module, the Session Key Manager, the batched
/// router, the ERC-20 session validation module and Mandate's ABI session validation module.
pub fn legacy_v2() -> Plan<LegacyV2Deployments> {
    use ArtifactSet::{LegacyV2, Mandate};
    use names::legacy_v2::*;
    let none = Vec::new;
    let mut steps = entry_point_v06().steps;
    steps.extend([
        deploy(
            LegacyV2,
            SMART_ACCOUNT,
            vec![Arg::Deployed(|d: &LegacyV2Deployments| d.entry_point)],
            |d| &mut d.account_implementation,
        ),
        deploy(
            LegacyV2,
            SMART_ACCOUNT_FACTORY,
            vec![Arg::Deployed(|d| d.account_implementation), Arg::Deployer],
            |d| &mut d.account_factory,
        ),
        deploy(LegacyV2, ECDSA_OWNERSHIP_MODULE, none(), |d| &mut d.ecdsa_module),
        deploy(LegacyV2, SESSION_KEY_MANAGER, none(), |d| &mut d.session_key_manager),
        deploy(LegacyV2, BATCHED_SESSION_ROUTER, none(), |d| &mut d.batched_session_router),
        deploy(LegacyV2, ERC20_SESSION_VALIDATION_MODULE, none(), |d| &mut d.erc20_svm),
        deploy(Mandate, names::ABI_SESSION_VALIDATION_MODULE, none(), |d| &mut d.abi_svm),
    ]);
    Plan { steps }
}

#[cfg(feature = "legacy-v2")]
/// The EntryPoint v0.6 alone (at [`ENTRY_POINT_V06`]), the first steps of [`legacy_v2`]: for
/// what reads all three EntryPoints (a paymaster service with a paymaster on each).
pub fn entry_point_v06() -> Plan<LegacyV2Deployments> {
    use names::legacy_v2::ENTRY_POINT;
    Plan {
        steps: vec![
            deploy(ArtifactSet::LegacyV2, ENTRY_POINT, Vec::new(), |d| &mut d.entry_point),
            Step::Relocate {
                name: ENTRY_POINT,
                field: |d| &mut d.entry_point,
                target: ENTRY_POINT_V06,
            },
        ],
    }
}

/// The creation code of a [`Step::Deploy`]: the contract's bytecode and its arguments,
/// ABI-encoded as the constructor's parameters.
pub(crate) fn creation_code<D>(
    set: ArtifactSet,
    name: &str,
    args: &[Arg<D>],
    built: &D,
    deployer: Address,
) -> Result<Bytes, ArtifactError> {
    let mut values = Vec::with_capacity(args.len());
    for arg in args {
        values.push(match arg {
            Arg::Address(address) => DynSolValue::Address(*address),
            Arg::Deployed(of) => DynSolValue::Address(of(built)),
            Arg::Deployer => DynSolValue::Address(deployer),
            Arg::Creation(set, name) => DynSolValue::Bytes(set.bytecode(name)?.to_vec()),
        });
    }
    let mut code = set.bytecode(name)?.to_vec();
    code.extend_from_slice(&DynSolValue::Tuple(values).abi_encode_params());
    Ok(code.into())
}

/// The calldata of a [`Step::Deposit`].
pub(crate) fn deposit_calldata(account: Address) -> Bytes {
    IEntryPoint::depositToCall { account }.abi_encode().into()
}

/// What can go wrong running a [`Plan`] on a node. No variant holds the node's URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeDeployError {
    /// A contract is missing from the embedded artifacts.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// A request to the node failed.
    #[error("node request failed: {0}")]
    Rpc(#[source] TransportError),
    /// A transaction's receipt never came.
    #[error("waiting for a receipt: {0}")]
    Pending(#[source] PendingTransactionError),
    /// A transaction of the plan reverted.
    #[error("the transaction for {step} failed (transaction {tx_hash})")]
    Failed {
        /// The contract deployed, or the call made.
        step: &'static str,
        /// The transaction.
        tx_hash: B256,
    },
    /// A deployment left no code, or its receipt named no contract.
    #[error("deploying {0} left no code")]
    NoCode(&'static str),
    /// The node's URL does not parse (it is not repeated: URLs carry API keys).
    #[error("the node URL is not a valid URL")]
    Url,
    /// A step names a contract the plan has not deployed before it.
    #[error("{0} names a contract not deployed before it")]
    NotDeployed(&'static str),
    /// A relocated or constructed EntryPoint had created no SenderCreator.
    #[error("{0} created no SenderCreator")]
    NoSenderCreator(&'static str),
}

impl From<TransportError> for NodeDeployError {
    fn from(e: TransportError) -> Self {
        Self::Rpc(without_url(e))
    }
}

/// Runs `plan` on the node behind `provider`, from `deployer`, and returns where the contracts
/// are. Each transaction is sent with `eth_sendTransaction` unless the provider has a wallet
/// (then it is signed locally): `deployer` must be an account the node signs for (anvil's dev
/// accounts) or the provider's signer. Relocation uses anvil's `anvil_setCode` and
/// `anvil_setStorageAt` (anvil, or a node with the same cheat calls).
pub async fn deploy_on_node<D, P>(
    provider: &P,
    deployer: Address,
    plan: &Plan<D>,
) -> Result<D, NodeDeployError>
where
    D: Default,
    P: Provider<Ethereum>,
{
    let mut built = D::default();
    for step in plan.steps() {
        match step {
            Step::Deploy { set, name, args, field } => {
                let code = creation_code(*set, name, args, &built, deployer)?;
                let tx = TransactionRequest::default().with_deploy_code(code);
                let receipt = send(provider, deployer, tx, name).await?;
                let address = receipt.ok_or(NodeDeployError::NoCode(name))?;
                if provider.get_code_at(address).await?.is_empty() {
                    return Err(NodeDeployError::NoCode(name));
                }
                *field(&mut built) = address;
            }
            Step::Relocate { name, field, target } => {
                let deployed = *field(&mut built);
                let code = provider.get_code_at(deployed).await?;
                provider.anvil_set_code(*target, code).await?;
                for slot in 0..RELOCATED_SLOTS {
                    let slot = U256::from(slot);
                    let value = provider.get_storage_at(deployed, slot).await?;
                    if !value.is_zero() {
                        provider.anvil_set_storage_at(*target, slot, B256::from(value)).await?;
                    }
                }
                let sender_creator = provider.get_code_at(deployed.create(1)).await?;
                if sender_creator.is_empty() {
                    return Err(NodeDeployError::NoSenderCreator(name));
                }
                provider.anvil_set_code(target.create(1), sender_creator).await?;
                *field(&mut built) = *target;
            }
            Step::Construct { set, name, target } => {
                provider.anvil_set_code(*target, set.bytecode(name)?.clone()).await?;
                provider.anvil_set_nonce(*target, 1).await?;
                let tx = TransactionRequest::default().with_from(deployer).with_to(*target);
                let runtime = provider.call(tx.clone().with_gas_limit(BLOCK_GAS_LIMIT)).await?;
                send(provider, deployer, tx, name).await?;
                if runtime.is_empty() {
                    return Err(NodeDeployError::NoCode(name));
                }
                provider.anvil_set_code(*target, runtime).await?;
                if provider.get_code_at(target.create(1)).await?.is_empty() {
                    return Err(NodeDeployError::NoSenderCreator(name));
                }
            }
            Step::Deposit { entry_point, account, value } => {
                let account = account(&built).ok_or(NodeDeployError::NotDeployed("depositTo"))?;
                let tx = TransactionRequest::default()
                    .with_to(entry_point(&built))
                    .with_value(*value)
                    .with_input(deposit_calldata(account));
                send(provider, deployer, tx, "depositTo").await?;
            }
        }
    }
    Ok(built)
}

/// Runs `plan` on the node at `rpc_url` with transactions signed by `deployer` (its address
/// pays for them): [`deploy_on_node`] through a provider with the key as its wallet. The node
/// must take anvil's `anvil_setCode` / `anvil_setStorageAt` (the EntryPoint is placed at its
/// canonical address) and contracts past EIP-170 (anvil's `--code-size-limit`).
pub async fn deploy_with_key<D: Default>(
    rpc_url: &str,
    deployer: alloy_signer_local::PrivateKeySigner,
    plan: &Plan<D>,
) -> Result<D, NodeDeployError> {
    let url: url::Url = rpc_url.parse().map_err(|_| NodeDeployError::Url)?;
    let from = deployer.address();
    let provider = alloy_provider::ProviderBuilder::new().wallet(deployer).connect_http(url);
    deploy_on_node(&provider, from, plan).await
}

/// Sends `tx` from `deployer` (gas limit [`BLOCK_GAS_LIMIT`]) and waits for its receipt; the
/// contract it created, if any.
async fn send<P: Provider<Ethereum>>(
    provider: &P,
    deployer: Address,
    tx: TransactionRequest,
    step: &'static str,
) -> Result<Option<Address>, NodeDeployError> {
    let tx = tx.with_from(deployer).with_gas_limit(BLOCK_GAS_LIMIT);
    let receipt =
        provider.send_transaction(tx).await?.get_receipt().await.map_err(|e| match e {
            PendingTransactionError::TransportError(e) => NodeDeployError::from(e),
            e => NodeDeployError::Pending(e),
        })?;
    if !receipt.status() {
        return Err(NodeDeployError::Failed { step, tx_hash: receipt.transaction_hash() });
    }
    Ok(receipt.contract_address())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DEPLOYER, Devnet};

    #[test]
    fn the_devnet_holds_the_plan_at_the_deployers_create_addresses() {
        let devnet = Devnet::new().expect("genesis");
        let d = *devnet.deployments();
        // The EntryPoint is the deployer's first creation, moved; the rest follow in order.
        assert_eq!(d.chain.entry_point, ENTRY_POINT_V07);
        assert_eq!(d.chain.smart_session, DEPLOYER.create(1));
        assert_eq!(d.account_implementation, DEPLOYER.create(5));
        assert_eq!(d.account_factory, DEPLOYER.create(6));
        assert_eq!(d.chain.paymaster, Some(DEPLOYER.create(14)));
        assert!(devnet.has_code(ENTRY_POINT_V07.create(1)), "SenderCreator copy");
        // After the call that constructs the EntryPoint v0.8 (nonce 30): its account, factory.
        assert_eq!(d.v08.account_implementation, DEPLOYER.create(31));
        assert_eq!(d.v08.account_factory, DEPLOYER.create(32));
        let v08 = d.on_entry_point(mandate_abi::EntryPointVersion::V08);
        assert_eq!(v08.chain.entry_point, ENTRY_POINT_V08);
        assert_eq!(v08.account_factory, d.v08.account_factory);
        assert_eq!(v08.chain.paymaster, None);
        assert_eq!(d.on_entry_point(mandate_abi::EntryPointVersion::V07), d);
    }

    alloy_sol_types::sol! {
        function senderCreator() external view returns (address);
        function entryPoint() external view returns (address);
        function getDomainSeparatorV4() external view returns (bytes32);
    }

    #[test]
    fn the_entry_point_v08_is_constructed_at_its_canonical_address() {
        let mut devnet = Devnet::new().expect("genesis");
        // Its SenderCreator is its first CREATE (nonce 1), as on every chain it is deployed on.
        let sender_creator = devnet.call_sol(ENTRY_POINT_V08, &senderCreatorCall {}).expect("v0.8");
        assert_eq!(sender_creator, ENTRY_POINT_V08.create(1));
        assert_eq!(
            sender_creator,
            alloy_primitives::address!("0x449ED7C3e6Fee6a97311d4b55475DF59C44AdD33"),
            "the canonical deployment's SenderCreator"
        );
        // Its immutable `entryPoint` is the canonical address (a relocated copy would name the
        // deployer's CREATE address and refuse the EntryPoint's calls: AA97).
        let owner = devnet.call_sol(sender_creator, &entryPointCall {}).expect("SenderCreator");
        assert_eq!(owner, ENTRY_POINT_V08);
        let separator =
            devnet.call_sol(ENTRY_POINT_V08, &getDomainSeparatorV4Call {}).expect("domain");
        let domain = alloy_sol_types::eip712_domain! {
            name: "ERC4337",
            version: "1",
            chain_id: devnet.chain_id(),
            verifying_contract: ENTRY_POINT_V08,
        };
        assert_eq!(separator, domain.separator());
        // The runtime is the compiled one with its immutables filled in.
        let runtime = devnet.account_info(ENTRY_POINT_V08).code.expect("code").original_bytes();
        let compiled =
            &v08_artifacts().get(names::v08::ENTRY_POINT).expect("v0.8").deployed_bytecode;
        assert_eq!(runtime.len(), compiled.len());
        assert!(runtime != *compiled, "immutables are set");
        // v0.7 is still there beside it, its own.
        let v07 = devnet.account_info(ENTRY_POINT_V07).code.expect("code").original_bytes();
        let v07_len = artifacts().get(names::ENTRY_POINT).expect("v0.7").deployed_bytecode.len();
        assert_eq!(v07.len(), v07_len);
    }

    alloy_sol_types::sol! {
        function computeAccountAddress(bytes initData, bytes32 salt) external view returns (address);
        function getAddress(bytes data, bytes32 salt) external view returns (address);
        function accountId() external view returns (string);
    }

    #[test]
    fn the_families_follow_the_deposit_with_code_and_answering_factories() {
        let mut devnet = Devnet::new().expect("genesis");
        let f = devnet.deployments().families;
        // After the paymaster's deposit (nonce 15), in the plan's order.
        assert_eq!(f.nexus.implementation, DEPLOYER.create(16));
        assert_eq!(f.kernel.factory, DEPLOYER.create(20));
        assert_eq!(f.msa.bootstrap, DEPLOYER.create(26));
        assert_eq!(f.msa.factory, DEPLOYER.create(27));
        let fallback = devnet.deployments().chain.compatibility_fallback.expect("fallback");
        assert_eq!(fallback, DEPLOYER.create(28));
        let ownable = devnet.deployments().chain.session_validators.ownable;
        assert_eq!(ownable, Some(DEPLOYER.create(29)), "the OwnableValidator, last");
        let all = [
            ("Nexus", f.nexus.implementation),
            ("NexusAccountFactory", f.nexus.factory),
            ("NexusBootstrap", f.nexus.bootstrap),
            ("Kernel", f.kernel.implementation),
            ("KernelFactory", f.kernel.factory),
            ("Safe7579", f.safe.adapter),
            ("Safe7579Launchpad", f.safe.launchpad),
            ("SafeSingleton", f.safe.singleton),
            ("SafeProxyFactory", f.safe.proxy_factory),
            ("MSAAdvanced", f.msa.implementation),
            ("MSABootstrap", f.msa.bootstrap),
            ("MSAProxyFactory", f.msa.factory),
            ("CompatibilityFallback", fallback),
        ];
        for (name, address) in all {
            let size = devnet.account_info(address).code.map_or(0, |c| c.original_bytes().len());
            assert!(size > 0, "{name} has no code");
            println!("{name:<20} {address} runtime {size:>6} bytes");
        }
        // Over EIP-170: deployable only with the devnet's raised limit.
        let runtime = |a| devnet.account_info(a).code.map_or(0, |c| c.original_bytes().len());
        assert_eq!(runtime(f.kernel.implementation), 28_581);
        assert_eq!(runtime(f.msa.implementation), 30_081);

        let salt = B256::with_last_byte(7);
        let nexus = devnet
            .call_sol(f.nexus.factory, &computeAccountAddressCall { initData: Bytes::new(), salt })
            .expect("Nexus factory answers");
        let kernel = devnet
            .call_sol(f.kernel.factory, &getAddressCall { data: Bytes::new(), salt })
            .expect("Kernel factory answers");
        assert_ne!(nexus, Address::ZERO);
        assert_ne!(kernel, Address::ZERO);
        assert_ne!(nexus, kernel);
        let id = devnet.call_sol(f.msa.implementation, &accountIdCall {}).expect("accountId");
        assert_eq!(id, "uMSA.advanced/withHook.v0.1");
    }

    #[cfg(feature = "legacy-v2")]
    #[test]
    fn the_v2_stack_follows_at_the_deployers_next_create_addresses() {
        let mut devnet = Devnet::new().expect("genesis");
        // After the paymaster's deposit (nonce 15), the families (16..=28), the OwnableValidator
        // (29), the call that constructs the EntryPoint v0.8 (30) and the v0.8 account and
        // factory (31, 32), the v2 stack.
        let v2 = devnet.deploy_legacy_v2().expect("v2");
        assert_eq!(v2.entry_point, ENTRY_POINT_V06);
        assert_eq!(v2.account_implementation, DEPLOYER.create(34));
        assert_eq!(v2.abi_svm, DEPLOYER.create(40));
        assert!(devnet.has_code(ENTRY_POINT_V06.create(1)), "SenderCreator copy");
        assert_eq!(mandate().deploys().count() + legacy_v2().deploys().count(), 39);
    }
}
