pragma circom 2.1.0;

// PrefixFlags(N): N slot flags that are all 0/1 and form a prefix (1...1 0...0); outputs their
// sum.
//
// Batches pad unused slots after the last real one. Forcing a prefix shape means every
// configuration of k used slots is the same one (slots 0..k-1), so the count of used slots is
// exactly `count` and a prover cannot hide a used slot between unused ones.
template PrefixFlags(N) {
    signal input enabled[N];
    signal output count;

    var sum = 0;
    for (var i = 0; i < N; i++) {
        // Boolean: e_i ∈ {0, 1}; otherwise `count` and every `e_i ? a : b` selection break.
        enabled[i] * (enabled[i] - 1) === 0;
        // Prefix: e_{i+1} = 1 implies e_i = 1 (e_{i+1} ≤ e_i for bits).
        if (i + 1 < N) {
            enabled[i + 1] * (1 - enabled[i]) === 0;
        }
        sum += enabled[i];
    }
    count <== sum;
}
