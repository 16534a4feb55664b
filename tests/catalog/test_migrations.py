"""Migrations: an empty database gets the schema; reopening is a no-op; the migration matches the models."""

from __future__ import annotations

import threading
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect

from pipeline.catalog import Catalog
from pipeline.catalog.models import Base

from .helpers import make_record

TABLES = {"documents", "pages", "users", "batches", "batch_items", "audit_events", "alembic_version"}

HEAD = "0007"  # the newest migration


def _statements(cat: Catalog) -> list[str]:
    seen: list[str] = []

    @event.listens_for(cat.engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.strip().split()[0].upper())

    return seen


def test_migration_creates_schema_and_reopen_is_noop(catalog_url: str) -> None:
    cat = Catalog(catalog_url, auto_migrate=False)
    try:
        assert cat.revision() is None
        assert TABLES.isdisjoint(inspect(cat.engine).get_table_names())
        statements = _statements(cat)
        cat.migrate()
        assert "CREATE" in statements
        assert set(inspect(cat.engine).get_table_names()) >= TABLES
        assert cat.revision() == HEAD
        cat.upsert_document(make_record("m"))
    finally:
        cat.close()

    again = Catalog(catalog_url, auto_migrate=False)
    try:
        statements = _statements(again)
        again.migrate()
        assert not {"CREATE", "ALTER", "DROP", "INSERT", "UPDATE"} & set(statements), statements
        assert again.revision() == HEAD
        assert again.count_documents(4) == 1  # data untouched
    finally:
        again.close()
    with Catalog(catalog_url) as third:  # the default path (auto-migrate) on an up-to-date database
        assert third.count_documents(4) == 1


def test_migration_matches_models(catalog: Catalog) -> None:
    with catalog.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert diffs == []


def test_concurrent_first_open(catalog_url: str) -> None:
    """Several workers opening a fresh catalog at once: one migrates, the others wait and see it done."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        try:
            barrier.wait()
            with Catalog(catalog_url) as cat:
                cat.count_documents(0)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    with Catalog(catalog_url) as cat:
        assert cat.revision() == HEAD


def test_sqlite_catalog_files_are_owner_only(tmp_path) -> None:
    """The catalog names classified documents: no other local user may read it (nor its WAL)."""
    import stat

    from pipeline.catalog import Catalog

    with Catalog(f"sqlite:///{tmp_path / 'home' / 'catalog.sqlite'}") as fresh:
        assert fresh.revision() is not None
        files = sorted((tmp_path / "home").glob("catalog.sqlite*"))
        assert [f.name for f in files][:1] == ["catalog.sqlite"]
        assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: 0o600 for f in files}


def test_upgrade_from_0001_keeps_documents(catalog_url: str) -> None:
    """A catalog made by the first release gains the retention columns with its rows intact."""
    cat = Catalog(catalog_url, auto_migrate=False)
    try:
        from pipeline.catalog.engine import migrate

        migrate(cat.engine, "0001")
        with cat.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO documents (id, doc_number, doc_type, title, issuer, signer, unit, language, "
                "classification, classification_rank, origin, ocr_applied, page_count, pdfa, signed, "
                "signature_level, signer_subject, timestamped, batch, source_path, state, record_json) VALUES "
                "('old', '', '', '', '', '', '', '', 'public', 0, 'scanned', false, 1, '', false, '', '', false, "
                "'', '', 'archived', '{}')")
        cat.migrate()
        assert cat.revision() == HEAD
        with cat.engine.connect() as conn:
            row = conn.exec_driver_sql("SELECT retention_class, retain_until, permanent FROM documents").one()
        assert tuple(row) == ("", None, False)
    finally:
        cat.close()
