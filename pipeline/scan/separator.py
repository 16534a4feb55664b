"""Separator sheets: a printed page with a QR code put before each document of a long scanned page stream.

The QR code carries ``LUUTRU-SEP/1 `` and compact JSON of the document's metadata (every field optional), named
as in :class:`pipeline.core.record.DocumentMetadata`::

    LUUTRU-SEP/1 {"doc_number":"45/2020/QĐ-UBND","title":"Quyết định …","classification":"mat",
                  "dossier_code":"G01.2010.05","order_in_dossier":3}

Only a QR code with this prefix makes a page a separator: the QR code of a public-service portal printed on a
normal page does not. A code read from paper is hostile input: its bytes are capped, and bad JSON, unknown or
repeated keys, wrong types, a classification off the one ladder (:class:`Classification`), a bad dossier code,
hidden characters and values a spreadsheet would run as a formula are refused with one line
(:class:`SeparatorPayloadError`). A page with our prefix and a refused payload is still a separator, carrying
the reason, so the caller quarantines that document instead of merging it into the previous one.

Decode cost, measured on the 2-core build machine under load (zxing-cpp 3.1.1, QR only, A4 pages rotated 2°
with noise): 12-18 ms of CPU per page (wall 14-28 ms), separator or not, at 200 dpi grey or bitonal and at
300 dpi, which is first reduced 2× (:data:`MAX_DECODE_SIDE`); at full 300-dpi size it was 30-35 ms. A 5,000-page
stream adds about 1.5 minutes of one core, less than reading its page images from disk.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import zxingcpp
from PIL import Image

from pipeline.core.csv_safe import FORMULA_START
from pipeline.core.dossier import MAX_CODE, code_problem
from pipeline.core.pixels import to_eight_bit
from pipeline.core.record import DocumentMetadata
from pipeline.core.text import has_hidden_characters, nfc
from pipeline.core.vocabulary import Classification

__all__ = [
    "MAX_PAYLOAD_BYTES", "PREFIX", "EmptySeparator", "SeparatorHit", "SeparatorMeta", "SeparatorPayloadError",
    "StreamDocument", "StreamSplit", "encode_payload", "find_separator", "is_separator_payload", "parse_payload",
    "split_stream",
]

log = logging.getLogger(__name__)

PREFIX_STEM = "LUUTRU-SEP/"  # lưu trữ: what makes a QR code ours, whatever its version
VERSION = 1
PREFIX = f"{PREFIX_STEM}{VERSION} "
MAX_PAYLOAD_BYTES = 800  # QR version ≤ 32 at level H: modules of ≥ 0.8 mm on the printed sheet
MAX_ORDER = 99_999
# Longest text per field, in characters (the payload cap still applies to their sum).
TEXT_LIMITS = {"doc_number": 64, "title": 300, "doc_type": 64, "unit": 128, "dossier_code": MAX_CODE}
KEYS = ("doc_number", "title", "doc_type", "unit", "classification", "dossier_code", "order_in_dossier")
# A page is reduced (box average, integer factor) until its longer side is at most this: a 200-dpi A4 page is
# kept whole (the largest payload's modules are then ~6 pixels), a 300-dpi one halved (~5 pixels), twice as fast.
MAX_DECODE_SIDE = 2500


class SeparatorPayloadError(ValueError):
    """A separator's QR payload (or the metadata for one) that cannot be used; ``reason`` is one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SeparatorMeta:
    """What a separator says about the document after it. Empty text / None: not given (the manifest's value
    stays). Construction checks and normalises (NFC, stripped) every value."""

    doc_number: str = ""
    title: str = ""
    doc_type: str = ""
    unit: str = ""
    classification: Classification | None = None
    dossier_code: str = ""
    order_in_dossier: int | None = None

    def __post_init__(self) -> None:
        for name, limit in TEXT_LIMITS.items():
            object.__setattr__(self, name, _text(name, getattr(self, name), limit))
        if self.classification is not None and not isinstance(self.classification, Classification):
            object.__setattr__(self, "classification", _classification(self.classification))
        if self.dossier_code and (problem := code_problem(self.dossier_code)):
            raise SeparatorPayloadError(f"dossier_code: {problem}")
        order = self.order_in_dossier
        if order is not None and (isinstance(order, bool) or not isinstance(order, int)
                                  or not 1 <= order <= MAX_ORDER):
            raise SeparatorPayloadError(f"order_in_dossier {order!r} is not a whole number from 1 to {MAX_ORDER}")
        if order is not None and not self.dossier_code:
            raise SeparatorPayloadError("order_in_dossier is given without dossier_code (the order is in a dossier)")

    def overrides(self) -> dict[str, Any]:
        """The fields this separator sets (they override the manifest's), as DocumentMetadata values."""
        return {k: v for k, v in asdict(self).items() if v not in ("", None)}

    def apply(self, metadata: DocumentMetadata) -> DocumentMetadata:
        """``metadata`` (e.g. the manifest row's) with this separator's fields put over it."""
        return metadata.model_copy(update=self.overrides())

    def to_dict(self) -> dict[str, Any]:
        return {k: (v.value if isinstance(v, Classification) else v) for k, v in self.overrides().items()}


