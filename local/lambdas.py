"""Run the real Lambda handlers in-process, for the local stack and the integration tests.

Two pieces:

- ``LocalFunction``: one function of ``resources.FUNCTIONS`` as the local stack deploys it: it
  imports ``functions/<handler>/handler.py`` by path (lazily, under a unique module name), applies
  the function's environment and calls ``handler(event, context)`` with a Lambda-like context.
- ``install_lambda_router(functions)``: patches moto's Lambda backend so that invoking a function
  whose name is in ``functions`` (from boto3, or from a Step Functions ``lambda:invoke`` task that
  moto runs itself) calls the matching Python callable in this process instead of Docker.
  Functions not in the map keep moto's own behaviour.

The router works on the moto server running in the same process (``ThreadedMotoServer``): moto's
Step Functions interpreter calls ``http://localhost:$MOTO_PORT`` for its Lambda tasks, the request
reaches moto's Lambda backend in this process, and ``LambdaFunction.invoke`` is the patched method.

Environment: Lambda gives every function its own process; here all functions share one. A
function's variables are written into ``os.environ`` before each call and never removed, so
functions running side by side must agree on the value of any variable they share. The local
stack guarantees that (one prefix, one set of resources); other users must do the same.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = ROOT / "functions"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account

log = logging.getLogger("local.lambdas")

Handler = Callable[[Any, Any], Any]


# --------------------------------------------------------------------------------------------
# One event per thread for Powertools' resolvers
# --------------------------------------------------------------------------------------------

_events = threading.local()


def isolate_powertools_events() -> None:
    """Give each thread its own Powertools "current event".

    Powertools keeps the event being resolved on the ``BaseRouter`` class
    (``BaseRouter.current_event = ...`` in ``resolve``), which is right in Lambda (one request per
    container at a time) and wrong here, where every function runs in threads of one process: two
    requests resolved at once read each other's path, body and caller. A property on the class
    (instance reads and writes) and on a metaclass (class reads and writes) keep it per thread.
    Idempotent; applied when this module is imported.
    """
    from aws_lambda_powertools.event_handler import api_gateway

    base = api_gateway.BaseRouter
    if getattr(type(base), "_thread_local_events", False):
        return

    def get(_: Any) -> Any:
        return getattr(_events, "event", None)

    def set_(_: Any, value: Any) -> None:
        _events.event = value

    meta = type("ThreadLocalEventMeta", (type(base),), {"current_event": property(get, set_),
                                                         "_thread_local_events": True})
    if "current_event" in vars(base):
        delattr(base, "current_event")
    base.current_event = property(get, set_)  # type: ignore[assignment]  # Powertools patched at run time
    base.__class__ = meta  # type: ignore[method-assign]  # (its metaclass too)


isolate_powertools_events()

# --------------------------------------------------------------------------------------------
# Loading handlers
# --------------------------------------------------------------------------------------------

_modules: dict[Path, Any] = {}
_modules_lock = threading.Lock()


def load_handler(handler_dir: str | Path, attr: str = "handler") -> Handler:
    """``functions/<handler_dir>/handler.py``'s ``handler``, imported once by path.

    The module gets a unique name (``lambda_<dir>_handler``) so the many ``handler.py`` files do
    not shadow one another in ``sys.modules``; the function's folder is put on ``sys.path`` like
    Lambda's task root, so a handler can import modules beside it.
    """
    folder = Path(handler_dir)
    if not folder.is_absolute():
        folder = FUNCTIONS_DIR / folder
    path = folder / "handler.py"
    with _modules_lock:
        module = _modules.get(path)
        if module is None:
            if not path.is_file():
                raise FileNotFoundError(f"no Lambda handler at {path}")
            name = f"lambda_{folder.name}_handler"
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            if str(folder) not in sys.path:
                sys.path.append(str(folder))
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                sys.modules.pop(name, None)
                raise
            _modules[path] = module
    return getattr(module, attr)


# --------------------------------------------------------------------------------------------
# The context object
# --------------------------------------------------------------------------------------------


@dataclass
class LambdaContext:
    """The attributes of the Python runtime's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 128
    timeout_seconds: int = 3
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        if not self.invoked_function_arn:
            self.invoked_function_arn = function_arn(self.function_name)
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"
        if not self.log_stream_name:
            self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def function_arn(name: str, region: str = REGION, account: str = ACCOUNT_ID) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def apply_env(env: Mapping[str, str]) -> None:
    """Write a function's variables into the shared process environment (see the module doc)."""
    for key, value in env.items():
        if os.environ.get(key) != value:
            os.environ[key] = str(value)


# --------------------------------------------------------------------------------------------
# One deployed function
# --------------------------------------------------------------------------------------------


@dataclass
class LocalFunction:
    """A function of the local stack: its physical name, its handler folder and its environment."""

    name: str
    handler_dir: str
    env: dict[str, str] = field(default_factory=dict)
    memory: int = 512
    timeout: int = 29

    def context(self) -> LambdaContext:
        return LambdaContext(self.name, memory_limit_in_mb=self.memory, timeout_seconds=self.timeout)

    def available(self) -> bool:
        """True when ``functions/<handler_dir>/handler.py`` exists (others may not be written yet)."""
        return (FUNCTIONS_DIR / self.handler_dir / "handler.py").is_file()

    def __call__(self, event: Any, context: Any = None) -> Any:
        apply_env(self.env)
        handler = load_handler(self.handler_dir)
        return handler(event, context if context is not None else self.context())


