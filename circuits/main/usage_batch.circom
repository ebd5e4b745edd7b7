pragma circom 2.1.0;

// Main instance of the `usage_batch` circuit: see circuits/registry.json and usage_batch.circom.
include "../templates/usage_batch.circom";

component main {public [chainOld, credentialCommitment, startIndex, count, windowStart, windowEnd, domain]} = UsageBatch(64);
