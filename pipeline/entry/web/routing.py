"""Pages answer failures as pages: a route class that turns what a use case raises into the sign-in redirect or
an error page in the caller's language (the API's exception handlers answer JSON, so a page catches first). A
document above the caller's clearance is :class:`NotFound` in the application layer: the 404 page, never a 403."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.app.audit import AuditUnavailable, SealKeyMissing
from pipeline.app.errors import AppError, NotFound
from pipeline.app.health import ServiceUnavailable
from pipeline.core.actor import AccessDenied
from pipeline.entry.api.logs import REQUEST_ID
from pipeline.entry.web.auth import CsrfRefused, LoginRequired, login_url
from pipeline.entry.web.render import render

log = logging.getLogger("archive.web")


def error_page(request: Request, exc: Exception) -> Response:
    """The answer of a page to ``exc``."""
    if isinstance(exc, LoginRequired):
        return RedirectResponse(login_url(exc.next_url), status_code=303, headers={"Cache-Control": "no-store"})
    if isinstance(exc, NotFound) or (isinstance(exc, StarletteHTTPException) and exc.status_code == 404):
        return render(request, "error.html", status=404, title="e404_title", text="e404_text", detail="")
    if isinstance(exc, CsrfRefused):
        return render(request, "error.html", status=403, title="e403_title", text="csrf_text", detail="")
    if isinstance(exc, AccessDenied):
        return render(request, "error.html", status=403, title="e403_title", text="e403_text", detail="")
    if isinstance(exc, ServiceUnavailable | AuditUnavailable | SealKeyMissing):
        log.error("service unavailable: %s", exc)
        return render(request, "error.html", status=503, title="error_title", text="e503_text", detail="")
    if isinstance(exc, AppError | RequestValidationError):
        detail = str(exc).strip().splitlines()[0][:300] if isinstance(exc, AppError) and str(exc).strip() else ""
        return render(request, "error.html", status=400, title="e400_title", text="e400_text", detail=detail)
    log.error("%s %r failed", request.method, request.url.path, exc_info=exc)
    return render(request, "error.html", status=500, title="e500_title", text="e500_text", detail="",
                  request_id=REQUEST_ID.get())


class PageRoute(APIRoute):
    """An APIRoute whose failures are pages (see :func:`error_page`), dependencies' failures included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return error_page(request, exc)

        return page_handler


def page_router(**kwargs: Any) -> APIRouter:
    """A router for pages: failures answered as pages, nothing in the OpenAPI document."""
    return APIRouter(route_class=PageRoute, include_in_schema=False, **kwargs)
