"""The end-to-end tier: the whole local stack (``python -m local.stack``) in a child process on free
ports, used over HTTP as a client would. Needs ``make build`` (contracts and circuits)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from local.client import Client, stack_account
from local.processes import ROOT, free_port

START_TIMEOUT = 300  # seconds: Hardhat boot, contract deployment, moto, resources


class StackProcess:
    """``python -m local.stack`` as a child process with its own state directory and free ports."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.log_path = state_dir / "stack.log"
        self.info_path = state_dir / "stack.json"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "local.stack", "--port", str(free_port()), "--state-dir", str(state_dir),
                 "--log-level", "INFO"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def wait_ready(self) -> dict:
        deadline = time.monotonic() + START_TIMEOUT
        while not self.info_path.is_file():
            if self.proc.poll() is not None:
                pytest.fail(f"local stack exited with {self.proc.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"local stack not ready after {START_TIMEOUT} s:\n{self.tail()}")
            time.sleep(0.2)
        info = json.loads(self.info_path.read_text())
        info["logPath"] = str(self.log_path)
        return info

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        _stop(self.proc)


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """stack.json of a local stack started for this session (stopped at the end).

    ``E2E_STACK_JSON=.local/stack.json`` runs the tier against a stack that is already running
    (``make dev`` in another terminal) instead.
    """
    existing = os.environ.get("E2E_STACK_JSON")
    if existing:
        yield json.loads(Path(existing).read_text())
        return
    process = StackProcess(tmp_path_factory.mktemp("local-stack"))
    try:
        yield process.wait_ready()
    finally:
        process.stop()


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the stack stops its Hardhat node and servers itself
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def client(stack) -> Client:
    return Client(stack["apiUrl"], timeout=120)


@pytest.fixture(scope="session")
def creator_token(stack, client) -> str:
    return client.login(stack_account(stack, "creator1")["privateKey"])


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory):
    """stack.json of a local stack of the module's own, stopped at the module's end: for tests that
    move the chain's clock (``evm_increaseTime``), which would break other tests' wall-clock
    deadlines (permits, quotes, terms) on the session's shared chain. Always started, even with
    ``E2E_STACK_JSON``, so a ``make dev`` chain's time is never moved."""
    process = StackProcess(tmp_path_factory.mktemp("own-stack"))
    try:
        yield process.wait_ready()
    finally:
        process.stop()


@pytest.fixture
def start_stack(tmp_path):
    """Start another local stack (for tests that stop it themselves); any left running is stopped."""
    started: list[StackProcess] = []

    def start() -> StackProcess:
        process = StackProcess(tmp_path)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture(scope="session")
def moto_server():
    """One moto server in this process (moto's state is per process) for the plumbing tests."""
    from local.processes import MotoServer

    server = MotoServer().start()
    yield server
    server.stop()
