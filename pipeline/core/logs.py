"""Structured logs: JSON lines in ``<home>/logs/archive.jsonl`` (one object per event, with batch and document
ids when known) and readable one-line warnings on the terminal. No bare tracebacks on the terminal: they go to
the JSON log, where an operator can find them."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

FIELDS = ("batch", "doc_id", "actor")
_configured: set[str] = set()


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value:
                data[name] = value
        if record.exc_info:
            data["traceback"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class TerminalFormatter(logging.Formatter):
    """``archive: warning: message [batch …]`` — one line, no traceback."""

    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(f"{n}={str(getattr(record, n))[:12]}" for n in FIELDS[:2] if getattr(record, n, None))
        return f"archive: {record.levelname.lower()}: {record.getMessage()}" + (f" [{ids}]" if ids else "")


def setup_logging(log_dir: Path, level: str = "info", terminal: bool = True) -> Path:
    """Idempotent per log folder. Returns the JSON log path."""
    path = log_dir / "archive.jsonl"
    root = logging.getLogger("archive")
    if str(path) in _configured:
        return path
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    root.propagate = False
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(fd)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonLinesFormatter())
    root.addHandler(handler)
    if terminal:
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(logging.WARNING)
        console.setFormatter(TerminalFormatter())
        console.addFilter(lambda record: getattr(record, "terminal", True))
        root.addHandler(console)
    _configured.add(str(path))
    return path
