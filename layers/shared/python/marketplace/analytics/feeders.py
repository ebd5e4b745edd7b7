"""The feeders of the aggregates: what each source changes, applied once, then published live.

| source | change | live update |
|---|---|---|
| a usage record (the usage table's stream, ``INSERT``) | ``uses`` +1 at the use's time, its licensee in the bucket's set | ``usage`` ``{"uses": 1}`` |
| ``UsageLogged`` (the ``analytics-events`` FIFO) | ``provenUses`` +count at the block's time | ``payment`` ``{"provenUses": n}`` |
| ``PaymentReleased`` | ``revenue`` +creatorAmount, ``platformFees`` +fee, ``payments`` +1 | ``payment`` ``{"revenue": a, "payments": 1}`` |
| ``LicensePurchased`` | ``purchases`` +1, ``sales`` +amount; the license active until validUntil | ``license`` ``{"licenses": 1}`` |
| ``LicenseRevoked`` | ``revocations`` +1; the license no longer active | ``license`` ``{"licenses": -1}`` |

The usage stream costs the access path nothing: DynamoDB writes the stream record with the item
the path writes anyway (no extra call, no extra latency); an ``analytics-events`` FIFO next to the
payments' ``chain-events`` gets every chain event the listener reads (the listener sends each page
to both queues; one consumer's failure never holds the other back).

Each change's marker is the use (``use#<licenseId>#<seq>``) or the log (``<txHash>:<logIndex>``), so
a stream record replayed after a failed batch, a redelivered message or a listener re-read changes
nothing; only changes applied now are published. ``live_feed()`` is the deployed feed (H4's
``analytics.live.live_stream`` over the connections table, when the function's environment names
it), else one that only logs.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from marketplace.analytics.models import Change
from marketplace.analytics.ports import AnalyticsStore, BlockClock, Directory, LiveFeed, LiveUpdate

log = logging.getLogger(__name__)

CHAIN_EVENTS = ("LicensePurchased", "LicenseRevoked", "UsageLogged", "PaymentReleased")


def _hex32(value: Any) -> str:
    from marketplace.shared.ids import hex32

    return hex32(value)


class LoggingFeed:
    """No live stream configured: updates are logged at debug level."""

    def publish(self, updates: list[LiveUpdate]) -> None:
        log.debug("live updates (no stream configured): %d", len(updates))


def live_feed() -> LiveFeed:
    table, url = os.environ.get("WS_CONNECTIONS_TABLE"), os.environ.get("ANALYTICS_STREAM_MANAGEMENT_URL")
    if not (table and url):
        return LoggingFeed()
    from marketplace.analytics.live import live_stream

    return live_stream(table, url)


def publish(feed: LiveFeed, updates: list[LiveUpdate]) -> None:
    """Publish applied changes; a failing feed is logged, never raised (the change is applied)."""
    if not updates:
        return
    try:
        feed.publish(updates)
    except Exception:
        log.exception("live feed failed for %d updates (applied; the dashboard's next load shows them)", len(updates))


def live_update(change: Change) -> LiveUpdate:
    kind = {"usage": "usage", "proven": "payment", "payment": "payment", "purchase": "license",
            "revocation": "license"}[change.kind]
    if change.kind == "purchase":
        delta = {"licenses": 1}
    elif change.kind == "revocation":
        delta = {"licenses": -1}
    elif change.kind == "payment":
        delta = {"revenue": change.deltas.get("revenue", 0), "payments": change.deltas.get("payments", 0)}
    else:
        delta = {k: v for k, v in change.deltas.items() if k in ("uses", "provenUses")}
    return LiveUpdate(contentId=change.content_id, creator=change.creator, type=kind, delta=delta,
                      at=change.at)


class UnknownLicense(LookupError):
    """A use or event of a license the directory does not know (yet): retried by the source."""


@dataclass
class UsageFeeder:
    store: AnalyticsStore
    directory: Directory
    feed: LiveFeed

    def change_of(self, item: dict[str, Any]) -> Change:
        """The change one usage record (the table's item, plain) makes."""
        license_id = str(item["licenseId"]).lower()
        lic = self.directory.license_of(license_id)
        if lic is None:
            raise UnknownLicense(license_id)
        content_id = str(item.get("contentId") or lic["contentId"]).lower()
        return Change(event_id=f"use#{license_id}#{int(item['seq'])}", kind="usage", creator=lic["creator"],
                      content_id=content_id, at=int(item["ts"]), deltas={"uses": 1}, licensee=lic["buyer"],
                      license_id=license_id)

    def __post_init__(self) -> None:
        self._pending: list[LiveUpdate] = []

    def add(self, item: dict[str, Any]) -> bool:
        """Apply one usage record; its live update waits for ``flush`` (one publish per batch)."""
        change = self.change_of(item)
        if not self.store.apply(change):
            return False
        self._pending.append(live_update(change))
        return True

    def flush(self) -> int:
        updates, self._pending = self._pending, []
        publish(self.feed, updates)
        return len(updates)

    def apply(self, items: list[dict[str, Any]]) -> int:
        """Apply usage records in order; the count applied now (replays excluded). Publishes what
        was applied even when a later record raises (the source retries from that record)."""
        updates: list[LiveUpdate] = []
        try:
            for item in items:
                change = self.change_of(item)
                if self.store.apply(change):
                    updates.append(live_update(change))
        finally:
            publish(self.feed, updates)
        return len(updates)


@dataclass
class ChainFeeder:
    store: AnalyticsStore
    directory: Directory
    chain: BlockClock
    feed: LiveFeed

    def change_of(self, event) -> Change | None:
        """The change a ``ChainEvent`` makes (None: not one analytics counts)."""
        name, a = event.event, event.args
        if name not in CHAIN_EVENTS:
            return None
        event_id = event.dedupe_id
        content_id = _hex32(a["contentId"])
        license_id = _hex32(a["licenseId"])
        tx = event.txHash.lower()
        if name == "LicensePurchased":
            creator = self._creator(content_id, license_id)
            at, amount = int(a["timestamp"]), int(a["amount"])
            return Change(event_id, "purchase", creator, content_id, at, {"purchases": 1, "sales": amount},
                          licensee=str(a["licensee"]).lower(), license_id=license_id, valid_until=int(a["validUntil"]),
                          activity={"type": "license.purchased", "contentId": content_id, "licenseId": license_id,
                                    "txHash": tx, "at": at, "delta": {"purchases": 1, "sales": amount}})
        if name == "LicenseRevoked":
            known = self.store.license(license_id)
            creator = known["creator"] if known else self._creator(content_id, license_id)
            at = int(a["timestamp"])
            return Change(event_id, "revocation", creator, content_id, at, {"revocations": 1}, license_id=license_id,
                          valid_until=int(known["validUntil"]) if known else None,
                          activity={"type": "license.revoked", "contentId": content_id, "licenseId": license_id,
                                    "txHash": tx, "at": at, "delta": {"revocations": 1}})
        at = self.chain.block_time(event.blockNumber)
        if name == "UsageLogged":
            count = int(a["count"])
            return Change(event_id, "proven", self._creator(content_id, license_id), content_id, at,
                          {"provenUses": count}, license_id=license_id,
                          activity={"type": "usage.proven", "contentId": content_id, "licenseId": license_id,
                                    "txHash": tx, "at": at, "delta": {"provenUses": count}})
        deltas = {"revenue": int(a["creatorAmount"]), "platformFees": int(a["platformFee"]), "payments": 1}
        return Change(event_id, "payment", str(a["payee"]).lower(), content_id, at, deltas, license_id=license_id,
                      activity={"type": "payment.released", "contentId": content_id, "licenseId": license_id,
                                "txHash": tx, "at": at, "delta": {"revenue": deltas["revenue"], "payments": 1}})

    def _creator(self, content_id: str, license_id: str) -> str:
        creator = self.directory.creator_of(content_id)
        if creator is None:
            lic = self.directory.license_of(license_id)
            creator = lic["creator"] if lic else None
        if creator is None:
            raise UnknownLicense(f"no creator known for content {content_id} (license {license_id})")
        return creator.lower()

    def handle(self, event) -> dict[str, Any]:
        change = self.change_of(event)
        if change is None:
            return {"event": event.event, "ignored": True}
        applied = self.store.apply(change)
        if applied:
            publish(self.feed, [live_update(change)])
        return {"event": event.event, "id": event.dedupe_id, "applied": applied}
