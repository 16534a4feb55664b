"""CSV that a spreadsheet opens as data, never as a formula (OWASP "CSV injection"). Every CSV the archive
exports for people is written through :func:`writer` or :func:`dict_writer`.

Manifest values are kept verbatim in the record (``=cmd|' /C calc'!A0`` is a title like any other); only the
export neutralises them: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets
a leading ``'`` (Excel and LibreOffice then show the text and run nothing), and every text cell is quoted.
Numbers (int, float, Decimal) stay numbers, unquoted and unprefixed: a negative figure is a value a
spreadsheet can sum, not text. A machine interchange file read back by the archive itself (the manifest of a
disposal record) is not an export and is written verbatim."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import IO, Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """One exported cell: ``None`` empty, booleans ``true``/``false``, numbers as they are, text that a
    spreadsheet would run prefixed with ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class SafeWriter:
    """``csv.writer`` that neutralises every cell (:func:`cell`) and quotes every text cell."""

    def __init__(self, stream: IO[str], **options: Any) -> None:
        self._writer = csv.writer(stream, quoting=csv.QUOTE_NONNUMERIC, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter:
    """``csv.DictWriter`` with the same neutralising (the header too: column names may come from data)."""

    def __init__(self, stream: IO[str], fieldnames: Sequence[str], **options: Any) -> None:
        self.fieldnames = list(fieldnames)
        self._writer = SafeWriter(stream, **options)

    def writeheader(self) -> Any:
        return self._writer.writerow(self.fieldnames)

    def writerow(self, row: Mapping[str, Any]) -> Any:
        unknown = set(row) - set(self.fieldnames)
        if unknown:
            raise ValueError(f"fields not in the header: {', '.join(sorted(unknown))}")
        return self._writer.writerow(row.get(name) for name in self.fieldnames)

    def writerows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream: IO[str], **options: Any) -> SafeWriter:
    return SafeWriter(stream, **options)


def dict_writer(stream: IO[str], fieldnames: Sequence[str], **options: Any) -> SafeDictWriter:
    return SafeDictWriter(stream, fieldnames, **options)
