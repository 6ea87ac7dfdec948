//! The v0.7 gas limits an estimator suggests for a user operation: a bundler's
//! `eth_estimateUserOperationGas` answer, or the simulator's search.

use alloy_primitives::U256;
use serde::{Deserialize, Serialize};

#[cfg(feature = "legacy-v2")]
use crate::legacy_v2::UserOperationV06;
use crate::{UserOperation, json::rpc as quantity};

/// The gas limits an estimator suggests: what `eth_estimateUserOperationGas` answers (JSON:
/// v0.7 names, hex quantities; the v0.6 `verificationGas` is read too, alone or beside
/// `verificationGasLimit` as Alto sends it), and what `mandate_sim`'s `Devnet::estimate_gas`
/// finds. The paymaster limits are `None` for an op without a paymaster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "RawGasEstimate")]
pub struct GasEstimate {
    /// `preVerificationGas`.
    #[serde(with = "quantity::u256")]
    pub pre_verification_gas: U256,
    /// `verificationGasLimit`.
    #[serde(with = "quantity::u256")]
    pub verification_gas_limit: U256,
    /// `callGasLimit`.
    #[serde(with = "quantity::u256")]
    pub call_gas_limit: U256,
    /// `paymasterVerificationGasLimit`, when the op has a paymaster.
    #[serde(default, with = "quantity::opt_u256", skip_serializing_if = "Option::is_none")]
    pub paymaster_verification_gas_limit: Option<U256>,
    /// `paymasterPostOpGasLimit`, when the bundler reports it.
    #[serde(default, with = "quantity::opt_u256", skip_serializing_if = "Option::is_none")]
    pub paymaster_post_op_gas_limit: Option<U256>,
}

/// [`GasEstimate`] as it arrives: the verification limit under either name.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawGasEstimate {
    #[serde(with = "quantity::u256")]
    pre_verification_gas: U256,
    #[serde(default, with = "quantity::opt_u256")]
    verification_gas_limit: Option<U256>,
    #[serde(default, with = "quantity::opt_u256")]
    verification_gas: Option<U256>,
    #[serde(with = "quantity::u256")]
    call_gas_limit: U256,
    #[serde(default, with = "quantity::opt_u256")]
    paymaster_verification_gas_limit: Option<U256>,
    #[serde(default, with = "quantity::opt_u256")]
    paymaster_post_op_gas_limit: Option<U256>,
}

impl TryFrom<RawGasEstimate> for GasEstimate {
    type Error = String;

    fn try_from(raw: RawGasEstimate) -> Result<Self, Self::Error> {
        let verification_gas_limit = match (raw.verification_gas_limit, raw.verification_gas) {
            (Some(limit), Some(v06)) if limit != v06 => {
                return Err(format!(
                    "verificationGasLimit {limit} and verificationGas {v06} disagree"
                ));
            }
            (Some(limit), _) | (None, Some(limit)) => limit,
            (None, None) => return Err("missing field `verificationGasLimit`".into()),
        };
        Ok(Self {
            pre_verification_gas: raw.pre_verification_gas,
            verification_gas_limit,
            call_gas_limit: raw.call_gas_limit,
            paymaster_verification_gas_limit: raw.paymaster_verification_gas_limit,
            paymaster_post_op_gas_limit: raw.paymaster_post_op_gas_limit,
        })
    }
}

impl GasEstimate {
    /// Writes the estimate into `op` (saturating at 128 bits). The post-op limit is kept when
    /// the bundler did not report one.
    pub fn apply_to(&self, op: &mut UserOperation) {
        let sat = |v: U256| u128::try_from(v).unwrap_or(u128::MAX);
        op.pre_verification_gas = self.pre_verification_gas;
        op.verification_gas_limit = sat(self.verification_gas_limit);
        op.call_gas_limit = sat(self.call_gas_limit);
        if let Some(v) = self.paymaster_verification_gas_limit {
            op.paymaster_verification_gas_limit = sat(v);
        }
        if let Some(v) = self.paymaster_post_op_gas_limit {
            op.paymaster_post_op_gas_limit = sat(v);
        }
    }
}

#[cfg(feature = "legacy-v2")]
impl GasEstimate {
    /// Writes the estimate into a v0.6 op (whose single verification limit also covers the
    /// paymaster's validation; a separately reported paymaster limit is added to it).
    pub fn apply_to_v06(&self, op: &mut UserOperationV06) {
        op.preVerificationGas = self.pre_verification_gas;
        op.verificationGasLimit = self
            .verification_gas_limit
            .saturating_add(self.paymaster_verification_gas_limit.unwrap_or_default());
        op.callGasLimit = self.call_gas_limit;
    }
}
