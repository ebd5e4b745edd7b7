pragma circom 2.1.0;

// Main instance of the `aggregate` circuit: see circuits/registry.json and aggregate.circom.
include "../templates/aggregate.circom";

component main {public [stateIn, cursorIn, cursorOut, final, chains, prices, domain]} = AggregateChunk(32, 8);
