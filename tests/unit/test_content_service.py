"""ContentService (Flow 1, API side) over in-memory stores: validation before any write, the
polling of the saga (201 / recorded error / 202), and no staging object left by a refused request."""

from __future__ import annotations

import pytest
from marketplace import multipart
from marketplace.config import ContentApiConfig
from marketplace.content.fakes import MemoryObjects, MemoryRegistrations
from marketplace.content.schemas import (
    Metadata,
    RegisterUploadRequest,
    RegistrationAccepted,
    RegistrationResult,
    UploadRequest,
)
from marketplace.content.services import ContentService, upload_key
from marketplace.errors import (
    BlockchainError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    RecordedError,
    UnprocessableError,
    ValidationError,
    error_record,
)

pytestmark = pytest.mark.unit

CREATOR = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
OTHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def items(regs: MemoryRegistrations) -> dict[str, dict]:
    """The registrations as stored, by id (the live dicts: a test may change them)."""
    return dict(regs.table)


class Saga:
    """Plays a scripted list of statuses; ``outcome`` is applied to the registration when it ends."""

    def __init__(self, registrations, statuses, outcome=None):
        self.registrations, self.statuses, self.outcome = registrations, list(statuses), outcome
        self.started: list[tuple[str, dict]] = []

    def start(self, name, payload):
        self.started.append((name, payload))
        return f"arn:execution:{name}"

    def status(self, arn):
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if status != "RUNNING" and self.outcome:
            self.outcome(items(self.registrations)[arn.rsplit(":", 1)[1]])
        return status


class Clock:
    def __init__(self):
        self.t = 0.0

    def sleep(self, s):
        self.t += s

    def monotonic(self):
        return self.t


def cfg(**overrides) -> ContentApiConfig:
    env = {"CONTENT_TABLE": "content", "REGISTRATIONS_TABLE": "regs", "RATE_LIMITS_TABLE": "ratelimits",
           "UPLOADS_BUCKET": "uploads", "REGISTRATION_SAGA_ARN": "arn:sm", "PUBLIC_BASE_URL": "https://api.test",
           "MAX_INLINE_UPLOAD_BYTES": "1000", "REGISTRATION_WAIT_SECONDS": "5", **overrides}
    return ContentApiConfig.from_env(env)


def service(statuses=("SUCCEEDED",), outcome=None, **overrides):
    regs, objects, clock = MemoryRegistrations(), MemoryObjects(), Clock()
    saga = Saga(regs, statuses, outcome)
    svc = ContentService(cfg(**overrides), registrations=regs, content=None, objects=objects, saga=saga,
                         sleep=clock.sleep, monotonic=clock.monotonic)
    return svc, regs, objects, saga, clock


RESULT = {"contentId": "0x" + "11" * 32, "ipfsCid": "Qm" + "x" * 44, "cidV1": "bafy", "contentHash": "0x" + "22" * 32,
          "txHash": "0x" + "33" * 32, "blockNumber": 7}


def registered(item):
    item.update(state="REGISTERED", result=RESULT)


def form(file: bytes | None = b"content", metadata: bytes | None = b'{"title": "Sunset"}'):
    fields = {}
    if metadata is not None:
        fields["metadata"] = (None, metadata, None)
    if file is not None:
        fields["file"] = ("a.bin", file, "application/octet-stream")
    return multipart.encode(fields, "BOUNDARY")


def test_multipart_registration_answers_201_with_the_result():
    svc, _, objects, saga, _ = service(("RUNNING", "RUNNING", "SUCCEEDED"), registered)
    answer = svc.register_multipart(CREATOR, *form())
    assert isinstance(answer, RegistrationResult)
    assert answer.contentId == RESULT["contentId"]
    assert answer.verificationUrl == f"https://api.test/content/{RESULT['contentId']}"
    (rid, payload), = saga.started
    assert payload == {"registrationId": rid, "creator": CREATOR, "uploadKey": upload_key(rid),
                       "metadata": {"title": "Sunset", "description": "", "tags": []}}
    assert objects.objects[("uploads", upload_key(rid))] == b"content"  # the saga deletes it, not the API


def test_a_failed_saga_answers_its_recorded_error():
    error = BlockchainError("Transaction failed: reverted", {"txHash": "0x1"})

    def failed(item):
        item.update(state="FAILED", error=error_record(error))

    svc, *_ = service(("FAILED",), failed)
    with pytest.raises(RecordedError) as err:
        svc.register_multipart(CREATOR, *form())
    assert err.value.status == 503
    rid = next(iter(items(svc.registrations)))
    assert err.value.body() == {**error.body(), "details": {"txHash": "0x1", "registrationId": rid}}


