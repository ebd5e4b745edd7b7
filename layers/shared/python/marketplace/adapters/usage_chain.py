"""The UsageTracker and the LicenseManager as the batch prover reads and calls them, on the chain
gateway (the relayer's KMS-signed, journaled transactions; reverts decoded)."""

from __future__ import annotations

import functools
from typing import Any

from marketplace.chain.gateway import ChainGateway

TRACKER, MANAGER = "UsageTracker", "LicenseManager"


class UsageChain:
    def __init__(self, gateway: ChainGateway) -> None:
        self.gw = gateway

    @functools.cached_property
    def _manager(self):
        return self.gw.contract(MANAGER)

    @functools.cached_property
    def _tracker(self):
        return self.gw.contract(TRACKER)

    def license(self, license_id: str) -> dict[str, Any]:
        lic = self._manager.functions.getLicense(bytes.fromhex(license_id[2:])).call()
        # (contentId, licensee, validFrom, validUntil, revoked, credentialCommitment, chain, uses, maxUses, ...)
        return {"validFrom": int(lic[2]), "validUntil": int(lic[3]), "revoked": bool(lic[4]), "chain": int(lic[6]),
                "uses": int(lic[7]), "maxUses": int(lic[8])}

    @functools.cache  # noqa: B019 - one deployment per process
    def min_window(self) -> int:
        return int(self._tracker.functions.minWindow().call())

    @functools.cache  # noqa: B019
    def domain(self) -> int:
        return int(self._tracker.functions.domain().call())

    def block_time(self) -> int:
        return int(self.gw.w3.eth.get_block("latest")["timestamp"])

    def settled(self, license_id: str, signer: str) -> int:
        from eth_utils import to_checksum_address

        return int(self._manager.functions.usageSigner(bytes.fromhex(license_id[2:]),
                                                       to_checksum_address(signer)).call()[2])

    def logged(self, license_id: str, start_index: int) -> dict[str, Any] | None:
        """The ``UsageLogged`` log of this license's batch at ``start_index``, if any."""
        for entry in self.gw.find_logs(TRACKER, "UsageLogged", {"licenseId": bytes.fromhex(license_id[2:])}):
            if int(entry["args"]["startIndex"]) == start_index:
                tx = entry["transactionHash"]
                return {"txHash": tx.lower() if isinstance(tx, str) else "0x" + bytes(tx).hex(),
                        "blockNumber": int(entry["blockNumber"])}
        return None

    def log_batch(self, args: tuple, on_signed, context: dict[str, Any]) -> dict[str, Any]:
        return self.gw.transact(TRACKER, "logUsageBatch", *args, on_signed=on_signed, purpose="usage.logUsageBatch",
                                context=context)

    def confirmations(self, tx_hash: str) -> int:
        from web3.exceptions import TransactionNotFound

        try:
            receipt = self.gw.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return 0
        return max(0, self.gw.block_number() - int(receipt["blockNumber"]) + 1)

    def tx_pending(self, tx_hash: str, nonce: int) -> bool:
        return nonce >= 0 and self.gw.tx_pending(tx_hash, nonce)
