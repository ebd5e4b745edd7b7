"""The registration saga's tasks (``kit.tasks``): ``{"step": "hash"|"claim"|"copy"|"store"|"prove"|
"register"|"cache"|"compensate", "input": <execution state>}`` → the step's result (``marketplace.content.saga``;
the state and each result are validated by ``marketplace.content.saga_models``).

A failing step raises its ``MarketplaceError`` (Lambda reports the class name as ``errorType``);
the state machine's Catch sends the execution to ``compensate``.
"""

from __future__ import annotations

import functools

from marketplace import config
from marketplace.content.saga import REGISTRY, RegistrationSteps
from marketplace.content.saga_models import (
    Cached,
    Compensated,
    Copied,
    Hashed,
    Proved,
    RegisteredTx,
    SagaState,
    Stored,
)
from marketplace.content.staged import StoreLimits
from marketplace.kit import observability
from marketplace.kit.tasks import Step, TaskFunction
from pydantic import BaseModel


@functools.cache
def steps() -> RegistrationSteps:
    from marketplace.adapters.chain import get_chain
    from marketplace.adapters.secrets import get_secret_bytes
    from marketplace.content.adapters import DynamoContent, DynamoRegistrations, S3Objects, prove_authenticity

    cfg = config.load(config.RegistrationWorkerConfig)
    return RegistrationSteps(
        registrations=DynamoRegistrations(cfg.registrations_table, cfg.content_table),
        content=DynamoContent(cfg.content_table), objects=S3Objects(), content_bucket=cfg.content_bucket,
        uploads_bucket=cfg.uploads_bucket, chain_id=cfg.chain.chainId, registry=cfg.chain.address(REGISTRY),
        chain=lambda: get_chain(cfg),
        prove_authenticity=prove_authenticity,
        identity_key=lambda: get_secret_bytes(cfg.identity_secret_id),
        limits=StoreLimits(range_bytes=cfg.hash_range_bytes, seconds=cfg.store_step_seconds,
                           checkpoint_bytes=min(cfg.hash_range_bytes, StoreLimits.checkpoint_bytes),
                           copy_multipart_bytes=cfg.copy_multipart_bytes, copy_part_bytes=cfg.copy_part_bytes),
    )


def _step(name: str, out: type[BaseModel]) -> Step:
    def run(state: SagaState):
        observability.telemetry("registration-worker").logger.append_keys(registrationId=state.registrationId)
        result = out.model_validate(steps().run(name, state.model_dump(mode="json", exclude_none=True)))
        if name == "cache":
            observability.business(observability.Metric.REGISTRATIONS)
        elif name == "prove":
            observability.business(observability.Metric.PROOFS_GENERATED)
        elif name == "compensate":
            observability.business(observability.Metric.REGISTRATIONS_FAILED)
        return result

    return Step(SagaState, out, run)


handler = TaskFunction("registration-worker", {
    "hash": _step("hash", Hashed), "claim": _step("claim", Stored), "copy": _step("copy", Copied),
    "store": _step("store", Stored), "prove": _step("prove", Proved), "register": _step("register", RegisteredTx),
    "cache": _step("cache", Cached), "compensate": _step("compensate", Compensated),
}, config_model=config.RegistrationWorkerConfig).handler
