"""Proofs: both backends, py_ecc verification, tampering, out-of-field inputs, malformed points."""

from __future__ import annotations

import json
import subprocess

import pytest
from marketplace.zk import Proof, load_circuit, prove, verify
from marketplace.zk.field import P
from marketplace.zk.proof import Q
from py_ecc.optimized_bn128 import FQ2, b2, curve_order, is_inf, is_on_curve, multiply, normalize
from tests.support.zk_samples import sample_inputs

from circuits.build import ROOT

pytestmark = [pytest.mark.zk, pytest.mark.slow, pytest.mark.usefixtures("built_keys")]
CIRCUITS = ["authenticity", "credential", "usage_batch", "compliance", "aggregate"]


@pytest.mark.parametrize("circuit", CIRCUITS)
def test_valid_proof_verifies_and_every_tampered_signal_fails(circuit, proofs):
    result = proofs(circuit)
    assert len(result.public_signals) == len(load_circuit(circuit).public_signal_names)
    assert verify(circuit, result.proof, result.public_signals)
    for i in range(len(result.public_signals)):
        tampered = list(result.public_signals)
        tampered[i] = (tampered[i] + 1) % P
        assert not verify(circuit, result.proof, tampered), f"signal {i} tampered still verifies"


@pytest.mark.parametrize("circuit", CIRCUITS)
def test_public_inputs_at_or_above_p_are_rejected(circuit, proofs):
    result = proofs(circuit)
    for i in range(len(result.public_signals)):
        aliased = list(result.public_signals)
        aliased[i] += P            # same value mod p: the pairing alone would accept it
        assert not verify(circuit, result.proof, aliased)
    assert not verify(circuit, result.proof, result.public_signals[:-1])
    assert not verify(circuit, result.proof, [*result.public_signals, 0])
    assert not verify(circuit, result.proof, [-1, *result.public_signals[1:]])


def _sqrt_fq2(a: FQ2) -> FQ2 | None:
    """Square root in Fq2 (q ≡ 3 mod 4), or None."""
    a1 = a ** ((Q - 3) // 4)
    alpha = a1 * a1 * a
    conj = FQ2([alpha.coeffs[0], -alpha.coeffs[1]])      # alpha^q
    if conj * alpha == FQ2([-1, 0]):
        return None
    x0 = a1 * a
    if alpha == FQ2([-1, 0]):
        return FQ2([0, 1]) * x0
    return (FQ2([1, 0]) + alpha) ** ((Q - 1) // 2) * x0


def _g2_point_outside_subgroup():
    x = FQ2([1, 0])
    while True:
        y = _sqrt_fq2(x ** 3 + b2)
        if y is not None:
            pt = (x, y, FQ2.one())
            assert is_on_curve(pt, b2)
            if not is_inf(multiply(pt, curve_order)):
                return normalize(pt)
        x = x + FQ2([1, 0])


def test_malformed_proofs_are_rejected(proofs):
    result = proofs("credential")
    proof, pub = result.proof, result.public_signals
    assert verify("credential", proof, pub)
    bad = [
        Proof((proof.a[0], (proof.a[1] + 1) % Q), proof.b, proof.c),          # A off the curve
        Proof(proof.a, proof.b, (proof.c[0] + Q, proof.c[1])),                # coordinate ≥ q
        Proof((0, 0), proof.b, proof.c),                                      # A at infinity
        Proof(proof.a, ((0, 0), (0, 0)), proof.c),                            # B at infinity
        Proof(proof.a, (proof.b[0], (proof.b[1][0], (proof.b[1][1] + 1) % Q)), proof.c),  # B off curve
        Proof(proof.c, proof.b, proof.a),                                     # swapped
    ]
    x, y = ((int(v.coeffs[0]), int(v.coeffs[1])) for v in _g2_point_outside_subgroup())
    bad.append(Proof(proof.a, (x, y), proof.c))                           # B outside the subgroup
    for p in bad:
        assert not verify("credential", p, pub)


@pytest.mark.parametrize("circuit", CIRCUITS)
def test_snarkjs_and_groth16py_proofs_verify_under_the_same_key(circuit, proofs, tmp_path):
    ours = proofs(circuit)
    reference = prove(circuit, sample_inputs(circuit), backend="snarkjs")
    # Same circuit run, same public signals; both proofs verify in py_ecc...
    assert reference.public_signals == ours.public_signals
    assert verify(circuit, reference.proof, reference.public_signals)
    # ... and the groth16py proof verifies in snarkjs itself, under verification_key.json.
    (tmp_path / "proof.json").write_text(ours.proof.to_json())
    (tmp_path / "public.json").write_text(json.dumps([str(x) for x in ours.public_signals]))
    vk = load_circuit(circuit).directory / "verification_key.json"
    snarkjs = ROOT / "node_modules" / ".bin" / "snarkjs"
    ok = subprocess.run([str(snarkjs), "groth16", "verify", str(vk), str(tmp_path / "public.json"),
                         str(tmp_path / "proof.json")], capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "OK" in ok.stdout, ok.stdout + ok.stderr


def test_verify_is_one_multi_miller_loop_and_one_final_exponentiation(proofs, monkeypatch):
    """The py_ecc path multiplies every Miller loop before a single final exponentiation: the
    proof's three pairs in one multi-Miller loop, plus e(α, β)'s loop computed once per key."""
    from marketplace.zk import verifier

    result = proofs("credential")
    vk = verifier.VerifyingKey.from_snarkjs(load_circuit("credential").directory / "verification_key.json")
    calls: dict = {"miller_pairs": [], "final_exp": 0}
    real_miller, real_final = verifier.multi_miller_loop, verifier.final_exponentiation

    def miller(pairs):
        calls["miller_pairs"].append(len(pairs))
        return real_miller(pairs)

    def final(f):
        calls["final_exp"] += 1
        return real_final(f)

    monkeypatch.setattr(verifier, "multi_miller_loop", miller)
    monkeypatch.setattr(verifier, "final_exponentiation", final)
    assert vk.verify(result.proof, result.public_signals)
    assert calls == {"miller_pairs": [1, 3], "final_exp": 1}      # first use of the key: e(α, β) too
    calls.update(miller_pairs=[], final_exp=0)
    tampered = [result.public_signals[0] + 1, *result.public_signals[1:]]
    assert not vk.verify(result.proof, tampered)
    assert calls == {"miller_pairs": [3], "final_exp": 1}
