"""Large files: resumable S3 multipart uploads through presigned part URLs, and resumable downloads.

**Upload** (``Registration``): a file above ``client.INLINE_MAX`` is announced with
``POST /content/uploads {multipart: true}``; its parts (64 MiB by default) are PUT in parallel to
their presigned URLs, each with its ``Content-MD5`` (S3 refuses a part whose bytes differ) and its
answered ETag checked against the local MD5. A state file (``<state_dir>/uploads/<key>.json``,
keyed by the API, the file's absolute path, size and mtime) records the upload id and every part
done, written atomically after each part. Run the same command again after an interruption: the
SDK asks the API what S3 holds (``POST /content/uploads/{id}/parts``), keeps each part whose ETag
equals the MD5 of the local bytes, uploads the rest with fresh URLs, completes, registers, and polls
the registration (``Location``) to the end. The registration id is recorded too, so an interruption
while polling resumes the polling.

**Download** (``download``): streams a presigned URL to ``<dest>.part`` and resumes it with an HTTP
``Range`` request; the finished file's SHA-256 is checked against the content's registered hash.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from zkdm import models as m
from zkdm.errors import ApiError, TransferError

if TYPE_CHECKING:
    from zkdm.client import Client

STATE_VERSION = 1
READ_SIZE = 1024 * 1024
PART_ATTEMPTS = 4


def default_home() -> Path:
    return Path(os.environ.get("ZKDM_HOME") or Path.home() / ".zkdm").expanduser()


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` so that a crash leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=1)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def _md5_of(path: Path, offset: int, size: int) -> bytes:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        f.seek(offset)
        left = size
        while left:
            piece = f.read(min(READ_SIZE, left))
            if not piece:
                raise TransferError(f"{path} is shorter than when the upload started")
            digest.update(piece)
            left -= len(piece)
    return digest.digest()


class Registration:
    """One file's way in: upload (inline, or multipart and resumable), register, poll to the end."""

    def __init__(self, client: Client, path: Path, metadata: dict[str, Any], *, state_dir: str | Path | None = None,
                 part_size: int | None = None, workers: int = 4,
                 on_bytes: Callable[[int, int], None] | None = None,
                 on_status: Callable[[m.RegistrationStatus], None] | None = None,
                 on_event: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self.client, self.path, self.metadata = client, path.resolve(), metadata
        self.part_size, self.workers = part_size, max(1, workers)
        self.on_bytes = on_bytes or (lambda done, total: None)
        self.on_status = on_status
        self.on_event = on_event or (lambda name, info: None)
        stat = self.path.stat()
        self.size, self.mtime_ns = stat.st_size, stat.st_mtime_ns
        identity = f"{client.api_url}\n{self.path}\n{self.size}\n{self.mtime_ns}"
        key = hashlib.sha256(identity.encode()).hexdigest()[:24]
        self.state_path = Path(state_dir or default_home()) / "uploads" / f"{key}.json"
        self.state: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._done_bytes = 0
        self.stats = {"partsUploaded": 0, "partsResumed": 0, "bytesUploaded": 0}

    # -- the whole way ----------------------------------------------------------------------------

    def run(self) -> m.RegistrationResult:
        from zkdm.client import INLINE_MAX

        if self.size == 0:
            raise TransferError(f"{self.path} is empty")
        if self.size <= INLINE_MAX:
            answer = self.client.register_inline(self.path.read_bytes(), self.path.name, self.metadata)
            self.on_bytes(self.size, self.size)
            return self._finish(answer)
        self.state = self._load_state()
        if self.state.get("registrationId"):
            self.on_event("resume-registration", {"registrationId": self.state["registrationId"]})
            return self._poll(self.state["registrationId"])
        self.upload()
        try:
            answer = self.client.register_upload(self.state["uploadId"], self.metadata)
        except ApiError as err:
            if err.status == 409 and err.details.get("registrationId") == self.state["uploadId"]:
                return self._poll(self.state["uploadId"])  # registered by a run that died before recording it
            raise
        return self._finish(answer)

    def _finish(self, answer: m.RegistrationResult | m.RegistrationAccepted) -> m.RegistrationResult:
        if isinstance(answer, m.RegistrationResult):
            self._forget()
            return answer
        if self.state:
            self.state["registrationId"] = answer.registrationId
            self._save()
        return self._poll(answer.registrationId)

    def _poll(self, registration_id: str) -> m.RegistrationResult:
        try:
            result = self.client.wait_registration(registration_id, on_status=self.on_status)
        except ApiError as err:
            if err.status is None:  # the registration FAILED: this upload is spent
                self._forget()
            raise
        self._forget()
        return result

    # -- state ------------------------------------------------------------------------------------

    def _load_state(self) -> dict[str, Any]:
        try:
            state = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return {}
        same = (state.get("version") == STATE_VERSION and state.get("apiUrl") == self.client.api_url
                and state.get("path") == str(self.path) and state.get("size") == self.size
                and state.get("mtimeNs") == self.mtime_ns)
        return state if same else {}

    def _save(self) -> None:
        with self._lock:
            write_json_atomic(self.state_path, self.state)

    def _forget(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.state_path.unlink()

    # -- the multipart upload ---------------------------------------------------------------------

    def upload(self) -> str:
        """Upload the file (resuming a recorded upload) and complete it: its upload id, ready to
        register (``client.register_upload``)."""
        if not self.state:
            self.state = self._load_state()
        if not self.state.get("completed"):
            self._upload()
        return self.state["uploadId"]

    def _upload(self) -> None:
        if self.state.get("uploadId"):
            view = self.client.upload_parts(self.state["uploadId"])
            held = {p.partNumber: p.etag.strip('"') for p in view.uploaded}
            parts = self.state.setdefault("parts", {})
            for number, etag in held.items():
                local = parts.get(str(number))
                offset = (number - 1) * self.state["partSize"]
                size = min(self.state["partSize"], self.size - offset)
                md5 = local["md5"] if local else _md5_of(self.path, offset, size).hex()
                if md5 == etag:  # S3 holds exactly our bytes for this part
                    parts[str(number)] = {"etag": f'"{etag}"', "md5": md5}
                else:
                    parts.pop(str(number), None)
            for number in [n for n in parts if int(n) not in held]:
                parts.pop(number)  # recorded but not in S3 (expired?): upload again
            self.stats["partsResumed"] = len(parts)
            self.on_event("resume-upload", {"uploadId": self.state["uploadId"], "partsHeld": len(parts),
                                            "partCount": self.state["partCount"]})
            urls: dict[int, str] = {}
        else:
            answer = self.client.create_upload(self.size, self.path.name, multipart=True, part_size=self.part_size)
            assert isinstance(answer, m.MultipartUploadResponse)
            self.state = {"version": STATE_VERSION, "apiUrl": self.client.api_url, "path": str(self.path),
                          "size": self.size, "mtimeNs": self.mtime_ns, "uploadId": answer.uploadId,
                          "partSize": answer.partSize, "partCount": answer.partCount, "parts": {},
                          "metadata": self.metadata}
            self._save()
            urls = {p.partNumber: p.url for p in answer.parts}
            self.on_event("upload-started", {"uploadId": answer.uploadId, "partCount": answer.partCount,
                                             "partSize": answer.partSize})
        part_size, count = self.state["partSize"], self.state["partCount"]
        missing = [n for n in range(1, count + 1) if str(n) not in self.state["parts"]]
        self._done_bytes = sum(min(part_size, self.size - (int(n) - 1) * part_size) for n in self.state["parts"])
        self.on_bytes(self._done_bytes, self.size)
        if missing and any(n not in urls for n in missing):
            fresh = self.client.upload_parts(self.state["uploadId"], missing)
            urls.update({p.partNumber: p.url for p in fresh.parts})
        with ThreadPoolExecutor(self.workers, thread_name_prefix="zkdm-part") as pool:
            futures = [pool.submit(self._put_part, n, urls[n]) for n in missing]
            wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:
                if future.done() and future.exception() is not None:
                    for other in futures:
                        other.cancel()
                    raise future.exception()  # type: ignore[misc]
        parts = [(n, self.state["parts"][str(n)]["etag"]) for n in range(1, count + 1)]
        self.client.complete_upload(self.state["uploadId"], parts)
        self.state["completed"] = True
        self._save()
        self.on_event("upload-completed", {"uploadId": self.state["uploadId"]})

    def _put_part(self, number: int, url: str) -> None:
        part_size = self.state["partSize"]
        offset = (number - 1) * part_size
        size = min(part_size, self.size - offset)
        md5 = _md5_of(self.path, offset, size)
        for attempt in range(1, PART_ATTEMPTS + 1):
            sent = 0

            def body() -> Iterator[bytes]:
                nonlocal sent
                with open(self.path, "rb") as f:
                    f.seek(offset)
                    left = size
                    while left:
                        piece = f.read(min(READ_SIZE, left))
                        left -= len(piece)
                        sent += len(piece)
                        self._advance(len(piece))
                        yield piece
            try:
                resp = self.client.http.put(url, content=body(), headers={
                    "Content-Length": str(size), "Content-MD5": base64.b64encode(md5).decode()}, timeout=300)
            except httpx.TransportError as exc:
                self._advance(-sent)
                if attempt == PART_ATTEMPTS:
                    raise TransferError(f"part {number}: {exc}") from exc
                time.sleep(min(2 ** attempt, 10))
                continue
            if resp.status_code == 403 and attempt < PART_ATTEMPTS:  # URL expired: a fresh one
                self._advance(-sent)
                url = self.client.upload_parts(self.state["uploadId"], [number]).parts[0].url
                continue
            if resp.status_code >= 500 and attempt < PART_ATTEMPTS:
                self._advance(-sent)
                time.sleep(min(2 ** attempt, 10))
                continue
            if resp.status_code != 200:
                self._advance(-sent)
                raise ApiError.from_body(resp.status_code, resp.text, "PUT", url.split("?")[0])
            etag = resp.headers.get("ETag", "")
            if len(etag.strip('"')) == 32 and etag.strip('"') != md5.hex():
                self._advance(-sent)
                if attempt == PART_ATTEMPTS:
                    raise TransferError(f"part {number}: S3 stored bytes whose MD5 {etag} is not ours ({md5.hex()})")
                continue
            with self._lock:
                self.state["parts"][str(number)] = {"etag": etag, "md5": md5.hex()}
                self.stats["partsUploaded"] += 1
                self.stats["bytesUploaded"] += size
            self._save()
            return

    def _advance(self, n: int) -> None:
        with self._lock:
            self._done_bytes += n
            done = self._done_bytes
        self.on_bytes(done, self.size)


def pending_uploads(state_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """The multipart uploads this machine can resume (their state files)."""
    folder = Path(state_dir or default_home()) / "uploads"
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        state["stateFile"] = str(path)
        out.append(state)
    return out


# -- download ----------------------------------------------------------------------------------------


def download(client: Client, url: str, dest: Path, *, expected_sha256: str | None = None,
             expected_size: int | None = None, on_bytes: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Stream ``url`` to ``dest`` through ``<dest>.part``, resuming a partial file with ``Range``;
    check the size and the SHA-256 (hex, with or without 0x) when given."""
    on_bytes = on_bytes or (lambda done, total: None)
    dest = Path(dest)
    partial = dest.with_name(dest.name + ".part")
    have = partial.stat().st_size if partial.exists() else 0
    resumed_from = have
    headers = {"Range": f"bytes={have}-"} if have else {}
    with client.http.stream("GET", url, headers=headers, timeout=httpx.Timeout(60, read=300)) as resp:
        if resp.status_code == 416 and expected_size is not None and have == expected_size:
            pass  # already complete
        elif resp.status_code not in (200, 206):
            resp.read()
            raise ApiError.from_body(resp.status_code, resp.text, "GET", url.split("?")[0])
        else:
            if resp.status_code == 200:  # the server ignored the range: start over
                have = resumed_from = 0
            total = expected_size or (have + int(resp.headers.get("Content-Length", 0)))
            with open(partial, "ab" if have else "wb") as out:
                for piece in resp.iter_bytes(READ_SIZE):
                    out.write(piece)
                    have += len(piece)
                    on_bytes(have, total)
    if expected_size is not None and have != expected_size:
        raise TransferError(f"downloaded {have} bytes, expected {expected_size}: run again to resume")
    digest = hashlib.sha256()
    with open(partial, "rb") as f:
        while piece := f.read(READ_SIZE):
            digest.update(piece)
    if expected_sha256 is not None and digest.hexdigest() != expected_sha256.lower().removeprefix("0x"):
        partial.unlink()
        raise TransferError(f"SHA-256 {digest.hexdigest()} differs from the registered {expected_sha256}")
    os.replace(partial, dest)
    return {"path": str(dest), "size": have, "sha256": "0x" + digest.hexdigest(), "resumedFrom": resumed_from}
