"""How the test suite is organised: tiers by folder, markers that agree, no test importing another.

Read from the sources (ast), so this runs in a second without importing any test module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TESTS, TIERS, tier_of

pytestmark = pytest.mark.layout

ROOT = TESTS.parent
TEST_MODULES = sorted(p for p in TESTS.rglob("test_*.py") if "__pycache__" not in p.parts)
PYTHON_FILES = sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)
SUPPORT = TESTS / "support"


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _declared_marks(tree: ast.AST) -> set[str]:
    """Names ``x`` of every ``pytest.mark.x`` written in the module."""
    return {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
            and node.value.attr == "mark" and isinstance(node.value.value, ast.Name)
            and node.value.value.id == "pytest"}


def _imported_modules(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level:
            names |= {f"{'.' * node.level}{node.module or ''}.{alias.name}" for alias in node.names}
    return names


def _parse(path: Path) -> ast.AST:
    return ast.parse(path.read_text(), filename=str(path))


def test_the_suite_has_its_tier_folders():
    assert TEST_MODULES
    for tier in TIERS:
        assert list((TESTS / tier).glob("test_*.py")), f"tests/{tier} has no test module"


@pytest.mark.parametrize("path", TEST_MODULES, ids=_rel)
def test_every_test_module_lives_in_a_tier_folder_and_declares_no_other_tier(path):
    if path == Path(__file__):
        return
    tier = tier_of(path)
    assert tier is not None, f"{_rel(path)}: test modules live in tests/<tier>/ ({', '.join(TIERS)})"
    others = _declared_marks(_parse(path)) & (set(TIERS) - {tier})
    assert not others, f"{_rel(path)} is in tests/{tier} but marked {sorted(others)}: move it or fix the marker"


@pytest.mark.parametrize("path", PYTHON_FILES, ids=_rel)
def test_no_module_of_the_suite_imports_a_test_module(path):
    """Shared helpers live in tests/support; a test module is never imported (its tests would run
    twice and its fixtures leak)."""
    imported = _imported_modules(_parse(path))
    test_imports = sorted(name for name in imported
                          if any(part.startswith("test_") for part in name.lstrip(".").split(".")))
    assert not test_imports, f"{_rel(path)} imports {test_imports}: move what it needs to tests/support"


@pytest.mark.parametrize("path", sorted(SUPPORT.glob("*.py")), ids=_rel)
def test_support_modules_hold_no_tests(path):
    tree = _parse(path)
    tests = [n.name for n in ast.walk(tree)
             if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and n.name.startswith(("test_", "Test"))]
    assert not tests, f"{_rel(path)} defines tests {tests}: test modules are tests/<tier>/test_*.py"


def test_helper_modules_live_in_tests_support():
    """Only tests, conftest.py and package markers in the tier folders."""
    strays = [_rel(p) for p in PYTHON_FILES
              if tier_of(p) is not None and p.name not in ("conftest.py", "__init__.py")
              and not p.name.startswith("test_")]
    assert strays == []


def _collected(*args: str) -> list[str]:
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
                            cwd=ROOT, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode in (0, 5), result.stdout + result.stderr  # 5: nothing selected
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_the_folder_marker_and_the_synth_marker_are_applied_at_collection():
    """tests/infra/test_bundling.py declares no marker: tests/conftest.py gives its tests `infra`,
    and tests using the `synth` fixture `synth`, so `-m <tier>` selects exactly the folder."""
    module = "tests/infra/test_bundling.py"
    assert "pytest.mark.infra" not in (ROOT / module).read_text()
    everything = _collected(module)
    assert everything and _collected("-m", "infra", module) == everything
    assert _collected("-m", "unit or zk or e2e", module) == []
    synthesizing = _collected("-m", "synth", "tests/infra/test_packaging.py")
    assert synthesizing and synthesizing == _collected("tests/infra/test_packaging.py")
    assert _collected("-m", "synth", module) == []


def test_test_module_names_are_unique_across_tiers():
    """pytest imports test modules by basename (no packages in tests/): two tiers with the same
    file name break collecting the whole suite (``make test``) although each tier runs alone."""
    names = [p.name for p in TESTS.rglob("test_*.py")]
    assert sorted({n for n in names if names.count(n) > 1}) == []
