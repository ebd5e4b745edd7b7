"""The integration tier: a moto server in this process with every resource of resources.py, a
Hardhat node with the contracts deployed, and the real handlers called with API Gateway proxy
events. moto runs the registration saga's ASL itself; its Lambda tasks are routed to the real
registration worker in this process (local.lambdas). Needs `make build` (contracts, circuits).
"""

from __future__ import annotations

import base64
import json
import os
import sys
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from marketplace import config, resources

from local.lambdas import (
    LambdaContext,
    LocalFunction,
    create_moto_functions,
    install_lambda_router,
    load_handler,
)
from local.processes import ROOT, HardhatNode, MotoServer, hardhat_accounts
from tests.events import api_event, authorizer_event

PREFIX = "zkdm-it"
ROLES = ("deployer", "platform", "creator1", "creator2", "buyer1")


def _need_build() -> None:
    missing = [p for p in ("build/contracts/ContentRegistry.json", "build/circuits/authenticity/manifest.json")
               if not (ROOT / p).is_file()]
    if missing:
        pytest.fail(f"run `make build` first (missing {', '.join(missing)})")


def clear_caches() -> None:
    """Forget cached clients, secrets, configs and every handler's and route module's cached service
    (after an env change: a service cached under another stack's table names would keep using them)."""
    import functools

    from marketplace.adapters import aws, secrets
    from marketplace.chain.gateway import clear_gateways

    aws.client.cache_clear()
    secrets.clear_cache()
    clear_gateways()
    config.load.cache_clear()
    for name in ("content_api", "registration_worker", "openapi", "relayer"):
        load_handler(name)
    for module_name, module in list(sys.modules.items()):
        if not (module_name.startswith(("marketplace.", "lambda_")) and module is not None):
            continue
        if module_name.startswith(("marketplace.zk", "marketplace.kit.observability")):
            continue  # proving keys (slow to load again) and the telemetry handlers hold: not per stack
        for value in list(vars(module).values()):
            if isinstance(value, functools._lru_cache_wrapper) and getattr(value, "__module__", None) == module_name:
                value.cache_clear()


