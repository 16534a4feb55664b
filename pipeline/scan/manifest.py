"""The batch manifest: ``manifest.csv`` (UTF-8), one row per document, keyed by relative path.

Values are data, never formulas: ``=cmd|' /C calc'!A0`` in a title is stored as those characters (nothing here
evaluates or strips it; CSV exports neutralise it where a spreadsheet might read it). A manifest that is not UTF-8
is refused with one line saying what it seems to be (Excel on Vietnamese Windows saves "CSV" in Windows-1258):
decoding it by guess would archive metadata in the wrong letters.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from pipeline.core.dates import VIETNAM, parse_date
from pipeline.core.record import Classification, DocumentMetadata, nfc

COLUMNS = ("doc_number", "doc_type", "title", "issuer", "issued_date", "signer", "unit", "classification",
           "language", "dossier_code", "order_in_dossier", "archive_code", "access_regime", "reliability",
           "autograph", "physical_condition", "keywords", "notes", "received_at")
# Codes of Circular 02/2019/TT-BNV and the words archivists write, to one value each.
ACCESS_REGIMES = {"01": "restricted", "hạn chế": "restricted", "restricted": "restricted",
                  "02": "unrestricted", "không hạn chế": "unrestricted", "unrestricted": "unrestricted"}
RELIABILITY = {"01": "original", "bản chính": "original", "bản gốc": "original", "original": "original",
               "02": "copy", "bản sao": "copy", "copy": "copy"}
PATH_COLUMNS = ("path", "source", "file")
EARLIEST_ISSUE = date(1800, 1, 1)
# received_at: a date, or a date and time (ISO or dd/mm/yyyy HH:MM[:SS]); without an offset, Vietnam time.
_ISO_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
                         r"(Z|[+-][0-9]{2}:?[0-9]{2})?")
_DAY_FIRST_MOMENT = re.compile(r"([0-9]{1,2}/[0-9]{1,2}/[0-9]{4})[T ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")
LANGUAGE_ALIASES = {"vi": "vie", "vn": "vie", "tiếng việt": "vie", "en": "eng", "tiếng anh": "eng"}
_LANGUAGE_RE = re.compile(r"^[a-z_]{3,}(\+[a-z_]{3,})*$")


class ManifestError(Exception):
    """The manifest as a whole cannot be read (missing path column, not UTF-8, …)."""


# Vietnamese letters are ASCII vowels (and y) with these marks, and đ/Đ; Windows-1258 writes the tone marks as
# separate combining characters, which NFC joins to the letter.
_VIET_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323", "\u0306", "\u0302", "\u031b"}
_PUNCTUATION = set("\u00a0\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u2022\u00b0\u00ab\u00bb")
# Bytes that mean Vietnamese in Windows-1258 (Ă ă Đ đ Ơ ơ Ư ư and the five combining tone marks).
_CP1258_VIETNAMESE = set(b"\xc3\xe3\xd0\xf0\xd5\xf5\xdd\xfd\xcc\xec\xd2\xde\xf2")


def _vietnamese_letter(char: str) -> bool:
    if char in "đĐ":
        return True
    parts = unicodedata.normalize("NFD", char)
    return parts[0] in "aeiouyAEIOUY" and len(parts) > 1 and set(parts[1:]) <= _VIET_MARKS


def _encoding_hint(data: bytes) -> str:
    """What a manifest that is not UTF-8 seems to be, in a few words (for the one-line refusal)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "it is UTF-16 (Excel's 'Unicode text')"
    try:
        text = unicodedata.normalize("NFC", data.decode("cp1258"))
    except UnicodeDecodeError:
        return "it is in an unknown 8-bit encoding"
    others = [c for c in text if not c.isascii() and c not in _PUNCTUATION]
    viet = [c for c in others if _vietnamese_letter(c)]
    if viet and len(viet) >= 0.9 * len(others) and _CP1258_VIETNAMESE & set(data):
        word = next((w for w in re.split(r"[\s,;\"]+", text) if any(_vietnamese_letter(c) for c in w)), "")
        return f"it looks like Windows-1258 (Vietnamese Windows; read that way it says '{word[:40]}')"
    return "it is in an 8-bit encoding (TCVN3, VNI or another code page)"


@dataclass
class ManifestRows:
    by_path: dict[str, DocumentMetadata] = field(default_factory=dict)
    # received_at column: when the records office received the document (back-loaded paper), by path.
    received: dict[str, datetime] = field(default_factory=dict)
    # Row-level errors: (relative path or "", "manifest.csv row N: reason"). Keyed so the document concerned
    # can be quarantined with that reason instead of being archived with wrong metadata.
    errors: list[tuple[str, str]] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # path → its row number (the header is row 1)
    name: str = "manifest.csv"


def normalise_key(path: str) -> str:
    """Relative POSIX path, NFC, without leading ./ or trailing slash."""
    key = nfc(path.strip()).replace("\\", "/")
    while key.startswith("./"):
        key = key[2:]
    return key.strip("/")


def parse_language(value: str) -> str:
    raw = nfc(value).strip().lower()
    if not raw:
        return ""
    parts = [LANGUAGE_ALIASES.get(p.strip(), p.strip()) for p in re.split(r"[+,; ]+", raw) if p.strip()]
    lang = "+".join(parts)
    if not _LANGUAGE_RE.match(lang):
        raise ValueError(f"language {value!r} is not a Tesseract language code such as 'vie' or 'vie+eng'")
    return lang


