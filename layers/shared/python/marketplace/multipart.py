"""A strict ``multipart/form-data`` (RFC 7578) reader for request bodies already in memory.

The body is at most a few MB (bigger files go through presigned uploads), so parts are sliced
out of it directly; part headers are read with the stdlib email header parser. Part bodies are
taken byte-exact between the delimiters, whatever bytes they hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import HTTP

from marketplace.errors import ValidationError


@dataclass(frozen=True)
class Part:
    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None


def boundary(content_type: str) -> bytes:
    msg = Message()
    msg["content-type"] = content_type
    if msg.get_content_type() != "multipart/form-data":
        raise ValidationError("body must be multipart/form-data", {"field": "Content-Type"})
    value = msg.get_param("boundary")
    if not isinstance(value, str) or not value or len(value) > 70:
        raise ValidationError("multipart body has no valid boundary", {"field": "Content-Type"})
    return value.encode("latin-1")


def parse(body: bytes, content_type: str) -> dict[str, Part]:
    """Parts by field name. Duplicate names, missing delimiters or a missing closing delimiter are
    rejected (400)."""
    delimiter = b"--" + boundary(content_type)
    start = body.find(delimiter)
    if start < 0 or (start > 0 and not body[:start].endswith(b"\r\n")):
        raise ValidationError("multipart body does not start with its boundary", {"field": "body"})
    parts: dict[str, Part] = {}
    pos = start + len(delimiter)
    while True:
        if body.startswith(b"--", pos):  # the closing delimiter
            return parts
        if not body.startswith(b"\r\n", pos):
            raise ValidationError("malformed multipart delimiter line", {"field": "body"})
        pos += 2
        end = body.find(b"\r\n" + delimiter, pos)
        if end < 0:
            raise ValidationError("multipart body is truncated (no closing boundary)", {"field": "body"})
        part = _part(body[pos:end])
        if part.name in parts:
            raise ValidationError(f"field '{part.name}' appears twice", {"field": part.name})
        parts[part.name] = part
        pos = end + 2 + len(delimiter)


def _part(raw: bytes) -> Part:
    head_end = raw.find(b"\r\n\r\n")
    if head_end < 0:
        raise ValidationError("multipart part has no header block", {"field": "body"})
    headers = BytesHeaderParser(policy=HTTP).parsebytes(raw[: head_end + 4])
    disposition = headers.get("content-disposition")
    if disposition is None:
        raise ValidationError("multipart part has no Content-Disposition", {"field": "body"})
    msg = Message()
    msg["content-disposition"] = str(disposition)
    if msg.get_content_disposition() != "form-data":
        raise ValidationError("multipart part is not form-data", {"field": "body"})
    name = msg.get_param("name", header="content-disposition")
    if not name:
        raise ValidationError("multipart part has no field name", {"field": "body"})
    filename = msg.get_filename()
    ctype = headers.get("content-type")
    return Part(name=str(name), data=raw[head_end + 4:], filename=filename,
                content_type=str(ctype) if ctype else None)


def encode(fields: dict[str, tuple[str | None, bytes, str | None]], boundary_text: str) -> tuple[bytes, str]:
    """Build a body: ``{name: (filename, data, content_type)}`` -> (body, Content-Type header).
    Used by tests, the local stack's clients and the benchmark."""
    out = bytearray()
    for name, (filename, data, ctype) in fields.items():
        out += b"--" + boundary_text.encode() + b"\r\n"
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"Content-Disposition: {disp}\r\n".encode()
        if ctype:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    out += b"--" + boundary_text.encode() + b"--\r\n"
    return bytes(out), f"multipart/form-data; boundary={boundary_text}"