# --------------------------------------------------------------------------------------------
# Routing moto's Lambda invocations
# --------------------------------------------------------------------------------------------

_routes: dict[str, Handler] = {}
_routes_lock = threading.Lock()
_original_invoke: Callable | None = None


def error_payload(exc: BaseException) -> dict[str, Any]:
    """The payload Lambda's Python runtime returns for an unhandled exception.

    Step Functions takes ``errorType`` as the error name that ``Retry``/``Catch`` match (moto's
    interpreter does the same), so a handler raising ``BlockchainError`` is caught by
    ``"ErrorEquals": ["BlockchainError"]``.
    """
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": "",
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def _run_routed(fn: Any, handler: Handler, event: Any) -> tuple[bytes, bool]:
    """Call ``handler`` as moto's function ``fn``: (JSON payload, errored)."""
    apply_env(fn.environment_vars or {})
    context = LambdaContext(
        fn.function_name,
        memory_limit_in_mb=int(fn.memory_size or 128),
        timeout_seconds=int(fn.timeout or 3),
        invoked_function_arn=fn.function_arn,
    )
    try:
        result = handler(event, context)
        return json.dumps(result).encode(), False
    except Exception as exc:  # noqa: BLE001 - the runtime reports any exception as a function error
        log.warning("function %s failed: %s: %s", fn.function_name, type(exc).__name__, exc)
        payload = error_payload(exc)
        payload["requestId"] = context.aws_request_id
        return json.dumps(payload).encode(), True


def _patched_invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> Any:
    with _routes_lock:
        handler = _routes.get(self.function_name)
    if handler is None:
        assert _original_invoke is not None
        return _original_invoke(self, body, request_headers, response_headers)

    if isinstance(body, bytes):
        body = body.decode()
    event = json.loads(body) if body else {}
    invocation_type = request_headers.get("x-amz-invocation-type") or request_headers.get(
        "X-Amz-Invocation-Type", "RequestResponse"
    )
    if invocation_type == "Event":
        # Asynchronous invocation: Lambda queues the event and answers 202 at once.
        threading.Thread(target=_run_routed, args=(self, handler, event), daemon=True,
                         name=f"lambda-{self.function_name}").start()
        return b""
    if invocation_type == "DryRun":
        return b""
    payload, errored = _run_routed(self, handler, event)
    if errored:
        response_headers["x-amz-function-error"] = "Unhandled"
    response_headers["x-amz-log-result"] = base64.b64encode(b"").decode()
    return payload


def install_lambda_router(functions: Mapping[str, Handler]) -> Callable[[], None]:
    """Route moto Lambda invocations of the named functions to in-process callables.

    ``functions`` maps a function name (the name the function was created with in moto) to a
    callable ``(event, context) -> result``, e.g. a ``LocalFunction`` or
    ``load_handler("auth")``. The functions must still be created in moto (any zip will do): the
    router only replaces how they run. Returns a function that removes these routes again.
    Routes from several calls add up; the patch on moto is installed once per process.
    """
    global _original_invoke
    from moto.awslambda.models import LambdaFunction

    with _routes_lock:
        if _original_invoke is None:
            _original_invoke = LambdaFunction.invoke
            setattr(LambdaFunction, "invoke", _patched_invoke)  # noqa: B010 - a deliberate patch
        _routes.update(functions)
        names = list(functions)

    def uninstall() -> None:
        with _routes_lock:
            for name in names:
                _routes.pop(name, None)

    return uninstall


LAMBDA_ROLE = "local-lambda-role"


def create_moto_functions(endpoint_url: str, functions: Iterable[LocalFunction]) -> dict[str, str]:
    """Create each function in moto (dummy code, its env, memory, timeout); returns name -> ARN.

    The functions only need to exist for moto (so Step Functions tasks and ``lambda.invoke`` find
    them); ``install_lambda_router`` decides what runs. The IAM role they need is created once.
    """
    import boto3

    iam = boto3.client("iam", endpoint_url=endpoint_url, region_name=REGION)
    try:
        role = iam.get_role(RoleName=LAMBDA_ROLE)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                          "Principal": {"Service": "lambda.amazonaws.com"}}]}
        role = iam.create_role(RoleName=LAMBDA_ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    lam = boto3.client("lambda", endpoint_url=endpoint_url, region_name=REGION)
    code = dummy_zip()
    arns = {}
    for fn in functions:
        arns[fn.name] = lam.create_function(
            FunctionName=fn.name, Runtime="python3.11", Role=role, Handler="handler.handler",
            Code={"ZipFile": code}, MemorySize=fn.memory, Timeout=fn.timeout,
            Environment={"Variables": {k: str(v) for k, v in fn.env.items()}},
        )["FunctionArn"]
    return arns


def dummy_zip() -> bytes:
    """A minimal deployment package for ``lambda.create_function`` (the router runs the real code)."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    raise RuntimeError('not routed')\n")
    return buf.getvalue()
