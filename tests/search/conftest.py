"""Fixtures: one index per engine, built once per module from the test corpus."""

from __future__ import annotations

import pytest

from search import ENGINES, open_index
from tests.search.corpus import DOCS

_FIGURES: list[str] = []


def record_figure(line: str) -> None:
    """Keep a line for the terminal summary (relevance figures are part of the acceptance)."""
    _FIGURES.append(line)


@pytest.fixture(scope="module", params=ENGINES)
def engine(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def index(engine, tmp_path_factory):
    ix = open_index(engine, tmp_path_factory.mktemp(f"ix-{engine}"))
    ix.add(DOCS)
    yield ix
    ix.close()


def pytest_terminal_summary(terminalreporter):
    if _FIGURES:
        terminalreporter.section("search relevance")
        for line in _FIGURES:
            terminalreporter.write_line(line)
