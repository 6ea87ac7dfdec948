// SPDX-License-Identifier: MIT
pragma solidity 0.8.17;

// Compiles the legacy stack from its npm packages (profile `legacy-v2` in foundry.toml): the
// ERC-4337 v0.6 EntryPoint from `@account-abstraction/contracts@0.6.0`, and the Biconomy Smart
// Account v2, its factory, the ECDSA ownership module, the merkle Session Key Manager, the
// Batched Session Router and the ERC-20 session validation module from
// `@biconomy-devx/account-contracts-v2`. No source is copied here.
import {EntryPoint} from "@account-abstraction/contracts/core/EntryPoint.sol";
import {SmartAccount} from "@biconomy-devx/account-contracts-v2/contracts/smart-account/SmartAccount.sol";
import {SmartAccountFactory} from
    "@biconomy-devx/account-contracts-v2/contracts/smart-account/factory/SmartAccountFactory.sol";
import {EcdsaOwnershipRegistryModule} from
    "@biconomy-devx/account-contracts-v2/contracts/smart-account/modules/EcdsaOwnershipRegistryModule.sol";
import {SessionKeyManager} from
    "@biconomy-devx/account-contracts-v2/contracts/smart-account/modules/SessionKeyManagerModule.sol";
import {BatchedSessionRouter} from
    "@biconomy-devx/account-contracts-v2/contracts/smart-account/modules/BatchedSessionRouterModule.sol";
import {ERC20SessionValidationModule} from
    "@biconomy-devx/account-contracts-v2/contracts/smart-account/modules/SessionValidationModules/ERC20SessionValidationModule.sol";
