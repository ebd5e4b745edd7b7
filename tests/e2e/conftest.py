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

from local.client import Client
from local.processes import ROOT, free_port

START_TIMEOUT = 300  # seconds: Hardhat boot, contract deployment, moto, resources


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """stack.json of a local stack started for this session (stopped at the end)."""
    state_dir = tmp_path_factory.mktemp("local-stack")
    log_path = state_dir / "stack.log"
    info_path = state_dir / "stack.json"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "local.stack", "--port", str(free_port()), "--state-dir", str(state_dir),
             "--log-level", "INFO"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not info_path.is_file():
            if proc.poll() is not None:
                pytest.fail(f"local stack exited with {proc.returncode}:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                pytest.fail(f"local stack not ready after {START_TIMEOUT} s:\n{_tail(log_path)}")
            time.sleep(0.2)
        info = json.loads(info_path.read_text())
        info["logPath"] = str(log_path)
        yield info
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the stack stops its Hardhat node and servers itself
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def client(stack) -> Client:
    return Client(stack["apiUrl"], timeout=120)


def account(stack, role: str) -> dict:
    return next(a for a in stack["accounts"] if a["role"] == role)


@pytest.fixture(scope="session")
def creator_token(stack, client) -> str:
    return client.login(account(stack, "creator1")["privateKey"])
