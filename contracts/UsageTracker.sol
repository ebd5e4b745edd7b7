// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

import {MarketplaceBase} from "./MarketplaceBase.sol";
import {
    MAX_BATCH_EVENTS,
    AGGREGATE_LICENSE_SLOTS,
    USAGE_BATCH_SIGNALS,
    COMPLIANCE_SIGNALS,
    AGGREGATE_SIGNALS,
    COMPLIANCE_RECORD_SIGNALS,
    AGGREGATE_RECORD_SIGNALS,
    DEFAULT_MIN_WINDOW,
    MIN_WINDOW_FLOOR,
    MIN_WINDOW_CEILING
} from "./Constants.sol";
import {Groth16} from "./libraries/Groth16.sol";
import {IUsageTracker} from "./interfaces/IUsageTracker.sol";
import {ILicenseManager} from "./interfaces/ILicenseManager.sol";
import {IPaymentEscrow} from "./interfaces/IPaymentEscrow.sol";
import {IUsageBatchVerifier, IComplianceVerifier, IAggregateVerifier} from "./interfaces/IGroth16Verifiers.sol";

/// @title UsageTracker
/// @notice Usage batches (Flows 3-4), public per-content statistics and recorded compliance and
/// aggregate proofs (Flows 5-6). Builds every public signal it can from storage, so a caller only
/// supplies what the proof outputs and the batch's public window and count.
/// @dev A batch cannot be replayed: the proof is bound to the license's current chain value and to
/// startIndex = uses so far, both of which the batch itself advances. The buyer's signatures are
/// checked, and the batch paid, by the LicenseManager (which alone can settle with the escrow).
/// Calls go only to the immutable LicenseManager and verifiers.
contract UsageTracker is IUsageTracker, MarketplaceBase {
    // Positions in a compliance chunk's public signals (circuits/registry.json).
    uint256 private constant C_STATE_OUT = 0;
    uint256 private constant C_TOTAL_USES = 1;
    uint256 private constant C_STATE_IN = 4;
    uint256 private constant C_FINAL = 5;
    uint256 private constant C_CHAIN = 6;
    // Positions in an aggregate chunk's public signals.
    uint256 private constant A_STATE_OUT = 0;
    uint256 private constant A_TOTAL_USES = 1;
    uint256 private constant A_STATE_IN = 6;
    uint256 private constant A_CURSOR_IN = 7;
    uint256 private constant A_CURSOR_OUT = 8;
    uint256 private constant A_FINAL = 9;
    uint256 private constant A_CHAINS = 10;
    uint256 private constant A_PRICES = A_CHAINS + AGGREGATE_LICENSE_SLOTS;
    uint256 private constant A_DOMAIN = A_PRICES + AGGREGATE_LICENSE_SLOTS;

    ILicenseManager public immutable LICENSE_MANAGER;
    /// @notice The escrow the LicenseManager settles batches into (for readers; not called here).
    IPaymentEscrow public immutable ESCROW;
    IUsageBatchVerifier public immutable USAGE_BATCH_VERIFIER;
    IComplianceVerifier public immutable COMPLIANCE_VERIFIER;
    IAggregateVerifier public immutable AGGREGATE_VERIFIER;

    mapping(bytes32 contentId => ContentStats) internal _stats;
    /// @dev The content's licenses with usage, in order of first batch; their count is
    /// `_stats[contentId].licensesUsed` (kept in the stats slot, so no separate array length).
    mapping(bytes32 contentId => mapping(uint256 index => bytes32 licenseId)) internal _usedLicenses;
    mapping(bytes32 proofId => ProofRecord) private _proofs;
    /// @inheritdoc IUsageTracker
    uint256 public minWindow = DEFAULT_MIN_WINDOW;

    /// @param admin DEFAULT_ADMIN_ROLE and PAUSER_ROLE.
    /// @param relayer RELAYER_ROLE (logs usage batches).
    constructor(
        address admin,
        address relayer,
        ILicenseManager licenseManager,
        IPaymentEscrow escrow,
        IUsageBatchVerifier usageBatchVerifier,
        IComplianceVerifier complianceVerifier,
        IAggregateVerifier aggregateVerifier
    ) MarketplaceBase(admin) {
        _requireNonZero(relayer);
        _requireNonZero(address(licenseManager));
        _requireNonZero(address(escrow));
        _requireNonZero(address(usageBatchVerifier));
        _requireNonZero(address(complianceVerifier));
        _requireNonZero(address(aggregateVerifier));
        _grantRole(RELAYER_ROLE, relayer);
        LICENSE_MANAGER = licenseManager;
        ESCROW = escrow;
        USAGE_BATCH_VERIFIER = usageBatchVerifier;
        COMPLIANCE_VERIFIER = complianceVerifier;
        AGGREGATE_VERIFIER = aggregateVerifier;
    }

    /// @inheritdoc IUsageTracker
    function logUsageBatch(
        bytes32 licenseId,
        uint256 count,
        uint256 windowStart,
        uint256 windowEnd,
        uint256 chainNew,
        uint256[8] calldata proof,
        ILicenseManager.SignedAccess[] calldata accesses
    ) external onlyRole(RELAYER_ROLE) whenNotPaused returns (bytes32 batchId) {
        ILicenseManager.UsageContext memory ctx = _usageContext(licenseId);
        if (ctx.revoked) revert Tracker__LicenseRevoked();
        if (count == 0 || count > MAX_BATCH_EVENTS) revert Tracker__InvalidCount();
        _checkWindow(ctx, windowStart, windowEnd);
        if (ctx.uses + count > ctx.maxUses) revert Tracker__MaxUsesExceeded();

        uint256[] memory signals = new uint256[](USAGE_BATCH_SIGNALS);
        signals[0] = chainNew;
        signals[1] = ctx.chain;
        signals[2] = ctx.credentialCommitment;
        signals[3] = ctx.uses;
        signals[4] = count;
        signals[5] = windowStart;
        signals[6] = windowEnd;
        signals[7] = domain();
        _verify(address(USAGE_BATCH_VERIFIER), IUsageBatchVerifier.verifyProof.selector, proof, signals);

        batchId = _recordBatch(licenseId, ctx, count, windowStart, windowEnd, chainNew);
        // count <= MAX_BATCH_EVENTS, so the cast is exact. The license manager checks the buyer's
        // signatures against count and settles the batch with the escrow.
        LICENSE_MANAGER.recordUsage(licenseId, ctx.uses, uint32(count), chainNew, accesses);
    }

    /// @inheritdoc IUsageTracker
    function setMinWindow(uint256 newMinWindow) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newMinWindow < MIN_WINDOW_FLOOR || newMinWindow > MIN_WINDOW_CEILING) revert Tracker__InvalidMinWindow();
        emit MinWindowUpdated(minWindow, newMinWindow);
        minWindow = newMinWindow;
    }

    /// @inheritdoc IUsageTracker
    function recordComplianceProof(bytes32 licenseId, ComplianceChunk[] calldata chunks)
        external
        whenNotPaused
        returns (bytes32 proofId)
    {
        ILicenseManager.UsageContext memory ctx = _usageContext(licenseId);
        uint256 n = chunks.length;
        if (n == 0) revert Tracker__NoChunks();
        // What every chunk's public inputs after `final` must be: the license's context now.
        uint256[6] memory context =
            [ctx.chain, uint256(ctx.maxUses), uint256(ctx.pricePerUse), ctx.validFrom, ctx.validUntil, domain()];
        uint256 state = 0; // the previous chunk's stateOut; the first chunk starts from 0
        bytes32 chunksHash = bytes32(0);
        for (uint256 i; i < n; ++i) {
            uint256[COMPLIANCE_SIGNALS] calldata s = chunks[i].signals;
            if (s[C_STATE_IN] != state) revert Tracker__BrokenChunkLink(i);
            if (s[C_FINAL] != (i + 1 == n ? 1 : 0)) revert Tracker__WrongFinalChunk(i);
            for (uint256 k; k < 6; ++k) {
                if (s[C_CHAIN + k] != context[k]) revert Tracker__ChunkContextMismatch(i);
            }
            _verifyChunk(
                address(COMPLIANCE_VERIFIER),
                abi.encodePacked(IComplianceVerifier.verifyProof.selector, chunks[i].proof, s)
            );
            state = s[C_STATE_OUT];
            chunksHash = keccak256(abi.encodePacked(chunksHash, s));
        }
        uint256[COMPLIANCE_SIGNALS] calldata last = chunks[n - 1].signals;
        uint256[] memory signals = new uint256[](COMPLIANCE_RECORD_SIGNALS);
        for (uint256 k; k < 3; ++k) {
            signals[k] = last[C_TOTAL_USES + k]; // totalUses, totalPaid, compliant
        }
        for (uint256 k; k < 6; ++k) {
            signals[3 + k] = context[k];
        }
        signals[9] = uint256(chunksHash);
        proofId = _record(ProofKind.COMPLIANCE, licenseId, signals);
    }

    /// @inheritdoc IUsageTracker
    function recordAggregateProof(bytes32 contentId, AggregateChunk[] calldata chunks)
        external
        whenNotPaused
        returns (bytes32 proofId)
    {
        uint256 n = chunks.length;
        if (n == 0) revert Tracker__NoChunks();
        uint256 used = _stats[contentId].licensesUsed;
        uint256 dom = domain();
        uint256 state = 0; // the previous chunk's stateOut; the first chunk starts from 0
        uint256 cursor = 0; // licenses covered so far, in usedLicenses order
        bytes32 chunksHash = bytes32(0);
        for (uint256 i; i < n; ++i) {
            uint256[AGGREGATE_SIGNALS] calldata s = chunks[i].signals;
            if (s[A_STATE_IN] != state || s[A_CURSOR_IN] != cursor) revert Tracker__BrokenChunkLink(i);
            uint256 cursorOut = s[A_CURSOR_OUT];
            if (cursorOut < cursor || cursorOut > cursor + AGGREGATE_LICENSE_SLOTS) revert Tracker__BrokenChunkLink(i);
            if (s[A_FINAL] != (i + 1 == n ? 1 : 0)) revert Tracker__WrongFinalChunk(i);
            if (s[A_DOMAIN] != dom || !_windowMatches(contentId, used, cursor, s)) {
                revert Tracker__ChunkContextMismatch(i);
            }
            _verifyChunk(
                address(AGGREGATE_VERIFIER),
                abi.encodePacked(IAggregateVerifier.verifyProof.selector, chunks[i].proof, s)
            );
            state = s[A_STATE_OUT];
            cursor = cursorOut;
            chunksHash = keccak256(abi.encodePacked(chunksHash, s));
        }
        if (cursor != used) revert Tracker__IncompleteAggregate(cursor, used);
        uint256[AGGREGATE_SIGNALS] calldata last = chunks[n - 1].signals;
        uint256[] memory signals = new uint256[](AGGREGATE_RECORD_SIGNALS);
        for (uint256 k; k < 5; ++k) {
            signals[k] = last[A_TOTAL_USES + k]; // totalUses, totalRevenue, uniqueLicensees, fromTs, toTs
        }
        signals[5] = dom;
        signals[6] = uint256(chunksHash);
        proofId = _record(ProofKind.AGGREGATE, contentId, signals);
    }

    /// @inheritdoc IUsageTracker
    function aggregateInputs(bytes32 contentId)
        public
        view
        returns (bytes32[] memory licenseIds, uint256[] memory chains, uint256[] memory prices)
    {
        licenseIds = usedLicenses(contentId);
        chains = new uint256[](licenseIds.length);
        prices = new uint256[](licenseIds.length);
        for (uint256 i; i < licenseIds.length; ++i) {
            ILicenseManager.UsageContext memory ctx = LICENSE_MANAGER.usageContext(licenseIds[i]);
            chains[i] = ctx.chain;
            prices[i] = ctx.pricePerUse;
        }
    }

    /// @inheritdoc IUsageTracker
    function contentStats(bytes32 contentId) external view returns (ContentStats memory) {
        return _stats[contentId];
    }

    /// @inheritdoc IUsageTracker
    function usedLicenses(bytes32 contentId) public view returns (bytes32[] memory licenseIds) {
        licenseIds = new bytes32[](_stats[contentId].licensesUsed);
        for (uint256 i; i < licenseIds.length; ++i) {
            licenseIds[i] = _usedLicenses[contentId][i];
        }
    }

    /// @inheritdoc IUsageTracker
    function getProof(bytes32 proofId) external view returns (ProofRecord memory) {
        return _proofs[proofId];
    }

    /// @inheritdoc IUsageTracker
    function matchesRecordedProof(bytes32 proofId, uint256[] calldata publicSignals) external view returns (bool) {
        ProofRecord storage record = _proofs[proofId];
        return record.kind != ProofKind.NONE && record.signalsHash == keccak256(abi.encodePacked(publicSignals));
    }

    /// @inheritdoc IUsageTracker
    function proofIdOf(ProofKind kind, bytes32 subject, uint256[] calldata publicSignals)
        external
        pure
        returns (bytes32)
    {
        return _proofId(kind, subject, keccak256(abi.encodePacked(publicSignals)));
    }

    /// @inheritdoc IUsageTracker
    function batchIdOf(bytes32 licenseId, uint256 startIndex) external pure returns (bytes32) {
        return keccak256(abi.encode(licenseId, startIndex));
    }

    /// @inheritdoc IUsageTracker
    function domain() public view returns (uint256) {
        return Groth16.domain(address(this));
    }

    /// @dev The license's context; a license always has validFrom > 0 (its purchase time).
    function _usageContext(bytes32 licenseId) private view returns (ILicenseManager.UsageContext memory ctx) {
        ctx = LICENSE_MANAGER.usageContext(licenseId);
        if (ctx.validFrom == 0) revert Tracker__UnknownLicense();
    }

    function _verify(address verifier, bytes4 selector, uint256[8] calldata proof, uint256[] memory signals)
        private
        view
    {
        if (!Groth16.verify(verifier, selector, proof, signals)) revert Tracker__InvalidProof();
    }

    /// @dev One chunk's `verifyProof(a, b, c, input)` call, already encoded (selector, the proof's 8
    /// words, the signals: all static, so packed = ABI encoding). Fails closed like Groth16.verify.
    function _verifyChunk(address verifier, bytes memory call) private view {
        (bool ok, bytes memory ret) = verifier.staticcall(call);
        if (!(ok && ret.length == 32 && abi.decode(ret, (bool)))) revert Tracker__InvalidProof();
    }

    /// @dev Whether an aggregate chunk's chains and prices are those of the used licenses
    /// cursor..cursor+L-1 now (zero past the `used` licenses).
    function _windowMatches(
        bytes32 contentId,
        uint256 used,
        uint256 cursor,
        uint256[AGGREGATE_SIGNALS] calldata s
    ) private view returns (bool) {
        for (uint256 k; k < AGGREGATE_LICENSE_SLOTS; ++k) {
            uint256 chain = 0;
            uint256 price = 0;
            if (cursor + k < used) {
                ILicenseManager.UsageContext memory ctx =
                    LICENSE_MANAGER.usageContext(_usedLicenses[contentId][cursor + k]);
                chain = ctx.chain;
                price = ctx.pricePerUse;
            }
            if (s[A_CHAINS + k] != chain || s[A_PRICES + k] != price) return false;
        }
        return true;
    }

    function _record(ProofKind kind, bytes32 subject, uint256[] memory publicSignals)
        private
        returns (bytes32 proofId)
    {
        bytes32 signalsHash = keccak256(abi.encodePacked(publicSignals));
        proofId = _proofId(kind, subject, signalsHash);
        if (_proofs[proofId].kind != ProofKind.NONE) revert Tracker__ProofAlreadyRecorded(proofId);
        _proofs[proofId] = ProofRecord({
            signalsHash: signalsHash,
            subject: subject,
            recordedAt: uint40(block.timestamp),
            kind: kind
        });
        emit ProofRecorded(proofId, kind, subject, publicSignals);
    }

    function _proofId(ProofKind kind, bytes32 subject, bytes32 signalsHash) private pure returns (bytes32) {
        return keccak256(abi.encode(kind, subject, signalsHash));
    }

    /// @dev Public statistics and the UsageLogged event of an accepted batch.
    function _recordBatch(
        bytes32 licenseId,
        ILicenseManager.UsageContext memory ctx,
        uint256 count,
        uint256 windowStart,
        uint256 windowEnd,
        uint256 chainNew
    ) private returns (bytes32 batchId) {
        batchId = keccak256(abi.encode(licenseId, uint256(ctx.uses)));
        ContentStats storage stats = _stats[ctx.contentId];
        if (ctx.uses == 0) {
            _usedLicenses[ctx.contentId][stats.licensesUsed] = licenseId;
            stats.licensesUsed += 1;
        }
        stats.totalUses += uint64(count);
        stats.totalRevenue += uint128(count * ctx.pricePerUse);
        stats.lastBatchAt = uint40(block.timestamp);
        emit UsageLogged(licenseId, ctx.contentId, batchId, ctx.uses, count, windowStart, windowEnd, chainNew);
    }

    function _checkWindow(ILicenseManager.UsageContext memory ctx, uint256 windowStart, uint256 windowEnd)
        private
        view
    {
        if (windowStart > windowEnd) revert Tracker__InvalidWindow();
        if (windowStart < ctx.validFrom || windowEnd > ctx.validUntil) revert Tracker__WindowOutsideValidity();
        if (windowEnd > block.timestamp) revert Tracker__WindowInFuture();
        // The chain learns a use's time no more precisely than the window: at least minWindow, or
        // the license's whole validity when that is shorter.
        uint256 minimum = _min(minWindow, uint256(ctx.validUntil) - ctx.validFrom);
        if (windowEnd - windowStart < minimum) revert Tracker__WindowTooNarrow(minimum);
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
