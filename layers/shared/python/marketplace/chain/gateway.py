"""``ChainGateway``: the one way functions send to and read from the chain.

Contracts by name (ABIs from ``CONTRACTS_ABI_DIR``, addresses from ``CHAIN_CONFIG``); relayed
transactions through ``RelayerSender`` (KMS key, DynamoDB nonce lease, journal); reverts as
``ContractRevert``; logs through bounded pages (``find_logs``) or a checkpointed ``EventReader``.
Everything heavy is built lazily, and a gateway per configuration is cached per process
(``gateway_for``), keeping the HTTP connection and the KMS public key warm.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from marketplace.chain import journal as J
from marketplace.chain.reverts import ContractRevert, ErrorRegistry, revert_data
from marketplace.errors import BlockchainError

if TYPE_CHECKING:
    from marketplace.adapters.aws import ServiceName

log = logging.getLogger(__name__)


@functools.cache
def load_abi(abi_dir: str, name: str) -> list[dict[str, Any]]:
    path = Path(abi_dir) / f"{name}.json"
    try:
        return json.loads(path.read_text())["abi"]
    except FileNotFoundError:
        raise RuntimeError(f"no ABI for {name} at {path} (build the contracts: make build-contracts)") from None


@dataclass(frozen=True)
class GatewaySettings:
    """What a gateway needs besides the deployment (the ``_ChainSender`` / ``_ChainReader`` env)."""

    abi_dir: str
    tx_timeout: float = 120.0
    relayer_key_id: str | None = None  # KMS key id/ARN/alias: None = read-only gateway
    nonces_table: str | None = None
    txs_table: str | None = None
    cursors_table: str | None = None
    max_log_range: int = 2000
    confirmations: int = 1
    reorg_depth: int = 12


class ChainGateway:
    def __init__(self, deployment: Any, settings: GatewaySettings, *, clients: Callable[[str], Any] | None = None,
                 w3: Any | None = None) -> None:
        self.deployment = deployment
        self.settings = settings
        self.abi_dir = settings.abi_dir
        self.tx_timeout = settings.tx_timeout
        self._clients = clients
        self._w3 = w3

    # -- plumbing ---------------------------------------------------------------------------------

    def _client(self, service: ServiceName) -> Any:
        if self._clients is not None:
            return self._clients(service)
        from marketplace.adapters.aws import client

        return client(service)

    @property
    def w3(self):
        if self._w3 is None:
            from web3 import Web3

            self._w3 = Web3(Web3.HTTPProvider(self.deployment.rpcUrl, request_kwargs={"timeout": 30}))
        return self._w3

    @functools.cached_property
    def errors(self) -> ErrorRegistry:
        return ErrorRegistry.from_dir(self.abi_dir)

    def abi(self, name: str) -> list[dict[str, Any]]:
        return load_abi(self.abi_dir, name)

    def contract(self, name: str):
        return self.w3.eth.contract(address=self.deployment.address(name), abi=self.abi(name))

    @functools.cached_property
    def journal(self) -> J.TxJournal:
        if not self.settings.txs_table:
            raise RuntimeError("this gateway has no transaction journal (CHAIN_TXS_TABLE)")
        return J.TxJournal(self.settings.txs_table, self._client("dynamodb"))

    @functools.cached_property
    def sender(self):
        from marketplace.chain.kms import KmsSigner
        from marketplace.chain.nonces import NonceLease
        from marketplace.chain.sender import RelayerSender

        s = self.settings
        if not (s.relayer_key_id and s.nonces_table and s.txs_table):
            raise RuntimeError("this gateway cannot send: it has no relayer key, nonce table or journal")
        return RelayerSender(self.w3, self.deployment.chainId, KmsSigner(s.relayer_key_id, self._client("kms")),
                             NonceLease(s.nonces_table, self._client("dynamodb")), self.journal, s.tx_timeout)

    @property
    def relayer(self) -> str:
        return self.sender.address

    def monitor(self, **kwargs: Any):
        from marketplace.chain.monitor import TxMonitor

        return TxMonitor(self.sender, confirmations=self.settings.confirmations, **kwargs)

    # -- sending ----------------------------------------------------------------------------------

    def transact(self, contract_name: str, function: str, *args: Any,
                 on_signed: Callable[[str, int], None] | None = None, purpose: str | None = None,
                 context: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send ``contract.function(*args)`` from the relayer and wait for its receipt.

        ``on_signed(txHash, nonce)`` runs once the transaction is signed and journaled, before it
        is broadcast; if it raises, nothing is sent. A revert (at estimation, or a mined status 0)
        raises ``ContractRevert``; a transaction not mined within the timeout ``BlockchainError``."""
        sent = self.send(contract_name, function, *args, on_signed=on_signed, purpose=purpose, context=context)
        receipt = self.sender.wait(sent)
        _count_spent(receipt)
        if receipt["status"] != 1:
            raise self._mined_revert(contract_name, function, sent, receipt)
        return receipt

    def send(self, contract_name: str, function: str, *args: Any,
             on_signed: Callable[[str, int], None] | None = None, purpose: str | None = None,
             context: dict[str, Any] | None = None):
        """Broadcast without waiting (``RelayerSender.Sent``); ``wait(sent)`` gets the receipt."""
        from web3.exceptions import ContractLogicError, Web3RPCError

        fn = getattr(self.contract(contract_name).functions, function)(*args)
        data = fn._encode_transaction_data()
        try:
            tx = self.sender.prepare(fn.address, data)
        except ContractLogicError as exc:
            raise self.errors.revert(contract_name, function, revert_data(exc)) from exc
        except (Web3RPCError, OSError) as exc:
            log.warning("estimating %s.%s failed: %r", contract_name, function, exc)
            raise BlockchainError("Chain unavailable", {"contract": contract_name, "function": function}) from exc
        return self.sender.send(tx, purpose=purpose or f"{contract_name}.{function}",
                                context={"contract": contract_name, "function": function, **(context or {})},
                                on_signed=on_signed)

    def wait(self, sent) -> dict[str, Any]:
        receipt = self.sender.wait(sent)
        _count_spent(receipt)
        return receipt

    def _mined_revert(self, contract: str, function: str, sent, receipt: dict[str, Any]) -> BlockchainError:
        """A status-0 receipt: the revert data from replaying the call on the block before (the
        state the transaction saw, up to the transactions before it in its block)."""
        from web3.exceptions import ContractLogicError

        tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
        try:
            self.w3.eth.call({"from": self.relayer, "to": sent.tx["to"], "data": "0x" + sent.tx["data"].hex(),
                              "gas": sent.tx["gas"]}, int(receipt["blockNumber"]) - 1)
        except ContractLogicError as exc:
            err = self.errors.revert(contract, function, revert_data(exc), tx_hash=tx_hash)
        except Exception:  # noqa: BLE001 - the replay is a courtesy
            err = ContractRevert(contract, function, "Reverted", tx_hash=tx_hash)
        else:
            err = ContractRevert(contract, function, "Reverted", tx_hash=tx_hash)
        err.details.update(gasProvided=int(sent.tx["gas"]), gasUsed=int(receipt["gasUsed"]))
        return err

    def tx_pending(self, tx_hash: str, nonce: int) -> bool:
        """Whether the relayer's transaction ``tx_hash`` (sent with ``nonce``) may still be mined.
        False when it is mined, when its nonce was used (replaced), or when the node lost it and
        the journal let us give it up (``ABANDONED``: the monitor then fills its nonce with a
        cancel, and will never rebroadcast it). True while it is in the node's pool, or while the
        monitor has claimed a rebroadcast."""
        from web3.exceptions import TransactionNotFound

        try:
            tx = self.w3.eth.get_transaction(tx_hash)
        except TransactionNotFound:
            tx = None
        if tx is not None and tx["blockNumber"] is not None:
            return False
        if self.w3.eth.get_transaction_count(self.relayer, "latest") > nonce:
            return False
        if tx is not None:
            return True
        item = self.journal.get(tx_hash)
        if item is None:
            return False  # never journaled: never broadcast by the gateway
        if item["state"] in (J.REJECTED, J.REPLACED, J.ABANDONED):
            return False
        # give it up, unless the monitor claimed a rebroadcast meanwhile (then it is pending again)
        abandoned = self.journal.transition(tx_hash, J.ABANDONED, "abandoned",
                                            from_states=(J.SIGNED, J.PENDING, J.DROPPED),
                                            expect={"broadcasts": int(item.get("broadcasts", 0))})
        return not abandoned

    # -- reading ----------------------------------------------------------------------------------

    def block_number(self) -> int:
        return int(self.w3.eth.block_number)

    def block_timestamp(self) -> int:
        """The latest block's timestamp (what the next block's ``block.timestamp`` is at least)."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def events(self, contract_name: str, event: str, receipt: dict[str, Any]) -> list[dict[str, Any]]:
        """The decoded ``event`` logs of ``contract_name`` in a receipt."""
        from web3.logs import DISCARD

        ev = getattr(self.contract(contract_name).events, event)()
        return [dict(e["args"]) for e in ev.process_receipt(receipt, errors=DISCARD)]

    def find_logs(self, contract_name: str, event: str, filters: dict[str, Any],
                  from_block: int | None = None, to_block: int | None = None) -> list[dict[str, Any]]:
        """Past ``event`` logs matching indexed ``filters`` in ``[from_block (default: the
        deployment's block), to_block (default: latest)]``, read in pages of at most
        ``max_log_range`` blocks: ``{args, transactionHash, blockNumber, logIndex}``."""
        from web3._utils.events import get_event_data
        from web3._utils.filters import construct_event_filter_params

        contract = self.contract(contract_name)
        ev = getattr(contract.events, event)
        abi = ev.abi
        _, params = construct_event_filter_params(abi, self.w3.codec, contract_address=contract.address,
                                                  argument_filters=filters)
        from marketplace.chain.reader import iter_log_pages

        start = self.deployment.blockNumber if from_block is None else from_block
        end = self.block_number() if to_block is None else to_block
        out = []
        topics = list(params.get("topics") or []) or None
        for _s, _e, logs in iter_log_pages(self.w3, addresses=[contract.address], topics=topics,
                                           from_block=start, to_block=end, max_range=self.settings.max_log_range):
            for raw in logs:
                entry = get_event_data(self.w3.codec, abi, _log_receipt(raw))
                out.append({"args": dict(entry["args"]), "transactionHash": raw["transactionHash"],
                            "blockNumber": int(raw["blockNumber"], 16), "logIndex": int(raw["logIndex"], 16)})
        return out

    def reader(self, name: str, contract_names: list[str], start_block: int | None = None,
               topics: list[Any] | None = None):
        from marketplace.chain.reader import EventReader

        if not self.settings.cursors_table:
            raise RuntimeError("this gateway has no cursor table (CHAIN_CURSORS_TABLE)")
        return EventReader(self.w3, table=self.settings.cursors_table, name=name,
                           addresses=[self.deployment.address(c) for c in contract_names],
                           start_block=self.deployment.blockNumber if start_block is None else start_block,
                           topics=topics, max_range=self.settings.max_log_range,
                           confirmations=self.settings.confirmations, reorg_depth=self.settings.reorg_depth,
                           ddb=self._client("dynamodb"))


def _count_spent(receipt: dict[str, Any]) -> None:
    """Business metrics of the invocation that sent a transaction: one sent, its gas."""
    from marketplace.kit import observability

    observability.business(observability.Metric.TRANSACTIONS_SENT)
    observability.business(observability.Metric.GAS_SPENT, int(receipt.get("gasUsed") or 0))


def _log_receipt(raw: dict[str, Any]) -> dict[str, Any]:
    """A raw JSON-RPC log in the shape web3's ``get_event_data`` decodes."""
    from hexbytes import HexBytes

    return {"topics": [HexBytes(t) for t in raw["topics"]], "data": HexBytes(raw["data"]),
            "logIndex": int(raw["logIndex"], 16), "transactionIndex": int(raw["transactionIndex"], 16),
            "transactionHash": HexBytes(raw["transactionHash"]), "address": raw["address"],
            "blockHash": HexBytes(raw["blockHash"]), "blockNumber": int(raw["blockNumber"], 16)}


_gateways: dict[tuple, ChainGateway] = {}
_lock = threading.Lock()


def gateway_for(deployment: Any, settings: GatewaySettings) -> ChainGateway:
    """One gateway per (deployment, settings) per process."""
    key = (deployment.model_dump_json(), settings)
    with _lock:
        gw = _gateways.get(key)
        if gw is None:
            gw = _gateways[key] = ChainGateway(deployment, settings)
        return gw


def clear_gateways() -> None:
    with _lock:
        _gateways.clear()
