# Vendored from layers/shared/python/marketplace/usage/access_signature.py by sdk/tools/vendor_signing.py:
# do not edit here (edit the server's file and run the tool).
# Differences: keccak from eth-utils (eth-account's dependency) instead of pycryptodome.
"""The worker's signed access, checked without web3: EIP-712 ``AccessRequest`` digests and secp256k1
public-key recovery in plain Python (keccak from eth-utils, loaded on first use).

The access path imports this module (its import budget is 300 ms; eth-account/eth_keys cost more
than that), so it depends on nothing but the standard library until the first digest. Recovery
accepts exactly what ``LicenseManager`` accepts on chain: ``r`` and ``s`` in range, ``s`` in the
lower half (EIP-2), ``v`` 27/28 (or 0/1), a 65-byte ``r ‖ s ‖ v`` or a 64-byte EIP-2098 compact
``r ‖ vs`` signature. Same typed data as ``LicenseManager.accessDigest(licenseId, counter,
requestHash)``: domain ``("LicenseManager", "1", chainId, the manager's address)``.
"""

from __future__ import annotations

import functools

# secp256k1
_P = 2**256 - 2**32 - 977
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
      0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)
_HALF_N = _N // 2
UINT64_MAX = 2**64 - 1

ACCESS_REQUEST_TYPE = "AccessRequest(bytes32 licenseId,uint64 counter,bytes32 requestHash)"
DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"


@functools.cache
def _keccak_impl():
    from eth_utils import keccak

    return keccak


def keccak256(data: bytes) -> bytes:
    return bytes(_keccak_impl()(data))


@functools.cache
def _typehashes() -> tuple[bytes, bytes]:
    return keccak256(DOMAIN_TYPE.encode()), keccak256(ACCESS_REQUEST_TYPE.encode())


def domain_separator(chain_id: int, license_manager: str) -> bytes:
    """The LicenseManager's EIP-712 domain separator (``DOMAIN_SEPARATOR()``)."""
    domain_hash, _ = _typehashes()
    return keccak256(domain_hash + keccak256(b"LicenseManager") + keccak256(b"1")
                     + chain_id.to_bytes(32, "big") + bytes.fromhex(license_manager[2:]).rjust(32, b"\0"))


def access_digest(separator: bytes, license_id: str | bytes, counter: int, request_hash: str | bytes) -> bytes:
    """``keccak256(0x1901 ‖ separator ‖ hashStruct(AccessRequest))`` (= ``accessDigest``)."""
    _, access_hash = _typehashes()
    lid = license_id if isinstance(license_id, bytes) else bytes.fromhex(license_id[2:])
    req = request_hash if isinstance(request_hash, bytes) else bytes.fromhex(request_hash[2:])
    if len(lid) != 32 or len(req) != 32 or not 0 <= counter <= UINT64_MAX:
        raise ValueError("licenseId and requestHash are 32 bytes, counter a uint64")
    return keccak256(b"\x19\x01" + separator + keccak256(access_hash + lid + counter.to_bytes(32, "big") + req))


def split(signature: bytes) -> tuple[int, int, int] | None:
    """``(r, s, v)`` (v 27/28) of a 65-byte or 64-byte (EIP-2098) signature; None if unusable."""
    if len(signature) == 65:
        r, s, v = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big"), signature[64]
        v = v + 27 if v < 27 else v
    elif len(signature) == 64:
        r, vs = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        s, v = vs & ((1 << 255) - 1), 27 + (vs >> 255)
    else:
        return None
    if v not in (27, 28) or not (0 < r < _N and 0 < s <= _HALF_N):
        return None
    return r, s, v


def compact(signature: bytes) -> tuple[bytes, bytes]:
    """``(r, vs)`` of a signature (EIP-2098), as ``logUsageBatch``'s accesses take it."""
    parts = split(signature)
    if parts is None:
        raise ValueError("not a valid low-s secp256k1 signature")
    r, s, v = parts
    return r.to_bytes(32, "big"), ((v - 27) << 255 | s).to_bytes(32, "big")


# -- curve arithmetic (Jacobian coordinates) --------------------------------------------------


def _double(p: tuple[int, int, int]) -> tuple[int, int, int]:
    x, y, z = p
    if not y:
        return 0, 0, 0
    ysq = y * y % _P
    s = 4 * x * ysq % _P
    m = 3 * x * x % _P
    nx = (m * m - 2 * s) % _P
    return nx, (m * (s - nx) - 8 * ysq * ysq) % _P, 2 * y * z % _P


def _add(p: tuple[int, int, int], q: tuple[int, int, int]) -> tuple[int, int, int]:
    if not p[2]:
        return q
    if not q[2]:
        return p
    x1, y1, z1 = p
    x2, y2, z2 = q
    z1s, z2s = z1 * z1 % _P, z2 * z2 % _P
    u1, u2 = x1 * z2s % _P, x2 * z1s % _P
    s1, s2 = y1 * z2s * z2 % _P, y2 * z1s * z1 % _P
    if u1 == u2:
        return _double(p) if s1 == s2 else (0, 0, 0)
    h, r = u2 - u1, s2 - s1
    h2 = h * h % _P
    h3 = h * h2 % _P
    u1h2 = u1 * h2 % _P
    nx = (r * r - h3 - 2 * u1h2) % _P
    return nx, (r * (u1h2 - nx) - s1 * h3) % _P, h * z1 * z2 % _P


def _mul2(a: int, p: tuple[int, int, int], b: int, q: tuple[int, int, int]) -> tuple[int, int, int]:
    """``a·P + b·Q`` in one double-and-add pass (Shamir's trick)."""
    pq = _add(p, q)
    out = (0, 0, 0)
    for i in range(max(a.bit_length(), b.bit_length()) - 1, -1, -1):
        out = _double(out)
        bits = ((a >> i) & 1, (b >> i) & 1)
        if bits == (1, 1):
            out = _add(out, pq)
        elif bits[0]:
            out = _add(out, p)
        elif bits[1]:
            out = _add(out, q)
    return out


def recover(digest: bytes, signature: bytes) -> str | None:
    """The lowercase 0x address whose key signed the 32-byte ``digest``, or None (unusable or
    high-s signature, or no point)."""
    parts = split(signature)
    if parts is None or len(digest) != 32:
        return None
    r, s, v = parts
    x = r  # r < n < p; the r + n case has probability ~2^-128 and the chain's ecrecover ignores it too
    y2 = (pow(x, 3, _P) + 7) % _P
    y = pow(y2, (_P + 1) // 4, _P)
    if y * y % _P != y2:
        return None
    if y % 2 != v - 27:
        y = _P - y
    e = int.from_bytes(digest, "big") % _N
    r_inv = pow(r, -1, _N)
    # Q = r^-1 (s·R − e·G) = (s·r^-1)·R + (−e·r^-1)·G
    qx, qy, qz = _mul2(s * r_inv % _N, (x, y, 1), (-e * r_inv) % _N, (*_G, 1))
    if not qz:
        return None
    zinv = pow(qz, -1, _P)
    zinv2 = zinv * zinv % _P
    ax, ay = qx * zinv2 % _P, qy * zinv2 * zinv % _P
    return "0x" + keccak256(ax.to_bytes(32, "big") + ay.to_bytes(32, "big"))[12:].hex()
