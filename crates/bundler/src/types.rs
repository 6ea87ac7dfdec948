//! The v0.7 JSON-RPC shapes bundlers and paymaster services speak.
//!
//! Field names follow ERC-7769 (v0.7 and v0.8 unpacked user operations; v0.8 adds
//! `eip7702Auth`, the sender's signed EIP-7702 authorization). Reading is lenient: optional
//! fields may be absent or `null`, quantities may be hex, decimal or numbers, and fields a
//! bundler adds (extra receipt fields) are ignored.

use alloy_primitives::{Address, B256, Bytes, U256};
use mandate_abi::{
    UserOperation,
    alloy_eip7702::{Authorization, SignedAuthorization},
};
use serde::{Deserialize, Serialize};

use mandate_abi::json::rpc as quantity;

/// A v0.7 user operation as JSON-RPC carries it (unpacked fields, hex quantities).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcUserOperation {
    /// The account.
    pub sender: Address,
    /// Key and sequence.
    #[serde(with = "quantity::u256")]
    pub nonce: U256,
    /// Factory deploying the account, or v0.8's EIP-7702 marker, if any.
    #[serde(default, with = "opt_factory", skip_serializing_if = "Option::is_none")]
    pub factory: Option<Factory>,
    /// Calldata for the factory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factory_data: Option<Bytes>,
    /// Calldata for the account.
    pub call_data: Bytes,
    /// Gas for the execution phase.
    #[serde(with = "quantity::u256")]
    pub call_gas_limit: U256,
    /// Gas for the validation phase.
    #[serde(with = "quantity::u256")]
    pub verification_gas_limit: U256,
    /// Gas paid beyond what is metered.
    #[serde(with = "quantity::u256")]
    pub pre_verification_gas: U256,
    /// EIP-1559 fee cap.
    #[serde(with = "quantity::u256")]
    pub max_fee_per_gas: U256,
    /// EIP-1559 tip.
    #[serde(with = "quantity::u256")]
    pub max_priority_fee_per_gas: U256,
    /// Paymaster, if any.
    #[serde(default, with = "quantity::opt_address", skip_serializing_if = "Option::is_none")]
    pub paymaster: Option<Address>,
    /// Gas for the paymaster's validation.
    #[serde(default, with = "quantity::opt_u256", skip_serializing_if = "Option::is_none")]
    pub paymaster_verification_gas_limit: Option<U256>,
    /// Gas for the paymaster's postOp.
    #[serde(default, with = "quantity::opt_u256", skip_serializing_if = "Option::is_none")]
    pub paymaster_post_op_gas_limit: Option<U256>,
    /// Data for the paymaster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paymaster_data: Option<Bytes>,
    /// The account's signature.
    pub signature: Bytes,
    /// The sender's signed EIP-7702 authorization, sent with a v0.8 op whose sender is an EOA
    /// to be delegated in the same bundle; absent otherwise (and never written when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eip7702_auth: Option<RpcAuthorization>,
}

/// The `factory` of an ERC-7769 user operation: a factory contract, or the EIP-7702 marker of a
/// v0.8 op whose sender is a delegated EOA (JSON: Alto 0.0.20 accepts and writes the literal
/// `"0x7702"`, and writes the marker padded to an address, `0x7702` and 18 zero bytes, when it
/// unpacks an included op's initCode; both read as the marker, which is written `"0x7702"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Factory {
    /// A factory contract that deploys the account.
    Address(Address),
    /// The `0x7702` marker: the sender is an EOA with an EIP-7702 delegate.
    Eip7702Marker,
}

impl Factory {
    /// The marker as JSON-RPC writes it.
    pub const EIP7702_LITERAL: &'static str = "0x7702";

    /// The factory as it goes into a [`UserOperation`] (and so the initCode): the marker as
    /// [`mandate_abi::EIP7702_FACTORY_MARKER`].
    pub const fn address(self) -> Address {
        match self {
            Self::Address(a) => a,
            Self::Eip7702Marker => mandate_abi::EIP7702_FACTORY_MARKER,
        }
    }

    /// The factory of a [`UserOperation`]'s address: the marker for
    /// [`mandate_abi::EIP7702_FACTORY_MARKER`].
    pub fn from_address(address: Address) -> Self {
        if address == mandate_abi::EIP7702_FACTORY_MARKER {
            Self::Eip7702Marker
        } else {
            Self::Address(address)
        }
    }
}

