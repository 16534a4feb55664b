"""Stage an upload for ingest: plain PDFs and page images and/or ONE zip holding a batch (folders of page images,
PDFs, an optional manifest.csv), plus an optional separate manifest. Everything lands in a fresh private folder
``<intake root>/uploads/<batch-id>/<name>/`` (0700) that the ingest, and the Celery workers, read like any batch
folder. Every upload is hostile: names are NFC with no control characters, plain files carry no path, a name
used twice after NFC is refused, zips are unpacked by :mod:`pipeline.app.upload_zip`. A refused upload leaves
nothing behind and raises :class:`UploadRefused` (422) or :class:`TooLarge` (413) with a one-line reason."""

from __future__ import annotations

import logging
import shutil
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pipeline.app.batches import new_batch_id
from pipeline.app.context import Context
from pipeline.app.upload_zip import MAX_PART_BYTES, UploadRefused, ZipPlan, bad_characters, extract, inspect_zip, shown
from pipeline.core.actor import Actor
from pipeline.core.vocabulary import Role
from pipeline.scan.batch import MANIFEST_NAME
from pipeline.scan.images import IMAGE_SUFFIXES
from pipeline.scan.manifest import read_manifest

__all__ = ["StagedUpload", "Staging", "TooLarge", "UploadRefused", "check_batch_name"]
log = logging.getLogger("archive.upload")
UPLOADS_DIR = "uploads"
INCOMING = ".incoming"  # the raw parts as received (a batch name never starts with a dot)
FIELDS = ("files", "manifest")
MAX_MANIFEST_BYTES = 20 << 20  # about 100,000 documents' lines
MAX_NAME_CHARS = 120
DEFAULT_NAME = "upload"


class TooLarge(UploadRefused):
    """The upload outgrew ``api.max_upload_mb`` (the API answers 413)."""


def _name(raw: str, what: str) -> str:
    """A single file or folder name: NFC, no control characters, no path, not '.' or '..'."""
    if bad_characters(raw):
        raise UploadRefused(f"{what} {shown(raw)}: control characters in the name")
    name = unicodedata.normalize("NFC", raw)
    if "/" in name or "\\" in name:
        raise UploadRefused(f"{what} {shown(raw)}: a name with a path (send the file alone, or a zip)")
    if name.strip() in ("", ".", ".."):
        raise UploadRefused(f"{what} {shown(raw)}: not a file name")
    if len(name.encode("utf-8")) > MAX_PART_BYTES:
        raise UploadRefused(f"{what} {shown(raw)}: a name longer than {MAX_PART_BYTES} bytes")
    return name


def check_batch_name(raw: str | None) -> str | None:
    """The batch's name (its folder, shown in listings): None when not given."""
    text = (raw or "").strip()
    if not text:
        return None
    name = _name(text, "batch name")
    if name.startswith("."):
        raise UploadRefused(f"batch name {shown(name)}: must not start with a dot")
    if len(name) > MAX_NAME_CHARS:
        raise UploadRefused(f"batch name: longer than {MAX_NAME_CHARS} characters")
    return name


@dataclass
class Received:
    field: str  # "files" or "manifest"
    name: str  # checked, NFC
    path: Path  # the raw bytes, in the incoming folder
    size: int = 0


@dataclass
class StagedUpload:
    batch_id: str
    name: str
    root: Path  # <intake root>/uploads/<batch-id>: removed once the batch ends with nothing failed or pending
    batch_dir: Path  # root/<name>: the batch folder the ingest reads
    files: list[dict[str, Any]] = field(default_factory=list)  # what was sent: field, name, size
    members: int = 0  # zip members unpacked
    unpacked: int = 0  # bytes unpacked from the zip


