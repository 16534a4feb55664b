"""One configuration object for the whole service.

Read from ``$ARCHIVE_HOME/config.toml`` and then from environment variables, so a deployment can
override any value without editing files. Environment variables are named
``ARCHIVE_<SECTION>__<KEY>`` (double underscore between section and key), e.g.
``ARCHIVE_S3__ENDPOINT=127.0.0.1:9000`` or ``ARCHIVE_OCR__LANGUAGE=vie+eng``.

All state (config, local service data, index, logs, work files) lives under ``home``, so two
instances with different homes and ports never interfere.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator

DEFAULT_HOME = Path.home() / ".archive"
ENV_PREFIX = "ARCHIVE_"


class RedisSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 6390

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"


class S3Settings(BaseModel):
    """Object storage: MinIO in production, SeaweedFS's S3 server locally. Plain S3 APIs only."""

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


class OcrSettings(BaseModel):
    language: str = "vie"  # Tesseract language(s); `vie` first when combined (measured CER).
    deskew: bool = True
    rotate_pages: bool = True
    pdfa_part: str = "2"  # PDF/A-2b
    timeout_s: int = 600
    jobs: int = 1  # Tesseract jobs inside one OCR process; workers give parallelism.


class SignSettings(BaseModel):
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
    engine: str = "tantivy"  # or "whoosh" (pure Python, the design's first engine)
    index_dir: str = ""  # empty: <home>/index/<engine>


class CliSettings(BaseModel):
    # The local operator `admin` (no --as / ARCHIVE_USER): whoever can read this config can read the bucket.
    operator_clearance: str = "tuyet-mat"


class AuditSettings(BaseModel):
    # Reads of documents at or above this classification are audit events (Mật and above by default).
    read_audit_from: str = "mat"


class LogSettings(BaseModel):
    level: str = "info"  # JSON lines in <home>/logs/archive.jsonl; warnings and errors also on the terminal


class Settings(BaseModel):
    home: Path = DEFAULT_HOME
    redis: RedisSettings = Field(default_factory=RedisSettings)
    s3: S3Settings = Field(default_factory=S3Settings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    sign: SignSettings = Field(default_factory=SignSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    cli: CliSettings = Field(default_factory=CliSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    # Execution: "celery" submits to workers via Redis; "local" runs stages in-process.
    executor: str = "celery"

    # ---- derived paths -------------------------------------------------------------------------
    @property
    def pki_dir(self) -> Path:
        return self.home / "pki"

    @property
    def pkcs12_path(self) -> Path:
        return Path(self.sign.pkcs12_path) if self.sign.pkcs12_path else self.pki_dir / "agency.p12"

    @property
    def trust_roots(self) -> list[Path]:
        if self.sign.trust_roots:
            return [Path(p) for p in self.sign.trust_roots]
        return [self.pki_dir / "root-ca.pem"]

    @property
    def index_dir(self) -> Path:
        if self.search.index_dir:
            return Path(self.search.index_dir)
        return self.home / "index" / self.search.engine

    @property
    def services_dir(self) -> Path:
        return self.home / "services"

    @property
    def work_dir(self) -> Path:
        return self.home / "work"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"


def _coerce(value: str) -> Any:
    low = value.strip().lower()
    if low in {"true", "yes", "on"}:
        return True
    if low in {"false", "no", "off"}:
        return False
    return value


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == "ARCHIVE_HOME":
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _coerce(value)
    return data


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def home_from_env(environ: dict[str, str] | None = None) -> Path:
    environ = dict(os.environ) if environ is None else environ
    return Path(environ.get("ARCHIVE_HOME") or DEFAULT_HOME).expanduser().resolve()


def load_settings(home: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Settings from ``<home>/config.toml`` overlaid with ``ARCHIVE_*`` environment variables."""
    environ = dict(os.environ) if environ is None else environ
    home = (home or home_from_env(environ)).expanduser().resolve()
    data: dict[str, Any] = {}
    config_file = home / "config.toml"
    if config_file.is_file():
        with config_file.open("rb") as fh:
            data = tomllib.load(fh)
    data = _merge(data, _env_overrides(environ))
    data["home"] = home
    return Settings.model_validate(data)


def write_settings(settings: Settings) -> Path:
    """Write the non-default parts a local instance needs (ports, credentials) to config.toml."""
    settings.home.mkdir(parents=True, exist_ok=True)
    path = settings.home / "config.toml"
    lines: list[str] = []
    dumped = settings.model_dump(mode="json", exclude={"home"})
    for key, value in dumped.items():
        if not isinstance(value, dict):
            lines.append(f"{key} = {_toml_value(value)}")
    for section, values in dumped.items():
        if isinstance(values, dict):
            lines.append(f"\n[{section}]")
            lines.extend(f"{k} = {_toml_value(v)}" for k, v in values.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
