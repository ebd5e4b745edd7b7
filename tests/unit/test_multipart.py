"""marketplace.multipart: byte-exact parts, strict framing."""

from __future__ import annotations

import os

import pytest
from marketplace import multipart
from marketplace.errors import ValidationError

pytestmark = pytest.mark.unit

BOUNDARY = "----zkdmBoundary7MA4YWxk"


def body_of(**fields):
    return multipart.encode(fields, BOUNDARY)


@pytest.mark.parametrize("data", [
    b"",
    b"x",
    os.urandom(100_000),
    b"\r\n\r\n--" + BOUNDARY.encode()[:-1] + b"x\r\n",  # a line that nearly is a delimiter
    b"--" + BOUNDARY.encode()[:-1] + b"\r\n",
    b"\r\n",
])
def test_file_bytes_come_back_exactly(data):
    body, ctype = body_of(metadata=(None, b'{"title": "t"}', None), file=("a.bin", data, "application/octet-stream"))
    parts = multipart.parse(body, ctype)
    assert parts["file"].data == data
    assert parts["file"].filename == "a.bin"
    assert parts["file"].content_type == "application/octet-stream"
    assert parts["metadata"].data == b'{"title": "t"}' and parts["metadata"].filename is None


def test_quoted_boundary_and_preamble_are_accepted():
    body, _ = body_of(file=("f", b"abc", None))
    parts = multipart.parse(b"preamble text\r\n" + body, f'multipart/form-data; boundary="{BOUNDARY}"')
    assert parts["file"].data == b"abc"


@pytest.mark.parametrize("content_type", ["application/json", "multipart/form-data",
                                          "multipart/form-data; boundary=" + "x" * 71, "multipart/mixed; boundary=a"])
def test_bad_content_types_are_refused(content_type):
    with pytest.raises(ValidationError) as err:
        multipart.parse(b"--a\r\n\r\n--a--", content_type)
    assert err.value.details["field"] == "Content-Type"


def test_truncated_body_is_refused():
    body, ctype = body_of(file=("f", b"abc", None))
    with pytest.raises(ValidationError, match="truncated"):
        multipart.parse(body[: body.rindex(b"--" + BOUNDARY.encode())], ctype)


def test_body_without_the_boundary_is_refused():
    with pytest.raises(ValidationError):
        multipart.parse(b"just some bytes", f"multipart/form-data; boundary={BOUNDARY}")


def test_duplicate_fields_are_refused():
    b = BOUNDARY.encode()
    part = b'Content-Disposition: form-data; name="file"\r\n\r\nabc\r\n'
    body = b"--" + b + b"\r\n" + part + b"--" + b + b"\r\n" + part + b"--" + b + b"--\r\n"
    with pytest.raises(ValidationError, match="twice"):
        multipart.parse(body, f"multipart/form-data; boundary={BOUNDARY}")


def test_part_without_a_name_is_refused():
    b = BOUNDARY.encode()
    body = b"--" + b + b"\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--" + b + b"--\r\n"
    with pytest.raises(ValidationError, match="no field name"):
        multipart.parse(body, f"multipart/form-data; boundary={BOUNDARY}")
