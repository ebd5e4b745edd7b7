"""What an observer of the chain learns (contracts/SECURITY.md, "Privacy: exactly what the chain
shows"; the same statement in README.md and circuits/README.md): join every log of the four
contracts after a purchase, worker registrations and two batches with real proofs and buyer
signatures, and check the joined view holds exactly the fields SECURITY.md lists, that every window
is at least the minimum wide, and that no use's private time appears in any log or transaction
input. Then, with two buyers: the join gives each buyer address its uses (LicensePurchased links
buyer and license, UsageLogged license and counts), and a recorded compliance or aggregate proof
(ProofRecorded) publishes only figures the earlier logs and terms already give."""

from __future__ import annotations

import pytest
from marketplace.zk.folds import aggregate_call_args, compliance_call_args
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
    "ProofRecorded": {"proofId", "kind", "subject", "publicSignals"},
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
    args, _record = market.batch_args(lic, 3, window=window,
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


def test_the_join_gives_each_buyer_its_uses_and_recorded_proofs_only_known_totals(chain, market, world):
    start_block = chain.w3.eth.block_number + 1
    first = market.purchase(chain.buyer, world.terms_id)
    second = market.purchase(chain.other, world.terms_id)
    for lic, count in ((first, 2), (second, 4), (first, 1)):
        chain.advance(2 * HOUR)
        market.log_batch(lic, count)
    compliance = market.compliance_proof(first)
    chain.send(market.tracker.functions.recordComplianceProof(first.license_id, *compliance_call_args(compliance)),
               chain.other)
    aggregate = market.aggregate_proof(world.content_id, {lic.license_id: lic for lic in (first, second)})
    chain.send(market.tracker.functions.recordAggregateProof(world.content_id, *aggregate_call_args(aggregate)),
               chain.creator)

    logs = joined_logs(chain, market, start_block)
    for name, fields, _ in logs:
        assert set(fields) == VISIBLE[name], name
    # LicensePurchased: license -> buyer address; UsageLogged: license -> counts and windows
    buyer_of = {f["licenseId"]: f["licensee"] for n, f, _ in logs if n == "LicensePurchased"}
    batches = [f for n, f, _ in logs if n == "UsageLogged"]
    uses_by_buyer: dict[str, int] = {}
    for b in batches:
        uses_by_buyer[buyer_of[b["licenseId"]]] = uses_by_buyer.get(buyer_of[b["licenseId"]], 0) + b["count"]
    assert uses_by_buyer == {chain.buyer: 3, chain.other: 4}  # an observer knows each buyer's uses
    minimum = market.tracker.functions.minWindow().call()
    assert all(b["windowEnd"] - b["windowStart"] >= minimum for b in batches)

    # ProofRecorded: every published figure but chunksHash (a hash of the chunks' salted signals)
    # follows from the batches' logs and the license's terms: the proofs add assurance, not data
    recorded = {f["kind"]: f for n, f, _ in logs if n == "ProofRecorded"}
    assert set(recorded) == {1, 2}  # ProofKind COMPLIANCE, AGGREGATE
    onchain = market.manager.functions.getLicense(first.license_id).call()
    price = onchain[9]
    mine = [b for b in batches if b["licenseId"] == first.license_id]
    domain = market.tracker.functions.domain().call()
    c = list(recorded[1]["publicSignals"])  # compliance: [uses, paid, compliant, chain, terms..., domain, hash]
    assert recorded[1]["subject"] == first.license_id
    assert c[:3] == [3, 3 * price, 1] and c[3] == mine[-1]["chainNew"] and c[8] == domain
    assert c[4:8] == [onchain[8], price, onchain[2], onchain[3]]  # maxUses, price, validFrom, validUntil
    a = list(recorded[2]["publicSignals"])  # aggregate: [uses, revenue, licensees, from, to, domain, hash]
    assert recorded[2]["subject"] == world.content_id
    assert a[:6] == [sum(b["count"] for b in batches), sum(b["count"] for b in batches) * price,
                     len({b["licenseId"] for b in batches}), min(b["windowStart"] for b in batches),
                     max(b["windowEnd"] for b in batches), domain]
