// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

// The generated verifiers (build/verifiers/*.sol, made by circuits/build.py from snarkjs's
// template) each expose `verifyProof(a, b, c, input)` with their circuit's public signal count.
// Public signals are in circuits/registry.json order: outputs first, then public inputs.

/// @notice authenticity: [creatorCommitment, timestampCommitment, contentHashHi, contentHashLo,
/// notBefore, notAfter, domain]
interface IAuthenticityVerifier {
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[7] calldata input
    ) external view returns (bool);
}

/// @notice usage_batch: [chainNew, chainOld, credentialCommitment, startIndex, count, windowStart,
/// windowEnd, domain]
interface IUsageBatchVerifier {
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[8] calldata input
    ) external view returns (bool);
}

/// @notice compliance (one ComplianceChunk): [stateOut, totalUses, totalPaid, compliant, stateIn,
/// final, chain, maxUses, pricePerUse, validFrom, validUntil, domain]
interface IComplianceVerifier {
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[12] calldata input
    ) external view returns (bool);
}

/// @notice aggregate (one AggregateChunk): [stateOut, totalUses, totalRevenue, uniqueLicensees,
/// fromTs, toTs, stateIn, cursorIn, cursorOut, final, chains[8], prices[8], domain]
interface IAggregateVerifier {
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[27] calldata input
    ) external view returns (bool);
}
