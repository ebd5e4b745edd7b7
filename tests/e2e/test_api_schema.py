"""The running API against its own OpenAPI document, checked by schemathesis (a tool nobody here
wrote): every operation, ``--checks all`` (server errors, undocumented statuses, response schemas,
content types and headers, schema-valid requests accepted, invalid ones rejected, auth not
ignored, unsupported methods), the stateful phase on, with a signed-in creator's session token.

``SCHEMATHESIS_EXAMPLES`` sets the examples per operation (default 30, as the review ran it).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from local.processes import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "30"))


def test_schemathesis_finds_no_failure(stack, creator_token, tmp_path):
    api = stack["apiUrl"]
    report = tmp_path / "schemathesis"
    cmd = [sys.executable, "-m", "schemathesis.cli", "run", f"{api}/openapi.json",
           "--checks", "all", "--max-examples", str(EXAMPLES), "--phases", "examples,coverage,fuzzing,stateful",
           "--header", f"Authorization: Bearer {creator_token}", "--workers", "1",
           "--request-timeout", "60", "--seed", "20261130", "--report", "junit", "--report-dir", str(report),
           "--no-color"]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": ""}
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    text = out.stdout + out.stderr
    assert out.returncode == 0, "schemathesis found failures:\n" + text[-20000:]
