"""Verify a signed PDF given as a file or an archived document id: the signature (sign stage) and, for
archived documents, the stored metadata.json against its seal in the hash-chained audit trail and every
stored object against the checksums in that metadata. Every verification of an archived document is an
audit event."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from pipeline import sign
from pipeline.app import documents
from pipeline.app.audit import check_seal
from pipeline.app.context import Context
from pipeline.app.errors import Invalid
from pipeline.archive import layout
from pipeline.archive.errors import NotFoundError
from pipeline.core.actor import Actor
from pipeline.core.record import DocumentRecord
from pipeline.core.settings import Settings
from pipeline.sign.model import REVOCATION_UNCHECKED, STATUS_INDETERMINATE, STATUS_INVALID, STATUS_VALID


def verdict(report: dict[str, Any]) -> str:
    """"valid", "invalid" or "indeterminate" for a report of :func:`verify_file` or ``verify_archived``.

    Indeterminate (the signer's revocation status could not be established, nothing else is wrong) only
    while every problem is that one: any other finding added on top (checksum, seal, …) makes it invalid.
    """
    if report.get("valid"):
        return "disposed" if "disposed" in report else STATUS_VALID  # a destroyed document's intact record
    problems = report.get("problems", [])
    if report.get("status") == STATUS_INDETERMINATE and problems and all(REVOCATION_UNCHECKED in p for p in problems):
        return STATUS_INDETERMINATE
    return STATUS_INVALID


def with_verdict(report: dict[str, Any]) -> dict[str, Any]:
    report["status"] = verdict(report)
    return report


def verify_file(settings: Settings, path: Path, expected_sha256: str | None = None) -> dict[str, Any]:
    """The signature report of ``path`` (see :class:`pipeline.sign.VerificationReport`); ``status`` is
    "valid", "invalid" or "indeterminate" (revocation could not be checked)."""
    roots = [p for p in settings.trust_roots if p.is_file()]
    report = sign.verify_pdf(path, roots, expected_sha256=expected_sha256).to_dict()
    if not roots:
        report.setdefault("problems", []).append(
            "no trust roots configured (sign.trust_roots); run `archive cert init-test` for test material")
    return report


def verify_archived(ctx: Context, actor: Actor, ident: str) -> dict[str, Any]:
    """The signature of the stored archive.pdf, and the stored objects against the audit chain: the stored
    metadata.json's SHA-256 against the document's seal in force in the (verified) trail (``seal``: a seal's
    MAC must verify under ``audit.seal_key``; a refused seal event makes it ``FORGED``, with
    ``forged_seals``; no key makes it ``UNVERIFIED``), then
    every artefact listed in that metadata.json against the stored bytes (``checksum`` for archive.pdf,
    ``artefacts`` for originals and page texts). Any break makes the report invalid."""
    record = documents.find(ctx, actor, ident)  # the clearance check (catalog)
    problems: list[str] = []
    try:
        raw: bytes | None = ctx.store.get_bytes(layout.metadata_key(record.id))
    except NotFoundError:
        raw = None
    stored = record  # the artefacts to check: storage's metadata.json (what the seal covers), else the catalog's
    if raw is not None:
        try:
            stored = DocumentRecord.from_json(raw)
        except ValueError as exc:
            problems.append(f"stored metadata.json is unreadable: {exc}")
    last = ctx.catalog.last_audit_event()
    seal = check_seal(ctx.audit, record.id, raw, int(last["seq"]) if last else None)
    if stored.disposal is not None:
        return _verify_residual(ctx, actor, stored, seal.to_dict(), problems + [p for p in (seal.problem,) if p])
    artefact = stored.artefacts["archive.pdf"]
    ctx.settings.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ctx.settings.work_dir) as tmp:
        local = ctx.store.download(artefact.key, Path(tmp) / "archive.pdf")
        actual = hashlib.sha256(local.read_bytes()).hexdigest()
        report = verify_file(ctx.settings, local, artefact.sha256)
    others = ctx.store.verify_fixity(record.id, stored, skip=frozenset({"archive.pdf"}))
    report["id"] = record.id
    report["checksum"] = "match" if actual == artefact.sha256 else "MISMATCH"
    report.update(seal.to_dict())
    report["artefacts"] = "MISMATCH" if others else "match"
    if actual != artefact.sha256:
        problems.append(f"stored archive.pdf SHA-256 {actual} differs from the recorded {artefact.sha256}")
    problems += [p for p in (seal.problem,) if p] + others
    if problems:
        report["valid"] = False
        report.setdefault("problems", []).extend(problems)
    ctx.audit.record(actor.name, "verify", record.id, verdict(report),
                     {"checksum": report["checksum"], "seal": report["seal"], "artefacts": report["artefacts"],
                      "level": report.get("level", "")})
    return report


def _verify_residual(ctx: Context, actor: Actor, residual: DocumentRecord, seal: dict[str, Any],
                     problems: list[str]) -> dict[str, Any]:
    """A destroyed document: only its residual record remains, checked against its seal (the disposal's)."""
    facts = residual.disposal
    assert facts is not None
    problems = [*problems, *residual_leftovers(ctx, residual)]
    report: dict[str, Any] = {"id": residual.id, "valid": not problems, "disposed": facts.model_dump(mode="json"),
                              **seal}
    if problems:
        report["problems"] = problems
    ctx.audit.record(actor.name, "verify", residual.id, verdict(report),
                     {"seal": report["seal"], "proposal": facts.proposal})
    return report


def residual_leftovers(ctx: Context, residual: DocumentRecord) -> list[str]:
    """A destroyed document keeps only the latest version of its residual metadata.json: anything else stored
    under its id is a problem (also for the fixity audit, :mod:`pipeline.app.fixity`)."""
    left = [key for key, latest in ctx.store.stored_versions(residual.id)
            if key != layout.metadata_key(residual.id) or not latest]
    return [f"content left in storage after its destruction: {', '.join(sorted(set(left))[:5])}"] if left else []


def verify_target(ctx: Context, actor: Actor, target: str) -> dict[str, Any]:
    """A path to a PDF file, or an archived document's id (or unique prefix)."""
    path = Path(target)
    if path.is_file():
        return with_verdict(verify_file(ctx.settings, path))
    if documents.HEX_ID.match(target.strip().lower()):
        return with_verdict(verify_archived(ctx, actor, target))
    if path.suffix.lower() == ".pdf" or "/" in target or path.parent != Path("."):
        raise Invalid(f"no such file: {target}")
    raise Invalid(f"{target!r} is neither a file nor a document id (hex, at least 6 characters)")
