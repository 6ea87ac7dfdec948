//! The ERC-4337 v0.6 JSON-RPC shape of a user operation (`initCode` and `paymasterAndData`
//! packed, every quantity hex), as bundlers that serve EntryPoint v0.6 read it.

use alloy_primitives::{Address, Bytes, U256};
use mandate_abi::{json::rpc as quantity, legacy_v2::UserOperationV06};
use serde::{Deserialize, Serialize};

/// A v0.6 user operation as JSON-RPC carries it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcUserOperationV06 {
    /// The account.
    pub sender: Address,
    /// Key and sequence.
    #[serde(with = "quantity::u256")]
    pub nonce: U256,
    /// Factory address followed by its calldata, or empty.
    #[serde(default)]
    pub init_code: Bytes,
    /// Calldata for the account.
    pub call_data: Bytes,
    /// Gas for the execution phase.
    #[serde(with = "quantity::u256")]
    pub call_gas_limit: U256,
    /// Gas for the validation phase (account and paymaster).
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
    /// Paymaster address followed by its data, or empty.
    #[serde(default)]
    pub paymaster_and_data: Bytes,
    /// The account's signature.
    pub signature: Bytes,
}

impl From<&UserOperationV06> for RpcUserOperationV06 {
    fn from(op: &UserOperationV06) -> Self {
        Self {
            sender: op.sender,
            nonce: op.nonce,
            init_code: op.initCode.clone(),
            call_data: op.callData.clone(),
            call_gas_limit: op.callGasLimit,
            verification_gas_limit: op.verificationGasLimit,
            pre_verification_gas: op.preVerificationGas,
            max_fee_per_gas: op.maxFeePerGas,
            max_priority_fee_per_gas: op.maxPriorityFeePerGas,
            paymaster_and_data: op.paymasterAndData.clone(),
            signature: op.signature.clone(),
        }
    }
}

impl From<RpcUserOperationV06> for UserOperationV06 {
    fn from(op: RpcUserOperationV06) -> Self {
        Self {
            sender: op.sender,
            nonce: op.nonce,
            initCode: op.init_code,
            callData: op.call_data,
            callGasLimit: op.call_gas_limit,
            verificationGasLimit: op.verification_gas_limit,
            preVerificationGas: op.pre_verification_gas,
            maxFeePerGas: op.max_fee_per_gas,
            maxPriorityFeePerGas: op.max_priority_fee_per_gas,
            paymasterAndData: op.paymaster_and_data,
            signature: op.signature,
        }
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{address, bytes};

    use mandate_abi::GasEstimate;

    use super::*;

    fn op() -> UserOperationV06 {
        UserOperationV06 {
            sender: address!("1111111111111111111111111111111111111111"),
            nonce: U256::from(7),
            initCode: Bytes::new(),
            callData: bytes!("0000189a"),
            callGasLimit: U256::from(0x4e20),
            verificationGasLimit: U256::from(0x186a0),
            preVerificationGas: U256::from(0xc350),
            maxFeePerGas: U256::from(2_000_000_000u64),
            maxPriorityFeePerGas: U256::from(1_000_000_000u64),
            paymasterAndData: Bytes::new(),
            signature: bytes!("01020304"),
        }
    }

    #[test]
    fn writes_the_v06_field_names_with_hex_quantities() {
        let json = serde_json::to_value(RpcUserOperationV06::from(&op())).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "callData",
                "callGasLimit",
                "initCode",
                "maxFeePerGas",
                "maxPriorityFeePerGas",
                "nonce",
                "paymasterAndData",
                "preVerificationGas",
                "sender",
                "signature",
                "verificationGasLimit",
            ]
        );
        assert_eq!(json["nonce"], "0x7");
        assert_eq!(json["initCode"], "0x");
        assert_eq!(json["callGasLimit"], "0x4e20");
        assert_eq!(json["maxFeePerGas"], "0x77359400");
    }

    #[test]
    fn round_trips_and_reads_decimal_quantities() {
        let rpc = RpcUserOperationV06::from(&op());
        let back: UserOperationV06 =
            serde_json::from_value::<RpcUserOperationV06>(serde_json::to_value(&rpc).unwrap())
                .unwrap()
                .into();
        assert_eq!(back, op());
        let lenient: RpcUserOperationV06 = serde_json::from_str(
            r#"{"sender":"0x1111111111111111111111111111111111111111","nonce":"7",
                "callData":"0x","callGasLimit":20000,"verificationGasLimit":"0x186a0",
                "preVerificationGas":"50000","maxFeePerGas":"0x1","maxPriorityFeePerGas":"0x1",
                "signature":"0x"}"#,
        )
        .unwrap();
        assert_eq!(lenient.nonce, U256::from(7));
        assert_eq!(lenient.call_gas_limit, U256::from(20_000));
        assert!(lenient.init_code.is_empty() && lenient.paymaster_and_data.is_empty());
    }

    #[test]
    fn reads_alto_v06_estimates_with_both_verification_names() {
        // What Alto 0.0.20 answers for a v0.6 op.
        let both: GasEstimate = serde_json::from_str(
            r#"{"preVerificationGas":"0xf421","verificationGas":"0x5cbf6",
                "verificationGasLimit":"0x5cbf6","callGasLimit":"0x313bc"}"#,
        )
        .unwrap();
        assert_eq!(both.verification_gas_limit, U256::from(0x5cbf6));
        let disagree = serde_json::from_str::<GasEstimate>(
            r#"{"preVerificationGas":"0x1","verificationGas":"0x2",
                "verificationGasLimit":"0x3","callGasLimit":"0x4"}"#,
        );
        assert!(disagree.unwrap_err().to_string().contains("disagree"));
        let neither = serde_json::from_str::<GasEstimate>(
            r#"{"preVerificationGas":"0x1","callGasLimit":"0x4"}"#,
        );
        assert!(neither.unwrap_err().to_string().contains("verificationGasLimit"));
    }

    #[test]
    fn an_estimate_folds_a_paymaster_limit_into_the_verification_limit() {
        let estimate: GasEstimate = serde_json::from_str(
            r#"{"preVerificationGas":"0xb000","verificationGas":"0x10000",
                "callGasLimit":"0x3000","paymasterVerificationGasLimit":"0x100"}"#,
        )
        .unwrap();
        let mut op = op();
        estimate.apply_to_v06(&mut op);
        assert_eq!(op.preVerificationGas, U256::from(0xb000));
        assert_eq!(op.verificationGasLimit, U256::from(0x10100));
        assert_eq!(op.callGasLimit, U256::from(0x3000));
    }
}
