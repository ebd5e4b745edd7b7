"""The usage-batches state machine's tasks (``kit.tasks``): ``{"step": "licenses"|"prepare"|
"submit"|"confirm"|"mark"|"failed", "input": ...}`` → the step's result
(``marketplace.usage.batch_steps``; messages in ``marketplace.usage.batch_models``). The ``prove``
step is the ``usage-batch-prover`` function's: it holds the credential key, this one the relayer key.

A failing step raises its typed error (``ProofGenerationError``, ``BlockchainError``, ``NotConfirmed``):
Lambda reports the class name as ``errorType`` for the ASL's Retry and Catch."""

from __future__ import annotations

import functools

from marketplace import config
from marketplace.kit import observability
from marketplace.kit.tasks import Step, TaskFunction
from marketplace.usage.batch_models import (
    Batch,
    Failed,
    FailedIn,
    LicenseIn,
    LicensesIn,
    LicensesOut,
    Marked,
    Proved,
    Submitted,
)
from marketplace.usage.batch_steps import UsageBatchSteps

SERVICE = "usage-batch-worker"


@functools.cache
def steps() -> UsageBatchSteps:
    from marketplace.adapters.chain import get_chain
    from marketplace.adapters.usage_chain import UsageChain
    from marketplace.usage.adapters import DynamoBatchLicenses, DynamoBatchRecords, DynamoUsageLog

    cfg = config.load(config.UsageBatchWorkerConfig)
    return UsageBatchSteps(
        usage=DynamoUsageLog(cfg.usage_table),
        licenses=DynamoBatchLicenses(cfg.licenses_table, cfg.rate_limits_table),
        chain=UsageChain(get_chain(cfg)),
        seal_key=_no_credential_key,
        gap_seconds=cfg.gap_seconds, batch_licenses=cfg.batch_licenses,
        confirmations_required=cfg.confirmations, records=DynamoBatchRecords(cfg.batches_table),
    )


def _no_credential_key() -> str:
    raise RuntimeError("the usage batch worker holds no credential key: prove runs in usage-batch-prover")


def _failed(req: FailedIn) -> Failed:
    observability.business(observability.Metric.USAGE_BATCHES_FAILED)
    return steps().failed(req)


def _mark(sub: Submitted) -> Marked:
    out = steps().mark(sub)
    observability.business(observability.Metric.USAGE_BATCHES_LOGGED)
    return out


handler = TaskFunction(SERVICE, {
    "licenses": Step(LicensesIn, LicensesOut, lambda r: steps().list_licenses(r)),
    "prepare": Step(LicenseIn, Batch, lambda r: steps().prepare(r)),
    "submit": Step(Proved, Submitted, lambda r: steps().submit(r)),
    "confirm": Step(Submitted, Submitted, lambda r: steps().confirm(r)),
    "mark": Step(Submitted, Marked, _mark),
    "failed": Step(FailedIn, Failed, _failed),
}, config_model=config.UsageBatchWorkerConfig).handler
