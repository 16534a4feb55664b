"""The PostgreSQL test server is not an open door: loopback only, password authentication."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.engine import make_url


def test_password_required(postgres_url: str) -> None:
    url = make_url(postgres_url)
    with psycopg.connect(host="127.0.0.1", port=url.port, user=url.username, password=url.password,
                         dbname=url.database, connect_timeout=10) as conn:
        assert conn.execute("SELECT current_setting('listen_addresses')").fetchone() == ("127.0.0.1",)
        assert conn.execute("SELECT count(*) FROM pg_hba_file_rules WHERE auth_method = 'trust'").fetchone() == (0,)
    for password in ("", "wrong"):
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(host="127.0.0.1", port=url.port, user=url.username, password=password,
                            dbname=url.database, connect_timeout=10).close()
