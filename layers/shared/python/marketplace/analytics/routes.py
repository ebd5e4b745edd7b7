"""Flow 7's HTTP route (function ``analytics-api``): a creator's dashboard data."""

from __future__ import annotations

import functools
import re
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from marketplace import config
from marketplace.analytics.schemas import CreatorAnalytics, Period
from marketplace.analytics.services import AnalyticsService
from marketplace.errors import ForbiddenError
from marketplace.kit.http import Api, caller

api = Api("analytics-api")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


@functools.cache
def analytics() -> AnalyticsService:
    from marketplace.analytics.adapters import DynamoAnalyticsStore

    cfg = config.load(config.AnalyticsApiConfig)
    return AnalyticsService(DynamoAnalyticsStore(cfg.analytics_table))


@api.operation("GET", "/creator/{address}/analytics",
               "A creator's analytics over a period (their own only): summary, series per bucket, trends against the "
               "previous period, top content, recent activity; answers may come from a 5-minute cache (generatedAt, "
               "cacheAgeSeconds)", ok={200: ("the analytics", CreatorAnalytics)},
               errors={403: "FORBIDDEN: not your address (a string that is no address is nobody's)",
                       422: "VALIDATION_ERROR: the period is invalid (details.field)"})
def creator_analytics(address: str,
                      period: Annotated[Period, Query(description="the window: day (hours), week and month (days), "
                                                      "year (months)")] = "month"):
    if not _ADDRESS.match(address):  # any path string is schema-valid: it names no creator, so it is not yours
        raise ForbiddenError("Only the creator can read their analytics", {"address": address[:100]})
    return CreatorAnalytics.model_validate(analytics().creator_analytics(caller(api), address, period))
