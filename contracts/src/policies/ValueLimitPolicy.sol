// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {PackedUserOperation} from "@account-abstraction/contracts/interfaces/PackedUserOperation.sol";
import {IPolicy, IUserOpPolicy, IActionPolicy} from "../smart-sessions/interfaces/IPolicy.sol";
import {ConfigId} from "../smart-sessions/DataTypes.sol";
import {ExecutionLib} from "../smart-sessions/lib/ExecutionLib.sol";

/// @title ValueLimitPolicy
/// @notice A cumulative budget of native value: all uses together may send at most `valueLimit` wei.
///         initData: abi.encode(uint256 valueLimit) (the first 32 bytes are read; must not be 0).
///         As an action policy it counts the call's value; as a user operation policy it counts the value of
///         every execution of an ERC-7579 `execute` (single or batch). Other account calls pass uncounted.
/// @dev Two words per (configId, multiplexer, account): valueLimit, then the amount used (see STORAGE.md).
contract ValueLimitPolicy is IUserOpPolicy, IActionPolicy {
    /// @notice The user operation uses a call type the policy cannot account for.
    error UnsupportedCallType(bytes1 callType);
    /// @notice The batch in the user operation is malformed.
    error DecodingError();

    struct Budget {
        uint256 valueLimit;
        uint256 limitUsed;
    }

    bytes4 private constant EXECUTE_SELECTOR = 0xe9ae5c53;
    bytes1 private constant CALLTYPE_SINGLE = 0x00;
    bytes1 private constant CALLTYPE_BATCH = 0x01;

    mapping(ConfigId => mapping(address multiplexer => mapping(address account => Budget))) private _budgets;

    /// @notice Sets the budget and restarts the count.
    function initializeWithMultiplexer(address account, ConfigId configId, bytes calldata initData) external {
        uint256 valueLimit = uint256(bytes32(initData[:32]));
        if (valueLimit == 0) revert PolicyNotInitialized(configId, msg.sender, account);
        Budget storage budget = _budgets[configId][msg.sender][account];
        budget.valueLimit = valueLimit;
        budget.limitUsed = 0;
    }

    /// @notice Spends the total value the user operation's `execute` sends; fails (1) past the budget.
    function checkUserOpPolicy(ConfigId id, PackedUserOperation calldata userOp) external returns (uint256) {
        bytes calldata callData = userOp.callData;
        if (bytes4(callData[:4]) != EXECUTE_SELECTOR) return 0;
        bytes1 callType = bytes32(callData[4:36])[0];
        uint256 total;
        if (callType == CALLTYPE_SINGLE) {
            (, total,) = ExecutionLib.decodeSingle(ExecutionLib.executionCalldata(callData));
        } else if (callType == CALLTYPE_BATCH) {
            bytes32[] calldata executions = ExecutionLib.decodeBatch(ExecutionLib.executionCalldata(callData));
            for (uint256 i; i < executions.length; ++i) {
                total += ExecutionLib.getValue(executions, i);
            }
        } else {
            revert UnsupportedCallType(callType);
        }
        return _spend(_budgets[id][msg.sender][userOp.sender], total);
    }

    /// @notice Spends the call's value; fails (1) past the budget.
    function checkAction(ConfigId id, address account, address, uint256 value, bytes calldata)
        external
        returns (uint256)
    {
        return _spend(_budgets[id][msg.sender][account], value);
    }

    /// @notice The value spent so far.
    function getUsed(ConfigId id, address multiplexer, address account) external view returns (uint256) {
        return _budgets[id][multiplexer][account].limitUsed;
    }

    /// @notice The budget.
    function getValueLimit(ConfigId id, address multiplexer, address account) external view returns (uint256) {
        return _budgets[id][multiplexer][account].valueLimit;
    }

    /// @notice ERC-165: IERC165, IPolicy, IUserOpPolicy, IActionPolicy.
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(IPolicy).interfaceId
            || interfaceId == type(IUserOpPolicy).interfaceId || interfaceId == type(IActionPolicy).interfaceId;
    }

    function _spend(Budget storage budget, uint256 value) private returns (uint256) {
        uint256 used = budget.limitUsed + value;
        if (used > budget.valueLimit) return 1;
        budget.limitUsed = used;
        return 0;
    }
}
