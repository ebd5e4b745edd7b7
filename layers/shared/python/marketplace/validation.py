"""Request validation errors, named by field: missing or unreadable → 400, readable but invalid → 422."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from marketplace.errors import UnprocessableError, ValidationError

M = TypeVar("M", bound=BaseModel)


def fields_error(error: PydanticValidationError, prefix: str = "") -> UnprocessableError:
    """A 422 naming every field pydantic refused (``details.field`` is the first one)."""

    def path(loc: tuple) -> str:
        return ".".join(([prefix] if prefix else []) + [str(p) for p in loc]) or "body"

    errors = [{"field": path(e["loc"]), "message": e["msg"]} for e in error.errors()]
    first = errors[0]
    return UnprocessableError(f"{first['field']}: {first['message']}", {"field": first["field"], "errors": errors})


def parse_json(raw: bytes | str | None, model: type[M], *, field: str = "body", prefix: str = "") -> M:
    """``raw`` JSON as ``model``. Missing or unreadable → 400 naming ``field``; a JSON value that
    is not an object → 400; an object that fails ``model`` → 422 naming the fields (``prefix``ed)."""
    if raw is None or not raw.strip():
        raise ValidationError(f"{field} is required", {"field": field})
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError(f"{field} is not valid JSON", {"field": field}) from None
    if not isinstance(data, dict):
        raise ValidationError(f"{field} must be a JSON object", {"field": field})
    try:
        return model.model_validate(data)
    except PydanticValidationError as e:
        raise fields_error(e, prefix) from None
