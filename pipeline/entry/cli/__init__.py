"""The `archive` command: a thin door onto the application layer (:mod:`pipeline.app`).

Exit codes: 0 success; 1 error (one-line reason on stderr), or an ingest left documents failed or pending;
2 a usage error; 3 an ingest finished but some documents were quarantined, or the manifest had bad rows (and
`quarantine retry`: the input is still quarantined).
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import PackageNotFoundError, entry_points, version
from typing import Annotated

import typer

from pipeline.entry.cli import (
    admin,
    batch,
    disposal,
    docs,
    dossier,
    export,
    find,
    fixity,
    ingest,
    quarantine,
    replicas,
    report,
    retention,
    separator,
    serve,
    signing,
    stats,
    watch,
)
from pipeline.entry.cli.common import STATE, CliError
from pipeline.entry.cli.metrics import metrics as metrics_command

app = typer.Typer(add_completion=False, rich_markup_mode=None,
                  help="Digitization and archival service: ingest, OCR, sign, store, search, audit.")


def _version(value: bool) -> None:
    if value:
        try:
            number = version("archive-pipeline")
        except PackageNotFoundError:
            number = "unknown"
        typer.echo(f"archive {number}")
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    as_user: Annotated[str | None, typer.Option("--as", metavar="NAME", envvar="ARCHIVE_USER",
                                                help="Act as this user (default: the local operator admin).")] = None,
    show_version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Print the version and exit.")] = False,
) -> None:
    """Digitization and archival service: ingest, OCR, sign, store, search, audit."""
    STATE["as"] = as_user
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


for command in (ingest.ingest, ingest.worker, find.search, find.reindex, docs.show, docs.get, docs.edit, docs.verify,
                find.publish_index, stats.stats, report.report, signing.sign, signing.renew, serve.serve):
    app.command()(command)
app.add_typer(admin.user_app, name="user")
app.add_typer(admin.audit_app, name="audit")
app.add_typer(batch.batch_app, name="batch")
app.add_typer(retention.retention_app, name="retention")
app.add_typer(retention.hold_app, name="hold")
app.add_typer(export.export_app, name="export")
app.add_typer(dossier.dossier_app, name="dossier")
app.add_typer(disposal.disposal_app, name="disposal")
app.add_typer(fixity.fixity_app, name="fixity")
app.add_typer(replicas.replicas_app, name="replicas")
app.add_typer(quarantine.quarantine_app, name="quarantine")
app.command("metrics")(metrics_command)
app.command("separator")(separator.separator)
app.command("watch")(watch.watch)


def _load_plugins() -> None:
    """Command groups shipped by other packages (entry points ``archive.cli``), e.g. the development tools'
    `services`, `cert init-test` and `sample`: production code never imports them."""
    for ep in entry_points(group="archive.cli"):
        ep.load()(app)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def main() -> None:
    """Entry point: one-line errors on stderr, non-zero exit codes, details in the JSON log.

    Typer (standalone mode) handles usage errors (exit 2), ``typer.Exit`` and aborts itself: it vendors its own
    click, so catching the ``click`` package's exceptions here would never match."""
    import logging

    from pipeline.core.secrets import scrub_environment

    os.umask(0o077)  # everything the CLI writes (home, logs, index, work files) is the owner's only
    scrub_environment()  # secret variables: read by load_settings, never inherited by child processes
    logging.getLogger("archive").addHandler(logging.NullHandler())  # no handler yet: no last-resort traceback
    try:
        _load_plugins()
        app()
    except CliError as exc:
        sys.stderr.write(f"archive: error: {_one_line(exc)}\n")
        sys.exit(1)
    except Exception as exc:  # every failure gets one readable line; the traceback goes to the JSON log
        from pipeline.app.errors import AppError
        from pipeline.core.actor import AccessDenied

        expected = isinstance(exc, AppError | AccessDenied)
        logging.getLogger("archive.cli").log(
            logging.INFO if expected else logging.ERROR, "archive %s: %s", " ".join(sys.argv[1:3]), exc,
            exc_info=not expected, extra={"actor": STATE["as"] or "", "terminal": False})
        if os.environ.get("ARCHIVE_DEBUG"):
            raise
        sys.stderr.write(f"archive: error: {_one_line(exc)}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
