"""The local stack's moto answers a conditional counter's new value atomically, as DynamoDB does.

Flow 3 takes a use's sequence number from ``UpdateItem usesGranted + 1`` with ``ReturnValues``:
two concurrent updates must answer two different counts. moto 5.2.5 serialised the update itself
(``local.processes._serialize_moto_dynamodb``) but built the answer from the live item after the
lock was released, so a concurrent update could change it in between: two accesses got the same
sequence number and the second failed with a 500 (about 1 in 500 accesses at 8 clients).
"""

from __future__ import annotations

import sys
import threading
import uuid

import pytest

from local.processes import MotoServer

pytestmark = pytest.mark.slow

THREADS, EACH = 16, 40


@pytest.fixture
def moto_ddb():
    import boto3

    server = MotoServer()
    server.start()
    try:
        ddb = boto3.client("dynamodb", endpoint_url=server.url, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test")
        table = f"counters-{uuid.uuid4().hex[:8]}"  # moto's state outlives one server in this process
        ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        ddb.put_item(TableName=table, Item={"pk": {"S": "license"}, "uses": {"N": "0"}})
        ddb.table = table  # type: ignore[attr-defined]
        yield ddb
    finally:
        server.stop()


def test_concurrent_counter_updates_answer_distinct_counts(moto_ddb):
    # Given 16 clients incrementing one counter, with the interpreter switching threads often
    answers: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        mine = []
        for _ in range(EACH):
            out = moto_ddb.update_item(
                TableName=moto_ddb.table, Key={"pk": {"S": "license"}},
                UpdateExpression="SET uses = uses + :one", ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="ALL_NEW")
            mine.append(int(out["Attributes"]["uses"]["N"]))
        with lock:
            answers.extend(mine)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        threads = [threading.Thread(target=client) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        sys.setswitchinterval(interval)
    # Then every update answered its own count: 1..N, each once (a use's sequence number is unique)
    duplicates = sorted({n for n in answers if answers.count(n) > 1})
    assert duplicates == [] and sorted(answers) == list(range(1, THREADS * EACH + 1))


def test_a_transaction_is_all_or_nothing_and_copies_no_table(moto_ddb, monkeypatch):
    """The local stack's transactions check every condition first, then write without moto's
    whole-table copies (which made each access's event + counter write cost a copy of the usage
    table); a failed condition writes nothing and names its item, as DynamoDB's reasons do."""
    from moto.dynamodb.models.table import Table

    def no_table_copies(self, memo):
        raise AssertionError("a whole table was deep-copied")

    monkeypatch.setattr(Table, "__deepcopy__", no_table_copies, raising=False)
    put = {"Put": {"TableName": moto_ddb.table, "Item": {"pk": {"S": "event#1"}},
                   "ConditionExpression": "attribute_not_exists(pk)"}}
    bump = {"Update": {"TableName": moto_ddb.table, "Key": {"pk": {"S": "license"}}, "UpdateExpression": "SET uses = :n",
                       "ConditionExpression": "uses = :prev",
                       "ExpressionAttributeValues": {":n": {"N": "1"}, ":prev": {"N": "0"}}}}
    moto_ddb.transact_write_items(TransactItems=[put, bump])
    assert moto_ddb.get_item(TableName=moto_ddb.table, Key={"pk": {"S": "license"}})["Item"]["uses"] == {"N": "1"}
    # the same again: the event exists and the counter moved: both conditions fail, nothing written
    again = {"Put": {**put["Put"], "Item": {"pk": {"S": "event#1"}, "x": {"S": "second"}}}}
    with pytest.raises(moto_ddb.exceptions.TransactionCanceledException) as refused:
        moto_ddb.transact_write_items(TransactItems=[again, bump])
    assert [r["Code"] for r in refused.value.response["CancellationReasons"]] == ["ConditionalCheckFailed"] * 2
    assert "x" not in moto_ddb.get_item(TableName=moto_ddb.table, Key={"pk": {"S": "event#1"}})["Item"]
    # one condition failing: the other item is not written either
    other = {"Put": {"TableName": moto_ddb.table, "Item": {"pk": {"S": "event#2"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}}
    with pytest.raises(moto_ddb.exceptions.TransactionCanceledException) as refused:
        moto_ddb.transact_write_items(TransactItems=[other, bump])
    assert [r["Code"] for r in refused.value.response["CancellationReasons"]] == ["None", "ConditionalCheckFailed"]
    assert "Item" not in moto_ddb.get_item(TableName=moto_ddb.table, Key={"pk": {"S": "event#2"}})
