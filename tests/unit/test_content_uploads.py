"""Multipart uploads, the API side (ContentService over the in-memory stores): the part plan, part
URLs, what a resuming client is told, completion (all parts, in order, the announced size) and the
registration that follows."""

from __future__ import annotations

import os

import pytest
from marketplace.config import ContentApiConfig
from marketplace.content.fakes import MemoryObjects, MemoryRegistrations
from marketplace.content.schemas import (
    CompleteUploadRequest,
    Metadata,
    MultipartUploadResponse,
    RegisterUploadRequest,
    RegistrationResult,
    UploadPartsRequest,
    UploadRequest,
    UploadResponse,
)
from marketplace.content.services import ContentService, part_plan, upload_key
from marketplace.errors import ConflictError, NotFoundError, PayloadTooLargeError

pytestmark = pytest.mark.unit

MiB, GiB = 1024 * 1024, 1024 * 1024 * 1024
CREATOR = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
OTHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


class DoneSaga:
    def __init__(self, regs):
        self.regs = regs

    def start(self, name, payload):
        self.regs.table.update({"registrationId": name}, lambda item: item.update(state="REGISTERED", result={
            "contentId": "0x" + "11" * 32, "ipfsCid": "Qm", "cidV1": "bafy", "contentHash": "0x" + "22" * 32,
            "txHash": "0x" + "33" * 32, "blockNumber": 1}))
        return f"arn:{name}"

    def status(self, arn):
        return "SUCCEEDED"


def service():
    env = {"CONTENT_TABLE": "content", "REGISTRATIONS_TABLE": "regs", "RATE_LIMITS_TABLE": "ratelimits",
           "UPLOADS_BUCKET": "uploads", "REGISTRATION_SAGA_ARN": "arn:sm", "PUBLIC_BASE_URL": "https://api.test"}
    regs, objects = MemoryRegistrations(), MemoryObjects()
    svc = ContentService(ContentApiConfig.from_env(env), registrations=regs, content=None, objects=objects,
                         saga=DoneSaga(regs))
    return svc, regs, objects


def test_part_plan_keeps_s3_limits_and_at_most_1000_parts():
    assert part_plan(200 * MiB, None) == (64 * MiB, 4)
    assert part_plan(1, None) == (64 * MiB, 1)
    assert part_plan(12 * MiB, 5 * MiB) == (5 * MiB, 3)
    size, count = part_plan(50 * GiB, None)
    assert count <= 1000 and size * count >= 50 * GiB and size % MiB == 0
    size, count = part_plan(50 * GiB, 5 * MiB)  # asked too small: raised to fit 1000 parts
    assert count <= 1000 and size * (count - 1) < 50 * GiB <= size * count


def test_small_files_get_one_post_unless_multipart_is_asked_and_big_ones_must_be_multipart():
    svc, _, _ = service()
    assert isinstance(svc.create_upload(CREATOR, UploadRequest(size=10, filename="a")), UploadResponse)
    answer = svc.create_upload(CREATOR, UploadRequest(size=10 * MiB + 1, filename="a", multipart=True,
                                                      partSize=5 * MiB))
    assert isinstance(answer, MultipartUploadResponse)
    assert (answer.partCount, [p.size for p in answer.parts]) == (3, [5 * MiB, 5 * MiB, 1])
    assert [p.partNumber for p in answer.parts] == [1, 2, 3] and "partNumber=3" in answer.parts[2].url
    huge = svc.create_upload(CREATOR, UploadRequest(size=6 * GiB, filename="big"))
    assert isinstance(huge, MultipartUploadResponse) and huge.partCount == 96
    with pytest.raises(PayloadTooLargeError):
        svc.create_upload(CREATOR, UploadRequest(size=6 * GiB, filename="big", multipart=False))
    with pytest.raises(PayloadTooLargeError):
        svc.create_upload(CREATOR, UploadRequest(size=51 * GiB, filename="big", multipart=True))


def test_upload_parts_complete_and_register():
    svc, regs, objects = service()
    data = os.urandom(12 * MiB)
    up = svc.create_upload(CREATOR, UploadRequest(size=len(data), filename="d.bin", multipart=True,
                                                  partSize=5 * MiB))
    upload_id, s3_id = up.uploadId, regs.get(up.uploadId)["multipartUploadId"]
    etag1 = objects.upload_part(s3_id, 1, data[:5 * MiB])
    # a client that lost its URLs: what S3 holds, fresh URLs for the rest
    view = svc.upload_parts(CREATOR, upload_id, UploadPartsRequest(partNumbers=[2, 3]))
    assert [(p.partNumber, p.etag) for p in view.uploaded] == [(1, etag1)]
    assert [p.partNumber for p in view.parts] == [2, 3]
    with pytest.raises(ConflictError):
        svc.upload_parts(CREATOR, upload_id, UploadPartsRequest(partNumbers=[4]))
    with pytest.raises(NotFoundError):
        svc.upload_parts(OTHER, upload_id, UploadPartsRequest())
    etags = [etag1, objects.upload_part(s3_id, 2, data[5 * MiB:10 * MiB]), objects.upload_part(s3_id, 3, data[10 * MiB:])]
    parts = [{"partNumber": n, "etag": e} for n, e in enumerate(etags, 1)]
    with pytest.raises(ConflictError):  # every part, in order
        svc.complete_upload(CREATOR, upload_id, CompleteUploadRequest(parts=parts[:2]))
    with pytest.raises(ConflictError):  # nothing uploaded yet as far as registration goes
        svc.register_upload(CREATOR, RegisterUploadRequest(uploadId=upload_id, metadata=Metadata(title="t")))
    done = svc.complete_upload(CREATOR, upload_id, CompleteUploadRequest(parts=parts))
    assert done.size == len(data) and objects.objects[("uploads", upload_key(upload_id))] == data
    again = svc.complete_upload(CREATOR, upload_id, CompleteUploadRequest(parts=parts))  # idempotent
    assert again.size == len(data)
    result = svc.register_upload(CREATOR, RegisterUploadRequest(uploadId=upload_id, metadata=Metadata(title="t")))
    assert isinstance(result, RegistrationResult)
    with pytest.raises(ConflictError):
        svc.complete_upload(CREATOR, upload_id, CompleteUploadRequest(parts=parts))


def test_a_single_post_upload_has_no_parts():
    svc, _, _ = service()
    up = svc.create_upload(CREATOR, UploadRequest(size=10, filename="a"))
    with pytest.raises(ConflictError):
        svc.upload_parts(CREATOR, up.uploadId, UploadPartsRequest())
