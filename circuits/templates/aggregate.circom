pragma circom 2.1.0;

include "bitify.circom";
include "comparators.circom";
include "domain_binding.circom";
include "prefix_flags.circom";
include "chain_step.circom";

// Aggregate(M, L) (Flow 6): usage statistics of one content item across up to L licenses.
//
// Proves: the prover opens up to M batch records, each tagged with a license slot 0..L-1, such
// that for every slot s the records tagged s, in order, fold from 0 to the public `chains[s]`
// (the license's on-chain accumulator; an empty slot has chain 0 and no records). Hence the
// statistics cover exactly the proven batches of those licenses: none invented, none dropped.
// Outputs: totalUses = Σ count, totalRevenue = Σ count × prices[slot], uniqueLicensees = number
// of slots with at least one use, fromTs = min windowStart, toTs = max windowEnd (0, 0 if there
// are no records).
// Reveals: only those aggregates (plus the public chains and prices). Hides: per-license and
// per-batch counts and windows.
// The consumer must pass distinct licenses in distinct slots (a license repeated in two slots
// would be counted twice); UsageTracker reads the chains of the licenses it is given.
template Aggregate(M, L) {
    // Public inputs, in the order of circuits/registry.json (outputs come first there).
    signal input chains[L];
    signal input prices[L];
    signal input domain;
    // Private inputs: the records, unused slots after the last one.
    signal input enabled[M];
    signal input slotOf[M][L];     // one-hot license slot of each record (all 0 if unused)
    signal input digests[M];
    signal input counts[M];
    signal input windowStarts[M];
    signal input windowEnds[M];

    signal output totalUses;
    signal output totalRevenue;
    signal output uniqueLicensees;
    signal output fromTs;
    signal output toTs;

    component domainBinding = DomainBinding();
    domainBinding.domain <== domain;

    // Prices are money: 96 bits, so revenue sums cannot wrap (< M·2^32·2^96 < p).
    component priceBits[L];
    for (var s = 0; s < L; s++) {
        priceBits[s] = Num2Bits(96);
        priceBits[s].in <== prices[s];
    }

    component flags = PrefixFlags(M);
    for (var j = 0; j < M; j++) {
        flags.enabled[j] <== enabled[j];
    }

    component step[M];
    component countBits[M];
    component startBits[M];
    component endBits[M];
    component earlier[M];
    component later[M];
    signal chainAt[M + 1][L];      // chainAt[j][s]: slot s's chain after records 0..j-1
    signal selPrev[M][L];
    signal selPrice[M][L];
    signal selCount[M][L];
    signal selNext[M][L];
    signal uses[M];
    signal revenue[M];
    signal minAt[M + 1];
    signal maxAt[M + 1];
    signal minCand[M];
    signal maxCand[M];
    for (var s = 0; s < L; s++) {
        chainAt[0][s] <== 0;
    }
    minAt[0] <== 0;
    maxAt[0] <== 0;
    var usesSum = 0;
    var revenueSum = 0;
    var slotUses[L];
    for (var s = 0; s < L; s++) {
        slotUses[s] = 0;
    }

    for (var j = 0; j < M; j++) {
        // One-hot slot: bits summing to e_j, so a used record has exactly one slot and an
        // unused one none.
        var selSum = 0;
        var prev = 0;
        var price = 0;
        for (var s = 0; s < L; s++) {
            slotOf[j][s] * (slotOf[j][s] - 1) === 0;
            selSum += slotOf[j][s];
            selPrev[j][s] <== slotOf[j][s] * chainAt[j][s];
            selPrice[j][s] <== slotOf[j][s] * prices[s];
            selCount[j][s] <== slotOf[j][s] * counts[j];
            prev += selPrev[j][s];
            price += selPrice[j][s];
            slotUses[s] += selCount[j][s];
        }
        selSum === enabled[j];

        // Extend the selected slot's chain by this record; the other slots keep theirs.
        step[j] = ChainStep();
        step[j].prev <== prev;
        step[j].digest <== digests[j];
        step[j].count <== counts[j];
        step[j].windowStart <== windowStarts[j];
        step[j].windowEnd <== windowEnds[j];
        for (var s = 0; s < L; s++) {
            selNext[j][s] <== slotOf[j][s] * (step[j].next - chainAt[j][s]);
            chainAt[j + 1][s] <== chainAt[j][s] + selNext[j][s];
        }

        // Ranges (counts 32 bits, timestamps 40 bits) before the sums and the comparators.
        countBits[j] = Num2Bits(32);
        countBits[j].in <== counts[j];
        startBits[j] = Num2Bits(40);
        startBits[j].in <== windowStarts[j];
        endBits[j] = Num2Bits(40);
        endBits[j].in <== windowEnds[j];

        uses[j] <== enabled[j] * counts[j];
        usesSum += uses[j];
        revenue[j] <== counts[j] * price;   // price is 0 for an unused record
        revenueSum += revenue[j];

        // Date range: running min of windowStart and max of windowEnd over used records. The
        // first record sets both (minAt[0] = 0 is not a real bound); minAt/maxAt are always
        // 0 or one of the range-checked windows, so the comparators' inputs are < 2^40.
        earlier[j] = LessThan(40);
        earlier[j].in[0] <== windowStarts[j];
        earlier[j].in[1] <== minAt[j];
        later[j] = GreaterThan(40);
        later[j].in[0] <== windowEnds[j];
        later[j].in[1] <== maxAt[j];
        if (j == 0) {
            minCand[j] <== windowStarts[j];
            maxCand[j] <== windowEnds[j];
        } else {
            minCand[j] <== minAt[j] + earlier[j].out * (windowStarts[j] - minAt[j]);
            maxCand[j] <== maxAt[j] + later[j].out * (windowEnds[j] - maxAt[j]);
        }
        minAt[j + 1] <== minAt[j] + enabled[j] * (minCand[j] - minAt[j]);
        maxAt[j + 1] <== maxAt[j] + enabled[j] * (maxCand[j] - maxAt[j]);
    }

    // Every slot's fold must end at its on-chain value.
    for (var s = 0; s < L; s++) {
        chainAt[M][s] === chains[s];
    }

    totalUses <== usesSum;
    totalRevenue <== revenueSum;
    fromTs <== minAt[M];
    toTs <== maxAt[M];

    // A licensee counts when its slot has at least one use.
    component noUses[L];
    var licensees = 0;
    for (var s = 0; s < L; s++) {
        noUses[s] = IsZero();
        noUses[s].in <== slotUses[s];
        licensees += 1 - noUses[s].out;
    }
    uniqueLicensees <== licensees;
}
