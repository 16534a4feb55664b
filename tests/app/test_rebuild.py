"""S3 stays the system of record: a catalog rebuilt from S3 alone equals the live one (documents with their
pages and classification, users, the audit mirror), and the rebuilt index answers the same searches."""

from __future__ import annotations

from pipeline.app import searching
from pipeline.app.context import Context
from pipeline.app.indexing import rebuild
from pipeline.app.users import add_user, operator
from pipeline.core.vocabulary import Classification, Role
from search import SearchQuery
from tests.app.conftest import Home


def test_rebuilt_catalog_equals_the_live_one(home: Home, ingested: dict[str, str]) -> None:
    with home.context() as ctx:
        add_user(ctx, operator(ctx), "thu.le", frozenset({Role.RECORDS_OFFICER}), Classification.MAT)
        live = ctx.catalog.snapshot()
        before = searching.search(ctx, operator(ctx), SearchQuery(text="van ban dien tu"))
    assert len(live["documents"]) == 2 and live["users"] and live["audit"]
    settings = home.settings.model_copy(deep=True)
    settings.catalog.url = f"sqlite:///{settings.home / 'rebuilt.sqlite'}"
    settings.search.index_dir = str(settings.home / "rebuilt-index")
    with Context(settings) as fresh:
        report = rebuild(fresh, operator(fresh))
        rebuilt = fresh.catalog.snapshot()
        after = searching.search(fresh, operator(fresh), SearchQuery(text="van ban dien tu"))
    assert report.documents == 2 and report.indexed == 2
    assert rebuilt["audit"][-1]["action"] == "reindex"  # the rebuild is itself the one new event
    rebuilt["audit"] = rebuilt["audit"][:-1]
    assert rebuilt == live
    assert [h.id for h in after.hits] == [h.id for h in before.hits] and after.total == before.total