/// The `factory` field: checksummed address or `"0x7702"`; read from either, or `null`, `""`,
/// `"0x"` or the zero address for none.
mod opt_factory {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use super::{Address, Factory};

    pub(super) fn serialize<S: Serializer>(
        value: &Option<Factory>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(Factory::Address(a)) => s.serialize_str(&a.to_checksum(None)),
            Some(Factory::Eip7702Marker) => s.serialize_str(Factory::EIP7702_LITERAL),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Factory>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) if s.is_empty() || s == "0x" => Ok(None),
            Some(s) if s.eq_ignore_ascii_case(Factory::EIP7702_LITERAL) => {
                Ok(Some(Factory::Eip7702Marker))
            }
            Some(s) => {
                let address: Address = s.parse().map_err(|e| {
                    D::Error::custom(format!(
                        "factory {s:?}: neither an address nor \"0x7702\": {e}"
                    ))
                })?;
                Ok((!address.is_zero()).then(|| Factory::from_address(address)))
            }
        }
    }
}

/// A signed EIP-7702 authorization as ERC-7769's `eip7702Auth` carries it (Alto reads the
/// delegate as `address` or `contractAddress`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcAuthorization {
    /// The chain it is valid on (0: any chain).
    #[serde(with = "quantity::u256")]
    pub chain_id: U256,
    /// The contract the EOA delegates to.
    #[serde(alias = "contractAddress")]
    pub address: Address,
    /// The EOA's account nonce it is valid for.
    #[serde(with = "quantity::u256")]
    pub nonce: U256,
    /// Signature parity.
    #[serde(with = "quantity::u256")]
    pub y_parity: U256,
    /// Signature `r`.
    #[serde(with = "quantity::u256")]
    pub r: U256,
    /// Signature `s`.
    #[serde(with = "quantity::u256")]
    pub s: U256,
}

/// A quantity did not fit the field of [`UserOperation`] it converts to.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field} does not fit in {bits} bits")]
pub struct QuantityOverflow {
    /// The JSON field's name.
    pub field: &'static str,
    /// The width of the field it converts to.
    pub bits: u32,
}

impl From<&SignedAuthorization> for RpcAuthorization {
    fn from(auth: &SignedAuthorization) -> Self {
        Self {
            chain_id: auth.chain_id,
            address: auth.address,
            nonce: U256::from(auth.nonce),
            y_parity: U256::from(auth.y_parity()),
            r: auth.r(),
            s: auth.s(),
        }
    }
}

impl TryFrom<&RpcAuthorization> for SignedAuthorization {
    type Error = QuantityOverflow;

    fn try_from(auth: &RpcAuthorization) -> Result<Self, Self::Error> {
        let nonce = u64::try_from(auth.nonce)
            .map_err(|_| QuantityOverflow { field: "eip7702Auth.nonce", bits: 64 })?;
        let y_parity = u8::try_from(auth.y_parity)
            .map_err(|_| QuantityOverflow { field: "eip7702Auth.yParity", bits: 8 })?;
        let inner = Authorization { chain_id: auth.chain_id, address: auth.address, nonce };
        Ok(Self::new_unchecked(inner, y_parity, auth.r, auth.s))
    }
}

impl From<&UserOperation> for RpcUserOperation {
    fn from(op: &UserOperation) -> Self {
        let paymaster = op.paymaster;
        Self {
            sender: op.sender,
            nonce: op.nonce,
            factory: op.factory.map(Factory::from_address),
            factory_data: op.factory.map(|_| op.factory_data.clone()),
            call_data: op.call_data.clone(),
            call_gas_limit: U256::from(op.call_gas_limit),
            verification_gas_limit: U256::from(op.verification_gas_limit),
            pre_verification_gas: op.pre_verification_gas,
            max_fee_per_gas: U256::from(op.max_fee_per_gas),
            max_priority_fee_per_gas: U256::from(op.max_priority_fee_per_gas),
            paymaster,
            paymaster_verification_gas_limit: paymaster
                .map(|_| U256::from(op.paymaster_verification_gas_limit)),
            paymaster_post_op_gas_limit: paymaster
                .map(|_| U256::from(op.paymaster_post_op_gas_limit)),
            paymaster_data: paymaster.map(|_| op.paymaster_data.clone()),
            signature: op.signature.clone(),
            eip7702_auth: op.eip7702_auth.as_ref().map(RpcAuthorization::from),
        }
    }
}

impl From<UserOperation> for RpcUserOperation {
    fn from(op: UserOperation) -> Self {
        Self::from(&op)
    }
}

