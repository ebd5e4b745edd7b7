"""In AWS the proving files live in S3 (too big for a layer): marketplace.zk fetches them once."""

import json

import boto3
import pytest
from marketplace.zk import prover
from moto import mock_aws

pytestmark = pytest.mark.unit


@pytest.fixture
def layer_dir(tmp_path, monkeypatch):
    """A ZK_KEYS_DIR like the artifacts layer's: manifest and verifying key only."""
    folder = tmp_path / "layer" / "demo"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"public_signals": ["x"]}))
    monkeypatch.setenv("ZK_KEYS_DIR", str(tmp_path / "layer"))
    monkeypatch.setenv("ZK_KEYS_CACHE_DIR", str(tmp_path / "tmp"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    prover._circuits.clear()
    yield folder
    prover._circuits.clear()


@mock_aws
def test_missing_proving_file_is_fetched_from_s3_once(layer_dir, tmp_path, monkeypatch):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="assets")
    s3.put_object(Bucket="assets", Key="abc123.zkey", Body=b"zkey-bytes")
    monkeypatch.setenv("ZK_KEYS_S3", json.dumps({"bucket": "assets", "objects": {"demo": {"demo.zkey": "abc123.zkey"}}}))

    path = prover.load_circuit("demo").path(".zkey")

    assert path == tmp_path / "tmp" / "zk" / "demo" / "demo.zkey"
    assert path.read_bytes() == b"zkey-bytes"
    s3.delete_object(Bucket="assets", Key="abc123.zkey")  # a second call must not download again
    assert prover.load_circuit("demo").path(".zkey").read_bytes() == b"zkey-bytes"


def test_local_files_win_and_unlisted_files_are_not_fetched(layer_dir, monkeypatch):
    (layer_dir / "demo.wasm").write_bytes(b"\0asm")
    monkeypatch.setenv("ZK_KEYS_S3", json.dumps({"bucket": "assets", "objects": {"demo": {}}}))
    circuit = prover.load_circuit("demo")
    assert circuit.path(".wasm") == layer_dir / "demo.wasm"
    assert circuit.path(".zkey") == layer_dir / "demo.zkey"  # not listed: the local path (absent)
    assert not circuit.path(".zkey").exists()
