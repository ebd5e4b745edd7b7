pragma circom 2.1.0;

include "bitify.circom";
include "comparators.circom";
include "domain_binding.circom";
include "prefix_flags.circom";
include "chain_step.circom";

// Compliance(B) (Flow 5): a verdict over all proven batches of one license.
//
// Proves: the prover opens up to B batch records (digest, count, windowStart, windowEnd), in
// slots 0..k-1, that fold from 0 to the license's public on-chain `chain` (so these are exactly
// the license's proven batches: none invented, none dropped); their total count is `totalUses`;
// `totalPaid = totalUses × pricePerUse`; and `compliant` is 1 exactly when totalUses ≤ maxUses
// and every batch satisfies validFrom ≤ windowStart ≤ windowEnd ≤ validUntil.
// `compliant` is a computed bit, not a constraint, so a non-compliant license gets a truthful
// proof (compliant = 0) instead of no proof.
// Reveals: the totals and the verdict (plus the public terms). Hides: the individual batches,
// their windows and counts.
template Compliance(B) {
    // Public inputs, in the order of circuits/registry.json (outputs come first there).
    signal input chain;
    signal input maxUses;
    signal input pricePerUse;
    signal input validFrom;
    signal input validUntil;
    signal input domain;
    // Private inputs: the batch records, unused slots after the last one.
    signal input enabled[B];
    signal input digests[B];
    signal input counts[B];
    signal input windowStarts[B];
    signal input windowEnds[B];

    signal output totalUses;
    signal output totalPaid;
    signal output compliant;

    component domainBinding = DomainBinding();
    domainBinding.domain <== domain;

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
    chainAt[0] <== 0;
    allOk[0] <== 1;
    var usesSum = 0;
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
    // The fold must end at the on-chain value: this is what makes the records the real ones.
    chainAt[B] === chain;

    // totalUses < B·2^32 ≤ 2^40 (B ≤ 256), so it is a valid LessEqThan(40) input, and
    // totalPaid < 2^40·2^96 < p cannot wrap.
    totalUses <== usesSum;
    totalPaid <== totalUses * pricePerUse;
    component withinMax = LessEqThan(40);
    withinMax.in[0] <== totalUses;
    withinMax.in[1] <== maxUses;
    compliant <== withinMax.out * allOk[B];
}
