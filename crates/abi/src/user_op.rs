//! ERC-4337 user operations: packing, the user-op hash of EntryPoint v0.7 and v0.8, and
//! validator nonce keys (spec §3.5, §4.3).

use alloy_primitives::{
    Address, B256, Bytes, KECCAK256_EMPTY, Keccak256, U256, address, keccak256,
};

use crate::sol::PackedUserOperation;

/// The canonical ERC-4337 v0.7 EntryPoint.
pub const ENTRY_POINT_V07: Address = address!("0000000071727De22E5E9d8BAf0edAc6f37da032");

/// The canonical ERC-4337 v0.8 EntryPoint.
pub const ENTRY_POINT_V08: Address = address!("4337084D9E255Ff0702461CF8895CE9E3b5Ff108");

/// Which EntryPoint release a chain's accounts use; the releases hash user ops differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EntryPointVersion {
    /// v0.7: `keccak256(abi.encode(keccak256(packed fields), entryPoint, chainId))`.
    V07,
    /// v0.8: EIP-712 (domain "ERC4337", "1") over the `PackedUserOperation` struct, with the
    /// `0x7702` initCode marker.
    V08,
}

impl EntryPointVersion {
    /// The release deployed at `entry_point`, if it is one of the canonical addresses.
    pub fn of(entry_point: Address) -> Option<Self> {
        match entry_point {
            ENTRY_POINT_V07 => Some(Self::V07),
            ENTRY_POINT_V08 => Some(Self::V08),
            _ => None,
        }
    }

    /// The gas this release charges on top of `gas_used` for leaving part of `gas_limit`
    /// unused: 10% of the unused gas. v0.7 takes `callGasLimit + paymasterPostOpGasLimit`
    /// as one limit against the execution and postOp gas used, and charges any unused gas;
    /// v0.8 charges `callGasLimit` and `paymasterPostOpGasLimit` each on its own, and only
    /// when more than 40,000 of it is unused (then on all of the unused gas, not on the part
    /// above 40,000).
    pub fn unused_gas_penalty(self, gas_used: u128, gas_limit: u128) -> u128 {
        let threshold = match self {
            Self::V07 => 0,
            Self::V08 => 40_000,
        };
        if gas_limit <= gas_used.saturating_add(threshold) {
            return 0;
        }
        (gas_limit - gas_used) * 10 / 100
    }

    /// The canonical address of this release.
    pub fn address(self) -> Address {
        match self {
            Self::V07 => ENTRY_POINT_V07,
            Self::V08 => ENTRY_POINT_V08,
        }
    }
}

/// A v0.8 user op whose initCode carries the `0x7702` marker was hashed without the sender's
/// EIP-7702 delegate, which takes the place of the marker in the hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UserOpHashError {
    /// The initCode starts with the `0x7702` marker but no delegate of the sender was given.
    #[error("user op of {sender}: initCode has the 0x7702 marker, the sender's delegate is needed")]
    MissingDelegate {
        /// The op's sender.
        sender: Address,
    },
}

/// `keccak256("PackedUserOperation(address sender,uint256 nonce,bytes initCode,bytes callData,
/// bytes32 accountGasLimits,uint256 preVerificationGas,bytes32 gasFees,bytes paymasterAndData)")`.
pub fn packed_user_op_typehash() -> B256 {
    keccak256(
        "PackedUserOperation(address sender,uint256 nonce,bytes initCode,bytes callData,\
         bytes32 accountGasLimits,uint256 preVerificationGas,bytes32 gasFees,bytes paymasterAndData)",
    )
}

/// The EIP-712 domain separator of the v0.8 EntryPoint at `entry_point` on `chain_id`:
/// name "ERC4337", version "1".
pub fn entry_point_v08_domain_separator(entry_point: Address, chain_id: u64) -> B256 {
    alloy_sol_types::eip712_domain! {
        name: "ERC4337",
        version: "1",
        chain_id: chain_id,
        verifying_contract: entry_point,
    }
    .separator()
}

/// The `0x7702` initCode marker as a factory address (`0x7702` and 18 zero bytes): the
/// `factory` of a v0.8 op whose sender is an EIP-7702-delegated EOA.
pub const EIP7702_FACTORY_MARKER: Address = address!("7702000000000000000000000000000000000000");

/// Whether v0.8 reads `init_code` as an EIP-7702 op: at least 2 bytes, and its first 20 bytes
/// (zero-padded, as calldata is) are `0x7702` followed by 18 zero bytes.
pub fn is_eip7702_init_code(init_code: &[u8]) -> bool {
    if init_code.len() < 2 {
        return false;
    }
    let mut start = [0u8; 20];
    let n = init_code.len().min(20);
    start[..n].copy_from_slice(&init_code[..n]);
    start[..2] == [0x77, 0x02] && start[2..].iter().all(|&b| b == 0)
}

