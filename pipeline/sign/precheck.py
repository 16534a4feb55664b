"""Refuse to sign with a certificate that is expired, not yet valid, revoked or untrusted, or whose
revocation status cannot be established right now.

pyHanko only checks the signer when it must collect revocation data (B-LT and up); the archive wants
the same refusal at every level, with a one-line reason. Revocation is checked hard: when the
certificate (or a CA of its chain) names an OCSP responder or a CRL and none answers, the archive
does not sign ("hard-fail"; "require" also refuses CA certificates that name no revocation source). A
signer certificate that names none is refused in both modes.
There is no soft-fail: it would sign with a revoked certificate whenever the responders are down.

A signer certificate that names an OCSP responder needs that responder's answer: a CRL alone is not enough,
because a CRL is issued on a schedule and does not list a certificate revoked since (pyHanko would fall back to
it whenever the OCSP answer is missing, late or stale, and sign with a certificate OCSP calls revoked). And an
answer issued after the check began is the newest one, not a "too recent" one to throw away: pyHanko fixes the
validation time when the context is made and discards revocation data dated more than a second later, which a
slow responder (or a loaded machine) produces.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import x509
from pyhanko.keys import load_certs_from_pemder
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    InsufficientRevinfoError,
    InvalidCertificateError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
)
from pyhanko_certvalidator.fetchers import Fetchers
from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule

from .model import SigningError, first_line

SIGNER_KEY_USAGE = {"non_repudiation"}  # pyHanko's default for PAdES signers and validators
REVOCATION_MODES = ("hard-fail", "require")  # the only ones signing accepts (see the module docstring)


def load_roots(paths: list[Path] | tuple[Path, ...]) -> list[x509.Certificate]:
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        raise SigningError(f"trust anchor file not found: {', '.join(missing)}")
    return list(load_certs_from_pemder([str(p) for p in paths]))


def signer_roots(cert: x509.Certificate, others: list[x509.Certificate]) -> list[x509.Certificate]:
    """Self-signed certificates of the signer's own chain: enough to check expiry and revocation."""
    return [c for c in others if _self_signed(c) and c.dump() != cert.dump()]


def _self_signed(cert: x509.Certificate) -> bool:
    """asn1crypto answers "no" or "maybe" (both truthy strings): "maybe" is issuer == subject."""
    return cert.self_signed != "no"


def describe(cert: x509.Certificate) -> str:
    return cert.subject.human_friendly


