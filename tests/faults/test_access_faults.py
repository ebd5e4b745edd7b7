"""Faults on the access path (Flow 3), against the moto server and the real access handler:
DynamoDB throttling, a transaction conflict on the use's event + counter write, S3 answering 5xx.

Whatever happens, a use is counted once or not at all: the usage records equal the 200s, the
worker's counter moves only with a recorded use (a refused request's counter is sent again and
served), and no fault is answered as the client's error (no 4xx) or as a crash (no 500).
"""

from __future__ import annotations

import pytest
from marketplace.adapters.aws import client

from tests.support import license_support as support
from tests.support.aws_faults import inject, s3_unavailable, throttled, transaction_conflict

content, people, _fresh_license_singletons = support.content, support.people, support._fresh_license_singletons
pytestmark = pytest.mark.slow


@pytest.fixture
def bought(people, content):
    content_id, _ = content
    terms = people.create_terms(content_id, price=1_000, max_uses=50)
    reply = people.buy_with_permit(terms["termsId"])
    assert reply.status == 201, reply.body
    return {**reply.body, "contentId": content_id}


def access(people, bought, worker: int = 0):
    return people.access(bought["contentId"], bought["apiKey"], bought["licenseId"], worker=worker)


def counts(stack, license_id: str) -> tuple[int, int, list[int]]:
    """(usesGranted, usage records, their seqs) as the stores hold them."""
    from marketplace.adapters.dynamodb import from_ddb

    lic = stack.item("LICENSES_TABLE", {"licenseId": license_id})
    out = stack.client("dynamodb").query(TableName=stack.env["USAGE_TABLE"], KeyConditionExpression="licenseId = :l",
                                         ExpressionAttributeValues={":l": {"S": license_id}}, ConsistentRead=True)
    seqs = sorted(from_ddb(i)["seq"] for i in out["Items"])
    return int(lic["usesGranted"]), len(seqs), seqs


def test_transient_throttling_is_absorbed_and_counts_each_use_once(stack, people, bought):
    assert access(people, bought).status == 200  # the worker registered, the handler warm
    # Given DynamoDB throttles the next calls of the use's claim and of its event + counter write
    ddb = client("dynamodb")
    with inject(ddb, "dynamodb.UpdateItem", [throttled(), throttled()]) as claim, \
            inject(ddb, "dynamodb.TransactWriteItems", [throttled()]) as write:
        # When the worker accesses twice
        replies = [access(people, bought), access(people, bought)]
    # Then both are served (botocore's retries absorb the throttling) and counted once each
    assert [r.status for r in replies] == [200, 200], [r.body for r in replies]
    assert claim.answered == 2 and write.answered == 1
    assert counts(stack, bought["licenseId"]) == (3, 3, [0, 1, 2])


def test_a_transaction_conflict_on_the_use_is_retried_not_refused(stack, people, bought):
    assert access(people, bought).status == 200
    # Given DynamoDB cancels the event + counter write for a conflict on the signer's item (another
    # request's write in progress), as it does under contention
    with inject(client("dynamodb"), "dynamodb.TransactWriteItems",
                [transaction_conflict("None", "TransactionConflict")]) as write:
        reply = access(people, bought)
    # Then the use is written on the retry: 200, one record, the counter advanced by one
    assert reply.status == 200, reply.body
    assert write.calls == 2
    assert counts(stack, bought["licenseId"]) == (2, 2, [0, 1])
    signers = people.api.call("GET", f"/license/{bought['licenseId']}/signers", token=people.jwt("buyer1"))
    assert signers.body["signers"][0]["lastCounter"] == 2


def test_sustained_contention_is_503_try_again_and_the_same_counter_is_served_next(stack, people, bought):
    assert access(people, bought).status == 200
    worker = people.worker(bought["licenseId"], 0)
    served = worker.served
    # Given every attempt of the use's write is cancelled for a conflict
    answers = [transaction_conflict("None", "TransactionConflict") for _ in range(4)]
    with inject(client("dynamodb"), "dynamodb.TransactWriteItems", answers) as write:
        reply = access(people, bought)
    assert write.calls == 4  # the first attempt and three retries
    # Then the client is told to try again, not refused: 503 TRY_AGAIN with Retry-After, nothing recorded
    assert reply.status == 503 and reply.body["error"] == "TRY_AGAIN", reply.body
    assert reply.headers["Retry-After"] == "1" and reply.body["details"]["expectedCounter"] == served + 1
    assert worker.served == served
    granted, records, _ = counts(stack, bought["licenseId"])
    assert (granted, records) == (2, 1)  # the claim's seq 1 is a gap the batch prover skips; no record
    # and the same counter is served on the next request
    again = access(people, bought)
    assert again.status == 200, again.body
    assert counts(stack, bought["licenseId"]) == (3, 2, [0, 2])


def test_s3_5xx_is_503_and_consumes_no_use(stack, people, bought):
    from marketplace.access import adapters as access_adapters

    assert access(people, bought).status == 200
    # Given the content bucket answers every HEAD with 503 (the probe's attempt and its retries)
    with inject(access_adapters._s3(), "s3.HeadObject", [s3_unavailable()] * 10) as probe:
        reply = access(people, bought)
    # Then the spec's IPFS_UNAVAILABLE with retryAfter, and no use claimed or recorded
    assert reply.status == 503 and reply.body["error"] == "IPFS_UNAVAILABLE", reply.body
    assert probe.answered == probe.calls >= 4 and reply.headers["Retry-After"] == str(reply.body["retryAfter"])
    assert counts(stack, bought["licenseId"]) == (1, 1, [0])
    # and once S3 answers, the same counter is served
    assert access(people, bought).status == 200
    assert counts(stack, bought["licenseId"]) == (2, 2, [0, 1])
