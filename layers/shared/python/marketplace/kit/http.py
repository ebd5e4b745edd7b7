"""The HTTP kit: routes that declare what they answer, and the one resolver every API function uses.

A route is declared on an ``Api`` (a Powertools router bound to one function of
``marketplace.resources``) with its success models by status and every error status it can answer::

    api = Api("license-api")

    @api.operation("POST", "/license/quote", "Price and permit typed data of a purchase",
                   ok={200: ("the quote", QuoteView)},
                   errors={402: "INSUFFICIENT_FUNDS", 404: "unknown terms"})
    def quote(req: QuoteRequest) -> QuoteView:
        return licensing().quote(caller(), req.termsId)

- **Auth** comes from ``resources`` (the route must be declared there: the CDK app and the local
  gateway build the API from it): ``jwt`` routes get the bearer security scheme and a 401, ``apikey``
  routes the API-key scheme and a 401.
- **Requests**: a pydantic parameter is the JSON body, validated by Powertools; a body that is
  missing or not JSON answers 400, a body that fails its model 422 naming the fields (the spec's
  error body, never Powertools' own).
- **Responses**: a route returns a model (its status is the one declared for that model's type:
  the handler chooses the status, services only return models) or ``reply(status, model,
  headers)``. The kit checks every answer against the declaration: a status the route did not
  declare, or a body that does not fit the declared model, is logged as a defect, counted
  (``UndeclaredResponses``) and answered 500 with a ``supportId``, so the OpenAPI document (built
  from these declarations by ``kit.openapi``) cannot drift from what the code answers.
- **Documents** (not JSON: an HTML page, a PNG or SVG image, a PDF, a JSON file to download): the
  route declares ``ok={200: ("the page", Media("text/html"))}`` (one or more media types per
  status) and returns ``document(status, content, media_type, headers)``. The kit checks the
  status and media type against the declaration (a defect otherwise, as above); the OpenAPI
  document lists the media type (binary ones as ``format: binary``). Binary media types
  (``resources.BINARY_MEDIA_TYPES``: PNG, PDF) are answered base64 with ``isBase64Encoded``, which
  API Gateway turns back into bytes because they are the REST API's binaryMediaTypes.
- **Errors**: ``MarketplaceError`` subclasses answer with their status and body
  (``marketplace.errors``: the only mapping); anything else is a 500 with a ``supportId``.
"""

from __future__ import annotations

import base64
import functools
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, RootModel

from marketplace import resources
from marketplace.errors import (
    InternalError,
    MarketplaceError,
    NotFoundError,
    UnauthorizedError,
    UnprocessableError,
    UnsupportedMediaTypeError,
    ValidationError,
    as_error,
)
from marketplace.kit import observability
from marketplace.shared.schemas import ErrorBody
from marketplace.validation import parse_json

__all__ = ["Api", "Document", "ErrorBody", "HttpFunction", "Media", "caller", "document", "one_of", "parse_body",
           "raw_body", "reply"]

M = typing.TypeVar("M", bound=BaseModel)
JSON = "application/json"
CORRELATION_PATH = "requestContext.requestId"


# Statuses every route of a kind can answer, with their meaning (added to each declaration).
COMMON_ERRORS: dict[int, str] = {500: "INTERNAL_ERROR: unexpected failure (supportId)"}
BODY_ERRORS: dict[int, str] = {400: "VALIDATION_ERROR: body missing or not JSON",
                               415: "UNSUPPORTED_MEDIA_TYPE: a Content-Type the operation does not accept",
                               422: "VALIDATION_ERROR: a field is invalid (details.field, details.errors)"}
AUTH_ERRORS: dict[int, str] = {401: "UNAUTHORIZED: missing or invalid credentials"}
SECURITY: dict[str, list[dict[str, list[str]]]] = {"jwt": [{"bearerAuth": []}], "apikey": [{"apiKey": []}]}


@dataclass
class Reply:
    """An explicit answer: a declared status, a body (model or None) and headers."""

    status: int
    body: BaseModel | None = None
    headers: dict[str, str] = field(default_factory=dict)


def reply(status: int, body: BaseModel | None = None, headers: Mapping[str, str] | None = None) -> Reply:
    return Reply(status, body, dict(headers or {}))


# Media types a route may answer as a document (not a JSON model), and whether they are binary.
DOCUMENT_MEDIA: dict[str, bool] = {"text/html": False, "image/svg+xml": False, "application/json": False,
                                   "text/plain": False, "text/csv": False,
                                   "image/png": True, "application/pdf": True}


