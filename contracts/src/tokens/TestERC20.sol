// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestERC20
/// @notice ERC-20 for tests and demos (18 decimals); anyone may mint.
contract TestERC20 is ERC20 {
    constructor() ERC20("Mandate Test Token", "MTT") {}

    /// @notice Mints `amount` tokens to `to`.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
