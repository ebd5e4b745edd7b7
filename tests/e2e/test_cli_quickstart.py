"""The README's quickstart, run as written: its ``sh`` block (register → terms → buy → access) in
bash against the local stack, with the ``zkdm`` CLI of this environment."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def quickstart_block() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Quickstart"):]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "README's quickstart has no sh block"
    return match.group(1)


def test_the_readme_quickstart_runs_end_to_end(stack, tmp_path):
    # the block runs at "the repository root": .local/stack.json and .venv, as make dev leaves them
    (tmp_path / ".local").mkdir()
    (tmp_path / ".local" / "stack.json").write_text(json.dumps(stack))
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZKDM_")}
    env["ZKDM_HOME"] = str(tmp_path / "zkdm-home")
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", quickstart_block()], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr[-4000:]}"
    assert "same bytes" in run.stdout
    licenses = list((tmp_path / "zkdm-home" / "licenses").glob("*.json"))
    assert len(licenses) == 1 and oct(licenses[0].stat().st_mode & 0o777) == "0o600"
    kept = json.loads(licenses[0].read_text())
    assert kept["apiKey"].startswith("sk_live_") and kept["accessToken"].startswith("zkcred_")
