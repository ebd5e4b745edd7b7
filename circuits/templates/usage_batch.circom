pragma circom 2.1.0;

include "poseidon.circom";
include "bitify.circom";
include "domain_binding.circom";
include "prefix_flags.circom";
include "gated_window.circom";
include "chain_step.circom";

// UsageBatch(N) (Flows 3-4, "Batch Processing"): N usage-event slots, the first `count` used.
//
// Proves: the prover holds the credential secret of the license whose commitment is public
// (`credentialCommitment`, supplied by UsageTracker from storage); `count` events (1 ≤ count ≤ N),
// numbered startIndex, startIndex+1, ..., each with a private timestamp inside the public
// window [windowStart, windowEnd] and a private call hash; and the license's chain moves from
// `chainOld` to `chainNew` by the batch record (digest, count, windowStart, windowEnd).
// Reveals: the chain values, the commitment, startIndex, count and the window. Hides: the exact
// timestamps, the call details (endpoint, method, client IP, request id inside callHash), the
// nullifiers and the licensee.
//
// Counted once: event i's nullifier is Poseidon(credentialSecret, startIndex + i). UsageTracker
// forces startIndex == usesSoFar and then adds count, so every sequence index, hence every
// nullifier, is used by exactly one accepted batch.
template UsageBatch(N) {
    // Public inputs, in the order of circuits/registry.json (the output chainNew comes first).
    signal input chainOld;
    signal input credentialCommitment;
    signal input startIndex;
    signal input count;
    signal input windowStart;
    signal input windowEnd;
    signal input domain;
    // Private inputs.
    signal input credentialSecret;
    signal input licenseIdField;
    signal input enabled[N];
    signal input timestamps[N];
    signal input callHashes[N];

    signal output chainNew;

    component domainBinding = DomainBinding();
    domainBinding.domain <== domain;

    // The events belong to this license: only the holder of its credential can open it.
    component commitment = Poseidon(2);
    commitment.inputs[0] <== credentialSecret;
    commitment.inputs[1] <== licenseIdField;
    commitment.out === credentialCommitment;

    // Ranges (design rule: timestamps 40 bits, counts 32 bits). The window bounds must be
    // range-checked: GatedInWindow's soundness relies on lo, hi < 2^40. startIndex < 2^32 keeps
    // startIndex + i from wrapping, so the N indices are distinct.
    component startBits = Num2Bits(32);
    startBits.in <== startIndex;
    component windowStartBits = Num2Bits(40);
    windowStartBits.in <== windowStart;
    component windowEndBits = Num2Bits(40);
    windowEndBits.in <== windowEnd;

    // Used slots form a prefix and number `count`; slot 0 is used, so 1 ≤ count ≤ N (a batch
    // with no events would move the chain without any use).
    component flags = PrefixFlags(N);
    for (var i = 0; i < N; i++) {
        flags.enabled[i] <== enabled[i];
    }
    flags.count === count;
    enabled[0] === 1;

    // Per event: nullifier, window check, and the digest fold
    //   d_0 = 0,  d_{i+1} = e_i ? Poseidon(d_i, nullifier_i, t_i, callHash_i) : d_i.
    // Folding (nullifier, t, callHash) straight into the digest hash (one Poseidon(4)) instead of
    // hashing a leaf first saves a Poseidon per event and binds the same data.
    component nullifier[N];
    component window[N];
    component fold[N];
    signal digest[N + 1];
    digest[0] <== 0;
    for (var i = 0; i < N; i++) {
        nullifier[i] = Poseidon(2);
        nullifier[i].inputs[0] <== credentialSecret;
        nullifier[i].inputs[1] <== startIndex + i;

        window[i] = GatedInWindow(40);
        window[i].enabled <== enabled[i];
        window[i].x <== timestamps[i];
        window[i].lo <== windowStart;
        window[i].hi <== windowEnd;

        fold[i] = Poseidon(4);
        fold[i].inputs[0] <== digest[i];
        fold[i].inputs[1] <== nullifier[i].out;
        fold[i].inputs[2] <== timestamps[i];
        fold[i].inputs[3] <== callHashes[i];
        digest[i + 1] <== digest[i] + enabled[i] * (fold[i].out - digest[i]);
    }

    // Extend the license's accumulator by this batch's record.
    component step = ChainStep();
    step.prev <== chainOld;
    step.digest <== digest[N];
    step.count <== count;
    step.windowStart <== windowStart;
    step.windowEnd <== windowEnd;
    chainNew <== step.next;
}
