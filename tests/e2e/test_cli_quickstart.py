"""The README's quickstart, run as written: its ``sh`` block (register → terms → buy → a worker key →
signed access → the creator's pending earnings → the buyer's compliance report → its proof checked
on the client → the creator's analytics → archived) in bash against the local stack, with the ``zkdm`` CLI of
this environment."""

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
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, "README's quickstart has no sh block"
    return match.group(1)


def test_the_readme_quickstart_runs_end_to_end(stack, tmp_path):
    # the block runs at "the repository root": .local/stack.json and .venv, as make dev leaves them
    (tmp_path / ".local").mkdir()
    (tmp_path / ".local" / "stack.json").write_text(json.dumps(stack))
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZKDM_")}
    env["ZKDM_HOME"] = str(tmp_path / "zkdm-home")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # the block's ~/.config: worker keys land here
    env["COLUMNS"] = "250"  # rich's tables wrap at 80 columns when not on a terminal
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", quickstart_block()], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr[-4000:]}"
    assert "same bytes" in run.stdout
    licenses = list((tmp_path / "zkdm-home" / "licenses").glob("*.json"))
    assert len(licenses) == 1 and oct(licenses[0].stat().st_mode & 0o777) == "0o600"
    kept = json.loads(licenses[0].read_text())
    assert kept["apiKey"].startswith("sk_live_") and kept["accessToken"].startswith("zkcred_")
    # the worker key: kept readable by its owner only, its counter advanced by the one served use
    workers = tmp_path / "config" / "zkdm" / "workers" / kept["licenseId"]
    keys = [p for p in workers.glob("0x*.json") if not p.name.endswith(".state.json")]
    assert len(keys) == 1 and oct(keys[0].stat().st_mode & 0o777) == "0o600"
    assert oct(workers.stat().st_mode & 0o777) == "0o700"
    worker = json.loads(keys[0].read_text())
    assert worker["state"] == "ACTIVE" and worker["address"] in run.stdout
    assert json.loads((workers / f"{worker['address']}.state.json").read_text())["served"] == 1
    # the creator sees the use pending (not yet logged in a batch) and no payment yet
    assert "for 1 use served, not yet logged" in run.stdout
    assert "no payment (creator's view)" in run.stdout
    # the compliance report: proven and recorded, its PDF saved (the CLI checked its content address)
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF-")
    flat = " ".join(run.stdout.split())  # rich wraps lines at the terminal's width
    # its proof checked on this machine against the key pinned in zkdm
    assert "verified on this machine" in flat and "pinned in zkdm" in flat and "NOT verified" not in flat
    # ... and, asked of the chain node, recorded by the UsageTracker with exactly these chunks
    dense = "".join(run.stdout.split()).lower()  # no whitespace: rich folds long addresses
    assert f"recordedby{stack['contracts']['UsageTracker'].lower()}withexactlythesechunks" in dense
    # the creator's analytics (its feeds are asynchronous: the figures may not hold the use yet)
    assert "last week" in flat and "licensees with uses" in flat, run.stdout[-3000:]
    # the listing showed the content with its terms; then the creator archived it
    assert "Street scenes" in flat and "ARCHIVED" in flat
