"""DynamoDB transactions: what a cancelled ``TransactWriteItems`` means, and retrying the ones
DynamoDB asks its callers to retry.

A transaction fails with one error code, ``TransactionCanceledException``, for reasons told apart
only by its ``CancellationReasons`` (one per item, in order):

- ``ConditionalCheckFailed``: an item's condition is false: the caller's answer (a conflict, "done
  already");
- ``TransactionConflict``: another transaction (or a single write) on one of the items was in
  progress; DynamoDB raises it under contention and expects the caller to retry;
- ``ThrottlingError``, ``ProvisionedThroughputExceeded``, ``RequestLimitExceeded``: capacity,
  retry after a backoff;
- anything else (``ValidationError``, ...) is a bug, raised as it is.

botocore retries none of them (the error code is the same for all). Reading every cancellation
as a failed condition turned contention into a false "already applied" (the payments consumer
skipped an effect and then wrote its marker) or, on the access path, into a 409 or a 500.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from marketplace.adapters.aws import client, error_code

CANCELLED = "TransactionCanceledException"
RETRY_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded",
                           "RequestLimitExceeded"})
# throttled after botocore's own retries: sent again here too, then contended (not a crash)
THROTTLED = frozenset({"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"})
ATTEMPTS = 4  # the first and three retries
BASE_DELAY = 0.02  # seconds; full jitter over base * 2^attempt


class TransactionContended(Exception):
    """Still cancelled by a conflict or throttling after the retries: nothing was written."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(f"transaction cancelled after {ATTEMPTS} attempts: {reasons}")
        self.reasons = reasons


def cancellation_reasons(exc: BaseException) -> list[str]:
    """The ``Code`` of each item of a cancelled transaction, in order (``"None"`` for items that
    were fine); [] for any other error."""
    if error_code(exc) != CANCELLED:
        return []
    reasons = getattr(exc, "response", {}).get("CancellationReasons") or []
    return [str(r.get("Code") or "None") for r in reasons]


def condition_failed(exc: BaseException) -> bool:
    """A condition is false: ``ConditionalCheckFailedException``, or a cancelled transaction with
    an item whose condition failed (or, reasons missing, a cancellation: the old reading)."""
    code = error_code(exc)
    if code == "ConditionalCheckFailedException":
        return True
    if code != CANCELLED:
        return False
    reasons = cancellation_reasons(exc)
    return not reasons or "ConditionalCheckFailed" in reasons


def retryable(exc: BaseException) -> bool:
    """Cancelled only by contention or capacity (or throttled): the same transaction may succeed if
    sent again."""
    if error_code(exc) in THROTTLED:
        return True
    reasons = cancellation_reasons(exc)
    return (bool(reasons) and "ConditionalCheckFailed" not in reasons
            and any(r in RETRY_REASONS for r in reasons)
            and all(r in RETRY_REASONS or r == "None" for r in reasons))


def transact_write(items: Sequence[Any], *, token: str | None = None, attempts: int = ATTEMPTS,
                   sleep: Callable[[float], None] = time.sleep) -> None:
    """``TransactWriteItems``, sent again (jittered exponential backoff) while DynamoDB cancels it
    for a conflict or throttling; ``TransactionContended`` when it still does after ``attempts``.
    A failed condition or any other error is raised as it is.

    ``token``: the base of a ``ClientRequestToken`` (one per attempt, ≤ 36 characters), so
    botocore's own retry of an attempt whose answer was lost (the write committed) succeeds
    without writing twice instead of failing its own conditions."""
    for attempt in range(attempts):
        kwargs: dict[str, Any] = {"TransactItems": list(items)}
        if token:
            kwargs["ClientRequestToken"] = f"{token[:33]}-{attempt}"
        try:
            client("dynamodb").transact_write_items(**kwargs)
            return
        except Exception as exc:
            if not retryable(exc):
                raise
            if attempt == attempts - 1:
                raise TransactionContended(cancellation_reasons(exc)) from exc
            sleep(random.uniform(0, BASE_DELAY * 2 ** attempt))
