"""A dossier (hồ sơ): the file a records office keeps documents in, with its own metadata (Circular
02/2019/TT-BNV): code (Mã hồ sơ = fonds code + catalogue number or year + dossier number, e.g.
``G01.2010.05``), title, retention, access regime (Chế độ sử dụng), start date, and its closing.

Documents name their dossier by ``metadata.dossier_code``. Closing a dossier is what starts the retention of
the classes triggered by ``dossier-closed``: ``closed_at`` is that trigger date. The number of documents and
pages and the end date are not stored here: they are derived from the documents (and from only those the
reader may see)."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, field_validator

from pipeline.core.text import nfc

MAX_CODE = 64  # the catalog's column
# Dot-separated parts (fonds, catalogue number or year, dossier number; agencies may add more), each of letters,
# digits, "-" or "_": a code is one storage key segment (dossiers/<code>.json).
_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]*(\.[0-9A-Za-z][0-9A-Za-z_-]*){2,}$")


class AccessRegime(StrEnum):
    """Chế độ sử dụng: 01 restricted (hạn chế sử dụng), 02 unrestricted (sử dụng rộng rãi)."""

    RESTRICTED = "restricted"
    UNRESTRICTED = "unrestricted"


def code_problem(code: str) -> str | None:
    """Why ``code`` is not a usable dossier code, or None."""
    if not _CODE.match(code) or len(code) > MAX_CODE:
        return (f"{code!r} is not a dossier code (Mã hồ sơ): fonds code, catalogue number or year and dossier "
                f"number separated by dots, e.g. G01.2010.05 (letters, digits, - and _; at most {MAX_CODE})")
    return None


class Dossier(BaseModel):
    code: str
    title: str
    retention: str = ""  # a record class code of the schedule declared for the dossier; "" derived from its documents
    access: AccessRegime = AccessRegime.RESTRICTED
    start_date: date | None = None  # None: the issue date of its earliest document
    closed_at: date | None = None  # the closing date (None: open): the trigger of dossier-closed classes
    created_by: str
    created_at: datetime
    closed_by: str = ""
    closed_recorded_at: datetime | None = None  # when the closing was entered (closed_at is the closing date)

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        value = nfc(value).strip()
        problem = code_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("title", "retention", "created_by", "closed_by")
    @classmethod
    def _nfc(cls, value: str) -> str:
        return nfc(value).strip()

    @property
    def closed(self) -> bool:
        return self.closed_at is not None
