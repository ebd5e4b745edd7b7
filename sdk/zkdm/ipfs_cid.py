# Vendored from layers/shared/python/marketplace/ipfs.py by sdk/tools/vendor_verify.py:
# do not edit here (edit the server's file and run the tool).
# Differences: none.
"""The CID that `ipfs add` gives a file by default, computed in one streaming pass.

`ipfs add` (kubo) with its defaults builds a UnixFS DAG of dag-pb nodes:

- the file is cut into 256 KiB chunks (``size-262144``);
- each chunk becomes a leaf node ``PBNode{Data: UnixFS{Type: File, Data: chunk, filesize: len}}``
  (CIDv0 means no raw leaves);
- leaves are joined by the *balanced* layout, at most 174 links per node: the first 174 leaves hang
  under one node, the next 174 under a second, and so on; those nodes are grouped by 174 in the
  same way, until one node is left, the root. A file of one chunk is its own root.
- an internal node is ``PBNode{Links: [...], Data: UnixFS{Type: File, filesize, blocksizes}}``
  where each link carries the child's multihash, an empty name and ``Tsize`` (the child's encoded
  size plus everything below it).

The root's SHA-256 multihash is the CIDv0 (base58btc ``Qm…``); the same multihash as a CIDv1 with
the dag-pb codec in base32 is the ``bafy…`` form. Only one open node per level is kept, so memory
does not grow with the file (a level holds at most 174 small link records).
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

CHUNK_SIZE = 262_144
MAX_LINKS = 174

_SHA2_256 = 0x12
_DAG_PB = 0x70
_CID_V1 = 0x01
_UNIXFS_FILE = 2
_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


# --- protobuf encoding (only what dag-pb and UnixFS need) ------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_varint(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _field_bytes(field: int, value: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(value)) + value


def _unixfs_file(data: bytes | None, filesize: int, blocksizes: list[int]) -> bytes:
    """UnixFS ``Data`` message: Type (1), Data (2), filesize (3), blocksizes (4, not packed)."""
    out = _field_varint(1, _UNIXFS_FILE)
    if data:
        out += _field_bytes(2, data)
    out += _field_varint(3, filesize)
    for size in blocksizes:
        out += _field_varint(4, size)
    return out


@dataclass(frozen=True)
class _Link:
    multihash: bytes
    tsize: int  # encoded size of the child and everything under it
    filesize: int  # bytes of file data under the child


def _pb_node(links: list[_Link], data: bytes) -> bytes:
    """dag-pb ``PBNode``: links (field 2) come before data (field 1) in the canonical encoding."""
    out = b""
    for link in links:
        # PBLink: Hash (1), Name (2, present and empty as kubo writes it), Tsize (3)
        body = _field_bytes(1, link.multihash) + _field_bytes(2, b"") + _field_varint(3, link.tsize)
        out += _field_bytes(2, body)
    return out + _field_bytes(1, data)


def _multihash(block: bytes) -> bytes:
    return bytes([_SHA2_256, 32]) + hashlib.sha256(block).digest()


def _leaf(chunk: bytes | bytearray | memoryview) -> _Link:
    """A leaf ``PBNode{Data: UnixFS{Type: File, Data: chunk, filesize}}``, hashed without copying
    the chunk: the block is ``0x0a len(UnixFS) | 08 02 | 12 len(chunk) chunk | 18 filesize``, so its
    SHA-256 is fed the small header, the chunk in place and the small trailer."""
    n = len(chunk)
    if n == 0:  # an empty file: UnixFS without a Data field
        block = _pb_node([], _unixfs_file(None, 0, []))
        return _Link(_multihash(block), len(block), 0)
    size = _varint(n)
    unixfs_len = 2 + 1 + len(size) + n + 1 + len(size)
    header = b"\x0a" + _varint(unixfs_len) + b"\x08\x02\x12" + size
    trailer = b"\x18" + size
    digest = hashlib.sha256(header)
    digest.update(chunk)
    digest.update(trailer)
    return _Link(bytes([_SHA2_256, 32]) + digest.digest(), len(header) + n + len(trailer), n)


def _parent(children: list[_Link]) -> _Link:
    filesize = sum(c.filesize for c in children)
    block = _pb_node(children, _unixfs_file(None, filesize, [c.filesize for c in children]))
    return _Link(_multihash(block), len(block) + sum(c.tsize for c in children), filesize)


# --- CID text forms ----------------------------------------------------------------------------


def _base58btc(raw: bytes) -> str:
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, rem = divmod(n, 58)
        out = _B58_ALPHABET[rem] + out
    pad = len(raw) - len(raw.lstrip(b"\0"))
    return "1" * pad + out


def cid_v0(multihash: bytes) -> str:
    return _base58btc(multihash)


def cid_v1(multihash: bytes, codec: int = _DAG_PB) -> str:
    raw = bytes([_CID_V1, codec]) + multihash
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def cid_digest(cid: str) -> bytes:
    """The SHA-256 digest inside a CIDv0 (what ContentRegistry stores as ``cidDigest``)."""
    n = 0
    for ch in cid:
        n = n * 58 + _B58_ALPHABET.index(ch)
    raw = n.to_bytes(34, "big")
    if raw[:2] != bytes([_SHA2_256, 32]):
        raise ValueError(f"not a CIDv0: {cid}")
    return raw[2:]


# --- the streaming builder ---------------------------------------------------------------------


@dataclass(frozen=True)
class ContentId:
    """What one pass over a file yields: its SHA-256 and its default `ipfs add` CID."""

    sha256: bytes
    multihash: bytes
    size: int

    @property
    def v0(self) -> str:
        return cid_v0(self.multihash)

    @property
    def v1(self) -> str:
        return cid_v1(self.multihash)

    @property
    def digest(self) -> bytes:
        return self.multihash[2:]


class Sha256State(Protocol):
    """What :class:`CidBuilder` needs of the whole file's SHA-256 (hashlib's, or a resumable one)."""

    def update(self, data: Any, /) -> None: ...
    def digest(self) -> bytes: ...


_TREE_FORMAT = 1
_LINK = struct.Struct(">34sQQ")  # multihash, tsize, filesize


class CidBuilder:
    """Feed bytes with :meth:`update` (any piece sizes), then :meth:`finish`.

    ``levels[0]`` holds the current group of leaves, ``levels[k]`` the current group of
    depth-k nodes. A full group (``max_links``) is closed at once into one link a level up; groups
    still open at the end are closed bottom-up, except the topmost single link, which is the root.
    ``chunk_size`` and ``max_links`` are `ipfs add`'s defaults; tests shrink them to check deep trees.
    """

    def __init__(self, chunk_size: int = CHUNK_SIZE, max_links: int = MAX_LINKS,
                 sha: Sha256State | None = None) -> None:
        self._chunk_size = chunk_size
        self._max_links = max_links
        self._buf = bytearray()
        self._levels: list[list[_Link]] = [[]]
        self._sha: Sha256State = hashlib.sha256() if sha is None else sha
        self._size = 0

    # -- checkpoints: the tree's open groups, so that another process can go on -------------------

    @property
    def size(self) -> int:
        return self._size

    @property
    def sha(self) -> Sha256State:
        return self._sha

    def export_tree(self) -> bytes:
        """The open groups of every level and the bytes fed so far, packed (48 bytes a link: at
        most 173 per level, about 17 KB for 50 GiB). Only at a chunk boundary (no partial chunk
        buffered); the whole file's SHA-256 is not in it (see ``sha``)."""
        if self._buf:
            raise ValueError("a tree checkpoint is taken at a chunk boundary only")
        out = bytearray(struct.pack(">BIHQB", _TREE_FORMAT, self._chunk_size, self._max_links, self._size,
                                    len(self._levels)))
        for group in self._levels:
            out += struct.pack(">H", len(group))
            for link in group:
                out += _LINK.pack(link.multihash, link.tsize, link.filesize)
        return bytes(out)

    @classmethod
    def resume_tree(cls, packed: bytes, sha: Sha256State) -> CidBuilder:
        """A builder that goes on from :meth:`export_tree`'s output, with ``sha`` holding the
        SHA-256 state of the same bytes."""
        fmt, chunk_size, max_links, size, levels = struct.unpack_from(">BIHQB", packed)
        if fmt != _TREE_FORMAT:
            raise ValueError(f"unknown tree checkpoint format {fmt}")
        builder = cls(chunk_size, max_links, sha=sha)
        builder._size = size
        pos = struct.calcsize(">BIHQB")
        builder._levels = []
        for _ in range(levels):
            (count,) = struct.unpack_from(">H", packed, pos)
            pos += 2
            group = []
            for _ in range(count):
                multihash, tsize, filesize = _LINK.unpack_from(packed, pos)
                group.append(_Link(multihash, tsize, filesize))
                pos += _LINK.size
            builder._levels.append(group)
        if pos != len(packed) or not builder._levels:
            raise ValueError("malformed tree checkpoint")
        return builder

    def update(self, data: bytes | bytearray | memoryview) -> None:
        # Whole chunks are hashed in place (memoryview slices, no copy); only a chunk that spans
        # two pieces is gathered in the buffer.
        self._sha.update(data)
        self._size += len(data)
        view = memoryview(data).cast("B")
        size = self._chunk_size
        if self._buf:
            take = size - len(self._buf)
            self._buf += view[:take]
            view = view[take:]
            if len(self._buf) < size:
                return
            self._add(_leaf(self._buf), 0)
            self._buf = bytearray()
        while len(view) >= size:
            self._add(_leaf(view[:size]), 0)
            view = view[size:]
        if len(view):
            self._buf += view

    def _add(self, link: _Link, level: int) -> None:
        if level == len(self._levels):
            self._levels.append([])
        group = self._levels[level]
        group.append(link)
        if len(group) == self._max_links:
            self._levels[level] = []
            self._add(_parent(group), level + 1)

    def finish(self) -> ContentId:
        if self._buf or self._size == 0:
            # the last (short) chunk; an empty file is a single leaf with no data
            self._add(_leaf(bytes(self._buf)), 0)
            self._buf.clear()
        level = 0
        while True:
            top = max(i for i, group in enumerate(self._levels) if group)
            group = self._levels[level]
            if level == top and len(group) == 1:
                root = group[0]
                break
            if group:  # an open group below the top: close it into one link a level up
                self._levels[level] = []
                self._add(_parent(group), level + 1)
            level += 1
        return ContentId(self._sha.digest(), root.multihash, self._size)


def compute(stream: BinaryIO, read_size: int = 1 << 20) -> ContentId:
    """SHA-256 and CID of everything readable from ``stream``, in constant memory."""
    builder = CidBuilder()
    while piece := stream.read(read_size):
        builder.update(piece)
    return builder.finish()


def compute_bytes(data: bytes) -> ContentId:
    builder = CidBuilder()
    builder.update(data)
    return builder.finish()
