"""Renew the long-term validity of a B-LTA file: add fresh validation data for the last document
timestamp and a new document timestamp over everything (ETSI "archive timestamp chain").

The periodic task (orchestration) decides *when*: :func:`timestamp_expiry` says until when the
newest timestamp's TSA certificate stays valid.
"""

from __future__ import annotations

import asyncio
import io
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
from pyhanko.sign.validation.generic_cms import extract_certs_for_validation, extract_tst_data_iter

from .model import SigningError
from .precheck import build_context, load_roots


def timestamp_expiry(path: Path) -> datetime | None:
    """Expiry of the TSA certificate of the newest document timestamp (or signature timestamp)."""
    reader = PdfFileReader(io.BytesIO(Path(path).read_bytes()), strict=False)
    sigs = list(reader.embedded_signatures)
    if not sigs:
        return None
    newest = max(sigs, key=lambda s: s.signed_revision)
    if newest.sig_object_type == "/DocTimeStamp":
        cert = newest.signer_cert
    else:
        signer_info = newest.signed_data["signer_infos"][0]
        tokens = list(extract_tst_data_iter(signer_info, signed=False))
        if not tokens:
            return None
        cert = extract_certs_for_validation(tokens[-1]).signer_cert
    return cert["tbs_certificate"]["validity"]["not_after"].native


def needs_renewal(path: Path, within_days: int = 365, now: datetime | None = None) -> bool:
    """True when the newest timestamp's TSA certificate expires within ``within_days``."""
    expiry = timestamp_expiry(path)
    if expiry is None:
        return False
    now = now or datetime.now(UTC)
    return expiry - now <= timedelta(days=within_days)


def add_document_timestamp(src: Path, dst: Path, tsa_url: str, trust_roots: list[Path]) -> Path:
    """Write ``dst``: ``src`` + validation data for its last timestamp + a new document timestamp.

    Raises :class:`SigningError` when the file has no timestamp chain to extend, or the TSA or the
    revocation sources fail.
    """
    src, dst = Path(src), Path(dst)
    roots = load_roots(list(trust_roots))
    data = src.read_bytes()
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    if not any(s.sig_object_type == "/DocTimeStamp" for s in reader.embedded_signatures):
        raise SigningError(f"{src.name} has no document timestamp to renew (sign it at B-LTA first)")
    context = build_context(roots, [], hard_fail=True)
    stamper = signers.PdfTimeStamper(HTTPTimeStamper(tsa_url, timeout=15))
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".renew-", suffix=".pdf", dir=dst.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as out:
            out.write(data)
            out.flush()
            out.seek(0)
            reader = PdfFileReader(out, strict=False)
            asyncio.run(_renew(stamper, reader, context))
        os.replace(tmp, dst)
    except TimestampRequestError as exc:
        raise SigningError(f"time-stamping authority failed ({tsa_url}): {exc}") from exc
    except SigningError:
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()
        raise SigningError(f"renewal failed: {type(exc).__name__}: {first[0] if first else ''}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return dst


async def _renew(stamper: signers.PdfTimeStamper, reader: PdfFileReader, context) -> None:
    try:
        await stamper.async_update_archival_timestamp_chain(reader, context, in_place=True)
    finally:
        await context.aclose()
