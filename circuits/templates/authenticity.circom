pragma circom 2.1.0;

include "poseidon.circom";
include "bitify.circom";
include "domain_binding.circom";

// Authenticity (Flow 1, content registration).
//
// Proves: the prover knows `creatorSecret` behind the public `creatorCommitment`; the public
// content hash is the canonical 128-bit split of one 256-bit hash; `timestampCommitment` commits
// to that hash together with a private timestamp and salt; and that timestamp lies in the public
// window [notBefore, notAfter] (all three 40-bit unix times). ContentRegistry checks the window
// against the block: block.timestamp − REGISTRATION_MAX_SKEW ≤ notBefore ≤ notAfter ≤
// block.timestamp, so the committed timestamp is at most REGISTRATION_MAX_SKEW before the block
// that registers it and never after it.
// Does NOT prove: that the creator alone holds `creatorSecret`. The platform derives it
// (HMAC of its identity key and the creator's address), so a valid proof shows that the platform
// registered the content for the address it authenticated (SIWE); circuits/README.md says what a
// creator-held secret would need.
// Reveals: creatorCommitment, timestampCommitment, the content hash (two 128-bit limbs), the
// window, domain. Hides: creatorSecret, the salt, and the timestamp within the window (the
// registration saga sets notBefore = notAfter = timestamp, so its proofs reveal the timestamp;
// the block time is public anyway).
template Authenticity() {
    // Public inputs, in the order of circuits/registry.json (outputs come first there).
    signal input contentHashHi;   // SHA-256 content hash, bits 255..128
    signal input contentHashLo;   // bits 127..0
    signal input notBefore;       // unix seconds: the timestamp is ≥ this ...
    signal input notAfter;        // ... and ≤ this
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

    // Times are 40-bit unix times (design rule). With all three below 2^40, the two differences
    // below are below 2^40 exactly when notBefore ≤ timestamp ≤ notAfter as integers: a negative
    // difference is p − d in the field, far above 2^40 (the argument of GatedInWindow, always on).
    component tsBits = Num2Bits(40);
    tsBits.in <== timestamp;
    component notBeforeBits = Num2Bits(40);
    notBeforeBits.in <== notBefore;
    component notAfterBits = Num2Bits(40);
    notAfterBits.in <== notAfter;
    component afterStart = Num2Bits(40);
    afterStart.in <== timestamp - notBefore;
    component beforeEnd = Num2Bits(40);
    beforeEnd.in <== notAfter - timestamp;

    component domainBinding = DomainBinding();
    domainBinding.domain <== domain;

    // Knowledge of the identity secret: Poseidon is one-way, so only a holder of the secret (here
    // the platform, which derives it, and whoever it gives it to) can make this.
    component creator = Poseidon(1);
    creator.inputs[0] <== creatorSecret;
    creatorCommitment <== creator.out;

    // Binds the timestamp to this content hash: opening it later (timestamp, salt) shows the
    // registration's committed time, and it cannot be moved to another hash.
    component ts = Poseidon(4);
    ts.inputs[0] <== timestamp;
    ts.inputs[1] <== salt;
    ts.inputs[2] <== contentHashHi;
    ts.inputs[3] <== contentHashLo;
    timestampCommitment <== ts.out;
}