/// The initCode hash v0.8 uses for a `0x7702` op: `keccak256(delegate ‖ initCode[20..])`
/// (just `keccak256(delegate)` when the initCode is at most 20 bytes).
fn eip7702_init_code_hash(init_code: &[u8], delegate: Address) -> B256 {
    let mut h = Keccak256::new();
    h.update(delegate);
    if init_code.len() > 20 {
        h.update(&init_code[20..]);
    }
    h.finalize()
}

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
    /// The sender's signed EIP-7702 authorization (ERC-7769's `eip7702Auth`), for a v0.8 op
    /// whose sender is an EOA to be delegated in the op's bundle: the bundler puts it in the
    /// bundle's authorization list. Not part of the packed op, nor of its hash.
    pub eip7702_auth: Option<alloy_eip7702::SignedAuthorization>,
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

impl PackedUserOperation {
    /// The user-op hash of `version`'s EntryPoint at `entry_point` on `chain_id`, as its
    /// `getUserOpHash` computes it. `sender_delegate` is the sender's current EIP-7702
    /// delegate (the address in its `0xef0100` designator); v0.8 needs it when the initCode
    /// carries the `0x7702` marker, and otherwise it is not read.
    pub fn hash_for(
        &self,
        version: EntryPointVersion,
        entry_point: Address,
        chain_id: u64,
        sender_delegate: Option<Address>,
    ) -> Result<B256, UserOpHashError> {
        match version {
            EntryPointVersion::V07 => Ok(self.hash(entry_point, chain_id)),
            EntryPointVersion::V08 => {
                let init_code_hash = if is_eip7702_init_code(&self.initCode) {
                    let delegate = sender_delegate
                        .ok_or(UserOpHashError::MissingDelegate { sender: self.sender })?;
                    eip7702_init_code_hash(&self.initCode, delegate)
                } else {
                    keccak256(&self.initCode)
                };
                let mut enc = [0u8; 288];
                enc[..32].copy_from_slice(packed_user_op_typehash().as_slice());
                enc[44..64].copy_from_slice(self.sender.as_slice());
                enc[64..96].copy_from_slice(&self.nonce.to_be_bytes::<32>());
                enc[96..128].copy_from_slice(init_code_hash.as_slice());
                enc[128..160].copy_from_slice(keccak256(&self.callData).as_slice());
                enc[160..192].copy_from_slice(self.accountGasLimits.as_slice());
                enc[192..224].copy_from_slice(&self.preVerificationGas.to_be_bytes::<32>());
                enc[224..256].copy_from_slice(self.gasFees.as_slice());
                enc[256..288].copy_from_slice(keccak256(&self.paymasterAndData).as_slice());
                let mut digest = [0u8; 66];
                digest[..2].copy_from_slice(&[0x19, 0x01]);
                digest[2..34].copy_from_slice(
                    entry_point_v08_domain_separator(entry_point, chain_id).as_slice(),
                );
                digest[34..].copy_from_slice(keccak256(enc).as_slice());
                Ok(keccak256(digest))
            }
        }
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
            eip7702_auth: None,
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

    mod eip712 {
        alloy_sol_types::sol! {
            struct PackedUserOperation {
                address sender;
                uint256 nonce;
                bytes initCode;
                bytes callData;
                bytes32 accountGasLimits;
                uint256 preVerificationGas;
                bytes32 gasFees;
                bytes paymasterAndData;
            }
        }
    }

    fn sample_op(init_code: &[u8]) -> PackedUserOperation {
        let mut op = UserOperation {
            sender: Address::repeat_byte(0x11),
            nonce: U256::from(7) << 64,
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
            ..Default::default()
        }
        .pack();
        op.initCode = Bytes::copy_from_slice(init_code);
        op
    }

    /// The v0.8 hash against alloy's generic EIP-712 encoder of the same struct and domain.
    #[test]
    fn v08_hash_is_eip712_of_the_packed_op() {
        use alloy_sol_types::{SolStruct, eip712_domain};
        for init_code in [&b""[..], &[0x22; 24][..]] {
            let op = sample_op(init_code);
            let typed = eip712::PackedUserOperation {
                sender: op.sender,
                nonce: op.nonce,
                initCode: op.initCode.clone(),
                callData: op.callData.clone(),
                accountGasLimits: op.accountGasLimits,
                preVerificationGas: op.preVerificationGas,
                gasFees: op.gasFees,
                paymasterAndData: op.paymasterAndData.clone(),
            };
            let domain = eip712_domain! {
                name: "ERC4337",
                version: "1",
                chain_id: 31337,
                verifying_contract: ENTRY_POINT_V08,
            };
            assert_eq!(typed.eip712_type_hash(), packed_user_op_typehash());
            assert_eq!(
                domain.separator(),
                entry_point_v08_domain_separator(ENTRY_POINT_V08, 31337)
            );
            let ours = op.hash_for(EntryPointVersion::V08, ENTRY_POINT_V08, 31337, None).unwrap();
            assert_eq!(ours, typed.eip712_signing_hash(&domain));
            assert_ne!(ours, op.hash(ENTRY_POINT_V08, 31337));
            assert_eq!(
                op.hash_for(EntryPointVersion::V07, ENTRY_POINT_V07, 31337, None).unwrap(),
                op.hash(ENTRY_POINT_V07, 31337)
            );
        }
    }

    /// `Eip7702Support._getEip7702InitCodeHashOverride` of 0.8.0 by hand: a marker initCode's
    /// hash is `keccak256(delegate ‖ initCode[20..])`, `keccak256(delegate)` up to 20 bytes.
    #[test]
    fn v08_eip7702_marker_uses_the_delegate() {
        use alloy_sol_types::eip712_domain;
        let delegate = Address::repeat_byte(0xde);
        let mut marker20 = [0u8; 20];
        marker20[..2].copy_from_slice(&[0x77, 0x02]);
        let with_data = [&marker20[..], b"factory data"].concat();
        let cases: [(&[u8], B256); 4] = [
            (&[0x77, 0x02], keccak256(delegate)),
            (&marker20, keccak256(delegate)),
            (&with_data, keccak256([delegate.as_slice(), b"factory data"].concat())),
            (&[0x77, 0x02, 0, 0, 0], keccak256(delegate)),
        ];
        let domain = eip712_domain! {
            name: "ERC4337",
            version: "1",
            chain_id: 1,
            verifying_contract: ENTRY_POINT_V08,
        };
        for (init_code, init_code_hash) in cases {
            assert!(is_eip7702_init_code(init_code));
            let op = sample_op(init_code);
            let struct_hash = keccak256(
                (
                    packed_user_op_typehash(),
                    op.sender,
                    op.nonce,
                    init_code_hash,
                    keccak256(&op.callData),
                    op.accountGasLimits,
                    op.preVerificationGas,
                    op.gasFees,
                    keccak256(&op.paymasterAndData),
                )
                    .abi_encode_params(),
            );
            let expected = keccak256(
                [&[0x19, 0x01][..], domain.separator().as_slice(), struct_hash.as_slice()].concat(),
            );
            assert_eq!(
                op.hash_for(EntryPointVersion::V08, ENTRY_POINT_V08, 1, Some(delegate)),
                Ok(expected)
            );
            assert_eq!(
                op.hash_for(EntryPointVersion::V08, ENTRY_POINT_V08, 1, None),
                Err(UserOpHashError::MissingDelegate { sender: op.sender })
            );
        }
        // Not a marker: too short, another 2 bytes, or a nonzero byte within the first 20.
        let mut factory_like = marker20;
        factory_like[19] = 1;
        for init_code in [&[0x77][..], &[0x77, 0x03], &factory_like] {
            assert!(!is_eip7702_init_code(init_code));
            let op = sample_op(init_code);
            assert_eq!(
                op.hash_for(EntryPointVersion::V08, ENTRY_POINT_V08, 1, None),
                op.hash_for(EntryPointVersion::V08, ENTRY_POINT_V08, 1, Some(delegate))
            );
        }
    }

    #[test]
    fn entry_point_version_of_canonical_addresses() {
        for v in [EntryPointVersion::V07, EntryPointVersion::V08] {
            assert_eq!(EntryPointVersion::of(v.address()), Some(v));
        }
        assert_eq!(EntryPointVersion::of(Address::ZERO), None);
    }

    #[test]
    fn unused_gas_penalty_per_release() {
        let (v7, v8) = (EntryPointVersion::V07, EntryPointVersion::V08);
        assert_eq!(v7.unused_gas_penalty(100_000, 100_000), 0);
        assert_eq!(v7.unused_gas_penalty(100_000, 110_000), 1_000);
        assert_eq!(v7.unused_gas_penalty(120_000, 110_000), 0);
        // v0.8: nothing up to 40,000 unused, then 10% of all of it.
        assert_eq!(v8.unused_gas_penalty(100_000, 140_000), 0);
        assert_eq!(v8.unused_gas_penalty(100_000, 140_010), 4_001);
        assert_eq!(v8.unused_gas_penalty(0, 1_000_000), 100_000);
    }

    #[test]
    fn nonce_routes_to_validator() {
        let validator = Address::repeat_byte(0xab);
        let nonce = validator_nonce(validator, 0, 3);
        assert_eq!(nonce_validator(nonce), validator);
        assert_eq!(validator_nonce_key(validator, 0) << 64 | U256::from(3), nonce);
    }
}