class Staging:
    """One upload being received. ``begin``/``write``/``end`` per file as the request streams in, then ``finish``
    (checks, unpacks, audits) or ``discard`` (removes everything). Not thread-safe: one request owns it."""

    def __init__(self, ctx: Context, actor: Actor) -> None:
        actor.require(Role.ARCHIVIST, "upload batches")
        self.ctx, self.actor, self.limits = ctx, actor, ctx.settings.api
        self.max_body = self.limits.max_upload_mb << 20
        self.batch_id = new_batch_id(datetime.now(UTC))
        base = ctx.settings.intake_roots[0] / UPLOADS_DIR
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        if base.is_symlink() or not base.is_dir():  # someone with write access to the intake root planted it
            raise RuntimeError(f"{base} is not a plain folder: uploads refused until it is fixed")
        self.root = base / self.batch_id
        self.root.mkdir(mode=0o700)  # fresh: an existing folder raises instead of being reused
        self.incoming = self.root / INCOMING
        self.incoming.mkdir(mode=0o700)
        self.received: list[Received] = []
        self.body = 0
        self._out: IO[bytes] | None = None

    def begin(self, field_name: str, filename: str) -> None:
        """A new file part: ``files`` (PDF, page image or .zip) or ``manifest`` (CSV)."""
        self.end()
        if field_name not in FIELDS:
            raise UploadRefused(f"unknown file field {shown(field_name)}: expected files or manifest")
        name = _name(filename, "manifest" if field_name == "manifest" else "file")
        if field_name == "manifest" and any(r.field == "manifest" for r in self.received):
            raise UploadRefused("more than one manifest: send one manifest file")
        if len(self.received) >= self.limits.max_files + 1:
            raise UploadRefused(f"more than {self.limits.max_files} files (api.max_files)")
        path = self.incoming / str(len(self.received))
        self.received.append(Received(field_name, name, path))
        self._out = path.open("xb")

    def write(self, data: bytes) -> None:
        if self._out is None:
            raise UploadRefused("file data outside a file part")
        self.body += len(data)
        if self.body > self.max_body:
            raise TooLarge(f"the upload is larger than {self.limits.max_upload_mb} MB (api.max_upload_mb)")
        self.received[-1].size += len(data)
        self._out.write(data)

    def end(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def discard(self, reason: str = "") -> None:
        """Remove everything this upload wrote; with a reason, audit the refusal (who, what, why)."""
        self.end()
        shutil.rmtree(self.root, ignore_errors=True)
        if reason:
            try:
                self.ctx.audit.record(self.actor.name, "batch.upload", self.batch_id, "refused",
                                      {"reason": reason, "files": self._sent()})
            except Exception:  # the refusal stands; the trail being down is reported by its own checks
                log.warning("could not audit the refused upload %s", self.batch_id, exc_info=True)

    def _sent(self) -> list[dict[str, Any]]:
        return [{"field": r.field, "name": r.name, "size": r.size} for r in self.received]

    def finish(self, name: str | None = None) -> StagedUpload:
        """Check what was received, lay out the batch folder, unpack the zip, check the manifest, audit. Any
        refusal removes the folder and re-raises."""
        self.end()
        try:
            staged = self._build(check_batch_name(name))
            shutil.rmtree(self.incoming)
        except UploadRefused as exc:
            self.discard(str(exc))
            raise
        except BaseException:
            self.discard()
            raise
        self.ctx.audit.record(self.actor.name, "batch.upload", self.batch_id, "ok",
                              {"name": staged.name, "files": staged.files, "bytes": self.body,
                               "members": staged.members, "unpacked": staged.unpacked,
                               "folder": str(staged.batch_dir)})
        log.info("upload %s staged: %d file(s), %d byte(s)", self.batch_id, len(staged.files), self.body,
                 extra={"batch": self.batch_id})
        return staged

    def _build(self, name: str | None) -> StagedUpload:
        files = [r for r in self.received if r.field == "files"]
        manifest = next((r for r in self.received if r.field == "manifest"), None)
        if not files:
            raise UploadRefused("no files: send PDFs, page images or one .zip in the files field")
        if len(files) > self.limits.max_files:
            raise UploadRefused(f"more than {self.limits.max_files} files (api.max_files)")
        zips = [r for r in files if r.name.lower().endswith(".zip")]
        if len(zips) > 1:
            raise UploadRefused(f"more than one zip ({', '.join(shown(z.name) for z in zips[:3])}): one batch per "
                                "upload")
        plain = [r for r in files if r not in zips]
        for item in plain:
            if not item.name.lower().endswith((".pdf", *IMAGE_SUFFIXES)):
                raise UploadRefused(f"file {shown(item.name)}: not a PDF, a page image (PNG, TIFF, JPEG) or a .zip")
        plan = None
        if zips:
            room = self.limits.max_files - len(plain)
            plan = inspect_zip(zips[0].path, zips[0].name, room, self.limits.max_unpacked_mb << 20,
                               self.limits.max_zip_ratio)
        paths = _claims(plain, plan, manifest)
        default = plan.top if plan and plan.top else zips[0].name[:-4] if zips else DEFAULT_NAME
        try:
            fallback = check_batch_name(default) or DEFAULT_NAME
        except UploadRefused:
            fallback = DEFAULT_NAME
        batch_name = name or fallback
        batch_dir = self.root / batch_name
        batch_dir.mkdir(mode=0o700)
        for item in plain:
            if item.name.lower().endswith(".pdf"):
                item.path.rename(batch_dir / item.name)
            else:  # a page image alone is a one-page document: a folder of the same name holding it
                (batch_dir / item.name).mkdir(mode=0o700)
                item.path.rename(batch_dir / item.name / item.name)
        unpacked = 0
        if plan is not None:
            unpacked = extract(zips[0].path, plan, batch_dir, self.limits.max_unpacked_mb << 20,
                               self.limits.max_zip_ratio)
        if manifest is not None:
            manifest.path.rename(batch_dir / MANIFEST_NAME)
        _check_manifest(batch_dir / MANIFEST_NAME)
        log.debug("upload %s: %d path(s) laid out", self.batch_id, paths)
        return StagedUpload(self.batch_id, batch_name, self.root, batch_dir, self._sent(),
                            len(plan.members) if plan else 0, unpacked)


def _claims(plain: list[Received], plan: ZipPlan | None, manifest: Received | None) -> int:
    """Check that every path the batch folder will hold has one owner: a name sent twice (after NFC), a zip
    member over a plain file, or a file where a folder is refuses the upload. Returns the number of paths."""
    owners: dict[tuple[str, ...], tuple[str, bool]] = {}

    def claim(path: tuple[str, ...], owner: str, folder: bool) -> None:
        for depth in range(1, len(path)):
            _take(owners, path[:depth], owner, True)
        _take(owners, path, owner, folder)

    for item in plain:  # a PDF is a file; a page image becomes a folder holding it
        claim((item.name,) if item.name.lower().endswith(".pdf") else (item.name, item.name), "plain", False)
    for member in plan.members if plan else []:
        if member.parts:
            claim(member.parts, "zip", member.is_dir)
    if manifest is not None:
        claim((MANIFEST_NAME,), "manifest", False)
    return len(owners)


def _take(owners: dict[tuple[str, ...], tuple[str, bool]], path: tuple[str, ...], owner: str, folder: bool) -> None:
    held = owners.get(path)
    if held is None:
        owners[path] = (owner, folder)
        return
    if held == (owner, folder) == ("zip", True):  # a folder of the zip, named by several members
        return
    if path == (MANIFEST_NAME,) and {held[0], owner} == {"zip", "manifest"}:
        raise UploadRefused(f"two manifests: the zip holds {MANIFEST_NAME} and a manifest file was sent too")
    raise UploadRefused(f"{shown('/'.join(path))}: sent twice, or both as a file and a folder (names are compared "
                        "after Unicode NFC normalisation)")


def _check_manifest(path: Path) -> None:
    """A manifest the ingest could not read fails the upload now, with its reason, instead of the batch later."""
    if not path.exists():
        return
    if not path.is_file():
        raise UploadRefused(f"{MANIFEST_NAME}: not a file")
    if path.stat().st_size > MAX_MANIFEST_BYTES:  # read whole (and parsed) in memory: never a huge one
        raise UploadRefused(f"{MANIFEST_NAME}: larger than {MAX_MANIFEST_BYTES >> 20} MB (a manifest is one CSV line "
                            "per document)")
    try:
        read_manifest(path)
    except Exception as exc:  # ManifestError, or csv's own refusals (NUL bytes, field too large)
        text = str(exc).strip().splitlines()
        raise UploadRefused(f"manifest: {text[0][:300] if text else type(exc).__name__}") from None
