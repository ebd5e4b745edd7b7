"""The licensing context's lifecycles and license types (no pydantic: the access path imports it).

**License** (the spec's license lifecycle, mapped onto what the tables hold). The spec's CREATED
→ AVAILABLE is a *terms* item (``active: true``: on offer); a purchase creates the license item,
PURCHASED. A license item stores no ``state``: it is derived from its attributes with the
contract's precedence (``license_state``), so it can never disagree with the counters:

    REVOKED    revokedAt set
    EXHAUSTED  usesGranted >= maxUses      (usesGranted: every use granted, proven or pending)
    EXPIRED    now >= validUntil
    IN_USE     usesGranted > 0
    PURCHASED  otherwise

The spec's last arrow ("no issues → ACTIVE") is a license in use with nothing wrong: that is
IN_USE here (the API has always answered IN_USE), so there is no separate ACTIVE value. A use
moves PURCHASED or IN_USE to IN_USE, or to EXHAUSTED when it is the last; time moves them to
EXPIRED; the creator may revoke any license not yet revoked (exhausted and expired included, as
the contract allows).

**Quote** (quotes table ``state``): OPEN → SENDING (a relayed purchase, before its transaction;
SENDING again on a retry) → REDEEMED (the license issued); a self-sent purchase redeems an OPEN
quote directly.
"""

from __future__ import annotations

from enum import StrEnum

from marketplace.shared.lifecycle import Lifecycle

LICENSE_TYPES: tuple[str, ...] = ("per_use", "subscription", "research", "commercial")  # enum order on chain
NO_EXPIRY = (1 << 40) - 1  # validUntil of a license without expiry (uint40 max)


class LicenseState(StrEnum):
    AVAILABLE = "AVAILABLE"  # terms on offer (no license item yet)
    PURCHASED = "PURCHASED"
    IN_USE = "IN_USE"
    EXHAUSTED = "EXHAUSTED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


_L = LicenseState
LICENSE_LIFECYCLE = Lifecycle("license", LicenseState, {
    _L.AVAILABLE: (_L.PURCHASED,),
    _L.PURCHASED: (_L.IN_USE, _L.EXHAUSTED, _L.EXPIRED, _L.REVOKED),
    _L.IN_USE: (_L.IN_USE, _L.EXHAUSTED, _L.EXPIRED, _L.REVOKED),
    _L.EXHAUSTED: (_L.REVOKED,),
    _L.EXPIRED: (_L.REVOKED,),
}, initial=(_L.AVAILABLE,))

# A use may start from these (the access path's claim condition is built from them)
USABLE: tuple[LicenseState, ...] = LICENSE_LIFECYCLE.sources(LicenseState.IN_USE)


def license_state(lic: dict, now: int) -> LicenseState:
    """The state of a license item at ``now``, with the contract's precedence."""
    if lic.get("revokedAt") is not None:
        return LicenseState.REVOKED
    if lic["usesGranted"] >= lic["maxUses"]:
        return LicenseState.EXHAUSTED
    if now >= lic["validUntil"]:
        return LicenseState.EXPIRED
    return LicenseState.IN_USE if lic["usesGranted"] > 0 else LicenseState.PURCHASED


class QuoteState(StrEnum):
    OPEN = "OPEN"
    SENDING = "SENDING"
    REDEEMED = "REDEEMED"


QUOTE_LIFECYCLE = Lifecycle("quote", QuoteState, {
    QuoteState.OPEN: (QuoteState.SENDING, QuoteState.REDEEMED),
    QuoteState.SENDING: (QuoteState.SENDING, QuoteState.REDEEMED),
}, initial=(QuoteState.OPEN,))
