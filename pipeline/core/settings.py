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
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.core import secrets
from pipeline.core.settings_scan import ScanSettings  # re-exported
from pipeline.core.settings_sections import (  # re-exported: callers import them from here
    ApiSettings,
    AuditSettings,
    CatalogSettings,
    CliSettings,
    FixitySettings,
    IntakeSettings,
    LogSettings,
    OcrSettings,
    RedisSettings,
    ReplicaSettings,
    RetentionSettings,
    S3Settings,
    SearchSettings,
    ServicesSettings,
    SignSettings,
    StatsSettings,
)

DEFAULT_HOME = Path.home() / ".archive"
ENV_PREFIX = "ARCHIVE_"


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    home: Path = DEFAULT_HOME
    redis: RedisSettings = Field(default_factory=RedisSettings)
    s3: S3Settings = Field(default_factory=S3Settings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    scan: ScanSettings = Field(default_factory=ScanSettings)
    sign: SignSettings = Field(default_factory=SignSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    cli: CliSettings = Field(default_factory=CliSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    fixity: FixitySettings = Field(default_factory=FixitySettings)
    replica: ReplicaSettings = Field(default_factory=ReplicaSettings)
    stats: StatsSettings = Field(default_factory=StatsSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
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
    def schedule_path(self) -> Path | None:
        """The retention schedule file (relative paths are under the home); None: the built-in schedule."""
        if not self.retention.schedule_file:
            return None
        path = Path(self.retention.schedule_file)
        return path if path.is_absolute() else self.home / path

    @property
    def index_dir(self) -> Path:
        if self.search.index_dir:
            return Path(self.search.index_dir)
        return self.home / "index" / self.search.engine

    @property
    def catalog_url(self) -> str:
        """The database URL, with ``catalog.password`` (a secret) added when the URL names a user only."""
        url = self.catalog.url or f"sqlite:///{self.home / 'catalog.sqlite'}"
        if self.catalog.password and "://" in url:
            scheme, rest = url.split("://", 1)
            userinfo, at, host = rest.partition("@")
            if at and ":" not in userinfo:
                url = f"{scheme}://{userinfo}:{quote(self.catalog.password, safe='')}@{host}"
        return url

    @property
    def intake_roots(self) -> list[Path]:
        """The folders workers read batches from (resolved)."""
        roots = self.intake.roots or [str(self.home / "intake")]
        return [Path(p).expanduser().resolve() for p in roots]

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"

    @property
    def services_dir(self) -> Path:
        return self.home / "services"

    @property
    def work_dir(self) -> Path:
        return self.home / "work"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def run_dir(self) -> Path:
        """Lock files of this machine's running processes (pipeline.ocr.slots)."""
        return self.home / "run"


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
    names: list[str] = []
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
    secret_names = secrets.secret_env_names()
    for name, value in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name in ENV_NOT_SETTINGS or name in secret_names:
            continue  # secrets are read by pipeline.core.secrets
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


def _secret_in_config(home: Path, name: str) -> str:
    if name == "catalog.url":
        return (f"catalog.url holds a password and config.toml must hold no secret: give the URL without it "
                f"and the password in {home / 'secrets' / 'catalog.password'} (mode 600) or the environment")
    return (f"{name} is a secret and config.toml must hold none: put it in {home / 'secrets' / name} "
            "(mode 600) or the environment")


def home_from_env(environ: dict[str, str] | None = None) -> Path:
    environ = dict(os.environ) if environ is None else environ
    return Path(environ.get("ARCHIVE_HOME") or DEFAULT_HOME).expanduser().resolve()


def load_settings(home: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Settings from ``<home>/config.toml`` overlaid with ``ARCHIVE_*`` environment variables.

    Raises ConfigError (one line naming the file or variable, the key and the reason) for a malformed
    file, an unknown key or variable, or a value of the wrong type."""
    environ = secrets.environment(environ)
    home = (home or home_from_env(environ)).expanduser().resolve()
    data: dict[str, Any] = {}
    config_file = home / "config.toml"
    if config_file.is_file():
        data = _read_toml(config_file)
        unknown = list(_unknown_keys(data, Settings))
        unknown += [_secret_in_config(home, name) for name in secrets.in_config(data)]
        if unknown:
            raise ConfigError("; ".join(f"{config_file}: {problem}" for problem in unknown))
    overrides, sources = _env_overrides(environ)
    try:
        secret_values, secret_sources = secrets.read_secrets(home, environ)
    except secrets.SecretError as exc:
        raise ConfigError(str(exc)) from None
    sources |= {tuple(name.split(".")): where for name, where in secret_sources.items()}
    data = _merge(_merge(data, overrides), secret_values)
    data["home"] = home
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, str(config_file), sources) from None


def write_settings(settings: Settings) -> Path:
    """Write a whole configuration: config.toml with every setting but the secrets, and each secret that
    is set to its owner-only file in ``<home>/secrets``. (To change a few keys of an existing
    configuration without copying the environment into it, use :func:`update_config`.)"""
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    dumped = settings.model_dump(mode="json", exclude={"home"})
    for section, key in secrets.SECRETS:
        value = dumped.get(section, {}).pop(key, "")
        if value:
            secrets.write_secret(settings.home, secrets.dotted(section, key), value)
    return _write_toml(settings.home / "config.toml", dumped)


def update_config(home: Path, changes: dict[str, Any]) -> Path:
    """Set ``{"section.key": value}`` in config.toml, keeping everything else the file says (and nothing
    the environment says). Secrets go to ``<home>/secrets`` instead."""
    path = home / "config.toml"
    data = _read_toml(path) if path.is_file() else {}
    secret_names = {secrets.dotted(s, k) for s, k in secrets.SECRETS}
    for name, value in changes.items():
        if name in secret_names:
            secrets.write_secret(home, name, str(value))
            continue
        section, _, key = name.rpartition(".")
        (data.setdefault(section, {}) if section else data)[key] = value
    return _write_toml(path, data)


def _write_toml(path: Path, dumped: dict[str, Any]) -> Path:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    lines: list[str] = []
    for key, value in dumped.items():
        if not isinstance(value, dict):
            lines.append(f"{key} = {_toml_value(value)}")
    for section, values in dumped.items():
        if isinstance(values, dict):
            lines.append(f"\n[{section}]")
            lines.extend(f"{k} = {_toml_value(v)}" for k, v in values.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
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
