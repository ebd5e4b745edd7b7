"""Browsing content (``GET /content``): listed content newest first, with its terms summary.

Reads go through an index, never a table scan: everyone's content through ``byListing`` (a sparse
key set at registration and removed at archive), one creator's through ``byCreator``. ``tag``,
``q`` and ``licensable`` are filters over those index pages: each request reads at most
``MAX_INDEX_READS`` pages of ``limit`` items, so a page may hold fewer than ``limit`` items (even
none) and still carry a cursor when the filters matched little (docs/design.md, "Browsing").
The terms summary is kept on the content item by terms creation (``ContentItems.record_terms``).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from marketplace.content.models import LISTABLE
from marketplace.content.ports import ContentItems
from marketplace.content.schemas import ContentList, ContentSummary, TermsSummary
from marketplace.errors import NotFoundError

MAX_INDEX_READS = 5
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def encode_cursor(after: tuple[str, str]) -> str:
    raw = json.dumps({"createdAt": after[0], "contentId": after[1]}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[str, str] | None:
    """The (createdAt, contentId) a cursor continues after; NotFoundError if it is not one of ours."""
    if not cursor:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = (raw["createdAt"], raw["contentId"])
    except (ValueError, UnicodeDecodeError, TypeError, KeyError):
        raise NotFoundError("The cursor is not one this listing gave", {"field": "cursor"}) from None
    if not all(isinstance(v, str) and v for v in after):
        raise NotFoundError("The cursor is not one this listing gave", {"field": "cursor"})
    return after


def summary(item: dict[str, Any]) -> ContentSummary:
    return ContentSummary(
        contentId=item["contentId"], state=item["state"], creator=item["creator"], title=item.get("title", ""),
        tags=item.get("tags", []), size=item.get("size", 0), createdAt=item["createdAt"],
        terms=TermsSummary(activeTerms=item.get("termsCount", 0), minPricePerUse=item.get("minPricePerUse"),
                           token=item.get("termsToken")))


class Matcher:
    def __init__(self, tag: str | None, q: str | None, licensable: bool | None) -> None:
        self.tag = tag.casefold() if tag else None
        self.q = q.casefold() if q else None
        self.licensable = licensable

    def __call__(self, item: dict[str, Any]) -> bool:
        if item.get("state") not in LISTABLE:
            return False
        tags = [t.casefold() for t in item.get("tags", [])]
        if self.tag is not None and self.tag not in tags:
            return False
        if self.q is not None and self.q not in item.get("title", "").casefold() and not any(
                self.q in t for t in tags):
            return False
        active = item.get("termsCount", 0) > 0
        return self.licensable is None or active == self.licensable


def browse(content: ContentItems, *, creator: str | None = None, tag: str | None = None, q: str | None = None,
           licensable: bool | None = None, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> ContentList:
    """A page of listed content matching every filter given, newest first, and the cursor of the
    next page (None when the index has nothing after what was read)."""
    limit = max(1, min(limit, MAX_LIMIT))
    if creator:
        from eth_utils import to_checksum_address

        creator = to_checksum_address(creator.lower())  # the content table keeps checksummed addresses
    matches = Matcher(tag, q, licensable)
    last, more, reads = decode_cursor(cursor), True, 0
    found: list[dict[str, Any]] = []
    while more and len(found) < limit and reads < MAX_INDEX_READS:
        items, more = content.listed(creator, last, limit)
        reads += 1
        for i, item in enumerate(items):
            last = (item["createdAt"], item["contentId"])
            if matches(item):
                found.append(item)
                if len(found) == limit:
                    more = more or i < len(items) - 1
                    break
        if not items:
            more = False
    return ContentList(items=[summary(i) for i in found], cursor=encode_cursor(last) if more and last else None)
