"""A small client of the marketplace API, for tests, benchmarks and people trying the local stack.

    from local.client import Client
    api = Client(api_url)
    token = api.login(private_key)            # Sign-In with Ethereum -> JWT
    record = api.register_file(token, "photo.jpg", {"title": "Sunset", "description": "", "tags": []})

``register_file`` sends small files as multipart ``POST /content/register`` and larger ones through
``POST /content/uploads`` + the presigned S3 POST + ``POST /content/register {"uploadId"}``, then
follows a ``202 Location`` until the registration is REGISTERED (or raises ``ApiError`` with the
error body). The module-level ``login`` and ``register_file`` are the same with an ``api_url``.

CLI (reads the demo accounts from .local/stack.json written by ``python -m local.stack``)::

    uv run python -m local.client register FILE --account creator1 [--title T] [--tag x]
    uv run python -m local.client get CONTENT_ID
    uv run python -m local.client login --account creator1
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from eth_account import Account
from eth_account.messages import encode_defunct

ROOT = Path(__file__).resolve().parents[1]
# Largest file sent inline. The API takes up to 5 MiB, but API Gateway base64-encodes a multipart
# body and Lambda refuses events over 6 MB, so bodies above ~4.5 MB never reach the function;
# 4 MiB leaves room for the multipart framing and the rest of the event.
MULTIPART_MAX = 4 * 1024 * 1024


class ApiError(Exception):
    """A refused request: ``status`` and the JSON error body (``{"error", "message", ...}``);
    ``status`` is None for a registration that FAILED after its request was answered 202."""

    def __init__(self, status: int | None, body: Any, method: str = "", url: str = "") -> None:
        code = body.get("error") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else body
        super().__init__(f"{method} {url} -> {status} {code or ''}: {message}")
        self.status = status
        self.body = body


def _json(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return resp.text


@dataclass
class Client:
    api_url: str
    timeout: float = 60.0  # per HTTP request
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.api_url = self.api_url.rstrip("/")

    # -- plumbing -------------------------------------------------------------------------------

    def request(self, method: str, path: str, token: str | None = None, expect: tuple[int, ...] = (200,),
                **kwargs: Any) -> requests.Response:
        url = path if path.startswith("http") else self.api_url + path
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        resp = self.session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
        if resp.status_code not in expect:
            raise ApiError(resp.status_code, _json(resp), method, url)
        return resp

    # -- auth -----------------------------------------------------------------------------------

    def login(self, private_key: str) -> str:
        """Sign in with Ethereum: nonce, sign the EIP-4361 message, exchange it for a JWT."""
        account = Account.from_key(private_key)
        challenge = self.request("POST", "/auth/nonce", json={"address": account.address}).json()
        signed = account.sign_message(encode_defunct(text=challenge["message"]))
        signature = "0x" + signed.signature.hex().removeprefix("0x")
        return self.request("POST", "/auth/login",
                            json={"message": challenge["message"], "signature": signature}).json()["token"]

    # -- content --------------------------------------------------------------------------------

    def get_content(self, content_id: str) -> dict[str, Any]:
        return self.request("GET", f"/content/{content_id}").json()

    def start_registration(self, token: str, data: bytes, metadata: dict[str, Any], filename: str,
                           content_type: str | None = None) -> requests.Response:
        """The registration request (multipart, or upload + register): its 201 or 202 response."""
        content_type = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        if len(data) <= MULTIPART_MAX:
            return self.request(
                "POST", "/content/register", token, expect=(201, 202),
                files={"file": (filename, data, content_type), "metadata": (None, json.dumps(metadata))},
            )
        upload = self.request("POST", "/content/uploads", token, expect=(200, 201),
                              json={"size": len(data), "filename": filename}).json()
        s3 = self.session.post(upload["url"], data=upload["fields"], files={"file": (filename, data, content_type)},
                               timeout=max(self.timeout, 300))
        if s3.status_code not in (200, 201, 204):
            raise ApiError(s3.status_code, s3.text, "POST", upload["url"])
        return self.request("POST", "/content/register", token, expect=(201, 202),
                            json={"uploadId": upload["uploadId"], "metadata": metadata})

    def wait_registration(self, token: str, location: str, timeout: float = 600, interval: float = 0.5) -> dict:
        """Poll a 202's ``Location`` (``GET /content/registrations/{id}``) until the registration
        leaves PENDING: REGISTERED returns its result (the 201 body); FAILED raises ``ApiError``
        with the error the saga recorded."""
        deadline = time.monotonic() + timeout
        while True:
            body = self.request("GET", location, token).json()
            if body["state"] == "REGISTERED":
                return body["result"]
            if body["state"] == "FAILED":
                raise ApiError(None, body.get("error"), "GET", location)
            if time.monotonic() > deadline:
                raise TimeoutError(f"registration still {body['state']} after {timeout:.0f} s: {body}")
            time.sleep(interval)

    def register_file(self, token: str, path_or_bytes: str | Path | bytes, metadata: dict[str, Any],
                      filename: str | None = None, timeout: float = 600) -> dict[str, Any]:
        """Register a file and wait until it is REGISTERED; the response body of the registration."""
        if isinstance(path_or_bytes, bytes):
            data, name = path_or_bytes, filename or "upload.bin"
        else:
            path = Path(path_or_bytes)
            data, name = path.read_bytes(), filename or path.name
        resp = self.start_registration(token, data, metadata, name)
        if resp.status_code == 201:
            return resp.json()
        return self.wait_registration(token, resp.headers["Location"], timeout)


def login(api_url: str, private_key: str) -> str:
    return Client(api_url).login(private_key)


def register_file(api_url: str, token: str, path_or_bytes: str | Path | bytes, metadata: dict[str, Any],
                  **kwargs: Any) -> dict[str, Any]:
    return Client(api_url).register_file(token, path_or_bytes, metadata, **kwargs)


# ------------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------------


def _stack_info(path: Path) -> dict[str, Any]:
    if not path.is_file():
        sys.exit(f"{path} not found: start the local stack first (make dev)")
    return json.loads(path.read_text())


def stack_account(info: dict[str, Any], role: str) -> dict[str, str]:
    """``{role, address, privateKey}`` of a demo account in stack.json (``creator1``, ``buyer1``, ...)."""
    for account in info["accounts"]:
        if account["role"] == role:
            return account
    raise KeyError(f"no account {role!r}; roles: {', '.join(a['role'] for a in info['accounts'])}")


def _key_for(info: dict[str, Any], role: str) -> str:
    try:
        return stack_account(info, role)["privateKey"]
    except KeyError as err:
        sys.exit(str(err))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.client", description="Try the marketplace API by hand.")
    parser.add_argument("--stack", type=Path, default=ROOT / ".local" / "stack.json", help="stack.json to read")
    parser.add_argument("--api", help="API URL (default: apiUrl from stack.json)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_login = sub.add_parser("login", help="sign in and print a JWT")
    p_login.add_argument("--account", default="creator1", help="demo account role (creator1, buyer1, ...)")
    p_reg = sub.add_parser("register", help="register a file and wait until it is REGISTERED")
    p_reg.add_argument("file", type=Path)
    p_reg.add_argument("--account", default="creator1")
    p_reg.add_argument("--title")
    p_reg.add_argument("--description", default="")
    p_reg.add_argument("--tag", action="append", default=[], dest="tags")
    p_get = sub.add_parser("get", help="show a content item's metadata and state")
    p_get.add_argument("content_id")
    args = parser.parse_args(argv)

    info = _stack_info(args.stack) if (args.command != "get" or not args.api) else {}
    client = Client(args.api or info["apiUrl"])
    try:
        if args.command == "login":
            print(client.login(_key_for(info, args.account)))
        elif args.command == "register":
            token = client.login(_key_for(info, args.account))
            metadata = {"title": args.title or args.file.name, "description": args.description, "tags": args.tags}
            t0 = time.monotonic()
            result = client.register_file(token, args.file, metadata)
            print(json.dumps(result, indent=2))
            print(f"registered in {time.monotonic() - t0:.1f} s", file=sys.stderr)
        elif args.command == "get":
            print(json.dumps(client.get_content(args.content_id), indent=2))
    except ApiError as err:
        print(json.dumps({"status": err.status, "body": err.body}, indent=2), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