@dataclass(frozen=True, init=False)
class Media:
    """A declared document answer: ``Media("text/html")``, ``Media("image/png", "image/svg+xml")``."""

    types: tuple[str, ...]

    def __init__(self, *types: str) -> None:
        if not types:
            raise ValueError("Media needs at least one media type")
        for t in types:
            if t not in DOCUMENT_MEDIA:
                raise ValueError(f"{t!r} is not a document media type of the kit ({sorted(DOCUMENT_MEDIA)})")
        object.__setattr__(self, "types", tuple(types))

    @property
    def __name__(self) -> str:  # named like a model in messages
        return "Media(" + ", ".join(self.types) + ")"


@dataclass
class Document:
    """A non-JSON answer: a declared status, the content, its media type and headers."""

    status: int
    content: str | bytes
    media_type: str
    headers: dict[str, str] = field(default_factory=dict)


def document(status: int, content: str | bytes, media_type: str,
             headers: Mapping[str, str] | None = None) -> Document:
    return Document(status, content, media_type, dict(headers or {}))


@dataclass(frozen=True)
class Declared:
    """What one route answers: status -> (description, model or None), response headers by status."""

    method: str
    path: str
    auth: resources.Auth
    summary: str
    responses: dict[int, tuple[str, type[BaseModel] | Media | None]]
    headers: dict[int, tuple[str, ...]]
    request: type[BaseModel] | None
    description: str | None = None
    request_media: dict[str, Any] | None = None  # request content types the route reads itself
    request_required: bool = True

    def accepts(self, content_type: str | None) -> bool:
        """Whether a request body of ``content_type`` is one this operation reads (no header: JSON)."""
        if self.request is None and not self.request_media:
            return True  # no body expected: whatever is sent is ignored
        media = (content_type or JSON).split(";")[0].strip().lower()
        accepted = set(self.request_media or ()) | ({JSON} if self.request is not None else set())
        return media in accepted

    def model_for(self, value: BaseModel) -> int:
        matches = [s for s, (_, m) in self.responses.items()
                   if m is not None and not isinstance(m, Media) and type(value) in members(m)]
        if len(matches) != 1:
            raise UndeclaredResponse(f"{self.method} {self.path} returned {type(value).__name__}, declared for "
                                     f"{matches or 'no status'}: return reply(status, model) or declare it")
        return matches[0]


def one_of(name: str, *models: type[BaseModel]) -> type[BaseModel]:
    """A response that is one of several models under one status (documented as ``anyOf``)."""
    union = functools.reduce(lambda a, b: a | b, models)  # type: ignore[arg-type, return-value]
    return type(name, (RootModel[union],), {"__doc__": " or ".join(m.__name__ for m in models)})  # type: ignore[valid-type]


def members(model: type[BaseModel]) -> tuple[type, ...]:
    """The models a declared response model stands for (the members of a ``one_of``)."""
    if issubclass(model, RootModel):
        root = model.model_fields["root"].annotation
        if typing.get_origin(root) in (typing.Union, types.UnionType):
            return typing.get_args(root)
    return (model,)


class UndeclaredResponse(Exception):
    """A route answered something its declaration does not list (a defect of the route)."""


def _rule(path: str) -> str:
    return re.sub(r"{(\w+)}", r"<\1>", path)


