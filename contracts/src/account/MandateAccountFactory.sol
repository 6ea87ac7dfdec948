// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {MandateAccount, ModuleInit} from "./MandateAccount.sol";

/// @title MandateAccountFactory
/// @notice Deploys MandateAccount clones (EIP-1167) with CREATE2. The address depends on the initial validators
///         and the salt: CREATE2 salt = keccak256(abi.encode(validators, salt)).
contract MandateAccountFactory {
    /// @notice A new account was deployed and initialised.
    event AccountCreated(address account, bytes32 salt);

    /// @notice The MandateAccount every clone delegates to.
    address public immutable implementation;

    /// @param implementation_ A deployed MandateAccount.
    constructor(address implementation_) {
        implementation = implementation_;
    }

    /// @notice Deploys and initialises the account for (`validators`, `salt`), or returns it if it already exists.
    function createAccount(ModuleInit[] calldata validators, bytes32 salt) external returns (address account) {
        bytes32 cloneSalt = keccak256(abi.encode(validators, salt));
        account = Clones.predictDeterministicAddress(implementation, cloneSalt);
        if (account.code.length != 0) return account;
        Clones.cloneDeterministic(implementation, cloneSalt);
        MandateAccount(payable(account)).initializeAccount(validators);
        emit AccountCreated(account, salt);
    }

    /// @notice The address `createAccount(validators, salt)` deploys to.
    function getAddress(ModuleInit[] calldata validators, bytes32 salt) external view returns (address) {
        return Clones.predictDeterministicAddress(implementation, keccak256(abi.encode(validators, salt)));
    }
}
