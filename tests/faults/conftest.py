"""The faults tier: the integration tier's real parts (a moto server and a Hardhat node in this
process's session, the real handlers, moto running the state machines' ASL), with faults injected
where they happen in AWS: the chain node cut mid-call (``tests.support.chain_proxy``), DynamoDB
throttling and transaction conflicts, S3 5xx (``tests.support.aws_faults``: botocore hooks on the
functions' own clients), a message delivered twice, a Step Functions task killed and retried. Each
test asserts that nothing is lost, orphaned or paid twice. ``make test-faults`` runs this folder.

The fixtures are the integration tier's (a stack of this tier's own: the same session-scoped
fixture functions, registered here again).
"""

from __future__ import annotations

from tests.integration.conftest import api, clear_caches, creator_token, set_env, stack  # noqa: F401 - fixtures
