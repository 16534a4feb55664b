"""The sections of the configuration (``[redis]``, ``[s3]``, ``[sign]`` …); :mod:`pipeline.core.settings`
assembles them into the one Settings object and loads it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class RedisSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = "127.0.0.1"
    port: int = 6390

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"


class S3Settings(BaseModel):
    """Object storage: MinIO in production, SeaweedFS's S3 server locally. Plain S3 APIs only."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str = "127.0.0.1:8333"
    access_key: str = "archive-local"
    secret_key: str = "archive-local-secret"
    bucket: str = "archive"
    secure: bool = False
    region: str = "us-east-1"
    # Local S3 server (SeaweedFS `weed mini`) managed by `archive services`; off for MinIO deployments.
    manage_local: bool = True
    filer_port: int = 8888
    master_port: int = 9333
    volume_port: int = 8080
    admin_port: int = 0  # weed mini's admin listener (unused); 0: a free port picked at start

    @field_validator("endpoint")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if "://" in value:
            raise ValueError("give host:port without a scheme (set s3.secure = true for https)")
        return value


class OcrSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: str = "vie"  # Tesseract language(s); `vie` first when combined (measured CER).
    deskew: bool = True
    rotate_pages: bool = True
    pdfa_part: str = "2"  # PDF/A-2b
    timeout_s: int = 600
    jobs: int = 1  # Tesseract jobs inside one OCR process; workers give parallelism.


class SignSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    pkcs12_path: str = ""  # empty: <home>/pki/agency.p12 (made by `archive cert init-test`)
    pkcs12_password: str = ""
    trust_roots: list[str] = Field(default_factory=list)  # PEM files; empty: <home>/pki/root-ca.pem
    agency_name: str = ""  # empty: the certificate's organisation (O=)
    reason: str = "Sao y bản chính / Số hóa từ bản giấy"
    location: str = "Việt Nam"
    level: str = ""  # B-B, B-T, B-LT, B-LTA; empty: B-LTA when a TSA is known, else B-B
    tsa_url: str = ""  # RFC 3161 TSA; empty: B-B only (`archive cert init-test` sets the TEST TSA)
    field_name: str = "AgencySignature"
    pkcs11_module: str = ""  # PKCS#11 token (USB token / HSM) instead of a PKCS#12 file
    pkcs11_token_label: str = ""
    pkcs11_key_label: str = ""
    pkcs11_pin: str = ""  # secret: set through ARCHIVE_SIGN__PKCS11_PIN
    chain: list[str] = Field(default_factory=list)  # extra chain PEMs for tokens
    visible_scanned: bool = True  # Decree 30/2020 stamp on copies digitized from paper
    visible_born_digital: bool = False
    seal_png: str = ""  # agency seal (transparent PNG); required for the Decree 30 stamp
    test_material: bool = False  # true only in a TEST configuration (`archive cert init-test`)
    stamp_text: str = ""
    revocation_mode: str = "soft-fail"
    responders_host: str = "127.0.0.1"  # TEST PKI responders (OCSP, CRL, TSA), served by `archive services`
    responders_port: int = 9790
    renewal_within_days: int = 365

    @field_validator("trust_roots", "chain", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        # Environment variables carry lists as comma-separated paths.
        return [p.strip() for p in value.split(",") if p.strip()] if isinstance(value, str) else value


class SearchSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    engine: str = "tantivy"  # or "whoosh" (pure Python, the design's first engine)
    index_dir: str = ""  # empty: <home>/index/<engine>


class CatalogSettings(BaseModel):
    """The derived relational catalog: SQLite inside ARCHIVE_HOME by default, PostgreSQL in production."""

    model_config = ConfigDict(extra="forbid")
    url: str = ""  # empty: sqlite:///<home>/catalog.sqlite; e.g. postgresql://archive:…@db:5432/archive


class CliSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # The local operator `admin` (no --as / ARCHIVE_USER): whoever can read this config can read the bucket.
    operator_clearance: str = "tuyet-mat"


class AuditSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Reads of documents at or above this classification are audit events (Mật and above by default).
    read_audit_from: str = "mat"


class LogSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: str = "info"  # JSON lines in <home>/logs/archive.jsonl; warnings and errors also on the terminal


class ServicesSettings(BaseModel):
    """`archive services up` on one machine (pipeline.devtools.services)."""

    model_config = ConfigDict(extra="forbid")
    local_worker: bool = True  # also start a Celery worker, so `archive ingest` needs no second terminal
    worker_concurrency: int = 0  # its worker processes; 0: one per core
