"""What an observer of the chain learns (contracts/SECURITY.md, "Privacy: exactly what the chain
shows"): join every log of the four contracts after a purchase, worker registrations and two
batches with real proofs and buyer signatures, and check the joined view holds exactly the fields
SECURITY.md lists, that every window is at least the minimum wide, and that no use's private time
appears in any log or transaction input."""

from __future__ import annotations

import pytest
from web3.logs import DISCARD

from tests.support.market import HOUR

pytestmark = [pytest.mark.contracts, pytest.mark.slow]

# Per event, the fields an observer reads (SECURITY.md's list); anything else is a finding.
VISIBLE = {
    "LicensePurchased": {"licenseId", "licensee", "termsId", "timestamp", "contentId", "amount",
                         "credentialCommitment", "validUntil"},
    "Deposited": {"licenseId", "payer", "payee", "amount"},
    "UsageSignerAdded": {"licenseId", "signer"},
    "UsageLogged": {"licenseId", "contentId", "batchId", "startIndex", "count", "windowStart", "windowEnd",
                    "chainNew"},
    "PaymentReleased": {"licenseId", "contentId", "payee", "batchId", "uses", "creatorAmount", "platformFee"},
    "Approval": {"owner", "spender", "value"},
    "Transfer": {"from", "to", "value"},
}


def joined_logs(chain, market, from_block: int) -> list[tuple[str, dict, dict]]:
    """(event name, args, raw log) of every log the marketplace's contracts and token emitted."""
    contracts = [market.registry, market.manager, market.escrow, market.tracker, market.token]
    out = []
    for number in range(from_block, chain.w3.eth.block_number + 1):
        for tx_hash in chain.w3.eth.get_block(number)["transactions"]:
            receipt = chain.w3.eth.get_transaction_receipt(tx_hash)
            raw = {log["logIndex"]: log for log in receipt["logs"]}
            for contract in contracts:
                for event in contract.events:
                    for decoded in event().process_receipt(receipt, errors=DISCARD):
                        out.append((decoded["event"], dict(decoded["args"]), raw[decoded["logIndex"]]))
    return out


def test_an_observer_learns_counts_and_windows_never_a_uses_time(chain, market, world):
    start_block = chain.w3.eth.block_number + 1
    lic = market.purchase(chain.buyer, world.terms_id, workers=2)
    chain.advance(3 * HOUR)
    now = chain.now()
    window = (now - 2 * HOUR, now)
    args, record = market.batch_args(lic, 3, window=window,
                                     accesses=market.signed_uses(lic, {lic.workers[0]: 2, lic.workers[1]: 1}))
    chain.send(market.tracker.functions.logUsageBatch(*args), chain.relayer)
    # the proof's private event times: the middle one is strictly inside the window
    private_time = window[0] + (window[1] - window[0]) // 2
    chain.advance(HOUR)
    market.log_batch(lic, 2)

    logs = joined_logs(chain, market, start_block)
    names = {name for name, _, _ in logs}
    assert names <= set(VISIBLE), names - set(VISIBLE)
    for name, fields, _ in logs:
        assert set(fields) == VISIBLE[name], name

    batches = [fields for name, fields, _ in logs if name == "UsageLogged"]
    assert [b["count"] for b in batches] == [3, 2]
    minimum = market.tracker.functions.minWindow().call()
    assert all(b["windowEnd"] - b["windowStart"] >= minimum for b in batches)
    # the licensee appears in the purchase (and its token transfer) only, never in usage or payment
    buyer = chain.buyer.lower()[2:]
    for name, _, log in logs:
        blob = (log["data"].hex() + "".join(t.hex() for t in log["topics"])).lower()
        if name in ("UsageLogged", "PaymentReleased", "UsageSignerAdded"):
            assert buyer not in blob, name
    # no use's exact time anywhere: not in a log, not in any transaction's input
    needle = private_time.to_bytes(32, "big").hex()
    for number in range(start_block, chain.w3.eth.block_number + 1):
        for tx in chain.w3.eth.get_block(number, full_transactions=True)["transactions"]:
            assert needle not in tx["input"].hex()
    for _, _, log in logs:
        assert needle not in log["data"].hex()
