"""Secrets Manager values through Powertools Parameters, cached per process for a few minutes
(a rotated value is picked up once the cached one is ``TTL_SECONDS`` old)."""

from __future__ import annotations

import functools

from marketplace.adapters.aws import client, error_code

TTL_SECONDS = 300


class SecretUnavailable(RuntimeError):
    """A secret the function needs has no value (e.g. an external secret never set)."""


@functools.cache
def _provider():  # Powertools' SecretsProvider, imported lazily
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=client("secretsmanager"))


def get_secret(secret_id: str) -> str:
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        return str(_provider().get(secret_id, max_age=TTL_SECONDS))
    except GetParameterError as exc:
        # Powertools wraps the ClientError (implicitly chained: __context__)
        if error_code(exc.__cause__ or exc.__context__ or exc) in ("ResourceNotFoundException", "InvalidRequestException"):
            raise SecretUnavailable(f"secret {secret_id} has no value") from exc
        raise


def secret_bytes(value: str) -> bytes:
    """Key bytes from a secret's text: hex as the stack generates it (``random-hex32``), else UTF-8."""
    text = value.strip()
    try:
        return bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        return text.encode()


def get_secret_bytes(secret_id: str) -> bytes:
    return secret_bytes(get_secret(secret_id))


def clear_cache() -> None:
    """Forget cached values and the client (after an environment change, in tests)."""
    if _provider.cache_info().currsize:
        _provider().clear_cache()
    _provider.cache_clear()
