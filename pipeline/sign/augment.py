"""Signed originals: inspect the signatures an incoming PDF already carries, and preserve them (PAdES
B-LTA augmentation) without ever re-writing the file.

:func:`inspect_incoming` reports, per signature, what :func:`pipeline.sign.verify.verify_pdf` checks
(its per-signature pass is reused: integrity, coverage, trust, timestamp, LTV, revocation).

:func:`augment_to_lta` appends incremental updates only: one DSS revision with the validation material
(certificates, OCSP responses, CRLs) of every signature, then a document timestamp from the TSA (whose own
validation material pyHanko appends after it, as for our own B-LTA signatures). The output starts with
the input's bytes exactly; that, the sender's signatures and the new document timestamp are checked
before the file is released. Revocation material that cannot be fetched for a sender does not stop the
augmentation (the archive keeps the evidence it has) but is reported in :attr:`AugmentInfo.missing`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from datetime import UTC
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation import DocumentSecurityStore, EmbeddedPdfSignature
from pyhanko.sign.validation.dss import collect_validation_info
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko_certvalidator.errors import InsufficientRevinfoError, PathBuildingError, RevokedError

from .incoming import AugmentInfo, IncomingSignature, _context, _inspect_data, _reader, _split
from .model import LEVELS, SigningError, VerificationReport, first_line
from .output import signed_output
from .precheck import load_roots
from .revocation import cms_revinfo
from .verify import _dss, verify_pdf

log = logging.getLogger(__name__)


# --- augmentation -----------------------------------------------------------------------------------



async def _collect(sig: EmbeddedPdfSignature, roots, dss, online: bool, missing: list[str]):
    """Validation paths, OCSP responses and CRLs for one signature (and its signature timestamps)."""
    name = sig.field_name
    context = None
    try:
        context = _context(roots, dss, online, "hard-fail", **cms_revinfo(sig))
        paths = await collect_validation_info(sig, context)
        return paths, list(context.ocsps), list(context.crls), []
    except RevokedError:
        # The evidence (the OCSP/CRL answer saying "revoked") is kept all the same.
        missing.append(f"signature {name!r}: the signer certificate is revoked (revocation data kept as evidence)")
    except InsufficientRevinfoError as exc:
        missing.append(f"signature {name!r}: revocation data could not be fetched: {first_line(exc, True)}")
    except PathBuildingError as exc:
        missing.append(f"signature {name!r}: no chain to a trusted root, revocation data not collected: "
                       f"{first_line(exc, True)}")
    except Exception as exc:
        missing.append(f"signature {name!r}: validation material not collected: {type(exc).__name__}: "
                       f"{first_line(exc, True)}")
    finally:
        if context is not None:
            await context.aclose()
    # Whatever could be had: the certificates the signature carries and any answer fetched before failing.
    certs = [sig.signer_cert, *sig.other_embedded_certs]
    if context is None:
        return [], [], [], certs
    return [], list(context.ocsps), list(context.crls), certs


async def _augment(data: bytes, out, roots, online: bool, tsa_url: str, missing: list[str]) -> None:
    reader = _reader(data)
    sigs, _ = _split(reader)
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        dss = None
    paths, ocsps, crls, certs = [], [], [], []
    for sig in sigs:
        p, o, c, extra = await _collect(sig, roots, dss, online, missing)
        paths += p
        ocsps += o
        crls += c
        certs += extra
    # 1. One incremental update: the DSS for every sender signature.
    out.write(data)
    out.seek(0)
    writer = IncrementalPdfFileWriter(out, strict=False)
    DocumentSecurityStore.supply_dss_in_writer(writer, None, certs=certs, ocsps=ocsps, crls=crls, paths=paths)
    writer.write_in_place()
    out.seek(0)
    # 2. The document timestamp; pyHanko appends the TSA's validation material after it. A sender
    # signature without its own timestamp gets the first one as its B-T proof of existence, and a
    # second one over the first's validation material (B-LTA).
    rounds = 1 if all(_has_signature_timestamp(s) for s in sigs) else 2
    taken = _field_names(reader)
    for _ in range(rounds):
        ts_context = _context(roots, None, online, "soft-fail")
        try:
            out.seek(0)
            writer = IncrementalPdfFileWriter(out, strict=False)
            name = _free_ts_name(taken)
            taken.add(name)
            stamper = signers.PdfTimeStamper(HTTPTimeStamper(tsa_url, timeout=15), field_name=name)
            await stamper.async_timestamp_pdf(writer, "sha256", validation_context=ts_context, in_place=True)
            if ts_context.soft_fail_exceptions:
                missing.append(f"document timestamp {name!r}: TSA revocation data incomplete: "
                               f"{first_line(ts_context.soft_fail_exceptions[0], True)}")
        finally:
            await ts_context.aclose()


def _has_signature_timestamp(sig: EmbeddedPdfSignature) -> bool:
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    return any(True for _ in extract_tst_data_iter(sig.signer_info, signed=False))


def _field_names(reader: PdfFileReader) -> set[str]:
    from pyhanko.sign import fields

    return {name for name, _v, _r in fields.enumerate_sig_fields(reader)}


def _free_ts_name(taken: set[str]) -> str:
    n = 1
    while f"ArchiveTimestamp{n}" in taken:
        n += 1
    return f"ArchiveTimestamp{n}"


def augment_to_lta(src: Path, dst: Path, trust_roots: list[Path], tsa_url: str, online: bool = True) -> AugmentInfo:
    """Write ``dst`` = ``src`` + DSS (validation material of every signature) + document timestamp.

    Never re-writes ``src``'s bytes (checked: ``dst`` starts with them). Raises :class:`SigningError` when
    ``src`` carries no signature, the TSA fails, or the result would not preserve the sender's signatures
    or carry a valid document timestamp. Missing revocation material is reported, not raised.
    """
    src, dst = Path(src), Path(dst)
    if not tsa_url:
        raise SigningError("no time-stamping authority configured (sign.tsa_url): cannot augment to B-LTA")
    try:
        data = src.read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read {src}: {exc.strerror}") from exc
    roots = load_roots(list(trust_roots))
    try:
        before, _ = _inspect_data(data, roots, online)
    except Exception as exc:
        raise SigningError(f"cannot read the signatures of {src.name}: {first_line(exc, True)}") from exc
    if not before:
        raise SigningError(f"{src.name} carries no signature to preserve")
    missing: list[str] = []
    dst.parent.mkdir(parents=True, exist_ok=True)
    with signed_output(dst, "augmentation", tsa_url) as (fd, tmp):
        with os.fdopen(fd, "w+b") as out:
            quiet = logging.getLogger("pyhanko")
            level = quiet.level
            quiet.setLevel(logging.ERROR)  # soft-fail warnings are reported in `missing`
            try:
                asyncio.run(_augment(data, out, roots, online, tsa_url, missing))
            finally:
                quiet.setLevel(level)
        info = _check_output(src, tmp, data, list(trust_roots), roots, online, before, missing)
    return info


def _check_output(src: Path, out: Path, data: bytes, trust_paths: list[Path], roots, online: bool,
                  before: list[IncomingSignature], missing: list[str]) -> AugmentInfo:
    result = out.read_bytes()
    if not result.startswith(data) or len(result) <= len(data):
        raise SigningError(f"augmenting {src.name} would change its original bytes; not written")
    after, _ = _inspect_data(result, roots, online)
    by_name = {s.field_name: s for s in after}
    for old in before:
        new = by_name.get(old.field_name)
        if new is None or not new.intact or not new.covers_signed_revision:
            raise SigningError(f"augmenting {src.name} would break signature {old.field_name!r}; not written")
    reader = _reader(result)
    _, timestamps = _split(reader)
    newest = max(timestamps, key=lambda t: t.signed_revision, default=None)
    if newest is None or newest.signed_revision <= max(s.signed_revision for s in _split(reader)[0]):
        raise SigningError(f"augmenting {src.name} produced no document timestamp; not written")
    report = verify_pdf(out, trust_paths, online=online)
    ts_ok, ts_at = _timestamp_status(newest, roots, reader, online)
    if not ts_ok:
        raise SigningError(f"the new document timestamp on {src.name} does not validate; not written")
    return AugmentInfo(
        src_sha256=hashlib.sha256(data).hexdigest(),
        dst_sha256=hashlib.sha256(result).hexdigest(),
        src_size=len(data),
        dst_size=len(result),
        signatures=after,
        timestamped_at=ts_at,
        timestamp_valid=ts_ok,
        status=report.status,
        level=min((s.level for s in after), key=LEVELS.index),
        verify_level=report.level,
        missing=missing,
        problems=report.problems,
    )


def _timestamp_status(ts: EmbeddedPdfSignature, roots, reader: PdfFileReader, online: bool):
    from pyhanko.sign.validation import validate_pdf_timestamp

    rep = VerificationReport()
    dss = _dss(reader, rep)
    try:
        status = validate_pdf_timestamp(ts, validation_context=_context(roots, dss, online, "soft-fail"))
    except Exception:
        return False, None
    ok = bool(status.intact and status.valid and status.trusted)
    when = status.timestamp.astimezone(UTC) if status.timestamp else None
    return ok, when
