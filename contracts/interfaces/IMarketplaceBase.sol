// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

/// @title IMarketplaceBase
/// @notice What every marketplace contract shares: roles (OpenZeppelin AccessControl) and an
/// emergency stop.
interface IMarketplaceBase {
    /// @notice A required address argument was the zero address.
    error Marketplace__ZeroAddress();

    /// @notice Stops every state-changing entry point (PAUSER_ROLE).
    function pause() external;

    /// @notice Resumes after `pause` (PAUSER_ROLE).
    function unpause() external;
}
