"""Chain the stages for one document: OCR/PDF/A → sign → store. Plain Python, used in-process by the local
executor and wrapped by the Celery tasks. A failure of the input quarantines the document with its reason; a
failure of a service (:func:`is_transient`: S3, Redis, the catalog, the audit trail unreachable) is raised, so the
input stays in the batch, journalled ``failed`` and retried, never quarantined for someone else's outage.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import urllib3
from minio.error import S3Error

from pipeline import ocr, sign
from pipeline.app import representations, retention_rules, signed_original, workspace
from pipeline.app.audit import AuditUnavailable
from pipeline.app.doc_limits import document_limits
from pipeline.app.errors import causes
from pipeline.app.health import ServiceUnavailable
from pipeline.app.selection import describe_selection, pages_of, scan_warnings, selection_detail
from pipeline.app.signing import sign_policy, signer_config
from pipeline.archive import ArchiveStore
from pipeline.archive.client import S3Unreachable
from pipeline.archive.retention import policy_for
from pipeline.core import syllables
from pipeline.core.record import DocumentRecord, Event, PageInfo, SignatureFacts, Source, rescan_pages
from pipeline.core.settings import ScanSettings, Settings
from pipeline.core.vocabulary import DocState
from pipeline.ocr.types import OUTPUT_NAME as OCR_OUTPUT_NAME
from pipeline.scan import IntakeItem, IntakeProblem

ProgressCallback = Callable[[str], None]
DOC_ID = re.compile(r"^[0-9a-f]{64}$")  # SHA-256 of the content (pipeline.scan.batch.content_id)
log = logging.getLogger("archive.process")

ARCHIVED = DocState.ARCHIVED.value
DUPLICATE = DocState.DUPLICATE.value
QUARANTINED = DocState.QUARANTINED.value
PENDING = DocState.PENDING.value  # submitted, not finished when the caller stopped waiting
FAILED = DocState.FAILED.value  # could not even be quarantined (e.g. storage down): the input stays put


@dataclass
class DocumentOutcome:
    source: str
    status: str  # archived | duplicate | quarantined | pending | failed
    id: str = ""
    reason: str = ""
    stage: str = ""  # the stage that failed, for quarantined documents
    pages: int = 0
    origin: str = ""
    # What the archivist should look at in a document that was archived all the same: a scan under 200 dpi, blank
    # pages (intake's warnings and the page check's).
    warnings: list[str] = field(default_factory=list)
    rescan: list[str] = field(default_factory=list)  # pages to scan again, each with why ("page 3: …")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StageTimer:
    stage: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def event(self, tools: dict[str, str] | None = None, **detail: Any) -> Event:
        return Event(stage=self.stage, started_at=self.started_at, finished_at=datetime.now(UTC),
                     tools=tools or {}, detail=detail)


class StageFailure(Exception):
    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(reason)
        self.stage = stage
        self.reason = reason


# ---- transient or permanent ------------------------------------------------------------------------------
# S3 answers that mean "not now": the server is busy, starting or briefly broken, never the input's fault.
TRANSIENT_S3_CODES = {"SlowDown", "ServiceUnavailable", "RequestTimeout", "InternalError",
                      "XMinioServerNotInitialized", "XMinioStorageFull"}
TRANSIENT_S3_STATUS = {500, 502, 503, 504}
# Named by module and class, so this layer needs neither redis, kombu nor SQLAlchemy to recognise them.
TRANSIENT_FOREIGN = {("redis", "ConnectionError"), ("redis", "TimeoutError"), ("redis", "BusyLoadingError"),
                     ("kombu", "OperationalError"), ("sqlalchemy", "OperationalError"),
                     ("sqlalchemy", "InterfaceError"), ("sqlalchemy", "DisconnectionError"),
                     ("sqlalchemy", "TimeoutError")}


def _transient_one(exc: BaseException) -> bool:
    if isinstance(exc, S3Unreachable | ServiceUnavailable | AuditUnavailable | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True  # the worker's disk is full: the input is fine, the machine is not
    if isinstance(exc, urllib3.exceptions.TimeoutError | urllib3.exceptions.ProtocolError
                  | urllib3.exceptions.NewConnectionError | urllib3.exceptions.MaxRetryError):
        return True
    if isinstance(exc, S3Error):
        status = getattr(exc.response, "status", 0)
        return exc.code in TRANSIENT_S3_CODES or status in TRANSIENT_S3_STATUS
    return any(type(exc).__module__.split(".")[0] == module and cls.__name__ == name
               for cls in type(exc).__mro__ for module, name in TRANSIENT_FOREIGN)


def is_transient(exc: BaseException) -> bool:
    """A failure of a service the document needs (connection refused or reset, timeouts, S3 503/SlowDown,
    ServiceUnavailable, AuditUnavailable, the catalog's database gone), here or anywhere in the chain of causes:
    retry later, never quarantine. Anything else is the input's own problem."""
    return any(_transient_one(current) for current in causes(exc))


# ---- intake items as plain JSON (Celery messages; workers re-check them: pipeline.app.messages) ------
def item_to_dict(item: IntakeItem) -> dict[str, Any]:
    return {
        "source_path": item.source_path,
        "files": [str(p) for p in item.files],
        "kind": item.kind,
        "origin": item.origin.value,
        "needs_ocr": item.needs_ocr,
        "page_count": item.page_count,
        "doc_id": item.doc_id,
        "metadata": item.metadata.model_dump(mode="json"),
        "has_manifest_row": item.has_manifest_row,
        "warnings": list(item.warnings),
        "pages": item.pages,
        "dropped": list(item.dropped),
        "part": item.part,
        "separator_page": item.separator_page,
        "profile": item.profile,
    }


# ---- stage adapters ----------------------------------------------------------------------------------
def _check_limits(item: IntakeItem, settings: Settings) -> None:
    """Refuse a document over ``intake.max_pages`` before any conversion: one document cannot hold a worker for
    hours or fill its disk. Checked here, so the local executor and the Celery workers apply the same limit."""
    limit = settings.intake.max_pages
    if item.page_count > limit:
        raise StageFailure("intake", f"{item.page_count} pages, more than the limit of {limit} pages per document "
                                     "(intake.max_pages): split it, or raise the limit")


def _run_ocr(item: IntakeItem, settings: Settings, workdir: Path) -> tuple[ocr.OcrResult, Event, list[str]]:
    timer = StageTimer("ocr" if item.needs_ocr else "pdfa")
    request = ocr.OcrRequest(
        inputs=list(item.files),
        kind=item.kind,
        needs_ocr=item.needs_ocr,
        language=item.metadata.language or settings.ocr.language,
        deskew=settings.ocr.deskew,
        rotate_pages=settings.ocr.rotate_pages,
        pdfa_part=settings.ocr.pdfa_part,
        timeout_s=document_limits(settings, item.page_count).ocr_s,
        jobs=settings.ocr.jobs,
        slot_dir=settings.run_dir / "ocr-slots",
        slots=settings.ocr.slots or os.cpu_count() or 1,
        profile=item.profile or settings.scan.profile,
    )
    try:
        result = ocr.make_pdfa(request, workdir)
    except ocr.RenditionFailed:
        raise  # a readable PDF without a rendition: the caller keeps the original as the archival copy
    except ocr.OcrError as exc:
        raise StageFailure(timer.stage, str(exc)) from exc
    try:  # every page of the rendition against its input: never archive a page the conversion blanked or lost
        pages = ocr.check_pages(request.inputs, request.kind, result.pdf_path, item.page_count,
                                workdir / "pagecheck", timeout=settings.ocr.timeout_s)
    except ocr.OcrError as exc:
        raise StageFailure(timer.stage, str(exc)) from exc
    event = timer.event(result.tools, language=request.language, ocr_applied=result.ocr_applied,
                        pdfa=result.pdfa, fixes=result.fixes, pages_checked=pages.pages, blank_pages=pages.blank)
    return result, event, pages.warnings()


def _run_sign(item: IntakeItem, settings: Settings, pdf: Path, workdir: Path
              ) -> tuple[Path, SignatureFacts, Event | None]:
    """Sign this document's own output: the PDF/A stage's rendition, or the pipeline's copy of an original
    that has no rendition (invisibly, appended). Nothing else ever reaches the agency key."""
    if not settings.sign.enabled:
        return pdf, SignatureFacts(signed=False), None
    timer = StageTimer("sign")
    own_outputs = {workdir / OCR_OUTPUT_NAME, workdir / representations.ORIGINAL_COPY}
    if pdf not in own_outputs or pdf.is_symlink() or not pdf.is_file():
        raise StageFailure("sign", f"refused to sign {pdf.name}: not this document's own archival copy")
    signed = workdir / "signed.pdf"
    policy = sign_policy(settings, item.origin)
    if pdf.name == representations.ORIGINAL_COPY:
        policy = dataclasses.replace(policy, visible=False)  # never draw on a page of the original
    resaved, stamp = False, ""
    try:
        try:
            info = sign.sign_pdf(pdf, signed, signer_config(settings), policy)
        except sign.StampNotPlaced as exc:  # page 1 sideways or tiny: signed all the same, without the stamp
            stamp = f"signed without the visible stamp: {exc}"
            info = sign.sign_pdf(pdf, signed, signer_config(settings), dataclasses.replace(policy, visible=False))
        except sign.SigningError as exc:
            if pdf.name != representations.ORIGINAL_COPY or not representations.needs_resave(str(exc)):
                raise
            # pyHanko cannot append to the received bytes (unparsable for it, or encrypted with an owner
            # password): sign qpdf's unencrypted re-save; the received bytes stay in original/<name>.
            info = sign.sign_pdf(representations.resaved(pdf), signed, signer_config(settings), policy)
            resaved = True
    except sign.SigningError as exc:
        raise StageFailure("sign", str(exc)) from exc
    facts = SignatureFacts(signed=True, level=info.level, field_name=info.field_name,
                           signer_subject=info.signer_subject, signer_cert_sha256=info.signer_cert_sha256,
                           signed_at=info.signed_at, visible=info.visible, timestamped=info.timestamped)
    detail: dict[str, Any] = {"level": info.level, "visible": info.visible, "resaved": resaved}
    if stamp:
        detail["stamp"] = stamp
    return signed, facts, timer.event(info.tools, **detail)


def build_record(item: IntakeItem, batch: str, received_at: datetime, result: ocr.OcrResult,
                 signature: SignatureFacts, events: list[Event], settings: Settings | None = None) -> DocumentRecord:
    """The record of a processed document. Each OCR'd page gets its quality signal (confidence, and the share of
    Vietnamese syllables when the document is in Vietnamese) and, below the ``[scan]`` thresholds, why it should
    be scanned again (``rescan``)."""
    scan = settings.scan if settings is not None else ScanSettings()
    language = item.metadata.language or (settings.ocr.language if settings is not None else "vie")
    vietnamese = language.split("+")[0] in ("vie", "Vietnamese", "script/Vietnamese")  # vie first: in Vietnamese
    pages: list[PageInfo] = []
    for p in result.pages:
        share = syllables.syllable_share(p.text) if p.confidence is not None and vietnamese else None
        pages.append(PageInfo(number=p.number, chars=len(p.text), confidence=p.confidence, syllable_share=share,
                              rescan=syllables.rescan_reason(p.confidence, share, scan.rescan_confidence,
                                                             scan.rescan_syllable_share, ocr_applied=p.ocr)))
    return DocumentRecord(
        id=item.doc_id,
        source=Source(batch=batch, path=item.source_path, files=[p.name for p in item.files],
                      received_at=received_at),
        metadata=item.metadata,
        origin=item.origin,
        ocr_applied=result.ocr_applied,
        page_count=len(result.pages),
        pages=pages,
        signature=signature,
        pdfa=result.pdfa,
        events=events,
    )


def process_document(item: IntakeItem, batch: str, received_at: datetime, settings: Settings,
                     store: ArchiveStore | None = None, progress: ProgressCallback | None = None
                     ) -> tuple[DocumentOutcome, DocumentRecord | None, list[str]]:
    """Run one document through the stages. Returns the outcome, the stored record and its page texts
    (for indexing). Never raises for a bad document: it is quarantined with the reason."""
    if not DOC_ID.match(item.doc_id):  # it names the work folder and the storage keys
        raise ValueError(f"malformed document id {item.doc_id[:80]!r}")
    store = store or ArchiveStore(settings.s3, retention=policy_for(settings.s3, settings.retention))
    notify = progress or (lambda _stage: None)
    outcome = DocumentOutcome(source=item.source_path, status=ARCHIVED, id=item.doc_id,
                              pages=item.page_count, origin=item.origin.value, warnings=list(item.warnings))
    if store.has_document(item.doc_id):
        outcome.status = DUPLICATE
        outcome.reason = "already archived (same content)"
        gone = store.get_record(item.doc_id).disposal
        if gone is not None:  # destroyed under a decision: never archived again by a batch
            outcome.reason = (f"destroyed on {gone.executed_at:%Y-%m-%d} under {gone.proposal} ({gone.decision}): "
                              "not archived again")
        return outcome, None, []
    # Its own folder (checked for room first: DiskFull is retried), where its tools' temporary files go too.
    workdir = workspace.create(settings, item.doc_id[:12])
    stage = "ocr"
    whole = item
    try:
        _check_limits(item, settings)
        item, originals = pages_of(item, workdir)
        warned, refused = scan_warnings(whole, item, settings)
        outcome.warnings += warned
        if refused:
            raise StageFailure("intake", refused)
        notify("ocr" if item.needs_ocr else "pdfa")
        intake_event = Event(stage="intake", started_at=received_at, finished_at=datetime.now(UTC),
                             detail={"origin": item.origin.value, "needs_ocr": item.needs_ocr,
                                     "warnings": outcome.warnings, **selection_detail(whole)})
        found = signed_original.incoming_signatures(item.files[0], settings) if item.kind == "pdf" else None
        if found is not None and found.signed:  # never re-written: preserved as received
            stage = "preserve"
            try:
                result, facts, incoming, ocr_event = signed_original.preserve(item.files[0], found, settings, workdir,
                                                                                     item.metadata.language)
            except signed_original.NotPreserved as exc:
                raise StageFailure("preserve", str(exc)) from exc
            final_pdf, sign_event = result.pdf_path, None
            representation, note = representations.SIGNED_ORIGINAL, representations.note_for(
                representations.SIGNED_ORIGINAL)
        else:
            incoming = []
            try:
                result, ocr_event, page_warnings = _run_ocr(item, settings, workdir)
                outcome.warnings += page_warnings
                representation = representations.PDFA
                note = representations.note_for(representation, result.fixes)
            except ocr.RenditionFailed as failure:
                result, ocr_event = representations.keep_original(
                    item.files[0], failure, workdir, item.metadata.language or settings.ocr.language,
                    settings.ocr.timeout_s)
                representation, note = representations.ORIGINAL, representations.no_rendition_note(failure)
            stage = "sign"
            notify("sign")
            final_pdf, facts, sign_event = _run_sign(item, settings, result.pdf_path, workdir)
            if sign_event is not None and sign_event.detail.get("stamp"):
                outcome.warnings.append(sign_event.detail["stamp"])
        events = [e for e in (intake_event, ocr_event, sign_event) if e is not None]
        stage = "store"
        notify("store")
        timer = StageTimer("store")
        record = build_record(item, batch, received_at, result, facts, events, settings)
        outcome.rescan = [f"page {p.number}: {p.rescan}" for p in rescan_pages(record)]
        if sign_event is not None and sign_event.detail.get("resaved"):
            note.changes.append(representations.RESAVED_CHANGE)
        record.representation, record.representation_note = representation, note
        # Before any object is locked; a document joining an already closed dossier counts from its closing.
        retention_rules.assign(record, retention_rules.schedule_for(settings),
                               store.dossier_closed(record.metadata.dossier_code))
        record.incoming_signatures = incoming
        describe_selection(record, whole)
        texts = [p.text for p in result.pages]
        stored = store.store_document(record, [(p.name, p) for p in originals], final_pdf, texts, result.attachments,
                                      before_commit=lambda done: done.events.append(timer.event()))
        outcome.pages = stored.page_count
        return outcome, stored, texts
    except Exception as exc:
        if (full := workspace.disk_full(exc, workdir, settings, guess=not is_transient(exc))) is not None:
            raise full from exc  # the disk filled up, not the input's fault: retried with a clear reason
        if is_transient(exc):  # a service is down, not the input: the caller keeps it in the batch (failed)
            log.warning("stage %s of %s: service unavailable (%s); left in the batch", stage, item.source_path,
                        exc, extra={"doc_id": item.doc_id, "batch": batch})
            raise
        if isinstance(exc, StageFailure):
            stage, reason = exc.stage, exc.reason
        else:  # an unexpected failure must still leave the input in quarantine
            reason = f"{type(exc).__name__}: {exc}"
            log.exception("unexpected failure in stage %s of %s", stage, item.source_path,
                          extra={"doc_id": item.doc_id, "batch": batch})
    finally:
        workspace.remove(workdir)
    quarantine_item(store, batch, IntakeProblem(whole.source_path, reason, list(whole.files)),
                    stage=stage, doc_id=whole.doc_id)
    outcome.status, outcome.reason, outcome.stage = QUARANTINED, f"{stage}: {reason}", stage
    return outcome, None, []


def quarantine_item(store: ArchiveStore, batch: str, problem: IntakeProblem, stage: str = "intake",
                    doc_id: str = "") -> DocumentOutcome:
    """Keep the bad input byte for byte with its reason. Returns the outcome to report."""
    details = {"stage": stage, "source": problem.source_path, "doc_id": doc_id,
               "at": datetime.now(UTC).isoformat(), "files": [p.name for p in problem.files]}
    if not problem.files:
        store.quarantine(batch, problem.source_path, None, problem.reason, details)
    for path in problem.files:
        name = problem.source_path if len(problem.files) == 1 and problem.source_path.endswith(path.name) \
            else f"{problem.source_path}/{path.name}"
        for attempt in range(3):  # storage hiccups must not lose the reason
            try:
                store.quarantine(batch, name, path, problem.reason, details)
                break
            except Exception:
                if attempt == 2:
                    raise
                time.sleep(1 + attempt)
    return DocumentOutcome(source=problem.source_path, status=QUARANTINED, id=doc_id,
                           reason=f"{stage}: {problem.reason}", stage=stage)
