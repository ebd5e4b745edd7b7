"""The infrastructure tier: the CDK app synthesized once per session, in-process, offline.

The app is the real one (``infra.app.build``: the stack, cdk-nag and its acknowledgments) with the
context of ``cdk.json`` and the real ``functions/``, ``layers/`` and ``statemachines/``. Only the
build outputs are a fixture: a few contract JSONs and circuit keys, so this tier needs no
``make build`` and asserts what the stack does with them (ABIs without bytecode, keys to S3).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from infra.config import ROOT
from tests.support.cdk_build import CIRCUITS, CONTRACTS, fake_build


@dataclass
class Synth:
    stack: object  # infra.stack.MarketplaceStack
    template: dict  # the synthesized CloudFormation template
    outdir: Path  # the cloud assembly
    build_dir: Path  # the fixture build outputs
    contracts: tuple[str, ...] = CONTRACTS  # what the fixture build holds
    circuits: tuple[str, ...] = CIRCUITS

    def resources(self, cfn_type: str) -> dict[str, dict]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == cfn_type}

    def logical_id(self, construct) -> str:
        return self.stack.resolve(self.stack.get_logical_id(construct.node.default_child))

    def asset_dir(self, layer) -> Path:
        """The staged directory of a LayerVersion's code asset."""
        key = self.template["Resources"][self.logical_id(layer)]["Properties"]["Content"]["S3Key"]
        return self.outdir / f"asset.{key.removesuffix('.zip')}"


@pytest.fixture(scope="session")
def synth(tmp_path_factory):
    from aws_cdk import App

    from infra.app import build

    build_dir = tmp_path_factory.mktemp("build")
    fake_build(build_dir)
    # The cloud assembly goes under .cache (same filesystem as the dependency layer's cache, so
    # staging it is hard links, not a 150 MB copy), one per session.
    outdir = ROOT / ".cache" / f"cdk.out.test-{os.getpid()}"
    shutil.rmtree(outdir, ignore_errors=True)
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    app = App(context=context, outdir=str(outdir))
    stack = build(app, root=ROOT, build_dir=build_dir)
    try:
        app.synth()
    except RuntimeError as exc:  # cdk-nag (or another validation) refused the stack: say what
        report = outdir / "validation-report.json"
        findings = [
            f"{v['ruleName']}: {', '.join(c['constructPath'] for c in v['violatingConstructs'])}"
            for plugin in (json.loads(report.read_text())["pluginReports"] if report.exists() else [])
            for v in plugin["violations"]
        ]
        pytest.fail(f"synth failed: {exc}\n" + "\n".join(findings), pytrace=False)
    template = json.loads((outdir / f"{stack.stack_name}.template.json").read_text())
    yield Synth(stack=stack, template=template, outdir=outdir, build_dir=build_dir)
    shutil.rmtree(outdir, ignore_errors=True)
