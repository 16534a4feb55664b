"""Alembic environment for the catalog. Runs on the connection handed over in ``config.attributes``
(``pipeline.catalog.engine.migrate``); the ``sqlalchemy.url`` option is the fallback for Alembic's own CLI,
e.g. ``alembic -x … revision --autogenerate`` against a scratch database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from pipeline.catalog.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
