// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The initialiser of the ERC-7579 reference account (MSAAdvanced).
interface IMSAInitializer {
    function initializeAccount(bytes calldata data) external payable;
}

/// @title MSAProxyFactory
/// @notice A factory for the ERC-7579 reference account, which ships none: it deploys the account's
///         proxy with CREATE2 (raw salt) over `proxyCreationCode ‖ abi.encode(implementation,
///         abi.encodeCall(initializeAccount, (initCode)))`, so the account is initialised inside the
///         proxy's constructor, where MSAAdvanced allows it. `initCode` is what `initializeAccount` takes:
///         `abi.encode(bootstrap, bootstrapCall)` (e.g. `singleInitMSA(validator, data)`).
/// @dev The proxy's creation code is given to the constructor and kept as the code of a data contract
///      (`0x00 ‖ code`, so calling it stops at once), read back with EXTCODECOPY.
contract MSAProxyFactory {
    /// @notice A new account was deployed and initialised.
    event AccountCreated(address account, bytes32 salt);

    /// @notice The proxy's creation code was empty, or its data contract could not be created.
    error ProxyCodeNotStored();
    /// @notice CREATE2 failed (the proxy's constructor reverted: bad init code).
    error AccountNotCreated();

    /// @notice The MSAAdvanced implementation every account's proxy delegates to.
    address public immutable implementation;
    /// @notice The data contract holding the proxy's creation code (after a leading STOP byte).
    address public immutable proxyCode;

    /// @param implementation_ A deployed MSAAdvanced.
    /// @param proxyCreationCode The creation code of the reference account's proxy (MSAProxy).
    constructor(address implementation_, bytes memory proxyCreationCode) {
        implementation = implementation_;
        uint256 runtimeLength = proxyCreationCode.length + 1;
        if (proxyCreationCode.length == 0 || runtimeLength > type(uint16).max) revert ProxyCodeNotStored();
        // PUSH2 len, DUP1, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 0, RETURN: returns the 12 bytes' tail.
        bytes memory init =
            abi.encodePacked(hex"61", uint16(runtimeLength), hex"80600c6000396000f3", hex"00", proxyCreationCode);
        address holder;
        assembly ("memory-safe") {
            holder := create(0, add(init, 0x20), mload(init))
        }
        if (holder == address(0)) revert ProxyCodeNotStored();
        proxyCode = holder;
    }

    /// @notice Deploys and initialises the account for (`salt`, `initCode`), or returns it if it already
    ///         exists (one 32-byte word, as ERC-4337's SenderCreator reads it).
    function createAccount(bytes32 salt, bytes calldata initCode) external payable returns (address account) {
        bytes memory creation = _accountCreationCode(initCode);
        account = _predict(salt, keccak256(creation));
        if (account.code.length != 0) return account;
        address created;
        assembly ("memory-safe") {
            created := create2(callvalue(), add(creation, 0x20), mload(creation), salt)
        }
        if (created != account) revert AccountNotCreated();
        emit AccountCreated(account, salt);
    }

    /// @notice Where `createAccount(salt, initCode)` puts the account.
    function getAddress(bytes32 salt, bytes calldata initCode) external view returns (address) {
        return _predict(salt, keccak256(_accountCreationCode(initCode)));
    }

    function _accountCreationCode(bytes calldata initCode) internal view returns (bytes memory) {
        return abi.encodePacked(
            _proxyCreationCode(),
            abi.encode(implementation, abi.encodeCall(IMSAInitializer.initializeAccount, (initCode)))
        );
    }

    function _proxyCreationCode() internal view returns (bytes memory code) {
        address holder = proxyCode;
        assembly ("memory-safe") {
            let size := sub(extcodesize(holder), 1)
            code := mload(0x40)
            mstore(code, size)
            extcodecopy(holder, add(code, 0x20), 1, size)
            mstore(0x40, add(add(code, 0x20), and(add(size, 31), not(31))))
        }
    }

    function _predict(bytes32 salt, bytes32 codeHash) internal view returns (address) {
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, codeHash)))));
    }
}
