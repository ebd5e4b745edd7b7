"""Secrets through Powertools Parameters: read, cached for TTL_SECONDS, missing → SecretUnavailable."""

from __future__ import annotations

import boto3
import pytest
from marketplace.adapters import aws, secrets
from moto import mock_aws

pytestmark = pytest.mark.unit


@pytest.fixture
def secretsmanager(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.client.cache_clear()
        secrets.clear_cache()
        yield boto3.client("secretsmanager")
    aws.client.cache_clear()
    secrets.clear_cache()


def test_value_is_read_and_cached_until_cleared(secretsmanager):
    secretsmanager.create_secret(Name="jwt", SecretString="ab" * 32)
    assert secrets.get_secret_bytes("jwt") == bytes.fromhex("ab" * 32)
    secretsmanager.put_secret_value(SecretId="jwt", SecretString="cd" * 32)
    assert secrets.get_secret("jwt") == "ab" * 32  # cached (rotation seen after TTL_SECONDS)
    secrets.clear_cache()
    assert secrets.get_secret("jwt") == "cd" * 32


def test_missing_or_empty_secret_is_unavailable(secretsmanager):
    secretsmanager.create_secret(Name="external")  # declared, never set
    for name in ("external", "never-declared"):
        with pytest.raises(secrets.SecretUnavailable):
            secrets.get_secret(name)
