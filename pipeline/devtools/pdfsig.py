"""poppler's ``pdfsig`` as an independent second validator (NSS-based, unrelated to pyHanko).

``pdfsig`` exits 0 even for a tampered file, so its verdict is read from the per-signature lines
"Signature Validation: ..." and "Certificate Validation: ...". Trust comes from an NSS database that
``certutil`` fills with the given root certificates (trust flags ``CT,C,C``).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.sign.model import SigningError

SIGNATURE_VALID = "Signature is Valid."
CERTIFICATE_TRUSTED = "Certificate is Trusted."
_MARKER = "roots.sha256"
# pdfsig's "- Key: value" lines → PdfsigSignature attributes
_FIELDS = {
    "Signature Field Name": "field_name",
    "Signer Certificate Common Name": "signer",
    "Signing Time": "signing_time",
    "Signature Type": "signature_type",
    "Signature Validation": "signature_status",
    "Certificate Validation": "certificate_status",
}
_PEM_RE = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


@dataclass
class PdfsigSignature:
    number: int
    field_name: str = ""
    signer: str = ""
    signing_time: str = ""
    signature_type: str = ""
    signature_status: str = ""
    certificate_status: str = ""
    total_document_signed: bool = False

    @property
    def valid(self) -> bool:
        return self.signature_status == SIGNATURE_VALID

    @property
    def trusted(self) -> bool:
        return self.certificate_status == CERTIFICATE_TRUSTED

    @property
    def is_document_timestamp(self) -> bool:
        """Document timestamps (B-LTA): poppler 22.12 lists them with type "unknown" and cannot
        validate them ("Unable to validate this type of signature"); pyHanko checks them."""
        return "RFC3161" in self.signature_type.upper() or self.signature_type == "unknown"


@dataclass
class PdfsigResult:
    returncode: int
    signatures: list[PdfsigSignature] = field(default_factory=list)
    output: str = ""

    @property
    def signer_signatures(self) -> list[PdfsigSignature]:
        """Signatures proper (document timestamps excluded)."""
        return [s for s in self.signatures if not s.is_document_timestamp]

    @property
    def valid(self) -> bool:
        """At least one signature proper, and every one cryptographically valid."""
        sigs = self.signer_signatures
        return bool(sigs) and all(s.valid for s in sigs)

    @property
    def trusted(self) -> bool:
        """At least one signature proper, and each one's certificate chains to a trusted root."""
        sigs = self.signer_signatures
        return bool(sigs) and all(s.trusted for s in sigs)

    @property
    def all_valid_and_trusted(self) -> bool:
        return self.valid and self.trusted


def _split_pem(data: bytes) -> list[bytes]:
    blocks = _PEM_RE.findall(data)
    return blocks if blocks else [data]  # DER file: a single certificate


def build_nss_db(nss_dir: Path, trust_roots: list[Path]) -> Path:
    """Create (or reuse, when built from the same roots) an NSS database trusting ``trust_roots``."""
    nss_dir = Path(nss_dir)
    certs = [block for root in trust_roots for block in _split_pem(Path(root).read_bytes())]
    fingerprint = hashlib.sha256(b"".join(sorted(certs))).hexdigest()
    marker = nss_dir / _MARKER
    if marker.is_file() and marker.read_text().strip() == fingerprint:
        return nss_dir
    nss_dir.mkdir(parents=True, exist_ok=True)
    for old in nss_dir.glob("*.db"):
        old.unlink()
    _certutil(["-N", "-d", f"sql:{nss_dir}", "--empty-password"])
    with tempfile.TemporaryDirectory() as tmp:
        for i, block in enumerate(certs):
            path = Path(tmp) / f"root{i}.crt"
            path.write_bytes(block)
            ascii_flag = ["-a"] if block.startswith(b"-----BEGIN") else []
            nick = f"archive-root-{i}-{hashlib.sha256(block).hexdigest()[:12]}"
            _certutil(["-A", "-d", f"sql:{nss_dir}", "-n", nick, "-t", "CT,C,C", *ascii_flag, "-i", str(path)])
    marker.write_text(fingerprint + "\n")
    return nss_dir


def _certutil(args: list[str]) -> None:
    try:
        proc = subprocess.run(["certutil", *args], capture_output=True, text=True, timeout=60)
    except FileNotFoundError as exc:
        raise SigningError("certutil not found (Debian package libnss3-tools)") from exc
    if proc.returncode != 0:
        raise SigningError(f"certutil {args[0]} failed: {(proc.stderr or proc.stdout).strip()[:200]}")


def parse_pdfsig(output: str) -> list[PdfsigSignature]:
    sigs: list[PdfsigSignature] = []
    current: PdfsigSignature | None = None
    for raw in output.splitlines():
        line = raw.strip()
        head = re.match(r"Signature #(\d+):", line)
        if head:
            current = PdfsigSignature(number=int(head.group(1)))
            sigs.append(current)
            continue
        if current is None or not line.startswith("- "):
            continue
        item = line[2:]
        key, _, value = item.partition(": ")
        if key in _FIELDS:
            setattr(current, _FIELDS[key], value.strip())
        elif item == "Total document signed":
            current.total_document_signed = True
    return sigs


def pdfsig_check(pdf: Path, trust_roots: list[Path], nss_dir: Path) -> PdfsigResult:
    """Run ``pdfsig`` on ``pdf`` with an NSS database (built in ``nss_dir``) trusting ``trust_roots``.

    OCSP stays on: poppler 22.12 reads a stale NSS error code after certificate verification, so
    with ``-no-ocsp`` (or a failed OCSP look-up) it reports "Unknown issue with Certificate" even for
    a good chain. Certificates without an OCSP URL (the test agency certificate) check fine offline.
    """
    build_nss_db(nss_dir, trust_roots)
    cmd = ["pdfsig", "-nssdir", f"sql:{nss_dir}", str(pdf)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except FileNotFoundError as exc:
        raise SigningError("pdfsig not found (Debian package poppler-utils)") from exc
    output = proc.stdout + proc.stderr
    return PdfsigResult(returncode=proc.returncode, signatures=parse_pdfsig(proc.stdout), output=output)
