"""`npx cdk synth` on a clean clone with empty caches, run the way an operator runs it.

Given a fresh `git clone` of this repository (no `.cache`, `.venv`, `cdk.out`, `build`,
`node_modules`), when `npx cdk synth` runs with npm's environment and `FORCE_COLOR=1` (what the
CDK CLI's parent npm process sets), then the synth passes, the dependency layer is built from a
plain requirements file, and cdk-nag reports nothing unacknowledged.

Two things are provided to the clone, because the synth needs them and making them is not what
this test is about: `node_modules` (a symlink to this checkout's: `npx cdk` runs the locked CDK CLI
from it; `npm ci` would download it) and `build/` (stand-in contract ABIs and circuit files from
`tests.support.cdk_build`; `make build` would compile the circuits for minutes). uv's own wheel
cache (outside the repository) is used as on any machine that ran uv before.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from infra.config import ROOT
from tests.support.cdk_build import fake_build

pytestmark = [pytest.mark.infra, pytest.mark.slow, pytest.mark.synth]

# Variables a developer's shell (or this test run, under `uv run`) may carry that a fresh shell on
# an operator's machine would not.
_SESSION_ONLY = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "PYTHONHOME", "NO_COLOR",
                 "CDK_OUTDIR", "CDK_CONTEXT_JSON")


def _operator_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SESSION_ONLY and not k.startswith("PYTEST")}
    venv_bin = str(ROOT / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env["FORCE_COLOR"] = "1"
    return env


@pytest.fixture(scope="module")
def clean_clone(tmp_path_factory) -> Path:
    if shutil.which("git") is None or shutil.which("npx") is None:
        pytest.fail("git and npx are needed (make install)")
    if not (ROOT / "node_modules" / ".bin" / "cdk").exists():
        pytest.fail("node_modules/.bin/cdk missing: run make install")
    clone = tmp_path_factory.mktemp("clone") / "repo"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    for absent in (".cache", ".venv", "cdk.out", "build", "node_modules", ".local"):
        assert not (clone / absent).exists(), f"a clean clone has no {absent}"
    (clone / "node_modules").symlink_to(ROOT / "node_modules", target_is_directory=True)
    fake_build(clone / "build")
    return clone


@pytest.mark.timeout(1800)  # a first synth installs the venv and the dependency layer from uv's cache
def test_npx_cdk_synth_passes_on_a_clean_clone_with_force_color(clean_clone):
    result = subprocess.run(["npx", "cdk", "synth"], check=False, cwd=clean_clone, env=_operator_environment(),
                            capture_output=True, text=True, timeout=1500)
    output = f"--- stdout (tail)\n{result.stdout[-4000:]}\n--- stderr (tail)\n{result.stderr[-8000:]}"
    assert result.returncode == 0, output

    out = clean_clone / "cdk.out"
    [template_file] = [p for p in out.glob("*.template.json")]
    template = json.loads(template_file.read_text())
    assert template["Resources"]

    # cdk-nag: every finding acknowledged (an unacknowledged one fails the synth and is reported)
    report = out / "validation-report.json"
    if report.exists():
        violations = [v for plugin in json.loads(report.read_text())["pluginReports"]
                      for v in plugin.get("violations", [])]
        assert violations == [], output
    assert "unacknowledged" not in result.stderr.lower() and "validation failed" not in result.stderr.lower()
    acknowledged = [rule for resource in template["Resources"].values()
                    for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])]
    assert acknowledged, "cdk-nag ran and wrote its acknowledgments into the template"

    # the dependency layer was built here, from a requirements file without colour codes
    [layer] = (clean_clone / ".cache" / "deps-layer").glob("*/python")
    pinned = (layer / "requirements.lock.txt").read_text()
    assert "\x1b" not in pinned and pinned.count("==") > 10
    assert (layer / "web3").is_dir() and (layer / "pydantic_core").is_dir()
