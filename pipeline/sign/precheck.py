"""Refuse to sign with a certificate that is expired, not yet valid, revoked or untrusted.

pyHanko only checks the signer when it must collect revocation data (B-LT and up); the archive wants
the same refusal at every level, with a one-line reason.
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
    InvalidCertificateError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
)

from .model import SigningError

SIGNER_KEY_USAGE = {"non_repudiation"}  # pyHanko's default for PAdES signers and validators


def load_roots(paths: list[Path] | tuple[Path, ...]) -> list[x509.Certificate]:
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        raise SigningError(f"trust anchor file not found: {', '.join(missing)}")
    return list(load_certs_from_pemder([str(p) for p in paths]))


def signer_roots(cert: x509.Certificate, others: list[x509.Certificate]) -> list[x509.Certificate]:
    """Self-signed certificates of the signer's own chain: enough to check expiry and revocation."""
    return [c for c in others if c.self_signed and c.dump() != cert.dump()]


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


def build_context(
    roots: list[x509.Certificate], others: list[x509.Certificate], *, hard_fail: bool
) -> ValidationContext:
    return ValidationContext(
        trust_roots=roots,
        other_certs=others,
        allow_fetching=True,
        revocation_mode="hard-fail" if hard_fail else "soft-fail",
    )


def check_signer(cert: x509.Certificate, context: ValidationContext, others: list[x509.Certificate]) -> None:
    """Validate the signer's chain now (revocation included, per the context's mode) or raise."""
    check_validity_period(cert)
    validator = CertificateValidator(cert, intermediate_certs=others, validation_context=context)
    try:
        asyncio.run(_validate(validator, context))
    except RevokedError as exc:
        raise SigningError(f"signer certificate is revoked: {describe(cert)}") from exc
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
        await context.aclose()  # release the HTTP session inside the loop that opened it
