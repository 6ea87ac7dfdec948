//! ERC-7739 test types: an app's typed data (`Mail`), its `TypedDataSign` wrapper under the
//! account's domain (field order as the standard), and ERC-5267's domain getter (`mandate_abi`'s).

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

}

pub use mandate_abi::sol::IERC5267;
