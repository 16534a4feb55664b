"""The REST service: ``create_app(settings)`` builds the FastAPI application with one Context (store, catalog,
audit trail, index) for the process. Every route needs a signed-in caller except ``/healthz`` (liveness, no
details) and the status code of ``/readyz``; the OpenAPI document (/openapi.json) and its page (/docs) too."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials

from pipeline.app import health, metrics, searching
from pipeline.app.context import Context
from pipeline.app.users import resolve_actor
from pipeline.core.settings import Settings
from pipeline.core.vocabulary import Role
from pipeline.entry import web
from pipeline.entry.api import auth, batches, docs_page, documents, errors, logs, quarantine, records, reports
from pipeline.entry.api.auth import LOOPBACK_COOKIE, SECURE_COOKIE, ActorDep, bearer, caller
from pipeline.entry.api.errors import ApiError, ErrorBody, error_response

API_VERSION = "1"
READY_CACHE_S = 5.0  # an unauthenticated /readyz answers from a cache this old at most (no probe flood)
DESCRIPTION = """Archive REST API: batch upload and progress, search, read, correct metadata, verify, statistics,
audit, holds, retention, disposal. Authenticate with `Authorization: Bearer <token>` (`archive user token NAME`)
or a browser session (`POST /api/v1/session`); with a session, state-changing requests need the `X-CSRF-Token`
header. Every error is `{"error": {"code", "message", "request_id"}}`; every answer carries `X-Request-ID`."""


def _checks(ctx: Context) -> dict[str, Callable[[], Any]]:
    """One probe per service the API needs (each answers within about two seconds)."""
    return {
        "storage": lambda: health.check_s3(ctx.settings),
        "broker": lambda: health.check_redis(ctx.settings),
        "catalog": lambda: resolve_actor(ctx, None),  # one read of the users table (migrated when first opened)
        "index": lambda: searching.index_size(ctx),
    }


def readiness(ctx: Context) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name, probe in _checks(ctx).items():
        try:
            probe()
        except Exception as exc:
            text = str(exc).strip()
            found[name] = {"ok": False, "reason": text.splitlines()[0][:300] if text else type(exc).__name__}
        else:
            found[name] = {"ok": True}
    return found


def create_app(settings: Settings, *, cookie_secure: bool = True) -> FastAPI:
    """The application for ``settings``. ``cookie_secure``: mark the session cookie Secure (``archive serve``
    turns it off only when it listens on loopback, where there is no TLS)."""
    logs.configure(settings)
    ctx = Context(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            ctx.close()

    app = FastAPI(title="Archive API", version=API_VERSION, description=DESCRIPTION, lifespan=lifespan,
                  openapi_url=None, docs_url=None, redoc_url=None)
    app.state.ctx = ctx
    app.state.cookie_secure = cookie_secure
    app.state.ready = (0.0, False)
    errors.install(app)
    app.include_router(auth.router)
    app.include_router(documents.router)
    app.include_router(records.router)
    app.include_router(batches.router)
    app.include_router(quarantine.router)
    app.include_router(docs_page.router)
    app.include_router(reports.router)
    _operations(app)
    web.install(app)  # the web pages (pipeline/entry/web): their routers, /static, security headers
    return app


def _operations(app: FastAPI) -> None:
    ctx: Context = app.state.ctx

    @app.get("/healthz", tags=["operations"], responses={200: {"description": "The process answers."}})
    def healthz() -> dict[str, str]:
        """Liveness: the process answers (nothing else is checked or said)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses={503: {"model": ErrorBody}})
    async def readyz(request: Request,
                     credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
                     secure_cookie: Annotated[str | None, Depends(SECURE_COOKIE)],
                     loopback_cookie: Annotated[str | None, Depends(LOOPBACK_COOKIE)]) -> Response:
        """Readiness: storage, broker, catalog and search index answer. Without sign-in only the status code
        (200 or 503); an administrator also gets each check with its reason."""
        try:
            who = (await caller(request, credentials, secure_cookie, loopback_cookie)).actor
        except ApiError:
            who = None
        if who is not None and who.has(Role.ADMIN):
            checks = await run_in_threadpool(readiness, ctx)
            ok = all(c["ok"] for c in checks.values())
            return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks},
                                status_code=200 if ok else 503)
        at, ok = app.state.ready
        if time.monotonic() - at > READY_CACHE_S:
            ok = all(c["ok"] for c in (await run_in_threadpool(readiness, ctx)).values())
            app.state.ready = (time.monotonic(), ok)
        if ok:
            return JSONResponse({"status": "ready"})
        return error_response(503, "not_ready", "not ready")

    @app.get("/metrics", tags=["operations"], response_class=Response,
             responses={200: {"content": {metrics.CONTENT_TYPE: {}}}, 401: {"model": ErrorBody},
                        403: {"model": ErrorBody}})
    def prometheus(who: ActorDep) -> Response:
        """Prometheus text exposition (administrators: the counts cover every document)."""
        return Response(metrics.exposition(ctx, who), media_type=metrics.CONTENT_TYPE)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_: ActorDep) -> JSONResponse:
        return JSONResponse(app.openapi())