fn narrow(field: &'static str, v: U256) -> Result<u128, QuantityOverflow> {
    u128::try_from(v).map_err(|_| QuantityOverflow { field, bits: 128 })
}

impl TryFrom<&RpcUserOperation> for UserOperation {
    type Error = QuantityOverflow;

    fn try_from(op: &RpcUserOperation) -> Result<Self, Self::Error> {
        let opt = |field, v: Option<U256>| narrow(field, v.unwrap_or_default());
        Ok(Self {
            sender: op.sender,
            nonce: op.nonce,
            factory: op.factory.map(Factory::address),
            factory_data: op.factory_data.clone().unwrap_or_default(),
            call_data: op.call_data.clone(),
            call_gas_limit: narrow("callGasLimit", op.call_gas_limit)?,
            verification_gas_limit: narrow("verificationGasLimit", op.verification_gas_limit)?,
            pre_verification_gas: op.pre_verification_gas,
            max_fee_per_gas: narrow("maxFeePerGas", op.max_fee_per_gas)?,
            max_priority_fee_per_gas: narrow("maxPriorityFeePerGas", op.max_priority_fee_per_gas)?,
            paymaster: op.paymaster,
            paymaster_verification_gas_limit: opt(
                "paymasterVerificationGasLimit",
                op.paymaster_verification_gas_limit,
            )?,
            paymaster_post_op_gas_limit: opt(
                "paymasterPostOpGasLimit",
                op.paymaster_post_op_gas_limit,
            )?,
            paymaster_data: op.paymaster_data.clone().unwrap_or_default(),
            signature: op.signature.clone(),
            eip7702_auth: op
                .eip7702_auth
                .as_ref()
                .map(SignedAuthorization::try_from)
                .transpose()?,
        })
    }
}

impl TryFrom<RpcUserOperation> for UserOperation {
    type Error = QuantityOverflow;

    fn try_from(op: RpcUserOperation) -> Result<Self, Self::Error> {
        Self::try_from(&op)
    }
}

/// A log as receipts carry it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcLog {
    /// The emitting contract.
    pub address: Address,
    /// Its topics.
    pub topics: Vec<B256>,
    /// Its data.
    pub data: Bytes,
    /// Index in the block, when known.
    #[serde(default, with = "quantity::opt_u64", skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
    /// The transaction, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_hash: Option<B256>,
}

/// The transaction receipt of the bundle that included an op (the fields every bundler sends).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcTransactionReceipt {
    /// The bundle transaction.
    pub transaction_hash: B256,
    /// Its block, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_hash: Option<B256>,
    /// Its block number, when known.
    #[serde(default, with = "quantity::opt_u64", skip_serializing_if = "Option::is_none")]
    pub block_number: Option<u64>,
    /// Gas the whole bundle used.
    #[serde(default, with = "quantity::opt_u64", skip_serializing_if = "Option::is_none")]
    pub gas_used: Option<u64>,
    /// 1 for success.
    #[serde(default, with = "quantity::opt_u64", skip_serializing_if = "Option::is_none")]
    pub status: Option<u64>,
    /// The bundle's logs (all ops).
    #[serde(default)]
    pub logs: Vec<RpcLog>,
}

/// `eth_getUserOperationReceipt`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserOperationReceipt {
    /// The op's hash.
    pub user_op_hash: B256,
    /// The EntryPoint.
    #[serde(default)]
    pub entry_point: Address,
    /// The account.
    pub sender: Address,
    /// The op's nonce.
    #[serde(with = "quantity::u256")]
    pub nonce: U256,
    /// The paymaster, if one paid.
    #[serde(default, with = "quantity::opt_address", skip_serializing_if = "Option::is_none")]
    pub paymaster: Option<Address>,
    /// Wei paid.
    #[serde(with = "quantity::u256")]
    pub actual_gas_cost: U256,
    /// Gas charged.
    #[serde(with = "quantity::u256")]
    pub actual_gas_used: U256,
    /// Whether the account's execution succeeded.
    pub success: bool,
    /// The revert reason when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The op's logs.
    #[serde(default)]
    pub logs: Vec<RpcLog>,
    /// The bundle's transaction receipt.
    pub receipt: RpcTransactionReceipt,
}

/// `eth_getUserOperationByHash`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserOperationByHash {
    /// The op.
    pub user_operation: RpcUserOperation,
    /// The EntryPoint.
    pub entry_point: Address,
    /// The block that included it, if any yet.
    #[serde(default, with = "quantity::opt_u64", skip_serializing_if = "Option::is_none")]
    pub block_number: Option<u64>,
    /// Its hash, if included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_hash: Option<B256>,
    /// The bundle transaction, if included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_hash: Option<B256>,
}