def _text(name: str, value: object, limit: int) -> str:
    if not isinstance(value, str):
        raise SeparatorPayloadError(f"{name} must be text, not {type(value).__name__}")
    value = nfc(value).strip()
    if len(value) > limit:
        raise SeparatorPayloadError(f"{name} is {len(value)} characters long (at most {limit})")
    if has_hidden_characters(value):
        raise SeparatorPayloadError(f"{name} holds control or invisible characters")
    if value.startswith(FORMULA_START):
        raise SeparatorPayloadError(f"{name} {value[:20]!r} starts with {value[0]!r}: looks like a spreadsheet "
                                    "formula, refused")
    return value


def _classification(value: object) -> Classification:
    allowed = ", ".join(c.value for c in Classification)
    if not isinstance(value, str):
        raise SeparatorPayloadError(f"classification must be one of {allowed}, not {type(value).__name__}")
    try:
        return Classification(value)
    except ValueError:
        raise SeparatorPayloadError(f"classification {value[:20]!r} is not on the ladder ({allowed})") from None


# ---- the payload ----------------------------------------------------------------------------------------
def encode_payload(meta: SeparatorMeta) -> str:
    """The QR text for ``meta``; refuses metadata too long for a sheet's QR code."""
    text = PREFIX + json.dumps(meta.to_dict(), ensure_ascii=False, separators=(",", ":"))
    size = len(text.encode("utf-8"))
    if size > MAX_PAYLOAD_BYTES:
        raise SeparatorPayloadError(f"the metadata takes {size} bytes, more than a separator's QR code holds "
                                    f"({MAX_PAYLOAD_BYTES}): shorten the title")
    return text


def is_separator_payload(data: str | bytes) -> bool:
    """Whether a QR code's content is ours (a separator), valid or not."""
    stem = PREFIX_STEM.encode("ascii") if isinstance(data, bytes) else PREFIX_STEM
    return data.startswith(stem)  # type: ignore[arg-type]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise SeparatorPayloadError(f"key {key[:30]!r} appears twice")
        found[key] = value
    return found


def _no_constant(name: str) -> None:
    raise SeparatorPayloadError(f"{name} is not a JSON value")


