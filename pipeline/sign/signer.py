"""Sign a PDF/A as a PAdES baseline signature (B-B, B-T, B-LT, B-LTA) with pyHanko.

The signature is an incremental update: the bytes of the PDF/A (and so its XMP claim, output intent and
fonts) stay as they were, and a validator can show exactly what was signed. B-LT/B-LTA add a DSS
(certificates, OCSP responses, CRLs) and, for B-LTA, a document timestamp in later revisions.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import aiohttp
from asn1crypto import x509
from cryptography import x509 as pyca_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.stamp import BaseStampStyle
from pyhanko_certvalidator import ValidationContext

from .keys import open_signer
from .model import LEVELS, SignatureInfo, SignerConfig, SigningError, SignPolicy, first_line
from .output import signed_output
from .precheck import (
    build_context,
    check_signer_async,
    check_validity_period,
    load_roots,
    revocation_mode,
    signer_roots,
)
from .session import TimeStamper, remembered, responder_session
from .versions import tool_versions


def normalise_level(level: str) -> str:
    value = level.strip().upper().replace("_", "-")
    if not value.startswith("B-"):
        value = "B-" + value
    if value not in LEVELS:
        raise SigningError(f"unknown PAdES level {level!r}; expected one of {', '.join(LEVELS)}")
    return value


def agency_from_certificate(cert: x509.Certificate) -> str:
    """The agency name for the stamp when none is configured: the certificate's organisation (O)."""
    subject = cert.subject.native
    name = subject.get("organization_name") or subject.get("common_name") or ""
    return unicodedata.normalize("NFC", name if isinstance(name, str) else ", ".join(name))


def is_test_certificate(cert: x509.Certificate) -> bool:
    """TEST PKI material names itself: a subject or issuer attribute holding the word TEST."""
    values = [*cert.subject.native.values(), *cert.issuer.native.values()]
    return any("TEST" in str(v).split() or str(v).startswith("TEST") for v in values)


def subject_rfc4514(cert: x509.Certificate) -> str:
    return pyca_x509.load_der_x509_certificate(cert.dump()).subject.rfc4514_string()


def sign_pdf(src: Path, dst: Path, signer: SignerConfig, policy: SignPolicy) -> SignatureInfo:
    """Sign ``src`` into ``dst`` (written atomically) and return the facts for the document record.

    Raises :class:`SigningError` with a one-line reason when the key cannot be used, the signer
    certificate is expired/revoked/untrusted or its revocation status cannot be established (at every
    level: the responders must answer), the TSA fails at B-T and up, or the input is not a PDF pyHanko
    can update. Local problems (input, key, seal) are reported before any responder is asked.
    """
    src, dst = Path(src), Path(dst)
    level = normalise_level(policy.level)
    mode = revocation_mode(policy.revocation_mode)
    if level != "B-B" and not policy.tsa_url:
        raise SigningError(f"PAdES {level} needs a time-stamping authority (tsa_url)")
    if not src.is_file():
        raise SigningError(f"input PDF not found: {src}")
    _check_input(src, policy.field_name)
    with open_signer(signer) as key:
        cert = key.signing_cert
        if cert is None:
            raise SigningError("the signing key has no certificate")
        if not policy.allow_test_material and is_test_certificate(cert):
            raise SigningError("the signing certificate is TEST material (its subject says TEST); only a TEST "
                               "configuration written by `archive cert init-test` may sign with it")
        others = [c for c in key.cert_registry if c.dump() != cert.dump()]
        roots = load_roots(policy.trust_roots) if policy.trust_roots else signer_roots(cert, others)
        if policy.visible and not policy.agency_name:
            policy = replace(policy, agency_name=agency_from_certificate(cert))
        appearance = _appearance(src, policy)
        check_validity_period(cert)
        if not roots:
            raise SigningError("cannot check whether the agency certificate is revoked: no trust anchor for its "
                               "chain (sign.trust_roots); not signing")
        tz = timezone(timedelta(hours=policy.utc_offset_hours))
        job = _Job(key, cert, roots, others, mode, level, appearance, tz)
        signed_at = _write_signed(src, dst, job, policy)
    return SignatureInfo(
        level=level,
        field_name=policy.field_name,
        signer_subject=subject_rfc4514(cert),
        signer_cert_sha256=hashlib.sha256(cert.dump()).hexdigest(),
        signed_at=signed_at,
        tools=tool_versions(),
        visible=policy.visible,
        timestamped=level != "B-B",
    )


def _check_input(src: Path, field_name: str) -> None:
    """The input must be a PDF pyHanko can update, without a signature in our field already."""
    try:
        with src.open("rb") as inf:
            reader = IncrementalPdfFileWriter(inf, strict=False).prev
            _refuse_existing_field(reader, field_name)
    except SigningError:
        raise
    except Exception as exc:
        raise SigningError(f"cannot read {src.name} as PDF: {first_line(exc)}") from exc


def _appearance(src: Path, policy: SignPolicy) -> tuple[BaseStampStyle | None, fields.SigFieldSpec]:
    """The Decree 30 stamp (style, field) for a visible signature; an invisible field otherwise."""
    if not policy.visible:
        return None, fields.SigFieldSpec(sig_field_name=policy.field_name)
    from .stamp import decree30_appearance

    return decree30_appearance(src, policy, datetime.now(UTC))  # the time is a text parameter


