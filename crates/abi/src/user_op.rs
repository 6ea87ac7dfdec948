//! ERC-4337 v0.7 user operations: packing, the user-op hash and validator nonce keys
//! (spec §3.5, §4.3).

use alloy_primitives::{
    Address, B256, Bytes, KECCAK256_EMPTY, Keccak256, U256, address, keccak256,
};

use crate::sol::PackedUserOperation;

/// The canonical ERC-4337 v0.7 EntryPoint.
pub const ENTRY_POINT_V07: Address = address!("0000000071727De22E5E9d8BAf0edAc6f37da032");

/// Two 128-bit values in one word, `high ‖ low` (gas limits and fees).
pub fn pack_u128s(high: u128, low: u128) -> B256 {
    let mut word = [0u8; 32];
    word[..16].copy_from_slice(&high.to_be_bytes());
    word[16..].copy_from_slice(&low.to_be_bytes());
    B256::from(word)
}

/// The two 128-bit halves of a packed word.
pub fn unpack_u128s(word: B256) -> (u128, u128) {
    let mut high = [0u8; 16];
    let mut low = [0u8; 16];
    high.copy_from_slice(&word[..16]);
    low.copy_from_slice(&word[16..]);
    (u128::from_be_bytes(high), u128::from_be_bytes(low))
}

/// The nonce of an ERC-7579 account whose validator is picked from the nonce key:
/// `validator(20) ‖ key(4) ‖ sequence(8)`.
pub fn validator_nonce(validator: Address, key: u32, sequence: u64) -> U256 {
    let mut word = [0u8; 32];
    word[..20].copy_from_slice(validator.as_slice());
    word[20..24].copy_from_slice(&key.to_be_bytes());
    word[24..].copy_from_slice(&sequence.to_be_bytes());
    U256::from_be_bytes(word)
}

/// The 192-bit nonce key (as `EntryPoint.getNonce` takes it) of a validator.
pub fn validator_nonce_key(validator: Address, key: u32) -> U256 {
    validator_nonce(validator, key, 0) >> 64
}

/// The validator a nonce routes to.
pub fn nonce_validator(nonce: U256) -> Address {
    Address::from_slice(&nonce.to_be_bytes::<32>()[..20])
}

/// A user operation with its fields unpacked, as bundlers' JSON-RPC shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserOperation {
    /// The account.
    pub sender: Address,
    /// Key and sequence.
    pub nonce: U256,
    /// Factory deploying the account in this op, if any.
    pub factory: Option<Address>,
    /// Calldata for the factory.
    pub factory_data: Bytes,
    /// Calldata for the account.
    pub call_data: Bytes,
    /// Gas for the execution phase.
    pub call_gas_limit: u128,
    /// Gas for the validation phase (and account creation).
    pub verification_gas_limit: u128,
    /// Gas paid to the bundler beyond what is metered.
    pub pre_verification_gas: U256,
    /// EIP-1559 fee cap.
    pub max_fee_per_gas: u128,
    /// EIP-1559 tip.
    pub max_priority_fee_per_gas: u128,
    /// Paymaster, if any.
    pub paymaster: Option<Address>,
    /// Gas for the paymaster's validation.
    pub paymaster_verification_gas_limit: u128,
    /// Gas for the paymaster's postOp.
    pub paymaster_post_op_gas_limit: u128,
    /// Data for the paymaster.
    pub paymaster_data: Bytes,
    /// The account's signature (for Smart Sessions: a USE or ENABLE signature).
    pub signature: Bytes,
}

impl UserOperation {
    /// The packed form the EntryPoint takes.
    pub fn pack(&self) -> PackedUserOperation {
        let init_code = match self.factory {
            Some(factory) => [factory.as_slice(), &self.factory_data].concat().into(),
            None => Bytes::new(),
        };
        let paymaster_and_data = match self.paymaster {
            Some(paymaster) => {
                let mut out = Vec::with_capacity(52 + self.paymaster_data.len());
                out.extend_from_slice(paymaster.as_slice());
                out.extend_from_slice(&self.paymaster_verification_gas_limit.to_be_bytes());
                out.extend_from_slice(&self.paymaster_post_op_gas_limit.to_be_bytes());
                out.extend_from_slice(&self.paymaster_data);
                out.into()
            }
            None => Bytes::new(),
        };
        PackedUserOperation {
            sender: self.sender,
            nonce: self.nonce,
            initCode: init_code,
            callData: self.call_data.clone(),
            accountGasLimits: pack_u128s(self.verification_gas_limit, self.call_gas_limit),
            preVerificationGas: self.pre_verification_gas,
            gasFees: pack_u128s(self.max_priority_fee_per_gas, self.max_fee_per_gas),
            paymasterAndData: paymaster_and_data,
            signature: self.signature.clone(),
        }
    }

