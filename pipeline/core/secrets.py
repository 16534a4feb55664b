"""Secrets: credentials and keys that must never sit in ``config.toml`` nor be inherited by subprocesses.

A secret setting (``s3.secret_key``, ``redis.password`` …, see ``SECRETS``) comes from, last one winning:

1. ``<home>/secrets/<section>.<key>``: one file per secret, owner-only (0600; a file readable by others is
   refused). `archive services up` generates the local instance's credentials here.
2. ``ARCHIVE_<SECTION>__<KEY>_FILE``: a path to a file holding it (docker secrets: ``/run/secrets/…``).
3. ``ARCHIVE_<SECTION>__<KEY>``: the value itself.

``config.toml`` naming a secret is a configuration error: it is the file people copy, diff and mail.
:func:`scrub_environment` moves secret variables out of ``os.environ`` into this module once they are read,
so that OCRmyPDF, Ghostscript, Tesseract and every other child process start without them.
"""

from __future__ import annotations

import os
import secrets as _random
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_PREFIX = "ARCHIVE_"
FILE_SUFFIX = "_FILE"
SECRETS: tuple[tuple[str, str], ...] = (
    ("s3", "access_key"),
    ("s3", "secret_key"),
    ("replica", "access_key"),
    ("replica", "secret_key"),
    ("redis", "password"),
    ("redis", "message_key"),
    ("sign", "pkcs12_password"),
    ("sign", "pkcs11_pin"),
    ("catalog", "password"),
    ("audit", "seal_key"),
)
# Generated for a local instance (`archive services up`) when not given: name → generator.
LOCAL_GENERATED = {
    "s3.access_key": lambda: "archive-" + _random.token_hex(8),
    "s3.secret_key": lambda: _random.token_urlsafe(32),
    "replica.access_key": lambda: "archive-" + _random.token_hex(8),
    "replica.secret_key": lambda: _random.token_urlsafe(32),
    "redis.password": lambda: _random.token_urlsafe(32),
    "redis.message_key": lambda: _random.token_urlsafe(32),
    "audit.seal_key": lambda: _random.token_urlsafe(32),
}
_stashed: dict[str, str] = {}  # secret variables taken out of os.environ by scrub_environment()


class SecretError(ValueError):
    """A secret cannot be read safely (one line: which file, why)."""


def dotted(section: str, key: str) -> str:
    return f"{section}.{key}"


def env_name(section: str, key: str) -> str:
    return f"{ENV_PREFIX}{section.upper()}__{key.upper()}"


def secret_env_names() -> set[str]:
    names = {env_name(s, k) for s, k in SECRETS}
    return names | {n + FILE_SUFFIX for n in names}


def in_config(data: Mapping[str, Any]) -> list[str]:
    """The secrets a config.toml sets (non-empty): each one is a problem to report."""
    found = []
    for section, key in SECRETS:
        values = data.get(section)
        if isinstance(values, Mapping) and values.get(key) not in (None, ""):
            found.append(dotted(section, key))
    catalog = data.get("catalog")
    url = catalog.get("url") if isinstance(catalog, Mapping) else None
    if isinstance(url, str) and "://" in url:
        userinfo = url.split("://", 1)[1].split("/", 1)[0].rpartition("@")[0]
        if ":" in userinfo:
            found.append("catalog.url")  # a password inside the URL
    return found


def _read_file(path: Path, private: bool) -> str:
    try:
        info = path.stat()
        if private and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SecretError(f"{path}: readable by other users (mode {stat.filemode(info.st_mode)}); "
                              f"run `chmod 600 {path}`")
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except PermissionError:
        raise SecretError(f"{path}: cannot read the secret: permission denied for uid {os.getuid()} (the file "
                          "must be readable by the user this runs as, and by nobody else)") from None
    except OSError as exc:
        raise SecretError(f"{path}: cannot read the secret: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SecretError(f"{path}: the secret is not UTF-8 text") from None


def environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment plus the secret variables scrub_environment() took out of it."""
    return {**_stashed, **(os.environ if environ is None else environ)}


def read_secrets(home: Path, environ: Mapping[str, str]) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """``({section: {key: value}}, {dotted name: where it came from})`` for every secret that is set."""
    data: dict[str, dict[str, str]] = {}
    sources: dict[str, str] = {}
    for section, key in SECRETS:
        name, var = dotted(section, key), env_name(section, key)
        candidates = [(home / "secrets" / name, True, f"secret file {home / 'secrets' / name}")]
        if environ.get(var + FILE_SUFFIX):
            candidates.append((Path(environ[var + FILE_SUFFIX]), False, f"environment {var}{FILE_SUFFIX}"))
        value = None
        for path, private, source in candidates:
            if path.is_file() or source.startswith("environment"):
                value, sources[name] = _read_file(path, private), source
        if var in environ:
            value, sources[name] = environ[var], f"environment {var}"
        if value is not None:
            data.setdefault(section, {})[key] = value
    return data, sources


def write_secret(home: Path, name: str, value: str) -> Path:
    """Write ``<home>/secrets/<name>`` owner-only (the directory 0700), replacing it atomically."""
    folder = home / "secrets"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    path = folder / name
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    os.replace(tmp, path)
    return path


def generate_missing(home: Path, present: Mapping[str, str], names: list[str]) -> list[str]:
    """Generate each of ``names`` (LOCAL_GENERATED) that no source sets; returns the ones written."""
    written = []
    for name in names:
        if not present.get(name):
            write_secret(home, name, LOCAL_GENERATED[name]())
            written.append(name)
    return written


def scrub_environment() -> None:
    """Take the secret variables out of os.environ (kept here for load_settings), so child processes
    never inherit them."""
    for name in secret_env_names():
        if name in os.environ:
            _stashed[name] = os.environ.pop(name)


def as_environment(dumped: Mapping[str, Any]) -> dict[str, str]:
    """``ARCHIVE_…`` variables carrying the secrets of a dumped Settings: for a child process of ours that
    needs them (the local worker), which scrubs them from its own environment at start."""
    out = {}
    for section, key in SECRETS:
        value = (dumped.get(section) or {}).get(key)
        if value:
            out[env_name(section, key)] = str(value)
    return out
