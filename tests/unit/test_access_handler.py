"""The access function's handler: its environment, the proxy event it reads, the responses it
gives (the logic is tests/unit/test_access_logic.py; the real stores tests/integration)."""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from marketplace import resources
from marketplace.access import services as ax
from marketplace.licensing import credential as cred

from local.lambdas import LambdaContext, load_handler
from tests.support.access_world import CHAIN_ID, CONTENT, LICENSE, MANAGER, NOW, SEPARATOR, make_world

pytestmark = pytest.mark.unit

EVENT = json.loads((Path(__file__).parents[1] / "events" / "apigw_proxy.json").read_text())
load_handler("access")
module = vars(sys.modules["lambda_access_handler"])  # local.lambdas' name for the module
CONTEXT = LambdaContext("access")


class Recording(Mapping):
    """An environment that remembers which variables were read."""

    def __init__(self, values):
        self.values, self.read = values, set()

    def __getitem__(self, k):
        self.read.add(k)
        return self.values[k]

    def get(self, k, default=None):
        self.read.add(k)
        return self.values.get(k, default)

    def __iter__(self):
        return iter(self.values)

    def __len__(self):
        return len(self.values)


CHAIN_CONFIG = json.dumps({"chainId": CHAIN_ID, "rpcUrl": "http://x", "contracts": {"LicenseManager": MANAGER}})


def test_config_reads_exactly_the_declared_environment():
    declared = set(resources.env_names(resources.by_name(resources.FUNCTIONS, "access")))
    env = Recording({n: "x" for n in declared} | {"ACCESS_RATE_LIMIT": "7", "ACCESS_RATE_WINDOW_SECONDS": "30",
                                                   "ACCESS_URL_TTL_SECONDS": "600", "CHAIN_CONFIG": CHAIN_CONFIG})
    cfg = module["AccessConfig"].from_env(env)
    assert env.read == declared
    assert (cfg.settings.rate_limit, cfg.settings.rate_window_seconds, cfg.settings.url_ttl_seconds) == (7, 30, 600)
    assert cfg.settings.domain_separator == SEPARATOR


def test_config_defaults_and_refusals():
    tables = {n: "x" for n in ("API_KEYS_TABLE", "RATE_LIMITS_TABLE", "LICENSES_TABLE", "USAGE_TABLE",
                               "USAGE_SIGNERS_TABLE", "CONTENT_TABLE", "CONTENT_BUCKET", "USAGE_BATCHES_ARN")}
    tables["CHAIN_CONFIG"] = CHAIN_CONFIG
    assert module["AccessConfig"].from_env(tables).settings == ax.AccessSettings(domain_separator=SEPARATOR)
    with pytest.raises(RuntimeError, match="LicenseManager"):
        module["AccessConfig"].from_env({**tables, "CHAIN_CONFIG": '{"chainId": 1, "contracts": {}}'})
    with pytest.raises(RuntimeError, match="CONTENT_BUCKET"):
        module["AccessConfig"].from_env({k: v for k, v in tables.items() if k != "CONTENT_BUCKET"})
    with pytest.raises(RuntimeError):
        module["AccessConfig"].from_env({**tables, "ACCESS_RATE_LIMIT": "0"})


def _event(content=CONTENT, headers=None):
    e = copy.deepcopy(EVENT)
    e.update(resource="/content/{contentId}/access", path=f"/content/{content}/access", httpMethod="POST",
             pathParameters={"contentId": content}, headers=headers or {})
    e["requestContext"]["identity"]["sourceIp"] = "198.51.100.7"
    return e


@pytest.fixture
def world(monkeypatch):
    w = make_world(max_uses=2)
    settings = ax.AccessSettings(rate_limit=100, storage_backoff_seconds=0, domain_separator=SEPARATOR)
    monkeypatch.setitem(module, "_setup", lambda: (w.fakes.deps(), settings))
    monkeypatch.setattr(ax.time, "time", lambda: NOW)
    return w


