"""The contracts' tooling without a chain: the build's cache and outputs, and slither.py's triage."""

from __future__ import annotations

import importlib.util
import json
import subprocess

import pytest

from tests.support.chainkit import ROOT

pytestmark = [pytest.mark.contracts]


def load_slither_script():
    spec = importlib.util.spec_from_file_location("contracts_slither", ROOT / "contracts" / "slither.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_is_skipped_when_inputs_are_unchanged():
    subprocess.run(["node", "contracts/build.mjs"], cwd=ROOT, check=True, capture_output=True)
    again = subprocess.run(["node", "contracts/build.mjs"], cwd=ROOT, check=True, capture_output=True, text=True)
    assert again.stdout.startswith("up to date")


def test_build_outputs():
    out = ROOT / "build" / "contracts"
    for name in ("ContentRegistry", "LicenseManager", "PaymentEscrow", "UsageTracker", "MockStablecoin",
                 "AuthenticityVerifier", "UsageBatchVerifier", "ComplianceVerifier", "AggregateVerifier"):
        artifact = json.loads((out / f"{name}.json").read_text())
        assert artifact["abi"] and artifact["bytecode"].startswith("0x") and len(artifact["deployedBytecode"]) > 2
        assert len(artifact["deployedBytecode"]) // 2 - 1 <= 24_576, f"{name} exceeds the EIP-170 size limit"
    solc_input = json.loads((out / "solc-input.json").read_text())
    assert solc_input["settings"]["optimizer"] == {"enabled": True, "runs": 200}
    # self-contained: every import (OpenZeppelin included) is in the input with its content
    assert any(unit.startswith("@openzeppelin/") for unit in solc_input["sources"])
    assert all("content" in source for source in solc_input["sources"].values())
    assert "ast" in json.loads((out / "solc-output.json").read_text())["sources"]["contracts/UsageTracker.sol"]


def test_security_md_rows_are_parsed():
    slither = load_slither_script()
    assert ("arbitrary-send-erc20", "PaymentEscrow.deposit") in slither.explained()


def test_finding_location_and_gate():
    slither = load_slither_script()
    finding = {"check": "reentrancy-eth", "impact": "High", "elements": [
        {"type": "function", "name": "withdraw",
         "type_specific_fields": {"parent": {"type": "contract", "name": "PaymentEscrow"}},
         "source_mapping": {"filename_relative": "contracts/PaymentEscrow.sol"}}]}
    assert slither.location(finding) == "PaymentEscrow.withdraw"
    assert slither.source_file(finding) == "contracts/PaymentEscrow.sol"
    assert (finding["check"], slither.location(finding)) not in slither.explained()