def check_validity_period(cert: x509.Certificate, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    validity = cert["tbs_certificate"]["validity"]
    not_before, not_after = validity["not_before"].native, validity["not_after"].native
    if now > not_after:
        raise SigningError(f"signer certificate expired on {not_after.isoformat()}: {describe(cert)}")
    if now < not_before:
        raise SigningError(f"signer certificate not valid before {not_before.isoformat()}: {describe(cert)}")


def revocation_mode(mode: str) -> str:
    """The configured mode, refused unless it is one that never signs without a revocation answer."""
    if mode not in REVOCATION_MODES:
        raise SigningError(
            f"revocation mode {mode!r} is not allowed: use hard-fail or require "
            "(signing without a revocation answer could use a revoked certificate)"
        )
    return mode


def build_context(
    roots: list[x509.Certificate],
    others: list[x509.Certificate],
    *,
    hard_fail: bool = True,
    mode: str = "",
    fetchers: Fetchers | None = None,
) -> ValidationContext:
    """A fetching validation context "now"; ``mode`` ("hard-fail" or "require") wins over ``hard_fail``.
    Revocation data issued after the context was made counts (see the module docstring). ``fetchers``: those
    of the signature's session (:mod:`.session`), whose answers it shares; None: pyHanko's own."""
    return ValidationContext(
        trust_roots=roots,
        other_certs=others,
        allow_fetching=True,
        revocation_mode=revocation_mode(mode) if mode else ("hard-fail" if hard_fail else "soft-fail"),
        retroactive_revinfo=True,
        fetchers=fetchers,
    )


def signer_policy(cert: x509.Certificate, mode: str) -> CertRevTrustPolicy:
    """``mode`` for the chain, except that a signer certificate naming an OCSP responder needs its answer:
    the CRL is not consulted for it, so a "revoked" answer lost to a timeout or a late reply is never replaced
    by an older CRL's silence."""
    legacy = RevocationCheckingPolicy.from_legacy(revocation_mode(mode))
    ee_rule = RevocationCheckingRule.OCSP_REQUIRED if cert.ocsp_urls else legacy.ee_certificate_rule
    return CertRevTrustPolicy(
        RevocationCheckingPolicy(ee_rule, legacy.intermediate_ca_cert_rule), retroactive_revinfo=True
    )


def signer_context(
    cert: x509.Certificate,
    roots: list[x509.Certificate],
    others: list[x509.Certificate],
    mode: str = "hard-fail",
    fetchers: Fetchers | None = None,
) -> ValidationContext:
    """The fetching context :func:`check_signer` validates ``cert`` with (:func:`signer_policy`)."""
    return ValidationContext(
        trust_roots=roots,
        other_certs=others,
        allow_fetching=True,
        revinfo_policy=signer_policy(cert, mode),
        fetchers=fetchers,
    )


def revocation_sources(certs: list[x509.Certificate]) -> list[str]:
    """The OCSP and CRL URLs named by ``certs`` (signer first), for a message the operator can act on."""
    urls: list[str] = []
    for cert in certs:
        for url in [*cert.ocsp_urls, *(u for dp in cert.crl_distribution_points for u in _dp_urls(dp))]:
            if url not in urls:
                urls.append(url)
    return urls


def _dp_urls(dp) -> list[str]:
    try:
        return [dp.url] if dp.url else []
    except Exception:  # a distribution point without a URI
        return []


def unavailable_message(cert: x509.Certificate, others: list[x509.Certificate], detail: str = "") -> str:
    sources = revocation_sources([cert, *[c for c in others if not _self_signed(c)]])
    where = f"no answer from {', '.join(sources)}" if sources else (detail or "no revocation source answered")
    if cert.ocsp_urls:
        where += " (its OCSP responder must answer: a CRL alone may not list a recent revocation)"
    return f"cannot check whether the agency certificate is revoked: {where} (OCSP/CRL unreachable); not signing"


def check_signer(
    cert: x509.Certificate, roots: list[x509.Certificate], others: list[x509.Certificate], mode: str = "hard-fail"
) -> None:
    """:func:`check_signer_async` in an event loop of its own."""
    asyncio.run(check_signer_async(cert, roots, others, mode))


async def check_signer_async(
    cert: x509.Certificate,
    roots: list[x509.Certificate],
    others: list[x509.Certificate],
    mode: str = "hard-fail",
    fetchers: Fetchers | None = None,
) -> None:
    """Validate the signer's chain now (revocation included, :func:`signer_policy`) or raise. A signer
    certificate naming no OCSP responder and no CRL is refused in every mode: its revocation status can
    never be established, and verification would call every signature it makes indeterminate."""
    check_validity_period(cert)
    if not cert.ocsp_urls and not cert.crl_distribution_points:
        raise SigningError(f"the agency certificate names no OCSP responder and no CRL, so whether it is revoked "
                           f"can never be checked; not signing: {describe(cert)}")
    context = signer_context(cert, roots, others, mode, fetchers)
    validator = CertificateValidator(cert, intermediate_certs=others, validation_context=context)
    try:
        await _validate(validator, context)
    except RevokedError as exc:
        raise SigningError(f"the agency certificate is revoked, not signing: {describe(cert)}") from exc
    except InsufficientRevinfoError as exc:
        raise SigningError(unavailable_message(cert, others, first_line(exc))) from exc
    except ExpiredError as exc:
        raise SigningError(f"signer certificate (or its chain) is expired: {describe(cert)}") from exc
    except PathBuildingError as exc:
        raise SigningError(f"signer certificate does not chain to a trusted root: {describe(cert)}") from exc
    except InvalidCertificateError as exc:
        raise SigningError(f"signer certificate cannot sign: {exc}") from exc
    except PathValidationError as exc:
        raise SigningError(f"signer certificate failed validation: {exc}") from exc


async def _validate(validator: CertificateValidator, context: ValidationContext) -> None:
    try:
        await validator.async_validate_usage(SIGNER_KEY_USAGE)
    finally:
        await context.aclose()  # release the HTTP session inside the loop that opened it (if the context owns it)