/// One tier of `pimlico_getUserOperationGasPrice`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GasPrice {
    /// Fee cap.
    #[serde(with = "quantity::u256")]
    pub max_fee_per_gas: U256,
    /// Tip.
    #[serde(with = "quantity::u256")]
    pub max_priority_fee_per_gas: U256,
}

/// `pimlico_getUserOperationGasPrice`: three tiers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GasPrices {
    /// Cheapest.
    pub slow: GasPrice,
    /// Usual.
    pub standard: GasPrice,
    /// Fastest.
    pub fast: GasPrice,
}

/// The sponsor a paymaster service names (ERC-7677).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sponsor {
    /// Display name.
    pub name: String,
    /// Icon URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
}

/// `pm_getPaymasterStubData` (ERC-7677), v0.7 shape.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymasterStubData {
    /// Who sponsors, if the service says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sponsor: Option<Sponsor>,
    /// The paymaster.
    #[serde(default, with = "quantity::opt_address", skip_serializing_if = "Option::is_none")]
    pub paymaster: Option<Address>,
    /// Stub data for estimation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paymaster_data: Option<Bytes>,
    /// Gas for the paymaster's validation, if the service knows it.
    #[serde(default, with = "quantity::opt_u256", skip_serializing_if = "Option::is_none")]
    pub paymaster_verification_gas_limit: Option<U256>,
    /// Gas for postOp.
    #[serde(default, with = "quantity::opt_u256", skip_serializing_if = "Option::is_none")]
    pub paymaster_post_op_gas_limit: Option<U256>,
    /// Whether the stub is already the final data (no `pm_getPaymasterData` needed).
    #[serde(default)]
    pub is_final: bool,
}

/// `pm_getPaymasterData` (ERC-7677), v0.7 shape.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymasterData {
    /// The paymaster.
    #[serde(with = "quantity::opt_address")]
    pub paymaster: Option<Address>,
    /// The signed data.
    #[serde(default)]
    pub paymaster_data: Bytes,
}

#[cfg(test)]
mod tests {
    use mandate_abi::GasEstimate;

    use super::*;

    #[test]
    fn user_operation_round_trips() {
        let op = UserOperation {
            sender: Address::repeat_byte(1),
            nonce: U256::from(5),
            factory: Some(Address::repeat_byte(2)),
            factory_data: Bytes::from_static(b"f"),
            call_data: Bytes::from_static(b"c"),
            call_gas_limit: 10,
            verification_gas_limit: 20,
            pre_verification_gas: U256::from(30),
            max_fee_per_gas: 40,
            max_priority_fee_per_gas: 50,
            paymaster: Some(Address::repeat_byte(3)),
            paymaster_verification_gas_limit: 60,
            paymaster_post_op_gas_limit: 70,
            paymaster_data: Bytes::from_static(b"p"),
            signature: Bytes::from_static(b"s"),
            eip7702_auth: None,
        };
        let json = serde_json::to_value(RpcUserOperation::from(&op)).expect("serialises");
        assert_eq!(json["callGasLimit"], "0xa");
        assert_eq!(json["paymasterPostOpGasLimit"], "0x46");
        let back: RpcUserOperation = serde_json::from_value(json).expect("parses");
        assert_eq!(UserOperation::try_from(back).expect("fits"), op);

        let plain = UserOperation { sender: Address::repeat_byte(1), ..Default::default() };
        let json = serde_json::to_value(RpcUserOperation::from(&plain)).expect("serialises");
        assert!(json.get("factory").is_none() && json.get("paymaster").is_none());
    }

