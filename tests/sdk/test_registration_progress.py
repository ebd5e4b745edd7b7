"""The CLI's progress bar follows the registration's store stage: bytes hashed of the upload's size
while the saga hashes it range by range, bytes copied while it stores it (the server's
``progress``, ``GET /content/registrations/{id}``), against the generated models."""

from __future__ import annotations

import pytest
from zkdm import models as m
from zkdm.commands.content import stage_progress

pytestmark = pytest.mark.sdk


def status(stage: str | None, progress: dict | None, state: str = "PENDING") -> m.RegistrationStatus:
    return m.RegistrationStatus.model_validate({
        "registrationId": "r1", "state": state, "stage": stage, "createdAt": "2026-01-01T00:00:00Z",
        **({"progress": progress} if progress is not None else {})})


def test_hashing_shows_bytes_hashed_of_the_total():
    label, done, total = stage_progress(status("hash", {"bytesHashed": 3 << 30, "totalBytes": 50 << 30,
                                                        "hashInvocations": 2}))
    assert (done, total) == (3 << 30, 50 << 30) and "hashing" in label


def test_copying_shows_bytes_copied():
    label, done, total = stage_progress(status("copy", {"bytesHashed": 10, "totalBytes": 10, "bytesCopied": 4}))
    assert (done, total) == (4, 10) and label == "storing"


def test_other_stages_and_no_progress_have_no_byte_count():
    assert stage_progress(status("prove", {"bytesHashed": 10, "totalBytes": 10})) == ("proving authenticity", None, None)
    assert stage_progress(status("hash", None)) == ("hashing (SHA-256 + CID)", None, None)
    assert stage_progress(status(None, None, state="REGISTERED"))[0] == "registered"


def test_the_status_model_carries_the_progress_fields():
    parsed = status("hash", {"bytesHashed": 1, "totalBytes": 2, "hashInvocations": 1, "bytesCopied": None})
    assert parsed.progress is not None and parsed.progress.bytesHashed == 1
    with pytest.raises(ValueError):
        status("hash", {"bytesHashed": -1, "totalBytes": 2})
