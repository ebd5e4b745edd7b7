"""What the layers ship and how cdk-nag's findings were settled."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.infra


def test_dependency_layer_holds_the_locked_runtime_dependencies_as_lambda_wheels(synth):
    site = synth.asset_dir(synth.stack.layers.dependencies) / "python"
    for package in ("web3", "pydantic_core", "aws_lambda_powertools", "groth16py", "jwt", "py_ecc"):
        assert (site / package).is_dir(), package
    # every compiled wheel runs on Lambda's python3.11 (Amazon Linux 2, glibc 2.26): CPython 3.11 or
    # abi3, and among the wheel's tags one for manylinux 2.17 (2014) or older on x86_64
    compatible = re.compile(r"manylinux(2014|1|2010|_2_(5|12|17))_x86_64")
    binaries = 0
    for wheel in site.glob("*.dist-info/WHEEL"):
        tags = [line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines()
                if line.startswith("Tag:")]
        if all(t.endswith("-any") for t in tags):
            continue
        binaries += 1
        assert any(t.split("-")[0] in ("cp311", "py3") or t.split("-")[1] == "abi3" for t in tags), wheel
        assert any(compatible.fullmatch(t.split("-")[2]) for t in tags), (wheel.parent.name, tags)
    assert binaries >= 5, "expected compiled wheels (pydantic-core, groth16py, ...)"
    # dev tools and the project itself are not in the layer
    for absent in ("moto", "pytest", "aws_cdk", "marketplace"):
        assert not (site / absent).exists(), absent
    assert (site / "requirements.lock.txt").read_text().count("==") > 10


def test_artifacts_layer_holds_abis_without_bytecode_and_circuit_manifests_and_verifying_keys(synth):
    root = synth.asset_dir(synth.stack.layers.artifacts) / "artifacts"
    assert sorted(p.stem for p in (root / "contracts").glob("*.json")) == sorted(synth.contracts)
    for name in synth.contracts:
        artifact = json.loads((root / "contracts" / f"{name}.json").read_text())
        assert set(artifact) == {"contractName", "abi"} and artifact["abi"][0]["name"] == "ping"
    for circuit in synth.circuits:  # what marketplace.zk needs to verify, nothing it needs only to prove
        assert sorted(p.name for p in (root / "circuits" / circuit).iterdir()) == [
            "manifest.json", "verification_key.json"]
    assert sorted(p.name for p in (root / "circuits").iterdir()) == sorted(synth.circuits)


def test_shared_layer_is_the_marketplace_package(synth):
    site = synth.asset_dir(synth.stack.layers.shared) / "python"
    assert (site / "marketplace" / "resources.py").is_file()
    assert not list(site.rglob("__pycache__"))


def test_every_cdk_nag_acknowledgment_is_specific_and_explained(synth):
    acknowledged = [
        (logical_id, rule)
        for logical_id, resource in synth.template["Resources"].items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert acknowledged, "the nag acknowledgments should be written to the template"
    allowed = re.compile(r"AwsSolutions-(SMG4|APIG3|APIG4|COG4|L1|IAM5\[Resource::.+\]"
                         r"|IAM4\[Policy::.*AmazonAPIGatewayPushToCloudWatchLogs\])$")
    for logical_id, rule in acknowledged:
        assert allowed.match(rule["id"]), (logical_id, rule["id"])
        assert len(rule["reason"]) > 40, (logical_id, rule["id"])

