pragma circom 2.1.0;

include "poseidon.circom";
include "bitify.circom";
include "domain_binding.circom";

// Authenticity (Flow 1, content registration).
//
// Proves: the registrant knows `creatorSecret` behind the public `creatorCommitment` (the
// creator's identity commitment, recorded in ContentRegistry on first registration and required
// to match afterwards), and commits to the public content hash together with a private
// timestamp and salt.
// Reveals: creatorCommitment, timestampCommitment, the content hash (two 128-bit limbs), domain.
// Hides: creatorSecret, the exact timestamp, the salt (which keeps the timestamp commitment from
// being brute-forced over plausible timestamps).
template Authenticity() {
    // Public inputs, in the order of circuits/registry.json (outputs come first there).
    signal input contentHashHi;   // SHA-256 content hash, bits 255..128
    signal input contentHashLo;   // bits 127..0
    signal input domain;
    // Private inputs.
    signal input creatorSecret;
    signal input timestamp;       // unix seconds
    signal input salt;

    signal output creatorCommitment;
    signal output timestampCommitment;

    // Each limb < 2^128, so (hi, lo) is the canonical split of exactly one 256-bit hash: without
    // this, hi·2^128 + lo has many field representations and a proof could be replayed for a
    // different hash with the same commitment inputs.
    component hiBits = Num2Bits(128);
    hiBits.in <== contentHashHi;
    component loBits = Num2Bits(128);
    loBits.in <== contentHashLo;

    // A timestamp is a 40-bit unix time (design rule), so a commitment opens to a real time.
    component tsBits = Num2Bits(40);
    tsBits.in <== timestamp;

    component domainBinding = DomainBinding();
    domainBinding.domain <== domain;

    // Knowledge of the identity secret: Poseidon is one-way, so only its holder can make this.
    component creator = Poseidon(1);
    creator.inputs[0] <== creatorSecret;
    creatorCommitment <== creator.out;

    // Binds the (hidden) timestamp to this content hash: opening it later (timestamp, salt)
    // proves when the content was registered, and it cannot be moved to another hash.
    component ts = Poseidon(4);
    ts.inputs[0] <== timestamp;
    ts.inputs[1] <== salt;
    ts.inputs[2] <== contentHashHi;
    ts.inputs[3] <== contentHashLo;
    timestampCommitment <== ts.out;
}
