"""The web pages (issue 13): server-rendered Jinja2 pages in Vietnamese (default) or English over the same use
cases as the CLI and the REST API, signed in with the API's session cookie. :func:`install` mounts them on the
API's application.

Adding a page: a module here named ``*_pages.py`` with ``router = page_router()`` (failures become pages; found
and included by :func:`install`), routes taking ``who: PageCaller`` (signed-in, CSRF-checked on POST) and
answering ``render(request, "x.html", who=who, …)``, a template extending ``base.html``, and its words in both
languages (:func:`messages.add_messages` from the module, or :mod:`messages` itself)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from fastapi import APIRouter, FastAPI
from starlette.staticfiles import StaticFiles

from pipeline.entry.web.headers import SecurityHeaders

STATIC = Path(__file__).parent / "static"


def routers() -> list[APIRouter]:
    """The ``router`` of every ``*_pages`` module of this package, in name order."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.endswith("_pages"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            found.append(module.router)
    return found


def install(app: FastAPI) -> None:
    """The pages' routers, /static, and the security headers on everything but the API."""
    for router in routers():
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders)
