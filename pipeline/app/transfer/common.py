"""What both transfer formats share: who may export, which documents (ids, or a dossier), the payload file names
(``<Mã hồ sơ>.<STT>.pdf``, Circular 02/2019/TT-BNV), the archival copies fetched through the application layer
and checked against the record's SHA-256, the transferring agency, the package folder, and the audit events
(the metadata files are in :mod:`pipeline.app.transfer.metadata`).

A transfer hands records to another archive (usually the historical archive, when the retention class says
``transfer``), so it carries exactly what we keep as the archival copy (``archive.pdf``: the signed PDF/A, or
the signed original) and what we know about it. The package is built in a hidden folder beside the output and
moved into place only when complete and audited: a failed export leaves nothing that looks like a package.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pipeline.app import documents
from pipeline.app.audit import AuditEntry
from pipeline.app.context import Context
from pipeline.app.errors import AppError, Invalid, NotFound
from pipeline.core.actor import Actor
from pipeline.core.dossier import Dossier
from pipeline.core.record import DocumentRecord
from pipeline.core.text import nfc
from pipeline.core.vocabulary import Role

ARCHIVAL_COPY = "archive.pdf"
SOFTWARE = "archive-pipeline"
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')  # not in a file name on any system the package may reach


class TransferError(AppError):
    """The export cannot be made as asked: a stored copy does not match its record, or the package made does
    not check."""


def software_version() -> str:
    try:
        return version(SOFTWARE)
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class TransferRequest:
    """What to transfer: document ids (or unique prefixes) or one dossier code, and to whom it is said to come
    from. ``agency`` empty: ``sign.agency_name``, else the organisation (O=) of the certificate that signed the
    archival copies."""

    ids: tuple[str, ...] = ()
    dossier: str = ""
    agency: str = ""
    note: str = ""  # the transfer note (Ghi chú chuyển giao), e.g. the decision or the delivery list it fulfils


@dataclass(frozen=True)
class Item:
    """One document in a package: its record, its file name without extension and its verified payload."""

    record: DocumentRecord
    name: str
    path: Path
    sha256: str
    size: int


@dataclass
class Transfer:
    """Everything a package writer needs, gathered and checked before anything is written to the output."""

    id: str
    agency: str
    note: str
    actor: Actor
    dossier_code: str
    dossier: Dossier | None
    items: list[Item]
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def codes(self) -> list[str]:
        """The dossier codes the documents belong to (External-Identifier), in order of appearance."""
        return list(dict.fromkeys(i.record.metadata.dossier_code for i in self.items
                                  if i.record.metadata.dossier_code))

    @property
    def label(self) -> str:
        if self.dossier is not None:
            return f"Hồ sơ {self.dossier.code}: {self.dossier.title}"
        if self.dossier_code:
            return f"Hồ sơ {self.dossier_code}"
        return f"{len(self.items)} văn bản"


@dataclass(frozen=True)
class TransferResult:
    format: str  # bagit | eark
    id: str
    output: Path
    agency: str
    dossier: str
    files: list[dict[str, Any]]  # id, file (path in the package), sha256, size

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "id": self.id, "output": str(self.output), "agency": self.agency,
                "dossier": self.dossier, "files": self.files}


def payload_name(record: DocumentRecord) -> str:
    """``<Mã hồ sơ>.<số thứ tự>`` for a document placed in a dossier; otherwise the first 16 characters of its
    id (what `archive show` accepts), so a name never depends on free text such as a title."""
    name = _UNSAFE.sub("-", nfc(record.metadata.export_name())).strip(" .")
    return name or record.id[:16]


def _order(record: DocumentRecord) -> tuple[str, int, str, str]:
    meta = record.metadata
    return (meta.dossier_code, meta.order_in_dossier or 1 << 30, str(meta.issued_date or ""), record.id)


def select_records(ctx: Context, actor: Actor, request: TransferRequest) -> tuple[list[DocumentRecord], Dossier | None]:
    """The records to transfer, each visible to the actor (a document above the actor's clearance does not
    exist for them), in dossier order. A destroyed document has no content left: naming one is an error; the
    documents of a dossier are its live ones (the catalog leaves residual records out of a dossier)."""
    actor.require(Role.RECORDS_OFFICER, "export transfer packages")
    if bool(request.ids) == bool(request.dossier):
        raise Invalid("give document ids or --dossier CODE (one of them)")
    dossier = None
    if request.dossier:
        code = nfc(request.dossier).strip()
        dossier = ctx.catalog.get_dossier(code)
        records = ctx.catalog.dossier_records(code, actor.clearance.rank)
        if not records:
            raise NotFound(f"no archived document in dossier {code}")
    else:
        records = [documents.find(ctx, actor, ident) for ident in request.ids]
        records = list({r.id: r for r in records}.values())
    for record in records:
        if record.disposal is not None:
            raise Invalid(f"document {record.id[:16]} was destroyed on {record.disposal.executed_at:%Y-%m-%d} "
                          f"({record.disposal.decision}): only its residual record remains, nothing to transfer")
    return sorted(records, key=_order), dossier


def sha256_of(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def fetch(ctx: Context, actor: Actor, records: list[DocumentRecord], folder: Path) -> list[Item]:
    """Download each archival copy through :func:`pipeline.app.documents.download` (clearance checked again, a
    classified read audited) and check it against the SHA-256 and size in the record: a package must never
    carry bytes the archive cannot vouch for."""
    names: dict[str, str] = {}
    items = []
    folder.mkdir(parents=True, exist_ok=True)
    for record in records:
        name = payload_name(record)
        if name.casefold() in names:
            raise Invalid(f"documents {names[name.casefold()][:16]} and {record.id[:16]} would both be {name}.pdf: "
                          "correct their order in the dossier (order_in_dossier) before the transfer")
        names[name.casefold()] = record.id
        expected = record.artefacts.get(ARCHIVAL_COPY)
        if expected is None:
            raise NotFound(f"document {record.id[:16]} has no archival copy stored")
        _, (path,) = documents.download(ctx, actor, record.id, folder / f"{name}.pdf")
        sha, size = sha256_of(path)
        if (sha, size) != (expected.sha256, expected.size):
            raise TransferError(f"the stored archival copy of {record.id[:16]} does not match its record "
                                f"(sha256 {sha[:16]}…, expected {expected.sha256[:16]}…): not exported; "
                                f"run `archive verify {record.id[:16]}`")
        items.append(Item(record, name, path, sha, size))
    return items


def _organisation(subject: str) -> str:
    """The O= of an RFC 4514 subject (as recorded for the archive's signature), or ""."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        found = x509.Name.from_rfc4514_string(subject).get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    except ValueError:
        return ""
    return nfc(str(found[0].value)).strip() if found else ""


def agency_for(ctx: Context, records: list[DocumentRecord], given: str) -> str:
    name = nfc(given).strip() or nfc(ctx.settings.sign.agency_name).strip()
    if not name:
        orgs = {o for r in records if r.signature.signed and (o := _organisation(r.signature.signer_subject))}
        name = orgs.pop() if len(orgs) == 1 else ""
    if not name:
        raise Invalid('name the transferring agency with --agency "…" (sign.agency_name is not set and the '
                      "signatures do not name one organisation)")
    return name


def prepare(ctx: Context, actor: Actor, request: TransferRequest, folder: Path) -> Transfer:
    """Select, fetch and verify: everything short of writing the package."""
    records, dossier = select_records(ctx, actor, request)
    agency = agency_for(ctx, records, request.agency)
    items = fetch(ctx, actor, records, folder)
    code = dossier.code if dossier else nfc(request.dossier).strip()
    return Transfer(id=f"TRANSFER-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}", agency=agency,
                    note=nfc(request.note).strip(), actor=actor, dossier_code=code, dossier=dossier, items=items)


@contextmanager
def building(output: Path) -> Iterator[Path]:
    """A hidden folder beside ``output`` to build the package in, moved to ``output`` when the block succeeds
    (removed when it fails). ``output`` must not exist, or be an empty folder."""
    output = output.expanduser().absolute()
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise Invalid(f"{output} exists and is not an empty folder: give a new folder for the package")
    if not output.parent.is_dir():
        raise Invalid(f"{output.parent} is not a folder")
    work = output.parent / f".{output.name}.part-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    try:
        yield work
        if output.exists():
            output.rmdir()
        work.rename(output)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def audit(ctx: Context, action: str, transfer: Transfer, output: Path, files: list[dict[str, Any]]) -> None:
    """One event per document (so `archive audit list --object ID` shows where a record went) and one for the
    package, written as one segment."""
    entries = [AuditEntry(transfer.actor.name, action, f["id"], "ok",
                          {"transfer": transfer.id, "file": f["file"], "sha256": f["sha256"]}) for f in files]
    entries.append(AuditEntry(transfer.actor.name, action, transfer.id, "ok",
                              {"output": str(output), "agency": transfer.agency, "dossier": transfer.dossier_code,
                               "documents": [f["id"] for f in files], "note": transfer.note}))
    ctx.audit.record_many(entries)
