//! A session key signing as the account (ERC-1271) through SmartSession: ERC-7739's nested
//! `TypedDataSign`, the only form SmartSession verifies (upstream's has no `PersonalSign` path;
//! Mandate's follows it).
//!
//! An app asks the account `isValidSignature(hash, signature)` for
//! `hash = keccak256(0x1901 ‖ appDomainSeparator ‖ contents)`, `contents` being the app's
//! struct hash. The session key signs another hash: the same contents wrapped in
//! `TypedDataSign(<Name> contents,string name,string version,uint256 chainId,address
//! verifyingContract,bytes32 salt)<contentsType>` with the **account's** EIP-712 domain
//! ([`AccountDomain`], from its `eip712Domain()`), under the app's separator. The signature
//! SmartSession takes is
//! `permissionId ‖ sessionSig ‖ appDomainSeparator ‖ contents ‖ description ‖ uint16(len)`,
//! the description being `contentsType` (implicit mode, when the contents type sorts first among
//! the types it uses) or `contentsType ‖ Name` (explicit mode); the account's routing prefix
//! ([`crate::AccountType::erc1271_prefix`]) goes before it. The session must allow the exact
//! description under that separator (`ERC7739Context.contentNames`) and hold at least one
//! ERC-1271 policy.
//!
//! SmartSession does not compare `hash` with what the session key signed (spec §8): one such
//! signature is valid for any hash asked of the account. [`crate::explain`] warns of it.
//!
//! ```
//! use mandate_abi::{
//!     PermissionId,
//!     alloy_primitives::{Address, B256, U256},
//!     erc7739::{AccountDomain, Contents},
//! };
//!
//! let typed: alloy_dyn_abi::TypedData = serde_json::from_value(serde_json::json!({
//!     "types": {
//!         "EIP712Domain": [{ "name": "name", "type": "string" }],
//!         "Mail": [{ "name": "contents", "type": "string" }],
//!     },
//!     "primaryType": "Mail",
//!     "domain": { "name": "Mail App" },
//!     "message": { "contents": "hello" },
//! }))?;
//! let contents = Contents::from_typed_data(&typed)?;
//! assert_eq!(contents.description.as_ref(), b"Mail(string contents)");
//! // What the app will ask the account about.
//! assert_eq!(contents.app_hash(), typed.eip712_signing_hash()?);
//!
//! let account = AccountDomain {
//!     name: "Nexus".into(),
//!     version: "1.0.1".into(),
//!     chain_id: U256::from(31337),
//!     verifying_contract: Address::repeat_byte(0xac),
//!     salt: B256::ZERO,
//! };
//! let digest = contents.signing_hash(&account)?; // what the session key signs
//! let session_sig = [0x11u8; 65];
//! let signature = contents.encode_signature(PermissionId(B256::repeat_byte(1)), &session_sig)?;
//! let decoded = mandate_abi::erc7739::decode_signature(&signature)?;
//! assert_eq!(decoded.contents, contents);
//! assert_eq!(decoded.contents.signing_hash(&account)?, digest);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloy_dyn_abi::TypedData;
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_sol_types::SolValue;

use crate::{PermissionId, sol::IERC5267};

/// ERC-6492's suffix: a signature ending in it wraps the real one (with a factory to deploy
/// the account first).
pub const ERC6492_MAGIC: B256 = B256::new(repeat2(0x64, 0x92));

/// The hash ERC-7739 detection asks about (`0x7739` sixteen times); SmartSession answers
/// [`ERC7739_SUPPORTED`].
pub const DETECTION_HASH: B256 = B256::new(repeat2(0x77, 0x39));
/// SmartSession's answer to [`DETECTION_HASH`].
pub const ERC7739_SUPPORTED: [u8; 4] = [0x77, 0x39, 0x00, 0x01];

const fn repeat2(a: u8, b: u8) -> [u8; 32] {
    let mut word = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        word[i] = if i % 2 == 0 { a } else { b };
        i += 1;
    }
    word
}

