"""The relayer function's protocol (``marketplace.chain.relay``): only the allowed LicenseManager
calls are sent; arguments, receipts and errors survive the JSON trip, so the license API decodes
events and maps reverts exactly as when it sent itself. (The whole path, license API → relayer
function → Hardhat, runs in tests/integration/test_license_flow.py.)"""

from __future__ import annotations

import json

import pytest
from hexbytes import HexBytes
from marketplace.chain import relay
from marketplace.chain.reverts import ContractRevert, domain_error
from marketplace.errors import BlockchainError, ConflictError

pytestmark = pytest.mark.unit


class Gateway:
    """Records what it was asked to send; answers ``outcome`` (a receipt, or raises an error)."""

    def __init__(self, outcome) -> None:
        self.outcome, self.sent = outcome, []

    def transact(self, contract, function, *args, purpose=None):
        self.sent.append((contract, function, args, purpose))
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


RECEIPT = {
    "transactionHash": HexBytes("0x" + "ab" * 32), "blockHash": HexBytes("0x" + "cd" * 32), "blockNumber": 7,
    "status": 1, "from": "0x" + "11" * 20, "logsBloom": HexBytes(b"\0" * 256),
    "logs": [{"address": "0x" + "22" * 20, "topics": [HexBytes("0x" + "01" * 32), HexBytes("0x" + "02" * 32)],
              "data": HexBytes("0x" + "00" * 31 + "05"), "logIndex": 0, "transactionIndex": 0,
              "transactionHash": HexBytes("0x" + "ab" * 32), "blockHash": HexBytes("0x" + "cd" * 32),
              "blockNumber": 7, "removed": False}],
}


def over_the_wire(payload: dict) -> dict:
    return json.loads(json.dumps(payload))


def test_an_allowed_call_is_sent_with_its_arguments_and_its_receipt_comes_back_as_web3_gives_it():
    args = (b"\x01" * 32, "0x" + "33" * 20, 2**255, [1, 2], b"\x09" * 65)
    event = over_the_wire({"contract": "LicenseManager", "function": "purchaseWithPermit",
                           "args": [relay.encode_arg(a) for a in args], "purpose": "license.purchaseWithPermit"})
    gateway = Gateway(RECEIPT)
    answer = over_the_wire(relay.relay(gateway, event))
    assert gateway.sent == [("LicenseManager", "purchaseWithPermit", args, "license.purchaseWithPermit")]
    back = relay.decode_receipt(answer["receipt"])
    assert back["transactionHash"] == RECEIPT["transactionHash"] and back["blockNumber"] == 7
    assert back["logs"][0]["topics"] == RECEIPT["logs"][0]["topics"]
    assert back["logs"][0]["data"] == RECEIPT["logs"][0]["data"]
    assert isinstance(back["logs"][0]["data"], HexBytes)


@pytest.mark.parametrize("call", [("UsageTracker", "logUsageBatch"), ("LicenseManager", "revoke"),
                                  ("PaymentEscrow", "withdraw"), ("ContentRegistry", "registerContent")])
def test_any_other_call_is_refused_and_nothing_is_sent(call):
    gateway = Gateway(RECEIPT)
    with pytest.raises(PermissionError):
        relay.relay(gateway, {"contract": call[0], "function": call[1], "args": []})
    assert gateway.sent == []


def test_a_revert_comes_back_as_the_same_domain_error_with_the_relayers_support_id():
    revert = ContractRevert("LicenseManager", "purchaseWithPermit", "License__LicenseExists",
                            {"licenseId": b"\x02" * 32}, tx_hash="0x" + "ef" * 32)
    answer = over_the_wire(relay.relay(Gateway(revert), {"contract": "LicenseManager",
                                                         "function": "purchaseWithPermit", "args": []}))
    err = relay.decode_error(answer["error"])
    assert isinstance(err, ContractRevert) and err.support_id == revert.support_id
    assert err.details == revert.details
    mapped, original = domain_error(err), domain_error(revert)
    assert isinstance(mapped, ConflictError) and mapped.body() == original.body()


def test_another_chain_failure_comes_back_as_blockchain_error():
    failure = BlockchainError("Transaction not mined in time", {"txHash": "0x" + "12" * 32})
    answer = over_the_wire(relay.relay(Gateway(failure), {"contract": "LicenseManager",
                                                          "function": "createTermsWithSig", "args": []}))
    err = relay.decode_error(answer["error"])
    assert type(err) is BlockchainError and err.body() == failure.body()