def test_grant_reads_headers_case_insensitively_and_records_the_call(world):
    signed = {k.lower() if i % 2 else k.upper(): v for i, (k, v) in enumerate(world.signed().items())}
    resp = module["handler"](_event(headers={"authorization": f"Bearer {world.api_key}", **signed}), CONTEXT)
    assert resp["statusCode"] == 200 and resp["headers"]["Content-Type"] == "application/json"
    assert resp["headers"]["X-RateLimit-Remaining"] == "99"
    body = json.loads(resp["body"])
    assert body["licenseId"] == LICENSE and body["use"] == 1
    (event,) = world.fakes.events
    assert (event.endpoint, event.method, event.ip, event.request_id) == (
        f"/content/{CONTENT}/access", "POST", "198.51.100.7", EVENT["requestContext"]["requestId"])
    assert (event.access.signer, event.access.counter) == (world.worker.address, 1)


def test_an_unsigned_access_is_401_naming_the_missing_header(world):
    resp = module["handler"](_event(headers={"Authorization": f"Bearer {world.api_key}"}), CONTEXT)
    body = json.loads(resp["body"])
    assert resp["statusCode"] == 401 and body["details"] == {"header": "X-Usage-Signer",
                                                             "reason": "signature_missing"}
    assert world.fakes.events == []


def test_errors_answer_with_the_error_body_and_headers(world):
    resp = module["handler"](_event(headers={"Authorization": f"Bearer {cred.new_api_key().key}"}), CONTEXT)
    assert resp["statusCode"] == 401 and json.loads(resp["body"])["error"] == "UNAUTHORIZED"
    world.fakes.storage_failures = 10
    resp = module["handler"](_event(headers={"Authorization": f"Bearer {world.api_key}", **world.signed()}), CONTEXT)
    assert resp["statusCode"] == 503 and resp["headers"]["Retry-After"] == "60"
    assert json.loads(resp["body"])["retryAfter"] == 60
    resp = module["handler"](_event(content="nonsense"), CONTEXT)
    assert resp["statusCode"] == 404


def test_an_unexpected_failure_is_a_500_with_a_support_id(world, monkeypatch):
    def boom(*a, **k):
        raise KeyError("bug")

    monkeypatch.setattr(world.fakes, "get_key", boom)
    resp = module["handler"](_event(headers={"Authorization": f"Bearer {world.api_key}"}), CONTEXT)
    body = json.loads(resp["body"])
    assert resp["statusCode"] == 500 and body["supportId"].startswith("err_") and "bug" not in resp["body"]


# Powertools' Logger and Metrics are allowed (about 90 ms); its Tracer (the X-Ray SDK) is not
HEAVY = ('web3', 'eth_account', 'groth16py', 'wasmtime', 'py_ecc', 'pydantic', 'aws_xray_sdk')


def _loaded_in_fresh_interpreter(code: str) -> list[str]:
    """Run ``code`` in a new interpreter (only the shared layer and the repository on the path);
    the HEAVY modules it left loaded."""
    import subprocess
    import sys

    code += f"\nimport sys; print(sorted(m for m in {HEAVY!r} + ('boto3',) if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[2], capture_output=True,
                         text=True, check=True, env={"PYTHONPATH": "layers/shared/python:."})
    return json.loads(out.stdout.strip().splitlines()[-1].replace("'", '"'))


def test_the_module_imports_neither_web3_nor_the_prover_nor_pydantic():
    assert _loaded_in_fresh_interpreter("import sys; sys.path.insert(0, 'functions/access'); import handler") == []


def test_a_granted_access_imports_neither_web3_nor_the_prover_nor_pydantic():
    """Not only the import: the whole request (key hash, token, Poseidon, rate limit, claim, usage
    event, response) runs without loading them (stores faked, so boto3 is not counted here)."""
    code = f"""
import json, sys
sys.path.insert(0, 'functions/access')
import handler
from marketplace.access import services as ax
from tests.support.access_world import CONTENT, NOW, make_world
w = make_world()
ax.time.time = lambda: NOW
from tests.support.access_world import SEPARATOR
handler._setup = lambda: (w.fakes.deps(), ax.AccessSettings(storage_backoff_seconds=0, domain_separator=SEPARATOR))
event = json.loads({json.dumps(json.dumps(_event(headers={"Authorization": "Bearer KEY"})))})
event["headers"] = {{"Authorization": "Bearer " + w.api_key, **w.signed()}}
class Ctx:
    function_name, memory_limit_in_mb, aws_request_id = "access", 1024, "r-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:access"
resp = handler.handler(event, Ctx())
assert resp["statusCode"] == 200, resp
assert len(w.fakes.events) == 1
"""
    loaded = _loaded_in_fresh_interpreter(code)
    assert [m for m in loaded if m != "boto3"] == []
