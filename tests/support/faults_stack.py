"""The faults tier's stack: the integration tier's session stack (a moto server, a Hardhat node, the
real handlers; ``tests/integration/conftest.py``) started under a prefix of its own.

moto keeps its state per process, not per server: two stacks in one ``make test`` session share
every backend, so the faults stack's resources must not have the integration stack's names.
"""

from __future__ import annotations

from collections.abc import Iterator

PREFIX = "zkdm-faults"


def faults_stack(tmp_path_factory) -> Iterator:
    """The integration tier's ``stack`` fixture body, run with this tier's prefix (its module's
    ``PREFIX`` is read while it starts, then put back)."""
    import tests.integration.conftest as it

    body = it.stack._get_wrapped_function() if hasattr(it.stack, "_get_wrapped_function") else it.stack.__wrapped__
    saved = it.PREFIX
    it.PREFIX = PREFIX
    try:
        running = body(tmp_path_factory)
        stack = next(running)
    finally:
        it.PREFIX = saved
    try:
        yield stack
    finally:
        next(running, None)
