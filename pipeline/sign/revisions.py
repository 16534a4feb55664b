"""Check what unsigned later revisions (e.g. a B-LT file's DSS update) did to the XMP metadata,
the document information dictionary (/Info) and the document structure, and what lies after the end.

pyHanko's difference analysis accepts metadata and catalog updates after a signature, and pyHanko
itself rewrites the XMP (xmp:ModifyDate) when it adds a DSS. Anything else changed there, such as
the PDF/A claim, the title or a catalog entry, is tampering that no signature covers. What stays
unprotectable in an unsigned revision: the new xmp:ModifyDate value and the trailer's second /ID
(both change by design); B-LTA covers them with its document timestamp.

pyHanko ignores the /Info dictionary altogether, so an update that rewrites the /Info object in place
(same object number, new title) passed as "covers the whole document". Its contents are compared
here, resolved in each revision. pyHanko's own later revisions (DSS, document timestamps, renewal)
rewrite /Info too, but only to bump /ModDate (volatile, like xmp:ModifyDate) and to append its name
to /Producer ("…; pyHanko 0.38.0"); nothing else may change. Bytes after the last revision's
``%%EOF`` (beyond end-of-line whitespace) belong to no revision and no signature: also a finding.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from pyhanko.pdf_utils.reader import PdfFileReader

from .byte_coverage import PDF_WHITESPACE, last_revision_end

RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
VOLATILE = {"{http://ns.adobe.com/xap/1.0/}ModifyDate"}  # pyHanko bumps it in its DSS update


def _xmp_at(reader: PdfFileReader, revision: int) -> bytes | None:
    """The XMP packet as of ``revision``; None when that revision's catalog has no /Metadata.

    pyHanko's ``raw_get`` raises KeyError for a missing key (it is not ``dict.get``), so the
    lookup goes through ``_deref``, which checks presence first: born-digital files that are not
    PDF/A often carry no XMP at all, and that is not damage.
    """
    resolver = reader.get_historical_resolver(revision)
    root = _deref(resolver, resolver.trailer_view, "/Root")
    stream = _deref(resolver, root, "/Metadata") if root is not None else None
    if stream is None or not hasattr(stream, "data"):
        return None
    return stream.data


def _normalised(xmp: bytes) -> bytes:
    """The packet with the values of the volatile properties blanked (attribute or element form)."""
    for name in (b"xmp:ModifyDate",):
        xmp = re.sub(rb"(" + name + rb'=")[^"]*(")', rb"\1\2", xmp)
        xmp = re.sub(rb"(<" + name + rb">)[^<]*(</" + name + rb">)", rb"\1\2", xmp)
    return xmp


def xmp_properties(xmp: bytes) -> dict[str, str]:
    """Flat ``{namespaced name: text}`` of every rdf:Description property (attribute or element)."""
    props: dict[str, str] = {}
    root = ET.fromstring(xmp.strip().split(b"?>", 1)[-1].rsplit(b"<?xpacket", 1)[0])
    for desc in root.iter(f"{RDF}Description"):
        for name, value in desc.attrib.items():
            if name != f"{RDF}about":
                props[name] = value.strip()
        for child in desc:
            props[child.tag] = " ".join(t.strip() for t in child.itertext() if t.strip())
    return props


def _plain(obj, depth: int = 0):
    """A comparable form of a PDF object: references stay references (their targets are compared by
    pyHanko's difference analysis), dictionaries and arrays are compared by value."""
    from pyhanko.pdf_utils import generic

    if depth > 20:
        return "..."
    if isinstance(obj, generic.IndirectObject):
        return ("ref", obj.idnum, obj.generation)
    if isinstance(obj, generic.DictionaryObject):
        return tuple(sorted((str(k), _plain(obj.raw_get(k), depth + 1)) for k in obj))
    if isinstance(obj, generic.ArrayObject):
        return tuple(_plain(obj.raw_get(i), depth + 1) for i in range(len(obj)))
    return (type(obj).__name__, str(obj))


def _resolved(resolver, obj, depth: int = 0):
    """A comparable form of ``obj`` with every reference resolved in the revision of ``resolver``."""
    import hashlib

    from pyhanko.pdf_utils import generic

    if depth > 20:
        return "..."
    if isinstance(obj, generic.IndirectObject):
        return _resolved(resolver, resolver(obj.reference), depth + 1)
    if isinstance(obj, generic.StreamObject):
        entries = _resolved(resolver, generic.DictionaryObject(obj), depth + 1)
        return ("stream", entries, hashlib.sha256(obj.encoded_data or b"").hexdigest())
    if isinstance(obj, generic.DictionaryObject):
        return tuple(sorted((str(k), _resolved(resolver, obj.raw_get(k), depth + 1)) for k in obj))
    if isinstance(obj, generic.ArrayObject):
        return tuple(_resolved(resolver, obj.raw_get(i), depth + 1) for i in range(len(obj)))
    if isinstance(obj, generic.TextStringObject):
        return ("string", str(obj))
    if isinstance(obj, generic.ByteStringObject):
        return ("bytes", bytes(obj))
    return (type(obj).__name__, str(obj))


def unsigned_info_problems(reader: PdfFileReader, last_signed_revision: int) -> list[str]:
    """The document information dictionary must read the same after the last signature as it did
    when signed: compared by contents (resolved in each revision), not only by its reference."""
    final = reader.xrefs.total_revisions - 1
    if final <= last_signed_revision:
        return []
    try:
        old_resolver = reader.get_historical_resolver(last_signed_revision)
        new_resolver = reader.get_historical_resolver(final)
        old = _deref(old_resolver, old_resolver.trailer_view, "/Info")
        new = _deref(new_resolver, new_resolver.trailer_view, "/Info")
        before = dict(_resolved(old_resolver, old)) if old is not None else {}
        after = dict(_resolved(new_resolver, new)) if new is not None else {}
    except Exception as exc:
        return [f"the document information dictionary (/Info) after the last signature cannot be read: "
                f"{type(exc).__name__}"]
    changed = sorted(
        k
        for k in set(before) | set(after)
        if k not in VOLATILE_INFO and before.get(k) != after.get(k) and not _producer_appended(before, after, k)
    )
    if not changed:
        return []
    return [f"the document information dictionary (/Info) changed after the last signature: {', '.join(changed)}"]


VOLATILE_INFO = {"/ModDate"}  # pyHanko sets it on every incremental update it writes
PYHANKO_PRODUCER = re.compile(r"; pyHanko [0-9][0-9A-Za-z.+-]*")


def _producer_appended(before: dict, after: dict, key: str) -> bool:
    """pyHanko appends "; pyHanko <version>" to /Producer when its own name is missing (a newer version)."""
    if key != "/Producer" or not (before.get(key, (None,))[0] == after.get(key, (None,))[0] == "string"):
        return False
    old, new = before[key][1], after[key][1]
    return new.startswith(old) and PYHANKO_PRODUCER.fullmatch(new[len(old) :]) is not None


def trailing_bytes_problems(reader: PdfFileReader, data: bytes) -> list[str]:
    """Nothing but whitespace may follow the ``startxref … %%EOF`` that ends the last revision
    (bytes between revisions: ``byte_coverage.unsigned_bytes_problems``)."""
    end = last_revision_end(reader, data)
    if not data[end:].strip(PDF_WHITESPACE):
        return []
    return [f"{len(data) - end} bytes were appended after the last %%EOF: no signature covers them"]


def _deref(resolver, container, key: str):
    """``container[key]`` resolved in the revision of ``resolver`` (not in the latest one)."""
    if key not in container:
        return None
    value = container.raw_get(key)
    return resolver(value.reference) if hasattr(value, "reference") else value


def unsigned_structure_problems(reader: PdfFileReader, last_signed_revision: int, contents: list[bytes]) -> list[str]:
    """Catalog, metadata dictionary and DSS keys of unsigned later revisions must stay as signed,
    apart from what a DSS update legitimately adds (the /DSS entry itself)."""
    import hashlib

    final = reader.xrefs.total_revisions - 1
    if final <= last_signed_revision:
        return []
    problems = []
    old_resolver = reader.get_historical_resolver(last_signed_revision)
    new_resolver = reader.get_historical_resolver(final)
    old = _deref(old_resolver, old_resolver.trailer_view, "/Root")
    new = _deref(new_resolver, new_resolver.trailer_view, "/Root")
    keys = ({str(k) for k in old} | {str(k) for k in new}) - {"/DSS"}
    changed = sorted(
        k for k in keys if (k in old) != (k in new) or (k in old and _plain(old.raw_get(k)) != _plain(new.raw_get(k)))
    )
    if changed:
        problems.append(f"the document catalog changed after the last signature: {', '.join(changed)}")
    for key in ("/Info", "/Encrypt"):
        if _plain(old_resolver.trailer_view.raw_get(key) if key in old_resolver.trailer_view else None) != _plain(
            new_resolver.trailer_view.raw_get(key) if key in new_resolver.trailer_view else None
        ):
            problems.append(f"the trailer's {key} entry changed after the last signature")
    extra = {str(k) for k in new_resolver.trailer_view} - {str(k) for k in old_resolver.trailer_view}
    if extra - {"/Prev", "/Size", "/XRefStm"}:
        problems.append(f"the trailer gained entries after the last signature: {', '.join(sorted(extra))}")
    old_id, new_id = (r.trailer_view.raw_get("/ID") if "/ID" in r.trailer_view else None
                      for r in (old_resolver, new_resolver))
    if old_id is not None and new_id is not None and _plain(old_id[0]) != _plain(new_id[0]):
        problems.append("the permanent document ID changed after the last signature")
    meta_old, meta_new = _deref(old_resolver, old, "/Metadata"), _deref(new_resolver, new, "/Metadata")
    if meta_old is not None and meta_new is not None:
        strip = {"/Length", "/Filter", "/DecodeParms"}
        if {k: _plain(meta_old.raw_get(k)) for k in meta_old if k not in strip} != {
            k: _plain(meta_new.raw_get(k)) for k in meta_new if k not in strip
        }:
            problems.append("the metadata stream dictionary changed after the last signature")
    dss = _deref(new_resolver, new, "/DSS")
    vri = _deref(new_resolver, dss, "/VRI") if dss is not None else None
    if vri is not None:
        known = {hashlib.sha1(c).hexdigest().upper() for c in contents}
        unknown = [str(k) for k in vri if str(k).lstrip("/").upper() not in known]
        if unknown:
            problems.append("the DSS refers to a signature that is not in the file (VRI key altered)")
    return problems


def unsigned_metadata_problems(reader: PdfFileReader, last_signed_revision: int) -> list[str]:
    final = reader.xrefs.total_revisions - 1
    if final <= last_signed_revision:
        return []
    try:
        before, after = _xmp_at(reader, last_signed_revision), _xmp_at(reader, final)
    except Exception as exc:
        return [f"XMP metadata after the last signature cannot be read: {type(exc).__name__}"]
    if before is None and after is None:
        return []  # no XMP in either revision (e.g. a born-digital file that is not PDF/A)
    if before is None:
        return ["XMP metadata was added after the last signature"]
    if after is None:
        return ["XMP metadata was removed after the last signature"]
    if _normalised(before) == _normalised(after):
        return []  # identical apart from the volatile date pyHanko bumps: nothing to parse
    try:
        old, new = xmp_properties(before), xmp_properties(after)
    except Exception as exc:
        return [f"XMP metadata after the last signature cannot be read: {type(exc).__name__}"]
    changed = sorted(k.split("}")[-1] for k in set(old) | set(new) if k not in VOLATILE and old.get(k) != new.get(k))
    if changed:
        return [f"XMP metadata changed after the last signature: {', '.join(changed)}"]
    return ["XMP metadata packet altered after the last signature"]
