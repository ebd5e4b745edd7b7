"""The LicenseManager, its escrow and its stablecoin, as ``logic.licensing.LicenseChain``.

Built on the chain gateway (``marketplace.chain.ChainGateway``: the relayer's KMS-signed,
journaled transactions, reverts as ``ContractRevert``, bounded log pages). The
escrow and the token are read from the LicenseManager (``ESCROW()``, ``TOKEN()``), so only the
LicenseManager's address comes from CHAIN_CONFIG; the token is used through the ERC-20 + EIP-2612
+ EIP-5267 functions every permit stablecoin has (ABI: ``MockStablecoin.json``).
"""

from __future__ import annotations

import functools
from typing import Any

from marketplace.adapters.chain import Chain

MANAGER = "LicenseManager"
REGISTRY = "ContentRegistry"
TOKEN_ABI = "MockStablecoin"


class LicenseChainAdapter:
    """``relay``: what sends (``transact``) when this function holds no relayer key (the license
    API: ``marketplace.chain.relay.RelayClient``); else the gateway sends itself."""

    def __init__(self, chain: Chain, relay: Any = None) -> None:
        self._chain = chain
        self._relay = relay if relay is not None else chain
        self.chain_id = chain.deployment.chainId
        self.license_manager = chain.deployment.address(MANAGER)
        self.registry = chain.deployment.address(REGISTRY)

    @functools.cached_property
    def _manager(self):
        return self._chain.contract(MANAGER)

    @functools.cached_property
    def escrow(self) -> str:
        return self._manager.functions.ESCROW().call()

    @functools.cached_property
    def token(self) -> str:
        return self._manager.functions.TOKEN().call()

    @functools.cached_property
    def _token(self):
        return self._chain.w3.eth.contract(address=self.token, abi=self._chain.abi(TOKEN_ABI))

    @functools.cached_property
    def _domain(self) -> dict[str, Any]:
        _fields, name, version, chain_id, verifying_contract, _salt, _ext = self._token.functions.eip712Domain().call()
        return {"name": name, "version": version, "chainId": int(chain_id), "verifyingContract": verifying_contract}

    @functools.cached_property
    def _info(self) -> dict[str, Any]:
        f = self._token.functions
        return {"address": self.token, "symbol": f.symbol().call(), "decimals": int(f.decimals().call())}

    def token_domain(self) -> dict[str, Any]:
        """The token's EIP-712 domain (EIP-5267 ``eip712Domain()``), read once."""
        return dict(self._domain)

    def token_info(self) -> dict[str, Any]:
        return dict(self._info)

    def token_nonce(self, owner: str) -> int:
        return int(self._token.functions.nonces(_address(owner)).call())

    def balance_of(self, owner: str) -> int:
        return int(self._token.functions.balanceOf(_address(owner)).call())

    def allowance(self, owner: str, spender: str) -> int:
        return int(self._token.functions.allowance(_address(owner), _address(spender)).call())

    def manager_nonce(self, account: str) -> int:
        return int(self._manager.functions.nonces(_address(account)).call())

    def send(self, function: str, *args: Any) -> dict[str, Any]:
        return self._relay.transact(MANAGER, function, *args, purpose=f"license.{function}")

    def send_registry(self, function: str, *args: Any) -> dict[str, Any]:
        return self._relay.transact(REGISTRY, function, *args, purpose=f"content.{function}")

    def registry_events(self, receipt: dict[str, Any], event: str) -> list[dict[str, Any]]:
        from web3.logs import DISCARD

        registry = self._chain.contract(REGISTRY)
        ours = {**receipt, "logs": [lg for lg in receipt["logs"] if lg["address"].lower() == self.registry.lower()]}
        return [dict(e["args"]) for e in getattr(registry.events, event)().process_receipt(ours, errors=DISCARD)]

    def registry_state(self, content_id: str) -> int:
        _creator, state = self._chain.contract(REGISTRY).functions.creatorAndState(bytes.fromhex(content_id[2:])).call()
        return int(state)

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        from web3.exceptions import TransactionNotFound

        try:
            return dict(self._chain.w3.eth.get_transaction_receipt(tx_hash))
        except TransactionNotFound:
            return None

    def events(self, receipt: dict[str, Any], event: str) -> list[dict[str, Any]]:
        """``event`` logs emitted by the LicenseManager itself (another contract's log with the
        same signature is not one of ours)."""
        from web3.logs import DISCARD

        ours = {**receipt, "logs": [lg for lg in receipt["logs"]
                                    if lg["address"].lower() == self.license_manager.lower()]}
        return [dict(e["args"]) for e in getattr(self._manager.events, event)().process_receipt(ours, errors=DISCARD)]

    def settlement(self, license_id: str) -> dict[str, Any]:
        """The license's settlement on chain (Flow 4): ``usesProven`` (uses in logged batches),
        ``paid`` (released to creator and platform), ``refundable`` (what refund() pays now),
        ``refundOpensAt`` (unix seconds; None: never, a license without expiry not revoked)."""
        from marketplace.payments.adapters import EscrowChain

        figures = EscrowChain(self._chain).settlement(license_id)
        return {"usesProven": figures.uses_proven, "paid": figures.paid, "refundable": figures.refundable,
                "refundOpensAt": figures.refund_opens_at}

    def find_purchase(self, buyer: str, terms_id: str, commitment: int) -> tuple[str, dict[str, Any]] | None:
        logs = self._chain.find_logs(MANAGER, "LicensePurchased",
                                     {"licensee": _address(buyer), "termsId": bytes.fromhex(terms_id[2:])})
        for entry in logs:
            if int(entry["args"]["credentialCommitment"]) == commitment:
                return entry["transactionHash"], entry["args"]
        return None


def _address(a: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(a)
