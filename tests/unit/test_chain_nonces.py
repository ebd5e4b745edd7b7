"""The relayer's nonce lease in DynamoDB: one holder at a time, takeover after expiry, and a
stale holder cannot overwrite the next nonce."""

from __future__ import annotations

import boto3
import pytest
from marketplace.chain.nonces import LeaseUnavailable, NonceLease
from moto import mock_aws

pytestmark = pytest.mark.unit

KEY = NonceLease.key(31337, "0xAbC0000000000000000000000000000000000001")


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def ddb(monkeypatch):
    for k, v in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                 ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="nonces", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
        yield client


def test_one_holder_at_a_time_and_the_next_nonce_is_stored_on_release(ddb):
    clock = Clock()
    a, b = (NonceLease("nonces", ddb, lease_seconds=10, wait_seconds=0, clock=clock) for _ in range(2))
    held = a.acquire(KEY)
    assert held.stored_next == 0 and not held.taken_over
    assert b.try_acquire(KEY) is None  # taken
    with pytest.raises(LeaseUnavailable):
        b.acquire(KEY)
    assert a.release(held, 8)
    again = b.acquire(KEY)
    assert again.stored_next == 8 and not again.taken_over
    assert b.release(again, None)  # nothing broadcast: next stays
    assert a.stored_next(KEY) == 8


def test_an_expired_lease_is_taken_over_and_its_stale_holder_writes_nothing(ddb):
    clock = Clock()
    crashed = NonceLease("nonces", ddb, lease_seconds=10, wait_seconds=0, clock=clock)
    first = crashed.acquire(KEY)
    crashed.release(first, 5)
    stale = crashed.acquire(KEY)  # this holder stalls past its lease
    other = NonceLease("nonces", ddb, lease_seconds=10, wait_seconds=0, clock=clock)
    clock.t += 9.9
    assert other.try_acquire(KEY) is None  # not yet expired
    clock.t += 0.2
    taken = other.acquire(KEY)
    assert taken.taken_over and taken.stored_next == 5
    assert crashed.release(stale, 99) is False  # the stale holder's write is refused
    assert other.release(taken, 6)
    assert other.stored_next(KEY) == 6
