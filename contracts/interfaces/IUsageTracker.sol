// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

import {IMarketplaceBase} from "./IMarketplaceBase.sol";
import {ILicenseManager} from "./ILicenseManager.sol";

/// @title IUsageTracker
/// @notice Accepts usage batches proven against each license's on-chain accumulator (Flows 3-4),
/// keeps public per-content statistics, and records compliance (Flow 5) and aggregate (Flow 6)
/// proofs for anyone to check.
interface IUsageTracker is IMarketplaceBase {
    /// @notice Public per-content statistics (one storage slot).
    struct ContentStats {
        uint64 totalUses;
        uint24 licensesUsed;
        uint40 lastBatchAt;
        uint128 totalRevenue;
    }

    enum ProofKind {
        NONE,
        COMPLIANCE,
        AGGREGATE
    }

    /// @notice A recorded proof: the hash of its public signals (`keccak256(abi.encodePacked(signals))`),
    /// its subject (licenseId for compliance, contentId for aggregate), when and what.
    struct ProofRecord {
        bytes32 signalsHash;
        bytes32 subject;
        uint40 recordedAt;
        ProofKind kind;
    }

    /// @notice A usage batch was accepted (and paid: the escrow's PaymentReleased has the same
    /// batchId). No licensee address, no per-event data, no use's time: only the window, at least
    /// `minWindow` wide.
    event UsageLogged(
        bytes32 indexed licenseId,
        bytes32 indexed contentId,
        bytes32 indexed batchId,
        uint256 startIndex,
        uint256 count,
        uint256 windowStart,
        uint256 windowEnd,
        uint256 chainNew
    );
    /// @notice A compliance or aggregate proof was verified and recorded; `publicSignals` in circuit order.
    event ProofRecorded(
        bytes32 indexed proofId, ProofKind indexed kind, bytes32 indexed subject, uint256[] publicSignals
    );

    error Tracker__UnknownLicense();
    error Tracker__LicenseRevoked();
    /// @notice count must be 1..MAX_BATCH_EVENTS.
    error Tracker__InvalidCount();
    /// @notice windowStart > windowEnd.
    error Tracker__InvalidWindow();
    /// @notice The window is not inside [validFrom, validUntil].
    error Tracker__WindowOutsideValidity();
    /// @notice windowEnd is later than the current block.
    error Tracker__WindowInFuture();
    error Tracker__MaxUsesExceeded();
    error Tracker__InvalidProof();
    /// @notice More licenses of the content have usage than the aggregate circuit has slots.
    error Tracker__TooManyLicenses();
    error Tracker__ProofAlreadyRecorded(bytes32 proofId);
    /// @notice windowEnd - windowStart is below the minimum: min(minWindow, validUntil - validFrom).
    error Tracker__WindowTooNarrow(uint256 minimum);
    /// @notice minWindow out of [MIN_WINDOW_FLOOR, MIN_WINDOW_CEILING] (15 minutes, 7 days).
    error Tracker__InvalidMinWindow();

    event MinWindowUpdated(uint256 previous, uint256 minWindow);

    /// @notice Logs a batch of `count` uses of a license (RELAYER_ROLE) and pays it. The contract
    /// supplies `chainOld`, `credentialCommitment`, `startIndex` (= uses so far) and `domain` from
    /// storage and verifies the usage_batch proof over `[chainNew, chainOld, credentialCommitment,
    /// startIndex, count, windowStart, windowEnd, domain]`; the window must be at least
    /// min(minWindow, validUntil - validFrom) wide. `accesses` are the buyer's signed access
    /// requests covering exactly `count` uses (LicenseManager.recordUsage: one signature per signer
    /// suffices, its latest counter). Then the escrow pays the batch, `batchId =
    /// keccak256(abi.encode(licenseId, startIndex))`, at once (PaymentReleased), so a batch is
    /// released exactly once, in the transaction that logs it.
    function logUsageBatch(
        bytes32 licenseId,
        uint256 count,
        uint256 windowStart,
        uint256 windowEnd,
        uint256 chainNew,
        uint256[8] calldata proof,
        ILicenseManager.SignedAccess[] calldata accesses
    ) external returns (bytes32 batchId);

    /// @notice Sets the minimum public window (DEFAULT_ADMIN_ROLE), within [15 minutes, 7 days].
    function setMinWindow(uint256 newMinWindow) external;

    /// @notice The minimum width of a batch's public window (default 1 hour).
    function minWindow() external view returns (uint256);

    /// @notice Verifies and records a compliance proof of a license over `[totalUses, totalPaid,
    /// compliant, chain, maxUses, pricePerUse, validFrom, validUntil, domain]` (the last six from
    /// storage). Anyone may call.
    function recordComplianceProof(
        bytes32 licenseId,
        uint256 totalUses,
        uint256 totalPaid,
        uint256 compliant,
        uint256[8] calldata proof
    ) external returns (bytes32 proofId);

    /// @notice Verifies and records an aggregate proof of a content item over `[totalUses,
    /// totalRevenue, uniqueLicensees, fromTs, toTs, chains[8], prices[8], domain]`; chains and prices
    /// are those of `aggregateInputs(contentId)`. Anyone may call.
    /// @param outputs [totalUses, totalRevenue, uniqueLicensees, fromTs, toTs].
    function recordAggregateProof(bytes32 contentId, uint256[5] calldata outputs, uint256[8] calldata proof)
        external
        returns (bytes32 proofId);

    /// @notice The licenses of a content item with at least one logged batch, in order of first use:
    /// the aggregate circuit's slots 0..7, then zero-padded chains and prices.
    function aggregateInputs(bytes32 contentId)
        external
        view
        returns (bytes32[] memory licenseIds, uint256[8] memory chains, uint256[8] memory prices);

    function contentStats(bytes32 contentId) external view returns (ContentStats memory);
    function usedLicenses(bytes32 contentId) external view returns (bytes32[] memory);
    function getProof(bytes32 proofId) external view returns (ProofRecord memory);
    /// @notice Whether `proofId` is recorded with exactly these public signals.
    function matchesRecordedProof(bytes32 proofId, uint256[] calldata publicSignals) external view returns (bool);
    /// @notice `keccak256(abi.encode(kind, subject, keccak256(abi.encodePacked(publicSignals))))`.
    function proofIdOf(ProofKind kind, bytes32 subject, uint256[] calldata publicSignals)
        external
        pure
        returns (bytes32);
    /// @notice `keccak256(abi.encode(licenseId, startIndex))`.
    function batchIdOf(bytes32 licenseId, uint256 startIndex) external pure returns (bytes32);
    /// @notice This contract's proof domain (public input of usage_batch, compliance, aggregate).
    function domain() external view returns (uint256);
}
