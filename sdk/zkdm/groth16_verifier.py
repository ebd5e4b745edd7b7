# Vendored from layers/shared/python/marketplace/zk/verifier.py by sdk/tools/vendor_verify.py:
# do not edit here (edit the server's file and run the tool).
# Differences: the scalar field's modulus inlined (the server's field.py holds the prover's field helpers), the proof class from the vendored zkdm.groth16_proof.
"""Groth16 verification in pure Python (py_ecc), the platform's public verification path.

Checks e(A, B) = e(α, β) · e(vk_x, γ) · e(C, δ) with vk_x = IC₀ + Σ xᵢ·ICᵢ, written as
e(−A, B) · e(vk_x, γ) · e(C, δ) · e(α, β) = 1 and computed as one multi-Miller loop (the Miller
loops multiplied before any final exponentiation) and a single final exponentiation. The
e(α, β) Miller loop depends only on the key, so it is computed once per key.

Rejected before any pairing: a public input ≥ p or < 0, a wrong number of inputs, proof
coordinates ≥ q, points not on the curve, points at infinity, and a B not in the order-p
subgroup of G2 (G1 has cofactor 1, so on-curve suffices there).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from py_ecc.optimized_bn128 import (
    FQ,
    FQ2,
    FQ12,
    add,
    b,
    b2,
    curve_order,
    double,
    field_modulus,
    is_inf,
    is_on_curve,
    multiply,
    neg,
)
from py_ecc.optimized_bn128.optimized_pairing import (
    cast_point_to_fq12,
    linefunc,
    pseudo_binary_encoding,
    twist,
)

P = 21888242871839275222246405745257275088548364400416034343698204186575808495617  # BN254 scalar field (marketplace.zk.field.P)
from zkdm.groth16_proof import Proof, Q

assert curve_order == P


def _g1(x: int, y: int):
    return (FQ(x), FQ(y), FQ.one())


def _g2(x: tuple[int, int], y: tuple[int, int]):
    return (FQ2([x[0], x[1]]), FQ2([y[0], y[1]]), FQ2.one())


def _g1_from_json(p: list) -> tuple:
    return _g1(int(p[0]), int(p[1]))


def _g2_from_json(p: list) -> tuple:
    return _g2((int(p[0][0]), int(p[0][1])), (int(p[1][0]), int(p[1][1])))


@dataclass
class VerifyingKey:
    alpha: tuple
    beta: tuple
    gamma: tuple
    delta: tuple
    ic: list[tuple]

    @classmethod
    def from_snarkjs(cls, data: dict | str | Path) -> VerifyingKey:
        d = json.loads(Path(data).read_text()) if isinstance(data, Path) else (
            json.loads(data) if isinstance(data, str) else data)
        if d.get("protocol") != "groth16" or d.get("curve") not in ("bn128", "bn254"):
            raise ValueError("not a BN254 groth16 verification key")
        return cls(
            alpha=_g1_from_json(d["vk_alpha_1"]),
            beta=_g2_from_json(d["vk_beta_2"]),
            gamma=_g2_from_json(d["vk_gamma_2"]),
            delta=_g2_from_json(d["vk_delta_2"]),
            ic=[_g1_from_json(p) for p in d["IC"]],
        )

    @property
    def n_public(self) -> int:
        return len(self.ic) - 1

    @cached_property
    def _alpha_beta_miller(self) -> FQ12:
        return multi_miller_loop([(self.beta, self.alpha)])

    def verify(self, proof: Proof, public_signals: list[int]) -> bool:
        if len(public_signals) != self.n_public:
            return False
        inputs = []
        for x in public_signals:
            if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x < P:
                return False
            inputs.append(x)
        points = _proof_points(proof)
        if points is None:
            return False
        a, b_, c = points

        vk_x = self.ic[0]
        for x, ic in zip(inputs, self.ic[1:]):
            if x:
                vk_x = add(vk_x, multiply(ic, x))

        f = self._alpha_beta_miller * multi_miller_loop([(b_, neg(a)), (self.gamma, vk_x), (self.delta, c)])
        return final_exponentiation(f) == FQ12.one()


def _proof_points(proof: Proof):
    """The proof's points if well-formed, else None."""
    try:
        coords = [proof.a[0], proof.a[1], proof.c[0], proof.c[1], *proof.b[0], *proof.b[1]]
    except (TypeError, IndexError):
        return None
    if any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < Q for v in coords):
        return None
    a = _g1(*proof.a)
    c = _g1(*proof.c)
    b_ = _g2(proof.b[0], proof.b[1])
    # (0, 0) is snarkjs's encoding of infinity; a valid proof never has it.
    if proof.a == (0, 0) or proof.c == (0, 0) or proof.b == ((0, 0), (0, 0)):
        return None
    if not (is_on_curve(a, b) and is_on_curve(c, b) and is_on_curve(b_, b2)):
        return None
    if not is_inf(multiply(b_, curve_order)):
        return None
    return a, b_, c