/// Why contents cannot be signed or a signature cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Erc7739Error {
    /// The typed data does not hash (a missing type, a value of the wrong type, …).
    #[error("the typed data: {0}")]
    TypedData(#[source] alloy_dyn_abi::Error),
    /// The contents type's name is one ERC-7739 refuses (empty, starting with a lower-case
    /// letter, or holding a NUL, space, comma or parenthesis): SmartSession would hash it into
    /// a digest no wallet shows.
    #[error(
        "contents type name {0:?}: ERC-7739 wants a name that starts with no lower-case letter \
         and holds no NUL, space, ',' or ')'"
    )]
    InvalidContentsName(String),
    /// The description does not fit the signature's 16-bit length.
    #[error("the contents description is {0} bytes; a signature carries at most 65535")]
    DescriptionTooLong(usize),
}

/// Why a session signature does not read as one (SmartSession reverts on each of these).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureLayoutError {
    /// A signature too short for what its last two bytes say follows.
    #[error(
        "the signature is {len} bytes; its tail says {needed} bytes of separator, contents and \
         description precede the length, and a permission id before them"
    )]
    Truncated {
        /// The signature's length.
        len: usize,
        /// What its tail needs.
        needed: usize,
    },
    /// The contents description is empty (SmartSession reverts on it).
    #[error("the signature's contents description is empty")]
    EmptyDescription,
    /// An ERC-6492 wrapper whose inner signature does not decode.
    #[error("the ERC-6492 wrapper does not decode as (address, bytes, bytes)")]
    Erc6492,
}

/// An account's EIP-712 domain, the five fields `TypedDataSign` nests (ERC-5267's `fields`
/// and `extensions` are not part of it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountDomain {
    /// `name`.
    pub name: String,
    /// `version`.
    pub version: String,
    /// `chainId`.
    pub chain_id: U256,
    /// `verifyingContract`: the account.
    pub verifying_contract: Address,
    /// `salt`.
    pub salt: B256,
}

impl From<IERC5267::eip712DomainReturn> for AccountDomain {
    fn from(r: IERC5267::eip712DomainReturn) -> Self {
        Self {
            name: r.name,
            version: r.version,
            chain_id: r.chainId,
            verifying_contract: r.verifyingContract,
            salt: r.salt,
        }
    }
}

/// What a session key signs for: the app's contents under its domain, and how they are
/// described.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contents {
    /// The app's EIP-712 domain separator.
    pub app_domain_separator: B256,
    /// The app's struct hash.
    pub contents: B256,
    /// `contentsType` (implicit mode) or `contentsType ‖ contentsName` (explicit mode): the
    /// string the session must allow under the separator.
    pub description: Bytes,
}

impl Contents {
    /// The contents of `typed` (an `eth_signTypedData_v4` request): its domain separator, its
    /// message's struct hash, and the description — implicit when the primary type sorts first
    /// among the types it uses, else explicit.
    pub fn from_typed_data(typed: &TypedData) -> Result<Self, Erc7739Error> {
        let name = typed.primary_type.as_str();
        if !valid_name(name.as_bytes()) {
            return Err(Erc7739Error::InvalidContentsName(name.to_owned()));
        }
        let contents = typed.hash_struct().map_err(Erc7739Error::TypedData)?;
        let mut types: Vec<String> = typed
            .resolver
            .linearize(name)
            .map_err(Erc7739Error::TypedData)?
            .into_iter()
            .map(|def| def.eip712_encode_type())
            .collect();
        types.sort_unstable();
        let mut description = types.concat();
        let implicit = types.first().is_some_and(|first| {
            first.strip_prefix(name).is_some_and(|rest| rest.starts_with('('))
        });
        if !implicit {
            description.push_str(name);
        }
        Ok(Self {
            app_domain_separator: typed.domain.separator(),
            contents,
            description: description.into_bytes().into(),
        })
    }

