pragma circom 2.1.0;

include "bitify.circom";
include "comparators.circom";
include "poseidon.circom";
include "domain_binding.circom";
include "prefix_flags.circom";
include "chain_step.circom";

// ComplianceChunk(B) (Flow 5): one chunk of a verdict over all proven batches of one license,
// with no upper bound on batches (a proof is a sequence of chunks, linked by a state commitment
// and verified together by UsageTracker.recordComplianceProof).
//
// The license's batch records (digest, count, windowStart, windowEnd), in order, are split into
// runs of at most B; each chunk folds its run on from the partial chain carried in the state.
// State = Poseidon(uses, bad, partialChain, salt): the uses so far, whether any batch so far
// was outside the validity (bad = 1), the chain after the records so far, a fresh private salt
// (so the public states reveal nothing). stateIn = 0 means the initial all-zero state (the
// contract requires it of the first chunk, and each later stateIn to be the previous stateOut).
//
// Proves, when `final` = 1: the records of all chunks fold from 0 to the license's public
// on-chain `chain` (so they are exactly the license's proven batches: none invented, dropped,
// reordered or altered); totalUses = Σ count; totalPaid = totalUses × pricePerUse; compliant = 1
// exactly when totalUses ≤ maxUses and every batch satisfies validFrom ≤ windowStart ≤ windowEnd
// ≤ validUntil. The outputs are 0 in a non-final chunk (and `chain` is not checked there).
// `compliant` is a computed bit, not a constraint, so a non-compliant license gets a truthful
// proof (compliant = 0) instead of no proof.
// Reveals: the totals and the verdict (plus the public terms). Hides: the individual batches,
// their windows and counts, and the running totals of non-final chunks.
template ComplianceChunk(B) {
    // Public inputs, in the order of circuits/registry.json (outputs come first there).
    signal input stateIn;
    signal input final;
    signal input chain;
    signal input maxUses;
    signal input pricePerUse;
    signal input validFrom;
    signal input validUntil;
    signal input domain;
    // Private: the opening of stateIn, the new salt, the records (unused slots after the last).
    signal input usesIn;
    signal input badIn;
    signal input partialIn;
    signal input saltIn;
    signal input saltOut;
    signal input enabled[B];
    signal input digests[B];
    signal input counts[B];
    signal input windowStarts[B];
    signal input windowEnds[B];

    signal output stateOut;
    signal output totalUses;
    signal output totalPaid;
    signal output compliant;

    component domainBinding = DomainBinding();
    domainBinding.domain <== domain;

    // --- the incoming state: 0 is the initial all-zero state, anything else must open ---------
    component initial = IsZero();
    initial.in <== stateIn;
    component hIn = Poseidon(4);
    hIn.inputs[0] <== usesIn;
    hIn.inputs[1] <== badIn;
    hIn.inputs[2] <== partialIn;
    hIn.inputs[3] <== saltIn;
    (1 - initial.out) * (hIn.out - stateIn) === 0;
    initial.out * usesIn === 0;
    initial.out * badIn === 0;
    initial.out * partialIn === 0;
    badIn * (badIn - 1) === 0;
    final * (final - 1) === 0;

    // Ranges of the public terms (design rule: counts 32 bits, money 96 bits, timestamps 40
    // bits). Every value below that reaches a comparator is range-checked here or per slot.
    component maxUsesBits = Num2Bits(32);
    maxUsesBits.in <== maxUses;
    component priceBits = Num2Bits(96);
    priceBits.in <== pricePerUse;
    component validFromBits = Num2Bits(40);
    validFromBits.in <== validFrom;
    component validUntilBits = Num2Bits(40);
    validUntilBits.in <== validUntil;

    component flags = PrefixFlags(B);
    for (var j = 0; j < B; j++) {
        flags.enabled[j] <== enabled[j];
    }

    component step[B];
    component countBits[B];
    component startBits[B];
    component endBits[B];
    component fromOk[B];
    component orderOk[B];
    component untilOk[B];
    signal chainAt[B + 1];
    signal uses[B];
    signal windowOk[B];
    signal recordOk[B];
    signal slotOk[B];
    signal allOk[B + 1];
    chainAt[0] <== partialIn;
    allOk[0] <== 1 - badIn;
    var usesSum = usesIn;
    for (var j = 0; j < B; j++) {
        // Open the record against the chain.
        step[j] = GatedChainStep();
        step[j].enabled <== enabled[j];
        step[j].prev <== chainAt[j];
        step[j].digest <== digests[j];
        step[j].count <== counts[j];
        step[j].windowStart <== windowStarts[j];
        step[j].windowEnd <== windowEnds[j];
        chainAt[j + 1] <== step[j].next;

        // Ranges of the record (usage_batch already enforced them; re-checking keeps this
        // circuit's comparators sound on their own and bounds the sums below).
        countBits[j] = Num2Bits(32);
        countBits[j].in <== counts[j];
        startBits[j] = Num2Bits(40);
        startBits[j].in <== windowStarts[j];
        endBits[j] = Num2Bits(40);
        endBits[j].in <== windowEnds[j];

        // Unused slots count 0 uses.
        uses[j] <== enabled[j] * counts[j];
        usesSum += uses[j];

        // validFrom ≤ windowStart ≤ windowEnd ≤ validUntil, as bits (all inputs < 2^40).
        fromOk[j] = LessEqThan(40);
        fromOk[j].in[0] <== validFrom;
        fromOk[j].in[1] <== windowStarts[j];
        orderOk[j] = LessEqThan(40);
        orderOk[j].in[0] <== windowStarts[j];
        orderOk[j].in[1] <== windowEnds[j];
        untilOk[j] = LessEqThan(40);
        untilOk[j].in[0] <== windowEnds[j];
        untilOk[j].in[1] <== validUntil;
        windowOk[j] <== fromOk[j].out * orderOk[j].out;
        recordOk[j] <== windowOk[j] * untilOk[j].out;
        // An unused slot is always fine: slotOk = 1 − e·(1 − ok).
        slotOk[j] <== 1 - enabled[j] * (1 - recordOk[j]);
        allOk[j + 1] <== allOk[j] * slotOk[j];
    }
    // The running total stays below 2^40 (a license has < 2^32 uses), so it is a valid
    // LessEqThan(40) input and totalPaid < 2^40·2^96 < p cannot wrap.
    signal usesOut;
    usesOut <== usesSum;
    component usesBits = Num2Bits(40);
    usesBits.in <== usesOut;

    // The last chunk's fold must end at the on-chain value: this is what makes all the chunks'
    // records the real ones (the partial chain is carried, bound, through every state).
    final * (chainAt[B] - chain) === 0;

    component hOut = Poseidon(4);
    hOut.inputs[0] <== usesOut;
    hOut.inputs[1] <== 1 - allOk[B];
    hOut.inputs[2] <== chainAt[B];
    hOut.inputs[3] <== saltOut;
    stateOut <== hOut.out;

    component withinMax = LessEqThan(40);
    withinMax.in[0] <== usesOut;
    withinMax.in[1] <== maxUses;
    signal okFinal;
    okFinal <== final * allOk[B];
    totalUses <== final * usesOut;
    totalPaid <== totalUses * pricePerUse;
    compliant <== okFinal * withinMax.out;
}