    /// The user-op hash the account's validator signs (as [`PackedUserOperation::hash`] of
    /// [`Self::pack`], without building the packed form).
    pub fn hash(&self, entry_point: Address, chain_id: u64) -> B256 {
        let init_code_hash = match self.factory {
            Some(factory) => {
                let mut h = Keccak256::new();
                h.update(factory);
                h.update(&self.factory_data);
                h.finalize()
            }
            None => KECCAK256_EMPTY,
        };
        let paymaster_hash = match self.paymaster {
            Some(paymaster) => {
                let mut h = Keccak256::new();
                h.update(paymaster);
                h.update(self.paymaster_verification_gas_limit.to_be_bytes());
                h.update(self.paymaster_post_op_gas_limit.to_be_bytes());
                h.update(&self.paymaster_data);
                h.finalize()
            }
            None => KECCAK256_EMPTY,
        };
        hash_fields(
            self.sender,
            self.nonce,
            init_code_hash,
            keccak256(&self.call_data),
            pack_u128s(self.verification_gas_limit, self.call_gas_limit),
            self.pre_verification_gas,
            pack_u128s(self.max_priority_fee_per_gas, self.max_fee_per_gas),
            paymaster_hash,
            entry_point,
            chain_id,
        )
    }
}

impl PackedUserOperation {
    /// `keccak256(abi.encode(keccak256(packed fields), entryPoint, chainId))`, as
    /// `EntryPoint.getUserOpHash` computes it. The signature is not part of it.
    pub fn hash(&self, entry_point: Address, chain_id: u64) -> B256 {
        let hash = |b: &[u8]| if b.is_empty() { KECCAK256_EMPTY } else { keccak256(b) };
        hash_fields(
            self.sender,
            self.nonce,
            hash(&self.initCode),
            keccak256(&self.callData),
            self.accountGasLimits,
            self.preVerificationGas,
            self.gasFees,
            hash(&self.paymasterAndData),
            entry_point,
            chain_id,
        )
    }
}

#[allow(clippy::too_many_arguments)]
fn hash_fields(
    sender: Address,
    nonce: U256,
    init_code_hash: B256,
    call_data_hash: B256,
    account_gas_limits: B256,
    pre_verification_gas: U256,
    gas_fees: B256,
    paymaster_hash: B256,
    entry_point: Address,
    chain_id: u64,
) -> B256 {
    let mut inner = [0u8; 256];
    inner[12..32].copy_from_slice(sender.as_slice());
    inner[32..64].copy_from_slice(&nonce.to_be_bytes::<32>());
    inner[64..96].copy_from_slice(init_code_hash.as_slice());
    inner[96..128].copy_from_slice(call_data_hash.as_slice());
    inner[128..160].copy_from_slice(account_gas_limits.as_slice());
    inner[160..192].copy_from_slice(&pre_verification_gas.to_be_bytes::<32>());
    inner[192..224].copy_from_slice(gas_fees.as_slice());
    inner[224..256].copy_from_slice(paymaster_hash.as_slice());
    let mut outer = [0u8; 96];
    outer[..32].copy_from_slice(keccak256(inner).as_slice());
    outer[44..64].copy_from_slice(entry_point.as_slice());
    outer[88..96].copy_from_slice(&chain_id.to_be_bytes());
    keccak256(outer)
}

#[cfg(test)]
mod tests {
    use alloy_sol_types::SolValue;

    use super::*;

    #[test]
    fn hash_matches_generic_abi_encoding() {
        let op = UserOperation {
            sender: Address::repeat_byte(0x11),
            nonce: U256::from(7) << 64,
            factory: Some(Address::repeat_byte(0x22)),
            factory_data: Bytes::from_static(b"init"),
            call_data: Bytes::from_static(b"call"),
            call_gas_limit: 100_000,
            verification_gas_limit: 200_000,
            pre_verification_gas: U256::from(50_000),
            max_fee_per_gas: 3,
            max_priority_fee_per_gas: 1,
            paymaster: Some(Address::repeat_byte(0x33)),
            paymaster_verification_gas_limit: 9,
            paymaster_post_op_gas_limit: 8,
            paymaster_data: Bytes::from_static(b"pm"),
            signature: Bytes::from_static(b"sig"),
        }
        .pack();
        let inner = keccak256(
            (
                op.sender,
                op.nonce,
                keccak256(&op.initCode),
                keccak256(&op.callData),
                op.accountGasLimits,
                op.preVerificationGas,
                op.gasFees,
                keccak256(&op.paymasterAndData),
            )
                .abi_encode_params(),
        );
        let expected =
            keccak256((inner, ENTRY_POINT_V07, U256::from(31337u64)).abi_encode_params());
        assert_eq!(op.hash(ENTRY_POINT_V07, 31337), expected);
        assert_eq!(op.initCode.len(), 24);
        assert_eq!(op.paymasterAndData.len(), 54);
        assert_eq!(unpack_u128s(op.accountGasLimits), (200_000, 100_000));
    }

    #[test]
    fn nonce_routes_to_validator() {
        let validator = Address::repeat_byte(0xab);
        let nonce = validator_nonce(validator, 0, 3);
        assert_eq!(nonce_validator(nonce), validator);
        assert_eq!(validator_nonce_key(validator, 0) << 64 | U256::from(3), nonce);
    }
}
