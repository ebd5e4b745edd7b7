"""Request validation: metadata and JSON bodies; missing/unreadable → 400, invalid → 422, naming the field."""

from __future__ import annotations

import pytest
from marketplace.content.schemas import RegisterUploadRequest, UploadRequest
from marketplace.content.services import parse_metadata
from marketplace.errors import UnprocessableError, ValidationError
from marketplace.validation import parse_json

pytestmark = pytest.mark.unit


def test_valid_metadata_is_taken_as_sent():
    meta = parse_metadata(b'{"title": "Sunset Photo", "description": "...", "tags": ["nature", "golden hour"]}')
    assert meta.title == "Sunset Photo" and meta.tags == ["nature", "golden hour"] and meta.description == "..."
    assert parse_metadata('{"title": "t"}').model_dump() == {"title": "t", "description": "", "tags": []}


@pytest.mark.parametrize("raw", [b'{"title": ""}', b'{"title": "t", "tags": [""]}', b'{"title": true}',
                                 b'{"title": "t", "tags": ["%s"]}' % (b"x" * 51)])
def test_what_the_schema_refuses_is_422(raw):
    with pytest.raises(UnprocessableError):
        parse_metadata(raw)


@pytest.mark.parametrize("raw, message", [(None, "required"), (b"", "required"), (b"   ", "required"),
                                          (b"{not json", "not valid JSON"), (b"\xff\xfe", "not valid JSON"),
                                          (b'"a string"', "JSON object"), (b"[1, 2]", "JSON object")])
def test_missing_or_unreadable_metadata_is_400(raw, message):
    with pytest.raises(ValidationError, match=message) as err:
        parse_metadata(raw)
    assert err.value.status == 400 and err.value.details["field"] == "metadata"


@pytest.mark.parametrize("raw, field", [
    (b'{"description": "no title"}', "metadata.title"),
    (b'{"title": ""}', "metadata.title"),
    (b'{"title": 42}', "metadata.title"),
    (b'{"title": "t", "tags": "nature"}', "metadata.tags"),
    (b'{"title": "t", "tags": [""]}', "metadata.tags.0"),
    (b'{"title": "t", "tags": ["a"], "price": 3}', "metadata.price"),
    (b'{"title": "' + b"x" * 201 + b'"}', "metadata.title"),
])
def test_invalid_metadata_is_422_naming_the_field(raw, field):
    with pytest.raises(UnprocessableError) as err:
        parse_metadata(raw)
    assert err.value.status == 422 and err.value.details["field"] == field
    assert field in err.value.message


def test_upload_request_fields():
    assert parse_json(b'{"size": 10, "filename": "a.bin"}', UploadRequest).size == 10
    with pytest.raises(UnprocessableError) as err:
        parse_json(b'{"size": 0, "filename": "a.bin"}', UploadRequest)
    assert err.value.details["field"] == "size"
    with pytest.raises(UnprocessableError) as err:
        parse_json(b'{"size": 10}', UploadRequest)
    assert err.value.details["field"] == "filename"


def test_register_upload_request_names_nested_metadata_fields():
    with pytest.raises(UnprocessableError) as err:
        parse_json(b'{"uploadId": "' + b"a" * 32 + b'", "metadata": {}}', RegisterUploadRequest)
    assert err.value.details["field"] == "metadata.title"
    with pytest.raises(UnprocessableError) as err:
        parse_json(b'{"uploadId": "../etc", "metadata": {"title": "t"}}', RegisterUploadRequest)
    assert err.value.details["field"] == "uploadId"


@pytest.mark.parametrize("body", [b'{"size": true, "filename": "a"}', b'{"size": 1, "filename": "a", "multipart": 0}',
                                  b'{"size": 1, "filename": "a", "multipart": "true"}'])
def test_booleans_and_numbers_are_not_coerced_into_each_other(body):
    from marketplace.content.schemas import UploadRequest

    with pytest.raises(UnprocessableError):
        parse_json(body, UploadRequest)
