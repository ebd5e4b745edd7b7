pragma circom 2.1.0;

include "bitify.circom";
include "comparators.circom";
include "poseidon.circom";
include "domain_binding.circom";
include "prefix_flags.circom";
include "chain_step.circom";

// AggregateChunk(M, L) (Flow 6): one chunk of the usage statistics of one content item, with no
// upper bound on licenses or batches (a proof is a sequence of chunks, linked by a state
// commitment and verified together by UsageTracker.recordAggregateProof).
//
// The sequence. The content's used licenses in the contract's `usedLicenses(contentId)` order,
// each with its batch records (digest, count, windowStart, windowEnd) in order, form one list; a
// chunk covers a contiguous run of it: licenses cursorIn, cursorIn+1, ... in slots 0..L-1, at
// most M records. With k = cursorOut − cursorIn ∈ [0, L]:
//   - slots s < k are complete: their records (slot 0's continuing from the partial chain
//     carried in the state, the others from 0) fold exactly to the public `chains[s]`, which is
//     non-zero (a used license has at least one batch);
//   - slot k (if k < L) may start a license that the next chunk finishes: its chain after this
//     chunk's records is the new partial chain, carried (hidden) in stateOut;
//   - slots > k have no records (their chain stays 0: a record would need a Poseidon preimage
//     of 0 to leave it there).
// The contract supplies chains[s] and prices[s] of licenses cursorIn+s (zero past the list) from
// chain state, so every record is a real proven batch of the right license, none dropped,
// invented, altered or reordered, and each license is completed in exactly one chunk.
//
// State = Poseidon(uses, revenue, fromTs + 2^40·toTs, partialChain, salt) (both times are range-
// checked to 40 bits, so the packing is unique), the running totals before
// (stateIn) and after (stateOut) this chunk; stateIn = 0 means the initial all-zero state (the
// contract requires it of the first chunk, and each later stateIn to be the previous stateOut).
// The salt is private and fresh per state, so the public states reveal nothing of the totals.
//
// Outputs: stateOut, and totalUses = Σ count, totalRevenue = Σ count × price of the record's
// license, uniqueLicensees = cursorOut (every covered license has ≥ 1 record, each of count ≥ 1,
// so every license has uses), fromTs = min windowStart, toTs = max windowEnd (0, 0 if no
// records), all 0 unless `final` = 1; `final` = 1 requires that no partial chain is left.
// Reveals: the final aggregates (plus the public chains, prices and cursors). Hides: per-license
// and per-batch counts and windows, and the running totals of non-final chunks.
template AggregateChunk(M, L) {
    // Public inputs, in the order of circuits/registry.json (outputs come first there).
    signal input stateIn;
    signal input cursorIn;
    signal input cursorOut;
    signal input final;
    signal input chains[L];
    signal input prices[L];
    signal input domain;
    // Private: the opening of stateIn, the new salt, k as a one-hot selector, the records.
    signal input usesIn;
    signal input revenueIn;
    signal input fromIn;
    signal input toIn;
    signal input partialIn;
    signal input saltIn;
    signal input saltOut;
    signal input kSel[L + 1];      // kSel[k] = 1 for k = cursorOut − cursorIn
    signal input enabled[M];
    signal input slotOf[M][L];     // one-hot license slot of each record (all 0 if unused)
    signal input digests[M];
    signal input counts[M];
    signal input windowStarts[M];
    signal input windowEnds[M];

    signal output stateOut;
    signal output totalUses;
    signal output totalRevenue;
    signal output uniqueLicensees;
    signal output fromTs;
    signal output toTs;

    component domainBinding = DomainBinding();
    domainBinding.domain <== domain;

    // --- the incoming state: 0 is the initial all-zero state, anything else must open ---------
    component initial = IsZero();
    initial.in <== stateIn;
    component hIn = Poseidon(5);
    hIn.inputs[0] <== usesIn;
    hIn.inputs[1] <== revenueIn;
    hIn.inputs[2] <== fromIn + toIn * (1 << 40);
    hIn.inputs[3] <== partialIn;
    hIn.inputs[4] <== saltIn;
    (1 - initial.out) * (hIn.out - stateIn) === 0;
    initial.out * usesIn === 0;
    initial.out * revenueIn === 0;
    initial.out * fromIn === 0;
    initial.out * toIn === 0;
    initial.out * partialIn === 0;
    // The running date range reaches comparators and is packed in the state: range-check it (it
    // is 0 or an earlier, range-checked window anyway, since every state was made by this
    // circuit).
    component fromInBits = Num2Bits(40);
    fromInBits.in <== fromIn;
    component toInBits = Num2Bits(40);
    toInBits.in <== toIn;

    // --- public ranges -----------------------------------------------------------------------
    // Prices are money: 96 bits, so revenue sums cannot wrap.
    component priceBits[L];
    for (var s = 0; s < L; s++) {
        priceBits[s] = Num2Bits(96);
        priceBits[s].in <== prices[s];
    }
    component cursorBits = Num2Bits(32);
    cursorBits.in <== cursorIn;
    final * (final - 1) === 0;

    // k = cursorOut − cursorIn ∈ [0, L], as a one-hot selector (this is also its range check).
    var kSum = 0;
    var kValue = 0;
    for (var t = 0; t <= L; t++) {
        kSel[t] * (kSel[t] - 1) === 0;
        kSum += kSel[t];
        kValue += t * kSel[t];
    }
    kSum === 1;
    cursorOut - cursorIn === kValue;

    // --- the records ---------------------------------------------------------------------------
    component flags = PrefixFlags(M);
    for (var j = 0; j < M; j++) {
        flags.enabled[j] <== enabled[j];
    }

    component step[M];
    component countBits[M];
    component countZero[M];
    component startBits[M];
    component endBits[M];
    component noUsesYet[M];
    component earlier[M];
    component later[M];
    signal chainAt[M + 1][L];      // chainAt[j][s]: slot s's chain after records 0..j-1
    signal selPrev[M][L];
    signal selPrice[M][L];
    signal selNext[M][L];
    signal usesAt[M + 1];
    signal revenueAt[M + 1];
    signal uses[M];
    signal revenue[M];
    signal minAt[M + 1];
    signal maxAt[M + 1];
    signal firstEarlier[M];
    signal minCand[M];
    signal maxCand[M];
    chainAt[0][0] <== partialIn;
    for (var s = 1; s < L; s++) {
        chainAt[0][s] <== 0;
    }
    usesAt[0] <== usesIn;
    revenueAt[0] <== revenueIn;
    minAt[0] <== fromIn;
    maxAt[0] <== toIn;

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
            prev += selPrev[j][s];
            price += selPrice[j][s];
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
        // A proven batch has count ≥ 1 (UsageTracker.logUsageBatch), so a used record does too:
        // this is what makes every covered license a licensee with uses.
        countZero[j] = IsZero();
        countZero[j].in <== counts[j];
        enabled[j] * countZero[j].out === 0;

        uses[j] <== enabled[j] * counts[j];
        usesAt[j + 1] <== usesAt[j] + uses[j];
        revenue[j] <== counts[j] * price;   // price is 0 for an unused record
        revenueAt[j + 1] <== revenueAt[j] + revenue[j];

        // Date range: running min of windowStart and max of windowEnd over used records. Before
        // the first use (running uses 0: every record has count ≥ 1) the bounds are 0 and the
        // record sets both. minAt/maxAt are always 0 or range-checked windows (< 2^40).
        noUsesYet[j] = IsZero();
        noUsesYet[j].in <== usesAt[j];
        earlier[j] = LessThan(40);
        earlier[j].in[0] <== windowStarts[j];
        earlier[j].in[1] <== minAt[j];
        later[j] = GreaterThan(40);
        later[j].in[0] <== windowEnds[j];
        later[j].in[1] <== maxAt[j];
        firstEarlier[j] <== noUsesYet[j].out * earlier[j].out;
        // take the start when first or earlier (first + earlier − first·earlier)
        minCand[j] <== minAt[j] + (noUsesYet[j].out + earlier[j].out - firstEarlier[j]) * (windowStarts[j] - minAt[j]);
        maxCand[j] <== maxAt[j] + later[j].out * (windowEnds[j] - maxAt[j]);
        minAt[j + 1] <== minAt[j] + enabled[j] * (minCand[j] - minAt[j]);
        maxAt[j + 1] <== maxAt[j] + enabled[j] * (maxCand[j] - maxAt[j]);
    }

    // --- the slots: complete, partial, untouched -----------------------------------------------
    component chainZero[L];
    signal partialSel[L];
    var partialOut = 0;
    for (var s = 0; s < L; s++) {
        var done = 0;       // s < k
        var beyond = 0;     // s > k
        for (var t = s + 1; t <= L; t++) {
            done += kSel[t];
        }
        for (var t = 0; t < s; t++) {
            beyond += kSel[t];
        }
        // A complete slot folds to its on-chain chain value, which is not 0 (not padding).
        done * (chainAt[M][s] - chains[s]) === 0;
        chainZero[s] = IsZero();
        chainZero[s].in <== chains[s];
        done * chainZero[s].out === 0;
        // A slot past k has no records.
        beyond * chainAt[M][s] === 0;
        // Slot k carries its chain on.
        partialSel[s] <== kSel[s] * chainAt[M][s];
        partialOut += partialSel[s];
    }
    signal partial;
    partial <== partialOut;
    // Only a chunk that leaves no license half-folded can be the last one.
    final * partial === 0;

    // --- the outgoing state and the outputs --------------------------------------------------
    component hOut = Poseidon(5);
    hOut.inputs[0] <== usesAt[M];
    hOut.inputs[1] <== revenueAt[M];
    hOut.inputs[2] <== minAt[M] + maxAt[M] * (1 << 40);
    hOut.inputs[3] <== partial;
    hOut.inputs[4] <== saltOut;
    stateOut <== hOut.out;

    totalUses <== final * usesAt[M];
    totalRevenue <== final * revenueAt[M];
    uniqueLicensees <== final * cursorOut;
    fromTs <== final * minAt[M];
    toTs <== final * maxAt[M];
}
