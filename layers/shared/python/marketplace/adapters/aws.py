"""boto3 clients, one per service per process (the endpoint comes from ``AWS_ENDPOINT_URL`` when
set, which is how the local stack and the tests point every client at moto)."""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any, Literal, overload

if TYPE_CHECKING:  # boto3-stubs (a dev dependency): the clients' types, for the type checker only
    from botocore.client import BaseClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_stepfunctions import SFNClient

# The services the functions use
ServiceName = Literal["dynamodb", "kms", "lambda", "s3", "secretsmanager", "ses", "sqs", "stepfunctions"]
# A synchronous Lambda invoke (the relayer: it waits for a receipt) is not retried by the client
# (it is not idempotent) and may take up to the invoked function's timeout.
INVOKE_READ_TIMEOUT = 90


@overload
def client(service: Literal["dynamodb"]) -> DynamoDBClient: ...
@overload
def client(service: Literal["kms"]) -> KMSClient: ...
@overload
def client(service: Literal["lambda"]) -> Any: ...  # no boto3-stubs[lambda] in the dev group
@overload
def client(service: Literal["s3"]) -> S3Client: ...
@overload
def client(service: Literal["secretsmanager"]) -> SecretsManagerClient: ...
@overload
def client(service: Literal["ses"]) -> Any: ...  # no boto3-stubs[ses] in the dev group
@overload
def client(service: Literal["sqs"]) -> SQSClient: ...
@overload
def client(service: Literal["stepfunctions"]) -> SFNClient: ...
@functools.cache  # one client per service per process; tests call client.cache_clear()
def client(service: ServiceName) -> BaseClient:
    import boto3
    from botocore.config import Config

    # an endpoint override (moto) serves buckets by path, not by host name
    path_style = service == "s3" and bool(os.environ.get("AWS_ENDPOINT_URL"))
    invoke = service == "lambda"
    config = Config(retries={"mode": "standard", "max_attempts": 1 if invoke else 4}, connect_timeout=5,
                    read_timeout=INVOKE_READ_TIMEOUT if invoke else 30,
                    s3={"addressing_style": "path"} if path_style else None)
    made: BaseClient = boto3.session.Session().client(service, config=config)
    return made


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ``ClientError`` (None for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return code if isinstance(code, str) else None
    return None
