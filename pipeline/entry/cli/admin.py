"""`archive user …` and `archive audit …`."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pipeline.core.dates import VIETNAM, day_bound
from pipeline.core.vocabulary import Classification
from pipeline.entry.cli.common import CliError, date_option, err, out, print_json, session

user_app = typer.Typer(no_args_is_help=True, help="Users: roles, clearance, passwords and API tokens.")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit trail.")
ROLE_HELP = "archivist, staff, records-officer, admin or monitor (metrics only) (repeat for several)"
LEVEL_HELP = "public, internal, mat, toi-mat or tuyet-mat"


@user_app.command("add")
def user_add(name: Annotated[str, typer.Argument(help="User name (lowercase).")],
             role: Annotated[list[str], typer.Option("--role", help=ROLE_HELP)],
             clearance: Annotated[str, typer.Option(help=LEVEL_HELP)] = "public") -> None:
    """Add a user with roles and a clearance."""
    from pipeline.app import users
    level = _level(clearance)
    with session() as (ctx, actor):
        users.add_user(ctx, actor, name, users.parse_roles(role), level)
    out.print(f"Added user {escape(name)} ({', '.join(role)}; clearance {level.value})")


@user_app.command("set")
def user_set(name: Annotated[str, typer.Argument(help="User name.")],
             role: Annotated[list[str] | None, typer.Option("--role", help=ROLE_HELP)] = None,
             clearance: Annotated[str | None, typer.Option(help=LEVEL_HELP)] = None,
             disabled: Annotated[bool | None, typer.Option("--disable/--enable", help="Disable or enable.")] = None,
             ) -> None:
    """Change a user's roles, clearance or status."""
    from pipeline.app import users
    with session() as (ctx, actor):
        users.update_user(ctx, actor, name, users.parse_roles(role) if role else None,
                          _level(clearance) if clearance else None, disabled)
    out.print(f"Updated user {escape(name)}")


@user_app.command("list")
def user_list(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """List the users."""
    from pipeline.app import users

    with session() as (ctx, actor):
        rows = users.list_users(ctx, actor)
    if as_json:
        print_json(rows)
        return
    table = Table("name", "roles", "clearance", "status", title="Users")
    for row in rows:
        table.add_row(escape(str(row["name"])), ", ".join(row["roles"]), str(row["clearance"]),  # type: ignore[arg-type]
                      "disabled" if row["disabled"] else "active")
    out.print(table)


@user_app.command("passwd")
def user_passwd(name: Annotated[str, typer.Argument(help="User name.")],
                password_stdin: Annotated[bool, typer.Option(
                    "--password-stdin", help="Read the password from the first line of standard input.")] = False,
                ) -> None:
    """Set a user's password (an admin: anyone's; a user: their own). At least 12 characters, not the name.
    The user's browser sessions end."""
    from pipeline.app import auth

    if password_stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    elif sys.stdin.isatty():
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    else:
        raise CliError("give the password on standard input with --password-stdin")
    with session() as (ctx, actor):
        auth.set_password(ctx, actor, name, password)
    out.print(f"Password set for {escape(name)}")


@user_app.command("token")
def user_token(name: Annotated[str, typer.Argument(help="User name.")],
               expires_days: Annotated[int, typer.Option("--expires-days", min=1, max=3650,
                                                         help="Valid for this many days.")] = 90,
               label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "") -> None:
    """Issue an API token: printed once on standard output (only its hash is kept); details on stderr."""
    from pipeline.app.auth_tokens import issue_token

    with session() as (ctx, actor):
        issued = issue_token(ctx, actor, name, label, expires_days)
    sys.stdout.write(issued.token + "\n")
    sys.stdout.flush()
    err.print(f"API token {issued.id} for {escape(name)}{f' ({escape(issued.label)})' if issued.label else ''}, "
              f"valid until {issued.expires_at.astimezone(VIETNAM):%Y-%m-%d %H:%M} (+07:00): store it now, "
              "it is not shown again")


@user_app.command("tokens")
def user_tokens(name: Annotated[str, typer.Argument(help="User name.")],
                as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """List a user's API tokens (ids, labels, dates, state; never the tokens)."""
    from pipeline.app.auth_tokens import list_tokens

    with session() as (ctx, actor):
        rows = list_tokens(ctx, actor, name)
    if as_json:
        print_json(rows)
        return
    table = Table("id", "label", "created", "expires", "last used", "state", title=f"API tokens of {escape(name)}")
    for row in rows:
        table.add_row(str(row["id"]), escape(str(row["label"])), *(_vn(row[k]) for k in
                      ("created_at", "expires_at", "last_used_at")), str(row["state"]))
    out.print(table)


@user_app.command("revoke")
def user_revoke(token_id: Annotated[str, typer.Argument(metavar="TOKEN_ID",
                                                        help="The token's id (or the token itself).")]) -> None:
    """Revoke an API token (an admin: anyone's; a user: their own)."""
    from pipeline.app.auth_tokens import revoke_token

    with session() as (ctx, actor):
        row = revoke_token(ctx, actor, token_id)
    out.print(f"Revoked API token {row['id']} of {escape(str(row['user']))}")


def _vn(value: object) -> str:
    return value.astimezone(VIETNAM).strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else "-"


def _level(value: str) -> Classification:
    try:
        return Classification.parse(value)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _day_bound(value: str | None, name: str, end: bool) -> datetime | None:
    day = date_option(value, name)
    return None if day is None else day_bound(day, end)


@audit_app.command("list")
def audit_list(
    object_id: Annotated[str | None, typer.Option("--object", help="Only events about this object (id).")] = None,
    actor_name: Annotated[str | None, typer.Option("--actor", help="Only events by this user.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="From this day (Vietnam time).")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Up to and including this day.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many (the latest).")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """List audit events (who did what, when, with what outcome)."""
    from pipeline.app.audit_queries import list_events

    with session() as (ctx, actor):
        events = list_events(ctx, actor, object_id, actor_name, _day_bound(date_from, "--from", False),
                             _day_bound(date_to, "--to", True), limit)
    if as_json:
        print_json(events)
        return
    table = Table("#", "time (+07:00)", "actor", "action", "object", "outcome", title="Audit trail")
    for e in events:
        at = datetime.fromisoformat(str(e["at"]).replace("Z", "+00:00")).astimezone(VIETNAM)
        table.add_row(str(e["seq"]), at.strftime("%Y-%m-%d %H:%M:%S"), escape(str(e["actor"])),
                      escape(str(e["action"])), escape(str(e["object"])[:24]), escape(str(e["outcome"])))
    out.print(table)


@audit_app.command("verify")
def audit_verify(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """Recompute the hash chain from storage; name the first changed, removed or reordered event."""
    from pipeline.app.audit_queries import verify_trail

    with session() as (ctx, actor):
        report = verify_trail(ctx, actor)
    if as_json:
        print_json(report)
    elif report["ok"]:
        out.print(f"Audit trail intact: {report['checked']} event(s) checked.")
    if not report["ok"]:
        raise CliError(f"audit trail broken: {report['message']} ({report['checked']} event(s) checked before it)")
