"""The local stack: ``python -m local.stack [--port 3000]`` (``make dev``).

Starts, on 127.0.0.1 only:
1. a Hardhat node with the contracts deployed by ``contracts/deploy.py`` and the test stablecoin
   minted to the demo creators and buyers;
2. a moto server in this process holding every table, bucket, queue, secret and state machine of
   ``marketplace.resources`` (created by ``local.aws.create_local_resources``), the functions
   created in moto and routed to the real handlers in ``functions/`` (``local.lambdas``), so
   moto runs ``statemachines/*.asl.json`` against the real code;
3. the API Gateway emulation on the API port (``local.api``), authorizer included, and each
   WebSocket API of ``resources.WEBSOCKET_APIS`` on free ports (``local.websocket``: clients and
   its Management API);
4. the registered background workers (``local.workers``).

It writes ``<state-dir>/stack.json`` (``apiUrl, rpcUrl, chainId, contracts, accounts,
awsEndpoint``), prints the URL and the demo accounts, and stops everything on Ctrl-C/SIGTERM.
``LocalStack`` is the same thing as an object, for tests and benchmarks that want it in-process.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marketplace import resources

from local.api import ApiGateway, ApiServer
from local.lambdas import LocalFunction, create_moto_functions, install_lambda_router
from local.processes import ROOT, HardhatNode, MotoServer, free_port, hardhat_accounts
from local.websocket import WebSocketGateway
from local.workers import WorkerContext, start_workers, stop_workers

log = logging.getLogger("local.stack")

DEFAULT_PREFIX = "zkdm-local"
# Demo accounts: Hardhat's development accounts by index (their keys are public knowledge).
ROLES = ("deployer", "platform", "creator1", "creator2", "buyer1", "buyer2")
MINT_ROLES = ("creator1", "creator2", "buyer1", "buyer2")
RELAYER_FUNDING_WEI = 1_000 * 10**18  # the KMS relayer's gas money, sent by the platform account
# chain gateway settings of the local stack: a block is final when mined, and the monitor (every
# few seconds, local.workers) re-prices after 20 s
LOCAL_CHAIN_SETTINGS = {"CHAIN_CONFIRMATIONS": "1", "TX_STUCK_SECONDS": "20"}
# notifications: webhooks may go to http://127.0.0.1 receivers (never to private or metadata
# addresses), and email comes from an address verified in moto's SES
LOCAL_NOTIFICATION_SETTINGS = {"WEBHOOKS_ALLOW_LOOPBACK": "true", "EMAIL_FROM": "notifications@zkdm.local"}


@dataclass
class Account:
    role: str
    address: str
    privateKey: str


def demo_accounts() -> list[Account]:
    return [Account(role, addr, key) for role, (addr, key) in zip(ROLES, hardhat_accounts(len(ROLES)))]


# the UsageTracker's minimum batch window locally: the contract's floor (15 minutes; 1 hour by
# default). A batch's window must end by the latest block's time, so the first batch of a license
# lands 15 minutes of chain time after its purchase: tests and demos advance Hardhat's clock
# (evm_increaseTime) rather than wait (docs/design.md "Usage batches").
LOCAL_MIN_WINDOW = 15 * 60


def _load_deploy(name: str = "deploy"):
    """``contracts/deploy.py``'s ``deploy`` (or another function of it; loaded by path:
    ``contracts/`` is not a package)."""
    path = ROOT / "contracts" / "deploy.py"
    spec = importlib.util.spec_from_file_location("contracts_deploy", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def relayer_address(key_id: str) -> str:
    """The Ethereum address of the relayer's KMS key (boto3 → ``AWS_ENDPOINT_URL``, moto here)."""
    import boto3
    from marketplace.chain.kms import KmsSigner

    return KmsSigner(key_id, boto3.client("kms", region_name="us-east-1")).address


def function_env(spec: resources.FunctionSpec, env: dict[str, str]) -> dict[str, str]:
    """The variables ``spec`` declares (``resources.env_names``), taken from the stack's ``env``."""
    return {name: env[name] for name in resources.env_names(spec) if name in env}


