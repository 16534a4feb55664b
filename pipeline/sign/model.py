"""Plain data shapes of the signature stage: what callers pass in and what they get back.

Kept apart from the pyHanko code so the rest of the pipeline (and the CLI) can use them without
importing any signing machinery.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.core.dates import VIETNAM

LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")
VN_TZ = VIETNAM  # Decree 30: signing time shown in Vietnam time


class SigningError(Exception):
    """Signing or verification could not be carried out; the message is a one-line human reason."""


class StampNotPlaced(SigningError):
    """Page 1 cannot carry the visible stamp (turned by /Rotate, or smaller than the stamp); nothing else is
    wrong, so the caller may sign without it and say so."""


def first_line(exc: BaseException, or_type: bool = False) -> str:
    """The first line of ``exc``'s message (library messages span several); empty, or the exception's type
    name with ``or_type``, when it has none."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else (type(exc).__name__ if or_type else "")


@dataclass(frozen=True)
class SignerConfig:
    """Where the agency key lives: a PKCS#12 file, or a PKCS#11 token (when ``pkcs11_module`` is set).

    Secrets (password, PIN) are excluded from ``repr`` so they never reach logs by accident.
    """

    pkcs12_path: Path | None = None
    pkcs12_password: str = field(default="", repr=False)
    pkcs11_module: str = ""  # path of the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so
    pkcs11_token_label: str = ""
    pkcs11_key_label: str = ""  # label of the key and of its certificate on the token
    pkcs11_pin: str = field(default="", repr=False)
    # Extra chain certificates (PEM/DER) for tokens that only hold the signer certificate.
    chain: tuple[Path, ...] = ()

    @property
    def uses_pkcs11(self) -> bool:
        return bool(self.pkcs11_module)


@dataclass(frozen=True)
class SignPolicy:
    """How to sign: PAdES level, field, visible Decree 30 stamp, where the TSA and trust anchors are."""

    level: str = "B-B"  # B-B, B-T, B-LT, B-LTA
    field_name: str = "AgencySignature"
    reason: str = ""
    location: str = ""
    agency_name: str = ""
    visible: bool = False  # Decree 30/2020 stamp on page 1, top right
    tsa_url: str = ""  # RFC 3161 time-stamping authority; required from B-T up
    # Trust anchors used to check the signer certificate before signing (revoked / expired refused);
    # empty: the self-signed certificates of the signer's own chain.
    trust_roots: tuple[Path, ...] = ()
    seal_png: Path | None = None  # transparent PNG of the agency seal; required for a visible stamp
    stamp_text: str = ""  # extra line(s) under the agency name; "" for none
    stamp_box: tuple[float, float, float, float] | None = None  # x1, y1, x2, y2 in pt; None: top right
    stamp_width: float = 200.0  # pt, used when stamp_box is None
    stamp_height: float = 80.0
    stamp_margin: float = 18.0
    stamp_font: Path | None = None  # TTF with Vietnamese glyphs; None: DejaVu Sans from Debian
    utc_offset_hours: int = 7  # Vietnam time (+07:00) for the visible signing time
    # The signer's revocation status must be established before signing, at every level: "hard-fail"
    # (an OCSP/CRL answer is required wherever the chain names a source) or "require" (an answer for
    # every certificate). There is no soft-fail: unreachable responders mean no signature.
    revocation_mode: str = "hard-fail"
    # TEST PKI certificates (every subject says "TEST") sign only where the configuration says so.
    allow_test_material: bool = True


@dataclass
class SignatureInfo:
    """Facts about one signature just made, for the document record (never any key material)."""

    level: str
    field_name: str
    signer_subject: str
    signer_cert_sha256: str
    signed_at: datetime
    tools: dict[str, str]
    visible: bool = False
    timestamped: bool = False


STATUS_VALID, STATUS_INVALID, STATUS_INDETERMINATE = "valid", "invalid", "indeterminate"
REVOCATION_UNCHECKED = "revocation could not be checked"  # in the problem line of an indeterminate signature


@dataclass
class VerificationReport:
    """Outcome of checking every signature of a PDF; ``valid`` is the single bottom line.

    ``status`` says why it is not valid: "invalid" (broken, altered, untrusted, revoked, …) or
    "indeterminate" (everything checks except the signer's revocation status, which could not be
    established: no OCSP/CRL answer and no embedded revocation data covering the signer).
    """

    valid: bool = False
    status: str = STATUS_INVALID  # "valid", "invalid" or "indeterminate"
    intact: bool = False
    trusted: bool = False
    covers_whole_document: bool = False
    level: str = ""
    ltv: bool = False
    signer: str = ""
    signed_at: datetime | None = None
    pdfa: str = ""
    problems: list[str] = field(default_factory=list)
    signatures: int = 0
    timestamp_valid: bool | None = None  # None: no signature timestamp present
    timestamp_at: datetime | None = None
    revocation: str = ""  # "good (…)", "revoked", "unknown: …" (see status "indeterminate")
    trust_anchor: str = ""
    chain: list[str] = field(default_factory=list)
    document_timestamps: int = 0
    sha256: str = ""
    checksum_ok: bool | None = None  # None: no stored checksum to compare with
    dss_damaged: bool = False

    def summary(self) -> str:
        """Human-readable, one screen: verdict first, then the facts, then the problems."""

        def yn(value: bool | None) -> str:
            return "-" if value is None else ("yes" if value else "NO")

        when = self.signed_at.astimezone(VN_TZ).isoformat() if self.signed_at else "-"
        lines = [
            f"{self.status.upper()}  PAdES {self.level or '-'}  PDF/A {self.pdfa or 'none'}",
            f"signer       {self.signer or '-'}",
            f"signed at    {when}",
            f"trust anchor {self.trust_anchor or '-'}",
            f"intact {yn(self.intact)} · covers document {yn(self.covers_whole_document)} · "
            f"trusted {yn(self.trusted)} · timestamp {yn(self.timestamp_valid)} · LTV (offline) {yn(self.ltv)}",
            f"revocation   {self.revocation or '-'} · document timestamps {self.document_timestamps}"
            f" · checksum {yn(self.checksum_ok)}",
        ]
        lines += [f"problem: {p}" for p in self.problems]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("signed_at", "timestamp_at"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        return data


@dataclass(frozen=True)
class TestPki:
    """A throwaway test PKI in one directory (all names say TEST); never for real documents."""

    __test__ = False  # not a pytest test class

    directory: Path
    root_ca: Path  # PEM of the TEST root CA: the trust anchor
    agency_p12: Path  # agency signing certificate + key + chain
    password: str = field(repr=False)
    intermediate_ca: Path | None = None
    agency_ocsp_p12: Path | None = None  # same agency key, certificate that names the OCSP responder
    revoked_p12: Path | None = None
    expired_p12: Path | None = None
    config: Path | None = None  # certomancer configuration of the responders
    responder_url: str = ""  # e.g. http://127.0.0.1:9790, baked into the certificates
    arch: str = "archive-test"

    @property
    def tsa_url(self) -> str:
        return f"{self.responder_url}/{self.arch}/tsa/tsa"

    @property
    def ocsp_url(self) -> str:
        return f"{self.responder_url}/{self.arch}/ocsp/interm"

    @property
    def crl_url(self) -> str:
        return f"{self.responder_url}/{self.arch}/crls/interm/latest.crl"

    @property
    def trust_roots(self) -> list[Path]:
        return [self.root_ca]