def parse_row(row: dict[str, str]) -> DocumentMetadata:
    values = {c: nfc(row.get(c) or "").strip() for c in COLUMNS}
    issued: date | None = None
    if values["issued_date"]:
        try:
            issued = parse_date(values["issued_date"])
        except ValueError as exc:
            raise ValueError(f"issued_date {exc}") from None
        # Retention counts from this date: a typo must not make a record due at once nor lock it for ages.
        if not EARLIEST_ISSUE <= issued <= date.today() + timedelta(days=1):
            raise ValueError(f"issued_date {values['issued_date']!r} is before {EARLIEST_ISSUE.year} or in the "
                             "future")
    classification = Classification.parse(values["classification"])
    order: int | None = None
    if values["order_in_dossier"]:
        if not values["order_in_dossier"].isdigit() or int(values["order_in_dossier"]) < 1:
            raise ValueError(f"order_in_dossier {values['order_in_dossier']!r} is not a whole number from 1")
        order = int(values["order_in_dossier"])
    return DocumentMetadata(
        doc_number=values["doc_number"],
        doc_type=values["doc_type"],
        title=values["title"],
        issuer=values["issuer"],
        issued_date=issued,
        signer=values["signer"],
        unit=values["unit"],
        classification=classification,
        language=parse_language(values["language"]),
        dossier_code=values["dossier_code"],
        order_in_dossier=order,
        archive_code=values["archive_code"],
        access_regime=_coded(values["access_regime"], ACCESS_REGIMES, "access_regime"),
        reliability=_coded(values["reliability"], RELIABILITY, "reliability"),
        autograph=values["autograph"],
        physical_condition=values["physical_condition"],
        keywords=values["keywords"],
        notes=values["notes"],
    )


def _moment(raw: str) -> datetime | None:
    """The date-time ``raw`` writes (naive when it names no offset), or None."""
    try:
        if _ISO_MOMENT.fullmatch(raw):
            return datetime.fromisoformat(raw.replace(" ", "T", 1))
        if found := _DAY_FIRST_MOMENT.fullmatch(raw):
            return datetime.combine(parse_date(found[1]), time(int(found[2]), int(found[3]), int(found[4] or 0)))
        return datetime.combine(parse_date(raw), time())
    except ValueError:
        return None


def parse_received_at(value: str, now: datetime | None = None) -> datetime | None:
    """The ``received_at`` column: ``2026-10-31``, ``2026-10-31T23:30``, ``2026-10-31 23:30:00+07:00``,
    ``31/10/2026`` or ``31/10/2026 23:30`` → an aware date-time (a date is its first minute; no offset: Vietnam
    time). Statistics count the document in the period and working time of this moment, so a typo must not move
    it into the future or before 1800: refused, like a bad issue date. Empty: None (the batch's own time)."""
    raw = nfc(value).strip()
    if not raw:
        return None
    moment = _moment(raw)
    if moment is None:
        raise ValueError(f"received_at {value!r} is not a date or date and time (expected YYYY-MM-DD[THH:MM], "
                         "dd/mm/yyyy [HH:MM], optionally with an offset such as +07:00)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM)
    if moment > (now or datetime.now(VIETNAM)) or moment.astimezone(VIETNAM).date() < EARLIEST_ISSUE:
        raise ValueError(f"received_at {value!r} is before {EARLIEST_ISSUE.year} or in the future")
    return moment


def _coded(value: str, known: dict[str, str], column: str) -> str:
    if not value:
        return ""
    found = known.get(value.lower())
    if found is None:
        raise ValueError(f"{column} {value!r} is not one of: {', '.join(sorted(set(known.values())))} "
                         f"(or the codes {', '.join(k for k in known if k.isdigit())})")
    return found


def read_manifest(path: Path) -> ManifestRows:
    """Read the manifest; bad rows are reported one by one, the rest is used."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{path.name} is not UTF-8 text: {_encoding_hint(data)}; nothing was read from it "
                            f"(first bad byte at offset {exc.start}). Save it as 'CSV UTF-8' and ingest again"
                            ) from None
    reader = csv.DictReader(text.splitlines())
    header = [nfc(h).strip().lower() for h in (reader.fieldnames or [])]
    path_col = next((c for c in PATH_COLUMNS if c in header), None)
    if path_col is None:
        raise ManifestError(f"{path.name} has no 'path' column (header: {', '.join(header) or 'empty'})")
    unknown = [h for h in header if h and h not in COLUMNS and h not in PATH_COLUMNS]
    rows = ManifestRows(name=path.name)
    if unknown:
        rows.errors.append(("", f"{path.name}: unknown column(s) ignored: {', '.join(unknown)}"))
    for number, raw in enumerate(reader, start=2):
        row = {nfc(k).strip().lower(): (v or "") for k, v in raw.items() if k is not None}
        raw_key = nfc(row.get(path_col, "")).strip().replace("\\", "/")
        key = normalise_key(raw_key)
        if not key:
            if any(v.strip() for v in row.values()):
                rows.errors.append(("", f"{path.name} row {number}: empty path"))
            continue
        if ".." in key.split("/") or raw_key.startswith("/") or re.match(r"^[A-Za-z]:", key):
            rows.errors.append(("", f"{path.name} row {number}: path {raw_key!r} leaves the batch folder: ignored"))
            continue
        if key in rows.by_path:
            rows.errors.append((key, f"{path.name} row {number}: duplicate row for {key!r}"))
            continue
        rows.rows[key] = number
        try:
            metadata, received = parse_row(row), parse_received_at(row.get("received_at", ""))
            rows.by_path[key] = metadata
            if received is not None:
                rows.received[key] = received
        except ValueError as exc:
            rows.errors.append((key, f"{path.name} row {number} ({key}): {exc}"))
    return rows