def parse_payload(data: str | bytes) -> SeparatorMeta:
    """The metadata of a separator's QR content (text, or the raw bytes of the code, read as UTF-8).
    Raises :class:`SeparatorPayloadError` with one line for anything else, never another exception."""
    if len(data) > MAX_PAYLOAD_BYTES:  # before any copy: a character is at least one byte
        raise SeparatorPayloadError(f"separator code holds more than {MAX_PAYLOAD_BYTES} bytes")
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise SeparatorPayloadError(f"separator code holds {len(raw)} bytes (at most {MAX_PAYLOAD_BYTES})")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SeparatorPayloadError("separator code is not UTF-8 text") from None
    if not text.startswith(PREFIX_STEM):
        raise SeparatorPayloadError("not a separator code (no LUUTRU-SEP/ prefix)")
    version, space, body = text[len(PREFIX_STEM):].partition(" ")
    if not space or version != str(VERSION):
        shown = version[:10] if version.isdigit() else "(unreadable)"
        raise SeparatorPayloadError(f"separator format version {shown} is not one this archive reads ({VERSION})")
    try:
        found = json.loads(body, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (json.JSONDecodeError, RecursionError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        raise SeparatorPayloadError(f"separator metadata is not valid JSON ({detail})") from None
    if not isinstance(found, dict):
        raise SeparatorPayloadError("separator metadata is not a JSON object")
    unknown = sorted(set(found) - set(KEYS))
    if unknown:
        names = ", ".join(repr(k[:30]) for k in unknown[:3])
        raise SeparatorPayloadError(f"unknown field(s) {names} in separator metadata (known: {', '.join(KEYS)})")
    for name in TEXT_LIMITS:
        if name in found:
            _text(name, found[name], TEXT_LIMITS[name])
    if "classification" in found:
        found["classification"] = _classification(found["classification"])
    return SeparatorMeta(**found)


# ---- detection ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeparatorHit:
    """A separator page: its metadata, or why its payload was refused (``error``; ``meta`` is then None)."""

    meta: SeparatorMeta | None
    error: str = ""
    payload: str = ""  # the code's text as read, for the log (undecodable bytes replaced)

    @property
    def ok(self) -> bool:
        return self.meta is not None


def _grey(image: Image.Image) -> Image.Image:
    """An 8-bit grey copy of ``image`` (bitonal, colour, 16-bit), reduced to :data:`MAX_DECODE_SIDE`."""
    eight, _ = to_eight_bit(image)
    grey = eight if eight.mode == "L" else eight.convert("L")
    factor = math.ceil(max(grey.size) / MAX_DECODE_SIDE)
    return grey.reduce(factor) if factor > 1 else grey  # box average by an integer factor: 3x cheaper than resize


def find_separator(image: Image.Image) -> SeparatorHit | None:
    """The separator on this page, or None when no QR code on it carries our prefix."""
    if image.width < 1 or image.height < 1:
        return None
    qr = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    found = zxingcpp.read_barcodes(_grey(image), formats=qr, try_invert=False)
    ours = [b for b in found if is_separator_payload(b.bytes)]
    if not ours:
        return None
    hits = []
    for code in ours:
        shown = code.bytes.decode("utf-8", "replace")[:MAX_PAYLOAD_BYTES]
        try:
            hits.append(SeparatorHit(parse_payload(code.bytes), payload=shown))
        except SeparatorPayloadError as exc:
            hits.append(SeparatorHit(None, error=exc.reason, payload=shown))
    if len({(h.meta, h.error) for h in hits}) > 1:  # two different separator codes on one page: trust neither
        return SeparatorHit(None, error="the page carries two different separator codes", payload=hits[0].payload)
    return hits[0]


# ---- splitting a stream ---------------------------------------------------------------------------------
@dataclass
class StreamDocument:
    """One document of a stream: its page indexes (0-based, in stream order) and the separator before it."""

    pages: list[int]
    meta: SeparatorMeta | None = None  # None: no separator before it (the pages before the first one)
    separator: int | None = None  # the separator page's index
    error: str = ""  # the separator's payload was refused: quarantine the document with this reason


@dataclass
class EmptySeparator:
    """A separator followed by another separator or by the end of the stream: no document is made."""

    index: int
    meta: SeparatorMeta | None
    reason: str


@dataclass
class StreamSplit:
    documents: list[StreamDocument] = field(default_factory=list)
    separators: int = 0  # separator pages found (removed from the documents)
    pages: int = 0  # pages in the stream, separators included
    empty: list[EmptySeparator] = field(default_factory=list)


PageSource = Iterable[Image.Image] | Callable[[], Iterable[Image.Image]]


def split_stream(pages: PageSource, detect: Callable[[Image.Image], SeparatorHit | None] = find_separator
                 ) -> StreamSplit:
    """Split an ordered page stream at its separator pages. ``pages`` may be a generator (or a callable
    returning one) so that one page at a time is held: memory stays flat over thousands of pages.

    Pages before the first separator are one document without separator metadata; a stream without a separator
    is one document. A separator followed by another one, or ending the stream, makes no document: it is
    reported in ``empty`` (a sheet put twice, or a document missing from the stream)."""
    source = pages() if callable(pages) else pages
    result = StreamSplit()
    current: StreamDocument | None = None
    for index, image in enumerate(source):
        result.pages += 1
        hit = detect(image)
        if hit is None:
            if current is None:
                current = StreamDocument([])
            current.pages.append(index)
            continue
        result.separators += 1
        log.info("separator on page %d of the stream%s", index + 1, f": {hit.error}" if hit.error else "")
        _close(result, current)
        error = f"the separator on page {index + 1} of the stream cannot be used: {hit.error}" if hit.error else ""
        current = StreamDocument([], hit.meta, index, error)
    _close(result, current)
    return result


def _close(result: StreamSplit, document: StreamDocument | None) -> None:
    """Keep ``document`` if it has pages; a separator with none is reported as empty."""
    if document is None:
        return
    if document.pages or document.separator is None:
        result.documents.append(document)
        return
    at = document.separator
    later = "the end of the stream" if result.pages == at + 1 else "another separator"
    result.empty.append(EmptySeparator(at, document.meta, f"separator on page {at + 1} is followed by {later}: "
                                                          "no document"))
