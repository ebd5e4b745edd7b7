pragma circom 2.1.0;

// Main instance of the `credential` circuit: see circuits/registry.json and credential.circom.
include "../templates/credential.circom";

component main {public [challenge, domain]} = Credential();
