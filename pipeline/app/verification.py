"""Verify a signed PDF given as a file or an archived document id: the signature (sign stage) and, for
archived documents, the SHA-256 of the stored object against the checksum in its metadata. Every
verification of an archived document is an audit event."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from pipeline import sign
from pipeline.app import documents
from pipeline.app.context import Context
from pipeline.app.errors import Invalid
from pipeline.core.actor import Actor
from pipeline.core.settings import Settings


def verify_file(settings: Settings, path: Path, expected_sha256: str | None = None) -> dict[str, Any]:
    roots = [p for p in settings.trust_roots if p.is_file()]
    report = sign.verify_pdf(path, roots, expected_sha256=expected_sha256).to_dict()
    if not roots:
        report.setdefault("problems", []).append(
            "no trust roots configured (sign.trust_roots); run `archive cert init-test` for test material")
    return report


def verify_archived(ctx: Context, actor: Actor, ident: str) -> dict[str, Any]:
    record = documents.find(ctx, actor, ident)
    artefact = record.artefacts["archive.pdf"]
    ctx.settings.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ctx.settings.work_dir) as tmp:
        local = ctx.store.download(artefact.key, Path(tmp) / "archive.pdf")
        actual = hashlib.sha256(local.read_bytes()).hexdigest()
        report = verify_file(ctx.settings, local, artefact.sha256)
    report["id"] = record.id
    report["checksum"] = "match" if actual == artefact.sha256 else "MISMATCH"
    if actual != artefact.sha256:
        report["valid"] = False
        report.setdefault("problems", []).append(
            f"stored archive.pdf SHA-256 {actual} differs from the recorded {artefact.sha256}")
    ctx.audit.record(actor.name, "verify", record.id, "valid" if report["valid"] else "invalid",
                     {"checksum": report["checksum"], "level": report.get("level", "")})
    return report


def verify_target(ctx: Context, actor: Actor, target: str) -> dict[str, Any]:
    """A path to a PDF file, or an archived document's id (or unique prefix)."""
    path = Path(target)
    if path.is_file():
        return verify_file(ctx.settings, path)
    if documents.HEX_ID.match(target.strip().lower()):
        return verify_archived(ctx, actor, target)
    if path.suffix.lower() == ".pdf" or "/" in target or path.parent != Path("."):
        raise Invalid(f"no such file: {target}")
    raise Invalid(f"{target!r} is neither a file nor a document id (hex, at least 6 characters)")
