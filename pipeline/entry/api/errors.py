"""One error body for every failure, ``{"error": {"code", "message", "request_id"}}`` (422 adds ``details``:
where and what, never the input), and the request-id middleware that also turns any unexpected exception
into a 500 without internals (the traceback goes to the JSON log)."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.app.audit import AuditUnavailable, SealKeyMissing
from pipeline.app.auth import AuthFailed, RateLimited
from pipeline.app.errors import AppError, Invalid, NotFound
from pipeline.app.health import ServiceUnavailable
from pipeline.core.actor import AccessDenied
from pipeline.entry.api.logs import ACTOR, HEADER, REQUEST_ID, request_id_from

log = logging.getLogger("archive.api")
MAX_BODY = 1 << 20  # bytes of a request body, except uploads (see body_limit)
UPLOAD = ("POST", "/api/v1/batches")  # its cap is api.max_upload_mb (counted again by the route)
UNAVAILABLE = "a service the archive needs is unavailable: try again later"


class ErrorDetail(BaseModel):
    code: str
    message: str
    request_id: str
    details: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    """Every error answer of the API."""

    error: ErrorDetail


class ApiError(Exception):
    """A failure decided by the door itself (authentication, CSRF, a state conflict)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class Conflict(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(409, "conflict", message)


def unauthenticated(message: str = "sign in, or give an API token (Authorization: Bearer …)") -> ApiError:
    return ApiError(401, "unauthenticated", message, {"WWW-Authenticate": "Bearer"})


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None,
                   details: list[dict[str, Any]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message, "request_id": REQUEST_ID.get()}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def body_limit(scope: Scope) -> int:
    """The largest request body this request may send: ``api.max_upload_mb`` for an upload, else MAX_BODY."""
    if (scope.get("method"), scope.get("path")) == UPLOAD:
        return int(scope["app"].state.ctx.settings.api.max_upload_mb) << 20
    return MAX_BODY


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:500] if text else type(exc).__name__


def _app_error(_: Request, exc: Exception) -> JSONResponse:
    """The application layer's errors, by kind (see :mod:`pipeline.app.errors`)."""
    if isinstance(exc, RateLimited):
        return error_response(429, "rate_limited", _one_line(exc), {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, AuthFailed):
        return error_response(401, "signin_failed", _one_line(exc), {"WWW-Authenticate": "Bearer"})
    if isinstance(exc, NotFound):
        return error_response(404, "not_found", _one_line(exc))
    if isinstance(exc, ServiceUnavailable | AuditUnavailable | SealKeyMissing):
        log.error("service unavailable: %s", exc)
        return error_response(503, "unavailable", UNAVAILABLE)
    if isinstance(exc, Invalid):
        return error_response(422, "invalid", _one_line(exc))
    return error_response(422, "refused", _one_line(exc))


def _denied(_: Request, exc: Exception) -> JSONResponse:
    return error_response(403, "forbidden", _one_line(exc))


def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers)


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()]
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    message = f"{'.'.join(first['loc'])}: {first['msg']}" if first["loc"] else first["msg"]
    return error_response(422, "validation", message, details=details)


_HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 413: "too_large", 415: "unsupported_media_type"}


def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    message = "no such endpoint" if status == 404 else str(exc.detail)
    return error_response(status, _HTTP_CODES.get(status, "error"), message, dict(exc.headers or {}))


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(AccessDenied, _denied)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_middleware(RequestContext)


class RequestContext:
    """Pure ASGI middleware: the request id (X-Request-ID in and out), one access log line per request, a cap
    on the request body (413), and a 500 in the one error shape for anything unexpected (never a traceback or
    an internal message)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = request_id_from(headers.get(HEADER.lower().encode(), b"").decode("latin-1"))
        token, actor_token = REQUEST_ID.set(request_id), ACTOR.set("")
        started, status = time.monotonic(), 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (HEADER.lower().encode(), request_id.encode())]
            await send(message)

        received, limit = 0, body_limit(scope)

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise StarletteHTTPException(413, f"the request body is larger than {limit} bytes")
            return message

        length = headers.get(b"content-length", b"0").decode("latin-1")
        try:
            if not length.isdigit() or int(length) > limit:
                await error_response(413, "too_large", f"the request body is larger than {limit} bytes"
                                     )(scope, receive, send_with_id)
            else:
                await self.app(scope, limited_receive, send_with_id)
        except Exception:
            log.error("%s %r failed", scope.get("method"), scope.get("path"), exc_info=True)  # %r: no forged lines
            if not response_started:
                status = 500
                await error_response(500, "internal", "internal error: the request id names it in the server log",
                                     {HEADER: request_id})(scope, receive, send)
        finally:
            log.info("%s %s %d %.0f ms", scope.get("method"), scope.get("path"), status,
                     (time.monotonic() - started) * 1000)
            ACTOR.reset(actor_token)
            REQUEST_ID.reset(token)
