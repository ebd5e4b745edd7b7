"""Worker keys: the keys that sign each access (EIP-712 ``AccessRequest``), kept on this machine.

A licensee registers a worker key as a usage signer of a license (``zkdm signers add``: the
``AddUsageSigner`` typed data is signed with the licensee's own key and relayed by the platform);
from then on every ``POST /content/{id}/access`` carries that worker's signature over
``(licenseId, counter, requestHash)``, ``counter`` being the uses this key was served + 1.

Files, under ``ZKDM_WORKERS_DIR`` (default ``$XDG_CONFIG_HOME/zkdm/workers``, i.e.
``~/.config/zkdm/workers``), folder mode 0700, files 0600:

- ``<licenseId>/<address>.json``: the key (hex, or an eth-account encrypted keystore when
  ``ZKDM_WORKER_PASSWORD`` was set at creation), and the LicenseManager's EIP-712 domain
  (``chainId``, ``verifyingContract``) the signatures are made for;
- ``<licenseId>/<address>.state.json``: ``served``, the last counter the API served this key,
  rewritten atomically (temporary file, fsync, rename) and only after a served use (200), under an
  exclusive lock (``<address>.lock``) held from signing to recording, so two processes sharing a
  worker never sign the same counter.

One worker's counter is sequential: parallel clients use one worker key each.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zkdm import client_signing
from zkdm.errors import KeyUnavailable
from zkdm.transfer import write_json_atomic

WORKERS_DIR_ENV = "ZKDM_WORKERS_DIR"
WORKER_PASSWORD_ENV = "ZKDM_WORKER_PASSWORD"

try:  # POSIX: an exclusive lock across processes; elsewhere only within this process
    import fcntl
except ImportError:  # pragma: no cover (Windows)
    fcntl = None  # type: ignore[assignment]


def default_workers_dir() -> Path:
    if os.environ.get(WORKERS_DIR_ENV):
        return Path(os.environ[WORKERS_DIR_ENV]).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config).expanduser() / "zkdm" / "workers"


@dataclass
class Worker:
    """One worker key of one license, and where its counter is kept (``state_path``; None: in memory)."""

    license_id: str
    private_key: bytes = field(repr=False)
    chain_id: int = 0  # the LicenseManager's EIP-712 domain (known once the key is registered)
    license_manager: str = ""
    state_path: Path | None = None
    created_at: int = 0
    revoked: bool = False
    _served: int = 0
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def new(cls, license_id: str, domain: dict[str, Any] | None = None, state_path: Path | None = None) -> Worker:
        """A fresh key (the OS's CSPRNG) for a license whose LicenseManager domain is ``domain``
        (the ``domain`` of the ``AddUsageSigner`` typed data)."""
        worker = cls(license_id.lower(), client_signing.new_worker_key().private_key, state_path=state_path,
                     created_at=int(time.time()))
        if domain is not None:
            worker.chain_id, worker.license_manager = int(domain["chainId"]), str(domain["verifyingContract"])
        return worker

    @functools.cached_property
    def address(self) -> str:
        return client_signing.address_of(self.private_key)

    # -- the counter ----------------------------------------------------------------------------

    @property
    def served(self) -> int:
        """The last counter the API served this key (its served uses)."""
        if self.state_path is not None:
            try:
                return int(json.loads(self.state_path.read_text())["served"])
            except (OSError, ValueError, KeyError):
                return 0
        return self._served

    def record_served(self, counter: int) -> None:
        """The API served ``counter``: the next access signs ``counter + 1`` (atomic on disk)."""
        self._served = counter
        if self.state_path is not None:
            write_json_atomic(self.state_path, {"licenseId": self.license_id, "signer": self.address,
                                                "served": counter, "updatedAt": int(time.time())})

    @contextlib.contextmanager
    def locked(self) -> Iterator[Worker]:
        """Exclusive use of the counter, from signing to recording (threads and, on POSIX, processes)."""
        with self._lock:
            if self.state_path is None or fcntl is None:
                yield self
                return
            self.state_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            lock_path = self.state_path.with_name(self.address + ".lock")
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield self
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def headers(self, counter: int, *, path: str = "", method: str = "POST", body: bytes = b"") -> dict[str, str]:
        """The four ``X-Usage-*`` headers of an access signed for ``counter``."""
        if not self.chain_id or not self.license_manager:
            raise KeyUnavailable(f"the worker key {self.address} is not registered yet (no signing domain)")
        return client_signing.access_headers(client_signing.WorkerKey(self.private_key), self.license_id, counter,
                                             self.chain_id, self.license_manager, method=method, path=path,
                                             body=body)


class WorkerStore:
    """Worker keys kept under one folder (see the module's docstring)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_workers_dir()

    def _folder(self, license_id: str) -> Path:
        folder = self.root / license_id.lower()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for path in (self.root, folder):
            with contextlib.suppress(OSError):
                path.chmod(0o700)
        return folder

    def create(self, license_id: str, domain: dict[str, Any] | None = None, password: str | None = None) -> Worker:
        """A new worker key for the license, written (0600) before it is registered anywhere."""
        if password is None:
            password = os.environ.get(WORKER_PASSWORD_ENV) or None
        folder = self._folder(license_id)
        worker = Worker.new(license_id, domain)
        worker.state_path = folder / f"{worker.address}.state.json"
        record: dict[str, Any] = {"licenseId": worker.license_id, "address": worker.address,
                                  "chainId": worker.chain_id or None,
                                  "verifyingContract": worker.license_manager or None,
                                  "createdAt": worker.created_at, "state": "NEW"}
        if password:
            from eth_account import Account

            record["keystore"] = Account.encrypt(worker.private_key, password)
        else:
            record["privateKey"] = "0x" + worker.private_key.hex()
        write_json_atomic(folder / f"{worker.address}.json", record)
        return worker

    def activate(self, worker: Worker, domain: dict[str, Any], state: str, tx_hash: str | None = None) -> None:
        """The key is registered: keep the domain its accesses are signed for."""
        worker.chain_id, worker.license_manager = int(domain["chainId"]), str(domain["verifyingContract"])
        self.mark(worker, worker.license_id, state, chainId=worker.chain_id,
                  verifyingContract=worker.license_manager, txHash=tx_hash)

    def mark(self, worker_or_address: Worker | str, license_id: str, state: str, **extra: Any) -> None:
        """Record the signer's state as the API answered it (ACTIVE, REVOKED)."""
        address = worker_or_address.address if isinstance(worker_or_address, Worker) else worker_or_address.lower()
        path = self.root / license_id.lower() / f"{address}.json"
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            return
        write_json_atomic(path, {**record, "state": state, **extra})

    def records(self, license_id: str | None = None) -> list[dict[str, Any]]:
        """What is kept (without the keys), oldest first."""
        folders = [self.root / license_id.lower()] if license_id else sorted(p for p in self.root.glob("0x*")
                                                                             if p.is_dir())
        out = []
        for folder in folders:
            for path in folder.glob("0x*.json"):
                if path.name.endswith(".state.json"):
                    continue
                try:
                    record = json.loads(path.read_text())
                except (OSError, ValueError):
                    continue
                state = folder / f"{record.get('address')}.state.json"
                served = json.loads(state.read_text()).get("served", 0) if state.exists() else 0
                out.append({k: v for k, v in record.items() if k not in ("privateKey", "keystore")}
                           | {"served": served, "encrypted": "keystore" in record, "file": str(path)})
        return sorted(out, key=lambda r: (r.get("createdAt", 0), r.get("address", "")))

    def load(self, license_id: str, address: str | None = None, password: str | None = None) -> Worker:
        """A worker of the license: ``address``, or the newest one not revoked."""
        kept = self.records(license_id)
        candidates = ([r for r in kept if r.get("state") == "ACTIVE" and r.get("chainId")] if address is None
                      else [r for r in kept if r.get("address", "").lower() == address.lower()])
        if not candidates:
            which = f"worker {address}" if address else "worker key"
            raise KeyUnavailable(f"no {which} for license {license_id} under {self.root}: register one with "
                                 f"`zkdm signers add {license_id}` (the licensee's key signs it)")
        record_path = Path(candidates[-1]["file"])
        record = json.loads(record_path.read_text())
        if "keystore" in record:
            if password is None:
                password = os.environ.get(WORKER_PASSWORD_ENV)
            if not password:
                raise KeyUnavailable(f"the worker key {record['address']} is encrypted: set {WORKER_PASSWORD_ENV}")
            from eth_account import Account

            try:
                key = bytes(Account.decrypt(record["keystore"], password))
            except ValueError as exc:
                raise KeyUnavailable(f"cannot decrypt the worker key {record['address']}: wrong password?") from exc
        else:
            key = bytes.fromhex(record["privateKey"][2:])
        return Worker(record["licenseId"], key, int(record.get("chainId") or 0), record.get("verifyingContract") or "",
                      record_path.with_name(f"{record['address']}.state.json"), int(record.get("createdAt", 0)),
                      record.get("state") == "REVOKED")
