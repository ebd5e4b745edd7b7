"""The content context's AWS and prover adapters.

Tables (items are plain dicts; ``adapters.dynamodb.Table`` turns DynamoDB's types back):

- registrations ``registrationId``: ``state`` (``RegistrationState``), ``stage`` reached, what each
  step produced (hash, CIDs, content id, tx), ``lastError``/``error`` records, ``ttl`` while
  AWAITING_UPLOAD.
- content ``contentId``: ``state`` (``ContentState``); CREATED is a registration's claim on a
  content hash (``registrationId``), REGISTERED and later carry the public metadata.

Every state a condition tests comes from the lifecycles in ``content.models``
(``Lifecycle.sources`` through ``state_in``), never from a literal here.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from marketplace.adapters.aws import client, error_code
from marketplace.adapters.dynamodb import CONDITION_FAILED, Table, from_ddb, to_ddb, transact
from marketplace.content.models import (
    CONTENT_LIFECYCLE,
    LISTED,
    LISTING,
    REGISTRATION_LIFECYCLE,
    ContentState,
    RegistrationState,
)
from marketplace.errors import ConflictError, NotFoundError, StorageUnavailableError
from marketplace.shared.lifecycle import state_in

_STATE = {"#st": "state"}


def _moving(lifecycle, target, **extra_values) -> dict[str, Any]:
    """Condition kwargs for a move to ``target``: the state is one of its sources."""
    condition, values = state_in(lifecycle.sources(target))
    extra = " AND ".join(f"{name} = :{name}" for name in extra_values)
    return {"condition": f"{condition} AND {extra}" if extra else condition,
            "values": {**values, **{f":{k}": v for k, v in extra_values.items()}}, "names": dict(_STATE)}


def _in_state(state, **extra_values) -> dict[str, Any]:
    condition, values = state_in((state,))
    extra = " AND ".join(f"{name} = :{name}" for name in extra_values)
    return {"condition": f"{condition} AND {extra}" if extra else condition,
            "values": {**values, **{f":{k}": v for k, v in extra_values.items()}}, "names": dict(_STATE)}


class DynamoRegistrations:
    def __init__(self, registrations: str, content: str) -> None:
        self.table = Table(registrations)
        self.content = Table(content)

    @staticmethod
    def _key(registration_id: str) -> dict[str, str]:
        return {"registrationId": registration_id}

    def create(self, item: dict[str, Any]) -> bool:
        REGISTRATION_LIFECYCLE.transition(None, item["state"], registrationId=item["registrationId"])
        return self.table.put({**item, "state": str(item["state"])}, condition="attribute_not_exists(registrationId)")

    def get(self, registration_id: str) -> dict[str, Any] | None:
        return self.table.get(self._key(registration_id))

    def start_uploaded(self, registration_id: str, creator: str, changes: dict[str, Any]) -> bool:
        return self.table.update(self._key(registration_id), {**changes, "state": str(RegistrationState.PENDING)},
                                 remove=("ttl",), **_moving(REGISTRATION_LIFECYCLE, RegistrationState.PENDING,
                                                            creator=creator))

    def update(self, registration_id: str, changes: dict[str, Any]) -> None:
        self.table.update(self._key(registration_id), changes, **_in_state(RegistrationState.PENDING))

    def fail(self, registration_id: str, error: dict[str, Any], now: str) -> bool:
        return self.table.update(self._key(registration_id),
                                 {"state": str(RegistrationState.FAILED), "error": error, "updatedAt": now},
                                 **_moving(REGISTRATION_LIFECYCLE, RegistrationState.FAILED))

    def complete(self, registration_id: str, result: dict[str, Any], now: str, content_id: str,
                 content_fields: dict[str, Any]) -> bool:
        return transact(
            self.content.tx_update({"contentId": content_id}, {**content_fields, "state": str(ContentState.REGISTERED)},
                                   **_moving(CONTENT_LIFECYCLE, ContentState.REGISTERED,
                                             registrationId=registration_id)),
            self.table.tx_update(self._key(registration_id),
                                 {"state": str(RegistrationState.REGISTERED), "result": result, "updatedAt": now},
                                 **_moving(REGISTRATION_LIFECYCLE, RegistrationState.REGISTERED)),
        )


class DynamoContent:
    def __init__(self, table: str) -> None:
        self.table = Table(table)

    def get(self, content_id: str) -> dict[str, Any] | None:
        return self.table.get({"contentId": content_id})

    def claim(self, item: dict[str, Any]) -> dict[str, Any] | None:
        claim = {**item, "state": str(CONTENT_LIFECYCLE.transition(None, ContentState.CREATED))}
        if self.table.put(claim, condition="attribute_not_exists(contentId)"):
            return None
        existing = self.get(item["contentId"])
        if existing is None:  # deleted between the two calls: try once more
            return None if self.table.put(claim, condition="attribute_not_exists(contentId)") else self.get(
                item["contentId"])
        return existing

    def release(self, content_id: str, registration_id: str) -> bool:
        return bool(self.table.delete({"contentId": content_id},
                                      **_in_state(ContentState.CREATED, registrationId=registration_id)))

    def mark_licensed(self, content_id: str) -> None:
        self._move(content_id, ContentState.LICENSED)

    def activate_content(self, content_id: str) -> None:
        self._move(content_id, ContentState.ACTIVE)

    def _move(self, content_id: str, target: ContentState) -> bool:
        """Move to ``target`` if the item is in one of its sources (a no-op otherwise)."""
        return self.table.update({"contentId": content_id}, {"state": str(target)},
                                 **_moving(CONTENT_LIFECYCLE, target))

    def record_terms(self, content_id: str, price_per_use: int, token: dict[str, Any]) -> None:
        client("dynamodb").update_item(
            TableName=self.table.name, Key=to_ddb({"contentId": content_id}),
            UpdateExpression="ADD termsCount :one SET termsToken = :token, minPricePerUse = "
                             "if_not_exists(minPricePerUse, :price)",
            ConditionExpression="attribute_exists(contentId)",
            ExpressionAttributeValues=to_ddb({":one": 1, ":token": token, ":price": price_per_use}))
        # a lower price replaces the minimum (a failed condition: it is not lower)
        self.table.update({"contentId": content_id}, {"minPricePerUse": price_per_use},
                          condition="minPricePerUse > :price", values={":price": price_per_use})
        self.mark_licensed(content_id)

    def archive(self, content_id: str, changes: dict[str, Any]) -> bool:
        return self.table.update({"contentId": content_id}, {**changes, "state": str(ContentState.ARCHIVED)},
                                 remove=(LISTING,), **_moving(CONTENT_LIFECYCLE, ContentState.ARCHIVED))

    def listed(self, creator: str | None, after: tuple[str, str] | None,
               limit: int) -> tuple[list[dict[str, Any]], bool]:
        index, key, value = ("byCreator", "creator", creator) if creator else ("byListing", LISTING, LISTED)
        kwargs: dict[str, Any] = {}
        if after is not None:
            kwargs["ExclusiveStartKey"] = to_ddb({key: value, "createdAt": after[0], "contentId": after[1]})
        out = client("dynamodb").query(
            TableName=self.table.name, IndexName=index, KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": key}, ExpressionAttributeValues=to_ddb({":v": value}),
            ScanIndexForward=False, Limit=limit, **kwargs)
        return [from_ddb(i) for i in out.get("Items", [])], bool(out.get("LastEvaluatedKey"))


# --------------------------------------------------------------------------------------------
# S3: staging uploads, content objects (private, keyed by CID), presigned POSTs
# --------------------------------------------------------------------------------------------

_MISSING = ("NoSuchKey", "404", "NotFound")
# What S3 (or the network) answers when it is briefly unable to serve: the client may retry later.
_UNAVAILABLE = ("ServiceUnavailable", "SlowDown", "InternalError", "503", "500", "RequestTimeout")


def _unavailable(exc: Exception) -> bool:
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import ReadTimeoutError

    return error_code(exc) in _UNAVAILABLE or isinstance(exc, (BotoConnectionError, ReadTimeoutError))


class S3Objects:
    @property
    def _s3(self):
        return client("s3")

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._s3, method)(**kwargs)
        except Exception as exc:
            if _unavailable(exc):
                raise StorageUnavailableError() from exc
            raise

    def put(self, bucket: str, key: str, data: bytes, metadata: dict[str, str] | None = None) -> None:
        self._call("put_object", Bucket=bucket, Key=key, Body=data, Metadata=metadata or {})

    def open(self, bucket: str, key: str) -> BinaryIO | None:
        """A streaming body (read it in pieces), or None if there is no such object."""
        try:
            return self._call("get_object", Bucket=bucket, Key=key)["Body"]
        except Exception as exc:
            if error_code(exc) in _MISSING:
                return None
            raise

    def size(self, bucket: str, key: str) -> int | None:
        try:
            return int(self._call("head_object", Bucket=bucket, Key=key)["ContentLength"])
        except Exception as exc:
            if error_code(exc) in _MISSING:
                return None
            raise

    def open_version(self, bucket: str, key: str, version: str | None = None) -> tuple[BinaryIO, str | None] | None:
        """One version's streaming body and its id: every byte read comes from that version, even
        if the key is overwritten while it is read."""
        extra = {"VersionId": version} if version else {}
        try:
            out = self._call("get_object", Bucket=bucket, Key=key, **extra)
        except Exception as exc:
            if error_code(exc) in _MISSING + ("NoSuchVersion",):
                return None
            raise
        return out["Body"], out.get("VersionId")

    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str,
             version: str | None = None) -> None:
        """Server-side copy (managed: multipart above 5 GB; every part copied from ``version``)."""
        source = {"Bucket": src_bucket, "Key": src_key} | ({"VersionId": version} if version else {})
        try:
            self._s3.copy(source, dst_bucket, dst_key)
        except Exception as exc:
            if _unavailable(exc):
                raise StorageUnavailableError() from exc
            raise

    def delete(self, bucket: str, key: str) -> None:
        """Delete (deleting a missing key is not an error)."""
        self._call("delete_object", Bucket=bucket, Key=key)

    def presigned_post(self, bucket: str, key: str, size: int, expires_in: int) -> dict[str, Any]:
        """A browser-usable POST form for exactly ``size`` bytes under ``key``: ``{url, fields}``."""
        return self._s3.generate_presigned_post(
            Bucket=bucket, Key=key, Conditions=[["content-length-range", size, size]], ExpiresIn=expires_in)

    # -- multipart uploads ------------------------------------------------------------------------

    def create_multipart(self, bucket: str, key: str, metadata: dict[str, str] | None = None) -> str:
        return self._call("create_multipart_upload", Bucket=bucket, Key=key, Metadata=metadata or {})["UploadId"]

    def presigned_part(self, bucket: str, key: str, upload_id: str, part_number: int, expires_in: int) -> str:
        return self._s3.generate_presigned_url(
            "upload_part", Params={"Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": part_number},
            ExpiresIn=expires_in)

    def list_parts(self, bucket: str, key: str, upload_id: str) -> list[dict[str, Any]] | None:
        parts: list[dict[str, Any]] = []
        marker = 0
        while True:
            try:
                page = self._call("list_parts", Bucket=bucket, Key=key, UploadId=upload_id,
                                  PartNumberMarker=marker, MaxParts=1000)
            except Exception as exc:
                if error_code(exc) == "NoSuchUpload":
                    return None
                raise
            parts += [{"partNumber": int(p["PartNumber"]), "size": int(p["Size"]), "etag": p["ETag"]}
                      for p in page.get("Parts", [])]
            if not page.get("IsTruncated"):
                return parts
            marker = int(page["NextPartNumberMarker"])

    def complete_multipart(self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]) -> str:
        try:
            out = self._call("complete_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id,
                             MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]})
        except Exception as exc:
            code = error_code(exc)
            if code == "NoSuchUpload":
                raise NotFoundError("no such multipart upload (completed or aborted)") from exc
            if code in _BAD_PARTS:
                raise ConflictError(_BAD_PARTS[code], {"field": "parts", "reason": code}) from exc
            raise
        return out["ETag"]

    def abort_multipart(self, bucket: str, key: str, upload_id: str) -> None:
        try:
            self._call("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id)
        except Exception as exc:
            if error_code(exc) != "NoSuchUpload":
                raise


# What S3 answers a completion whose parts do not assemble, and what the client should do
_BAD_PARTS = {
    "InvalidPart": "a part is missing or its ETag differs: upload it again (POST .../parts lists what S3 holds)",
    "InvalidPartOrder": "parts must be listed in ascending part number order",
    "EntityTooSmall": "every part but the last must be at least 5 MiB",
}


# --------------------------------------------------------------------------------------------
# Step Functions: start a saga execution by name, read its status
# --------------------------------------------------------------------------------------------


class StepFunctionsSaga:
    def __init__(self, state_machine_arn: str) -> None:
        self.arn = state_machine_arn

    def start(self, name: str, payload: dict[str, Any]) -> str:
        import json

        try:
            out = client("stepfunctions").start_execution(stateMachineArn=self.arn, name=name,
                                                          input=json.dumps(payload))
        except Exception as exc:
            if error_code(exc) == "ExecutionAlreadyExists":
                raise ConflictError("this registration has already started", {"registrationId": name}) from exc
            raise
        return out["executionArn"]

    def status(self, execution: str) -> str:
        return client("stepfunctions").describe_execution(executionArn=execution)["status"]


# --------------------------------------------------------------------------------------------
# The authenticity prover: ``marketplace.zk`` (Groth16 through groth16py) behind one call
# --------------------------------------------------------------------------------------------


class ProvedAuthenticity:
    """An authenticity proof as ContentRegistry takes it."""

    def __init__(self, public_signals: list[int], proof: list[int]) -> None:
        # [creatorCommitment, timestampCommitment, hashHi, hashLo, notBefore, notAfter, domain]
        self.public_signals = public_signals
        self.proof = proof  # [a0, a1, b00, b01, b10, b11, c0, c1]

    @property
    def creator_commitment(self) -> int:
        return self.public_signals[0]

    @property
    def timestamp_commitment(self) -> int:
        return self.public_signals[1]


def prove_authenticity(*, creator_secret: int, content_hash: bytes, timestamp: int, salt: int,
                       domain: int) -> ProvedAuthenticity:
    """``marketplace.zk`` loads its keys on first use and is imported here, inside the call."""
    from marketplace import zk
    from marketplace.zk.inputs import authenticity_inputs

    result = zk.prove("authenticity", authenticity_inputs(creator_secret, content_hash, timestamp, salt, domain))
    return ProvedAuthenticity([int(s) for s in result.public_signals], [int(x) for x in result.proof.calldata()])


__all__ = ["CONDITION_FAILED", "DynamoContent", "DynamoRegistrations", "ProvedAuthenticity", "S3Objects",
           "StepFunctionsSaga", "prove_authenticity"]
