pragma circom 2.1.0;

// Main instance of the `compliance` circuit: see circuits/registry.json and compliance.circom.
include "../templates/compliance.circom";

component main {public [stateIn, final, chain, maxUses, pricePerUse, validFrom, validUntil, domain]} = ComplianceChunk(32);