    #[test]
    fn eip7702_auth_round_trips() {
        let plain = RpcUserOperation::from(&UserOperation::default());
        assert!(serde_json::to_value(&plain).expect("serialises").get("eip7702Auth").is_none());

        // As Alto 0.0.20's schema reads it (`contractAddress` or `address`, hex quantities).
        let text = r#"{
            "sender": "0x0101010101010101010101010101010101010101",
            "nonce": "0x0", "factory": null, "callData": "0x",
            "callGasLimit": "0x1", "verificationGasLimit": "0x1",
            "preVerificationGas": "0x1", "maxFeePerGas": "0x1", "maxPriorityFeePerGas": "0x1",
            "signature": "0x",
            "eip7702Auth": {
                "contractAddress": "0x0202020202020202020202020202020202020202",
                "chainId": "0x7a69", "nonce": "0x3", "yParity": "0x1",
                "r": "0x0a", "s": "0x0b"
            }
        }"#;
        let op: RpcUserOperation = serde_json::from_str(text).expect("parses");
        let auth = op.eip7702_auth.clone().expect("has an authorization");
        assert_eq!(auth.address, Address::repeat_byte(2));
        assert_eq!((auth.chain_id, auth.nonce), (U256::from(31337), U256::from(3)));
        assert_eq!(
            (auth.y_parity, auth.r, auth.s),
            (U256::from(1), U256::from(10), U256::from(11))
        );
        let json = serde_json::to_value(&op).expect("serialises");
        assert_eq!(json["eip7702Auth"]["address"], "0x0202020202020202020202020202020202020202");
        assert_eq!(json["eip7702Auth"]["chainId"], "0x7a69");
        assert_eq!(json["eip7702Auth"]["yParity"], "0x1");
        let back: RpcUserOperation = serde_json::from_value(json).expect("parses");
        assert_eq!(back, op);
        // Into the op the client holds (alloy's SignedAuthorization) and back, unchanged.
        let user_op = UserOperation::try_from(&op).expect("fits");
        let signed = user_op.eip7702_auth.clone().expect("carried over");
        assert_eq!((signed.address, signed.nonce, signed.y_parity()), (auth.address, 3, 1));
        assert_eq!(RpcUserOperation::from(&user_op), op);
        // A nonce wider than an EOA's is refused, naming the field.
        let mut wide = op;
        wide.eip7702_auth.as_mut().expect("some").nonce = U256::from(u64::MAX) + U256::from(1);
        let err = UserOperation::try_from(&wide).expect_err("65-bit nonce");
        assert_eq!(err, QuantityOverflow { field: "eip7702Auth.nonce", bits: 64 });
    }

    #[test]
    fn the_eip7702_factory_marker_round_trips_in_alto_0_0_20s_shapes() {
        // Alto 0.0.20's eth_getUserOperationByHash of an included v0.8 op (its
        // toUnpackedUserOp of the initCode `0x7702 ‖ 18 zero bytes ‖ 0xabcd`, nulls left out),
        // as its own code writes it for that packed op.
        let included = r#"{
            "userOperation": {
                "sender": "0x0101010101010101010101010101010101010101", "nonce": "0x5",
                "factory": "0x7702000000000000000000000000000000000000", "factoryData": "0xabcd",
                "callData": "0x", "callGasLimit": "0x14", "verificationGasLimit": "0xa",
                "preVerificationGas": "0x1e", "maxFeePerGas": "0x28",
                "maxPriorityFeePerGas": "0x32", "signature": "0x73"
            },
            "entryPoint": "0x4337084D9E255Ff0702461CF8895CE9E3b5Ff108",
            "blockNumber": "0x2", "transactionHash":
                "0x1111111111111111111111111111111111111111111111111111111111111111"
        }"#;
        let by_hash: UserOperationByHash = serde_json::from_str(included).expect("parses");
        let rpc = by_hash.user_operation;
        assert_eq!(rpc.factory, Some(Factory::Eip7702Marker));
        let op = UserOperation::try_from(&rpc).expect("fits");
        assert_eq!(op.factory, Some(mandate_abi::EIP7702_FACTORY_MARKER));
        let packed = op.pack();
        assert!(mandate_abi::is_eip7702_init_code(&packed.initCode));
        assert_eq!(&packed.initCode[20..], &[0xab, 0xcd]);
        // Written as the literal Alto's v0.8 schema takes (`z.literal("0x7702")`), and read back.
        let back = RpcUserOperation::from(&op);
        assert_eq!(back, rpc);
        let json = serde_json::to_value(&back).expect("serialises");
        assert_eq!(json["factory"], "0x7702");
        assert_eq!(json["factoryData"], "0xabcd");
        let again: RpcUserOperation = serde_json::from_value(json).expect("parses");
        assert_eq!(again, back);

        // What a client sends Alto for a delegated EOA: the literal, with its authorization.
        let sent = r#"{
            "sender": "0x0101010101010101010101010101010101010101", "nonce": "0x0",
            "factory": "0x7702", "factoryData": null, "callData": "0x",
            "callGasLimit": "0x1", "verificationGasLimit": "0x1", "preVerificationGas": "0x1",
            "maxFeePerGas": "0x1", "maxPriorityFeePerGas": "0x1", "signature": "0x",
            "eip7702Auth": {
                "address": "0x0202020202020202020202020202020202020202",
                "chainId": "0x7a69", "nonce": "0x0", "yParity": "0x0", "r": "0x1", "s": "0x2"
            }
        }"#;
        let rpc: RpcUserOperation = serde_json::from_str(sent).expect("parses");
        assert_eq!(rpc.factory, Some(Factory::Eip7702Marker));
        let packed = UserOperation::try_from(&rpc).expect("fits").pack();
        assert_eq!(packed.initCode.as_ref(), mandate_abi::EIP7702_FACTORY_MARKER.as_slice());
        let json = serde_json::to_value(&rpc).expect("serialises");
        assert_eq!(json["factory"], "0x7702");
        assert!(json["eip7702Auth"].is_object());

        // A factory contract stays one; what is neither an address nor the marker is named.
        let factory = Address::repeat_byte(0x77);
        assert_eq!(Factory::from_address(factory), Factory::Address(factory));
        assert_eq!(Factory::Address(factory).address(), factory);
        let bad = sent.replace(r#""factory": "0x7702""#, r#""factory": "0x7703""#);
        let err = serde_json::from_str::<RpcUserOperation>(&bad).expect_err("not a factory");
        assert!(err.to_string().contains(r#"factory "0x7703""#), "{err}");
    }

    #[test]
    fn reads_what_bundlers_send() {
        // Nulls for absent optionals, decimal and numeric quantities, extra fields.
        let text = r#"{
            "sender": "0x0101010101010101010101010101010101010101",
            "nonce": "0x0", "factory": null, "factoryData": null, "callData": "0x",
            "callGasLimit": 100000, "verificationGasLimit": "200000",
            "preVerificationGas": "0xc350", "maxFeePerGas": "0x1", "maxPriorityFeePerGas": "0x1",
            "paymaster": "0x", "paymasterVerificationGasLimit": null,
            "paymasterPostOpGasLimit": null, "paymasterData": null,
            "signature": "0x", "eip7702Auth": null
        }"#;
        let op: RpcUserOperation = serde_json::from_str(text).expect("parses");
        let op = UserOperation::try_from(op).expect("fits");
        assert_eq!((op.call_gas_limit, op.verification_gas_limit), (100_000, 200_000));
        assert_eq!((op.factory, op.paymaster), (None, None));

        // A receipt as rundler-style bundlers write it: zero paymaster, "0x" reason, numbers,
        // full transaction receipt with fields we do not keep.
        let receipt: UserOperationReceipt = serde_json::from_str(
            r#"{
            "userOpHash": "0x1111111111111111111111111111111111111111111111111111111111111111",
            "entryPoint": "0x0000000071727De22E5E9d8BAf0edAc6f37da032",
            "sender": "0x0101010101010101010101010101010101010101", "nonce": 3,
            "paymaster": "0x0000000000000000000000000000000000000000",
            "actualGasCost": "0x5af3107a4000", "actualGasUsed": "123456",
            "success": false, "reason": "0x", "logs": [],
            "receipt": {
                "transactionHash": "0x2222222222222222222222222222222222222222222222222222222222222222",
                "blockHash": "0x3333333333333333333333333333333333333333333333333333333333333333",
                "blockNumber": "0x10", "from": "0x0101010101010101010101010101010101010101",
                "cumulativeGasUsed": "0x1", "gasUsed": "0x2", "logsBloom": "0x00",
                "status": "0x0", "effectiveGasPrice": "0x3", "type": "0x2",
                "logs": [{"address": "0x0101010101010101010101010101010101010101",
                          "topics": [], "data": "0x", "logIndex": "0x0", "removed": false}]
            }
        }"#,
        )
        .expect("parses");
        assert_eq!(receipt.paymaster, None);
        assert_eq!(receipt.nonce, U256::from(3));
        assert_eq!(receipt.actual_gas_used, U256::from(123_456));
        assert_eq!((receipt.receipt.block_number, receipt.receipt.status), (Some(16), Some(0)));
        assert_eq!(receipt.receipt.logs.len(), 1);

        let estimate: GasEstimate = serde_json::from_str(
            r#"{"preVerificationGas":"0x1","verificationGas":"0x2","callGasLimit":"0x3"}"#,
        )
        .expect("v0.6 name");
        assert_eq!(estimate.verification_gas_limit, U256::from(2));
    }
}
