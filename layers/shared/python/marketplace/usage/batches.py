"""The batch prover's decisions, as pure functions: which pending events form the next batch (gaps),
the public window, and the buyer's signatures that make its uses billable.

**Gaps.** A use's ``seq`` is claimed on the license item before its event is written (access path);
a request that died in between (Lambda timeout, crash) leaves ``seq`` with no event, and consumed
no signer counter (the event and the signer's counter are written in one transaction). The prover
walks seqs from the license's cursor (``usageCursor``: the first seq not yet proven or skipped): a
present PENDING event joins the batch; a missing seq blocks the batch while it is younger than
``gap_seconds`` (its request may still be writing) and is **skipped** once an event recorded after
it (a higher seq, so claimed later) is older than ``gap_seconds`` (a write that late never comes:
the access function's timeout is 10 s). A skipped seq is never proven: on-chain indexes are
positions in the proven sequence (``startIndex + i``), equal to seqs until the first gap. The use
it claimed stays counted in ``usesGranted`` (the buyer loses that use off chain; the refund at
expiry returns its price, since the chain never counted it).

**Window.** ``validFrom ≤ windowStart ≤ every event's time ≤ windowEnd ≤ min(validUntil, block
time)`` and ``windowEnd − windowStart ≥ min(minWindow, validUntil − validFrom)`` (the contract's
rule): ``windowEnd`` is as late as allowed, ``windowStart`` the earliest event's time moved back as
far as the minimum width needs. Events later than ``windowEnd`` wait for the next batch. When the
license is younger than the minimum width nothing can be logged yet (``None``).

**Signatures.** Per signer with uses in the batch, the access with its highest counter: it covers
``counter − settledCounter`` uses on chain, which equals the signer's events in the batch because
a signer's counters advance by one per recorded use in seq order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from marketplace.usage.models import BatchState, SignedAccess, UsageEvent

MAX_BATCH = 64  # the usage_batch circuit's N


@dataclass(frozen=True)
class Selection:
    events: list[UsageEvent]  # the batch, in seq order
    skipped: list[int]  # seqs skipped as gaps before or between them
    next_cursor: int  # the first seq after the batch (and its skipped gaps)
    waiting_gap: int | None = None  # a missing seq still too young to skip (the batch stops before it)


def select_events(events: list[UsageEvent], cursor: int, now: int, gap_seconds: int,
                  limit: int = MAX_BATCH) -> Selection:
    """The next batch from ``events`` (the license's events with ``seq >= cursor``, in seq order)."""
    by_seq = {e.seq: e for e in events}
    chosen: list[UsageEvent] = []
    skipped: list[int] = []
    seq = cursor
    last = max(by_seq, default=cursor - 1)
    while seq <= last and len(chosen) < limit:
        event = by_seq.get(seq)
        if event is None:
            later = [e for e in events if e.seq > seq]
            if later and later[0].timestamp <= now - gap_seconds:
                skipped.append(seq)
                seq += 1
                continue
            return Selection(chosen, skipped, seq, waiting_gap=seq)
        if event.batch is BatchState.PENDING:
            chosen.append(event)
        seq += 1
    return Selection(chosen, skipped, seq)


def choose_window(timestamps: list[int], valid_from: int, valid_until: int, block_time: int,
                  min_window: int) -> tuple[int, int] | None:
    """``(windowStart, windowEnd)`` covering as many of ``timestamps`` (in batch order) as the rule
    allows, or None when no window fits yet. The caller keeps the events with ``t <= windowEnd``."""
    end = min(valid_until, block_time)
    minimum = min(min_window, valid_until - valid_from)
    if end - minimum < valid_from or not timestamps:
        return None
    inside = [t for t in timestamps if t <= end]
    if not inside:
        return None
    start = max(valid_from, min(min(inside), end - minimum))
    return start, end


def prefix_within(events: list[UsageEvent], window_end: int) -> list[UsageEvent]:
    """The batch's events up to the first one later than the window (order kept: seqs stay contiguous)."""
    out: list[UsageEvent] = []
    for e in events:
        if e.timestamp > window_end:
            break
        out.append(e)
    return out


class SignatureMismatch(Exception):
    """The batch's signed uses would not equal its count (the contract would refuse it)."""


def latest_accesses(events: list[UsageEvent], settled: Mapping[str, int]) -> list[SignedAccess]:
    """Per signer (in first-use order), the access with its highest counter in ``events``; checked
    to cover exactly the signer's events given its on-chain ``settled`` counter."""
    latest: dict[str, SignedAccess] = {}
    counts: dict[str, int] = {}
    for e in events:
        if e.access is None:
            raise SignatureMismatch(f"use {e.seq} carries no signed access")
        a = e.access
        counts[a.signer] = counts.get(a.signer, 0) + 1
        if a.signer not in latest or a.counter > latest[a.signer].counter:
            latest[a.signer] = a
    for signer, access in latest.items():
        covered = access.counter - settled.get(signer, 0)
        if covered != counts[signer]:
            raise SignatureMismatch(f"signer {signer}: counter {access.counter} over settled "
                                    f"{settled.get(signer, 0)} covers {covered} uses, the batch has {counts[signer]}")
    return list(latest.values())
