// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity 0.8.28;

// Every constant the marketplace contracts share, in one place (file-level, so that they can size
// fixed arrays).

// BN254 scalar field modulus: every Groth16 public signal is below it.
uint256 constant SNARK_SCALAR_FIELD =
    21888242871839275222246405745257275088548364400416034343698204186575808495617;

// Platform fee on every released payment, in basis points, until the admin changes it.
uint16 constant DEFAULT_PLATFORM_FEE_BPS = 250;
// The admin can never set a platform fee above this (10 %).
uint16 constant MAX_PLATFORM_FEE_BPS = 1_000;
uint256 constant BPS_DENOMINATOR = 10_000;

// Event slots of the usage_batch circuit (N): a batch has 1..N events.
uint256 constant MAX_BATCH_EVENTS = 64;
// License slots of one aggregate chunk (AggregateChunk(M, L): L). An aggregate proof is any number
// of chunks, so this bounds nothing but a chunk's window of licenses.
uint256 constant AGGREGATE_LICENSE_SLOTS = 8;

// `validUntil` of a license without expiry (the circuits range-check times to 40 bits).
uint40 constant NO_EXPIRY = type(uint40).max;
// Settlement grace (LicenseManager.settlementGrace, admin-set within these bounds): after a
// license expires, its unused deposit is refundable only after the grace, and a usage signer the
// buyer revoked stays valid for the grace, so that uses served before (and logged later) are paid.
uint256 constant DEFAULT_SETTLEMENT_GRACE = 1 days;
uint256 constant MIN_SETTLEMENT_GRACE = 1 hours;
uint256 constant MAX_SETTLEMENT_GRACE = 30 days;

// Minimum width of a usage batch's public window (UsageTracker.minWindow, admin-set within these
// bounds): the chain never learns a use's time more precisely than this (a license shorter than
// the minimum must use its whole validity as the window).
uint256 constant DEFAULT_MIN_WINDOW = 1 hours;
uint256 constant MIN_WINDOW_FLOOR = 15 minutes;
uint256 constant MIN_WINDOW_CEILING = 7 days;

// Bound on a license's price (pricePerUse × maxUses, token base units), checked in createTerms:
// every on-chain amount (a deposit, a release, a fee, a refund) is at most 10^30, so it and any
// sum of fewer than 10^8 of them fit in 38 decimal digits (DynamoDB's number precision).
// pricePerUse is a uint96 (< 2^96 ≈ 7.9 × 10^28), below the bound on its own.
uint256 constant MAX_LICENSE_AMOUNT = 1e30;

// How long before its registering block an authenticity proof's committed timestamp may be:
// registerContent requires block.timestamp − REGISTRATION_MAX_SKEW ≤ notBefore ≤ notAfter ≤
// block.timestamp, and the circuit proves notBefore ≤ timestamp ≤ notAfter. It bounds the delay
// between proving and mining (a registration saga that waits longer must prove again).
uint256 constant REGISTRATION_MAX_SKEW = 1 hours;

// Public signal counts of the on-chain circuits (outputs first, then inputs).
uint256 constant AUTHENTICITY_SIGNALS = 7;
uint256 constant USAGE_BATCH_SIGNALS = 8;
// (compliance and aggregate: of one chunk; circuits/registry.json.)
uint256 constant COMPLIANCE_SIGNALS = 12;
uint256 constant AGGREGATE_SIGNALS = 27;
// Public signals UsageTracker records for a whole (chunked) compliance / aggregate proof.
uint256 constant COMPLIANCE_RECORD_SIGNALS = 10;
uint256 constant AGGREGATE_RECORD_SIGNALS = 7;
