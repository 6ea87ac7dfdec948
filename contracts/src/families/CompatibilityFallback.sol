// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice ERC-7579 `accountId()`: `"vendor.account.semver"`.
interface IAccountId {
    function accountId() external view returns (string memory);
}

/// @title CompatibilityFallback
/// @notice An ERC-7579 fallback module (type 3) that gives an account without its own ERC-5267
///         `eip712Domain()` (Safe7579, the ERC-7579 reference account) the answer Smart Sessions' ERC-7739
///         path reads from the account. Install it for selector 0x84b0196e with call type STATIC (0xfe).
///         The domain is the calling account's: name and version come from its `accountId()` — up to the
///         first dot, a space, up to the second dot make the name; the rest is the version — with this
///         chain's id and the account as verifying contract. Stateless: any account may use it.
/// @dev The account calls it, so `msg.sender` is the account; the ERC-2771 sender an account appends to
///      the calldata is ignored.
contract CompatibilityFallback {
    /// @notice ERC-5267: the account's EIP-712 domain (fields 0x0f: name, version, chainId, verifyingContract).
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        (name, version) = _nameAndVersion(bytes(IAccountId(msg.sender).accountId()));
        return (hex"0f", name, version, block.chainid, msg.sender, bytes32(0), new uint256[](0));
    }

    /// @notice ERC-7739 nested typed-data support: the function's own selector, left-aligned.
    function supportsNestedTypedDataSign() external pure returns (bytes32) {
        return bytes32(this.supportsNestedTypedDataSign.selector);
    }

    /// @notice Nothing to set up.
    function onInstall(bytes calldata) external {}

    /// @notice Nothing to clear.
    function onUninstall(bytes calldata) external {}

    /// @notice A fallback module (type 3) only.
    function isModuleType(uint256 moduleTypeId) external pure returns (bool) {
        return moduleTypeId == 3;
    }

    /// @notice It keeps no per-account state, so no account counts as initialised.
    function isInitialized(address) external pure returns (bool) {
        return false;
    }

    /// @dev `vendor.account.semver` → (`vendor account`, `semver`); without a second dot the version is
    ///      empty, without any dot the name is the whole id and a space.
    function _nameAndVersion(bytes memory id) internal pure returns (string memory, string memory) {
        uint256 first = _indexOfDot(id, 0);
        uint256 second = first == id.length ? id.length : _indexOfDot(id, first + 1);
        bytes memory vendor = _slice(id, 0, first);
        bytes memory account = first == id.length ? bytes("") : _slice(id, first + 1, second);
        bytes memory version = second >= id.length ? bytes("") : _slice(id, second + 1, id.length);
        return (string(abi.encodePacked(vendor, " ", account)), string(version));
    }

    /// @dev The index of the first '.' at or after `from`, or `id.length`.
    function _indexOfDot(bytes memory id, uint256 from) internal pure returns (uint256) {
        for (uint256 i = from; i < id.length; ++i) {
            if (id[i] == ".") return i;
        }
        return id.length;
    }

    function _slice(bytes memory data, uint256 start, uint256 end) internal pure returns (bytes memory out) {
        out = new bytes(end - start);
        for (uint256 i = start; i < end; ++i) {
            out[i - start] = data[i];
        }
    }
}
