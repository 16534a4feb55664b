"""Object keys: the storage layout in one place (see docs in the package ``__init__``).

``metadata.json`` is the commit point of a document: it is written last, and a document without it
is an unfinished write that may be redone.
"""

from __future__ import annotations

import re
import unicodedata

DOCUMENTS = "documents"
QUARANTINE = "quarantine"
QUARANTINE_RETRIES = "quarantine-retries"  # retry attempts of a quarantine entry (never its reason.json)
METADATA = "metadata.json"
ARCHIVE_PDF = "archive.pdf"
REASON_SUFFIX = ".reason.json"


def clean_name(name: str) -> str:
    """A safe relative key part: NFC, ``/`` separators, no empty, ``.`` or ``..`` segments."""
    parts = unicodedata.normalize("NFC", name).replace("\\", "/").split("/")
    kept = [p for p in parts if p not in {"", ".", ".."}]
    if not kept:
        raise ValueError(f"unusable object name {name!r}")
    return "/".join(kept)


_DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def document_prefix(doc_id: str) -> str:
    """``documents/<id>/``; ids are one key segment (content hashes in practice)."""
    if not _DOC_ID.match(doc_id):
        raise ValueError(f"invalid document id {doc_id!r}")
    return f"{DOCUMENTS}/{doc_id}/"


def original_role(file_name: str) -> str:
    return f"original/{clean_name(file_name)}"


def attachment_role(file_name: str) -> str:
    """A file that was embedded in the original PDF, kept beside its PDF/A rendition (which cannot carry it)."""
    return f"attachment/{clean_name(file_name)}"


def text_role(page: int) -> str:
    return f"text/{page:04d}.txt"


def key(doc_id: str, role: str) -> str:
    """Key of a document object from its role (``archive.pdf``, ``original/<f>``, ``text/0001.txt``)."""
    return document_prefix(doc_id) + role


def metadata_key(doc_id: str) -> str:
    return key(doc_id, METADATA)


UNNAMED = "_unnamed"


def _lenient(name: str) -> str:
    """Quarantine must never lose a reason over a bad name: unusable names become ``_unnamed``."""
    try:
        return clean_name(name)
    except ValueError:
        return UNNAMED


def quarantine_key(batch: str, name: str) -> str:
    return f"{QUARANTINE}/{_lenient(batch)}/{_lenient(name)}"


def quarantine_prefix(batch: str | None) -> str:
    return f"{QUARANTINE}/" if batch is None else f"{QUARANTINE}/{_lenient(batch)}/"


def retry_key(entry_id: str, stamp: str) -> str:
    """``quarantine-retries/<entry id>/<UTC time>.json``: one object per attempt, so a WORM-locked reason is
    never rewritten and an attempt is never lost."""
    if not _DOC_ID.match(entry_id) or not _DOC_ID.match(stamp):
        raise ValueError(f"invalid quarantine retry key part {entry_id!r}/{stamp!r}")
    return f"{QUARANTINE_RETRIES}/{entry_id}/{stamp}.json"
