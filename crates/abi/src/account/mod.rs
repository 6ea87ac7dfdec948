//! What differs per smart-account family (spec `accounts.md`): the nonce key that routes an op to
//! a validator, SmartSession's install data, the routing prefix of the owner's ENABLE signature and
//! of a session's ERC-1271 signature, and how an account is created. One file per family; the
//! [`AccountType`] names them.
//!
//! The encodings common to all ERC-7579 accounts (`execute`, `installModule`,
//! `isModuleInstalled`) are here too.

pub mod kernel;
pub mod mandate;
pub mod msa;
pub mod nexus;
pub mod safe;

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{SolCall, SolValue};
use serde::{Deserialize, Serialize};

use crate::{signature::SignatureError, sol::IERC7579Account};

/// ERC-7579 module type of validators.
pub const MODULE_TYPE_VALIDATOR: u64 = 1;
/// ERC-7579 module type of fallback handlers.
pub const MODULE_TYPE_FALLBACK: u64 = 3;

/// The built-in account families, by the names module-sdk and the CLI use. Each names the file
/// of this module that holds its encodings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AccountType {
    /// Mandate's own ERC-7579 account ([`mandate`]).
    #[serde(rename = "mandate")]
    Mandate,
    /// Biconomy Nexus ([`nexus`]).
    #[serde(rename = "nexus")]
    Nexus,
    /// ZeroDev Kernel v3.1 ([`kernel`]).
    #[serde(rename = "kernel")]
    Kernel,
    /// Safe 1.4.1 with the Safe7579 adapter ([`safe`]).
    #[serde(rename = "safe")]
    Safe,
    /// The ERC-7579 reference implementation, MSAAdvanced ([`msa`]); module-sdk calls it
    /// `erc7579-implementation`.
    #[serde(rename = "erc7579-implementation", alias = "msa")]
    Msa,
}

impl AccountType {
    /// Every built-in family.
    pub const ALL: [Self; 5] = [Self::Mandate, Self::Nexus, Self::Kernel, Self::Safe, Self::Msa];

    /// The family's name (as the CLI and JSON write it).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Mandate => "mandate",
            Self::Nexus => "nexus",
            Self::Kernel => "kernel",
            Self::Safe => "safe",
            Self::Msa => "erc7579-implementation",
        }
    }

    /// The bytes before a validator's address in a signature the account's `isValidSignature`
    /// routes to that validator.
    const fn erc1271_lead(self) -> &'static [u8] {
        match self {
            Self::Kernel => &kernel::ERC1271_VALIDATOR_LEAD,
            Self::Mandate | Self::Nexus | Self::Safe | Self::Msa => &[],
        }
    }

    /// The routing prefix the account's `isValidSignature` needs to reach `validator`.
    pub fn erc1271_prefix(self, validator: Address) -> Vec<u8> {
        [self.erc1271_lead(), validator.as_slice()].concat()
    }

    /// `prefix ‖ validator ‖ signature`: the owner's ENABLE signature (`permissionEnableSig`)
    /// as the account's `isValidSignature` expects it.
    pub fn format_enable_signature(self, validator: Address, signature: &[u8]) -> Bytes {
        [self.erc1271_prefix(validator).as_slice(), signature].concat().into()
    }

    /// Splits a formatted enable signature into the validator and the raw signature.
    pub fn parse_enable_signature(
        self,
        formatted: &[u8],
    ) -> Result<(Address, Bytes), SignatureError> {
        let lead = self.erc1271_lead();
        if formatted.len() < lead.len() + 20 || !formatted.starts_with(lead) {
            return Err(SignatureError::EnableSignaturePrefix { account_type: self });
        }
        let rest = &formatted[lead.len()..];
        Ok((Address::from_slice(&rest[..20]), Bytes::copy_from_slice(&rest[20..])))
    }

    /// The hash an account's validator sees when the account is asked `isValidSignature(hash)`:
    /// Kernel wraps it in its own EIP-712 type ([`kernel::wrap_hash`]); the others pass it on.
    pub fn erc1271_hash(self, hash: B256, chain_id: u64, account: Address) -> B256 {
        match self {
            Self::Kernel => kernel::wrap_hash(hash, chain_id, account),
            Self::Mandate | Self::Nexus | Self::Safe | Self::Msa => hash,
        }
    }

    /// The `installModule(3, fallback, data)` data that routes `eip712Domain()` (ERC-5267) to
    /// the compatibility fallback with call type STATIC (`0xfe`, as it runs inside
    /// SmartSession's static call), for the families without a domain of their own: Safe7579
    /// ABI-encodes `(bytes4 selector, bytes1 callType, bytes initData)`, the reference account
    /// packs them. `None` for the families that answer `eip712Domain()` themselves.
    pub fn compatibility_fallback_install_data(self) -> Option<Bytes> {
        const EIP712_DOMAIN: [u8; 4] = [0x84, 0xb0, 0x19, 0x6e];
        const CALLTYPE_STATIC: u8 = 0xfe;
        match self {
            Self::Safe => Some(
                (
                    alloy_primitives::FixedBytes::<4>::from(EIP712_DOMAIN),
                    alloy_primitives::FixedBytes::<1>::from([CALLTYPE_STATIC]),
                    Bytes::new(),
                )
                    .abi_encode_params()
                    .into(),
            ),
            Self::Msa => Some([&EIP712_DOMAIN[..], &[CALLTYPE_STATIC]].concat().into()),
            Self::Mandate | Self::Nexus | Self::Kernel => None,
        }
    }

    /// SmartSession's `installModule` init data on this family: Kernel's envelope around
    /// `smart_session_init` ([`kernel::smart_session_install_data`]), the bytes as they are
    /// elsewhere.
    pub fn smart_session_install_data(self, smart_session_init: &[u8]) -> Bytes {
        match self {
            Self::Kernel => kernel::smart_session_install_data(smart_session_init),
            Self::Mandate | Self::Nexus | Self::Safe | Self::Msa => {
                Bytes::copy_from_slice(smart_session_init)
            }
        }
    }

    /// The 192-bit nonce key (as `EntryPoint.getNonce` takes it) that routes an op to a
    /// non-root `validator` in parallel lane `lane` (the family's free bits; Nexus has 24, Kernel
    /// 16, the others 32: a wider lane is refused).
    pub fn validator_nonce_key(self, validator: Address, lane: u32) -> Result<U256, NonceKeyError> {
        match self {
            Self::Nexus => Ok(nexus::nonce_key(validator, lane_bytes(self, lane, 24)?)),
            Self::Kernel => Ok(kernel::nonce_key(
                kernel::ValidationType::Validator,
                validator,
                lane_bytes(self, lane, 16)?,
            )),
            Self::Mandate | Self::Safe | Self::Msa => {
                Ok(crate::user_op::validator_nonce_key(validator, lane))
            }
        }
    }

    /// The account id (`accountId()`, ERC-7579) a deployed account of this family answers with
    /// starts with this.
    pub const fn account_id_prefix(self) -> &'static str {
        match self {
            Self::Mandate => mandate::ACCOUNT_ID_PREFIX,
            Self::Nexus => nexus::ACCOUNT_ID_PREFIX,
            Self::Kernel => kernel::ACCOUNT_ID_PREFIX,
            Self::Safe => safe::ACCOUNT_ID_PREFIX,
            Self::Msa => msa::ACCOUNT_ID_PREFIX,
        }
    }
}

