// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @title TestERC721
/// @notice ERC-721 for tests and demos; anyone may mint. Token ids are 0, 1, 2, ...
contract TestERC721 is ERC721 {
    /// @notice The id the next `safeMint` assigns.
    uint256 public nextTokenId;

    constructor() ERC721("Mandate Test NFT", "MNFT") {}

    /// @notice Mints the next token id to `to` without asking it `onERC721Received` (an
    /// account that accepts no safe transfers, such as Nexus without a receiver fallback,
    /// can hold it too).
    function mint(address to) external returns (uint256 tokenId) {
        tokenId = nextTokenId++;
        _mint(to, tokenId);
    }

    /// @notice Mints the next token id to `to` (checking ERC-721 receivers).
    function safeMint(address to) external returns (uint256 tokenId) {
        tokenId = nextTokenId++;
        _safeMint(to, tokenId);
    }
}
