pragma circom 2.1.0;

// Main instance of the `authenticity` circuit: see circuits/registry.json and authenticity.circom.
include "../templates/authenticity.circom";

component main {public [contentHashHi, contentHashLo, notBefore, notAfter, domain]} = Authenticity();
