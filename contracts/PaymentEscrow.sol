// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {MarketplaceBase} from "./MarketplaceBase.sol";
import {DEFAULT_PLATFORM_FEE_BPS, MAX_PLATFORM_FEE_BPS, BPS_DENOMINATOR, NO_EXPIRY} from "./Constants.sol";
import {IPaymentEscrow} from "./interfaces/IPaymentEscrow.sol";
import {ILicenseManager} from "./interfaces/ILicenseManager.sol";

/// @title PaymentEscrow
/// @notice License deposits, payouts of proven and buyer-signed usage (pull payments) and refunds.
/// Only the LicenseManager opens deposits and settles batches (after checking the buyer's usage
/// signatures), so no role, the admin's included, can move a deposit to anyone but its licensee
/// without those signatures. Every function that moves tokens is nonReentrant and updates its
/// accounting before the transfer; a transfer that does not move exactly the amount asked
/// reverts, so hostile tokens cannot skew the books.
contract PaymentEscrow is IPaymentEscrow, MarketplaceBase, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @inheritdoc IPaymentEscrow
    IERC20 public immutable TOKEN;

    /// @notice The LicenseManager allowed to open deposits (set once by the admin).
    ILicenseManager public licenseManager;
    /// @notice Receives the platform fee of every release.
    address public platformAccount;
    /// @notice Platform fee in basis points.
    uint16 public platformFeeBps;

    /// @inheritdoc IPaymentEscrow
    uint128 public totalEscrowed;
    /// @inheritdoc IPaymentEscrow
    uint128 public totalOwed;

    mapping(bytes32 licenseId => Deposit) private _deposits;
    mapping(bytes32 licenseId => mapping(bytes32 batchId => Batch)) private _batches;
    /// @inheritdoc IPaymentEscrow
    mapping(address account => uint256) public owed;

    /// @param admin DEFAULT_ADMIN_ROLE and PAUSER_ROLE.
    /// @param token the stablecoin.
    /// @param platform the account platform fees are credited to.
    constructor(address admin, IERC20 token, address platform) MarketplaceBase(admin) {
        _requireNonZero(address(token));
        _requireNonZero(platform);
        TOKEN = token;
        platformAccount = platform;
        platformFeeBps = DEFAULT_PLATFORM_FEE_BPS;
    }

    modifier onlyLicenseManager() {
        if (msg.sender != address(licenseManager)) revert Escrow__NotLicenseManager();
        _;
    }

    /// @inheritdoc IPaymentEscrow
    function deposit(bytes32 licenseId, address payer, address payee, uint96 pricePerUse, uint32 maxUses)
        external
        onlyLicenseManager
        nonReentrant
        whenNotPaused
    {
        if (_deposits[licenseId].payer != address(0)) revert Escrow__DepositExists();
        _requireNonZero(payer);
        _requireNonZero(payee);
        uint256 amount = uint256(pricePerUse) * maxUses;
        _deposits[licenseId] = Deposit({
            payee: payee,
            pricePerUse: pricePerUse,
            payer: payer,
            maxUses: maxUses,
            releasedUses: 0
        });
        totalEscrowed += uint128(amount);
        emit Deposited(licenseId, payer, payee, amount);

        uint256 balanceBefore = TOKEN.balanceOf(address(this));
        TOKEN.safeTransferFrom(payer, address(this), amount);
        uint256 received = TOKEN.balanceOf(address(this)) - balanceBefore;
        if (received != amount) revert Escrow__TransferAmountMismatch(amount, received);
    }

    /// @inheritdoc IPaymentEscrow
    function settle(bytes32 licenseId, bytes32 contentId, bytes32 batchId, uint32 uses) external onlyLicenseManager {
        if (uses == 0) revert Escrow__ZeroUses();
        Deposit storage d = _deposits[licenseId];
        if (d.payer == address(0)) revert Escrow__UnknownDeposit();
        Batch storage batch = _batches[licenseId][batchId];
        if (batch.releasedAt != 0) revert Escrow__AlreadyReleased();
        uint256 released = uint256(d.releasedUses) + uses;
        if (released > d.maxUses) revert Escrow__InsufficientDeposit();
        uint16 feeBps = platformFeeBps;
        d.releasedUses = uint32(released);
        batch.uses = uses;
        batch.feeBps = feeBps;
        batch.releasedAt = uint40(block.timestamp);

        uint256 amount = uint256(uses) * d.pricePerUse;
        uint256 fee = (amount * feeBps) / BPS_DENOMINATOR;
        uint256 creatorAmount = amount - fee;
        address payee = d.payee;
        totalEscrowed -= uint128(amount);
        totalOwed += uint128(amount);
        owed[payee] += creatorAmount;
        owed[platformAccount] += fee;
        emit PaymentReleased(licenseId, contentId, payee, batchId, uses, creatorAmount, fee);
    }

    /// @inheritdoc IPaymentEscrow
    function withdraw() external nonReentrant whenNotPaused {
        uint256 amount = owed[msg.sender];
        if (amount == 0) revert Escrow__NothingToWithdraw();
        owed[msg.sender] = 0;
        totalOwed -= uint128(amount);
        emit Withdrawn(msg.sender, amount);
        _pushExact(msg.sender, amount);
    }

    /// @inheritdoc IPaymentEscrow
    function refund(bytes32 licenseId) external nonReentrant whenNotPaused {
        Deposit storage d = _deposits[licenseId];
        address payer = d.payer;
        if (payer == address(0)) revert Escrow__UnknownDeposit();
        if (msg.sender != payer && !_isRelayer(msg.sender)) revert Escrow__NotAuthorized();
        ILicenseManager.License memory license = licenseManager.getLicense(licenseId);
        if (block.timestamp < _refundOpensAt(license)) revert Escrow__RefundNotAvailable();
        uint256 unused = d.maxUses - d.releasedUses;
        if (unused == 0) revert Escrow__NothingToRefund();
        uint256 amount = unused * d.pricePerUse;
        // The deposit shrinks to what is paid: nothing can be settled against it any more.
        d.maxUses = d.releasedUses;
        totalEscrowed -= uint128(amount);
        emit Refunded(licenseId, license.contentId, payer, unused, amount);
        _pushExact(payer, amount);
    }

    /// @inheritdoc IPaymentEscrow
    function setPlatformFeeBps(uint16 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (bps > MAX_PLATFORM_FEE_BPS) revert Escrow__FeeTooHigh();
        emit PlatformFeeUpdated(platformFeeBps, bps);
        platformFeeBps = bps;
    }

    /// @inheritdoc IPaymentEscrow
    function setPlatformAccount(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireNonZero(account);
        emit PlatformAccountUpdated(platformAccount, account);
        platformAccount = account;
    }

    /// @inheritdoc IPaymentEscrow
    function setLicenseManager(address manager) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireNonZero(manager);
        if (address(licenseManager) != address(0)) revert Escrow__LicenseManagerAlreadySet();
        licenseManager = ILicenseManager(manager);
        emit LicenseManagerSet(manager);
    }

    /// @inheritdoc IPaymentEscrow
    function getDeposit(bytes32 licenseId) external view returns (Deposit memory) {
        return _deposits[licenseId];
    }

    /// @inheritdoc IPaymentEscrow
    function getBatch(bytes32 licenseId, bytes32 batchId) external view returns (Batch memory) {
        return _batches[licenseId][batchId];
    }

    /// @inheritdoc IPaymentEscrow
    function remainingDeposit(bytes32 licenseId) external view returns (uint256) {
        Deposit storage d = _deposits[licenseId];
        return uint256(d.maxUses - d.releasedUses) * d.pricePerUse;
    }

    /// @inheritdoc IPaymentEscrow
    function refundOpensAt(bytes32 licenseId) public view returns (uint256) {
        if (_deposits[licenseId].payer == address(0)) return type(uint256).max;
        return _refundOpensAt(licenseManager.getLicense(licenseId));
    }

    /// @inheritdoc IPaymentEscrow
    function refundable(bytes32 licenseId) external view returns (uint256) {
        Deposit storage d = _deposits[licenseId];
        if (block.timestamp < refundOpensAt(licenseId)) return 0;
        return uint256(d.maxUses - d.releasedUses) * d.pricePerUse;
    }

    /// @dev Revoked: at once. Expiring: after validUntil plus the LicenseManager's settlement grace,
    /// so the platform can still log (and so pay) uses served before expiry first; a licensee who
    /// used every use cannot take the deposit back before those uses land.
    function _refundOpensAt(ILicenseManager.License memory license) private view returns (uint256) {
        if (license.revoked) return 0;
        if (license.validUntil == NO_EXPIRY) return type(uint256).max;
        return uint256(license.validUntil) + licenseManager.settlementGrace() + 1;
    }

    /// @dev The relayer is whoever holds RELAYER_ROLE on the LicenseManager (one role to rotate).
    function _isRelayer(address account) private view returns (bool) {
        return IAccessControl(address(licenseManager)).hasRole(RELAYER_ROLE, account);
    }

    /// @dev Sends `amount` and requires the escrow's balance to drop by exactly `amount`.
    function _pushExact(address to, uint256 amount) private {
        uint256 balanceBefore = TOKEN.balanceOf(address(this));
        TOKEN.safeTransfer(to, amount);
        uint256 sent = balanceBefore - TOKEN.balanceOf(address(this));
        if (sent != amount) revert Escrow__TransferAmountMismatch(amount, sent);
    }
}
