"""A decoded contract event as it travels from the chain listener to its consumers.

The listener (``EventReader`` pages → decoded by ABI) puts one ``ChainEvent`` per log on the
``chain-events`` FIFO queue: message group = ``group`` (the license, else the account, else the
contract), deduplication id = ``dedupe_id`` (``txHash:logIndex``), so a log re-read after a crash
or a reorg check is delivered once and the events of one license stay in order. Arguments are
JSON-safe: ``bytes``/``bytes32`` as 0x-hex, addresses checksummed, integers as integers.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ChainEvent(BaseModel):
    contract: str = Field(description="the emitting contract's name (ContentRegistry, LicenseManager, ...)")
    event: str = Field(description="the event's name (UsageLogged, PaymentReleased, ...)")
    args: dict[str, Any]
    txHash: str
    logIndex: int
    blockNumber: int
    blockHash: str

    @property
    def dedupe_id(self) -> str:
        return f"{self.txHash.lower()}:{self.logIndex}"

    @property
    def group(self) -> str:
        for key in ("licenseId", "account", "payee", "creator"):
            value = self.args.get(key)
            if isinstance(value, str) and value:
                return value.lower()
        return self.contract
