"""Start and stop the local servers (Hardhat node, moto server) on free 127.0.0.1 ports.

Used by the local stack (`python -m local.stack`) and by the test fixtures, so both run the
servers the same way. Every server listens on 127.0.0.1 only and is stopped by whoever started it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parents[1]
HARDHAT_CHAIN_ID = 31337
# Hardhat's well-known development mnemonic ("test test ... junk"): its accounts are public.
HARDHAT_MNEMONIC = "test test test test test test test test test test test junk"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before it was ready")
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s")


@dataclass
class HardhatNode:
    """A `hardhat node` child process (EDR), JSON-RPC on 127.0.0.1:port."""

    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rpc(self, method: str, params: list | None = None):
        req = urllib.request.Request(
            self.url,
            data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())["result"]

    def start(self, timeout: float = 60) -> HardhatNode:
        env = {**os.environ, "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true"}
        with open(self.log_path or os.devnull, "ab") as log:  # the child keeps its own copy
            self.proc = subprocess.Popen(
                [str(ROOT / "node_modules" / ".bin" / "hardhat"), "node", "--hostname", "127.0.0.1",
                 "--port", str(self.port)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        _wait(lambda: self.rpc("eth_chainId") is not None, timeout, "hardhat node", self.proc)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None


def hardhat_accounts(n: int = 10) -> list[tuple[str, str]]:
    """(address, private key) of the node's first n development accounts."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    out = []
    for i in range(n):
        acct = Account.from_mnemonic(HARDHAT_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
        out.append((acct.address, acct.key.hex() if acct.key.hex().startswith("0x") else "0x" + acct.key.hex()))
    return out


def _patch_moto_start_execution() -> None:
    """Give moto's Step Functions executions a fresh name when the caller gives none.

    AWS generates a UUID for ``StartExecution`` without ``name``; moto 5.2.5's interpreter backend
    uses the literal ``None``, so a second unnamed execution fails with ExecutionAlreadyExists.
    """
    import uuid

    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution
    if getattr(original, "_names_executions", False):
        return

    def start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):
        return original(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    start_execution._names_executions = True  # type: ignore[attr-defined]
    StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]  # moto patched, as below


def _patch_moto_docker_client() -> None:
    """Let ``/moto-api/data.json`` answer when Lambda functions exist and Docker does not.

    moto 5.2.5's data.json serialises every public attribute of every tracked model and skips only
    those raising TypeError, AttributeError or ValueError; a Lambda function's ``docker_client``
    property connects to Docker and, with no Docker (here: ``local.lambdas`` runs every function in
    process), raises ``DockerException``, so the whole answer was a 500 (and tests could not read
    what moto's SES sent). Without Docker the property now raises AttributeError: data.json skips
    it, and a function nobody routed still fails to run, with the same cause in the message.
    """
    from moto.utilities.docker_utilities import DockerModel

    original: Any = vars(DockerModel)["docker_client"]  # the property itself
    if getattr(original.fget, "_no_docker_is_attribute_error", False):
        return

    def docker_client(self: Any) -> Any:
        from docker.errors import DockerException  # type: ignore[import-untyped]

        try:
            return original.fget(self)
        except DockerException as exc:
            raise AttributeError(f"docker_client: Docker is not available ({exc})") from exc

    docker_client._no_docker_is_attribute_error = True  # type: ignore[attr-defined]
    setattr(DockerModel, "docker_client", property(docker_client))  # noqa: B010 - moto patched, as above


