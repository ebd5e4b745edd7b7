"""The live feed of the creator dashboard: analytics updates pushed to the WebSocket connections
that follow them (``ports.LiveFeed``; Flow 7 "PUBLISH analytics:updates" → "Push to client").

``publish(updates)`` looks up the connections of each update's creator (the connections table's
``byCreator`` index: one query per creator in the batch), keeps those following the update's
content, and sends each ``{contentId, type, delta}`` through API Gateway's Management API, in
parallel. A connection API Gateway reports gone (410) is forgotten; one whose session expired is
closed and forgotten. A failed push is logged and never raised: the feeder's change is applied
already and the dashboard's next load is exact.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from marketplace.analytics.ports import LiveUpdate
from marketplace.streaming.models import Connection
from marketplace.streaming.ports import Connections, Pusher

log = logging.getLogger(__name__)


def message(update: LiveUpdate) -> dict:
    """What a dashboard receives for one update."""
    return {"contentId": update.contentId, "type": update.type, "delta": dict(update.delta)}


@dataclass
class PublishReport:
    sent: int = 0
    gone: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    failed: int = 0


class LiveStream:
    def __init__(self, connections: Connections, pusher: Pusher, *, parallel: int = 16,
                 clock: Callable[[], float] = time.time) -> None:
        self.connections = connections
        self.pusher = pusher
        self.parallel = parallel
        self.clock = clock

    def publish(self, updates: list[LiveUpdate]) -> None:
        self.deliver(updates)

    def deliver(self, updates: list[LiveUpdate]) -> PublishReport:
        report = PublishReport()
        if not updates:
            return report
        now = int(self.clock())
        by_creator: dict[str, list[LiveUpdate]] = defaultdict(list)
        for u in updates:
            by_creator[u.creator.lower()].append(u)
        sends: list[tuple[str, dict]] = []
        for creator, theirs in by_creator.items():
            try:
                connections = self.connections.of_creator(creator)
            except Exception:  # a feed failure never fails the feeder
                log.exception("live stream: connections of %s unreadable", creator)
                report.failed += len(theirs)
                continue
            for c in connections:
                if not c.live(now):
                    report.expired.append(c.connection_id)
                    continue
                sends += [(c.connection_id, message(u)) for u in theirs if c.follows(u.contentId)]
        gone: set[str] = set()
        if sends:
            # one connection's messages in order (the dashboard adds deltas up; order keeps the feed's order)
            per_connection: dict[str, list[dict]] = defaultdict(list)
            for cid, data in sends:
                per_connection[cid].append(data)

            def run(item: tuple[str, list[dict]]) -> tuple[str, int, bool, int]:
                cid, datas = item
                sent = failed = 0
                for data in datas:
                    try:
                        if not self.pusher.push(cid, data):
                            return cid, sent, True, failed
                        sent += 1
                    except Exception:
                        log.exception("live stream: push to %s failed", cid)
                        failed += 1
                return cid, sent, False, failed

            items = list(per_connection.items())
            if len(items) == 1:
                results = [run(items[0])]
            else:
                with ThreadPoolExecutor(min(self.parallel, len(items))) as pool:
                    results = list(pool.map(run, items))
            for cid, sent, is_gone, failed in results:
                report.sent += sent
                report.failed += failed
                if is_gone:
                    gone.add(cid)
        report.gone = sorted(gone)
        for cid in report.expired:
            try:
                self.pusher.close(cid)
            except Exception:
                log.exception("live stream: closing expired %s failed", cid)
        for cid in report.gone + report.expired:
            try:
                self.connections.delete(cid)
            except Exception:
                log.exception("live stream: forgetting %s failed", cid)
        return report


def live_stream(connections_table: str, management_url: str) -> LiveStream:
    """The feed over the deployed connections table and Management API endpoint."""
    from marketplace.streaming.adapters import DynamoConnections, ManagementApiPusher

    return LiveStream(DynamoConnections(connections_table), ManagementApiPusher(management_url))


__all__ = ["Connection", "LiveStream", "PublishReport", "live_stream", "message"]
