"""The content bucket as the access path uses it: a one-attempt probe and presigned GET URLs.

The access logic retries the probe itself (three times, then 503), so this client neither retries
nor waits long: one attempt, 2 s to connect, 5 s to read. Presigning is local (no request).
"""

from __future__ import annotations

import functools
import os

from marketplace.adapters.aws import error_code
from marketplace.logic.access import ObjectMissing, StorageUnreachable

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