def _serialize_moto_dynamodb() -> None:
    """Make moto's DynamoDB item operations atomic with respect to one another, as DynamoDB's are.

    moto 5.2.5 evaluates a ``ConditionExpression`` and applies the update in two steps without a
    lock, and the threaded server runs requests side by side: two parallel conditional counters
    (``SET n = n + 1`` if ``n < max``) can both read the same ``n`` (a lost update, one use counted
    twice). One re-entrant lock around the item operations restores per-item atomicity
    (Flow 3's per-key rate limit and per-license use counter rely on it).

    ``update_item`` and ``get_item`` return the table's live item, which moto's response code
    serialises after the backend call, outside the lock: two concurrent ``SET usesGranted =
    usesGranted + 1`` updates could both answer ``ReturnValues=ALL_NEW`` with the later count (the
    second update landed between the first one's update and its serialisation), so two accesses
    got the same use sequence number, and the second one's usage event hit the first one's
    (``UsageConflict``, a 500; measured about 1 in 500 accesses at 8 clients). DynamoDB answers the
    item as the update left it, so both return a copy made inside the lock.
    """
    import copy
    import functools
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_serialized", False):
        return
    lock = threading.RLock()

    def locked(method):
        @functools.wraps(method)
        def run(self, *args, **kwargs):
            with lock:
                return method(self, *args, **kwargs)
        return run

    def locked_copy(method):
        @functools.wraps(method)
        def run(self, *args, **kwargs):
            with lock:
                return copy.deepcopy(method(self, *args, **kwargs))
        return run

    for name in ("put_item", "delete_item", "query", "scan",
                 "transact_write_items", "transact_get_items", "batch_get_item"):
        if hasattr(DynamoDBBackend, name):
            setattr(DynamoDBBackend, name, locked(getattr(DynamoDBBackend, name)))
    for name in ("get_item", "update_item"):  # the item as this call left it, not as it is later
        setattr(DynamoDBBackend, name, locked_copy(getattr(DynamoDBBackend, name)))
    _cheap_moto_transactions(DynamoDBBackend, lock)
    DynamoDBBackend._serialized = True  # type: ignore[attr-defined]


def _cheap_moto_transactions(backend_class: Any, lock: Any) -> None:
    """``TransactWriteItems`` without copying whole tables, so its cost does not grow with them.

    moto 5.2.5 deep-copies every table a transaction touches before applying it (to roll back on a
    failed condition): the access path's event + counter transaction copied the whole usage table
    (and its stream's records) on every use, under the one lock: a local access got slower as the
    table grew (p50 at 32 clients went from seconds to past the 10 s function timeout: 504s).
    Under the lock nothing changes between a check and a write, so this checks every condition
    first: a failed one raises moto's own ``TransactionCanceledException`` with DynamoDB's reasons,
    and with all of them holding moto applies the items without its table copies (nothing to roll
    back). Anything unusual (two operations on one item, an unknown operation) goes to moto's own
    code as before.
    """
    import copy

    import moto.dynamodb.models as ddb_models
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import TransactionCanceledException
    from moto.dynamodb.models.table import Table

    class _NoTableCopies:
        """moto.dynamodb.models' ``copy`` module, but a Table's deep copy is the table itself."""

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    original = backend_class.transact_write_items

    def precheck(self: Any, items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]] | None:
        reasons: list[tuple[Any, Any, Any]] = []
        seen: set[tuple[str, str]] = set()
        for entry in items:
            if len(entry) != 1:
                return None
            ((op_type, op),) = entry.items()
            if op_type not in ("ConditionCheck", "Put", "Delete", "Update"):
                return None
            table = self.get_table(op["TableName"])
            if op_type == "Put":
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            ident = (op["TableName"], str(dict(sorted(key.items()))))
            if ident in seen:
                return None
            seen.add(ident)
            condition = op.get("ConditionExpression")
            current = self.get_item(op["TableName"], key) if condition is not None else None
            if condition is not None and not get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")).expr(current):
                old = (current.to_json()["Attributes"]
                       if current and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None)
                reasons.append(("ConditionalCheckFailed", "The conditional request failed", old))
            else:
                reasons.append((None, None, None))
        return reasons

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with lock:
            reasons = precheck(self, transact_items) if len(transact_items) <= 100 else None
            if reasons is None:
                return original(self, transact_items)
            if any(code is not None for code, _, _ in reasons):
                raise TransactionCanceledException(reasons)
            ddb_models.copy = _NoTableCopies()  # type: ignore[assignment]
            try:
                return original(self, transact_items)
            finally:
                ddb_models.copy = copy

    backend_class.transact_write_items = transact_write_items


