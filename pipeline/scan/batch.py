"""Group a batch folder into documents.

A batch is a folder where each sub-folder is one document made of page images (pages in natural name
order: ``page2`` before ``page10``) and each PDF file is one document. ``manifest.csv`` gives metadata.
Anything else is reported as a problem so the orchestrator can quarantine it: nothing is dropped silently.
Hidden names (``.an.pdf``, a ``.scans/`` folder) are inputs like any other; files that operating systems and
office programs leave behind (``Thumbs.db``, ``.DS_Store``, ``~$`` lock files, ``.Trashes/`` …, see
``pipeline.scan.junk``) are listed in ``plan.skipped`` with their reason. The manifest is ``plan.manifest``.

Intake reads regular files and folders only. A symbolic link is never followed, wherever it points
(outside the batch, dangling, or inside it): following one uploaded files from outside the batch into
the archive, and a link inside the batch would only archive the same content twice. The link itself is
reported (its relative path, ``files=[]``: its target's bytes are never read). Pipes, sockets and devices
likewise. The implicit ``manifest.csv`` follows the same rule; a manifest named by the operator
(``manifest=``) is read wherever it is. Files that vanish while the batch is read become problems.
Limit: the checks use ``lstat`` before reading, so a batch folder rewritten *while* it is read can
still race them; batch folders must be writable only by the scanner/operator.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipeline.core.record import DocumentMetadata, Origin, nfc
from pipeline.core.settings_scan import ScanSettings
from pipeline.scan.images import IMAGE_SUFFIXES, MAX_PAGE_PIXELS, inspect_images
from pipeline.scan.items import Found, IntakeItem, IntakeProblem, IntakeSkip, content_id
from pipeline.scan.junk import junk_reason
from pipeline.scan.manifest import ManifestError, ManifestRows, read_manifest
from pipeline.scan.origin import UnreadableInput, inspect_pdf
from pipeline.scan.streams import look

MANIFEST_NAME = "manifest.csv"
TIFF_SUFFIXES = {".tif", ".tiff"}

PLAN_THREADS = os.cpu_count() or 1
log = logging.getLogger(__name__)


@dataclass
class BatchPlan:
    batch: str
    root: Path
    received_at: datetime
    documents: list[IntakeItem] = field(default_factory=list)
    problems: list[IntakeProblem] = field(default_factory=list)
    manifest_errors: list[str] = field(default_factory=list)  # rows that name no document in the batch
    skipped: list[IntakeSkip] = field(default_factory=list)  # not documents, each with its reason
    manifest: str = ""  # the manifest read: its path in the batch, else as given ("" when there is none)
    separators: int = 0  # separator sheets found in scanned streams (not part of any document)
    blank_pages: int = 0  # blank pages dropped


def natural_key(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def _relative(root: Path, path: Path) -> str:
    return nfc(path.relative_to(root).as_posix())


def _order(path: Path) -> tuple[list[object], str]:
    """Natural name order; a leading dot (a hidden name) does not move a page or document."""
    return natural_key(path.name.lstrip(".")), path.name


def _split_junk(root: Path, entries: list[Path]) -> tuple[list[Path], list[IntakeSkip]]:
    kept: list[Path] = []
    skipped: list[IntakeSkip] = []
    for path in entries:
        reason = junk_reason(path)
        if reason is None:
            kept.append(path)
        else:
            skipped.append(IntakeSkip(_relative(root, path), reason))
    return kept, skipped


def _refusal(root: Path, path: Path) -> IntakeProblem | None:
    """None for a regular file or a folder; otherwise the problem that refuses ``path`` (never followed)."""
    rel = _relative(root, path)
    mode = path.lstat().st_mode  # FileNotFoundError: vanished, reported by the caller
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if not stat.S_ISLNK(mode):
        return IntakeProblem(rel, "not a regular file (pipe, socket or device): refused")
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:
        return IntakeProblem(rel, "dangling symbolic link: refused")
    except (OSError, RuntimeError):  # a link loop (RuntimeError before Python 3.13)
        return IntakeProblem(rel, "symbolic link loop: refused")
    kind = "folder" if target.is_dir() else "file"
    if not target.is_relative_to(root):
        return IntakeProblem(rel, f"symbolic link to a {kind} outside the batch: refused")
    return IntakeProblem(rel, f"symbolic link to a {kind} inside the batch: refused (intake follows no links; "
                              "copy the file instead)")


def _image_document(root: Path, folder: Path, max_pixels: int) -> list[Found]:
    entries, skipped = _split_junk(root, sorted(folder.iterdir(), key=_order))
    return [*skipped, *_image_pages(root, folder, entries, max_pixels)]


def _image_pages(root: Path, folder: Path, entries: list[Path], max_pixels: int) -> list[Found]:
    """The document of a folder of page images (or of one TIFF file: ``folder`` is then the file itself)."""
    rel = _relative(root, folder)
    refused = [r for r in (_refusal(root, p) for p in entries) if r is not None]
    if refused:
        names = {r.source_path.rsplit("/", 1)[-1] for r in refused}
        kept = [p for p in entries if p.name not in names and p.is_file()]
        reason = f"document folder holds entries that were refused: {', '.join(sorted(names, key=natural_key))}"
        return [*refused, IntakeProblem(rel, reason, kept)]
    images = [p for p in entries if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    others = [p for p in entries if p not in images]
    if others:
        listed = ", ".join(p.name + ("/" if p.is_dir() else "") for p in others)
        return [IntakeProblem(rel, f"document folder holds files that are not page images: {listed}",
                              [p for p in entries if p.is_file()])]
    if not images:
        return [IntakeProblem(rel, "document folder is empty (no PNG/TIFF/JPEG pages)")]
    try:
        info = inspect_images(images, max_pixels=max_pixels)
    except UnreadableInput as exc:
        return [IntakeProblem(rel, str(exc), images)]
    return [IntakeItem(rel, images, "images", Origin.SCANNED, True, info.page_count, content_id(images),
                       DocumentMetadata(), warnings=info.warnings)]


def _pdf_document(root: Path, path: Path) -> IntakeItem | IntakeProblem:
    rel = _relative(root, path)
    try:
        info = inspect_pdf(path)
    except UnreadableInput as exc:
        return IntakeProblem(rel, str(exc), [path])
    needs_ocr = info.origin is not Origin.BORN_DIGITAL
    return IntakeItem(rel, [path], "pdf", info.origin, needs_ocr, info.page_count, content_id([path]),
                      DocumentMetadata())


def _entry(root: Path, entry: Path, max_pixels: int) -> list[Found]:
    """What one top-level entry of the batch is; an I/O failure becomes a problem, not a crash."""
    rel = _relative(root, entry)
    try:
        refused = _refusal(root, entry)
        if refused is not None:
            return [refused]
        skip = junk_reason(entry)
        if skip is not None:
            return [IntakeSkip(rel, skip)]
        if entry.is_dir():
            return _image_document(root, entry, max_pixels)
        if entry.suffix.lower() == ".pdf":
            return [_pdf_document(root, entry)]
        if entry.suffix.lower() in TIFF_SUFFIXES:  # a scanner's page stream: one (multi-page) TIFF
            return _image_pages(root, entry, [entry], max_pixels)
        return [IntakeProblem(rel, "not a document: expected a PDF file, a TIFF file or a folder of page images",
                              [entry])]
    except FileNotFoundError as exc:
        log.warning("%s vanished while the batch was read: %s", rel, exc)
        gone = Path(exc.filename).name if exc.filename else entry.name
        return [IntakeProblem(rel, f"file vanished while the batch was read ({gone}): nothing to quarantine")]
    except OSError as exc:
        log.warning("%s cannot be read: %s", rel, exc)
        return [IntakeProblem(rel, f"cannot be read: {exc.strerror or exc}")]


def _batch_manifest(root: Path, manifest: Path | None) -> Path:
    """The manifest to read: the one the operator named, else ``manifest.csv`` if it is a regular file."""
    if manifest is not None:
        if not manifest.is_file():
            raise FileNotFoundError(f"manifest not found: {manifest}")
        return manifest
    implicit = root / MANIFEST_NAME
    if implicit.is_symlink():
        refused = _refusal(root, implicit)
        reason = refused.reason if refused is not None else "symbolic link: refused"
        raise ManifestError(f"{MANIFEST_NAME}: {reason} (name the manifest explicitly instead)")
    return implicit


def plan_batch(batch_dir: Path, manifest: Path | None = None, batch_name: str | None = None,
               *, max_pixels: int = MAX_PAGE_PIXELS, scan: ScanSettings | None = None) -> BatchPlan:
    """Find every document of a batch and attach manifest metadata. Raises ManifestError/FileNotFoundError
    only for problems with the batch as a whole; per-document problems land in ``plan.problems``.
    ``max_pixels`` is the largest page image accepted (see ``pipeline.scan.images.MAX_PAGE_PIXELS``); ``scan``
    says whether scanned inputs are split at separator sheets and which pages are blank (pipeline.scan.streams)."""
    scan = scan or ScanSettings()
    root = batch_dir.resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"batch folder not found: {batch_dir}")
    plan = BatchPlan(batch=nfc(batch_name or root.name), root=root, received_at=datetime.now(UTC))
    manifest_path = _batch_manifest(root, manifest)
    rows = read_manifest(manifest_path) if manifest_path.is_file() else None
    manifest_abs = {manifest_path.absolute(), manifest_path.resolve()}
    if rows is not None:
        inside = manifest_path.resolve()
        plan.manifest = _relative(root, inside) if inside.is_relative_to(root) else str(manifest_path)

    entries = [entry for entry in sorted(root.iterdir(), key=_order)  # the manifest is read, not archived
               if not (entry in manifest_abs or (not entry.is_symlink() and entry.resolve() in manifest_abs))]

    def one(entry: Path) -> Looked:
        return _looked_at(_entry(root, entry, max_pixels), scan)

    # Entries of page images are looked at one per core (every page decoded, its QR code searched for: ~0.3 s an
    # A4 page on one core, while the workers wait for the plan; Pillow and zxing-cpp work outside the GIL). PDF
    # files are looked at here, one at a time: PDFium is not thread-safe (two threads in it crashed the process).
    with ThreadPoolExecutor(max_workers=min(PLAN_THREADS, len(entries) or 1)) as pool:
        pending = [None if entry.suffix.lower() == ".pdf" else pool.submit(one, entry) for entry in entries]
        for entry, future in zip(entries, pending, strict=True):
            looked = one(entry) if future is None else future.result()
            plan.separators += looked.separators
            plan.blank_pages += looked.blank_pages
            for found in looked.found:
                if isinstance(found, IntakeProblem):
                    plan.problems.append(found)
                elif isinstance(found, IntakeSkip):
                    plan.skipped.append(found)
                else:
                    plan.documents.append(found)

    if rows is not None:
        _apply_manifest(plan, rows)
    for doc in plan.documents:  # a separator sheet's metadata is put over the manifest's row
        if doc.separator is not None:
            doc.metadata = doc.separator.apply(doc.metadata)
    return plan


@dataclass
class Looked:
    """What one batch entry turned out to hold, and the separator sheets and blank pages taken out of it."""

    found: list[Found] = field(default_factory=list)
    separators: int = 0
    blank_pages: int = 0


def _looked_at(found: list[Found], scan: ScanSettings) -> Looked:
    """Each scanned document looked at page by page: split at separator sheets, blank pages dropped."""
    out = Looked()
    for one in found:
        if not isinstance(one, IntakeItem):
            out.found.append(one)
            continue
        try:
            seen = look(one, separators=scan.separators, blank_ink=scan.blank_ink_share)
        except (OSError, ValueError, RuntimeError) as exc:  # read once already: damaged in a way only pages show
            log.warning("%s cannot be looked at page by page: %s", one.source_path, exc)
            out.found.append(IntakeProblem(one.source_path, f"a page cannot be read: {exc}", one.files))
            continue
        out.separators += seen.separators
        out.blank_pages += seen.blank
        out.found.extend(seen.found)
    return out


def _apply_manifest(plan: BatchPlan, rows: ManifestRows) -> None:
    known = {d.source_path for d in plan.documents} | {p.source_path for p in plan.problems}
    known |= {d.input_path for d in plan.documents}  # a stream's row applies to each of its documents
    known |= {p.source_path.rsplit("#", 1)[0] for p in plan.problems}
    row_errors: dict[str, list[str]] = {}
    for key, message in rows.errors:
        if key and key in known:
            row_errors.setdefault(key, []).append(message)
        else:
            plan.manifest_errors.append(message)
    skipped = {s.source_path for s in plan.skipped}
    for key in rows.by_path:
        row = f"{rows.name} row {rows.rows[key]}" if key in rows.rows else "manifest row"
        if key in skipped:
            plan.manifest_errors.append(f"{row}: {key!r} names a file that is not a document (skipped)")
        elif key not in known:
            plan.manifest_errors.append(f"{row}: {key!r} names no file or folder in the batch")
    kept: list[IntakeItem] = []
    for doc in plan.documents:
        key = doc.source_path if doc.source_path in rows.by_path or doc.source_path in row_errors else doc.input_path
        if key in row_errors:
            # Wrong metadata must not be archived as if it were right: quarantine with the row's reason.
            reason = "; ".join(row_errors[key])
            plan.problems.append(IntakeProblem(doc.source_path, reason, doc.files))
            continue
        meta = rows.by_path.get(key)
        if meta is not None:
            doc.metadata = meta.model_copy()
            doc.has_manifest_row = True
            doc.received_at = rows.received.get(key)
        kept.append(doc)
    plan.documents = kept
