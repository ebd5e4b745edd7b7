"""The generated Solidity verifiers on a Hardhat node: real proofs accepted, tampered ones rejected."""

from __future__ import annotations

import pytest
from marketplace.zk import load_circuit, public_signal_names
from marketplace.zk.field import P
from web3 import Web3

from circuits.verifier_contracts import compile_verifiers, deploy, verify_args
from local.processes import HardhatNode

pytestmark = [pytest.mark.zk, pytest.mark.slow, pytest.mark.usefixtures("built_keys")]
CIRCUITS = ["authenticity", "credential", "usage_batch", "compliance", "aggregate"]


@pytest.fixture(scope="module")
def verifiers():
    names = {c: load_circuit(c).manifest["verifier_contract"] for c in CIRCUITS}
    artifacts = compile_verifiers(list(names.values()))
    node = HardhatNode().start()
    try:
        w3 = Web3(Web3.HTTPProvider(node.url))
        sender = w3.eth.accounts[0]
        yield {c: deploy(w3, artifacts[name], sender) for c, name in names.items()}
    finally:
        node.stop()


@pytest.mark.parametrize("circuit", CIRCUITS)
def test_verifier_accepts_the_proof_and_rejects_every_tampered_signal(circuit, verifiers, proofs):
    contract, result = verifiers[circuit], proofs(circuit)
    assert contract.functions.verifyProof(*verify_args(result.proof, result.public_signals)).call()
    for i in range(len(result.public_signals)):
        tampered = list(result.public_signals)
        tampered[i] = (tampered[i] + 1) % P
        assert not contract.functions.verifyProof(*verify_args(result.proof, tampered)).call(), i
        aliased = list(result.public_signals)
        aliased[i] += P           # ≥ p: the verifier's checkField must refuse it
        assert not contract.functions.verifyProof(*verify_args(result.proof, aliased)).call(), i


def test_a_proof_for_one_circuit_is_not_accepted_by_another(verifiers, proofs):
    # compliance and usage_batch share UsageTracker as consumer; their keys are independent.
    usage = proofs("usage_batch")
    compliance = verifiers["compliance"]
    size = len(public_signal_names("compliance"))  # the compliance verifier's signal count
    signals = (usage.public_signals + [0] * size)[:size]
    assert not compliance.functions.verifyProof(*verify_args(usage.proof, signals)).call()


def test_tampered_proof_points_are_rejected(verifiers, proofs):
    result = proofs("usage_batch")
    contract = verifiers["usage_batch"]
    words = result.proof.calldata()
    for i in range(8):
        bad = list(words)
        bad[i] = (bad[i] + 1) % (2**256)
        a, b, c = [bad[0], bad[1]], [[bad[2], bad[3]], [bad[4], bad[5]]], [bad[6], bad[7]]
        # An invalid point makes a precompile call fail; the verifier then returns false.
        assert not contract.functions.verifyProof(a, b, c, result.public_signals).call(), i
