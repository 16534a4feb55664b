"""Verify a signed PDF given as a file or an archived document id: the signature (sign stage) and, for
archived documents, the SHA-256 of the stored object against the checksum in its metadata."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline import sign
from pipeline.archive import ArchiveStore
from pipeline.config import Settings


def verify_file(settings: Settings, path: Path, expected_sha256: str | None = None) -> dict[str, Any]:
    roots = [p for p in settings.trust_roots if p.is_file()]
    report = sign.verify_pdf(path, roots, expected_sha256=expected_sha256).to_dict()
    if not roots:
        report.setdefault("problems", []).append(
            "no trust roots configured (sign.trust_roots); run `archive cert init-test` for test material")
    return report


def verify_archived(settings: Settings, doc_id: str, store: ArchiveStore | None = None) -> dict[str, Any]:
    store = store or ArchiveStore(settings.s3)
    record = store.get_record(doc_id)
    artefact = record.artefacts["archive.pdf"]
    with tempfile.TemporaryDirectory(dir=_tmp_root(settings)) as tmp:
        local = store.download(artefact.key, Path(tmp) / "archive.pdf")
        actual = hashlib.sha256(local.read_bytes()).hexdigest()
        report = verify_file(settings, local, artefact.sha256)
    report["id"] = doc_id
    report["checksum"] = "match" if actual == artefact.sha256 else "MISMATCH"
    if actual != artefact.sha256:
        report["valid"] = False
        report.setdefault("problems", []).append(
            f"stored archive.pdf SHA-256 {actual} differs from the recorded {artefact.sha256}")
    return report


def _tmp_root(settings: Settings) -> Path:
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    return settings.work_dir


def verify_target(settings: Settings, target: str,
                  resolve: Callable[[ArchiveStore, str], str] | None = None) -> dict[str, Any]:
    path = Path(target)
    if path.is_file():
        return verify_file(settings, path)
    store = ArchiveStore(settings.s3)
    doc_id = resolve(store, target) if resolve else target
    return verify_archived(settings, doc_id, store)
