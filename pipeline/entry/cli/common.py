"""What every command shares: consoles, the acting user, JSON output, option parsing, one-line errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from rich.console import Console

from pipeline.app.context import Context
from pipeline.core.actor import Actor
from pipeline.core.settings import Settings, load_settings

out = Console()
err = Console(stderr=True)
EXIT_PARTIAL = 3
STATE: dict[str, str | None] = {"as": None}


class CliError(Exception):
    """A failure to report as one line on stderr."""


def settings() -> Settings:
    from pipeline.core.logs import setup_logging

    loaded = load_settings()
    setup_logging(loaded.log_dir, loaded.log.level)
    return loaded


@contextmanager
def session() -> Iterator[tuple[Context, Actor]]:
    """The composition root for one command, and the user it acts as (`--as`, ARCHIVE_USER or the operator)."""
    import os

    from pipeline.app.users import resolve_actor

    ctx = Context(settings())
    try:
        yield ctx, resolve_actor(ctx, STATE["as"] or os.environ.get("ARCHIVE_USER") or None)
    finally:
        ctx.close()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def date_option(value: str | None, name: str) -> date | None:
    if not value:
        return None
    from pipeline.core.dates import parse_date

    try:
        return parse_date(value)
    except ValueError as exc:
        raise CliError(f"{name}: {exc}") from None


def origin_option(value: str | None) -> str | None:
    if value is None:
        return None
    normalised = value.replace("-", "_").lower()
    if normalised not in {"scanned", "born_digital", "mixed"}:
        raise CliError(f"--origin {value!r}: expected scanned, born_digital or mixed")
    return normalised
