"""The registration saga's store step stores exactly the bytes it hashed: the staged upload can be
written again between the hash and the copy (its presigned POST or multipart upload is still
valid), so the step hashes one version of the uploads bucket's object and copies that version.
Over the in-memory fake and over S3 (moto's ``mock_aws``, buckets made as the local stack makes
them from ``resources.BUCKETS``)."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
from marketplace import resources
from marketplace.content import adapters, fakes
from marketplace.content.saga import RegistrationSteps
from marketplace.errors import InternalError

pytestmark = pytest.mark.contract

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CREATOR = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
KEY = "uploads/r1"
STATE = {"registrationId": "r1", "creator": CREATOR, "uploadKey": KEY, "metadata": {"title": "t"}}
MiB = 1024 * 1024


class Backend:
    def __init__(self, objects: Any, uploads: str, content: str, put_raw) -> None:
        self.objects, self.uploads, self.content, self.put = objects, uploads, content, put_raw


@pytest.fixture(params=["memory", "s3"])
def backend(request, monkeypatch):
    if request.param == "memory":
        objects = fakes.MemoryObjects()
        yield Backend(objects, "uploads", "content",
                      lambda bucket, key, data: objects.put(bucket, key, data))
        return
    from marketplace.adapters import aws
    from moto import mock_aws

    from local.aws import _create_bucket

    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws.client.cache_clear()
    with mock_aws():
        s3 = aws.client("s3")
        names = {b: _create_bucket(s3, "zkdm-test", resources.by_name(resources.BUCKETS, b))
                 for b in ("uploads", "content")}
        yield Backend(adapters.S3Objects(), names["uploads"], names["content"],
                      lambda bucket, key, data: s3.put_object(Bucket=bucket, Key=key, Body=data))
    aws.client.cache_clear()


class OverwritingContent(fakes.MemoryContent):
    """The content table, where the claim (between the hash and the copy) first lets the client's
    still-valid upload write other bytes to the staged key."""

    def __init__(self, overwrite) -> None:
        super().__init__()
        self.overwrite = overwrite

    def claim(self, item: dict[str, Any]) -> dict[str, Any] | None:
        if self.overwrite:
            self.overwrite()
            self.overwrite = None
        return super().claim(item)


def steps(backend: Backend, content: fakes.MemoryContent) -> tuple[RegistrationSteps, fakes.MemoryRegistrations]:
    regs = fakes.MemoryRegistrations()
    regs.table.put({"registrationId": "r1", "creator": CREATOR, "state": "PENDING"})
    return RegistrationSteps(
        registrations=regs, content=content, objects=backend.objects, content_bucket=backend.content,
        uploads_bucket=backend.uploads, chain_id=31337, registry=REGISTRY, chain=lambda: None,
        prove_authenticity=lambda **kw: None, identity_key=lambda: b"k" * 32), regs


def stored_bytes(backend: Backend, cid: str) -> bytes:
    stream = backend.objects.open(backend.content, cid)
    assert stream is not None
    return stream.read()


@pytest.mark.parametrize("size", [1024, 12 * MiB], ids=["small", "multipart-copy"])
def test_an_upload_overwritten_between_hash_and_copy_stores_the_hashed_bytes(backend, size):
    first, second = os.urandom(size), os.urandom(size)
    backend.put(backend.uploads, KEY, first)
    content = OverwritingContent(lambda: backend.put(backend.uploads, KEY, second))
    s, regs = steps(backend, content)
    out = s.run("store", STATE)
    assert out["contentHash"] == "0x" + hashlib.sha256(first).hexdigest()
    kept = stored_bytes(backend, out["ipfsCid"])
    assert hashlib.sha256(kept).hexdigest() == out["contentHash"][2:]  # never the overwritten bytes
    assert kept == first and regs.get("r1")["uploadVersion"]


def test_a_retried_store_step_reads_the_version_the_first_attempt_pinned(backend):
    first, second = b"first bytes", b"second bytes"
    backend.put(backend.uploads, KEY, first)
    s, _ = steps(backend, fakes.MemoryContent())
    out = s.run("store", STATE)
    backend.put(backend.uploads, KEY, second)  # written again after the first attempt
    again = s.run("store", STATE)  # e.g. Lambda retried the task after a timeout
    assert again == out and stored_bytes(backend, out["ipfsCid"]) == first


def test_an_unversioned_uploads_bucket_is_refused_before_anything_is_claimed(monkeypatch):
    from marketplace.adapters import aws
    from moto import mock_aws

    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws.client.cache_clear()
    with mock_aws():
        s3 = aws.client("s3")
        for b in ("plain-uploads", "plain-content"):
            s3.create_bucket(Bucket=b)
        s3.put_object(Bucket="plain-uploads", Key=KEY, Body=b"x")
        content = fakes.MemoryContent()
        s, _ = steps(Backend(adapters.S3Objects(), "plain-uploads", "plain-content", None), content)
        with pytest.raises(InternalError, match="not versioned"):
            s.run("store", STATE)
        assert dict(content.table) == {}
    aws.client.cache_clear()
