"""boto3 clients, one per service per process (the endpoint comes from ``AWS_ENDPOINT_URL`` when
set, which is how the local stack and the tests point every client at moto)."""

from __future__ import annotations

import functools
import os
from typing import Any


@functools.cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # an endpoint override (moto) serves buckets by path, not by host name
    path_style = service == "s3" and bool(os.environ.get("AWS_ENDPOINT_URL"))
    config = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=30,
                    s3={"addressing_style": "path"} if path_style else None)
    return boto3.session.Session().client(service, config=config)


def error_code(exc: Exception) -> str | None:
    """The AWS error code of a botocore ``ClientError`` (None for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None
