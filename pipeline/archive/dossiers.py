"""Dossiers in storage: each as ``dossiers/<code>.json``, a new version per change (registration, closing),
locked like every record of no document (the store's retention floor). The catalog's dossier rows are derived
from these and rebuilt by `archive reindex`."""

from __future__ import annotations

from minio import Minio

from pipeline.archive.json_records import put_record, read_record, read_records
from pipeline.archive.retention import RetentionPolicy
from pipeline.core.dossier import Dossier, code_problem

DOSSIERS = "dossiers"
ROLE = "dossier"


def dossier_key(code: str) -> str:
    problem = code_problem(code)
    if problem:
        raise ValueError(problem)
    return f"{DOSSIERS}/{code}.json"


def put_dossier(client: Minio, bucket: str, dossier: Dossier, retention: RetentionPolicy) -> None:
    put_record(client, bucket, dossier_key(dossier.code), dossier, retention.retention_for(None, ROLE),
               f"dossier {dossier.code}")


def read_dossiers(client: Minio, bucket: str) -> list[Dossier]:
    return sorted(read_records(client, bucket, DOSSIERS, Dossier, "dossiers", lambda d: dossier_key(d.code)),
                  key=lambda d: d.code)


def read_dossier(client: Minio, bucket: str, code: str) -> Dossier | None:
    """The registered dossier ``code`` (None: not registered, or not a valid code)."""
    if code_problem(code):
        return None
    return read_record(client, bucket, dossier_key(code), Dossier, f"dossier {code}")
