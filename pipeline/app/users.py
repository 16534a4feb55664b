"""Users and who acts: users live in the catalog; every change is an audit event (so the catalog's users can
be rebuilt from the trail in S3)."""

from __future__ import annotations

import re

from pipeline.app.context import Context
from pipeline.app.errors import Invalid, NotFound
from pipeline.core.actor import Actor
from pipeline.core.vocabulary import Classification, Role

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
OPERATOR = "admin"  # the local operator the CLI acts as when no user is named


def operator(ctx: Context) -> Actor:
    """The local operator: the admin role with the configured clearance (`cli.operator_clearance`)."""
    return Actor(OPERATOR, frozenset({Role.ADMIN}), Classification.parse(ctx.settings.cli.operator_clearance))


def resolve_actor(ctx: Context, name: str | None) -> Actor:
    """The user named by ``--as`` / ``ARCHIVE_USER``; the local operator when none is named."""
    if not name:
        row = ctx.catalog.get_user(OPERATOR)
        return row.actor() if row is not None and not row.disabled else operator(ctx)
    row = ctx.catalog.get_user(name)
    if row is None:
        raise NotFound(f"no user {name!r}: add one with `archive user add {name} --role staff --clearance public`")
    if row.disabled:
        raise Invalid(f"user {name!r} is disabled")
    return row.actor()


def parse_roles(values: list[str]) -> frozenset[Role]:
    try:
        return frozenset(Role(v.strip().lower()) for v in values if v.strip())
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise Invalid(f"unknown role in {', '.join(values)}; expected {allowed}") from None


def add_user(ctx: Context, actor: Actor, name: str, roles: frozenset[Role], clearance: Classification) -> None:
    actor.require(Role.ADMIN, "manage users")
    if not NAME.match(name):
        raise Invalid(f"user name {name!r}: 2-64 characters, lowercase letters, digits, '.', '_' or '-'")
    if not roles:
        raise Invalid("give at least one --role")
    if ctx.catalog.get_user(name) is not None:
        raise Invalid(f"user {name!r} already exists")
    event = ctx.audit.record(actor.name, "user.add", name, "ok",
                             {"roles": sorted(r.value for r in roles), "clearance": clearance.value})
    ctx.catalog.add_user(name, set(roles), clearance, created_at=event.at)


def update_user(ctx: Context, actor: Actor, name: str, roles: frozenset[Role] | None = None,
                clearance: Classification | None = None, disabled: bool | None = None) -> None:
    actor.require(Role.ADMIN, "manage users")
    if ctx.catalog.get_user(name) is None:
        raise NotFound(f"no user {name!r}")
    detail: dict[str, object] = {}
    if roles is not None:
        detail["roles"] = sorted(r.value for r in roles)
    if clearance is not None:
        detail["clearance"] = clearance.value
    if disabled is not None:
        detail["disabled"] = disabled
    ctx.audit.record(actor.name, "user.update", name, "ok", detail)
    ctx.catalog.update_user(name, roles=set(roles) if roles is not None else None, clearance=clearance,
                            disabled=disabled)


def list_users(ctx: Context, actor: Actor) -> list[dict[str, object]]:
    actor.require(Role.ADMIN, "list users")
    return [{"name": u.name, "roles": sorted(r.value for r in u.roles), "clearance": u.clearance.value,
             "disabled": u.disabled, "created_at": u.created_at} for u in ctx.catalog.list_users()]


def replay_user_event(ctx: Context, event: dict[str, object]) -> None:
    """Apply one audited user change to the catalog (rebuilding users from the trail in S3)."""
    detail = event.get("detail") or {}
    assert isinstance(detail, dict)
    name = str(event["object"])
    if event["action"] == "user.add" and ctx.catalog.get_user(name) is None:
        ctx.catalog.add_user(name, set(parse_roles(list(detail.get("roles", [])))),
                             Classification.parse(str(detail.get("clearance", "public"))),
                             created_at=event["at"])
    elif event["action"] == "user.update" and ctx.catalog.get_user(name) is not None:
        roles = detail.get("roles")
        clearance = detail.get("clearance")
        ctx.catalog.update_user(name, roles=set(parse_roles(list(roles))) if roles is not None else None,
                                clearance=Classification.parse(str(clearance)) if clearance else None,
                                disabled=detail.get("disabled"))  # type: ignore[arg-type]
