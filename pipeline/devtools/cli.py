"""Development commands, plugged into `archive` through the ``archive.cli`` entry point:
`archive services up|down|status`, `archive cert init-test`, `archive sample`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from pipeline.core.settings import Settings, load_settings, update_config
from pipeline.entry.cli.common import print_json

services_app = typer.Typer(no_args_is_help=True, help="Local services (Redis, S3 server) on loopback.")
cert_app = typer.Typer(no_args_is_help=True, help="Certificates for signing.")
out = Console()
JSON_OPTION = typer.Option("--json", help="Print the status as JSON.")


def register(app: typer.Typer) -> None:
    app.add_typer(services_app, name="services")
    app.add_typer(cert_app, name="cert")
    app.command()(sample)


def _settings() -> Settings:
    return load_settings()


# ---- services -----------------------------------------------------------------------------------------
@services_app.command("up")
def services_up_cmd(as_json: Annotated[bool, JSON_OPTION] = False) -> None:
    """Start Redis and the local S3 server (idempotent)."""
    from pipeline.devtools.services.manager import services_up

    status = services_up(_settings())
    print_json(status) if as_json else _print_status(status)


@services_app.command("down")
def services_down_cmd(as_json: Annotated[bool, JSON_OPTION] = False) -> None:
    """Stop the local services (idempotent)."""
    from pipeline.devtools.services.manager import services_down

    status = services_down(_settings())
    print_json(status) if as_json else _print_status(status)


@services_app.command("status")
def services_status_cmd(as_json: Annotated[bool, JSON_OPTION] = False) -> None:
    """Show whether the local services run. Exits 1 when one is down."""
    from pipeline.devtools.services.manager import services_status

    status = services_status(_settings())
    print_json(status) if as_json else _print_status(status)
    if any(s.get("running") is False for s in status.values()):
        raise typer.Exit(1)


def _print_status(status: dict[str, Any]) -> None:
    for name, info in status.items():
        state = {True: "[green]running[/]", False: "[red]stopped[/]", None: "external"}[info.get("running")]
        where = info.get("url") or info.get("endpoint") or ""
        out.print(f"{name:8} {state}  {where}")


# ---- certificates and samples -------------------------------------------------------------------------
@cert_app.command("init-test")
def cert_init_test(
    directory: Annotated[Path | None, typer.Argument(help="Where to write it (default: ARCHIVE_HOME/pki).")] = None,
) -> None:
    """Create a throwaway TEST CA and agency certificate (never for production) and use it for signing."""
    from pipeline.devtools.testconfig import test_pki_changes
    from pipeline.devtools.testpki import init_test_pki

    settings = _settings()
    target = (directory or settings.pki_dir).resolve()
    pki = init_test_pki(target, host=settings.sign.responders_host, port=settings.sign.responders_port)
    update_config(settings.home, test_pki_changes(pki))  # only these keys: never the environment's
    out.print(f"TEST PKI written to {target} (not for production); signing now uses {pki.agency_p12}")


def sample(directory: Annotated[Path, typer.Argument(help="Where to write the sample batch.")]) -> None:
    """Generate the sample batch: Vietnamese scanned pages and born-digital PDFs with a manifest."""
    from pipeline.devtools.samples import make_sample_batch

    path = make_sample_batch(directory)
    out.print(f"Sample batch written to {path}")


