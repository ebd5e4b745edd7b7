"""Usage signers added or revoked on chain, applied to the usage-signers table.

The chain-events consumer (another function: it reads the ``chain-events`` FIFO) calls
``apply_signer_event`` for every ``UsageSignerAdded`` / ``UsageSignerRevoked`` log of the
LicenseManager, including those a licensee sent directly (``addUsageSigner`` from their wallet),
so the access path serves a worker key registered anywhere and refuses a revoked one at once.

Idempotent: conditional writes only (``UsageSigners.add`` creates the signer ACTIVE if it is not
recorded; ``revoke`` moves ACTIVE or unknown → REVOKED), so a redelivered or re-read log changes
nothing, and a revocation that overtakes its registration still leaves the signer REVOKED. The
consuming function declares the ``usage-signers`` table (``USAGE_SIGNERS_TABLE``) in
``resources.py``; tests pass ``signers`` explicitly.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from marketplace.usage.ports import UsageSigners

if TYPE_CHECKING:
    from marketplace.chain.events import ChainEvent

SIGNER_EVENTS = ("UsageSignerAdded", "UsageSignerRevoked")


def _default_signers() -> UsageSigners:
    from marketplace.usage.adapters import DynamoUsageSigners

    table = os.environ.get("USAGE_SIGNERS_TABLE")
    if not table:
        raise RuntimeError("USAGE_SIGNERS_TABLE is not set: declare the usage-signers table for this function")
    return DynamoUsageSigners(table)


def apply_signer_event(event: ChainEvent, signers: UsageSigners | None = None, now: float | None = None) -> bool:
    """Apply one ``UsageSignerAdded`` / ``UsageSignerRevoked`` event; True if it changed the
    table, False if it was applied already (or is another event: ignored)."""
    if event.contract != "LicenseManager" or event.event not in SIGNER_EVENTS:
        return False
    store = signers if signers is not None else _default_signers()
    license_id = str(event.args["licenseId"]).lower()
    signer = str(event.args["signer"]).lower()
    at = int(now if now is not None else time.time())
    if event.event == "UsageSignerAdded":
        return store.add(license_id, signer, at, event.txHash.lower())
    return store.revoke(license_id, signer, at, event.txHash.lower())
