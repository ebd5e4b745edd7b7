"""The usage-batches state machine's ``prove`` task (``kit.tasks``): ``{"step": "prove", "input":
Batch}`` → ``Proved`` (``marketplace.usage.batch_steps``). Its own function because it opens the
license's sealed credential secret (the credential key) and must not hold the relayer key, which
the worker's submit step signs with (``usage-batch-worker``).

A failed proof raises ``ProofGenerationError`` (the ASL retries it once, then the batch fails)."""

from __future__ import annotations

import functools

from marketplace import config
from marketplace.kit import observability
from marketplace.kit.tasks import Step, TaskFunction
from marketplace.usage.batch_models import Batch, Proved
from marketplace.usage.batch_steps import UsageBatchSteps

SERVICE = "usage-batch-prover"


@functools.cache
def steps() -> UsageBatchSteps:
    from marketplace.adapters.chain import get_chain
    from marketplace.adapters.secrets import get_secret
    from marketplace.adapters.usage_chain import UsageChain
    from marketplace.usage.adapters import DynamoBatchLicenses, DynamoUsageLog

    cfg = config.load(config.UsageBatchProverConfig)
    return UsageBatchSteps(
        usage=DynamoUsageLog(cfg.usage_table),
        # prove reads the license only (no batch lock: that is the worker's, in its ratelimits table)
        licenses=DynamoBatchLicenses(cfg.licenses_table, ratelimits=""),
        chain=UsageChain(get_chain(cfg)),  # read-only: the tracker's domain
        seal_key=lambda: get_secret(cfg.credential_secret_id),
    )


def _prove(batch: Batch) -> Proved:
    out = steps().prove(batch)
    observability.business(observability.Metric.PROOFS_GENERATED)
    return out


handler = TaskFunction(SERVICE, {"prove": Step(Batch, Proved, _prove)},
                       config_model=config.UsageBatchProverConfig).handler
