"""Users: add, duplicate error, update, Actor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.catalog import AlreadyExists, Catalog, NotFound
from pipeline.core.actor import Actor
from pipeline.core.vocabulary import Classification, Role


def test_add_get_list_and_actor(catalog: Catalog) -> None:
    before = datetime.now(UTC)
    row = catalog.add_user("lan", {Role.STAFF, Role.ARCHIVIST}, "Tối mật")
    assert row.roles == frozenset({Role.STAFF, Role.ARCHIVIST})
    assert row.clearance is Classification.TOI_MAT
    assert row.disabled is False and row.password_hash is None
    stored = catalog.get_user("lan")
    assert stored == row
    assert stored.created_at.tzinfo is not None and stored.created_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=5) <= stored.created_at <= datetime.now(UTC) + timedelta(seconds=5)
    assert stored.actor() == Actor("lan", frozenset({Role.STAFF, Role.ARCHIVIST}), Classification.TOI_MAT)
    assert stored.actor().can_see("mat") and not stored.actor().can_see("tuyet-mat")

    catalog.add_user("an", ["admin"], Classification.TUYET_MAT)
    assert [u.name for u in catalog.list_users()] == ["an", "lan"]
    assert catalog.get_user("nobody") is None


def test_duplicate_user_is_an_error(catalog: Catalog) -> None:
    catalog.add_user("minh", {Role.STAFF}, "public")
    with pytest.raises(AlreadyExists):
        catalog.add_user("minh", {Role.ADMIN}, "tuyet-mat")
    assert catalog.get_user("minh").roles == frozenset({Role.STAFF})  # unchanged
    with pytest.raises(ValueError):
        catalog.add_user("bad", {Role.STAFF}, "secret")  # unknown level: never silently public
    with pytest.raises(ValueError):
        catalog.add_user("bad", {"superuser"}, "public")
    assert catalog.get_user("bad") is None


def test_update_user(catalog: Catalog) -> None:
    catalog.add_user("hoa", {Role.STAFF}, "public")
    row = catalog.update_user("hoa", clearance="mat")
    assert row.clearance is Classification.MAT and row.roles == frozenset({Role.STAFF})
    row = catalog.update_user("hoa", roles={Role.RECORDS_OFFICER, Role.STAFF}, disabled=True)
    assert row.roles == frozenset({Role.RECORDS_OFFICER, Role.STAFF}) and row.disabled is True
    assert row.clearance is Classification.MAT
    assert catalog.get_user("hoa") == row
    row = catalog.update_user("hoa", roles=set(), disabled=False)
    assert row.roles == frozenset() and not row.disabled
    assert row.actor().roles == frozenset()
    with pytest.raises(NotFound):
        catalog.update_user("ghost", clearance="public")
