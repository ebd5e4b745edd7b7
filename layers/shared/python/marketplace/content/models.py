"""The content context's lifecycles (no pydantic: the access path imports this module).

- **Content** (the spec's content lifecycle, the content table's ``state``): CREATED (a
  registration's claim on a content hash, before anything is stored) → REGISTERED (on chain,
  public metadata cached) → LICENSED (first terms created) → ACTIVE (a license's first use) →
  ARCHIVED (deactivated by its creator). The spec draws ARCHIVED from ACTIVE only; content that
  was never licensed or used can be deactivated too, so REGISTERED and LICENSED may also archive.
  A CREATED claim that fails is deleted (released), not moved: it never became content.
- **Registration** (the registrations table's ``state``, the saga's journal): AWAITING_UPLOAD
  (a presigned upload issued) → PENDING (the saga runs) → REGISTERED | FAILED.
"""

from __future__ import annotations

from enum import StrEnum

from marketplace.shared.lifecycle import Lifecycle


class ContentState(StrEnum):
    CREATED = "CREATED"
    REGISTERED = "REGISTERED"
    LICENSED = "LICENSED"
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


CONTENT_LIFECYCLE = Lifecycle("content", ContentState, {
    ContentState.CREATED: (ContentState.REGISTERED,),
    ContentState.REGISTERED: (ContentState.LICENSED, ContentState.ARCHIVED),
    ContentState.LICENSED: (ContentState.ACTIVE, ContentState.ARCHIVED),
    ContentState.ACTIVE: (ContentState.ARCHIVED,),
}, initial=(ContentState.CREATED,))

# Content that accepts terms and purchases
OFFERABLE: tuple[ContentState, ...] = (ContentState.REGISTERED, ContentState.LICENSED, ContentState.ACTIVE)
# Content ``GET /content/{id}`` shows (a CREATED claim is a registration in progress, not content yet)
VISIBLE: tuple[ContentState, ...] = tuple(s for s in ContentState if s is not ContentState.CREATED)
# Content GET /content lists: offerable content (ARCHIVED is left out of every listing)
LISTABLE: tuple[ContentState, ...] = OFFERABLE
# The content table's sparse listing key (index byListing): set when content becomes REGISTERED,
# removed when it is ARCHIVED, so browsing everyone's content reads listed items only.
LISTING = "listing"
LISTED = "all"


class RegistrationState(StrEnum):
    AWAITING_UPLOAD = "AWAITING_UPLOAD"
    PENDING = "PENDING"
    REGISTERED = "REGISTERED"
    FAILED = "FAILED"


REGISTRATION_LIFECYCLE = Lifecycle("registration", RegistrationState, {
    RegistrationState.AWAITING_UPLOAD: (RegistrationState.PENDING,),
    RegistrationState.PENDING: (RegistrationState.REGISTERED, RegistrationState.FAILED),
}, initial=(RegistrationState.AWAITING_UPLOAD, RegistrationState.PENDING))
