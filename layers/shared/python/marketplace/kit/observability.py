"""Logger, Tracer and Metrics for one function, and the business metrics the flows emit.

``telemetry(service)`` gives the function's three Powertools objects (one set per service per
process: the local stack runs every function in one process). ``wrap(handler, ...)`` applies, in
this order, Logger's Lambda context (with a correlation id read from the event), Metrics (EMF to
stdout, cold start captured, flushed after every invocation) and Tracer (X-Ray segments; Powertools
turns it off outside Lambda, and ``POWERTOOLS_TRACE_DISABLED`` turns it off anywhere).

Business metrics (``business(...)``) use one namespace and one set of names, so a dashboard and an
alarm find them: ``Registrations``, ``Purchases``, ``Accesses``, ``ProofsGenerated``, ``GasSpent``,
``TransactionsSent`` ... (the ``Metric`` enum).
"""

from __future__ import annotations

import contextvars
import functools
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer  # Tracer: a lazy import (no X-Ray SDK until built)
from aws_lambda_powertools.metrics import MetricUnit

# an invocation that adds no business metric still publishes its cold start; not worth a warning
warnings.filterwarnings("ignore", message="No application metrics to publish")

NAMESPACE_ENV = "POWERTOOLS_METRICS_NAMESPACE"
DEFAULT_NAMESPACE = "zkdm"


class Metric(str, Enum):
    """Business metrics (name, unit)."""

    REGISTRATIONS = "Registrations"
    REGISTRATIONS_FAILED = "RegistrationsFailed"
    TERMS_CREATED = "TermsCreated"
    PURCHASES = "Purchases"
    ACCESSES = "Accesses"
    ACCESSES_REFUSED = "AccessesRefused"
    PROOFS_GENERATED = "ProofsGenerated"
    TRANSACTIONS_SENT = "TransactionsSent"
    GAS_SPENT = "GasSpent"
    MESSAGES_PROCESSED = "MessagesProcessed"
    MESSAGES_FAILED = "MessagesFailed"
    UNDECLARED_RESPONSES = "UndeclaredResponses"
    USAGE_BATCHES_LOGGED = "UsageBatchesLogged"
    USAGE_BATCHES_FAILED = "UsageBatchesFailed"  # a batch's proof or transaction failed (alarmed; retried next run)
    RELAYER_BALANCE_ETH = "RelayerBalanceEth"  # the relayer's balance, by the chain monitor (alarmed when low)


UNITS: dict[Metric, str] = {m: MetricUnit.Count.value for m in Metric} | {
    Metric.RELAYER_BALANCE_ETH: MetricUnit.NoUnit.value}


@dataclass(frozen=True)
class Telemetry:
    service: str
    logger: Logger
    tracer: Tracer | None
    metrics: Metrics


@functools.cache
def telemetry(service: str, trace: bool = True) -> Telemetry:
    """``trace=False`` builds no Tracer: importing the X-Ray SDK costs about 190 ms of a cold start,
    which the access hot path cannot spend (Lambda's active tracing still records its invocation)."""
    namespace = os.environ.get(NAMESPACE_ENV) or DEFAULT_NAMESPACE
    return Telemetry(service, Logger(service=service), Tracer(service=service) if trace else None,
                     Metrics(namespace=namespace, service=service))


# the telemetry of the invocation running in this context (thread or task): the local stack runs
# several functions at once in one process
_current: contextvars.ContextVar[Telemetry | None] = contextvars.ContextVar("kit_telemetry", default=None)


def business(metric: Metric, value: float = 1) -> None:
    """Add a business metric to the current invocation's metrics (no-op outside an invocation)."""
    t = _current.get()
    if t is not None:
        t.metrics.add_metric(name=metric.value, unit=UNITS[metric], value=value)


def current_logger() -> Logger | None:
    t = _current.get()
    return t.logger if t is not None else None


def env_check(config_model: type | None) -> Callable[[], None] | None:
    """What every entry point runs first: the function's environment model validated (and cached),
    so a missing or malformed variable fails before any work."""
    if config_model is None:
        return None

    def check() -> None:
        from marketplace import config

        config.load(config_model)

    return check


def wrap(handler: Callable[[Any, Any], Any], service: str, *, correlation_id_path: str | None = None,
         before: Callable[[], None] | None = None, trace: bool = True) -> Callable[[Any, Any], Any]:
    """``handler`` wrapped in Logger (context + correlation id), Metrics and Tracer (unless
    ``trace=False``). ``before`` runs first on every invocation (the environment check)."""
    t = telemetry(service, trace)

    def run(event: Any, context: Any) -> Any:
        if before is not None:
            before()
        token = _current.set(t)
        try:
            return handler(event, context)
        finally:
            _current.reset(token)

    traced = t.tracer.capture_lambda_handler(run, capture_response=False) if t.tracer is not None else run
    measured = t.metrics.log_metrics(traced, capture_cold_start_metric=True, raise_on_empty_metrics=False)
    logged = t.logger.inject_lambda_context(measured, correlation_id_path=correlation_id_path, clear_state=True)
    functools.update_wrapper(logged, handler)
    logged.telemetry = t  # type: ignore[attr-defined]
    return logged