class Api(APIGatewayRouter):
    """A Powertools router for the routes of one function of ``marketplace.resources``."""

    def __init__(self, function: str) -> None:
        super().__init__()
        self.function = function
        self.spec = resources.by_name(resources.FUNCTIONS, function)
        self.declared: dict[tuple[str, str], Declared] = {}

    def operation(self, method: str, path: str, summary: str, *,
                  ok: Mapping[int, tuple[str, type[BaseModel] | Media | None]],
                  errors: Mapping[int, str] | None = None,
                  headers: Mapping[int, Iterable[str]] | None = None,
                  description: str | None = None,
                  request_media: dict[str, Any] | None = None,
                  request_required: bool = True,
                  tags: list[str] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        method = method.upper()
        route = next((r for r in self.spec.routes if (r.method, r.path) == (method, path)), None)
        if route is None:
            raise LookupError(f"{method} {path} is not a route of {self.function} in marketplace.resources")

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            signature = inspect.signature(fn, eval_str=True)
            request = next((p.annotation for p in signature.parameters.values()
                            if inspect.isclass(p.annotation) and issubclass(p.annotation, BaseModel)), None)
            responses: dict[int, tuple[str, type[BaseModel] | Media | None]] = dict(ok)
            error_statuses: dict[int, str] = dict(COMMON_ERRORS)
            if request is not None or request_media:
                error_statuses.update(BODY_ERRORS)
            if route.auth != "none":
                error_statuses.update(AUTH_ERRORS)
            error_statuses.update(errors or {})
            for status, text in error_statuses.items():
                responses.setdefault(status, (text, ErrorBody))
            declared = Declared(method, path, route.auth, summary, responses,
                                {s: tuple(h) for s, h in (headers or {}).items()}, request, description,
                                request_media, request_required)
            self.declared[(method, path)] = declared

            @functools.wraps(fn)
            def endpoint(*args: Any, **kwargs: Any) -> Response:
                return _answer(declared, fn(*args, **kwargs))

            # Powertools reads parameters (and their resolved types) from the signature; the kit
            # checks the answer itself, so the return annotation is dropped.
            endpoint.__signature__ = signature.replace(return_annotation=inspect.Signature.empty)  # type: ignore[attr-defined]
            oa_responses = {s: _oa_response(d, m, declared.headers.get(s, ())) for s, (d, m) in responses.items()}
            return self.route(_rule(path), method, summary=summary, description=description,
                              responses=oa_responses,  # type: ignore[arg-type]
                              tags=tags or [path.strip("/").split("/")[0]],
                              operation_id=_operation_id(method, path),
                              security=SECURITY.get(route.auth))(endpoint)

        return decorate


def _oa_response(description: str, model: type[BaseModel] | Media | None, headers: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description}
    if isinstance(model, Media):
        out["content"] = {t: {"schema": {"type": "string", "format": "binary"} if DOCUMENT_MEDIA[t]
                              else {"type": "string"}} for t in model.types}
    elif model is not None:
        out["content"] = {JSON: {"model": model}}
    if headers:
        out["headers"] = {h: {"schema": {"type": "string"}} for h in headers}
    return out


def _operation_id(method: str, path: str) -> str:
    words = re.sub(r"[{}]", "", path).replace("/", " ").replace("-", " ").replace(".", " ").split()
    return method.lower() + "".join(w[:1].upper() + w[1:] for w in words)


def _json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=JSON, body=json.dumps(body), headers=dict(headers or {}))


def _document(declared: Declared, result: Document) -> Response:
    where = f"{declared.method} {declared.path} {result.status}"
    if result.status not in declared.responses:
        raise UndeclaredResponse(f"{declared.method} {declared.path} answered undeclared status {result.status}")
    _, media = declared.responses[result.status]
    media_type = result.media_type.split(";")[0].strip().lower()
    if not isinstance(media, Media) or media_type not in media.types:
        raise UndeclaredResponse(f"{where} answered a {media_type} document, declared {getattr(media, '__name__', media)}")
    content = result.content
    if DOCUMENT_MEDIA[media_type]:
        body: str | bytes = content if isinstance(content, bytes) else content.encode("utf-8")  # base64 by Powertools
    else:
        body = content.decode("utf-8") if isinstance(content, bytes) else content
    content_type = result.media_type if ";" in result.media_type or DOCUMENT_MEDIA[media_type] \
        else f"{media_type}; charset=utf-8"
    return Response(status_code=result.status, content_type=content_type, body=body, headers=result.headers)


def _answer(declared: Declared, result: Any) -> Response:
    if isinstance(result, Document):
        return _document(declared, result)
    if isinstance(result, Reply):
        status, body, headers = result.status, result.body, result.headers
    elif isinstance(result, BaseModel):
        status, body, headers = declared.model_for(result), result, {}
    else:
        raise UndeclaredResponse(f"{declared.method} {declared.path} returned {type(result).__name__}, not a model")
    if status not in declared.responses:
        raise UndeclaredResponse(f"{declared.method} {declared.path} answered undeclared status {status}")
    _, model = declared.responses[status]
    if isinstance(model, Media):
        raise UndeclaredResponse(f"{declared.method} {declared.path} {status} declares {model.__name__}: "
                                 f"return document(status, content, media_type)")
    if model is None:
        if body is not None:
            raise UndeclaredResponse(f"{declared.method} {declared.path} {status} declares no body")
        return Response(status_code=status, content_type=JSON, body="", headers=headers)
    if body is None or type(body) not in members(model):
        raise UndeclaredResponse(f"{declared.method} {declared.path} {status} must answer {model.__name__}, "
                                 f"not {type(body).__name__}")
    return _json_response(status, body.model_dump(mode="json", exclude_none=True), headers)


# -- the resolver ------------------------------------------------------------------------------------


def error_response(error: MarketplaceError) -> Response:
    return _json_response(error.status, error.body(), error.headers)