    /// The hash the app asks the account about: `keccak256(0x1901 ‖ separator ‖ contents)`.
    pub fn app_hash(&self) -> B256 {
        keccak256(
            [&[0x19, 0x01][..], self.app_domain_separator.as_slice(), self.contents.as_slice()]
                .concat(),
        )
    }

    /// The digest the session key signs for `account`'s domain (SmartSession's nested hash).
    /// Refused for a contents name ERC-7739 does not accept ([`nested_hash`] gives what
    /// SmartSession computes for it).
    pub fn signing_hash(&self, account: &AccountDomain) -> Result<B256, Erc7739Error> {
        let (_, name) = split_description(&self.description);
        if !valid_name(name) {
            return Err(Erc7739Error::InvalidContentsName(
                String::from_utf8_lossy(name).into_owned(),
            ));
        }
        Ok(nested_hash(self, account))
    }

    /// `permissionId ‖ session_sig ‖ separator ‖ contents ‖ description ‖ uint16(len)`: the
    /// signature SmartSession's `isValidSignatureWithSender` takes (without the account's
    /// routing prefix).
    pub fn encode_signature(
        &self,
        permission_id: PermissionId,
        session_sig: &[u8],
    ) -> Result<Bytes, Erc7739Error> {
        let len = u16::try_from(self.description.len())
            .map_err(|_| Erc7739Error::DescriptionTooLong(self.description.len()))?;
        Ok([
            permission_id.0.as_slice(),
            session_sig,
            self.app_domain_separator.as_slice(),
            self.contents.as_slice(),
            &self.description,
            &len.to_be_bytes(),
        ]
        .concat()
        .into())
    }
}

/// A session signature read back: what [`Contents::encode_signature`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedSignature {
    /// The permission.
    pub permission_id: PermissionId,
    /// The session validator's signature.
    pub session_sig: Bytes,
    /// What it signs for.
    pub contents: Contents,
}

/// Reads a session signature as SmartSession does (after the account's routing prefix): an
/// ERC-6492 wrapper unwrapped, then the description's length from the last two bytes.
pub fn decode_signature(signature: &[u8]) -> Result<DecodedSignature, SignatureLayoutError> {
    let mut signature = signature;
    let unwrapped;
    if signature.len() >= 32 && signature[signature.len() - 32..] == ERC6492_MAGIC[..] {
        let body = &signature[..signature.len() - 32];
        let (_, _, inner) = <(Address, Bytes, Bytes)>::abi_decode_params(body)
            .map_err(|_| SignatureLayoutError::Erc6492)?;
        unwrapped = inner;
        signature = &unwrapped;
    }
    let len = signature.len();
    let truncated = |needed| SignatureLayoutError::Truncated { len, needed };
    let tail = signature.get(len.wrapping_sub(2)..).filter(|_| len >= 2).ok_or(truncated(2))?;
    let c = usize::from(u16::from_be_bytes([tail[0], tail[1]]));
    if c == 0 {
        return Err(SignatureLayoutError::EmptyDescription);
    }
    let needed = 32 + 0x42 + c;
    if len < needed {
        return Err(truncated(needed));
    }
    let start = len - (0x42 + c);
    Ok(DecodedSignature {
        permission_id: PermissionId(B256::from_slice(&signature[..32])),
        session_sig: Bytes::copy_from_slice(&signature[32..start]),
        contents: Contents {
            app_domain_separator: B256::from_slice(&signature[start..start + 32]),
            contents: B256::from_slice(&signature[start + 32..start + 64]),
            description: Bytes::copy_from_slice(&signature[start + 64..len - 2]),
        },
    })
}