@dataclass
class LocalStack:
    port: int = 3000
    prefix: str = DEFAULT_PREFIX
    state_dir: Path = field(default_factory=lambda: ROOT / ".local")
    progress: bool = True  # print a line per step with its time

    node: HardhatNode | None = None
    moto: MotoServer | None = None
    api: ApiServer | None = None
    websockets: dict[str, WebSocketGateway] = field(default_factory=dict)  # by WebSocketApiSpec.name
    functions: dict[str, LocalFunction] = field(default_factory=dict)  # by FunctionSpec.name
    env: dict[str, str] = field(default_factory=dict)  # every variable any function reads
    deployment: dict[str, Any] = field(default_factory=dict)
    accounts: list[Account] = field(default_factory=demo_accounts)
    _workers: list = field(default_factory=list)
    _uninstall_router: Any = None
    _node_boot: threading.Thread | None = None
    relayer: str = ""  # the KMS relayer key's address

    # -- progress -------------------------------------------------------------------------------

    def _step(self, what: str):
        stack = self

        class Step:
            def __enter__(self):
                self.start = time.monotonic()
                if stack.progress:
                    print(f"  {what} ...", end="", flush=True)
                return self

            def __exit__(self, exc_type, exc, tb):
                if stack.progress:
                    status = "ok" if exc is None else f"FAILED ({exc_type.__name__}: {exc})"
                    print(f" {status} ({time.monotonic() - self.start:.1f} s)", flush=True)
                return False

        return Step()

    def account(self, role: str) -> Account:
        return next(a for a in self.accounts if a.role == role)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- start / stop ---------------------------------------------------------------------------

    def start(self) -> LocalStack:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        # Take the API port first, so a port in use fails at once (not after a minute of start-up).
        try:
            self.api = ApiServer(ApiGateway({}), self.port)
        except OSError as exc:
            raise RuntimeError(f"cannot listen on 127.0.0.1:{self.port} ({exc.strerror}): "
                               "choose another port (--port, or PORT= for make dev)") from None
        # WebSocket APIs take their ports now too: their URLs go into the functions' environment
        self.websockets = {ws.name: WebSocketGateway(ws) for ws in resources.WEBSOCKET_APIS}
        # The Hardhat node boots (a few seconds of Node.js) while moto and the resources come up.
        node = self.node = HardhatNode(log_path=self.state_dir / "hardhat.log")
        node_error: list[BaseException] = []
        node_boot_time: list[float] = []

        def boot_node() -> None:
            t0 = time.monotonic()
            try:
                node.start()
                node_boot_time.append(time.monotonic() - t0)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
                node_error.append(exc)

        self._node_boot = threading.Thread(target=boot_node, name="hardhat-boot", daemon=True)
        self._node_boot.start()

        with self._step("moto server, tables, buckets, queues, secrets, state machines"):
            self.moto = MotoServer().start()
            # boto3 clients in this process (the handlers' adapters) talk to moto
            os.environ["AWS_ENDPOINT_URL"] = self.moto.url
            from local.aws import create_local_resources, verify_email_sender

            # the relayer's key is a KMS key in moto (as in AWS); a Hardhat account only funds it
            self.env.update(create_local_resources(self.moto.url, self.prefix))
            verify_email_sender(self.moto.url, LOCAL_NOTIFICATION_SETTINGS["EMAIL_FROM"])
            self.relayer = relayer_address(self.env["RELAYER_KEY_ID"])

        self._node_boot.join()
        if node_error:
            raise node_error[0]
        if self.progress:
            print(f"  hardhat node on 127.0.0.1:{self.node.port} ... ok ({node_boot_time[0]:.1f} s, "
                  "booted alongside moto)", flush=True)

        with self._step("contracts deployed, the KMS relayer funded"):
            deploy, fund = _load_deploy(), _load_deploy("fund")
            platform = self.account("platform")
            fund(self.node.url, platform.privateKey, self.relayer, RELAYER_FUNDING_WEI)
            self.deployment = deploy(
                self.node.url, self.account("deployer").privateKey,
                relayer=self.relayer, platform=platform.address,
                mint_to=[self.account(r).address for r in MINT_ROLES],
                out=self.state_dir / "deployment.json",
                min_window=LOCAL_MIN_WINDOW,
            )

        with self._step("functions (moto -> functions/*/handler.py)"):
            self.env.update({
                "PUBLIC_BASE_URL": self.api_url,
                "CHAIN_ID": str(self.deployment["chainId"]),
                "CHAIN_CONFIG": json.dumps(self.deployment),
                **LOCAL_CHAIN_SETTINGS,
                **LOCAL_NOTIFICATION_SETTINGS,
            })
            for gateway in self.websockets.values():
                self.env.update(gateway.env())
            self.functions = {
                spec.name: LocalFunction(resources.physical_name(self.prefix, spec.name), spec.handler,
                                         function_env(spec, self.env), spec.memory, spec.timeout)
                for spec in resources.FUNCTIONS
            }
            create_moto_functions(self.moto.url, self.functions.values())
            self._uninstall_router = install_lambda_router(
                {fn.name: fn for fn in self.functions.values()})
            missing = [s.name for s in resources.FUNCTIONS if not self.functions[s.name].available()]
            if missing and self.progress:
                print(f" (not written yet: {', '.join(missing)})", end="")

        with self._step(f"API on {self.api_url}"):
            self.api.gateway = ApiGateway(self.functions)
            self.api.start()

        for gateway in self.websockets.values():
            with self._step(f"WebSocket API {gateway.spec.name} on {gateway.url} (Management API "
                            f"{gateway.management_url})"):
                gateway.function = self.functions[gateway.spec.function]
                gateway.start()

        with self._step("workers"):
            ctx = WorkerContext(self.functions, self.prefix, self.moto.url)
            self._workers = start_workers(ctx)

        self.write_info()

    def info(self) -> dict[str, Any]:
        return {
            "apiUrl": self.api_url,
            "rpcUrl": self.node.url if self.node else None,
            "chainId": self.deployment.get("chainId"),
            "contracts": self.deployment.get("contracts", {}),
            "accounts": [a.__dict__ for a in self.accounts],
            "awsEndpoint": self.moto.url if self.moto else None,
            "websockets": {name: {"url": g.url, "managementUrl": g.management_url}
                           for name, g in self.websockets.items()},
            "relayer": self.relayer,
            "prefix": self.prefix,
        }

    def write_info(self) -> Path:
        path = self.state_dir / "stack.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.info(), indent=2) + "\n")
        tmp.replace(path)  # readers polling for the file never see half of it
        return path

    def stop(self) -> None:
        stop_workers(self._workers)
        self._workers = []
        if self.api is not None:
            self.api.stop()
            self.api = None
        for gateway in self.websockets.values():
            gateway.stop()
        self.websockets = {}
        if self._uninstall_router is not None:
            self._uninstall_router()
            self._uninstall_router = None
        if self.moto is not None:
            self.moto.stop()
            self.moto = None
        if self.node is not None:
            if self._node_boot is not None:
                self._node_boot.join()  # interrupted during start-up: let the node come up, then stop it
            self.node.stop()
            self.node = None
        (self.state_dir / "stack.json").unlink(missing_ok=True)


