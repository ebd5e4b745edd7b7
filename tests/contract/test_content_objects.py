"""Contract of the content context's ``ObjectStore``: multipart uploads, over the in-memory fake and
over S3 (moto's in-process ``mock_aws``), so the fake keeps S3's rules (part sizes, ETags, order)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

import pytest
from marketplace.content import adapters, fakes
from marketplace.errors import ConflictError

pytestmark = pytest.mark.contract

BUCKET = "uploads"
KEY = "uploads/abc"
MiB = 1024 * 1024


@dataclass
class Store:
    kind: str
    objects: Any

    def put_part(self, upload_id: str, number: int, data: bytes) -> str:
        """What the client's PUT to a part URL does (the URL itself is tested end to end)."""
        if self.kind == "memory":
            return self.objects.upload_part(upload_id, number, data)
        from marketplace.adapters.aws import client

        return client("s3").upload_part(Bucket=BUCKET, Key=KEY, UploadId=upload_id, PartNumber=number,
                                        Body=data)["ETag"]


@pytest.fixture(params=["memory", "s3"])
def store(request, monkeypatch):
    if request.param == "memory":
        yield Store("memory", fakes.MemoryObjects())
        return
    from marketplace.adapters import aws
    from moto import mock_aws

    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws.client.cache_clear()
    with mock_aws():
        aws.client("s3").create_bucket(Bucket=BUCKET)
        yield Store("s3", adapters.S3Objects())
    aws.client.cache_clear()


def md5_etag(data: bytes) -> str:
    return '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'


def test_parts_in_any_order_assemble_into_the_object(store):
    objects = store.objects
    upload = objects.create_multipart(BUCKET, KEY, {"creator": "0xc"})
    url = objects.presigned_part(BUCKET, KEY, upload, 2, 900)
    assert "partNumber=2" in url and "uploadId=" in url
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), b"tail"]
    etags = {n: store.put_part(upload, n, parts[n - 1]) for n in (3, 1, 2)}
    assert etags == {n: md5_etag(parts[n - 1]) for n in (1, 2, 3)}  # the ETag is the part's MD5
    held = objects.list_parts(BUCKET, KEY, upload)
    assert [(p["partNumber"], p["size"], p["etag"]) for p in held] == [
        (n, len(parts[n - 1]), md5_etag(parts[n - 1])) for n in (1, 2, 3)]
    etag = objects.complete_multipart(BUCKET, KEY, upload, [(n, etags[n]) for n in (1, 2, 3)])
    assert etag.strip('"').endswith("-3")
    assert objects.size(BUCKET, KEY) == sum(map(len, parts))
    assert objects.open(BUCKET, KEY).read() == b"".join(parts)
    assert objects.list_parts(BUCKET, KEY, upload) is None  # completed: no such upload any more


def test_a_part_uploaded_again_replaces_the_first(store):
    objects = store.objects
    upload = objects.create_multipart(BUCKET, KEY)
    store.put_part(upload, 1, b"first try")
    second = store.put_part(upload, 1, b"second")
    assert [(p["size"], p["etag"]) for p in objects.list_parts(BUCKET, KEY, upload)] == [(6, second)]


def test_completion_refuses_missing_changed_and_small_parts(store):
    objects = store.objects
    upload = objects.create_multipart(BUCKET, KEY)
    big = os.urandom(5 * MiB)
    e1 = store.put_part(upload, 1, big)
    e2 = store.put_part(upload, 2, b"tail")
    with pytest.raises(ConflictError) as missing:
        objects.complete_multipart(BUCKET, KEY, upload, [(1, e1), (2, e2), (3, e2)])
    assert missing.value.details["reason"] == "InvalidPart"
    with pytest.raises(ConflictError) as changed:
        objects.complete_multipart(BUCKET, KEY, upload, [(1, md5_etag(b"other")), (2, e2)])
    assert changed.value.details["reason"] == "InvalidPart"
    small = store.put_part(upload, 1, b"x" * 1024)
    with pytest.raises(ConflictError) as too_small:
        objects.complete_multipart(BUCKET, KEY, upload, [(1, small), (2, e2)])
    assert too_small.value.details["reason"] == "EntityTooSmall"
    assert objects.size(BUCKET, KEY) is None  # nothing assembled
    assert len(objects.list_parts(BUCKET, KEY, upload)) == 2  # the upload goes on


def test_abort_drops_the_upload(store):
    objects = store.objects
    upload = objects.create_multipart(BUCKET, KEY)
    store.put_part(upload, 1, b"data")
    objects.abort_multipart(BUCKET, KEY, upload)
    assert objects.list_parts(BUCKET, KEY, upload) is None
    assert objects.list_parts(BUCKET, KEY, "no-such-upload") is None
