"""mypy over the shared layer, the functions, local/ and infra/ (``make typecheck``): ``make test``
fails when it does.

The run itself is marked ``typecheck`` and left out of ``make test-fast``: with mypy's cache
(``.mypy_cache``) it takes a few seconds, but a cold run (a clean clone) takes about 85 s and
3.5 GB (the CDK's and boto3's type stubs), which would push the fast tier past its 2 minutes.
The configuration checks below are instant and stay in every tier run.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from infra.config import ROOT

CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]


def test_the_type_checker_covers_the_layer_the_functions_local_and_infra():
    assert set(CONFIG["files"]) >= {"layers/shared/python/marketplace", "functions", "local", "infra"}
    assert CONFIG.get("check_untyped_defs") is True and CONFIG.get("warn_unused_ignores") is True


def test_no_module_is_exempt_from_the_type_checker():
    """Libraries without type information may be imported untyped; no module's errors are ignored."""
    assert not CONFIG.get("ignore_errors")
    for override in CONFIG.get("overrides", []):
        assert not override.get("ignore_errors"), f"ignore_errors for {override['module']}"
        assert set(override) <= {"module", "ignore_missing_imports"}, override


@pytest.mark.typecheck
@pytest.mark.slow
def test_mypy_passes():
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True,
                            check=False, timeout=600)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