@dataclass(frozen=True)
class _Job:
    """What one signature needs once the local checks have passed."""

    key: signers.Signer
    cert: x509.Certificate
    roots: list[x509.Certificate]
    others: list[x509.Certificate]
    mode: str
    level: str
    appearance: tuple[BaseStampStyle | None, fields.SigFieldSpec]
    tz: timezone


def _pdf_signer(
    job: _Job, policy: SignPolicy, context: ValidationContext | None, http: aiohttp.ClientSession
) -> signers.PdfSigner:
    meta = signers.PdfSignatureMetadata(
        field_name=policy.field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=policy.reason or None,
        location=policy.location or None,
        embed_validation_info=context is not None,
        validation_context=context,
        use_pades_lta=job.level == "B-LTA",
    )
    timestamper = TimeStamper(policy.tsa_url, session=http, timeout=15) if job.level != "B-B" else None
    stamp_style, field_spec = job.appearance
    return signers.PdfSigner(
        meta, signer=job.key, timestamper=timestamper, stamp_style=stamp_style, new_field_spec=field_spec
    )


def _write_signed(src: Path, dst: Path, job: _Job, policy: SignPolicy) -> datetime:
    """Check the signer, then sign ``src`` into ``dst``, in one event loop and one responder session; the
    signing time, fixed after the check."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with (signed_output(dst, "signing", policy.tsa_url) as (fd, _tmp), src.open("rb") as inf,
          os.fdopen(fd, "w+b") as out):
        try:
            writer = IncrementalPdfFileWriter(inf, strict=False)
        except Exception as exc:
            raise SigningError(f"cannot read {src.name} as PDF: {exc}") from exc
        _refuse_existing_field(writer.prev, policy.field_name)
        return asyncio.run(_check_and_sign(job, policy, writer, out))


async def _check_and_sign(job: _Job, policy: SignPolicy, writer: IncrementalPdfFileWriter, out) -> datetime:
    async with responder_session() as responders:
        await check_signer_async(job.cert, job.roots, job.others, job.mode, responders.fetchers)
        long_term = job.level in ("B-LT", "B-LTA")
        context = build_context(job.roots, job.others, mode=job.mode, fetchers=responders.fetchers) if long_term \
            else None
        signed_at = datetime.now(job.tz).replace(microsecond=0)
        text_params = {
            "agency": unicodedata.normalize("NFC", policy.agency_name),
            "vn_time": signed_at.isoformat(),
            "extra": policy.stamp_text,
        }
        pdf_signer = _pdf_signer(job, policy, context, responders.http)
        size_key = (hashlib.sha256(job.cert.dump()).hexdigest(), job.level, policy.tsa_url)
        await _sign(pdf_signer, writer, out, signed_at, text_params, context, size_key)
        return signed_at


def _refuse_existing_field(reader: PdfFileReader, field_name: str) -> None:
    for name, _value, _ref in fields.enumerate_sig_fields(reader, filled_status=True):
        if name == field_name:
            raise SigningError(f"the document already has a signature in field {field_name!r}")


# Room reserved for the signature container, by (signer certificate, level, TSA): pyHanko measures it with a dry
# run of the whole signature (a signing operation and the CMS assembled around the TSA's sample token) and adds
# 50% for the TSA's answers varying; the container (certificates, signed attributes, the TSA's token) is the same
# size for every document signed by the same key through the same TSA. Measured again after session.KEEP_S.
_RESERVED: dict[tuple[str, str, str], tuple[float, int]] = {}


async def _sign(
    pdf_signer: signers.PdfSigner,
    writer: IncrementalPdfFileWriter,
    out,
    signed_at: datetime,
    text_params: dict[str, str],
    context: ValidationContext | None,
    size_key: tuple[str, str, str],
) -> None:
    """pyHanko's ``async_sign_pdf`` with the signing time fixed beforehand.

    The visible stamp prints the time; fixing it first makes the stamp and the CMS signing-time
    attribute identical (pyHanko otherwise reads the clock itself, in the machine's zone).
    """
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    try:
        session = pdf_signer.init_signing_session(writer)
        session.system_time = signed_at
        validation_info = await session.perform_presign_validation(writer)
        reserved = await remembered(
            _RESERVED, size_key, lambda: session.estimate_signature_container_size(validation_info, tight=False)
        )
        tbs = session.prepare_tbs_document(
            validation_info=validation_info, bytes_reserved=reserved, appearance_text_params=text_params
        )
        digest, res_output = tbs.digest_tbs_document(output=out)
        post = await tbs.perform_signature(
            document_digest=digest.document_digest,
            pdf_cms_signed_attrs=PdfCMSSignedAttributes(
                signing_time=signed_at,
                adobe_revinfo_attr=None if validation_info is None else validation_info.adobe_revinfo_attr,
                cades_signed_attrs=pdf_signer.signature_meta.cades_signed_attr_spec,
            ),
        )
        await post.post_signature_processing(res_output)
    finally:
        if context is not None:
            await context.aclose()
