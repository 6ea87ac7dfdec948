//! ERC-4337 validation data: `aggregator/sigFailed (160) | validUntil (48) << 160 |
//! validAfter (48) << 208`, and SmartSession's intersection of policy results (spec §4.4, §5.5).

use alloy_primitives::U256;

const MASK_48: u64 = (1 << 48) - 1;

/// Unpacked validation data.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct ValidationData {
    /// The low 160 bits: 0 = valid, 1 = signature failed, otherwise an aggregator address.
    pub aggregator: U256,
    /// Last valid timestamp (inclusive); 0 means no expiry.
    pub valid_until: u64,
    /// First valid timestamp.
    pub valid_after: u64,
}

impl ValidationData {
    /// Valid forever.
    pub const VALID: Self = Self { aggregator: U256::ZERO, valid_until: 0, valid_after: 0 };
    /// Signature failed.
    pub const SIG_FAILED: Self =
        Self { aggregator: U256::from_limbs([1, 0, 0, 0]), valid_until: 0, valid_after: 0 };

    /// A time window with no failure.
    pub const fn window(valid_after: u64, valid_until: u64) -> Self {
        Self {
            aggregator: U256::ZERO,
            valid_until: valid_until & MASK_48,
            valid_after: valid_after & MASK_48,
        }
    }

    /// Unpacks a 256-bit word.
    pub fn unpack(word: U256) -> Self {
        let limbs = word.as_limbs();
        let aggregator = U256::from_limbs([limbs[0], limbs[1], limbs[2] & 0xffff_ffff, 0]);
        let valid_until = (word >> 160usize).as_limbs()[0] & MASK_48;
        let valid_after = (word >> 208usize).as_limbs()[0] & MASK_48;
        Self { aggregator, valid_until, valid_after }
    }

    /// Packs into the 256-bit word the EntryPoint reads.
    pub fn pack(&self) -> U256 {
        let low = self.aggregator & low_160();
        low | (U256::from(self.valid_until & MASK_48) << 160)
            | (U256::from(self.valid_after & MASK_48) << 208)
    }

    /// Whether the signature (or an aggregator) failed.
    pub fn sig_failed(&self) -> bool {
        self.aggregator == U256::from(1)
    }

    /// Whether `timestamp` lies in the window, as the EntryPoint checks it (`validUntil` 0 = no
    /// expiry; both bounds inclusive).
    pub const fn is_valid_at(&self, timestamp: u64) -> bool {
        let until_ok = self.valid_until == 0 || timestamp <= self.valid_until;
        until_ok && timestamp >= self.valid_after
    }
}

fn low_160() -> U256 {
    (U256::from(1) << 160) - U256::from(1)
}

/// SmartSession's intersection of two validation-data words (ValidationDataLib): differing
/// non-zero aggregators give 1; otherwise the later `validAfter` and the earlier `validUntil`,
/// where a `validUntil` of 0 counts as `0xffffffffffff`.
pub fn intersect(a: U256, b: U256) -> U256 {
    let mask = low_160();
    let (agg_a, agg_b) = (a & mask, b & mask);
    if !(agg_a == agg_b || agg_a.is_zero() || agg_b.is_zero()) {
        return U256::from(1);
    }
    let agg = (a | b) & mask;
    let after = core::cmp::max(a >> 208usize, b >> 208usize);
    let until_of = |x: U256| {
        let u = (x >> 160usize).as_limbs()[0] & MASK_48;
        if u == 0 { MASK_48 } else { u }
    };
    let until = until_of(a).min(until_of(b));
    agg | (U256::from(until) << 160) | (after << 208)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersect_of_zeros_normalises_valid_until() {
        assert_eq!(
            intersect(U256::ZERO, U256::ZERO),
            // validUntil = 0xffffffffffff in bits 160..208, nothing else
            U256::from(0xffff_ffff_ffffu64) << 160
        );
    }

    #[test]
    fn intersect_takes_latest_after_and_earliest_until() {
        // The spec's upstream vector (test_validationData), with now = 1000.
        let max = MASK_48;
        let a = ValidationData::window(999, max - 1).pack();
        let b = ValidationData::window(1101, max - 3).pack();
        let c = ValidationData::window(1100, max - 1).pack();
        let r = ValidationData::unpack(intersect(intersect(intersect(U256::ZERO, a), b), c));
        assert_eq!(r, ValidationData::window(1101, max - 3));
    }

    #[test]
    fn differing_aggregators_fail() {
        assert_eq!(intersect(U256::from(1), U256::from(2)), U256::from(1));
        assert_eq!(
            ValidationData::unpack(intersect(U256::from(1), U256::ZERO)).aggregator,
            U256::from(1)
        );
    }

    #[test]
    fn pack_unpack_round_trip() {
        let v = ValidationData { aggregator: U256::from(1), valid_until: 77, valid_after: 5 };
        assert_eq!(ValidationData::unpack(v.pack()), v);
        assert!(v.sig_failed());
        assert!(ValidationData::window(5, 10).is_valid_at(10));
        assert!(!ValidationData::window(5, 10).is_valid_at(11));
        assert!(ValidationData::VALID.is_valid_at(u64::MAX));
    }
}
