"""The faults tier: the integration tier's real parts (a moto server and a Hardhat node in this
session, the real handlers, moto running the state machines' ASL), with faults injected where they
happen in AWS: the chain node cut mid-call (``tests.support.chain_proxy``), DynamoDB throttling and
transaction conflicts, S3 5xx (``tests.support.aws_faults``: botocore hooks on the functions' own
clients), a message delivered twice, a Step Functions task killed and retried. Each test asserts
that nothing is lost, orphaned or paid twice. ``make test-faults`` runs this folder;
docs/reliability.md lists the scenarios.

The stack is the integration tier's, under this tier's own prefix (``tests.support.faults_stack``:
moto's state is per process, shared by both tiers' stacks in one ``make test`` session).
"""

from __future__ import annotations

import pytest

from tests.integration.conftest import api, creator_token, set_env  # noqa: F401 - fixtures
from tests.support.faults_stack import faults_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    yield from faults_stack(tmp_path_factory)
