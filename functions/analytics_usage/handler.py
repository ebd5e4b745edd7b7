"""The usage table's stream (``resources.FUNCTIONS``: ``analytics-usage``): each new usage record
(a use served) → +1 use in its content's and creator's buckets, once (``marketplace.analytics.feeders``)."""

from __future__ import annotations

import functools

from marketplace import config
from marketplace.kit.streams import StreamConsumer


@functools.cache
def feeder():
    from marketplace.analytics.adapters import DynamoAnalyticsStore, DynamoDirectory
    from marketplace.analytics.feeders import UsageFeeder, live_feed

    cfg = config.load(config.AnalyticsUsageConfig)
    store = DynamoAnalyticsStore(cfg.analytics_table)
    return UsageFeeder(store, DynamoDirectory(licenses_table=cfg.licenses_table, analytics=store), live_feed())


handler = StreamConsumer("analytics-usage", lambda item: feeder().add(item), lambda: feeder().flush(),
                         config_model=config.AnalyticsUsageConfig).handler