# --- final exponentiation ------------------------------------------------------------------------
# f^((q^12 - 1)/r) split as (q^6 - 1)(q^2 + 1) · (q^4 - q^2 + 1)/r: the first two factors are
# Frobenius maps (linear over Fq, so a 12×12 matrix each) and one inversion; only the last,
# ~760-bit exponent needs square-and-multiply. py_ecc's final_exponentiate raises f to the whole
# ~2800-bit exponent, about four times the work; tests check both agree.

_HARD_EXPONENT = (field_modulus**4 - field_modulus**2 + 1) // curve_order
assert _HARD_EXPONENT * curve_order == field_modulus**4 - field_modulus**2 + 1


@cache
def _frobenius_matrix(power: int) -> tuple[tuple[int, ...], ...]:
    """Rows k: coefficients of (w^k)^(q^power) in py_ecc's FQ12 basis 1, w, ..., w^11."""
    wq = FQ12([0, 1] + [0] * 10) ** (field_modulus**power)
    rows, acc = [], FQ12.one()
    for _ in range(12):
        rows.append(tuple(int(c) for c in acc.coeffs))
        acc = acc * wq
    return tuple(rows)


def frobenius(f: FQ12, power: int) -> FQ12:
    """f^(q^power): the coefficients are in Fq, so only the basis elements move."""
    rows = _frobenius_matrix(power)
    out = [0] * 12
    for k, ck in enumerate(f.coeffs):
        ck = int(ck)
        if ck:
            row = rows[k]
            for j in range(12):
                out[j] += ck * row[j]
    return FQ12([x % field_modulus for x in out])


def final_exponentiation(f: FQ12) -> FQ12:
    f = frobenius(f, 6) / f           # f^(q^6 - 1)
    f = frobenius(f, 2) * f           # ^(q^2 + 1)
    return f**_HARD_EXPONENT


# --- multi-Miller loop -------------------------------------------------------------------------


def multi_miller_loop(pairs: list[tuple]) -> FQ12:
    """Π Miller(Q_i, P_i) over (G2 point, G1 point) pairs, without final exponentiation.

    py_ecc's optimal-ate `miller_loop` step by step (same line functions, so the product equals
    the product of its Miller loops exactly; tests check it), run for all pairs at once: one
    accumulator squared per step instead of one per pair, one division at the end, and the
    Frobenius images of Q taken with the linear `frobenius` map instead of py_ecc's
    exponentiation by q (which is about 40% of a py_ecc Miller loop).
    """
    pairs = [(q, p) for q, p in pairs if not (is_inf(q) or is_inf(p))]
    qs = [twist(q) for q, _ in pairs]
    ps = [cast_point_to_fq12(p) for _, p in pairs]
    rs = list(qs)
    f_num, f_den = FQ12.one(), FQ12.one()
    for v in pseudo_binary_encoding[63::-1]:
        f_num, f_den = f_num * f_num, f_den * f_den
        for i, p in enumerate(ps):
            n, d = linefunc(rs[i], rs[i], p)
            f_num, f_den = f_num * n, f_den * d
            rs[i] = double(rs[i])
            if v:
                q = qs[i] if v == 1 else neg(qs[i])
                n, d = linefunc(rs[i], q, p)
                f_num, f_den = f_num * n, f_den * d
                rs[i] = add(rs[i], q)
    for i, p in enumerate(ps):
        x, y, z = qs[i]
        q1 = (frobenius(x, 1), frobenius(y, 1), frobenius(z, 1))
        nq2 = (frobenius(q1[0], 1), -frobenius(q1[1], 1), frobenius(q1[2], 1))
        n1, d1 = linefunc(rs[i], q1, p)
        r = add(rs[i], q1)
        n2, d2 = linefunc(r, nq2, p)
        f_num, f_den = f_num * n1 * n2, f_den * d1 * d2
    return f_num / f_den
