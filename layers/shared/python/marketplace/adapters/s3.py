"""S3: staging uploads, content objects (private, keyed by CID), presigned POSTs."""

from __future__ import annotations

from typing import Any, BinaryIO

from marketplace.adapters.aws import client, error_code
from marketplace.errors import StorageUnavailableError

_MISSING = ("NoSuchKey", "404", "NotFound")
# What S3 (or the network) answers when it is briefly unable to serve: the client may retry later.
_UNAVAILABLE = ("ServiceUnavailable", "SlowDown", "InternalError", "503", "500", "RequestTimeout")


def _unavailable(exc: Exception) -> bool:
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import ReadTimeoutError

    return error_code(exc) in _UNAVAILABLE or isinstance(exc, (BotoConnectionError, ReadTimeoutError))


class ObjectStore:
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

    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> None:
        """Server-side copy (managed: multipart above 5 GB)."""
        try:
            self._s3.copy({"Bucket": src_bucket, "Key": src_key}, dst_bucket, dst_key)
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
