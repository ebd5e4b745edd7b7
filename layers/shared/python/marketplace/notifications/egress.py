"""SSRF-safe webhook POSTs: the one way a function of this platform calls a creator's URL.

- **Scheme**: ``https`` only, unless ``allow_loopback`` (the local setting
  ``WEBHOOKS_ALLOW_LOOPBACK``), which also allows ``http``.
- **Addresses**: the host is resolved once; if *any* resolved address is not a public unicast
  address (private, loopback, link-local, multicast, reserved, unspecified, shared CGNAT,
  documentation, IPv4-mapped/6to4/Teredo forms of those, cloud metadata such as 169.254.169.254
  and fd00:ec2::254) the request is refused before a packet leaves. ``allow_loopback`` admits
  loopback addresses only (127.0.0.0/8, ::1), nothing else private.
- **Pinning**: the connection goes to the address that was checked (no second resolution, so DNS
  rebinding cannot swap it); TLS still sends the host name (SNI) and verifies the certificate
  against it, and ``Host`` is the URL's host.
- **No redirects** (a 3xx is an answer like any non-2xx: a failed attempt), one overall
  ``timeout`` (10 s) for connect + send + read, and at most ``max_response_bytes`` (64 KiB) of the
  answer read.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "169.254.169.253", "fd00:ec2::254", "fd00:ec2::23", "100.100.100.200"))

Resolver = Callable[[str, int], list[str]]  # host, port -> addresses (as text)


class UnsafeDestination(Exception):
    """The URL may not be called: its scheme, or an address its host resolves to."""


@dataclass(frozen=True)
class Policy:
    allow_loopback: bool = False  # local only: http and 127.0.0.0/8, ::1
    timeout: float = TIMEOUT_SECONDS
    max_response_bytes: int = MAX_RESPONSE_BYTES


@dataclass(frozen=True)
class Outcome:
    status: int | None  # None: no HTTP answer (refused, timeout, connection error)
    error: str | None
    duration_ms: int
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeDestination(f"cannot resolve {host}: {exc.strerror or exc}") from None
    except UnicodeError:  # not an encodable host name (IDNA: a label over 63 characters, ...)
        raise UnsafeDestination(f"{host[:80]} is not a valid host name") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(address: str, policy: Policy) -> str | None:
    """Why ``address`` may not be called under ``policy`` (None: it may)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None:
            why = refusal(str(inner), policy)
            return f"{address} embeds {why}" if why else None
    if ip in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata address"
    if ip.is_loopback:
        return None if policy.allow_loopback else f"{address} is a loopback address"
    for what, flag in (("unspecified", ip.is_unspecified), ("link-local", ip.is_link_local),
                       ("multicast", ip.is_multicast), ("reserved", ip.is_reserved),
                       ("private", ip.is_private)):
        if flag:
            return f"{address} is a {what} address"
    if not ip.is_global:  # shared (100.64/10), documentation and other non-global ranges
        return f"{address} is not a public address"
    return None


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked address the connection goes to


def check(url: str, policy: Policy, resolve: Resolver = system_resolver) -> Target:
    """The URL's pinned target, or ``UnsafeDestination``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeDestination(f"invalid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and policy.allow_loopback):
        raise UnsafeDestination("the URL must use https")
    if not parts.hostname:
        raise UnsafeDestination("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeDestination("the URL may not carry credentials")
    port = port or (443 if scheme == "https" else 80)
    host = parts.hostname
    try:  # a literal address is checked as is, not resolved
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = resolve(host, port)
    if not addresses:
        raise UnsafeDestination(f"{host} resolves to no address")
    for address in addresses:  # every address: a host with one private address is refused
        why = refusal(address, policy)
        if why:
            raise UnsafeDestination(f"{host}: {why}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, host, port, path, addresses[0])


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = target.address
        self._ctx = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self.host)  # SNI + certificate for the host


def post(url: str, body: bytes, headers: dict[str, str], policy: Policy,
         resolve: Resolver = system_resolver, *, tls_context: ssl.SSLContext | None = None) -> Outcome:
    """POST ``body`` to ``url`` under ``policy``; never raises for the receiver's behaviour."""
    started = time.monotonic()

    def ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = check(url, policy, resolve)
    except UnsafeDestination as exc:
        return Outcome(None, f"refused: {exc}", ms())
    deadline = started + policy.timeout
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        conn = _PinnedHTTPS(target, policy.timeout, tls_context or ssl.create_default_context())
    else:
        conn = _PinnedHTTP(target, policy.timeout)
    try:
        conn.request("POST", target.path, body=body, headers={
            **headers, "Host": target.host if target.port in (80, 443) else f"{target.host}:{target.port}",
            "User-Agent": "zkdm-webhooks/1", "Content-Length": str(len(body))})
        _remaining(conn, deadline)
        response = conn.getresponse()
        data = b""
        while len(data) < policy.max_response_bytes:
            _remaining(conn, deadline)
            chunk = response.read1(min(16 * 1024, policy.max_response_bytes - len(data)))
            if not chunk:
                break
            data += chunk
        return Outcome(response.status, None, ms(), data)
    except TimeoutError:
        return Outcome(None, f"timeout after {policy.timeout:g} s", ms())
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(None, f"connection error: {type(exc).__name__}: {exc}", ms())
    finally:
        conn.close()


def _remaining(conn: http.client.HTTPConnection, deadline: float) -> None:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    if conn.sock is not None:
        conn.sock.settimeout(left)