/// `(contentsType, contentsName)` of a description: implicit mode (it ends with `)`; the name
/// is what precedes its first `(`) or explicit (the name follows the last `)`), the name cut at
/// its first `(`.
pub fn split_description(description: &[u8]) -> (&[u8], &[u8]) {
    let (ty, name) = if description.last() == Some(&b')') {
        (description, description)
    } else {
        let at = description.iter().rposition(|b| *b == b')').map_or(0, |i| i + 1);
        (&description[..at], &description[at..])
    };
    let name = &name[..name.iter().position(|b| *b == b'(').unwrap_or(name.len())];
    (ty, name)
}

/// Whether ERC-7739 accepts `name` as a contents name.
fn valid_name(name: &[u8]) -> bool {
    !name.is_empty()
        && !name[0].is_ascii_lowercase()
        && !name.iter().any(|b| matches!(b, 0 | b' ' | b',' | b')' | b'('))
}

/// The nested hash SmartSession computes for `contents` on `account`'s domain, whatever the
/// name: for a name ERC-7739 refuses, with one zero byte more hashed (a digest no wallet
/// shows).
pub fn nested_hash(contents: &Contents, account: &AccountDomain) -> B256 {
    let (ty, name) = split_description(&contents.description);
    let type_hash = keccak256(
        [
            b"TypedDataSign(".as_slice(),
            name,
            b" contents,string name,string version,uint256 chainId,address verifyingContract,bytes32 salt)",
            ty,
        ]
        .concat(),
    );
    let struct_hash = keccak256(
        (
            type_hash,
            contents.contents,
            keccak256(account.name.as_bytes()),
            keccak256(account.version.as_bytes()),
            account.chain_id,
            account.verifying_contract,
            account.salt,
        )
            .abi_encode(),
    );
    let mut preimage =
        [&[0x19, 0x01][..], contents.app_domain_separator.as_slice(), struct_hash.as_slice()]
            .concat();
    if !valid_name(name) {
        preimage.push(0);
    }
    keccak256(preimage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_sol_types::{SolStruct, eip712_domain, sol};

    sol! {
        struct Mail { string contents; }
        struct TypedDataSign {
            Mail contents;
            string name;
            string version;
            uint256 chainId;
            address verifyingContract;
            bytes32 salt;
        }
    }

    /// A letter between two people: a contents type using another.
    mod letter {
        alloy_sol_types::sol! {
            struct Person { string name; address wallet; }
            struct Letter { Person from; Person to; string body; }
            struct TypedDataSign {
                Letter contents;
                string name;
                string version;
                uint256 chainId;
                address verifyingContract;
                bytes32 salt;
            }
        }
    }
    use letter::{Letter, Person};

    fn account(name: &str, version: &str) -> AccountDomain {
        AccountDomain {
            name: name.into(),
            version: version.into(),
            chain_id: U256::from(31337),
            verifying_contract: Address::repeat_byte(0xac),
            salt: B256::ZERO,
        }
    }

    #[test]
    fn the_constants_are_the_standards() {
        assert_eq!(
            DETECTION_HASH.to_string(),
            "0x7739773977397739773977397739773977397739773977397739773977397739"
        );
        assert_eq!(
            ERC6492_MAGIC.to_string(),
            "0x6492649264926492649264926492649264926492649264926492649264926492"
        );
    }

    /// The nested hash against alloy's EIP-712 of the `TypedDataSign` struct (implicit mode:
    /// `Mail` sorts first), and against the hashes js-sha3 gives for the families' domains
    /// (the upstream test's app domain, `Mail{"hello"}`, account 0xacac…, chain 31337).
    #[test]
    fn the_nested_hash_is_eip712_of_typed_data_sign() {
        let app = eip712_domain! {
            name: "Forge",
            version: "1",
            chain_id: 1,
            verifying_contract: alloy_primitives::address!("6605F8785E09a245DD558e55F9A0f4A508434503"),
        };
        let mail = Mail { contents: "hello".into() };
        let contents = Contents {
            app_domain_separator: app.separator(),
            contents: mail.eip712_hash_struct(),
            description: Bytes::from_static(b"Mail(string contents)"),
        };
        assert_eq!(
            contents.app_hash().to_string(),
            "0x2feea26f5ea016e031d92f354feeffba7e703bd30cae2df938d822d16b7317e6"
        );
        for (name, version, expected) in [
            (
                "Mandate Account",
                "0.1.0",
                "0x01ae91aeab5910f272f0db8bba7065b77423fdb4dc936b7c37e9519d1441a058",
            ),
            (
                "Nexus",
                "1.0.1",
                "0x667c008adba147b357caa2e859ab2dde8a05cc6b65f38a4b307b523e0f7b5aaf",
            ),
            (
                "Kernel",
                "0.3.1",
                "0x1b8b54919b71348cc08f848f2c08c3e08feea666a6f404ab7141e2c5a4eb73a8",
            ),
            (
                "rhinestone safe7579",
                "v1.0.0",
                "0xe98645822181d1f239231646ecb34be2ed337a409ec9d7d99513112be9875614",
            ),
            (
                "uMSA advanced/withHook",
                "v0.1",
                "0x28e240d33b201fcf1b0d27fc7ae199abdd66e34bfe1cfd58d6ffddca597d82af",
            ),
        ] {
            let domain = account(name, version);
            let digest = contents.signing_hash(&domain).unwrap();
            assert_eq!(digest.to_string(), expected, "{name}");
            let wrapped = TypedDataSign {
                contents: mail.clone(),
                name: name.into(),
                version: version.into(),
                chainId: domain.chain_id,
                verifyingContract: domain.verifying_contract,
                salt: domain.salt,
            };
            assert_eq!(digest, wrapped.eip712_signing_hash(&app), "{name}");
        }
        // Explicit mode: the same type, the name appended, the same digest.
        let implicit = contents.signing_hash(&account("Nexus", "1.0.1")).unwrap();
        let explicit =
            Contents { description: Bytes::from_static(b"Mail(string contents)Mail"), ..contents };
        assert_eq!(explicit.signing_hash(&account("Nexus", "1.0.1")).unwrap(), implicit);
    }

    #[test]
    fn typed_data_whose_types_sort_before_the_primary_is_explicit() {
        let typed: TypedData = serde_json::from_value(serde_json::json!({
            "types": {
                "EIP712Domain": [
                    { "name": "name", "type": "string" },
                    { "name": "chainId", "type": "uint256" },
                ],
                "Letter": [
                    { "name": "from", "type": "Person" },
                    { "name": "to", "type": "Person" },
                    { "name": "body", "type": "string" },
                ],
                "Person": [
                    { "name": "name", "type": "string" },
                    { "name": "wallet", "type": "address" },
                ],
            },
            "primaryType": "Letter",
            "domain": { "name": "Post", "chainId": 1 },
            "message": {
                "from": { "name": "a", "wallet": Address::repeat_byte(1) },
                "to": { "name": "b", "wallet": Address::repeat_byte(2) },
                "body": "hi",
            },
        }))
        .unwrap();
        // Letter sorts before Person: implicit.
        let contents = Contents::from_typed_data(&typed).unwrap();
        assert_eq!(
            contents.description.as_ref(),
            b"Letter(Person from,Person to,string body)Person(string name,address wallet)"
        );
        assert_eq!(contents.app_hash(), typed.eip712_signing_hash().unwrap());
        let letter = Letter {
            from: Person { name: "a".into(), wallet: Address::repeat_byte(1) },
            to: Person { name: "b".into(), wallet: Address::repeat_byte(2) },
            body: "hi".into(),
        };
        let domain = account("Nexus", "1.0.1");
        let wrapped = letter::TypedDataSign {
            contents: letter,
            name: domain.name.clone(),
            version: domain.version.clone(),
            chainId: domain.chain_id,
            verifyingContract: domain.verifying_contract,
            salt: domain.salt,
        };
        assert_eq!(
            contents.signing_hash(&domain).unwrap(),
            wrapped.eip712_signing_hash(&typed.domain)
        );

        // Renamed so that a used type sorts first: explicit, the name appended.
        let renamed = serde_json::to_string(&typed).unwrap().replace("Person", "Author");
        let renamed: TypedData = serde_json::from_str(&renamed).unwrap();
        let contents = Contents::from_typed_data(&renamed).unwrap();
        assert_eq!(
            contents.description.as_ref(),
            b"Author(string name,address wallet)Letter(Author from,Author to,string body)Letter"
        );
        assert_eq!(split_description(&contents.description).1, b"Letter");
    }

    #[test]
    fn signatures_read_back_and_bad_ones_are_named() {
        let contents = Contents {
            app_domain_separator: B256::repeat_byte(0xaa),
            contents: B256::repeat_byte(0xcc),
            description: Bytes::from_static(b"Mail(string contents)"),
        };
        let pid = PermissionId(B256::repeat_byte(1));
        let sig = contents.encode_signature(pid, &[7u8; 65]).unwrap();
        assert_eq!(sig.len(), 32 + 65 + 64 + 21 + 2);
        assert_eq!(&sig[sig.len() - 2..], &[0, 21]);
        let decoded = decode_signature(&sig).unwrap();
        assert_eq!((decoded.permission_id, decoded.session_sig.as_ref()), (pid, &[7u8; 65][..]));
        assert_eq!(decoded.contents, contents);
        // ERC-6492: the inner signature.
        let wrapped = [
            (Address::repeat_byte(9), Bytes::from_static(b"deploy"), sig.clone())
                .abi_encode_params(),
            ERC6492_MAGIC.to_vec(),
        ]
        .concat();
        assert_eq!(decode_signature(&wrapped).unwrap(), decoded);

        assert!(matches!(
            decode_signature(&[0]),
            Err(SignatureLayoutError::Truncated { len: 1, .. })
        ));
        assert!(matches!(
            decode_signature(&sig[sig.len() - 90..]),
            Err(SignatureLayoutError::Truncated { len: 90, needed: 119 })
        ));
        assert!(matches!(
            decode_signature(&[1u8, 0, 0]),
            Err(SignatureLayoutError::EmptyDescription)
        ));
        let garbled = [vec![0u8; 40], ERC6492_MAGIC.to_vec()].concat();
        assert!(matches!(decode_signature(&garbled), Err(SignatureLayoutError::Erc6492)));
        let long = Contents { description: vec![b'A'; 70_000].into(), ..contents };
        assert!(matches!(
            long.encode_signature(pid, &[]),
            Err(Erc7739Error::DescriptionTooLong(70_000))
        ));
    }

    #[test]
    fn names_erc7739_refuses_are_refused_and_hash_as_smart_session_does() {
        for name in ["mail", "Ma il", "Ma,il", ""] {
            let description = format!("{name}(string contents)");
            let contents = Contents {
                app_domain_separator: B256::repeat_byte(0xaa),
                contents: B256::repeat_byte(0xcc),
                description: description.clone().into_bytes().into(),
            };
            let domain = account("Nexus", "1.0.1");
            assert!(
                matches!(contents.signing_hash(&domain), Err(Erc7739Error::InvalidContentsName(_))),
                "{description}"
            );
            // SmartSession's hash of it: one zero byte more than the valid-name formula.
            let valid = Contents {
                description: Bytes::from_static(b"Mail(string contents)"),
                ..contents.clone()
            };
            assert_ne!(nested_hash(&contents, &domain), nested_hash(&valid, &domain));
        }
        assert_eq!(
            split_description(b"Mail(string contents)"),
            (&b"Mail(string contents)"[..], &b"Mail"[..])
        );
        assert_eq!(split_description(b"NoParens"), (&b""[..], &b"NoParens"[..]));
        assert_eq!(
            split_description(b"A(uint256 x)B(uint256 y)B"),
            (&b"A(uint256 x)B(uint256 y)"[..], &b"B"[..])
        );
    }
}
