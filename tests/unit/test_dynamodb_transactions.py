"""A cancelled DynamoDB transaction is read by its cancellation reasons, not by its error code.

``TransactionCanceledException`` carries one reason per item: ``ConditionalCheckFailed`` is the
caller's answer; ``TransactionConflict`` (DynamoDB raises it under contention and expects a retry)
and throttling are not. The client is stubbed (botocore's Stubber) with the exact reasons DynamoDB
sends; before this, every cancellation was a failed condition: a conflict on the access path's
event + counter transaction became a 409 (the worker's counter refused though nothing moved it), and
in ``adapters.dynamodb.transact`` a false "already applied" (the payments consumer then skipped the
effect and wrote its marker).
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from marketplace.access import services as ax
from marketplace.adapters import transactions
from marketplace.adapters.dynamodb import transact
from marketplace.errors import ContentionError
from marketplace.usage.adapters import DynamoUsageSigners
from marketplace.usage.models import SignedAccess, UsageEvent
from marketplace.usage.ports import SignerRefused, UsageContended

from tests.support.access_world import CONTENT, NOW, SEPARATOR, make_world

pytestmark = pytest.mark.unit

OP = {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}}, "ConditionExpression": "attribute_not_exists(pk)"}}
SETTINGS = ax.AccessSettings(rate_limit=5, rate_window_seconds=60, storage_backoff_seconds=0,
                             domain_separator=SEPARATOR)


@pytest.fixture
def ddb(monkeypatch):
    """A stubbed DynamoDB client behind ``adapters.transactions`` (no network), no backoff sleeps."""
    client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    monkeypatch.setattr(transactions, "client", lambda service: client)
    monkeypatch.setattr("marketplace.usage.adapters.client", lambda service: client)
    monkeypatch.setattr(transactions.time, "sleep", lambda s: None)
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def cancelled(stub: Stubber, *codes: str) -> None:
    stub.add_client_error(
        "transact_write_items", service_error_code="TransactionCanceledException", http_status_code=400,
        service_message=f"Transaction cancelled, please refer cancellation reasons for specific reasons [{', '.join(codes)}]",
        modeled_fields={"CancellationReasons": [{"Code": c, **({"Message": c} if c != "None" else {})}
                                                for c in codes]})



class TestTransact:
    def test_a_transaction_conflict_is_retried_not_a_failed_condition(self, ddb):
        cancelled(ddb, "None", "TransactionConflict")
        ddb.add_response("transact_write_items", {})
        assert transact(OP, OP) is True  # written on the second attempt

    def test_throttling_is_retried(self, ddb):
        cancelled(ddb, "ThrottlingError", "None")
        cancelled(ddb, "ProvisionedThroughputExceeded", "None")
        ddb.add_response("transact_write_items", {})
        assert transact(OP, OP) is True

    def test_throttled_past_botocores_retries_is_sent_again(self, ddb):
        ddb.add_client_error("transact_write_items", service_error_code="ThrottlingException", http_status_code=400)
        ddb.add_response("transact_write_items", {})
        assert transact(OP, OP) is True

    def test_a_failed_condition_is_false_and_not_retried(self, ddb):
        cancelled(ddb, "ConditionalCheckFailed", "None")
        assert transact(OP, OP) is False

    def test_a_failed_condition_with_a_conflict_elsewhere_is_false(self, ddb):
        cancelled(ddb, "ConditionalCheckFailed", "TransactionConflict")
        assert transact(OP, OP) is False

    def test_contention_through_every_retry_raises(self, ddb):
        for _ in range(transactions.ATTEMPTS):
            cancelled(ddb, "TransactionConflict", "None")
        with pytest.raises(transactions.TransactionContended) as raised:
            transact(OP, OP)
        assert raised.value.reasons == ["TransactionConflict", "None"]

    def test_a_validation_error_is_raised_as_it_is(self, ddb):
        cancelled(ddb, "ValidationError", "None")
        with pytest.raises(Exception) as raised:
            transact(OP, OP)
        assert transactions.cancellation_reasons(raised.value) == ["ValidationError", "None"]
        assert not transactions.condition_failed(raised.value)


def signed_event(seq: int = 7) -> UsageEvent:
    return UsageEvent(license_id="0x" + "ab" * 32, seq=seq, timestamp=NOW, content_id=CONTENT, endpoint="/e",
                      method="POST", ip="203.0.113.1", request_id="r", call_hash=1,
                      access=SignedAccess(signer="0x" + "11" * 20, counter=3, request_hash="0x" + "22" * 32,
                                          signature="0x" + "33" * 65))


class TestSignedUse:
    def test_a_conflict_on_the_signers_item_is_retried_and_the_use_recorded(self, ddb):
        # Given DynamoDB cancels the event + counter transaction once for a conflict on the signer's item
        cancelled(ddb, "None", "TransactionConflict")
        ddb.add_response("transact_write_items", {})
        # When the access path records the signed use, Then it is written (no SignerRefused, no read)
        DynamoUsageSigners("signers", "usage").record_signed_use(signed_event())

    def test_each_attempt_carries_an_idempotency_token(self, ddb):
        seen: list[str] = []
        ddb.client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems",
                                        lambda params, **kw: seen.append(params["ClientRequestToken"]))
        cancelled(ddb, "None", "TransactionConflict")
        ddb.add_response("transact_write_items", {})
        DynamoUsageSigners("signers", "usage").record_signed_use(signed_event())
        assert len(seen) == 2 and len(set(seen)) == 2 and all(len(t) <= 36 for t in seen)

    def test_contention_through_every_retry_is_usage_contended(self, ddb):
        for _ in range(transactions.ATTEMPTS):
            cancelled(ddb, "None", "TransactionConflict")
        with pytest.raises(UsageContended):
            DynamoUsageSigners("signers", "usage").record_signed_use(signed_event())

    def test_a_moved_counter_is_still_signer_refused(self, ddb):
        cancelled(ddb, "None", "ConditionalCheckFailed")
        ddb.add_response("get_item", {})  # the signer as it is now (unknown here)
        with pytest.raises(SignerRefused):
            DynamoUsageSigners("signers", "usage").record_signed_use(signed_event())


def test_the_access_path_answers_a_contended_use_503_try_again_with_its_counter_unspent():
    w = make_world()
    fakes = w.fakes

    def contended(event):
        raise UsageContended(f"{event.license_id}#{event.seq}")

    fakes.record_signed_use = contended
    req = ax.AccessRequest(content_id=CONTENT, authorization=f"Bearer {w.api_key}", endpoint=f"/content/{CONTENT}/access",
                           method="POST", ip="203.0.113.42", request_id="req-1", **w.fields(w.signed()))
    with pytest.raises(ContentionError) as raised:
        ax.access(req, fakes.deps(), SETTINGS, now=NOW, sleep=lambda s: None)
    err = raised.value
    assert err.status == 503 and err.body()["error"] == "TRY_AGAIN" and err.headers["Retry-After"] == "1"
    assert err.body()["details"]["expectedCounter"] == 1  # the same counter may be sent again
