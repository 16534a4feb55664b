"""Reading the archive: search, a document's metadata, a page's text, the archival copy (streamed), verify,
statistics. Each route calls the use case the CLI calls; the clearance is applied there, so a document above
the caller's clearance is 404 on every route and absent from hits, totals and facets."""

from __future__ import annotations

import mimetypes
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, StringConstraints

from pipeline.app import documents, metadata_edit, searching, verification
from pipeline.app.context import Context
from pipeline.app.errors import Invalid
from pipeline.app.searching import SearchQuery
from pipeline.app.statistics import StatsQuery, electronic_statistics
from pipeline.entry.api.auth import ActorDep
from pipeline.entry.api.common import DayParam, DocRef, Line, PageNo, Required, SearchText, Short, context, day
from pipeline.entry.api.errors import ErrorBody

MAX_SEARCH_DEPTH = 10_000  # page × page_size: deeper pages make the engine collect that many results
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (401, 403, 404, 422)}
router = APIRouter(prefix="/api/v1", responses=ERRORS)
Ctx = Annotated[Context, Depends(context)]
DocId = Annotated[DocRef, PathParam(description="Document id or a unique prefix (at least 6 hex characters).")]


class HitOut(BaseModel):
    id: str
    doc_number: str
    title: str
    origin: str
    page: int | None  # the page of the best match (1-based); None when only the metadata matched
    snippet: str  # HTML-escaped text, the matched words in <b>…</b>


class SearchOut(BaseModel):
    query: str
    total: int
    page: int
    page_size: int
    near_matches: bool
    did_you_mean: str | None
    facets: dict[str, dict[str, int]]
    hits: list[HitOut]


@router.get("/search", response_model=SearchOut, tags=["search"])
def search(ctx: Ctx, who: ActorDep,
           q: Annotated[SearchText, Query(description="Words, a quoted phrase or a document number; with or "
                                                      "without diacritics.")],
           doc_type: Annotated[Short | None, Query(alias="type", description="Only this document type.")] = None,
           issuer: Annotated[Short | None, Query(description="Only this issuing body.")] = None,
           unit: Annotated[Short | None, Query(description="Only this unit.")] = None,
           origin: Annotated[Literal["scanned", "born_digital", "mixed"] | None, Query()] = None,
           date_from: Annotated[DayParam, Query(alias="from", description="Issued on or after (YYYY-MM-DD).")]
           = None,
           date_to: Annotated[DayParam, Query(alias="to", description="Issued on or before (YYYY-MM-DD).")] = None,
           signed: Annotated[bool | None, Query(description="Only signed (true) or unsigned (false) ones.")] = None,
           sort: Annotated[Literal["relevance", "date"], Query()] = "relevance",
           page: PageNo = 1,
           page_size: Annotated[int, Query(ge=1, le=100, description="Hits per page.")] = 10) -> dict[str, Any]:
    """Full-text search within the caller's clearance: hits with snippets and the page of the best match,
    the total, facets (type, issuer, unit, origin, year …) over the whole result set."""
    if page * page_size > MAX_SEARCH_DEPTH:
        raise Invalid(f"page {page} of {page_size} hits is deeper than {MAX_SEARCH_DEPTH} results: narrow the search")
    query = SearchQuery(text=q, doc_type=doc_type, issuer=issuer, unit=unit, origin=origin, signed=signed,
                        date_from=day(date_from, "from"), date_to=day(date_to, "to"), sort=sort, page=page,
                        page_size=page_size)
    results = searching.search(ctx, who, query)
    return {**searching.results_dict(q, results), "page": page, "page_size": page_size}


@router.get("/documents/{doc_id}", tags=["documents"])
def show(ctx: Ctx, who: ActorDep, doc_id: DocId) -> dict[str, Any]:
    """The document's record: metadata, origin, pages, signature, retention, checksums, events. A read of a
    classified document is audited."""
    view = documents.show(ctx, who, doc_id)
    data: dict[str, Any] = jsonable_encoder(view.record.model_dump(mode="json"))
    data["page_count"] = view.record.page_count
    data["destroyed"] = view.record.disposal is not None
    return data


class MetadataEdit(BaseModel):
    changes: dict[Annotated[str, StringConstraints(max_length=40)], Line] = Field(
        min_length=1, max_length=20, description="Field → corrected value (\"\" clears it); editable: "
                                                 + ", ".join(metadata_edit.EDITABLE) + ".")
    reason: Required


@router.patch("/documents/{doc_id}", tags=["documents"])
def edit(ctx: Ctx, who: ActorDep, doc_id: DocId, body: MetadataEdit) -> dict[str, Any]:
    """Correct the metadata (archivists): a new sealed version of the record, re-indexed; the signed PDF is
    unchanged. Classification and dossier are not editable; an edit that ends retention earlier also needs the
    records-officer role."""
    record = metadata_edit.edit_metadata(ctx, who, doc_id, dict(body.changes), body.reason)
    data: dict[str, Any] = jsonable_encoder(record.model_dump(mode="json"))
    data["page_count"] = record.page_count
    data["destroyed"] = False
    return data


