"""Account for every byte that follows the last signature.

A signature covers its /ByteRange, nothing after it. Later revisions (our own DSS update, document
timestamps, renewal) are judged by pyHanko's difference analysis, which looks only at the objects
their cross-reference sections reference. Bytes placed between revisions, or inside an update but
outside any object its xref references, are read by nobody's analysis and covered by no signature:
a hiding place for a payload in a "valid" file (issue 9, review probe ``gap_bytes.py``).

So each byte from the end of the last signed byte range to the end of the last revision (the
``startxref … %%EOF`` that ``trailing_bytes_problems`` starts from) must belong to:

- an indirect object that the xref section of a later revision references (type 1 entry), from its
  ``N G obj`` header to its ``endobj``, read with pyHanko's parser (stream data by /Length);
  objects inside an object stream are covered by the object stream itself;
- a later revision's xref stream (and the stream of a hybrid file's /XRefStm), or its classic
  ``xref`` table (entry lines checked against the subsection counts) and ``trailer`` dictionary;
- a ``startxref N %%EOF`` line whose N is a later revision's xref offset;
- or be whitespace. Comments count as uncovered: a comment after the last ``%%EOF`` is a finding
  too, and no writer we accept (pyHanko) puts comments in an update.

An object the xref references but nothing in the document uses is no better: pyHanko's difference
analysis accepts such an orphan, whatever it holds. So every object a later revision writes must be
reachable, in that revision, from its trailer's /Root, /Info or /Encrypt (object streams and xref
streams excepted: the xref is what reaches them). The same holds inside those two kinds of stream,
once decoded: an xref stream holds its entries and nothing more, and an object stream holds its
header and its objects (each one referenced by the revision's xref), whitespace between them.
"""

from __future__ import annotations

import io
import re

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.xref import XRefSectionType

WS = rb"[\x00\t\n\x0c\r ]"  # PDF 32000-1 §7.2.2
PDF_WHITESPACE = b"\x00\t\n\x0c\r "
END_OF_REVISION = re.compile(rb"startxref" + WS + rb"+(\d{1,15})" + WS + rb"*%%EOF")
OBJECT_HEADER = re.compile(WS + rb"*(\d{1,10})" + WS + rb"+(\d{1,5})" + WS + rb"+obj")
END_OBJECT = re.compile(WS + rb"*endobj")
XREF_KEYWORD = re.compile(WS + rb"*xref" + WS + rb"+")
SUBSECTION = re.compile(rb"(\d{1,10})" + WS + rb"+(\d{1,10})" + WS + rb"+")
XREF_ENTRY = re.compile(rb"\d{10} \d{5} [nf]" + WS + rb"*")
TRAILER_KEYWORD = re.compile(rb"trailer" + WS + rb"*")
NUMBER_PAIR = re.compile(rb"(\d+)" + WS + rb"+(\d+)")
OBJECT_STREAM_HEADER = re.compile(rb"(?:" + WS + rb"*\d+" + WS + rb"+\d+)*" + WS + rb"*")
MAX_REPORTED_GAPS = 3


def last_revision_end(reader: PdfFileReader, data: bytes) -> int:
    """Offset just past the ``startxref N %%EOF`` that ends the last revision (past the last
    ``%%EOF`` marker, or the end of the data, when that cannot be found)."""
    try:
        final = reader.xrefs.total_revisions - 1
        match = END_OF_REVISION.search(data, reader.xrefs.get_xref_container_info(final).end_location)
        if match:
            return match.end()
    except Exception:
        pass
    marker = data.rfind(b"%%EOF")
    return marker + len(b"%%EOF") if marker >= 0 else len(data)


def signed_end(reader: PdfFileReader) -> int:
    """The end of the furthest byte range any signature or document timestamp covers."""
    ends = [0]
    for sig in reader.embedded_signatures:
        ranges = [int(x) for x in sig.sig_object.raw_get("/ByteRange")]
        ends += [start + length for start, length in zip(ranges[::2], ranges[1::2], strict=False)]
    return max(ends)


def _object_span(reader: PdfFileReader, stream: io.BytesIO, data: bytes, offset: int, ref=None) -> tuple | None:
    """``(start, end)`` of the indirect object at ``offset`` through ``endobj``; None when there is no
    well-formed object there (or not the one ``ref = (number, generation)`` the xref promises)."""
    header = OBJECT_HEADER.match(data, offset)
    if header is None or (ref is not None and (int(header[1]), int(header[2])) != tuple(ref)):
        return None
    spaces = re.compile(WS + rb"*").match(data, header.end())  # zero or more: always matches
    body = spaces.end() if spaces is not None else header.end()
    try:
        stream.seek(body)
        generic.read_object(stream, generic.Reference(int(header[1]), int(header[2]), reader))
    except Exception:
        return None
    end = END_OBJECT.match(data, stream.tell())
    return (offset, end.end()) if end else None


