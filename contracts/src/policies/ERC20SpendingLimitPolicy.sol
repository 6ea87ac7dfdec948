// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IPolicy, IActionPolicy} from "../smart-sessions/interfaces/IPolicy.sol";
import {ConfigId} from "../smart-sessions/DataTypes.sol";
import {AssociatedSet} from "../smart-sessions/lib/AssociatedSet.sol";

/// @title ERC20SpendingLimitPolicy
/// @notice Per-token budgets for ERC-20 calls: everything transferred plus everything approved may not exceed the
///         token's limit. initData: abi.encode(address[] tokens, uint256[] limits).
///         Accepted calls (with zero native value): approve, increaseAllowance, transfer (their second argument
///         is the amount) and transferFrom (third argument, not counted when tokens come back to the account).
///         Anything else fails. Approvals add up; they are never replaced.
/// @dev Storage per (configId, multiplexer, token, account) and a per-account token set (see STORAGE.md).
contract ERC20SpendingLimitPolicy is IActionPolicy {
    /// @notice An accepted call spent or approved `amount` of `token`; `remaining` is what is left.
    event TokenSpent(
        ConfigId id, address multiplexer, address token, address account, uint256 amount, uint256 remaining
    );

    /// @notice The token is the zero address (or, in `getPolicyData`, not configured).
    error InvalidTokenAddress(address token);
    /// @notice A token's limit is 0.
    error InvalidLimit(uint256 limit);
    /// @notice `tokens` and `limits` differ in length.
    error InvalidInitDataLength();

    struct TokenBudget {
        uint256 alreadySpent;
        uint256 approvedAmount;
        uint256 spendingLimit;
    }

    bytes4 private constant APPROVE = 0x095ea7b3;
    bytes4 private constant INCREASE_ALLOWANCE = 0x39509351;
    bytes4 private constant TRANSFER = 0xa9059cbb;
    bytes4 private constant TRANSFER_FROM = 0x23b872dd;

    mapping(
        ConfigId => mapping(address multiplexer => mapping(address token => mapping(address account => TokenBudget)))
    ) private _budgets;

    /// @notice Forgets every token configured before (budgets and usage), then sets the new limits.
    function initializeWithMultiplexer(address account, ConfigId configId, bytes calldata initData) external {
        (address[] memory tokens, uint256[] memory limits) = abi.decode(initData, (address[], uint256[]));
        if (tokens.length != limits.length) revert InvalidInitDataLength();
        bytes32 setId = _tokenSet(configId, msg.sender);

        bytes32[] memory previous = AssociatedSet.values(account, setId);
        for (uint256 i; i < previous.length; ++i) {
            delete _budgets[configId][msg.sender][address(uint160(uint256(previous[i])))][account];
        }
        AssociatedSet.removeAll(account, setId);

        for (uint256 i; i < tokens.length; ++i) {
            address token = tokens[i];
            if (token == address(0)) revert InvalidTokenAddress(token);
            if (limits[i] == 0) revert InvalidLimit(limits[i]);
            _budgets[configId][msg.sender][token][account].spendingLimit = limits[i];
            AssociatedSet.add(account, setId, bytes32(uint256(uint160(token))));
        }
        emit PolicySet(configId, msg.sender, account);
    }

    /// @notice Accounts for one ERC-20 call on `target`; fails (1) for native value, other calls, or a call
    ///         that would take spent + approved past the token's limit.
    function checkAction(ConfigId id, address account, address target, uint256 value, bytes calldata data)
        external
        returns (uint256)
    {
        if (value != 0) return 1;
        bytes4 selector = bytes4(data[:4]);
        uint256 amount;
        if (selector == APPROVE || selector == INCREASE_ALLOWANCE || selector == TRANSFER) {
            (, amount) = abi.decode(data[4:], (address, uint256));
        } else if (selector == TRANSFER_FROM) {
            address to;
            (, to, amount) = abi.decode(data[4:], (address, address, uint256));
            if (to == account) amount = 0;
        } else {
            return 1;
        }
        if (target == address(0)) revert InvalidTokenAddress(target);

        TokenBudget storage budget = _budgets[id][msg.sender][target][account];
        uint256 spent = budget.alreadySpent;
        uint256 approved = budget.approvedAmount;
        uint256 limit = budget.spendingLimit;
        if (selector == APPROVE || selector == INCREASE_ALLOWANCE) {
            approved += amount;
            if (spent + approved > limit) return 1;
            budget.approvedAmount = approved;
        } else {
            spent += amount;
            if (spent + approved > limit) return 1;
            budget.alreadySpent = spent;
        }
        emit TokenSpent(id, msg.sender, target, account, amount, limit - (spent + approved));
        return 0;
    }

    /// @notice The budget of a configured token: (spendingLimit, alreadySpent, approvedAmount).
    function getPolicyData(ConfigId id, address multiplexer, address token, address account)
        external
        view
        returns (uint256 spendingLimit, uint256 alreadySpent, uint256 approvedAmount)
    {
        if (
            token == address(0)
                || !AssociatedSet.contains(account, _tokenSet(id, multiplexer), bytes32(uint256(uint160(token))))
        ) revert InvalidTokenAddress(token);
        TokenBudget storage budget = _budgets[id][multiplexer][token][account];
        return (budget.spendingLimit, budget.alreadySpent, budget.approvedAmount);
    }

    /// @notice ERC-165: IERC165, IPolicy, IActionPolicy.
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(IPolicy).interfaceId
            || interfaceId == type(IActionPolicy).interfaceId;
    }

    /// @dev Set id of the configured tokens of (configId, multiplexer): keccak256(abi.encode(configId, multiplexer)).
    function _tokenSet(ConfigId configId, address multiplexer) private pure returns (bytes32) {
        return keccak256(abi.encode(configId, multiplexer));
    }
}
