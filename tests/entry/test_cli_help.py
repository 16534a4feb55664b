"""The CLI as a new user meets it: every command and option explains itself, flags are shown as flags."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import typer

from pipeline.entry.cli import _load_plugins, app

ARCHIVE = str(Path(sys.executable).parent / "archive")


def _walk(command: click.Command, path: str = "archive"):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _walk(sub, f"{path} {name}")


def test_every_command_and_option_has_help() -> None:
    _load_plugins()
    missing = []
    for path, command in _walk(typer.main.get_command(app)):
        if not (command.help or command.short_help):
            missing.append(f"{path}: no help")
        for param in command.params:
            if isinstance(param, click.Option) and not param.help:
                missing.append(f"{path} {param.opts[0]}: no help")
    assert missing == []


def test_bare_command_is_help_with_exit_0(tmp_path: Path) -> None:
    proc = subprocess.run([ARCHIVE], capture_output=True, text=True, env={"ARCHIVE_HOME": str(tmp_path),
                                                                        "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0 and "Usage:" in proc.stdout and "Error" not in proc.stderr
    flags = subprocess.run([ARCHIVE, "stats", "--help"], capture_output=True, text=True).stdout
    assert "--json " in flags and "<bool>" not in flags and "BOOLEAN" not in flags
