"""What the routes share: the app's one Context, checked text inputs, dates, pagination."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from pydantic import AfterValidator, StringConstraints

from pipeline.app.context import Context
from pipeline.app.errors import Invalid
from pipeline.core.dates import parse_date

MAX_PAGE = 10_000
LIST_PAGE_SIZE = 50
MAX_LIST_PAGE_SIZE = 200


def plain(value: str) -> str:
    """Text from a request: NFC, and no control or unpaired surrogate characters (NUL and friends would be
    refused by PostgreSQL and make no sense in a name, a reason or a query)."""
    if any(unicodedata.category(c) in ("Cc", "Cs") and c not in "\t\n\r" for c in value):
        raise ValueError("must not contain control characters")
    return unicodedata.normalize("NFC", value)


def not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _text(max_length: int, min_length: int = 0) -> Any:
    if min_length:
        return Annotated[str, StringConstraints(max_length=max_length, min_length=min_length), AfterValidator(plain),
                         AfterValidator(not_blank)]
    return Annotated[str, StringConstraints(max_length=max_length), AfterValidator(plain)]


Short = _text(200)  # a filter value, a name
Line = _text(2000)  # a reason, a decision, a note
Required = _text(2000, 1)
SearchText = _text(500, 1)
SearchBox = _text(500)  # a search form's box, which may be empty
DocRef = Annotated[str, StringConstraints(pattern=r"^[0-9A-Fa-f]{6,64}$")]  # a document id or unique prefix
IdPattern = r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$"  # hold and proposal ids (H-…, P-…)


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def day(value: str | None, name: str) -> date | None:
    """YYYY-MM-DD or dd/mm/yyyy, as in the CLI; a bad one is :class:`Invalid` (422) naming the parameter."""
    if value is None or not value.strip():
        return None
    try:
        found = parse_date(value)
    except ValueError as exc:
        raise Invalid(f"{name}: {exc}") from None
    if not 1800 <= found.year <= 2200:  # the calendar's edges overflow date arithmetic (a 500, not a 422)
        raise Invalid(f"{name}: {found} is outside the years 1800-2200")
    return found


DayParam = Annotated[str | None, StringConstraints(max_length=20)]


PageNo = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1.")]
PageSize = Annotated[int, Query(ge=1, le=MAX_LIST_PAGE_SIZE, description="Items per page.")]


def paginate(items: Sequence[Any], page: int, page_size: int) -> dict[str, Any]:
    """One page of a list: ``items``, the ``total`` count, and where it is."""
    start = (page - 1) * page_size
    return {"items": jsonable_encoder(list(items[start:start + page_size])), "total": len(items), "page": page,
            "page_size": page_size}


async def call(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a blocking application-layer call off the event loop."""
    return await run_in_threadpool(func, *args, **kwargs)
