"""One configuration object for the whole service.

Read from ``$ARCHIVE_HOME/config.toml`` and then from environment variables, so a deployment can
override any value without editing files. Environment variables are named
``ARCHIVE_<SECTION>__<KEY>`` (double underscore between section and key), e.g.
``ARCHIVE_S3__ENDPOINT=127.0.0.1:9000`` or ``ARCHIVE_OCR__LANGUAGE=vie+eng``.

All state (config, local service data, index, logs, work files) lives under ``home``, so two
instances with different homes and ports never interfere.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_HOME = Path.home() / ".archive"
ENV_PREFIX = "ARCHIVE_"


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


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    home: Path = DEFAULT_HOME
    redis: RedisSettings = Field(default_factory=RedisSettings)
    s3: S3Settings = Field(default_factory=S3Settings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    sign: SignSettings = Field(default_factory=SignSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    cli: CliSettings = Field(default_factory=CliSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    services: ServicesSettings = Field(default_factory=ServicesSettings)
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
    def catalog_url(self) -> str:
        return self.catalog.url or f"sqlite:///{self.home / 'catalog.sqlite'}"

    @property
    def services_dir(self) -> Path:
        return self.home / "services"

    @property
    def work_dir(self) -> Path:
        return self.home / "work"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"


# ARCHIVE_* variables the project reads that are not settings (everything else under the prefix must be one).
ENV_NOT_SETTINGS = frozenset({
    "ARCHIVE_HOME",  # where config.toml and all state live
    "ARCHIVE_USER",  # the CLI's acting user (like --as)
    "ARCHIVE_DEBUG",  # the CLI prints tracebacks
})
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


class ConfigError(ValueError):
    """The configuration cannot be used. The message is one line: where, which key, why."""


def _section(model: type[BaseModel], key: str) -> type[BaseModel] | None:
    """The model of a section field (``redis`` → RedisSettings); None for a plain value."""
    annotation = model.model_fields[key].annotation
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _keys(model: type[BaseModel]) -> list[str]:
    return [k for k in model.model_fields if not (model is Settings and k == "home")]  # home: ARCHIVE_HOME only


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _unknown_keys(data: dict[str, Any], model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """``unknown key sign.tsa_ulr (did you mean tsa_url?)`` for every key no section declares."""
    keys = _keys(model)
    for key, value in data.items():
        if model is Settings and key == "home":
            yield "home cannot be set in config.toml (set ARCHIVE_HOME)"
        elif key not in keys:
            yield f"unknown key {prefix}{key}{_suggest(key, keys)}"
        elif (section := _section(model, key)) is not None and isinstance(value, dict):
            yield from _unknown_keys(value, section, f"{prefix}{key}.")


def env_names() -> list[str]:
    """Every ``ARCHIVE_*`` variable that sets a setting (``ARCHIVE_REDIS__PORT`` …)."""
    names = []
    for key in _keys(Settings):
        section = _section(Settings, key)
        subkeys = [f"{key}__{sub}" for sub in _keys(section)] if section is not None else [key]
        names.extend(ENV_PREFIX + name.upper() for name in subkeys)
    return names


def _env_path(name: str) -> tuple[str, ...] | None:
    """``ARCHIVE_REDIS__PORT`` → ("redis", "port"); None when no setting has that name."""
    path = tuple(name[len(ENV_PREFIX) :].lower().split("__"))
    model: type[BaseModel] | None = Settings
    for depth, part in enumerate(path):
        if model is None or part not in _keys(model):
            return None
        model = _section(model, part)
        if depth == len(path) - 1 and model is not None:
            return None  # a whole section: set its keys one by one
    return path


def _env_value(path: tuple[str, ...], value: str) -> Any:
    model: type[BaseModel] = Settings
    for part in path[:-1]:
        model = _section(model, part) or model
    if model.model_fields[path[-1]].annotation is bool and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    return value


def _env_overrides(environ: dict[str, str]) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """The settings the environment sets, and which variable set each (path → name)."""
    data: dict[str, Any] = {}
    sources: dict[tuple[str, ...], str] = {}
    unknown = []
    for name, value in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name in ENV_NOT_SETTINGS:
            continue
        path = _env_path(name)
        if path is None:
            unknown.append(f"environment {name}: not a setting{_suggest(name, env_names())}")
            continue
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _env_value(path, value)
        sources[path] = name
    if unknown:
        raise ConfigError("; ".join(unknown))
    return data, sources


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


_REASONS = {
    "int_parsing": "must be an integer", "int_type": "must be an integer",
    "int_from_float": "must be an integer", "float_parsing": "must be a number", "float_type": "must be a number",
    "bool_parsing": "must be true or false", "bool_type": "must be true or false",
    "string_type": "must be a string", "list_type": "must be a list",
    "model_type": "must be a section ([table])", "model_attributes_type": "must be a section ([table])",
    "dict_type": "must be a table", "extra_forbidden": "unknown key", "missing": "is required",
}


def _reason(error: Any) -> str:
    if error["type"] in _REASONS:
        return _REASONS[error["type"]]
    if error["type"] == "value_error" and "error" in (error.get("ctx") or {}):
        return str(error["ctx"]["error"])
    msg = str(error["msg"])
    return msg[:1].lower() + msg[1:]


def _config_error(exc: ValidationError, config_label: str, sources: dict[tuple[str, ...], str]) -> ConfigError:
    """One line: ``<source>: <dotted key>: <reason>`` per problem, the source being the variable that set
    the key (``environment ARCHIVE_REDIS__PORT``) or the config file."""
    problems = []
    for error in exc.errors():
        loc = tuple(str(part) for part in error["loc"])
        names = [name for path, name in sources.items() if loc[: len(path)] == path]
        source = f"environment {names[0]}" if names else config_label
        problems.append(f"{source}: {'.'.join(loc)}: {_reason(error)}")
    return ConfigError("; ".join(problems))


def _read_toml(config_file: Path) -> dict[str, Any]:
    try:
        with config_file.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        found = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", str(exc))
        if found:
            reason, line, column = found.groups()
            raise ConfigError(f"{config_file}: line {line}: {reason[:1].lower()}{reason[1:]} "
                              f"(column {column})") from None
        raise ConfigError(f"{config_file}: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{config_file}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{config_file}: cannot read: {exc.strerror}") from None


def home_from_env(environ: dict[str, str] | None = None) -> Path:
    environ = dict(os.environ) if environ is None else environ
    return Path(environ.get("ARCHIVE_HOME") or DEFAULT_HOME).expanduser().resolve()


def load_settings(home: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Settings from ``<home>/config.toml`` overlaid with ``ARCHIVE_*`` environment variables.

    Raises ConfigError (one line naming the file or variable, the key and the reason) for a malformed
    file, an unknown key or variable, or a value of the wrong type."""
    environ = dict(os.environ) if environ is None else environ
    home = (home or home_from_env(environ)).expanduser().resolve()
    data: dict[str, Any] = {}
    config_file = home / "config.toml"
    if config_file.is_file():
        data = _read_toml(config_file)
        unknown = list(_unknown_keys(data, Settings))
        if unknown:
            raise ConfigError("; ".join(f"{config_file}: {problem}" for problem in unknown))
    overrides, sources = _env_overrides(environ)
    data = _merge(data, overrides)
    data["home"] = home
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, str(config_file), sources) from None


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