def _print_banner(stack: LocalStack, seconds: float) -> None:
    if stack.node is None or stack.moto is None:
        raise RuntimeError("the local stack is not running (start it first)")
    print(f"\nLocal stack ready in {seconds:.1f} s")
    print(f"  API         {stack.api_url}   (OpenAPI: {stack.api_url}/openapi.json)")
    print(f"  chain       {stack.node.url}   chainId {stack.deployment.get('chainId')}")
    print(f"  AWS (moto)  {stack.moto.url}")
    for name, gateway in stack.websockets.items():
        print(f"  WebSocket   {gateway.url}   ({name}; Management API {gateway.management_url})")
    print(f"  dashboard   {stack.api_url}/dashboard#token=<jwt>   (a creator's JWT: "
          "uv run python -m local.client login --account creator1)")
    print(f"  relayer     {stack.relayer}   (KMS key {stack.env.get('RELAYER_KEY_ID')})")
    for name, address in stack.deployment.get("contracts", {}).items():
        print(f"  {name:<22} {address}")
    print("\nDemo accounts (Hardhat's public development keys: never use them on a real chain):")
    for a in stack.accounts:
        print(f"  {a.role:<9} {a.address}  {a.privateKey}")
    print(f"\nWritten: {stack.state_dir / 'stack.json'}")
    print("Try:  uv run python -m local.client register README.md --account creator1")
    print("Ctrl-C to stop.", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.stack", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")),
                        help="API port on 127.0.0.1 (default 3000; 0 picks a free one)")
    parser.add_argument("--prefix", default=DEFAULT_PREFIX, help="resource name prefix")
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".local",
                        help="where stack.json, deployment.json and hardhat.log go")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    # Ctrl-C and SIGTERM both end up as one KeyboardInterrupt in the main thread, during start-up
    # too, so whatever has started is stopped (the Hardhat node runs in its own session: nobody
    # else would stop it). Later signals are ignored so they cannot cut the clean-up short.
    interrupted = threading.Event()

    def interrupt(signum, frame):
        if not interrupted.is_set():
            interrupted.set()
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)

    stack = LocalStack(port=args.port or free_port(), prefix=args.prefix, state_dir=args.state_dir)
    print(f"Starting the local stack (state in {args.state_dir})", flush=True)
    t0 = time.monotonic()
    try:
        stack.start()
    except KeyboardInterrupt:
        print("\nInterrupted; stopped what had started.", flush=True)
        return 130
    except Exception as exc:  # noqa: BLE001 - reported to the user; start() already cleaned up
        print(f"\nThe local stack did not start: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    _print_banner(stack, time.monotonic() - t0)
    try:
        # Short sleeps: a signal may land on another thread, and Python runs its handler only when
        # the main thread next checks, which a long sleep would delay.
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nStopping ...", flush=True)
        stack.stop()
        print("Stopped.", flush=True)
    return 0

if __name__ == "__main__":
    sys.exit(main())
