// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IMarketplaceBase} from "./interfaces/IMarketplaceBase.sol";

/// @title MarketplaceBase
/// @notice Roles and the emergency stop shared by ContentRegistry, LicenseManager, PaymentEscrow and
/// UsageTracker. The admin (DEFAULT_ADMIN_ROLE, a multisig on a real chain) grants and revokes roles.
abstract contract MarketplaceBase is IMarketplaceBase, AccessControl, Pausable {
    /// @notice The platform's relayer: registers content, logs usage batches and relays creators'
    /// signed actions.
    bytes32 public constant RELAYER_ROLE = keccak256("RELAYER_ROLE");
    /// @notice May pause and unpause in an emergency.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Held by UsageTracker on LicenseManager and PaymentEscrow: records proven usage.
    bytes32 public constant TRACKER_ROLE = keccak256("TRACKER_ROLE");

    /// @param admin receives DEFAULT_ADMIN_ROLE and PAUSER_ROLE.
    constructor(address admin) {
        _requireNonZero(admin);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    /// @inheritdoc IMarketplaceBase
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IMarketplaceBase
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    function _requireNonZero(address account) internal pure {
        if (account == address(0)) revert Marketplace__ZeroAddress();
    }
}
