// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IMarketplaceBase} from "./IMarketplaceBase.sol";

/// @title IPaymentEscrow
/// @notice Holds each license's deposit (`pricePerUse × maxUses`) and pays out only uses the
/// LicenseManager settles (Flow 4): a batch that UsageTracker proved and the buyer's usage signers
/// signed, once, at logging time, split into the creator's share and the platform fee, credited to
/// balances their owners withdraw. The unused part of a deposit is refunded to the licensee after
/// revocation, or after expiry plus the settlement grace.
/// Invariant: `TOKEN.balanceOf(escrow) == totalEscrowed + totalOwed` (absent direct transfers).
interface IPaymentEscrow is IMarketplaceBase {
    /// @notice One license's deposit, in uses of `pricePerUse` (two storage slots).
    /// Remaining deposit (and what a refund would pay) = (maxUses - releasedUses) × pricePerUse.
    /// A refund sets maxUses = releasedUses.
    struct Deposit {
        address payee;
        uint96 pricePerUse;
        address payer;
        uint32 maxUses;
        uint32 releasedUses;
    }

    /// @notice A settled (paid) batch: its uses, the fee applied and when.
    struct Batch {
        uint32 uses;
        uint16 feeBps;
        uint40 releasedAt;
    }

    event Deposited(bytes32 indexed licenseId, address indexed payer, address indexed payee, uint256 amount);
    /// @notice A batch's uses were paid from the deposit: `uses × pricePerUse` split into
    /// `creatorAmount` (owed to `payee`) and `platformFee` (owed to the platform account).
    event PaymentReleased(
        bytes32 indexed licenseId,
        bytes32 indexed contentId,
        address indexed payee,
        bytes32 batchId,
        uint256 uses,
        uint256 creatorAmount,
        uint256 platformFee
    );
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice The unused deposit (`uses` unused uses) was paid back to the licensee.
    event Refunded(
        bytes32 indexed licenseId, bytes32 indexed contentId, address indexed payer, uint256 uses, uint256 amount
    );
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
    /// @notice The batch was already paid (a batch is released once).
    error Escrow__AlreadyReleased();
    /// @notice Paying these uses would exceed the deposit (maxUses, or what is left after a refund).
    error Escrow__InsufficientDeposit();
    error Escrow__NothingToWithdraw();
    /// @notice The license is neither revoked nor past expiry plus the settlement grace.
    error Escrow__RefundNotAvailable();
    /// @notice Only the licensee, or the relayer (RELAYER_ROLE on the LicenseManager), may refund.
    error Escrow__NotAuthorized();
    error Escrow__NothingToRefund();
    error Escrow__FeeTooHigh();

    /// @notice Takes a license's deposit: pulls `pricePerUse × maxUses` from `payer`, who has
    /// approved (or permitted) this escrow (LicenseManager only).
    function deposit(bytes32 licenseId, address payer, address payee, uint96 pricePerUse, uint32 maxUses)
        external;

    /// @notice Pays a proven, buyer-signed batch (LicenseManager only, from `recordUsage`, after it
    /// checked the buyer's signatures): `uses × pricePerUse` moves from the deposit to the payee's
    /// and the platform's owed balances, at the current fee. Once per (licenseId, batchId). Moves no
    /// tokens, so it is not separately pausable: UsageTracker's pause stops it.
    function settle(bytes32 licenseId, bytes32 contentId, bytes32 batchId, uint32 uses) external;

    /// @notice Transfers the caller's whole owed balance to the caller.
    function withdraw() external;

    /// @notice Refunds the unused deposit, `(maxUses - releasedUses) × pricePerUse`, to the
    /// licensee: callable by the licensee or the relayer, after revocation or after
    /// `validUntil + LicenseManager.settlementGrace()` (the grace lets the platform log uses served
    /// before expiry first; nothing can be settled against the deposit afterwards).
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
    /// @notice The first block time at which `refund` is open for a license: 0 once it is revoked,
    /// `validUntil + settlementGrace + 1` for one that expires, `type(uint256).max` for an unknown
    /// license or one without expiry that is not revoked.
    function refundOpensAt(bytes32 licenseId) external view returns (uint256);
    /// @notice What `refund` would pay now (0 if not available).
    function refundable(bytes32 licenseId) external view returns (uint256);
    /// @notice Sum of remaining deposits.
    function totalEscrowed() external view returns (uint128);
    /// @notice Sum of owed balances.
    function totalOwed() external view returns (uint128);
}
