"""Compile and deploy the generated Groth16 verifiers (build/verifiers/*.sol) for tests and bench.

Uses solc-js 0.8.28 from node_modules (the contracts' compiler) through its standard-JSON
interface, and web3.py against a running node (tests/zk and bench/zk.py start a Hardhat node with
`local.processes.HardhatNode`). The contracts' own build (contracts/build.mjs) compiles the same
files for the real deployment; this helper only exists so the verifiers can be checked on chain
on their own.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERIFIERS = ROOT / "build" / "verifiers"

_SOLC_JS = """
const solc = require('solc');
let input = '';
process.stdin.on('data', d => input += d);
process.stdin.on('end', () => process.stdout.write(solc.compile(input)));
"""


def compile_verifiers(names: list[str]) -> dict[str, dict]:
    """{ContractName: {"abi", "bytecode"}} for build/verifiers/<ContractName>.sol."""
    sources = {f"{n}.sol": {"content": (VERIFIERS / f"{n}.sol").read_text()} for n in names}
    std_in = {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "optimizer": {"enabled": True, "runs": 200},
            "evmVersion": "cancun",
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
        },
    }
    proc = subprocess.run(["node", "-e", _SOLC_JS], input=json.dumps(std_in), capture_output=True,
                          text=True, cwd=ROOT, check=True)
    out = json.loads(proc.stdout)
    errors = [e for e in out.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise RuntimeError("solc: " + "\n".join(e["formattedMessage"] for e in errors))
    return {
        n: {"abi": out["contracts"][f"{n}.sol"][n]["abi"],
            "bytecode": "0x" + out["contracts"][f"{n}.sol"][n]["evm"]["bytecode"]["object"]}
        for n in names
    }


def deploy(w3, artifact: dict, sender: str):
    """Deploy a compiled contract from an unlocked node account; returns the web3 contract."""
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = w3.eth.wait_for_transaction_receipt(factory.constructor().transact({"from": sender}))
    return w3.eth.contract(address=receipt.contractAddress, abi=artifact["abi"])


def verify_args(proof, public_signals: list[int]) -> tuple:
    """verifyProof(a, b, c, input) arguments from a marketplace.zk Proof."""
    w = proof.calldata()
    return [w[0], w[1]], [[w[2], w[3]], [w[4], w[5]]], [w[6], w[7]], list(public_signals)
