// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IPolicy, IActionPolicy} from "../smart-sessions/interfaces/IPolicy.sol";
import {ConfigId} from "../smart-sessions/DataTypes.sol";

/// @notice How a 32-byte calldata parameter is compared with a rule's reference (as unsigned integers).
enum ParamCondition {
    EQUAL,
    GREATER_THAN,
    LESS_THAN,
    GREATER_THAN_OR_EQUAL,
    LESS_THAN_OR_EQUAL,
    NOT_EQUAL,
    /// @dev `ref` = abi.encodePacked(uint128 min, uint128 max); min <= param <= max.
    IN_RANGE
}

/// @notice A cumulative budget for a parameter: the sum of all accepted values may not exceed `limit`.
struct LimitUsage {
    uint256 limit;
    uint256 used;
}

/// @notice One rule: the parameter at `offset` (bytes after the selector) must satisfy `condition` against
///         `ref`, and if `isLimited` its values add up against `usage.limit`.
struct ParamRule {
    ParamCondition condition;
    uint64 offset;
    bool isLimited;
    bytes32 ref;
    LimitUsage usage;
}

/// @notice Up to 16 rules; only the first `length` are active.
struct ParamRules {
    uint256 length;
    ParamRule[16] rules;
}

/// @notice The initData of UniActionPolicy: abi.encode(ActionConfig), a static tuple of 98 words.
struct ActionConfig {
    uint256 valueLimitPerUse;
    ParamRules paramRules;
}

/// @title UniActionPolicy
/// @notice Universal action policy: a native value cap per call, and up to 16 rules on 32-byte calldata
///         parameters, each optionally with a cumulative limit.
/// @dev The config of (configId, multiplexer, account) is stored as ActionConfig (see STORAGE.md).
contract UniActionPolicy is IActionPolicy {
    /// @notice The call sends more native value than `valueLimitPerUse`.
    error ValueLimitExceeded(ConfigId id, uint256 value, uint256 limit);

    mapping(ConfigId => mapping(address multiplexer => mapping(address account => ActionConfig))) private _configs;

    /// @notice Overwrites the config: value cap, rule count and the first `length` rules (usage included).
    ///         More than 16 rules panic (0x32); rules past `length` are left as they were and never read.
    function initializeWithMultiplexer(address account, ConfigId configId, bytes calldata initData) external {
        ActionConfig memory config = abi.decode(initData, (ActionConfig));
        ActionConfig storage stored = _configs[configId][msg.sender][account];
        stored.valueLimitPerUse = config.valueLimitPerUse;
        uint256 n = config.paramRules.length;
        stored.paramRules.length = n;
        for (uint256 i; i < n; ++i) {
            stored.paramRules.rules[i] = config.paramRules.rules[i];
        }
        emit PolicySet(configId, msg.sender, account);
    }

    /// @notice Reverts unless configured and within the value cap; then every active rule must hold (else 1).
    ///         Limited rules add the parameter to their usage.
    function checkAction(ConfigId id, address account, address, uint256 value, bytes calldata data)
        external
        returns (uint256)
    {
        ActionConfig storage config = _configs[id][msg.sender][account];
        uint256 n = config.paramRules.length;
        if (n == 0) revert PolicyNotInitialized(id, msg.sender, account);
        uint256 valueLimit = config.valueLimitPerUse;
        if (value > valueLimit) revert ValueLimitExceeded(id, value, valueLimit);
        for (uint256 i; i < n; ++i) {
            if (!_holds(config.paramRules.rules[i], data)) return 1;
        }
        return 0;
    }

    /// @notice The stored config.
    function getActionConfig(ConfigId id, address multiplexer, address account)
        external
        view
        returns (ActionConfig memory)
    {
        return _configs[id][multiplexer][account];
    }

    /// @notice ERC-165: IERC165, IPolicy, IActionPolicy.
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(IPolicy).interfaceId
            || interfaceId == type(IActionPolicy).interfaceId;
    }

    /// @dev Reads the parameter (out of range: empty revert; offset near 2^64: overflow panic), compares it, then
    ///      accounts for it if the rule is limited.
    function _holds(ParamRule storage rule, bytes calldata data) private returns (bool) {
        uint64 start = rule.offset + 4;
        uint256 param = uint256(bytes32(data[start:start + 32]));
        ParamCondition condition = rule.condition;
        uint256 ref = uint256(rule.ref);
        bool ok;
        if (condition == ParamCondition.EQUAL) ok = param == ref;
        else if (condition == ParamCondition.GREATER_THAN) ok = param > ref;
        else if (condition == ParamCondition.LESS_THAN) ok = param < ref;
        else if (condition == ParamCondition.GREATER_THAN_OR_EQUAL) ok = param >= ref;
        else if (condition == ParamCondition.LESS_THAN_OR_EQUAL) ok = param <= ref;
        else if (condition == ParamCondition.NOT_EQUAL) ok = param != ref;
        else ok = param >= ref >> 128 && param <= uint128(ref);
        if (!ok) return false;
        if (rule.isLimited) {
            LimitUsage storage usage = rule.usage;
            uint256 used = usage.used + param;
            if (used > usage.limit) return false;
            usage.used = used;
        }
        return true;
    }
}
