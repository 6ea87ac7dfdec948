//! ERC-7739 test types: an app's typed data (`Mail`), its `TypedDataSign` wrapper under the
//! account's domain (field order as the standard), and ERC-5267's domain getter.

alloy_sol_types::sol! {
    struct Mail {
        string contents;
    }

    struct TypedDataSign {
        Mail contents;
        string name;
        string version;
        uint256 chainId;
        address verifyingContract;
        bytes32 salt;
    }

    interface IERC5267 {
        function eip712Domain() external view returns (bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions);
    }
}
