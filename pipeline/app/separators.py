"""Separator sheets for scanned page streams: `archive separator … --output sheet.pdf` prints the sheet an
archivist puts before each document (:mod:`pipeline.scan.separator_sheet`). The scan stage splits a page stream
there and reads the document's metadata from the sheet's QR code (:func:`pipeline.scan.separator.split_stream`;
batch intake does not call it yet: issue 15).

Printing is intake work: the archivist role (or admin). The sheet carries the document's title and
classification in print and in its QR code, so, as for a read of a classified document, a sheet classified at or
above ``audit.read_audit_from`` (Mật by default) is an audit event (``separator.print``; its detail names the
payload's SHA-256, never the title: audit readers below that clearance see events naming no document), and
nobody prints a sheet classified above their own clearance. Other sheets write nothing but the file."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.app.context import Context
from pipeline.app.errors import AppError, Invalid
from pipeline.core.actor import AccessDenied, Actor
from pipeline.core.vocabulary import Classification, Role
from pipeline.scan.separator import SeparatorMeta, SeparatorPayloadError
from pipeline.scan.separator_sheet import SheetError, render_sheet

log = logging.getLogger("archive.separators")
# The stage names fields as DocumentMetadata does; a person names them as they typed them.
OPTIONS = {"doc_number": "--doc-number", "title": "--title", "doc_type": "--type", "unit": "--unit",
           "classification": "--classification", "dossier_code": "--dossier", "order_in_dossier": "--order"}


@dataclass
class SheetRequest:
    """What the sheet says about the document; empty: not given (intake keeps the manifest's value)."""

    doc_number: str = ""
    title: str = ""
    doc_type: str = ""
    unit: str = ""
    classification: str = ""  # any spelling of the ladder: mat, Mật, toi-mat, Tối mật …
    dossier_code: str = ""
    order_in_dossier: int | None = None


def _refusal(exc: SeparatorPayloadError) -> Invalid:
    """The stage's reason, naming the option the person typed instead of the field."""
    for field, option in OPTIONS.items():
        if exc.reason.startswith((field + " ", field + ":")):
            return Invalid(option + exc.reason[len(field):])
    return Invalid(f"separator sheet: {exc.reason}")


def _meta(request: SheetRequest) -> SeparatorMeta:
    if bool(request.dossier_code.strip()) != (request.order_in_dossier is not None):
        raise Invalid("give the dossier code and the document's order in it together (--dossier CODE --order K)")
    classification = None
    if request.classification.strip():
        try:
            classification = Classification.parse(request.classification)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
    try:
        return SeparatorMeta(doc_number=request.doc_number, title=request.title, doc_type=request.doc_type,
                             unit=request.unit, classification=classification,
                             dossier_code=request.dossier_code, order_in_dossier=request.order_in_dossier)
    except SeparatorPayloadError as exc:
        raise _refusal(exc) from None


def _write(output: Path, data: bytes, before: Callable[[], object]) -> None:
    """``data`` into ``output`` whole or not at all (a partial file next to it, then renamed); ``before`` runs
    just before the rename (the audit event: a sheet that could not be audited is never left behind)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".partial", dir=output.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        before()
        os.replace(name, output)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def print_sheet(ctx: Context, actor: Actor, request: SheetRequest, output: Path) -> dict[str, Any]:
    """Write the separator sheet for ``request`` to ``output`` (a .pdf file); what was written."""
    actor.require(Role.ARCHIVIST, "print separator sheets")
    if output.suffix.lower() != ".pdf":
        raise Invalid(f"--output {output.name!r}: expected a file name ending in .pdf")
    if output.is_dir():
        raise Invalid(f"--output {output}: is a directory")
    meta = _meta(request)
    level = meta.classification
    if level is not None and not actor.clearance.allows(level):
        raise AccessDenied(f"user {actor.name!r} may not print a separator sheet classified {level.label_vi} "
                           f"(clearance {actor.clearance.label_vi})")
    try:
        sheet = render_sheet(meta)
    except SeparatorPayloadError as exc:
        raise _refusal(exc) from None
    except SheetError as exc:
        raise AppError(str(exc)) from None
    digest = hashlib.sha256(sheet.payload.encode("utf-8")).hexdigest()
    threshold = Classification.parse(ctx.settings.audit.read_audit_from)
    detail = ({"classification": level.value, "payload_sha256": digest, "fields": sorted(meta.overrides())}
              if level is not None and level.rank >= threshold.rank else None)

    def audit() -> None:
        if detail is not None:
            ctx.audit.record(actor.name, "separator.print", str(output.resolve()), "ok", detail)

    _write(output, sheet.pdf, audit)
    log.info("separator sheet %s written by %s (payload sha256 %s)", output.name, actor.name, digest[:16])
    return {"path": str(output), "payload": sheet.payload, "payload_sha256": digest,
            "metadata": meta.to_dict(), "qr_modules": sheet.modules, "ec_level": sheet.ec_level,
            "size": len(sheet.pdf), "audited": detail is not None}
