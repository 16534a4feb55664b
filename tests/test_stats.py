"""The figures over plain records (no services): counts add up, shares are counts over counts, each target figure
says whether it is met, processing time is working time, and groups split the same documents."""

from datetime import UTC, datetime

from pipeline.app.statistics import Targets, grouped
from pipeline.app.statistics.figures import nearest_rank
from pipeline.app.statistics.service import Setup
from pipeline.app.stats import compute_stats
from pipeline.core.dates import VIETNAM
from pipeline.core.record import DocumentMetadata, DocumentRecord, Origin, SignatureFacts, Source
from pipeline.core.settings import StatsSettings
from pipeline.core.vocabulary import Classification

RECEIVED = datetime(2026, 10, 5, 8, 0, tzinfo=VIETNAM)  # a Monday


def _record(i: int, origin: Origin, pages: int, signed: bool, unit: str, *, doc_type: str = "Quyết định",
            issuer_signed: bool = False, level: str = "public", archived_h: float | None = None) -> DocumentRecord:
    archived = None if archived_h is None else datetime.fromtimestamp(RECEIVED.timestamp() + archived_h * 3600, UTC)
    return DocumentRecord(id=f"{i:064x}", origin=origin, page_count=pages,
                          source=Source(batch="b", path=f"d{i}", files=[f"d{i}.pdf"], received_at=RECEIVED),
                          metadata=DocumentMetadata(unit=unit, doc_type=doc_type,
                                                    classification=Classification.parse(level)),
                          signature=SignatureFacts(signed=signed), archived_at=archived,
                          representation="signed-original" if issuer_signed else "pdfa")


def test_counts_by_origin_pages_signed_and_unit() -> None:
    records = [
        _record(1, Origin.SCANNED, 3, True, "Văn phòng"),
        _record(2, Origin.BORN_DIGITAL, 1, True, "Văn phòng", issuer_signed=True),
        _record(3, Origin.BORN_DIGITAL, 2, False, "Phòng Tài chính"),
        _record(4, Origin.MIXED, 4, True, "Phòng Tài chính"),
    ]
    stats = compute_stats(records)
    assert stats["documents"] == {"total": 4, "scanned": 1, "born_digital": 2, "mixed": 1}
    assert stats["pages"] == {"total": 10, "scanned": 3, "born_digital": 3, "mixed": 4}
    assert stats["signed"] == {"count": 3, "share": 0.75}
    assert stats["issuer_signed"] == {"count": 1, "share": 0.25}
    assert stats["units"] == {"count": 2, "signing": 1, "share": 0.5}
    assert stats["scanned_share"] == 0.25 and stats["scanned_share_ok"] is True
    assert stats["targets"]["scanned_share"] == {"value": 0.25, "target": 0.5, "rule": "<", "met": True}
    assert stats["targets"]["signed_share"] == {"value": 0.25, "target": 0.95, "rule": ">=", "met": False}
    assert stats["by_unit"]["Phòng Tài chính"] == {"total": 2, "scanned": 0, "born_digital": 1, "mixed": 1,
                                                     "signed": 1}


def test_scanned_majority_misses_target_and_empty_archive() -> None:
    stats = compute_stats([_record(1, Origin.SCANNED, 1, False, ""), _record(2, Origin.SCANNED, 1, False, "")])
    assert stats["scanned_share"] == 1.0 and stats["scanned_share_ok"] is False
    assert stats["units"] == {"count": 0, "signing": 0, "share": None}  # documents without a unit name no unit
    third = [_record(1, Origin.SCANNED, 1, False, ""), *(_record(i, Origin.MIXED, 1, False, "") for i in (2, 3))]
    at_the_line = compute_stats(third, StatsSettings(scanned_share_max=1 / 3))["targets"]["scanned_share"]
    assert at_the_line["value"] == 0.3333 and at_the_line["met"] is False  # exactly 1/3 is not below 1/3
    empty = compute_stats([])
    assert empty["documents"]["total"] == 0 and empty["signed"]["share"] is None  # no documents: no share
    assert empty["scanned_share"] is None and empty["scanned_share_ok"] is None  # not "met"
    assert all(t["met"] is None for name, t in empty["targets"].items() if name != "electronic_only_on_paper")
    assert empty["processing"] == {"count": 0, "median_s": None, "p90_s": None, "within_deadline": 0, "share": None}


def test_electronic_share_leaves_secret_documents_out_and_paper_copies_of_electronic_only_types() -> None:
    records = [
        _record(1, Origin.BORN_DIGITAL, 1, True, "A", doc_type="Công văn"),
        _record(2, Origin.SCANNED, 1, True, "A", doc_type="cong van"),  # folded: an electronic-only type
        _record(3, Origin.MIXED, 2, True, "A", doc_type="Giấy mời"),
        _record(4, Origin.SCANNED, 1, True, "A", doc_type="Quyết định"),  # may be on paper
        _record(5, Origin.SCANNED, 1, True, "A", doc_type="Quyết định", level="Mật"),  # excluded from exchange
    ]
    stats = compute_stats(records)
    assert stats["electronic"] == {"count": 1, "of": 4, "share": 0.25}
    assert stats["electronic_only_on_paper"] == {"count": 2, "by_type": {"Công văn": 1, "Giấy mời": 1}}  # one spelling
    assert stats["targets"]["electronic_only_on_paper"] == {"value": 2, "target": 0, "rule": "=", "met": False}
    custom = compute_stats(records, StatsSettings(electronic_only_types=["Quyết định"], electronic_exchange_min=0.2))
    assert custom["electronic_only_on_paper"]["by_type"] == {"Quyết định": 2}
    assert custom["targets"]["electronic_share"]["met"] is True


