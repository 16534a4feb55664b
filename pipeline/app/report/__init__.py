"""`archive report` (issue 12): the electronic-document statistics as a report with charts, in Vietnamese (default)
or English, written to a file: one self-contained HTML page (charts as inline SVG) or a PDF/A-2b signed with the
agency certificate like any archived document (charts as images). The figures are those of `archive stats`
(:func:`pipeline.app.statistics.electronic_statistics`) for what the requester may see, and so is the rule of who
may ask: any user, within their clearance. The report is written to the given file, not archived; writing it is
an audit event (``report``)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.app.context import Context
from pipeline.app.errors import Invalid
from pipeline.app.report.data import LANGS, Report, ReportQuery, collect
from pipeline.core.actor import Actor

FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html"}

__all__ = ["FORMATS", "LANGS", "Report", "ReportQuery", "collect", "report_format", "write_report"]


def report_format(output: Path) -> str:
    """``pdf`` or ``html``, from the output file's name."""
    fmt = FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise Invalid(f"--output {output.name!r}: expected a file name ending in .pdf or .html")
    return fmt


def write_report(ctx: Context, actor: Actor, query: ReportQuery, output: Path) -> dict[str, Any]:
    """Write the report of ``query`` for ``actor`` to ``output`` (PDF or HTML by its suffix); what was written:
    format, path, SHA-256, documents counted, and for a PDF its conformance and signature."""
    fmt = report_format(output)
    if output.is_dir():
        raise Invalid(f"--output {output}: is a directory")
    report = collect(ctx, actor, query)
    output.parent.mkdir(parents=True, exist_ok=True)
    when = datetime.now(UTC)
    facts: dict[str, Any] = {}
    if fmt == "pdf":
        from pipeline.app.report import pdf

        facts = pdf.write(ctx.settings, report, output, when)
    else:
        from pipeline.app.report import html

        fd, name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".partial", dir=output.parent)  # 0600, new
        partial = Path(name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(html.render(report))
            os.replace(partial, output)
        finally:
            partial.unlink(missing_ok=True)
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    scope = report.total["scope"]
    detail = {"format": fmt, "lang": report.lang, "period": scope["period"], "from": scope["from"],
              "to": scope["to"], "unit": scope["unit"], "clearance": scope["clearance"],
              "documents": report.total["documents"]["total"], "sha256": digest, "file": output.name, **facts}
    ctx.audit.record(actor.name, "report", str(output.resolve()), "ok", detail)
    return {"path": str(output), **detail}