/// `lane` must fit in `bits`.
fn lane_bytes(account_type: AccountType, lane: u32, bits: u32) -> Result<u32, NonceKeyError> {
    if bits < 32 && lane >> bits != 0 {
        return Err(NonceKeyError::LaneTooWide { account_type, lane, bits });
    }
    Ok(lane)
}

impl std::fmt::Display for AccountType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for AccountType {
    type Err = SignatureError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mandate" => Ok(Self::Mandate),
            "nexus" => Ok(Self::Nexus),
            "kernel" => Ok(Self::Kernel),
            "safe" => Ok(Self::Safe),
            "erc7579-implementation" | "msa" => Ok(Self::Msa),
            other => Err(SignatureError::UnknownAccountType(other.to_string())),
        }
    }
}

/// Why a nonce key could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NonceKeyError {
    /// The lane does not fit in the family's free nonce-key bits.
    #[error(
        "lane {lane:#x} does not fit in the {bits} free nonce-key bits of a {account_type} account"
    )]
    LaneTooWide {
        /// The family.
        account_type: AccountType,
        /// The lane asked for.
        lane: u32,
        /// The free bits.
        bits: u32,
    },
}

/// The account's `isModuleInstalled(validator, module, "")` call.
pub fn is_validator_installed(module: Address) -> IERC7579Account::isModuleInstalledCall {
    IERC7579Account::isModuleInstalledCall {
        moduleTypeId: U256::from(MODULE_TYPE_VALIDATOR),
        module,
        additionalContext: Bytes::new(),
    }
}

/// The account's `installModule(validator, module, init_data)` calldata.
pub fn install_validator(module: Address, init_data: Bytes) -> Bytes {
    IERC7579Account::installModuleCall {
        moduleTypeId: U256::from(MODULE_TYPE_VALIDATOR),
        module,
        initData: init_data,
    }
    .abi_encode()
    .into()
}

/// The sentinel that heads the validator lists of Nexus, Safe7579 and the ERC-7579 reference.
pub const SENTINEL: Address =
    alloy_primitives::address!("0000000000000000000000000000000000000001");

