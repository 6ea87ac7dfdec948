//! The ERC-4337 v0.6 user operation, its hash, and Smart Account v2 calldata (spec §14.1).

use alloy_primitives::{Address, B256, Bytes, U256, address, eip191_hash_message, keccak256};
use alloy_sol_types::{SolCall, SolValue};

use super::sol::{ISmartAccountV2, UserOperation06};
use crate::Call;

/// The canonical ERC-4337 v0.6 EntryPoint.
pub const ENTRY_POINT_V06: Address = address!("5FF137D4b0FDCD49DcA30c7CF57E578a026d2789");

/// An ERC-4337 v0.6 user operation (the Solidity struct).
pub type UserOperationV06 = UserOperation06;

impl UserOperation06 {
    /// The user-op hash: `keccak256(abi.encode(keccak256(abi.encode(sender, nonce,
    /// keccak(initCode), keccak(callData), callGasLimit, verificationGasLimit,
    /// preVerificationGas, maxFeePerGas, maxPriorityFeePerGas, keccak(paymasterAndData))),
    /// entryPoint, chainId))`.
    pub fn hash(&self, entry_point: Address, chain_id: u64) -> B256 {
        let inner = keccak256(
            (
                self.sender,
                self.nonce,
                keccak256(&self.initCode),
                keccak256(&self.callData),
                self.callGasLimit,
                self.verificationGasLimit,
                self.preVerificationGas,
                self.maxFeePerGas,
                self.maxPriorityFeePerGas,
                keccak256(&self.paymasterAndData),
            )
                .abi_encode_params(),
        );
        keccak256((inner, entry_point, U256::from(chain_id)).abi_encode_params())
    }
}

/// EIP-191 `personal_sign` prehash of a 32-byte message (what `toEthSignedMessageHash` gives,
/// and what a session key signs for the SDK's `signMessage({raw: userOpHash})`).
pub fn personal_hash(message: B256) -> B256 {
    eip191_hash_message(message.as_slice())
}

/// `execute(dest, value, func)` of the Smart Account v2.
pub fn execute_v2_calldata(target: Address, value: U256, data: Bytes) -> Bytes {
    ISmartAccountV2::executeCall { dest: target, value, func: data }.abi_encode().into()
}

/// `executeBatch(dest[], value[], func[])` of the Smart Account v2, one entry per call.
pub fn execute_batch_v2_calldata(calls: &[Call]) -> Bytes {
    ISmartAccountV2::executeBatchCall {
        dest: calls.iter().map(|c| c.to).collect(),
        value: calls.iter().map(|c| c.value).collect(),
        func: calls.iter().map(|c| c.data.clone()).collect(),
    }
    .abi_encode()
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::legacy_v2::{EXECUTE_BATCH_SELECTOR, EXECUTE_SELECTOR};

    #[test]
    fn selectors_match_the_spec() {
        assert_eq!(ISmartAccountV2::executeCall::SELECTOR, EXECUTE_SELECTOR);
        assert_eq!(ISmartAccountV2::executeBatchCall::SELECTOR, EXECUTE_BATCH_SELECTOR);
        assert_eq!(ISmartAccountV2::execute_ncCCall::SELECTOR, [0x00, 0x00, 0x18, 0x9a]);
        assert_eq!(ISmartAccountV2::executeBatch_y6UCall::SELECTOR, [0x00, 0x00, 0x46, 0x80]);
        assert_eq!(
            crate::legacy_v2::sol::ISessionKeyManagerV1::setMerkleRootCall::SELECTOR,
            [0x7c, 0xb6, 0x47, 0x59]
        );
    }

    #[test]
    fn hash_binds_every_field_the_entry_point_hashes() {
        let op = UserOperationV06 { sender: Address::repeat_byte(1), ..Default::default() };
        let h = op.hash(ENTRY_POINT_V06, 1);
        assert_ne!(h, op.hash(ENTRY_POINT_V06, 2));
        let signed = UserOperationV06 { signature: Bytes::from(vec![1]), ..op.clone() };
        assert_eq!(signed.hash(ENTRY_POINT_V06, 1), h);
        let other = UserOperationV06 { paymasterAndData: Bytes::from(vec![1]), ..op };
        assert_ne!(other.hash(ENTRY_POINT_V06, 1), h);
    }
}
