"""Uploads: ``POST /api/v1/batches`` takes PDFs, page images or one zipped batch (plus an optional manifest)
as multipart/form-data, streams them into a fresh staging folder and answers 202 with the batch id at once;
the batch is ingested in the background. ``GET /api/v1/batches/{id}`` follows it document by document;
``GET /api/v1/batches`` lists the caller's batches. Only archivists (and admins) upload; a batch is visible to
its submitter and administrators, anyone else gets 404."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.app.batch_runs import batch_status, my_batches, start_batch
from pipeline.app.context import Context
from pipeline.app.uploads import Staging, TooLarge, UploadRefused
from pipeline.entry.api.auth import ActorDep
from pipeline.entry.api.common import LIST_PAGE_SIZE, PageNo, PageSize, call, context, paginate
from pipeline.entry.api.errors import ApiError, ErrorBody
from pipeline.entry.api.upload_form import read_form

PREFIX = "/api/v1/batches"
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (401, 403, 404, 413, 422)}
router = APIRouter(prefix=PREFIX, tags=["batches"], responses=ERRORS)
Ctx = Annotated[Context, Depends(context)]
BatchId = Annotated[str, PathParam(pattern=r"^[0-9A-Za-z][0-9A-Za-z-]{0,63}$",
                                   description="The batch id from the upload's answer.")]
UPLOAD_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["files"],
    "properties": {
        "files": {"type": "array", "minItems": 1, "items": {"type": "string", "format": "binary"},
                  "description": "PDFs and page images (PNG, TIFF, JPEG; each image is a one-page document), "
                                 "or one .zip holding a batch: PDFs, folders of page images, an optional "
                                 "manifest.csv."},
        "manifest": {"type": "string", "format": "binary",
                     "description": "The manifest (CSV, UTF-8) when it is not inside the zip."},
        "name": {"type": "string", "maxLength": 120, "description": "The batch name (default: the zip's name)."},
    }}}}}}


class Accepted(BaseModel):
    batch_id: str
    name: str
    status_url: str


class Summary(BaseModel):
    archived: int
    duplicate: int
    quarantined: int
    skipped: int
    failed: int
    pending: int


class DocumentStatus(BaseModel):
    source: str  # the path in the batch
    state: str  # the journal's state: planned, processing, archived, duplicate, quarantined, skipped, failed …
    stage: str  # the live stage (queued, ocr, pdfa, sign, store, index …) or the stage that decided
    doc_id: str | None
    reason: str | None


class BatchStatus(BaseModel):
    batch_id: str
    name: str
    state: Literal["queued", "running", "done", "incomplete"]
    total: int
    finished: int
    summary: Summary
    documents: list[DocumentStatus]
    manifest_errors: list[str]
    kept_at: str | None  # where the batch's files stay when some failed or are pending (else null)
    notice: str | None = None  # an outage being waited out, e.g. "S3 server unreachable, retrying 3/8"


class BatchItem(BaseModel):
    batch_id: str
    name: str
    state: Literal["queued", "running", "done", "incomplete"]
    total: int
    finished: int
    summary: Summary
    started_at: datetime | None
    finished_at: datetime | None
    status_url: str


class BatchPage(BaseModel):
    items: list[BatchItem]
    total: int
    page: int
    page_size: int


def _too_large(limit_mb: int) -> ApiError:
    return ApiError(413, "too_large", f"the upload is larger than {limit_mb} MB (api.max_upload_mb)")


@router.post("", status_code=202, response_model=Accepted, openapi_extra=UPLOAD_BODY)
async def upload(request: Request, who: ActorDep) -> Accepted:
    """Upload a batch (archivists): multipart/form-data with ``files`` (PDFs, page images, or one .zip),
    optional ``manifest`` (CSV) and ``name``. Limits (api.*): the body size (413, checked on Content-Length and
    while reading), the number of files and zip members, the unpacked total and ratio of the zip. Zip members
    with absolute paths, '..', backslashes, links, encryption or bomb ratios refuse the whole upload (422,
    naming the member) and nothing is kept. With a session, send the X-CSRF-Token header."""
    ctx = context(request)
    limit_mb = ctx.settings.api.max_upload_mb
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit_mb << 20:
        raise _too_large(limit_mb)
    staging = await call(Staging, ctx, who)  # the archivist role, checked by the application layer
    try:
        name = await read_form(request, staging)
    except TooLarge as exc:
        await call(staging.discard, str(exc))
        raise _too_large(limit_mb) from None
    except UploadRefused as exc:
        await call(staging.discard, str(exc))
        raise
    except StarletteHTTPException as exc:  # the body outgrew the limit counted by the middleware
        staging.discard(f"HTTP {exc.status_code}: {exc.detail}")
        raise
    except BaseException:  # the client went away, a malformed body …: nothing of it is kept
        staging.discard()
        raise
    staged = await call(staging.finish, name)
    await call(start_batch, ctx, who, staged)
    return Accepted(batch_id=staged.batch_id, name=staged.name, status_url=f"{PREFIX}/{staged.batch_id}")


@router.get("/{batch_id}", response_model=BatchStatus)
def status(ctx: Ctx, who: ActorDep, batch_id: BatchId) -> dict[str, Any]:
    """A batch's progress: its state (queued, running, done, incomplete), counts per outcome, each document's
    state and live stage, the manifest's errors, and where its files stay if some failed or are pending.
    404 unless you submitted it or are an administrator."""
    return batch_status(ctx, who, batch_id)


@router.get("", response_model=BatchPage)
def listing(ctx: Ctx, who: ActorDep, page: PageNo = 1, page_size: PageSize = LIST_PAGE_SIZE) -> dict[str, Any]:
    """Your batches (uploaded or ingested under your name), newest first."""
    found = [{**item, "status_url": f"{PREFIX}/{item['batch_id']}"} for item in my_batches(ctx, who)]
    return paginate(found, page, page_size)
