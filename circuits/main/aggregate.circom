pragma circom 2.1.0;

// Main instance of the `aggregate` circuit: see circuits/registry.json and aggregate.circom.
include "../templates/aggregate.circom";

component main {public [chains, prices, domain]} = Aggregate(32, 8);
