// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IMarketplaceBase} from "./IMarketplaceBase.sol";

/// @title IPaymentEscrow
/// @notice Holds each license's deposit (`pricePerUse × maxUses`) and pays out only uses that
/// UsageTracker has proven (Flow 4): per recorded batch, once, split into the creator's share and
/// the platform fee, credited to balances their owners withdraw. The unused part of a deposit is
/// refunded to the licensee after revocation, or after expiry plus a settlement period.
/// Invariant: `TOKEN.balanceOf(escrow) == totalEscrowed + totalOwed` (absent direct transfers).
interface IPaymentEscrow is IMarketplaceBase {
    /// @notice One license's deposit, in uses of `pricePerUse` (two storage slots).
    /// Remaining deposit = (maxUses - releasedUses) × pricePerUse; refundable now =
    /// (maxUses - recordedUses) × pricePerUse. A refund sets maxUses = recordedUses.
    struct Deposit {
        address payee;
        uint96 pricePerUse;
        address payer;
        uint32 maxUses;
        uint32 recordedUses;
        uint32 releasedUses;
    }

    /// @notice A batch of proven uses recorded by UsageTracker.
    struct Batch {
        uint32 uses;
        bool released;
    }

    event Deposited(bytes32 indexed licenseId, address indexed payer, address indexed payee, uint256 amount);
    event PaymentReleased(
        bytes32 indexed licenseId,
        bytes32 indexed batchId,
        address indexed payee,
        uint256 uses,
        uint256 creatorAmount,
        uint256 platformFee
    );
    event Withdrawn(address indexed account, uint256 amount);
    event Refunded(bytes32 indexed licenseId, address indexed payer, uint256 uses, uint256 amount);
    event PlatformFeeUpdated(uint16 previousBps, uint16 newBps);
    event PlatformAccountUpdated(address indexed previous, address indexed account);
    event LicenseManagerSet(address indexed licenseManager);

    error Escrow__NotLicenseManager();
    error Escrow__LicenseManagerAlreadySet();
    error Escrow__DepositExists();
    error Escrow__UnknownDeposit();
    /// @notice The token moved a different amount than asked (e.g. a fee-on-transfer token).
    error Escrow__TransferAmountMismatch(uint256 expected, uint256 received);
    error Escrow__ZeroUses();
    error Escrow__BatchAlreadyRecorded();
    /// @notice Recording these uses would exceed the deposit (maxUses, or what is left after a refund).
    error Escrow__InsufficientDeposit();
    error Escrow__BatchNotRecorded();
    error Escrow__AlreadyReleased();
    /// @notice `uses` differs from the uses recorded for the batch.
    error Escrow__UsesMismatch(uint256 recorded);
    error Escrow__NothingToWithdraw();
    /// @notice The license is neither revoked nor past expiry plus the settlement period.
    error Escrow__RefundNotAvailable();
    error Escrow__NothingToRefund();
    error Escrow__FeeTooHigh();

    /// @notice Takes a license's deposit: pulls `pricePerUse × maxUses` from `payer`, who has
    /// approved (or permitted) this escrow (LicenseManager only).
    function deposit(bytes32 licenseId, address payer, address payee, uint96 pricePerUse, uint32 maxUses)
        external;

    /// @notice Records a proven batch so it can be released once (TRACKER_ROLE: UsageTracker). Moves
    /// no tokens, so it is not separately pausable: UsageTracker's pause stops it.
    function recordBatch(bytes32 licenseId, bytes32 batchId, uint32 uses) external;

    /// @notice Pays a recorded batch (anyone may call): `uses × pricePerUse` moves from the deposit
    /// to the payee's and the platform's owed balances.
    function release(bytes32 licenseId, bytes32 batchId, uint256 uses) external;

    /// @notice Transfers the caller's whole owed balance to the caller.
    function withdraw() external;

    /// @notice Refunds the unused deposit to the licensee (anyone may call): after revocation, or
    /// after `validUntil + REFUND_SETTLEMENT_PERIOD`.
    function refund(bytes32 licenseId) external;

    /// @notice Sets the platform fee (DEFAULT_ADMIN_ROLE), at most MAX_PLATFORM_FEE_BPS.
    function setPlatformFeeBps(uint16 bps) external;

    /// @notice Sets the account platform fees are credited to (DEFAULT_ADMIN_ROLE).
    function setPlatformAccount(address account) external;

    /// @notice Wires the LicenseManager, once (DEFAULT_ADMIN_ROLE).
    function setLicenseManager(address licenseManager) external;

    function TOKEN() external view returns (IERC20);
    function getDeposit(bytes32 licenseId) external view returns (Deposit memory);
    function getBatch(bytes32 licenseId, bytes32 batchId) external view returns (Batch memory);
    function owed(address account) external view returns (uint256);
    /// @notice The deposit still held for a license: (maxUses - releasedUses) × pricePerUse.
    function remainingDeposit(bytes32 licenseId) external view returns (uint256);
    /// @notice What `refund` would pay now (0 if not available).
    function refundable(bytes32 licenseId) external view returns (uint256);
    /// @notice Sum of remaining deposits.
    function totalEscrowed() external view returns (uint128);
    /// @notice Sum of owed balances.
    function totalOwed() external view returns (uint128);
}