def test_processing_time_is_working_time_against_the_deadline() -> None:
    # Received Monday 08:00; archived after 0.5 h, 2 h (on the deadline), 3 h and 30 h of wall-clock time:
    # 30 h later is Tuesday 14:00, i.e. 3.5 + 4 (Monday) + 4 + 1 (Tuesday) = 12.5 working hours.
    records = [_record(i, Origin.BORN_DIGITAL, 1, True, "A", archived_h=h) for i, h in enumerate((0.5, 2, 3, 30))]
    records.append(_record(9, Origin.BORN_DIGITAL, 1, True, "A"))  # not archived yet: no processing time
    stats = compute_stats(records)
    assert stats["processing"] == {"count": 4, "median_s": 2.5 * 3600, "p90_s": 12.5 * 3600, "within_deadline": 2,
                                   "share": 0.5}
    assert stats["targets"]["on_time_share"] == {"value": 0.5, "target": 1.0, "rule": ">=", "met": False}
    longer = compute_stats(records, StatsSettings(deadline_hours=3, on_time_share_min=0.75))
    assert longer["processing"]["within_deadline"] == 3 and longer["targets"]["on_time_share"]["met"] is True
    assert nearest_rank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9 and nearest_rank([5], 0.9) == 5


def test_destroyed_documents_still_count_as_history() -> None:
    from pipeline.core.record import DisposalFacts

    gone = _record(1, Origin.SCANNED, 2, True, "A").model_copy(update={"disposal": DisposalFacts(
        proposal="P-1", decision="Quyết định số 1/QĐ", executed_at=RECEIVED)})
    stats = compute_stats([gone, _record(2, Origin.BORN_DIGITAL, 1, True, "A")])
    assert stats["disposed"] == 1 and stats["documents"]["scanned"] == 1 and stats["pages"]["total"] == 3


def test_a_bad_query_is_refused_in_the_users_terms() -> None:
    import pytest

    from pipeline.app.errors import Invalid
    from pipeline.app.statistics import StatsQuery

    for query, reason in [(StatsQuery(period="2026-13"), "'2026-13' is not a period"),
                          (StatsQuery(period="2026", date_to=RECEIVED.date()), "not both"),
                          (StatsQuery(date_from=RECEIVED.date(), date_to=datetime(2026, 1, 1).date()),
                           "ends (2026-01-01) before it starts (2026-10-05)")]:
        with pytest.raises(Invalid, match=reason.replace("(", r"\(").replace(")", r"\)")):
            query.days()
    for by, reason in [(("unit", "week"), "cannot group by week"), (("unit", "unit"), "once")]:
        with pytest.raises(Invalid, match=reason):
            StatsQuery(by=by).check()


def test_issuer_signed_means_the_signed_original_representation() -> None:
    from pipeline.app import representations
    from pipeline.app.statistics import service

    assert service.SIGNED_ORIGINAL == representations.SIGNED_ORIGINAL


def test_groups_split_the_same_documents() -> None:
    setup = Setup.from_settings(StatsSettings())
    records = [_record(1, Origin.SCANNED, 1, True, "B", doc_type="Công văn"),
               _record(2, Origin.BORN_DIGITAL, 2, True, "A"), _record(3, Origin.BORN_DIGITAL, 1, True, "B")]
    groups = grouped([setup.fact(r) for r in records], ("unit", "month"), Targets())
    assert [g["key"] for g in groups] == [{"unit": "A", "month": "2026-10"}, {"unit": "B", "month": "2026-10"}]
    assert [g["documents"]["total"] for g in groups] == [1, 2] and groups[1]["pages"]["total"] == 2
    assert sum(g["documents"]["total"] for g in groups) == compute_stats(records)["documents"]["total"]


def test_one_unit_whatever_its_spelling_and_csv_cells_that_would_run_as_formulas() -> None:
    from pipeline.core.csv_safe import cell

    records = [_record(1, Origin.SCANNED, 1, False, "Văn phòng"),
               _record(2, Origin.BORN_DIGITAL, 1, False, "Văn Phòng"),
               _record(3, Origin.BORN_DIGITAL, 1, False, "Văn phòng")]
    stats = compute_stats(records)
    assert stats["units"]["count"] == 1 and list(stats["by_unit"]) == ["Văn phòng"]
    assert stats["by_unit"]["Văn phòng"]["total"] == 3
    assert [cell(v) for v in ("=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "Văn phòng", 0.5, -1)] == [
        "'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)", "Văn phòng", 0.5, -1]