def _patch_moto_kms_digest() -> None:
    """Make moto's KMS ``Sign``/``Verify`` honour ``MessageType=DIGEST``, as AWS does.

    moto 5.2.5 ignores ``MessageType``: with ``DIGEST`` it hashes the given digest again with
    SHA-256 before signing, so the signature is over ``sha256(digest)``, not ``digest``, and an
    Ethereum signature made from it recovers to a random address. AWS signs the 32 bytes as the
    prehashed message. This patch, applied where the local stack starts moto in-process, signs
    (and verifies) a ``DIGEST`` message as ``Prehashed(SHA-256)`` after checking its length; a
    ``RAW`` message goes to moto's own code. The production code (``marketplace.chain.kms``) is
    the same against AWS and the patched moto (``tests/unit/test_chain_kms.py`` checks it).
    """
    import base64
    import json as _json

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils
    from moto.kms.exceptions import ValidationException
    from moto.kms.responses import KmsResponse

    if getattr(KmsResponse, "_digest_patched", False):
        return
    original_sign, original_verify = KmsResponse.sign, KmsResponse.verify
    digest_sizes = {"ECDSA_SHA_256": (hashes.SHA256(), 32), "ECDSA_SHA_384": (hashes.SHA384(), 48),
                    "ECDSA_SHA_512": (hashes.SHA512(), 64)}

    def _ec_key(self, key_id: str, algorithm: str, message) -> tuple:
        if algorithm not in digest_sizes:
            raise ValidationException(f"MessageType DIGEST is not supported with {algorithm} here")
        if isinstance(message, str):
            message = message.encode()
        hash_algorithm, size = digest_sizes[algorithm]
        if len(message) != size:
            raise ValidationException(f"Digest is invalid length for algorithm {algorithm}.")
        key = self.kms_backend.describe_key(key_id)
        if key.key_usage != "SIGN_VERIFY" or algorithm not in key.signing_algorithms:
            raise ValidationException(f"KeyId {key_id} cannot sign with {algorithm}")
        return key, message, ec.ECDSA(utils.Prehashed(hash_algorithm))

    def sign(self) -> str:
        if self._get_param("MessageType") != "DIGEST":
            return original_sign(self)
        algorithm = self._get_param("SigningAlgorithm")
        key, digest, scheme = _ec_key(self, self._get_param("KeyId"), algorithm, self._get_param("Message"))
        signature = key.private_key.private_key.sign(digest, scheme)
        return _json.dumps({"KeyId": key.arn, "Signature": base64.b64encode(signature).decode(),
                            "SigningAlgorithm": algorithm})

    def verify(self) -> str:
        if self._get_param("MessageType") != "DIGEST":
            return original_verify(self)
        algorithm = self._get_param("SigningAlgorithm")
        key, digest, scheme = _ec_key(self, self._get_param("KeyId"), algorithm, self._get_param("Message"))
        signature = self._get_param("Signature")
        if isinstance(signature, str):
            signature = base64.b64decode(signature)
        try:
            key.private_key.private_key.public_key().verify(signature, digest, scheme)
            valid = True
        except InvalidSignature:
            valid = False
        return _json.dumps({"KeyId": key.arn, "SignatureValid": valid, "SigningAlgorithm": algorithm})

    KmsResponse.sign = sign  # type: ignore[method-assign]
    KmsResponse.verify = verify  # type: ignore[method-assign]
    KmsResponse._digest_patched = True  # type: ignore[attr-defined]


class _Server(Protocol):
    """moto's ThreadedMotoServer, as this module uses it."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class MotoServer:
    """moto's server in a thread of this process, on 127.0.0.1:port.

    Step Functions executions are run by moto (``execute_state_machine``); their Lambda tasks call
    this server over HTTP, hence ``MOTO_PORT`` in the environment. moto's state is per process, so
    run one per process. Pair with ``local.lambdas.install_lambda_router`` to run real handlers.
    """

    port: int = field(default_factory=free_port)
    server: _Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        import logging

        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        default_user_config["stepfunctions"]["execute_state_machine"] = True
        _patch_moto_start_execution()
        _serialize_moto_dynamodb()
        _patch_moto_kms_digest()
        _patch_moto_docker_client()
        os.environ["MOTO_PORT"] = str(self.port)
        # boto3 clients in this process (handlers, moto's own Step Functions tasks) need some
        # credentials and a region; they are never checked by moto.
        for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                           ("AWS_DEFAULT_REGION", "us-east-1")):
            os.environ.setdefault(key, value)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
