"""Test tiers: one folder per tier, and every test carries its folder's marker.

| folder | marker | needs |
|---|---|---|
| tests/unit | unit | nothing: no network, no servers, no build outputs |
| tests/contract | contract | nothing: each store port over its fake and its DynamoDB adapter (moto in-process) |
| tests/infra | infra | the CDK app (tests using the ``synth`` fixture also get ``synth``) |
| tests/integration | integration | moto server, Hardhat node, ``make build`` |
| tests/contracts | contracts | Hardhat node, ``make build`` |
| tests/zk | zk | the circuits' keys (``make build``) |
| tests/e2e | e2e | the local stack (or its pieces) over HTTP, ``make build`` |
| tests/sdk | sdk | nothing built: the client package (sdk/): models against the OpenAPI document, local signing, a fresh install |
| tests/faults | faults | moto server, Hardhat node, ``make build``: the integration parts with faults injected |

``-m unit`` and ``tests/unit`` select the same tests; ``tests/test_layout.py`` checks that no
module declares another tier's marker and that no test module imports another (shared helpers live
in ``tests/support``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "contract", "integration", "contracts", "zk", "infra", "e2e", "sdk", "faults")


def tier_of(path: Path) -> str | None:
    """The tier of a file under tests/ (its first folder), or None outside the tier folders."""
    try:
        parts = Path(path).resolve().relative_to(TESTS).parts
    except ValueError:
        return None
    return parts[0] if len(parts) > 1 and parts[0] in TIERS else None


def pytest_itemcollected(item: pytest.Item) -> None:
    tier = tier_of(item.path)
    if tier is not None:
        item.add_marker(tier)
    if "synth" in getattr(item, "fixturenames", ()):
        item.add_marker("synth")
