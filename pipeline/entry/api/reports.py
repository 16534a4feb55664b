"""GET /api/v1/reports: the `archive report` of the caller's figures, as the signed PDF/A (default) or the
self-contained HTML page, sent as an attachment. Built in a private temporary folder that is removed however the
response ends; the application layer checks the role, counts only what the caller may see and audits it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse

from pipeline.app.context import Context
from pipeline.app.report import ReportQuery, write_report
from pipeline.entry.api.auth import ActorDep
from pipeline.entry.api.common import DayParam, Short, context, day
from pipeline.entry.api.documents import TempFileResponse
from pipeline.entry.api.errors import ErrorBody

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (401, 403, 422)}
router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["statistics"])
Ctx = Annotated[Context, Depends(context)]
# The HTML report carries its charts inline: opened from a download it may show them and run nothing.
HTML_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
                "X-Content-Type-Options": "nosniff"}


@router.get("/reports", response_class=FileResponse,
            responses={200: {"content": {"application/pdf": {}, "text/html": {}},
                             "description": "The report file (an attachment)."}})
def report(ctx: Ctx, who: ActorDep,
           fmt: Annotated[Literal["pdf", "html"], Query(alias="format", description=(
               "pdf: PDF/A-2b signed with the agency certificate; html: one page, charts as SVG."))] = "pdf",
           period: Annotated[Short | None, Query(description="2026, 2026-Q4 or 2026-11 (instead of from/to).")]
           = None,
           date_from: Annotated[DayParam, Query(alias="from", description="Received on or after (Vietnam time).")]
           = None,
           date_to: Annotated[DayParam, Query(alias="to", description="Received on or before (Vietnam time).")]
           = None,
           unit: Annotated[Short | None, Query(description="Only this unit (diacritics and case ignored).")] = None,
           lang: Annotated[Literal["vi", "en"], Query(description="Labels in Vietnamese or English.")] = "vi",
           ) -> TempFileResponse:
    """The directives' figures with charts (as `archive report`), for what the caller may see."""
    query = ReportQuery(period=period or None, date_from=day(date_from, "from"), date_to=day(date_to, "to"),
                        unit=unit or None, lang=lang)
    ctx.settings.work_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=ctx.settings.work_dir, prefix="api-report-"))
    try:
        written = write_report(ctx, who, query, tmp / f"bao-cao.{fmt}")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    scope = written.get("period") or f"{written.get('from') or ''}_{written.get('to') or ''}".strip("_") or "all"
    name = f"bao-cao-{scope}.{fmt}".replace("/", "-")
    if fmt == "pdf":
        return TempFileResponse(Path(written["path"]), cleanup=tmp, media_type="application/pdf", filename=name,
                                headers={"X-Content-Type-Options": "nosniff"})
    return TempFileResponse(Path(written["path"]), cleanup=tmp, media_type="text/html; charset=utf-8",
                            filename=name, headers=HTML_HEADERS)
