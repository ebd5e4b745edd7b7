# Vendored from layers/shared/python/marketplace/zk/proof.py by sdk/tools/vendor_verify.py:
# do not edit here (edit the server's file and run the tool).
# Differences: none.
"""A Groth16 proof over BN254 and its encodings (snarkjs JSON, Solidity calldata, bytes)."""

from __future__ import annotations

import json
from dataclasses import dataclass

# BN254 base field modulus: proof coordinates live here (public signals live in the scalar field).
Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583

G1 = tuple[int, int]
G2 = tuple[tuple[int, int], tuple[int, int]]  # ((x.c0, x.c1), (y.c0, y.c1))


@dataclass(frozen=True)
class Proof:
    """Affine points: `a` and `c` in G1, `b` in G2 with Fp2 coordinates as (c0, c1), as in
    snarkjs's proof.json. No validation here: `verify` rejects malformed points."""

    a: G1
    b: G2
    c: G1

    def calldata(self) -> list[int]:
        """`uint256[8] proof = [a0, a1, b00, b01, b10, b11, c0, c1]` in exactly the order the
        snarkjs Solidity verifier's `verifyProof(a, b, c, input)` takes them: G2 coordinates
        are (c1, c0), the EIP-197 order."""
        (bx0, bx1), (by0, by1) = self.b
        return [self.a[0], self.a[1], bx1, bx0, by1, by0, self.c[0], self.c[1]]

    @classmethod
    def from_calldata(cls, words: list[int]) -> Proof:
        if len(words) != 8:
            raise ValueError("a proof is 8 words")
        a0, a1, bx1, bx0, by1, by0, c0, c1 = (int(w) for w in words)
        return cls((a0, a1), ((bx0, bx1), (by0, by1)), (c0, c1))

    def to_bytes(self) -> bytes:
        """The 256-byte Ethereum encoding: the 8 calldata words, big-endian (groth16py's)."""
        return b"".join(w.to_bytes(32, "big") for w in self.calldata())

    @classmethod
    def from_bytes(cls, data: bytes) -> Proof:
        if len(data) != 256:
            raise ValueError("a proof is 256 bytes")
        return cls.from_calldata([int.from_bytes(data[i:i + 32], "big") for i in range(0, 256, 32)])

    def to_snarkjs(self) -> dict:
        """snarkjs `proof.json` shape (projective coordinates with z = 1, decimal strings)."""
        (bx0, bx1), (by0, by1) = self.b
        return {
            "pi_a": [str(self.a[0]), str(self.a[1]), "1"],
            "pi_b": [[str(bx0), str(bx1)], [str(by0), str(by1)], ["1", "0"]],
            "pi_c": [str(self.c[0]), str(self.c[1]), "1"],
            "protocol": "groth16",
            "curve": "bn128",
        }

    @classmethod
    def from_snarkjs(cls, data: dict | str) -> Proof:
        d = json.loads(data) if isinstance(data, str) else data
        if d.get("protocol", "groth16") != "groth16":
            raise ValueError("not a groth16 proof")
        pa, pb, pc = d["pi_a"], d["pi_b"], d["pi_c"]
        if [str(v) for v in pa[2:]] not in ([], ["1"]) or [str(v) for v in pc[2:]] not in ([], ["1"]):
            raise ValueError("proof points must be affine (z = 1)")
        if pb[2:] and [str(v) for v in pb[2]] != ["1", "0"]:
            raise ValueError("proof points must be affine (z = 1)")
        return cls(
            (int(pa[0]), int(pa[1])),
            ((int(pb[0][0]), int(pb[0][1])), (int(pb[1][0]), int(pb[1][1]))),
            (int(pc[0]), int(pc[1])),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_snarkjs())

    @classmethod
    def from_json(cls, text: str) -> Proof:
        return cls.from_snarkjs(text)


@dataclass(frozen=True)
class ProofResult:
    """A proof and the public signals it proves, in the circuit's order (registry.json), read
    from the witness the circuit computed."""

    proof: Proof
    public_signals: list[int]
    circuit: str = ""
    backend: str = ""

    def named_signals(self, names: list[str]) -> dict[str, int]:
        return dict(zip(names, self.public_signals, strict=True))