def _xref_table_span(reader: PdfFileReader, stream: io.BytesIO, data: bytes, offset: int) -> tuple | None:
    """``(start, end)`` of a classic ``xref`` table with its ``trailer`` dictionary."""
    keyword = XREF_KEYWORD.match(data, offset)
    if keyword is None:
        return None
    pos = keyword.end()
    while (subsection := SUBSECTION.match(data, pos)) is not None:
        pos = subsection.end()
        for _ in range(int(subsection[2])):
            entry = XREF_ENTRY.match(data, pos)
            if entry is None:
                return None
            pos = entry.end()
    trailer = TRAILER_KEYWORD.match(data, pos)
    if trailer is None:
        return None
    try:
        stream.seek(trailer.end())
        generic.DictionaryObject.read_from_stream(stream, generic.TrailerReference(reader))
    except Exception:
        return None
    return offset, stream.tell()


def _revision_spans(reader: PdfFileReader, stream: io.BytesIO, data: bytes, revision: int) -> list[tuple]:
    """The byte spans of everything revision ``revision`` declares: its objects and its xref section."""
    spans = []
    meta = reader.xrefs.get_xref_container_info(revision)
    section = reader.xrefs.get_xref_data(revision)
    sections = [section] + ([section.hybrid.xref_data] if section.hybrid is not None else [])
    for xref_data in sections:
        for number, (generation, offset) in xref_data.standard_xrefs.items():
            spans.append(_object_span(reader, stream, data, offset, (number, generation)))
    if meta.xref_section_type == XRefSectionType.STREAM:  # where pyHanko found it (startxref may be off)
        spans.append(_object_span(reader, stream, data, meta.start_location))
    else:
        spans.append(_xref_table_span(reader, stream, data, meta.declared_startxref))
    if section.hybrid is not None:
        spans.append(_object_span(reader, stream, data, section.hybrid.meta_info.start_location))
    return [span for span in spans if span is not None]


def uncovered_gaps(reader: PdfFileReader, data: bytes) -> list[tuple[int, int]]:
    """``[(start, end)]`` of the runs of non-whitespace bytes after the last signature that belong
    to no object, xref section, trailer or end-of-revision line of a later revision."""
    start, end = signed_end(reader), last_revision_end(reader, data)
    if start >= end:
        return []
    signed = max(s.signed_revision for s in reader.embedded_signatures)
    later = range(signed + 1, reader.xrefs.total_revisions)
    stream = io.BytesIO(data)
    spans = [span for revision in later for span in _revision_spans(reader, stream, data, revision)]
    offsets = {reader.xrefs.get_startxref_for_revision(revision) for revision in later}
    spans += [m.span() for m in END_OF_REVISION.finditer(data, start, end) if int(m[1]) in offsets]
    gaps, pos = [], start
    for span_start, span_end in [*sorted(spans), (end, end)]:
        if span_start > pos:
            gaps.append((pos, min(span_start, end)))
        pos = max(pos, span_end)
    trimmed = []
    for gap_start, gap_end in gaps:
        chunk = data[gap_start:gap_end]
        content = chunk.strip(PDF_WHITESPACE)
        if content:
            first = gap_start + len(chunk) - len(chunk.lstrip(PDF_WHITESPACE))
            trimmed.append((first, first + len(content)))
    return trimmed


