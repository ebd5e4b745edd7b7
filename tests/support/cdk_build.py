"""Stand-in build outputs for synthesizing the CDK app without ``make build``.

A few contract JSONs and circuit files in the layout ``make build`` leaves (``build/contracts``,
``build/circuits/<circuit>``), so the infra tier asserts what the stack does with them (ABIs
without bytecode, keys to S3) without compiling circuits.
"""

from __future__ import annotations

import json
from pathlib import Path

CONTRACTS = ("ContentRegistry", "MockStablecoin")
CIRCUITS = ("authenticity", "usage_batch")


def fake_build(build: Path, contracts: tuple[str, ...] = CONTRACTS, circuits: tuple[str, ...] = CIRCUITS) -> None:
    """What ``make build`` leaves that the stack ships, plus what it must leave behind."""
    (build / "contracts").mkdir(parents=True)
    for name in contracts:
        (build / "contracts" / f"{name}.json").write_text(json.dumps({
            "contractName": name,
            "abi": [{"type": "function", "name": "ping", "inputs": [], "outputs": [],
                     "stateMutability": "view"}],
            "bytecode": "0x6080604052",
        }))
    (build / "contracts" / "solc-output.json").write_text(json.dumps({"contracts": {}, "sources": {}}))
    for circuit in circuits:
        folder = build / "circuits" / circuit
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text(json.dumps({"circuit": circuit, "public_signals": ["a"]}))
        (folder / "verification_key.json").write_text(json.dumps({"protocol": "groth16", "nPublic": 1}))
        (folder / f"{circuit}.zkey").write_bytes(b"zkey:" + circuit.encode() * 64)
        (folder / f"{circuit}.wasm").write_bytes(b"\0asm" + circuit.encode())
    # circuits/build.py's work in progress: must not be picked up
    (build / "circuits" / ".credential.tmp-1").mkdir()
    (build / "circuits" / ".credential.tmp-1" / "manifest.json").write_text("{}")
