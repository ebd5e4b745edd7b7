pragma circom 2.1.0;

include "poseidon.circom";

// ChainStep: one step of a license's usage accumulator ("chain").
//
// A proven usage batch is the record (digest, count, windowStart, windowEnd); the license's
// on-chain chain value moves from `prev` to Poseidon(prev, digest, count, windowStart, windowEnd).
// The chain starts at 0 for a new license. Because each step hashes the previous value, a list
// of records opens against a chain value only in the exact order and with the exact contents
// they were proven with: no record can be invented, dropped, reordered or altered (that would
// need a Poseidon collision or preimage).
template ChainStep() {
    signal input prev;
    signal input digest;
    signal input count;
    signal input windowStart;
    signal input windowEnd;
    signal output next;

    component h = Poseidon(5);
    h.inputs[0] <== prev;
    h.inputs[1] <== digest;
    h.inputs[2] <== count;
    h.inputs[3] <== windowStart;
    h.inputs[4] <== windowEnd;
    next <== h.out;
}

// GatedChainStep: next = enabled ? ChainStep(prev, record) : prev (enabled must be boolean,
// checked by the caller with PrefixFlags). Lets a fixed-size circuit open fewer records than it
// has slots: disabled slots leave the chain unchanged.
template GatedChainStep() {
    signal input enabled;
    signal input prev;
    signal input digest;
    signal input count;
    signal input windowStart;
    signal input windowEnd;
    signal output next;

    component step = ChainStep();
    step.prev <== prev;
    step.digest <== digest;
    step.count <== count;
    step.windowStart <== windowStart;
    step.windowEnd <== windowEnd;
    next <== prev + enabled * (step.next - prev);
}