class PageText(BaseModel):
    id: str
    page: int
    page_count: int
    text: str
    confidence: float | None = None  # OCR confidence of the page, when it was OCR'd
    syllable_share: float | None = None  # share of its OCR'd words that are Vietnamese syllables
    rescan: str = ""  # why the page should be scanned again ("Vietnamese / English"); "" when it need not be


@router.get("/documents/{doc_id}/pages/{n}/text", response_model=PageText, tags=["documents"])
def page_text(ctx: Ctx, who: ActorDep, doc_id: DocId,
              n: Annotated[int, PathParam(ge=1, le=100_000, description="Page number, from 1.")]) -> PageText:
    """The text of one page (NFC; OCR text for scanned pages)."""
    record, text = documents.page_text(ctx, who, doc_id, n)
    info = next((p for p in record.pages if p.number == n), None)
    return PageText(id=record.id, page=n, page_count=record.page_count, text=text,
                    confidence=info.confidence if info else None, syllable_share=info.syllable_share if info else None,
                    rescan=info.rescan if info else "")


@router.get("/documents/{doc_id}/pdf", tags=["documents"], response_class=FileResponse,
            responses={200: {"content": {"application/pdf": {}, "application/octet-stream": {}},
                             "description": "The file's bytes (a zip of the page images for an original scan)."}})
def download(ctx: Ctx, who: ActorDep, doc_id: DocId,
             representation: Annotated[Literal["preservation", "original"], Query(
                 description="preservation: the archival copy (signed PDF/A, or the signed original); "
                             "original: the bytes as received.")] = "preservation") -> FileResponse:
    """The archival copy (default) or the original as received, streamed; Range requests are honoured. A
    download of a classified document is audited."""
    ctx.settings.work_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=ctx.settings.work_dir, prefix="api-download-"))
    try:
        record, paths = documents.download(ctx, who, doc_id, tmp / "file", representation=representation)
        originals = sorted(r.removeprefix("original/") for r in record.artefacts if r.startswith("original/"))
        if representation == "preservation":
            path, name = paths[0], f"{record.id[:16]}.pdf"
        elif len(paths) == 1:
            path, name = paths[0], Path(originals[0]).name if originals else f"{record.id[:16]}.bin"
        else:  # the page images of a scan, in one zip (stored: images do not compress)
            path, name = tmp / "original.zip", f"{record.id[:16]}-original.zip"
            with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as bundle:
                for page in paths:
                    bundle.write(page, page.name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    guessed = mimetypes.guess_type(name)[0] or ""
    media = "application/pdf" if name.lower().endswith(".pdf") else (  # never served as what an untrusted name says
        guessed if guessed.startswith("image/") and guessed != "image/svg+xml" else "application/octet-stream")
    return TempFileResponse(path, cleanup=tmp, media_type=media, filename=name,
                            headers={"X-Content-Type-Options": "nosniff"})


class TempFileResponse(FileResponse):
    """A file response that removes its temporary folder however the response ends: Starlette answers a bad or
    unsatisfiable Range (400, 416) without running background tasks, which would leave a plain copy of a
    possibly classified document in the work folder."""

    def __init__(self, path: Path, *, cleanup: Path, **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        self.cleanup = cleanup

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            shutil.rmtree(self.cleanup, ignore_errors=True)


@router.post("/documents/{doc_id}/verify", tags=["documents"])
def verify(ctx: Ctx, who: ActorDep, doc_id: DocId) -> dict[str, Any]:
    """Verify the stored document: signature, trust, revocation, PDF/A claim, the stored objects against their
    checksums and the seal in the audit trail. ``status``: valid, invalid, indeterminate or disposed."""
    report = verification.with_verdict(verification.verify_archived(ctx, who, doc_id))
    return jsonable_encoder(report)


@router.get("/stats", tags=["statistics"])
def stats(ctx: Ctx, who: ActorDep,
          by: Annotated[list[Literal["unit", "type", "month", "quarter", "year"]] | None, Query(
              max_length=5, description="Group by (repeat to combine, e.g. by=unit&by=month).")] = None,
          date_from: Annotated[DayParam, Query(alias="from", description="Received on or after (Vietnam time).")]
          = None,
          date_to: Annotated[DayParam, Query(alias="to", description="Received on or before (Vietnam time).")]
          = None,
          period: Annotated[Short | None, Query(description="2026, 2026-Q4 or 2026-11 (instead of from/to).")]
          = None,
          unit: Annotated[Short | None, Query(description="Only this unit (diacritics and case ignored).")] = None,
          ) -> dict[str, Any]:
    """The directives' figures for what the caller may see (as `archive stats --json`)."""
    query = StatsQuery(by=tuple(by or ()), period=period or None, unit=unit or None,
                       date_from=day(date_from, "from"), date_to=day(date_to, "to"))
    return jsonable_encoder(electronic_statistics(ctx, who, query))
