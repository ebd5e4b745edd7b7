"""The access path's adapters: three DynamoDB calls on the low-level client (no resource layer,
no extra reads) and the content bucket (a one-attempt probe, presigned GET URLs).

The usage event is written by ``usage.adapters.DynamoUsageLog`` and the content's first use by
``content.adapters.DynamoContent``; the handler wires them. The claim's condition is built from
the license lifecycle (``licensing.models.USABLE``, through ``licensing.adapters.license_in``).

The access logic retries the probe itself (three times, then 503), so the S3 client neither
retries nor waits long: one attempt, 2 s to connect, 5 s to read. Presigning is local (no request).
"""

from __future__ import annotations

import functools
import os

from marketplace.access.models import (
    Claim,
    ClaimRefused,
    KeyRecord,
    LicenseSnapshot,
    ObjectMissing,
    StorageUnreachable,
)
from marketplace.adapters.aws import client, error_code
from marketplace.adapters.dynamodb import CONDITION_FAILED, WindowCounter, from_ddb
from marketplace.licensing.adapters import license_in
from marketplace.licensing.models import USABLE

# a use is claimed only while the license is in a state a use may start from, for its content
_CLAIMABLE = f"attribute_exists(licenseId) AND {license_in(USABLE)} AND contentId = :cid"


class AccessDynamoStore:
    """``KeyStore``, ``RateLimiter`` and ``LicenseUses``: one DynamoDB call each."""

    def __init__(self, *, apikeys: str, ratelimits: str, licenses: str) -> None:
        self.apikeys, self.ratelimits, self.licenses = apikeys, ratelimits, licenses

    @property
    def _ddb(self):
        return client("dynamodb")

    def get_key(self, key_hash: str) -> KeyRecord | None:
        item = self._ddb.get_item(TableName=self.apikeys, Key={"keyHash": {"S": key_hash}},
                                  ConsistentRead=True).get("Item")
        if not item:
            return None
        k = from_ddb(item)
        return KeyRecord(key_hash=k["keyHash"], license_id=k["licenseId"], content_id=k["contentId"],
                         commitment=int(k["commitment"]), valid_until=int(k["validUntil"]),
                         object_key=k["objectKey"], revoked_at=k.get("revokedAt"))

    def hit(self, bucket: str, limit: int, expires_at: int) -> int | None:
        return WindowCounter(self.ratelimits).hit(bucket, limit, expires_at)

    def claim_use(self, license_id: str, content_id: str, now: int) -> Claim:
        try:
            out = self._ddb.update_item(
                TableName=self.licenses, Key={"licenseId": {"S": license_id}},
                UpdateExpression="SET usesGranted = usesGranted + :one, lastUsedAt = :now, "
                                 "firstUsedAt = if_not_exists(firstUsedAt, :now)",
                ConditionExpression=_CLAIMABLE,
                ExpressionAttributeValues={":one": {"N": "1"}, ":now": {"N": str(now)}, ":cid": {"S": content_id}},
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as exc:
            if error_code(exc) not in CONDITION_FAILED:
                raise
            old = getattr(exc, "response", {}).get("Item")
            raise ClaimRefused(LicenseSnapshot.from_item(from_ddb(old)) if old else None) from None
        new = from_ddb(out["Attributes"])
        return Claim(seq=new["usesGranted"] - 1, uses=new["usesGranted"], max_uses=new["maxUses"],
                     valid_from=new["validFrom"], valid_until=new["validUntil"],
                     uses_proven=int(new.get("usesProven", 0)))


_MISSING = ("NoSuchKey", "404", "NotFound")
# a HEAD's error has no body, so its code is the HTTP status
_UNAVAILABLE = ("500", "502", "503", "504", "ServiceUnavailable", "SlowDown", "InternalError", "RequestTimeout",
                "Throttling")


@functools.cache
def _s3():
    import boto3
    from botocore.config import Config

    path_style = bool(os.environ.get("AWS_ENDPOINT_URL"))  # moto serves buckets by path
    config = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2, read_timeout=5,
                    s3={"addressing_style": "path"} if path_style else None, signature_version="s3v4")
    return boto3.session.Session().client("s3", config=config)


class ContentObjects:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def probe(self, object_key: str) -> None:
        try:
            _s3().head_object(Bucket=self.bucket, Key=object_key)
        except Exception as exc:
            from botocore.exceptions import ConnectionError as BotoConnectionError
            from botocore.exceptions import ReadTimeoutError

            code = error_code(exc)
            if code in _MISSING:
                raise ObjectMissing(object_key) from None
            if code in _UNAVAILABLE or isinstance(exc, (BotoConnectionError, ReadTimeoutError)):
                raise StorageUnreachable(str(exc)) from exc
            raise

    def presign_get(self, object_key: str, ttl_seconds: int) -> str:
        return _s3().generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": object_key},
                                            ExpiresIn=ttl_seconds)
