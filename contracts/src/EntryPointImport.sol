// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Compiles the ERC-4337 v0.7 EntryPoint from its npm package.
import {EntryPoint} from "@account-abstraction/contracts/core/EntryPoint.sol";
