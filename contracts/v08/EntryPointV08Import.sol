// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Compiles the ERC-4337 v0.8 EntryPoint from its npm package (under the `v08` profile, with
// the OpenZeppelin 5.1.0 that package pins).
import {EntryPoint} from "@account-abstraction/contracts/core/EntryPoint.sol";
