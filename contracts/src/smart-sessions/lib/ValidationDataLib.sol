// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ERC-4337 validation data arithmetic
/// @notice validationData = aggregator (low 160 bits) | validUntil << 160 (48 bits) | validAfter << 208 (48 bits).
library ValidationDataLib {
    uint256 private constant AGGREGATOR_MASK = (1 << 160) - 1;
    uint256 private constant TIME_MASK = (1 << 48) - 1;

    /// @notice Combines two validation results into the narrower one.
    /// @dev Aggregators must agree (or one be 0), else the result is 1 (signature failure). validAfter is the
    ///      larger of both; validUntil the smaller, where 0 means "no bound" and is normalised to 2^48 - 1, so a
    ///      non-failing result never has validUntil 0: intersect(0, 0) == (2^48 - 1) << 160.
    function intersect(uint256 a, uint256 b) internal pure returns (uint256) {
        uint256 aggregatorA = a & AGGREGATOR_MASK;
        uint256 aggregatorB = b & AGGREGATOR_MASK;
        if (aggregatorA != aggregatorB && aggregatorA != 0 && aggregatorB != 0) return 1;

        uint256 validAfterA = a >> 208;
        uint256 validAfterB = b >> 208;
        uint256 validUntilA = (a >> 160) & TIME_MASK;
        uint256 validUntilB = (b >> 160) & TIME_MASK;
        if (validUntilA == 0) validUntilA = TIME_MASK;
        if (validUntilB == 0) validUntilB = TIME_MASK;

        uint256 validAfter = validAfterA > validAfterB ? validAfterA : validAfterB;
        uint256 validUntil = validUntilA < validUntilB ? validUntilA : validUntilB;
        return aggregatorA | aggregatorB | (validUntil << 160) | (validAfter << 208);
    }
}
