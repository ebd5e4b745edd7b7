// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title MockStablecoin
/// @notice A 6-decimal ERC-20 with EIP-2612 permit, mintable by its owner. For local and test
/// chains only: on a real chain the deploy script is given the real stablecoin's address.
contract MockStablecoin is ERC20, ERC20Permit, Ownable {
    constructor(address initialOwner)
        ERC20("Mock USD Coin", "mUSDC")
        ERC20Permit("Mock USD Coin")
        Ownable(initialOwner)
    {}

    /// @notice Mints `amount` base units (6 decimals) to `to` (owner only).
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
