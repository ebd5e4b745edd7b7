"""What the licensing services need: their tables, the content they license, the LicenseManager.

``LicenseChain`` is the interface of ``adapters.license_chain.LicenseChainAdapter`` (the chain
gateway's side); ``fakes`` and ``adapters`` implement ``LicensingStore`` over the same items.
"""

from __future__ import annotations

from typing import Any, Protocol

from marketplace.licensing.models import QuoteState


class LicensingStore(Protocol):
    # terms
    def put_terms(self, item: dict[str, Any]) -> bool:
        """Record new terms; False if the terms id is recorded already."""
        ...

    def get_terms(self, terms_id: str) -> dict[str, Any] | None: ...
    def list_terms(self, content_id: str) -> list[dict[str, Any]]: ...

    # quotes
    def put_quote(self, item: dict[str, Any]) -> None: ...
    def get_quote(self, quote_id: str) -> dict[str, Any] | None: ...

    def move_quote(self, quote_id: str, target: QuoteState) -> bool:
        """Move the quote to ``target`` if its lifecycle allows from where it is; False if not."""
        ...

    # purchase locks
    def lock(self, name: str, until: int, now: int) -> bool:
        """Take ``name`` until ``until`` unless someone holds it past ``now``."""
        ...

    def unlock(self, name: str) -> None: ...

    # licenses and keys
    def save_purchase(self, license_item: dict[str, Any], key_item: dict[str, Any], quote_id: str) -> bool:
        """License, its first key and the quote REDEEMED, all or nothing; False if the license
        exists or the quote cannot be redeemed."""
        ...

    def get_license(self, license_id: str) -> dict[str, Any] | None: ...

    def mark_revoked(self, license_id: str, revoked_at: int, tx_hash: str) -> bool:
        """→ REVOKED; False if the license is unknown or revoked already."""
        ...

    def keys_of(self, license_id: str) -> list[dict[str, Any]]:
        """The license's API keys, oldest first."""
        ...

    def replace_keys(self, license_id: str, new_key: dict[str, Any], now: int) -> None:
        """Store ``new_key`` and revoke the license's other keys."""
        ...

    def revoke_keys(self, license_id: str, now: int) -> int:
        """Revoke the license's live keys; how many."""
        ...


class LicensedContent(Protocol):
    """The content context's items, as licensing reads and moves them."""

    def get(self, content_id: str) -> dict[str, Any] | None: ...

    def mark_licensed(self, content_id: str) -> None:
        """REGISTERED → LICENSED (no-op in any other state)."""
        ...

    def record_terms(self, content_id: str, price_per_use: int, token: dict[str, Any]) -> None:
        """One more active terms in the content's terms summary, and REGISTERED → LICENSED."""
        ...

    def archive(self, content_id: str, changes: dict[str, Any]) -> bool:
        """→ ARCHIVED with ``changes`` and out of the listings; False if it cannot (already ARCHIVED)."""
        ...


class LicenseChain(Protocol):
    chain_id: int
    license_manager: str

    @property
    def escrow(self) -> str: ...  # read from the manager (ESCROW())
    @property
    def token(self) -> str: ...  # read from the manager (TOKEN())

    def token_domain(self) -> dict[str, Any]: ...
    def token_info(self) -> dict[str, Any]: ...
    def token_nonce(self, owner: str) -> int: ...
    def balance_of(self, owner: str) -> int: ...
    def allowance(self, owner: str, spender: str) -> int: ...
    def manager_nonce(self, account: str) -> int: ...
    def send(self, function: str, *args: Any) -> dict[str, Any]: ...

    # the ContentRegistry (archive)
    registry: str

    def send_registry(self, function: str, *args: Any) -> dict[str, Any]:
        """Send a ContentRegistry call (relayed like ``send``)."""
        ...

    def registry_events(self, receipt: dict[str, Any], event: str) -> list[dict[str, Any]]:
        """``event`` logs the ContentRegistry itself emitted in ``receipt``."""
        ...

    def registry_state(self, content_id: str) -> int:
        """The content's state on chain: 0 NONE, 1 REGISTERED, 2 ARCHIVED."""
        ...
    def receipt(self, tx_hash: str) -> dict[str, Any] | None: ...
    def events(self, receipt: dict[str, Any], event: str) -> list[dict[str, Any]]: ...
    def find_purchase(self, buyer: str, terms_id: str, commitment: int) -> tuple[str, dict[str, Any]] | None: ...
    def settlement(self, license_id: str) -> dict[str, Any]:
        """usesProven, paid, refundable, refundOpensAt (the escrow's figures, Flow 4)."""
        ...
