//! Identifiers: permission ids, action ids and policy config ids (spec §1.2).

use alloy_primitives::{Address, B256, FixedBytes, Keccak256, keccak256};
use alloy_sol_types::SolValue;

use crate::sol::Session;

macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub B256);

        impl From<B256> for $name {
            fn from(value: B256) -> Self {
                Self(value)
            }
        }

        impl From<$name> for B256 {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = alloy_primitives::hex::FromHexError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse::<B256>().map(Self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

id_newtype!(
    /// `keccak256(abi.encode(sessionValidator, sessionValidatorInitData, salt))`.
    PermissionId
);
id_newtype!(
    /// `keccak256(abi.encodePacked(target, selector))`.
    ActionId
);
id_newtype!(
    /// The key under which a policy stores its state for one account and one slot.
    ConfigId
);

/// Target flag of the fallback actions.
pub const FALLBACK_TARGET: Address = Address::with_last_byte(1);
/// Selector flag of the generic fallback action.
pub const FALLBACK_SELECTOR: FixedBytes<4> = FixedBytes([0, 0, 0, 1]);
/// Selector flag of the fallback action that may call SmartSession itself.
pub const FALLBACK_SELECTOR_SMART_SESSION_CALL: FixedBytes<4> = FixedBytes([0, 0, 0, 2]);
/// Pseudo-selector of calls with fewer than 4 bytes of calldata.
pub const VALUE_SELECTOR: FixedBytes<4> = FixedBytes([0xff, 0xff, 0xff, 0xff]);

impl PermissionId {
    /// The permission id of a session.
    pub fn of(session: &Session) -> Self {
        Self::from_parts(session.sessionValidator, &session.sessionValidatorInitData, session.salt)
    }

    /// The permission id of a session validator, its init data and a salt.
    pub fn from_parts(validator: Address, init_data: &[u8], salt: B256) -> Self {
        // abi.encode(address, bytes, bytes32): three head words, then the length-prefixed bytes.
        let mut h = Keccak256::new();
        h.update([0u8; 12]);
        h.update(validator);
        h.update(B256::with_last_byte(0x60));
        h.update(salt);
        h.update(alloy_primitives::U256::from(init_data.len()).to_be_bytes::<32>());
        h.update(init_data);
        h.update(&[0u8; 32][..(32 - init_data.len() % 32) % 32]);
        Self(h.finalize())
    }

    /// The config id of this permission's user-op policies on `account`.
    pub fn user_op_config_id(&self, account: Address) -> ConfigId {
        ConfigId(keccak256((account, self.0).abi_encode_packed()))
    }

    /// The config id of this permission's action policies for `action` on `account`.
    pub fn action_config_id(&self, account: Address, action: ActionId) -> ConfigId {
        let action_policy_id = keccak256((self.0, action.0).abi_encode_packed());
        ConfigId(keccak256((account, action_policy_id).abi_encode_packed()))
    }

    /// The config id of this permission's ERC-1271 policies on `account`.
    pub fn erc1271_config_id(&self, account: Address) -> ConfigId {
        let mut buf = [0u8; 41];
        buf[..9].copy_from_slice(b"ERC1271: ");
        buf[9..].copy_from_slice(self.0.as_slice());
        let policy_id = keccak256(buf);
        ConfigId(keccak256((account, policy_id).abi_encode_packed()))
    }
}

impl ActionId {
    /// The action id of `target` and `selector`.
    pub fn new(target: Address, selector: FixedBytes<4>) -> Self {
        let mut buf = [0u8; 24];
        buf[..20].copy_from_slice(target.as_slice());
        buf[20..].copy_from_slice(selector.as_slice());
        Self(keccak256(buf))
    }

    /// The generic fallback action `(address(1), 0x00000001)`.
    pub fn fallback() -> Self {
        Self::new(FALLBACK_TARGET, FALLBACK_SELECTOR)
    }

    /// The fallback action for calls to SmartSession itself `(address(1), 0x00000002)`.
    pub fn fallback_smart_session_call() -> Self {
        Self::new(FALLBACK_TARGET, FALLBACK_SELECTOR_SMART_SESSION_CALL)
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{address, b256, bytes, fixed_bytes};

    use super::*;

    // Vectors from the spec (§1.2), derived from the formulas there.
    const ACCOUNT: Address = address!("6605F8785E09a245DD558e55F9A0f4A508434503");

    #[test]
    fn permission_id_of_zero_session() {
        let id = PermissionId::from_parts(Address::ZERO, &[], B256::ZERO);
        assert_eq!(id.0, b256!("95ed33cacfb4bd126a51fa675a03b306beb369f81d951b7a40616cc1ac09e2cf"));
        assert_eq!(
            id.user_op_config_id(ACCOUNT).0,
            b256!("01a8d3c7bdb28ef4ec16b614ec263cce3979ecae79a1e9cb15e8a8770513bb53")
        );
        let action = ActionId::new(
            address!("7227DCfB0c5EC7A5F539F97b18Be261C49687eD6"),
            fixed_bytes!("9cfd7cff"),
        );
        assert_eq!(
            action.0,
            b256!("fd55e842d732698272150a05ea8bc4c63f93ccf30ef07ffeeddec43d2ac72f8c")
        );
        assert_eq!(
            id.action_config_id(ACCOUNT, action).0,
            b256!("4d7ba7c9d6de07b1affea5b584f6b54593a0c0d230eb29c8757df0272b3d8872")
        );
        assert_eq!(
            id.erc1271_config_id(ACCOUNT).0,
            b256!("ad4dbd3a95d1af79cd03e6793cf5eb8dce9281b796f5e8111e3e3b3b9f5c7656")
        );
    }

    #[test]
    fn permission_id_matches_generic_abi_encoding() {
        for init in [
            bytes!(""),
            bytes!("01"),
            bytes!("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
            bytes!("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff42"),
        ] {
            let validator = address!("00000000000000000000000000000000000000aa");
            let salt = B256::repeat_byte(7);
            let expected = keccak256((validator, init.clone(), salt).abi_encode_params());
            assert_eq!(PermissionId::from_parts(validator, &init, salt).0, expected);
        }
    }

    #[test]
    fn fallback_action_ids() {
        assert_eq!(
            ActionId::fallback().0,
            b256!("d884b6afa19f8ace90a388daca691e4e28f20cdac5aeefd46ad8bd1c074d28cf")
        );
        assert_eq!(
            ActionId::fallback_smart_session_call().0,
            b256!("986126569d6396d837d7adeb3ca726199afaf83546f38726e6f331bb92d8e9d6")
        );
    }
}
