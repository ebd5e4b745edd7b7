"""The one time format of the API and the tables: RFC 3339 UTC to the second, ``2025-06-15T14:13:20Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(t: float | datetime) -> str:
    """Unix seconds or a datetime (naive means UTC) as ``YYYY-MM-DDTHH:MM:SSZ``."""
    if not isinstance(t, datetime):
        t = datetime.fromtimestamp(t, UTC)
    elif t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utcnow() -> datetime:
    return datetime.now(UTC)


def now_iso() -> str:
    return iso(utcnow())