def test_a_saga_that_ended_without_an_outcome_is_recorded_as_failed():
    svc, regs, *_ = service(("ABORTED",))
    with pytest.raises(Exception) as err:
        svc.register_multipart(CREATOR, *form())
    assert err.value.status == 500 and err.value.body()["supportId"]
    (item,) = items(regs).values()
    assert item["state"] == "FAILED" and item["error"]["body"]["details"]["executionStatus"] == "ABORTED"


def test_a_slow_saga_answers_202_with_location_after_the_wait():
    svc, regs, _, _, clock = service(("RUNNING",))
    answer = svc.register_multipart(CREATOR, *form())
    rid = next(iter(items(regs)))
    assert isinstance(answer, RegistrationAccepted)
    assert (answer.state, answer.location) == ("PENDING", f"/content/registrations/{rid}")
    assert clock.t == pytest.approx(5.0)  # waited exactly the configured time


@pytest.mark.parametrize("file, metadata, error, field", [
    (b"x", None, ValidationError, "metadata"),
    (b"x", b"{oops", ValidationError, "metadata"),
    (b"x", b'{"description": "no title"}', UnprocessableError, "metadata.title"),
    (None, b'{"title": "t"}', ValidationError, "file"),
    (b"", b'{"title": "t"}', ValidationError, "file"),
])
def test_bad_input_is_refused_before_anything_is_stored(file, metadata, error, field):
    svc, regs, objects, saga, _ = service()
    with pytest.raises(error) as err:
        svc.register_multipart(CREATOR, *form(file, metadata))
    assert err.value.details["field"] == field
    assert not objects.objects and not items(regs) and not saga.started


def test_a_file_over_the_inline_limit_is_413_pointing_to_uploads():
    svc, regs, objects, _, _ = service()
    with pytest.raises(PayloadTooLargeError) as err:
        svc.register_multipart(CREATOR, *form(b"x" * 1001))
    assert err.value.status == 413 and err.value.details["uploadPath"] == "/content/uploads"
    assert "/content/uploads" in err.value.message
    with pytest.raises(PayloadTooLargeError):  # a huge body is refused before parsing
        svc.register_multipart(CREATOR, b"x" * 200_000, "multipart/form-data; boundary=BOUNDARY")
    assert not objects.objects and not items(regs)


def test_a_saga_that_cannot_start_leaves_no_staging_object():
    svc, regs, objects, saga, _ = service()

    def refuse(name, payload):
        raise ConflictError("already started")

    saga.start = refuse
    with pytest.raises(ConflictError):
        svc.register_multipart(CREATOR, *form())
    assert not objects.objects
    assert next(iter(items(regs).values()))["state"] == "FAILED"


def test_upload_flow_registers_once_for_its_creator_only():
    svc, regs, objects, saga, _ = service(("SUCCEEDED",), registered)
    upload = svc.create_upload(CREATOR, UploadRequest(size=4, filename="big.bin"))
    assert upload.fields["key"] == upload_key(upload.uploadId)
    req = RegisterUploadRequest(uploadId=upload.uploadId, metadata=Metadata(title="t"))
    with pytest.raises(ConflictError, match="nothing uploaded"):
        svc.register_upload(CREATOR, req)
    objects.put("uploads", upload_key(upload.uploadId), b"abc")  # 3 bytes, 4 announced
    with pytest.raises(ConflictError, match="announced"):
        svc.register_upload(CREATOR, req)
    objects.put("uploads", upload_key(upload.uploadId), b"abcd")
    with pytest.raises(NotFoundError):
        svc.register_upload(OTHER, req)
    assert isinstance(svc.register_upload(CREATOR, req), RegistrationResult)
    assert "ttl" not in items(regs)[upload.uploadId]
    with pytest.raises(ConflictError):
        svc.register_upload(CREATOR, req)
    assert len(saga.started) == 1


def test_uploads_above_the_maximum_are_413():
    svc, *_ = service(MAX_UPLOAD_BYTES="100")
    with pytest.raises(PayloadTooLargeError):
        svc.create_upload(CREATOR, UploadRequest(size=101, filename="big.bin"))


def test_registration_status_is_visible_to_its_creator_only():
    svc, regs, *_ = service(("SUCCEEDED",), registered)
    svc.register_multipart(CREATOR, *form())
    rid = next(iter(items(regs)))
    status = svc.registration_status(CREATOR, rid)
    assert status.state == "REGISTERED" and status.result.txHash == RESULT["txHash"]
    with pytest.raises(NotFoundError):
        svc.registration_status(OTHER, rid)
