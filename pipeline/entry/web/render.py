"""Rendering a page: one Jinja2 environment (autoescape on for every template: OCR text and metadata are
untrusted), the caller's language from the ``lang`` cookie, ``t(key)`` in the templates, the nav bar the
caller's roles allow, and the session's CSRF token for the page's forms."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pipeline.core.actor import Actor
from pipeline.core.vocabulary import Role
from pipeline.entry.api.auth import Caller
from pipeline.entry.web.auth import CSRF_FIELD, this_page
from pipeline.entry.web.messages import pick_lang, translate

TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE = "lang"


@dataclass(frozen=True)
class NavItem:
    key: str  # the message key of its label, also the element id suffix (nav-search …)
    href: str
    role: Role | None  # None: every signed-in user


NAV = (NavItem("search", "/search", None), NavItem("upload", "/upload", Role.ARCHIVIST),
       NavItem("stats", "/stats", None), NavItem("records", "/records", Role.RECORDS_OFFICER),
       NavItem("users", "/users", Role.ADMIN))


def nav_for(actor: Actor | None) -> list[NavItem]:
    """The nav entries the actor's roles allow (an administrator has every role)."""
    if actor is None:
        return []
    return [item for item in NAV if item.role is None or actor.has(item.role)]


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    return env


def lang_of(request: Request) -> str:
    return pick_lang(request.cookies.get(LANG_COOKIE))


def render(request: Request, template: str, *, status: int = 200, who: Caller | None = None,
           headers: dict[str, str] | None = None, **values: Any) -> HTMLResponse:
    """``template`` rendered for this request. Every template gets ``t``, ``lang``, ``user`` (an Actor or None),
    ``nav``, ``csrf_token`` (the session's, for hidden ``csrf_token`` fields), ``csrf_field`` (the field's name)
    and ``here`` (this page, for the language switch's return)."""
    if who is None:
        who = getattr(request.state, "who", None)
    lang = lang_of(request)

    def t(key: str, **kw: Any) -> str:
        return translate(lang, key, **kw)

    page = environment().get_template(template).render(
        t=t, lang=lang, user=who.actor if who else None, nav=nav_for(who.actor if who else None),
        csrf_token=who.session.csrf_token if who and who.session else "", csrf_field=CSRF_FIELD,
        here=this_page(request), status_code=status, **values)
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})