@dataclass
class Stack:
    env: dict[str, str]
    deployment: dict[str, Any]
    accounts: dict[str, tuple[str, str]]  # role -> (address, private key)
    moto_url: str
    rpc_url: str
    relayer: str  # the KMS relayer key's address

    def client(self, service: str):
        import boto3

        return boto3.client(service, endpoint_url=self.moto_url, region_name="us-east-1")

    def w3(self):
        from web3 import Web3

        return Web3(Web3.HTTPProvider(self.rpc_url))

    def contract(self, name: str):
        abi = json.loads((ROOT / "build" / "contracts" / f"{name}.json").read_text())["abi"]
        return self.w3().eth.contract(address=self.deployment["contracts"][name], abi=abi)

    def send_as(self, role: str, call) -> dict:
        """Send a contract call from a Hardhat account (e.g. the deployer pausing the registry)."""
        w3 = self.w3()
        address, key = self.accounts[role]
        tx = call.build_transaction({"from": address, "nonce": w3.eth.get_transaction_count(address, "pending")})
        tx_hash = w3.eth.send_raw_transaction(Account.from_key(key).sign_transaction(tx).raw_transaction)
        return w3.eth.wait_for_transaction_receipt(tx_hash)

    def keys(self, bucket_env: str) -> list[str]:
        out = self.client("s3").list_objects_v2(Bucket=self.env[bucket_env])
        return [o["Key"] for o in out.get("Contents", [])]

    def item(self, table_env: str, key: dict[str, str]) -> dict | None:
        from marketplace.adapters.dynamodb import from_ddb, to_ddb

        out = self.client("dynamodb").get_item(TableName=self.env[table_env], Key=to_ddb(key), ConsistentRead=True)
        return from_ddb(out["Item"]) if "Item" in out else None


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    _need_build()
    import importlib.util

    from local.aws import create_local_resources

    saved = dict(os.environ)
    node = HardhatNode(log_path=tmp_path_factory.mktemp("hardhat") / "node.log")
    moto = MotoServer()
    uninstall = None
    try:
        node.start()
        moto.start()
        os.environ["AWS_ENDPOINT_URL"] = moto.url
        accounts = dict(zip(ROLES, hardhat_accounts(len(ROLES))))
        env = create_local_resources(moto.url, PREFIX)
        # the relayer is the KMS key's address (moto's KMS, as AWS's in production); the platform
        # account only funds it with gas money
        from local.stack import RELAYER_FUNDING_WEI, relayer_address

        relayer = relayer_address(env["RELAYER_KEY_ID"])
        spec = importlib.util.spec_from_file_location("contracts_deploy", ROOT / "contracts" / "deploy.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.fund(node.url, accounts["platform"][1], relayer, RELAYER_FUNDING_WEI)
        deployment = module.deploy(node.url, accounts["deployer"][1], relayer=relayer,
                                   platform=accounts["platform"][0],
                                   mint_to=[accounts["creator1"][0], accounts["buyer1"][0]])
        env.update({"PUBLIC_BASE_URL": "http://127.0.0.1:3000", "CHAIN_ID": str(deployment["chainId"]),
                    "CHAIN_CONFIG": json.dumps(deployment), "POWERTOOLS_LOG_LEVEL": "WARNING",
                    "CHAIN_CONFIRMATIONS": "1"})
        os.environ.update(env)
        # what moto invokes: the saga's worker, and the relayer (the license API's relayed sends)
        invoked = [LocalFunction(resources.physical_name(PREFIX, s.name), s.handler,
                                 {k: env[k] for k in resources.env_names(s) if k in env}, s.memory, s.timeout)
                   for s in (resources.by_name(resources.FUNCTIONS, n) for n in ("registration-worker", "relayer"))]
        create_moto_functions(moto.url, invoked)
        uninstall = install_lambda_router({fn.name: fn for fn in invoked})
        clear_caches()
        yield Stack(env, deployment, accounts, moto.url, node.url, relayer)
    finally:
        if uninstall:
            uninstall()
        moto.stop()
        node.stop()
        os.environ.clear()
        os.environ.update(saved)
        clear_caches()


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


class Api:
    """Calls the real handlers with API Gateway proxy events (the authorizer first for jwt routes)."""

    ROUTES: ClassVar[dict] = {(r.method, r.path): (f.handler, r.auth) for f in resources.FUNCTIONS for r in f.routes}

    def __init__(self, stack: Stack):
        self.stack = stack

    def _route(self, method: str, path: str) -> tuple[str, str, str]:
        import re

        for (m, template), (handler, auth) in self.ROUTES.items():
            if m == method and re.fullmatch(re.sub(r"{\w+}", "[^/]+", template), path):
                return handler, auth, template
        raise AssertionError(f"no route {method} {path}")

    def call(self, method: str, path: str, *, body=None, headers=None, token: str | None = None) -> Reply:
        handler, auth, template = self._route(method, path)
        headers = dict(headers or {})
        caller = None
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if auth == "jwt":
            policy = self.authorize(headers.get("Authorization"))
            if policy is None:
                return Reply(401, {"error": "UNAUTHORIZED"}, {})
            caller = policy["context"]["address"]
        event = api_event(method, path, body=body, headers=headers, caller=caller, resource=template)
        out = load_handler(handler)(event, LambdaContext(handler))
        raw = out["body"]
        if out.get("isBase64Encoded"):
            raw = base64.b64decode(raw).decode()
        flat = {k: (v[0] if isinstance(v, list) else v) for k, v in
                {**(out.get("headers") or {}), **(out.get("multiValueHeaders") or {})}.items()}
        return Reply(out["statusCode"], json.loads(raw) if raw else None, flat)

    def authorize(self, authorization: str | None) -> dict | None:
        """The authorizer's policy, or None when it refuses (raises "Unauthorized")."""
        try:
            return load_handler("authorizer")(authorizer_event(authorization), LambdaContext("authorizer"))
        except Exception as exc:
            if str(exc) == "Unauthorized":
                return None
            raise

    def sign_in(self, role: str) -> str:
        address, key = self.stack.accounts[role]
        nonce = self.call("POST", "/auth/nonce", body={"address": address})
        assert nonce.status == 200, nonce.body
        signature = Account.from_key(key).sign_message(encode_defunct(text=nonce.body["message"])).signature
        login = self.call("POST", "/auth/login", body={"message": nonce.body["message"],
                                                        "signature": "0x" + bytes(signature).hex()})
        assert login.status == 200, login.body
        return login.body["token"]


@pytest.fixture(scope="session")
def api(stack) -> Api:
    return Api(stack)


@pytest.fixture(scope="session")
def creator_token(api) -> str:
    return api.sign_in("creator1")


@pytest.fixture
def set_env(stack):
    """Change function settings for one test (caches cleared before and after)."""
    changed: dict[str, str | None] = {}

    def apply(**values: str) -> None:
        for key, value in values.items():
            changed.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        clear_caches()

    yield apply
    for key, value in changed.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    clear_caches()
