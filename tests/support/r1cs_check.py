"""A small R1CS checker for witness-level soundness tests (tests/zk/test_witness_soundness.py).

Reads a circom `.r1cs` (iden3 binary format: header, constraints, wire-to-label map) and `.sym`,
checks a witness against every constraint `<A,w>·<B,w> = <C,w> (mod p)`, and for one-wire
mutations answers exactly, without re-evaluating the whole system:

- `mutation_holds(j, delta)`: does the witness with wire j moved by `delta` (j ≥ 1 + nPublic, so
  the public signals stay fixed) still satisfy every constraint?
- `alternative(j)`: is there any `delta ≠ 0` for which it does (an under-constrained wire)?

Both rest on one identity: with A, B, C the values of a constraint's three linear combinations
under the valid witness and a, b, c the wire's coefficients in them, moving wire j by δ leaves the
constraint at `(A + aδ)(B + bδ) − (C + cδ) = δ·(aB + bA − c) + ab·δ²` (A·B = C since the witness is
valid). Constraints without wire j do not change. So per constraint the satisfying δ are: every δ
(both coefficients zero), only 0 (ab = 0, linear part ≠ 0), or {0, −(aB + bA − c)/(ab)}; the wire
has an alternative value iff the intersection over its constraints contains a δ ≠ 0.

`check(values)` evaluates every constraint from scratch (what `snarkjs wtns check` does); the
tests validate this module against `npx snarkjs wtns check` in both directions on a sample.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field
from pathlib import Path

ALL = "all"  # every delta satisfies (the wire is absent, or cancels out)


@dataclass
class R1CS:
    prime: int
    n_wires: int
    n_outputs: int
    n_public_inputs: int
    n_private_inputs: int
    # constraints[k] = (A, B, C), each a dict wire -> coefficient
    constraints: list[tuple[dict[int, int], dict[int, int], dict[int, int]]]
    names: dict[int, str] = field(default_factory=dict)  # wire -> signal name (from the .sym)
    # every signal name in the .sym -> its wire, or -1 if the compiler removed it from the witness
    # (a linear substitution, or a signal no constraint uses)
    signals: dict[str, int] = field(default_factory=dict)

    @property
    def n_public(self) -> int:
        return self.n_outputs + self.n_public_inputs

    @property
    def first_private(self) -> int:
        """Wire 0 is the constant 1, wires 1..n_public the public signals."""
        return 1 + self.n_public

    def private_inputs(self) -> range:
        return range(self.first_private, self.first_private + self.n_private_inputs)

    def name(self, wire: int) -> str:
        return self.names.get(wire, f"wire {wire}")


def load(r1cs_path: Path, sym_path: Path | None = None) -> R1CS:
    data = Path(r1cs_path).read_bytes()
    if data[:4] != b"r1cs":
        raise ValueError(f"{r1cs_path} is not an r1cs file")
    (n_sections,) = struct.unpack_from("<I", data, 8)
    pos, sections = 12, {}
    for _ in range(n_sections):
        kind, size = struct.unpack_from("<IQ", data, pos)
        sections[kind] = (pos + 12, size)
        pos += 12 + size
    hpos, _ = sections[1]
    (n8,) = struct.unpack_from("<I", data, hpos)
    prime = int.from_bytes(data[hpos + 4:hpos + 4 + n8], "little")
    q = hpos + 4 + n8
    n_wires, n_out, n_pub, n_prv = struct.unpack_from("<IIII", data, q)
    (n_constraints,) = struct.unpack_from("<I", data, q + 24)

    cpos, _ = sections[2]
    frombytes = int.from_bytes
    constraints = []
    step = 4 + n8
    for _ in range(n_constraints):
        lcs = []
        for _ in range(3):
            (n_terms,) = struct.unpack_from("<I", data, cpos)
            cpos += 4
            lc = {}
            for _ in range(n_terms):
                (wire,) = struct.unpack_from("<I", data, cpos)
                lc[wire] = frombytes(data[cpos + 4:cpos + step], "little")
                cpos += step
            lcs.append(lc)
        constraints.append(tuple(lcs))

    names: dict[int, str] = {}
    signals: dict[str, int] = {}
    if sym_path is not None:
        for line in Path(sym_path).read_text().splitlines():
            _, wire, _, label = line.split(",", 3)
            w = int(wire)
            signals[label] = w
            if w >= 0 and w not in names:
                names[w] = label
    return R1CS(prime, n_wires, n_out, n_pub, n_prv, constraints, names, signals)


def _lc(lc: dict[int, int], values, p: int) -> int:
    return sum(coeff * values[w] for w, coeff in lc.items()) % p


def check(r1cs: R1CS, values) -> list[int]:
    """Indices of the constraints `values` (one field element per wire) violates; [] = satisfied."""
    p = r1cs.prime
    if len(values) != r1cs.n_wires or values[0] != 1:
        raise ValueError("a witness has one value per wire and wire 0 = 1")
    return [k for k, (a, b, c) in enumerate(r1cs.constraints)
            if (_lc(a, values, p) * _lc(b, values, p) - _lc(c, values, p)) % p]


class MutationChecker:
    """One-wire mutations of a valid witness, answered from each constraint's values (module doc)."""

    def __init__(self, r1cs: R1CS, values):
        violated = check(r1cs, values)
        if violated:
            raise ValueError(f"the witness is not valid: {len(violated)} constraints fail, first {violated[0]}")
        self.r1cs, self.values, p = r1cs, list(values), r1cs.prime
        self._abc = [(_lc(a, values, p), _lc(b, values, p), _lc(c, values, p)) for a, b, c in r1cs.constraints]
        # wire -> constraint indices it appears in (any of A, B, C)
        self._uses: dict[int, list[int]] = {}
        for k, (a, b, c) in enumerate(r1cs.constraints):
            for w in set(a) | set(b) | set(c):
                self._uses.setdefault(w, []).append(k)

    def constraints_of(self, wire: int) -> list[int]:
        return self._uses.get(wire, [])

    def _terms(self, wire: int, k: int) -> tuple[int, int]:
        """(quadratic, linear) coefficient of δ in constraint k when `wire` moves by δ."""
        p = self.r1cs.prime
        a, b, c = self.r1cs.constraints[k]
        ca, cb, cc = a.get(wire, 0), b.get(wire, 0), c.get(wire, 0)
        va, vb, _ = self._abc[k]
        return ca * cb % p, (ca * vb + cb * va - cc) % p

    def _check_wire(self, wire: int) -> None:
        if not self.r1cs.first_private <= wire < self.r1cs.n_wires:
            raise ValueError(f"wire {wire} is not a private wire (public signals stay fixed)")

    def mutation_holds(self, wire: int, delta: int) -> bool:
        """Whether the witness with `wire` moved by `delta` (≠ 0 mod p) satisfies every constraint."""
        self._check_wire(wire)
        p = self.r1cs.prime
        d = delta % p
        if d == 0:
            raise ValueError("delta must be non-zero")
        return all((quad * d + lin) % p == 0 for quad, lin in (self._terms(wire, k) for k in self.constraints_of(wire)))

    def alternative(self, wire: int) -> int | str | None:
        """A δ ≠ 0 such that moving `wire` by δ keeps every constraint satisfied: ALL when any δ
        does (the wire is free), a field element when exactly one does, None when none does."""
        self._check_wire(wire)
        p = self.r1cs.prime
        candidate: int | str = ALL
        for k in self.constraints_of(wire):
            quad, lin = self._terms(wire, k)
            if quad == 0:
                if lin != 0:
                    return None  # only δ = 0
                continue  # every δ
            root = (-lin * pow(quad, -1, p)) % p  # δ·(quad·δ + lin) = 0: δ = 0 or this root
            if root == 0 or (candidate is not ALL and candidate != root):
                return None
            candidate = root
        return candidate

    def mutated(self, wire: int, delta: int) -> list[int]:
        values = list(self.values)
        values[wire] = (values[wire] + delta) % self.r1cs.prime
        return values


def random_delta(rng: random.Random, p: int) -> int:
    return rng.randrange(1, p)


def to_wtns(values, prime: int, n8: int = 32) -> bytes:
    """The `.wtns` file (version 2) for `values`: header section (n8, prime, nWitness), then the
    values, each n8 bytes little-endian."""
    header = n8.to_bytes(4, "little") + prime.to_bytes(n8, "little") + len(values).to_bytes(4, "little")
    body = b"".join((v % prime).to_bytes(n8, "little") for v in values)
    return (b"wtns" + (2).to_bytes(4, "little") + (2).to_bytes(4, "little")
            + (1).to_bytes(4, "little") + len(header).to_bytes(8, "little") + header
            + (2).to_bytes(4, "little") + len(body).to_bytes(8, "little") + body)
