pragma circom 2.1.0;

include "poseidon.circom";
include "domain_binding.circom";

// Credential (Flows 2-3, access checks off-chain).
//
// Proves: the prover holds `credentialSecret` (the buyer's accessToken) whose commitment
// Poseidon(credentialSecret, licenseIdField) is the one recorded with the license at purchase,
// and binds this proof to a fresh `challenge` chosen by the verifier, so a recorded proof cannot
// be replayed for another challenge.
// Reveals: credentialCommitment (already public on chain with the license), binding, challenge,
// domain. Hides: the secret, and therefore any link to the buying address.
template Credential() {
    // Public inputs.
    signal input challenge;
    signal input domain;
    // Private inputs.
    signal input credentialSecret;
    signal input licenseIdField;   // uint256(licenseId) % p

    signal output credentialCommitment;
    signal output binding;

    component domainBinding = DomainBinding();
    domainBinding.domain <== domain;

    // The verifier looks this value up among the licenses' recorded commitments.
    component commitment = Poseidon(2);
    commitment.inputs[0] <== credentialSecret;
    commitment.inputs[1] <== licenseIdField;
    credentialCommitment <== commitment.out;

    // Challenge-response: computable only with the secret, different for every challenge.
    component bind = Poseidon(2);
    bind.inputs[0] <== credentialSecret;
    bind.inputs[1] <== challenge;
    binding <== bind.out;
}
