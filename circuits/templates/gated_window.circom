pragma circom 2.1.0;

include "bitify.circom";

// GatedInWindow(n): if `enabled` is 1, enforces lo ≤ x ≤ hi; if 0, enforces nothing.
//
// Precondition (the caller's obligation, checked where lo and hi enter the circuit):
// lo < 2^n and hi < 2^n (range-checked with Num2Bits(n)).
//
// Instead of range-checking x and running two LessEqThan comparators, this range-checks the two
// differences, which is what a comparator does internally, at about half the constraints:
//   a = enabled·(x − lo) ∈ [0, 2^n)   and   b = enabled·(hi − x) ∈ [0, 2^n).
// Soundness with enabled = 1: a < 2^n means x = lo + a as integers with x < 2^(n+1) (no
// wrap-around, since lo < 2^n and p > 2^253); then hi − x ≡ b with b < 2^n means x ≤ hi, because
// if x > hi the field value hi − x is p − (x − hi) > p − 2^(n+1), far above 2^n. So x itself is
// range-checked to n bits by these two checks; no comparator sees an unchecked value.
// With enabled = 0 both differences are 0 and pass; the slot's x is then unused by the caller.
template GatedInWindow(n) {
    signal input enabled;
    signal input x;
    signal input lo;
    signal input hi;

    signal aboveLo <== enabled * (x - lo);
    signal belowHi <== enabled * (hi - x);
    component aboveLoBits = Num2Bits(n);
    aboveLoBits.in <== aboveLo;
    component belowHiBits = Num2Bits(n);
    belowHiBits.in <== belowHi;
}
