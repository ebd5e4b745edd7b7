// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

import {IMarketplaceBase} from "./IMarketplaceBase.sol";
import {ILicenseManager} from "./ILicenseManager.sol";
import {COMPLIANCE_SIGNALS, AGGREGATE_SIGNALS} from "../Constants.sol";

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

    /// @notice One chunk of a compliance proof: a ComplianceChunk Groth16 proof and its public signals
    /// `[stateOut, totalUses, totalPaid, compliant, stateIn, final, chain, maxUses, pricePerUse,
    /// validFrom, validUntil, domain]` (circuits/registry.json).
    struct ComplianceChunk {
        uint256[8] proof;
        uint256[COMPLIANCE_SIGNALS] signals;
    }

    /// @notice One chunk of an aggregate proof: an AggregateChunk Groth16 proof and its public signals
    /// `[stateOut, totalUses, totalRevenue, uniqueLicensees, fromTs, toTs, stateIn, cursorIn,
    /// cursorOut, final, chains[8], prices[8], domain]`.
    struct AggregateChunk {
        uint256[8] proof;
        uint256[AGGREGATE_SIGNALS] signals;
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
    /// @notice A compliance or aggregate proof (all its chunks) was verified and recorded;
    /// `publicSignals` are the recorded signals (recordComplianceProof / recordAggregateProof).
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
    /// @notice A compliance or aggregate proof needs at least one chunk.
    error Tracker__NoChunks();
    /// @notice Chunk `index` does not continue the previous one: its stateIn is not the previous
    /// stateOut (0 for the first), or (aggregate) its cursorIn is not the previous cursorOut (0 for
    /// the first) or its cursorOut is not within cursorIn..cursorIn+8.
    error Tracker__BrokenChunkLink(uint256 index);
    /// @notice Chunk `index`'s `final` is wrong: exactly the last chunk must be final.
    error Tracker__WrongFinalChunk(uint256 index);
    /// @notice Chunk `index`'s public context is not the chain's: (compliance) the license's chain,
    /// maxUses, pricePerUse, validFrom, validUntil, or the domain; (aggregate) the chains and prices
    /// of used licenses cursorIn..cursorIn+7 (zero past the list), or the domain.
    error Tracker__ChunkContextMismatch(uint256 index);
    /// @notice The aggregate's last chunk covers `covered` licenses, the content has `licensesUsed`.
    error Tracker__IncompleteAggregate(uint256 covered, uint256 licensesUsed);
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

    /// @notice Verifies and records a compliance proof of a license: a sequence of ComplianceChunk
    /// proofs (any number of batches). Each chunk's proof is verified; the first chunk's stateIn is 0
    /// and each later one's the previous stateOut; exactly the last is final; every chunk's chain,
    /// maxUses, pricePerUse, validFrom, validUntil and domain are the license's now. Records
    /// `[totalUses, totalPaid, compliant, chain, maxUses, pricePerUse, validFrom, validUntil, domain,
    /// chunksHash]` (outputs of the last chunk; chunksHash = h_n, h_0 = 0, h_{i+1} =
    /// keccak256(abi.encodePacked(h_i, chunk_i.signals))). Anyone may call.
    function recordComplianceProof(bytes32 licenseId, ComplianceChunk[] calldata chunks)
        external
        returns (bytes32 proofId);

    /// @notice Verifies and records an aggregate proof of a content item: a sequence of
    /// AggregateChunk proofs covering the content's used licenses (`usedLicenses`, any number) in
    /// order. Each chunk's proof is verified with the chains and prices of used licenses
    /// cursorIn..cursorIn+7 now (zero past the list) and this contract's domain; the first chunk
    /// starts at stateIn 0, cursor 0, each later one at the previous stateOut and cursorOut; exactly
    /// the last is final and ends at cursorOut = the number of used licenses. Records `[totalUses,
    /// totalRevenue, uniqueLicensees, fromTs, toTs, domain, chunksHash]` (chunksHash as for
    /// compliance). Anyone may call.
    function recordAggregateProof(bytes32 contentId, AggregateChunk[] calldata chunks)
        external
        returns (bytes32 proofId);

    /// @notice The licenses of a content item with at least one logged batch, in order of first use
    /// (the aggregate sequence's order), with their chains and prices now.
    function aggregateInputs(bytes32 contentId)
        external
        view
        returns (bytes32[] memory licenseIds, uint256[] memory chains, uint256[] memory prices);

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
