"""The CLI as a new user meets it: every command and option explains itself, flags are shown as flags."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer

from pipeline.entry.cli import _load_plugins, app

ARCHIVE = str(Path(sys.executable).parent / "archive")


def _walk(command, path: str = "archive"):
    """Typer vendors its own click: walk by attribute, not by the ``click`` package's classes."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, f"{path} {name}")


def test_every_command_and_option_has_help() -> None:
    _load_plugins()
    missing, seen = [], []
    for path, command in _walk(typer.main.get_command(app)):
        seen.append(path)
        if not (command.help or command.short_help):
            missing.append(f"{path}: no help")
        for param in command.params:
            if param.param_type_name == "option" and not param.help:
                missing.append(f"{path} {param.opts[0]}: no help")
    assert {"archive ingest", "archive user add", "archive audit verify", "archive services up"} <= set(seen)
    assert missing == []


def test_bare_command_is_help_with_exit_0(tmp_path: Path) -> None:
    proc = subprocess.run([ARCHIVE], capture_output=True, text=True, env={"ARCHIVE_HOME": str(tmp_path),
                                                                        "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0 and "Usage:" in proc.stdout and "Error" not in proc.stderr
    flags = subprocess.run([ARCHIVE, "stats", "--help"], capture_output=True, text=True).stdout
    assert "--json " in flags and "<bool>" not in flags and "BOOLEAN" not in flags


def test_usage_errors_are_clicks_not_tracebacks(tmp_path: Path) -> None:
    env = {"ARCHIVE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for args in (["stats", "--bogus"], ["search"]):
        proc = subprocess.run([ARCHIVE, *args], capture_output=True, text=True, env=env)
        assert proc.returncode == 2 and "Error:" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
