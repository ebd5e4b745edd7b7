"""Fixtures of the contract tests: one Hardhat node and one deployment per session, one content item
registered by `creator` with terms, and an EVM snapshot reverted after every test.

Fixtures named by role: `chain.creator`, `chain.buyer`, `chain.relayer`, `chain.platform`, ...
Tests that deploy more (hostile tokens) do it inside the test, so the revert removes it too.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from local.processes import HardhatNode
from tests.support.chainkit import Chain, build_contracts
from tests.support.market import Market


@dataclass
class World:
    """What every test starts from."""

    market: Market
    content_id: bytes
    terms_id: bytes  # 0.5 USDC per use, 100 uses, 30 days, PER_USE


@pytest.fixture(scope="session")
def chain():
    build_contracts()
    node = HardhatNode().start()
    try:
        yield Chain(node)
    finally:
        node.stop()


@pytest.fixture(scope="session")
def world(chain) -> World:
    market = Market.deploy(chain)
    content_id = market.register(chain.creator, b"sunset photo collection")
    terms_id = market.create_terms(chain.creator, content_id)
    return World(market, content_id, terms_id)


@pytest.fixture(autouse=True)
def _isolated(request):
    """Every test that uses the chain starts from the session's world and leaves no trace."""
    if "chain" not in request.fixturenames:
        yield
        return
    chain = request.getfixturevalue("chain")
    request.getfixturevalue("world")
    snapshot = chain.snapshot()
    yield
    chain.revert_to(snapshot)


@pytest.fixture
def market(world) -> Market:
    return world.market


@pytest.fixture
def license_(world, chain):
    """A license `buyer` bought under the world's terms (approve path)."""
    return world.market.purchase(chain.buyer, world.terms_id)
