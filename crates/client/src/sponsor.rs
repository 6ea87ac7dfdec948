//! Sponsorship: ops paid by a paymaster instead of the account. [`Sponsor::Verifying`] is the
//! EntryPoint package's sample VerifyingPaymaster (on the embedded devnet at genesis): its
//! signer signs `getHash(op, validUntil, validAfter)` and the signature rides in
//! `paymasterData`. The session must permit ERC-4337 paymasters.

use alloy_primitives::B256;
use alloy_primitives::{Address, Bytes, aliases::U48};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolValue;
use mandate_abi::Deployments;
use mandate_abi::{UserOperation, sol::IVerifyingPaymaster};
use mandate_sim::Devnet;

use crate::ClientError;

/// A throwaway key whose only use is a well-formed stub signature (not secret).
const STUB_KEY: B256 = B256::repeat_byte(0x11);

/// Who pays for ops.
#[derive(Clone)]
pub enum Sponsor {
    /// A VerifyingPaymaster and the key it trusts.
    Verifying {
        /// The paymaster.
        paymaster: Address,
        /// Its signer.
        signer: PrivateKeySigner,
    },
}

impl std::fmt::Debug for Sponsor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Verifying { paymaster, signer } => f
                .debug_struct("Verifying")
                .field("paymaster", paymaster)
                .field("signer", &signer.address())
                .finish(),
        }
    }
}

impl Sponsor {
    /// The paymaster's address.
    pub const fn paymaster(&self) -> Address {
        match self {
            Self::Verifying { paymaster, .. } => *paymaster,
        }
    }

    fn validity() -> (U48, U48) {
        (U48::ZERO, U48::ZERO)
    }

    /// `paymasterData` of the right shape for estimation: a signature that recovers to some
    /// other key (the paymaster then answers "invalid signature" instead of reverting, and
    /// the estimate completes).
    pub fn stub_data(&self) -> Bytes {
        let stub = PrivateKeySigner::from_bytes(&STUB_KEY)
            .ok()
            .and_then(|k| k.sign_message_sync(b"mandate: paymaster stub").ok())
            .map(|s| s.as_bytes().to_vec())
            .unwrap_or_default();
        [Self::validity().abi_encode_params(), stub].concat().into()
    }

    /// The signed `paymasterData` for `op` (whose gas limits are final).
    pub fn sponsor(
        &self,
        devnet: &mut Devnet,
        _deployments: &Deployments,
        op: &UserOperation,
    ) -> Result<Bytes, ClientError> {
        let Self::Verifying { paymaster, signer } = self;
        let mut stubbed = op.clone();
        stubbed.paymaster_data = self.stub_data();
        let (valid_until, valid_after) = Self::validity();
        let hash = devnet.call_sol(
            *paymaster,
            &IVerifyingPaymaster::getHashCall {
                userOp: stubbed.pack(),
                validUntil: valid_until,
                validAfter: valid_after,
            },
        )?;
        let signature = signer.sign_message_sync(hash.as_slice())?;
        Ok([(valid_until, valid_after).abi_encode_params(), signature.as_bytes().to_vec()]
            .concat()
            .into())
    }
}
