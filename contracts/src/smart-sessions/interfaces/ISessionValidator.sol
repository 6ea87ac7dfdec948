// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC7579Module} from "./IERC7579Module.sol";

/// @title Session validator
/// @notice A stateless validator (ERC-7579 module type 7) that checks a session key's signature against the
///         configuration stored by SmartSession for that session.
interface ISessionValidator is IERC7579Module {
    /// @notice Verifies `signature` over `hash` for the session described by `data`.
    /// @param hash The user operation hash (or the rebuilt ERC-7739 hash).
    /// @param signature The session key signature.
    /// @param data The `sessionValidatorInitData` the session was enabled with.
    /// @return validSig Whether the signature is valid.
    function validateSignatureWithData(bytes32 hash, bytes calldata signature, bytes calldata data)
        external
        view
        returns (bool validSig);
}