def _reachable(reader: PdfFileReader, revision: int) -> set[tuple[int, int]]:
    """``(number, generation)`` of every object reachable from the trailer of ``revision``."""
    resolver = reader.get_historical_resolver(revision)
    trailer = resolver.trailer_view
    todo = [trailer.raw_get(key) for key in ("/Root", "/Info", "/Encrypt") if key in trailer]
    seen: set[tuple[int, int]] = set()
    while todo:
        obj = todo.pop()
        if isinstance(obj, generic.IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            obj = resolver(obj.reference)
        if isinstance(obj, generic.DictionaryObject):  # stream dictionaries included
            todo.extend(obj.raw_get(key) for key in obj)
        elif isinstance(obj, generic.ArrayObject):
            todo.extend(obj.raw_get(index) for index in range(len(obj)))
    return seen


def orphan_objects(reader: PdfFileReader) -> list[int]:
    """Numbers of the objects written after the last signature that nothing in the document uses."""
    signed = max(s.signed_revision for s in reader.embedded_signatures)
    streams = {(ref.idnum, ref.generation) for ref in reader.xrefs.xref_stream_refs}
    orphans = set()
    for revision in range(signed + 1, reader.xrefs.total_revisions):
        section = reader.xrefs.get_xref_data(revision)
        sections = [section] + ([section.hybrid.xref_data] if section.hybrid is not None else [])
        written = {(n, g) for data in sections for n, (g, _) in data.standard_xrefs.items()}
        written |= {(n, 0) for data in sections for n in data.xrefs_in_objstm}
        streams |= {(n, 0) for data in sections for n in data.obj_streams_used}
        if written - streams:
            orphans |= {n for n, _ in written - streams - _reachable(reader, revision)}
    return sorted(orphans)


def _xref_stream_slack(stream: generic.StreamObject) -> int:
    """Decoded bytes of an xref stream beyond (or short of) what its /W and /Index describe."""
    index = [int(n) for n in stream.get("/Index", [0, stream.get("/Size")])]
    expected = sum(index[1::2]) * sum(int(w) for w in stream["/W"])
    return abs(len(stream.data) - expected)


def _object_stream_slack(reader: PdfFileReader, stream: generic.StreamObject, referenced: set[int]) -> int:
    """Decoded bytes of an object stream that belong to no object the xref references (its header of
    number pairs and whitespace apart)."""
    data = stream.data
    first, count = int(stream["/First"]), int(stream["/N"])
    pairs = NUMBER_PAIR.findall(data[:first])
    header_ok = len(pairs) == count and OBJECT_STREAM_HEADER.fullmatch(data[:first]) is not None
    slack = 0 if header_ok else len(data[:first].strip(PDF_WHITESPACE))
    buffer, spans = io.BytesIO(data), []
    for number, offset in pairs[:count] if header_ok else []:
        if int(number) in referenced:
            try:
                buffer.seek(first + int(offset))
                generic.read_object(buffer, generic.Reference(int(number), 0, reader))
                spans.append((first + int(offset), buffer.tell()))
            except Exception:
                pass
    pos = first
    for start, end in [*sorted(spans), (len(data), len(data))]:
        slack += len(data[pos:start].strip(PDF_WHITESPACE)) if start > pos else 0
        pos = max(pos, end)
    return slack


def stream_slack_problems(reader: PdfFileReader) -> list[str]:
    """Xref streams and object streams written after the last signature hold nothing else."""
    signed = max(s.signed_revision for s in reader.embedded_signatures)
    problems = []
    for revision in range(signed + 1, reader.xrefs.total_revisions):
        resolver = reader.get_historical_resolver(revision)
        section = reader.xrefs.get_xref_data(revision)
        sections = [section] + ([section.hybrid.xref_data] if section.hybrid is not None else [])
        ref = reader.xrefs.get_xref_container_info(revision).stream_ref  # the xref stream, or a hybrid's
        if ref is not None and (extra := _xref_stream_slack(resolver(ref))):
            problems.append(f"the cross-reference stream {ref.idnum} holds {extra} bytes that are no entry")
        for xref_data in sections:
            for number in xref_data.obj_streams_used:
                if not any(number in written.standard_xrefs for written in sections):
                    continue  # an object stream of a signed revision: the signature covers it
                referenced = {n for n, loc in xref_data.xrefs_in_objstm.items() if loc.obj_stream_id == number}
                stream = resolver(generic.Reference(number, 0, reader))
                if extra := _object_stream_slack(reader, stream, referenced):
                    problems.append(f"the object stream {number} holds {extra} bytes that are part of no object")
    return [f"{p} of the update: no signature covers them" for p in problems]


def unsigned_bytes_problems(reader: PdfFileReader, data: bytes) -> list[str]:
    """The bytes between or inside later revisions that no signature covers, and the objects of
    later revisions that the document does not use."""
    if not reader.embedded_signatures:
        return []
    try:
        gaps, orphans = uncovered_gaps(reader, data), orphan_objects(reader)
        problems = stream_slack_problems(reader)
    except Exception as exc:
        return [f"the revisions after the last signature cannot be accounted for: {type(exc).__name__}"]
    if orphans:
        listed = ", ".join(map(str, orphans[:MAX_REPORTED_GAPS])) + (" …" if len(orphans) > MAX_REPORTED_GAPS else "")
        problems.append(
            f"{len(orphans)} object{'s' if len(orphans) > 1 else ''} ({listed}) written after the last signature "
            f"{'are' if len(orphans) > 1 else 'is'} used by nothing in the document: no signature covers "
            f"{'them' if len(orphans) > 1 else 'it'}"
        )
    if not gaps:
        return problems
    total = sum(gap_end - gap_start for gap_start, gap_end in gaps)
    where = ", ".join(f"{gap_start}–{gap_end - 1}" for gap_start, gap_end in gaps[:MAX_REPORTED_GAPS])
    more = f" and {len(gaps) - MAX_REPORTED_GAPS} more" if len(gaps) > MAX_REPORTED_GAPS else ""
    return [
        f"{total} bytes between revisions (offset{'s' if len(gaps) > 1 else ''} {where}{more}) are not part "
        "of any object of the update: no signature covers them",
        *problems,
    ]
