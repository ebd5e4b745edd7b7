"""The registration saga's store stage in pieces, executed by moto from the ASL: with tiny settings
(``HASH_RANGE_BYTES`` 1 MiB, ``COPY_MULTIPART_BYTES``/``COPY_PART_BYTES`` 5 MiB) a 12 MiB upload
goes through the Hash task + Choice loop once per range (each a ranged GET of the pinned
version, checkpointed in the journal) and the Copy loop's UploadPartCopy parts; the status route
shows the bytes hashed of the total while it runs; the result equals hashlib's SHA-256 and Debian
``ipfs_cid``'s CIDs, and the content bucket holds exactly the bytes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time

import pytest
import requests

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MiB = 1 << 20
IPFS_CID = shutil.which("ipfs_cid")


@pytest.mark.skipif(IPFS_CID is None, reason="ipfs_cid not installed (make install-system)")
def test_an_upload_hashes_and_copies_in_checkpointed_invocations(api, stack, creator_token, set_env, tmp_path):
    set_env(REGISTRATION_WAIT_SECONDS="0", HASH_RANGE_BYTES=str(MiB), COPY_MULTIPART_BYTES=str(5 * MiB),
            COPY_PART_BYTES=str(5 * MiB))
    data = os.urandom(12 * MiB + 777)
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    reference = json.loads(subprocess.run([IPFS_CID, str(path)], capture_output=True, text=True, check=True).stdout)
    upload = api.call("POST", "/content/uploads", token=creator_token, body={"size": len(data), "filename": "u.bin"})
    assert upload.status == 201, upload.body
    posted = requests.post(upload.body["url"], data=upload.body["fields"], files={"file": ("u.bin", data)}, timeout=60)
    assert posted.status_code in (200, 201, 204), posted.text
    reply = api.call("POST", "/content/register", token=creator_token,
                     body={"uploadId": upload.body["uploadId"], "metadata": {"title": "ranges", "tags": []}})
    assert reply.status == 202, reply.body
    rid = reply.body["registrationId"]

    progress_seen = []
    deadline = time.monotonic() + 300
    while True:
        status = api.call("GET", reply.headers["Location"], token=creator_token)
        assert status.status == 200
        if status.body.get("progress"):
            progress_seen.append(status.body["progress"])
        if status.body["state"] != "PENDING" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status.body["state"] == "REGISTERED", status.body
    result = status.body["result"]
    assert result["contentHash"] == "0x" + hashlib.sha256(data).hexdigest()
    assert (result["ipfsCid"], result["cidV1"]) == (reference["CIDv0"], reference["CIDv1"])
    s3 = stack.client("s3")
    assert s3.get_object(Bucket=stack.env["CONTENT_BUCKET"], Key=result["ipfsCid"])["Body"].read() == data
    # the progress the status route showed only grew, in whole bytes of the announced total
    assert all(p["totalBytes"] == len(data) for p in progress_seen)
    hashed = [p["bytesHashed"] for p in progress_seen]
    assert hashed == sorted(hashed)

    # the execution: one Hash task per 1 MiB range, then the Copy loop (3 parts of 5 MiB)
    sfn = stack.client("stepfunctions")
    arn = stack.env["REGISTRATION_SAGA_ARN"].replace(":stateMachine:", ":execution:") + ":" + rid
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    assert entered.count("Hash") == 13 and entered.count("Hashed?") == 13
    assert entered.count("Claim") == 1 and entered.count("Copy") >= 1 and entered.index("Copy") > entered.index("Claim")
    item = stack.item("REGISTRATIONS_TABLE", {"registrationId": rid})
    assert item["progress"]["hashInvocations"] == 13 and item["progress"]["bytesCopied"] == len(data)
    assert item["copyUpload"]["parts"] == 3
