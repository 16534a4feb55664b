"""Keep B-LTA documents verifiable: before the last document timestamp (or its TSA certificate) expires,
add a fresh document timestamp with new validation data and store it as a new object version."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipeline import sign
from pipeline.archive import ArchiveStore
from pipeline.config import Settings
from pipeline.record import Event
from pipeline.sign.versions import tool_versions


@dataclass
class RenewalReport:
    checked: int = 0
    renewed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def renew_timestamps(settings: Settings, within_days: int | None = None,
                     store: ArchiveStore | None = None) -> RenewalReport:
    store = store or ArchiveStore(settings.s3)
    days = settings.sign.renewal_within_days if within_days is None else within_days
    tsa_url = sign.resolve_tsa_url(settings.sign.tsa_url, settings.pkcs12_path)
    roots = [p for p in settings.trust_roots if p.is_file()]
    report = RenewalReport()
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    for record in store.iter_records():
        if record.signature.level != "B-LTA":
            continue
        report.checked += 1
        with tempfile.TemporaryDirectory(dir=settings.work_dir) as tmp:
            current = store.download(record.artefacts["archive.pdf"].key, Path(tmp) / "current.pdf")
            if not sign.needs_renewal(current, within_days=days):
                continue
            if not tsa_url:
                report.failed[record.id] = "no time-stamping authority configured (sign.tsa_url)"
                continue
            started = datetime.now(UTC)
            try:
                renewed = sign.add_document_timestamp(current, Path(tmp) / "renewed.pdf", tsa_url, roots)
                store.replace_archive_pdf(record.id, renewed, Event(
                    stage="renew-timestamp", started_at=started, finished_at=datetime.now(UTC),
                    tools=tool_versions(), detail={"tsa": tsa_url, "within_days": days}))
            except Exception as exc:  # one failing document must not stop the others
                report.failed[record.id] = str(exc)
                continue
            report.renewed.append(record.id)
    return report
