// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

// Compiles the ERC-4337 v0.7 sample VerifyingPaymaster from its npm package (sponsored user operations).
import {VerifyingPaymaster} from "@account-abstraction/contracts/samples/VerifyingPaymaster.sol";