/// `uninstallModule(1, module, deinit_data)`: the account's own call that uninstalls a
/// validator (`deinit_data` as the family wants it: SmartSession's own for Mandate's account and
/// Kernel, [`sentinel_list_deinit`] for Nexus, Safe7579 and the ERC-7579 reference).
pub fn uninstall_validator(module: Address, deinit_data: Bytes) -> Bytes {
    IERC7579Account::uninstallModuleCall {
        moduleTypeId: U256::from(MODULE_TYPE_VALIDATOR),
        module,
        deInitData: deinit_data,
    }
    .abi_encode()
    .into()
}

/// The uninstall data of a validator in a sentinel list: `abi.encode(prev, module_deinit)`,
/// `prev` the entry before the module in the account's list ([`SENTINEL`] for the first).
pub fn sentinel_list_deinit(prev: Address, module_deinit: &[u8]) -> Bytes {
    (prev, Bytes::copy_from_slice(module_deinit)).abi_encode_params().into()
}

/// The entry before `module` in a sentinel list read in order (`None` if it is not listed).
pub fn prev_in_list(list: &[Address], module: Address) -> Option<Address> {
    let at = list.iter().position(|v| *v == module)?;
    Some(if at == 0 { SENTINEL } else { list[at - 1] })
}

#[cfg(test)]
mod tests {
    #[test]
    fn sentinel_list_prev_and_deinit() {
        let (a, b) = (Address::repeat_byte(0xa), Address::repeat_byte(0xb));
        assert_eq!(prev_in_list(&[a, b], a), Some(SENTINEL));
        assert_eq!(prev_in_list(&[a, b], b), Some(a));
        assert_eq!(prev_in_list(&[a], b), None);
        let data = sentinel_list_deinit(a, &[]);
        let (prev, inner) = <(Address, Bytes)>::abi_decode_params(&data).unwrap();
        assert_eq!((prev, inner.len()), (a, 0));
        assert_eq!(&uninstall_validator(b, data)[..4], alloy_primitives::hex!("a71763a8"));
    }

    use alloy_primitives::{address, hex};

    use super::*;

    const V: Address = address!("1111111111111111111111111111111111111111");

    #[test]
    fn names_round_trip_and_module_sdk_names_parse() {
        for t in AccountType::ALL {
            assert_eq!(t.name().parse::<AccountType>().unwrap(), t);
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(serde_json::from_str::<AccountType>(&json).unwrap(), t);
        }
        assert_eq!("msa".parse::<AccountType>().unwrap(), AccountType::Msa);
        assert!("light".parse::<AccountType>().is_err());
    }

    #[test]
    fn enable_signatures_carry_the_family_prefix() {
        let k = AccountType::Kernel.format_enable_signature(V, &[0xaa]);
        assert_eq!(k.as_ref(), [&[0x01][..], V.as_slice(), &[0xaa]].concat().as_slice());
        for t in [AccountType::Mandate, AccountType::Nexus, AccountType::Safe, AccountType::Msa] {
            let s = t.format_enable_signature(V, &[0xaa]);
            assert_eq!(s.as_ref(), [V.as_slice(), &[0xaa]].concat().as_slice());
            assert_eq!(t.parse_enable_signature(&s).unwrap(), (V, Bytes::from(vec![0xaa])));
        }
        assert!(AccountType::Kernel.parse_enable_signature(&[0u8; 21]).is_err());
    }

    #[test]
    fn nonce_keys_put_the_validator_where_the_family_reads_it() {
        let word = |key: U256| (key << 64usize).to_be_bytes::<32>();
        let nexus = word(AccountType::Nexus.validator_nonce_key(V, 0xabcdef).unwrap());
        assert_eq!(nexus[..4], hex!("abcdef00"));
        assert_eq!(&nexus[4..24], V.as_slice());
        let kernel = word(AccountType::Kernel.validator_nonce_key(V, 7).unwrap());
        assert_eq!(kernel[..2], hex!("0001"));
        assert_eq!(&kernel[2..22], V.as_slice());
        assert_eq!(kernel[22..24], hex!("0007"));
        for t in [AccountType::Mandate, AccountType::Safe, AccountType::Msa] {
            let w = word(t.validator_nonce_key(V, 0x0102_0304).unwrap());
            assert_eq!(&w[..20], V.as_slice());
            assert_eq!(w[20..24], hex!("01020304"));
        }
        assert_eq!(
            AccountType::Nexus.validator_nonce_key(V, 1 << 24),
            Err(NonceKeyError::LaneTooWide {
                account_type: AccountType::Nexus,
                lane: 1 << 24,
                bits: 24
            })
        );
        assert!(AccountType::Kernel.validator_nonce_key(V, 1 << 16).is_err());
    }
}