def _validation_error(exc: RequestValidationError) -> MarketplaceError:
    """Powertools' request validation → the spec's error body (400 unreadable, 422 invalid field)."""
    errors = exc.errors()
    for e in errors:
        loc = tuple(e.get("loc") or ())
        if e.get("type") == "json_invalid" or (e.get("type") == "missing" and loc == ("body",)):
            return ValidationError("body is required and must be a JSON object"
                                   if e.get("type") == "missing" else "body is not valid JSON", {"field": "body"})
        if e.get("type") == "model_attributes_type" and loc[:1] == ("body",) and len(loc) <= 2:
            return ValidationError("body must be a JSON object", {"field": "body"})
    fields = [{"field": ".".join(str(p) for p in (e.get("loc") or ())[1:]) or "body",
               "message": str(e.get("msg"))} for e in errors]
    first = fields[0] if fields else {"field": "body", "message": "invalid"}
    return UnprocessableError(f"{first['field']}: {first['message']}", {"field": first["field"], "errors": fields})


class _Resolver(APIGatewayRestResolver):
    def __init__(self, service: str, declared: dict[tuple[str, str], Declared]) -> None:
        super().__init__(enable_validation=True)
        self.service = service
        self.declared = declared

    def route_declaration(self) -> Declared | None:
        event = self.current_event
        return self.declared.get(((event.http_method or "").upper(), event.resource or ""))

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        # the media type is checked before Powertools reads the body (it would parse any as JSON)
        declared = self.declared.get(((event.get("httpMethod") or "").upper(), event.get("resource") or ""))
        if declared is not None and event.get("body"):
            headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
            if not declared.accepts(headers.get("content-type")):
                err = UnsupportedMediaTypeError("send the body as " + " or ".join(
                    sorted(set(declared.request_media or ()) | ({JSON} if declared.request else set()))),
                    {"field": "Content-Type"})
                return {"statusCode": err.status, "headers": {"Content-Type": JSON},
                        "body": json.dumps(err.body()), "isBase64Encoded": False}
        return super().resolve(event, context)


def http_app(api: Api) -> APIGatewayRestResolver:
    """The resolver for one function's routes, with the one error mapping."""
    app = _Resolver(api.function, api.declared)
    app.include_router(api)
    logger = observability.telemetry(api.function).logger

    def declared_or_defect(error: MarketplaceError) -> Response:
        d = app.route_declaration()
        if d is not None and error.status not in d.responses:
            return _defect(UndeclaredResponse(f"{d.method} {d.path} answered undeclared status {error.status} "
                                              f"({error.code})"))
        return error_response(error)

    def _defect(exc: Exception) -> Response:
        internal = InternalError("Internal error")
        logger.error("response does not match its declaration", extra={"supportId": internal.support_id,
                                                                         "defect": str(exc)})
        observability.business(observability.Metric.UNDECLARED_RESPONSES)
        return error_response(internal)

    @app.exception_handler(MarketplaceError)
    def _domain(error: MarketplaceError) -> Response:
        return declared_or_defect(as_error(error, logger))  # logs it (details stay in the logs)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        return declared_or_defect(_validation_error(exc))

    @app.exception_handler(UnicodeDecodeError)
    def _not_text(exc: UnicodeDecodeError) -> Response:  # a JSON body that is not UTF-8
        return declared_or_defect(ValidationError("body is not valid UTF-8 JSON", {"field": "body"}))

    @app.exception_handler(UndeclaredResponse)
    def _undeclared(exc: UndeclaredResponse) -> Response:
        return _defect(exc)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        return error_response(as_error(exc, logger))  # 500 + supportId; the traceback goes to the logs

    @app.not_found
    def _no_route(_: Exception) -> Response:
        return error_response(NotFoundError("no such route"))

    return app


class HttpFunction:
    """One API function: ``handler = HttpFunction(api, config_model).handler``."""

    def __init__(self, api: Api, config_model: type | None = None) -> None:
        self.api = api
        self.app = http_app(api)
        self.config_model = config_model
        self.handler = observability.wrap(self._resolve, api.function, correlation_id_path=CORRELATION_PATH,
                                          before=observability.env_check(config_model))

    def _resolve(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return self.app.resolve(event, context)


# -- request helpers for route functions -------------------------------------------------------------

def raw_body(api: Api) -> bytes:
    """The request body as bytes (API Gateway base64-encodes binary media types)."""
    event = api.current_event
    body = event.body
    if body is None:
        return b""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except ValueError:
            raise ValidationError("body is not valid base64", {"field": "body"}) from None
    return body.encode("utf-8")


def parse_body(api: Api, model: type[M]) -> M:
    """The JSON body as ``model`` for routes that read it themselves (several content types):
    missing or unreadable 400, fields refused 422 (``marketplace.validation``)."""
    return parse_json(raw_body(api), model)


def caller(api: Api) -> str:
    """The address the Lambda authorizer put in ``requestContext.authorizer``."""
    context = (api.current_event.raw_event.get("requestContext") or {}).get("authorizer") or {}
    address = context.get("address")
    if not address:
        raise UnauthorizedError("sign in first: missing or invalid bearer token")
    return str(address)
