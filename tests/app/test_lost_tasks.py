"""The lost-task watch's rules (its use on a real broker: tests/e2e/test_faults.py): only documents quiet for a
whole period are asked about, and one is lost only when missing at two looks in a row without a change."""

from __future__ import annotations

from pipeline.app.lost_tasks import LostWatch


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lost_only_when_missing_twice_without_a_change() -> None:
    clock = Clock()
    watch = LostWatch(10.0, clock)
    pending = {"a.pdf": object(), "b.pdf": object(), "c.pdf": object()}
    for source in pending:
        watch.changed(source)
    asked: list[set[str]] = []

    def missing(quiet: dict[str, object]) -> list[str]:
        asked.append(set(quiet))
        return [s for s in quiet if s != "c.pdf"]  # c.pdf is still queued

    clock.now = 105.0
    assert watch.lost(pending, missing) == [] and asked == []  # not time to look yet
    clock.now = 111.0
    assert watch.lost(pending, missing) == [] and asked == [{"a.pdf", "b.pdf", "c.pdf"}]  # first look: suspects
    watch.changed("b.pdf")  # b.pdf moved on: alive
    clock.now = 121.5
    assert watch.lost(pending, missing) == ["a.pdf"]
    assert asked[-1] == {"a.pdf", "b.pdf", "c.pdf"}  # b.pdf quiet again for a whole period
    clock.now = 132.0
    assert watch.lost(pending, missing) == ["b.pdf"]  # missing twice since its change


def test_a_document_that_moves_is_never_asked_about() -> None:
    clock = Clock()
    watch = LostWatch(5.0, clock)
    pending = {"a.pdf": object()}
    watch.changed("a.pdf")
    asked: list[set[str]] = []
    for step in range(1, 6):
        clock.now = 100.0 + 5.5 * step
        watch.changed("a.pdf")
        assert watch.lost(pending, lambda quiet: asked.append(set(quiet)) or list(quiet)) == []
    assert asked == []
