"""The retention schedule as configuration: classes matched on folded text, the most specific first, and a
file that says what is wrong with it in one line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipeline.core.schedule import Action, Schedule, ScheduleError, Trigger, load_schedule

GOOD = """
version = "test-1"
[default]
code = "0"
name = "Chưa phân loại"
period = 10

[[class]]
code = "A"
name = "Quyết định"
doc_types = ["Quyết định"]
period = "vĩnh viễn"
action = "transfer"

[[class]]
code = "B"
name = "Quyết định nhân sự của Sở Nội vụ"
doc_types = ["Quyết định"]
issuers = ["Sở Nội vụ"]
period = 70

[[class]]
code = "C"
name = "Hồ sơ dự án"
doc_types = ["Báo cáo"]
period = 20
trigger = "dossier-closed"
action = "destroy"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schedule.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_classes_match_folded_text_most_specific_first(tmp_path: Path) -> None:
    sched = load_schedule(_write(tmp_path, GOOD))
    assert sched.version == "test-1"
    assert sched.classify("QUYẾT ĐỊNH").code == "A"
    assert sched.classify("quyet dinh", issuer="Sở Nội vụ tỉnh Hà Nam").code == "B"  # refined by issuer
    assert sched.classify("Quyết định", issuer="Sở Nội vụ Nam Định").code == "B"
    assert sched.classify("Quyết định", issuer="Sở Tài chính").code == "A"
    assert sched.classify("Công văn").code == "0"  # the catch-all
    a, c = sched.get("A"), sched.get("C")
    assert a is not None and a.permanent and a.action is Action.TRANSFER
    assert c is not None and c.trigger is Trigger.DOSSIER_CLOSED and c.years == 20


def test_periods_count_whole_years_and_keep_29_february() -> None:
    sched = load_schedule(None)
    ten = next(c for c in sched.classes if c.years == 10)
    assert Schedule.retain_until(ten, date(2016, 2, 29)) == date(2026, 2, 28)
    assert Schedule.retain_until(ten, date(2015, 6, 30)) == date(2025, 6, 30)
    permanent = next(c for c in sched.classes if c.permanent)
    assert Schedule.retain_until(permanent, date(2000, 1, 1)) is None


def test_the_built_in_schedule_is_valid_and_reviews_what_it_does_not_know() -> None:
    sched = load_schedule(None)
    assert sched.default.action is Action.REVIEW and not sched.default.permanent
    assert sched.classify("Chỉ thị").permanent
    assert sched.classify("Giấy mời").years == 5
    assert sched.classify("Báo cáo", title="Báo cáo tổng kết năm 2025").permanent
    assert sched.classify("Báo cáo", title="Báo cáo quý III").years == 10
    # keywords are whole words with their diacritics: "năm" is not "Nam", a monthly report is not permanent
    assert sched.classify("Báo cáo", title="Báo cáo công tác tháng 3 năm 2024").years == 10
    assert sched.classify("Báo cáo", title="Báo cáo tỉnh Quảng Nam").years == 10
    assert sched.classify("Công  văn").years == 10  # spacing does not matter


@pytest.mark.parametrize(("text", "message"), [
    ("[default]\ncode='0'\nname='x'\nperiod=10\n[[class]]\ncode='0'\nname='y'\ndoc_types=['a']\nperiod=5\n",
     "class code '0' is used twice"),
    ("[[class]]\ncode='A'\nname='y'\ndoc_types=['a']\nperiod=5\n", "missing [default]"),
    ("[default]\ncode='0'\nname='x'\nperiod=0\n", "period must be 'permanent'"),
    ("[default]\ncode='0'\nname='x'\nperiod='mãi mãi'\n", "period must be 'permanent'"),
    ("[default]\ncode='0'\nname='x'\nperiod=10\ncolour='red'\n", "unknown key(s) colour"),
    ("[default]\ncode='0'\nname='x'\nperiod=10\n[[class]]\ncode='P'\nname='y'\ndoc_types=['a']\n"
     "period='permanent'\naction='destroy'\n", "a permanent class cannot end in destroy"),
    ("[default]\ncode='0'\nname='x'\nperiod=10\n[[class]]\ncode='T'\nname='y'\ndoc_types=['a']\nperiod=5\n"
     "trigger='signed'\n", "triggers: issued, dossier-closed"),
    ("[default]\ncode='0'\nname='x'\nperiod=10\n[[class]]\ncode='E'\nname='y'\nperiod=5\n",
     "doc_types must list at least one"),
    ("[default\ncode='0'", "not valid TOML"),
    ("[default]\ncode=1.10\nname='x'\nperiod=10\n", "must be quoted texts"),
    ("[default]\ncode='" + "x" * 33 + "'\nname='x'\nperiod=10\n", "at most 32 characters"),
])
def test_a_bad_schedule_says_where_and_why(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ScheduleError) as info:
        load_schedule(_write(tmp_path, text))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_equally_specific_classes_take_the_longest_retention(tmp_path: Path) -> None:
    text = GOOD + "\n[[class]]\ncode = 'D'\nname = 'Quyết định (bản sao)'\ndoc_types = ['Quyết định']\nperiod = 5\n"
    assert load_schedule(_write(tmp_path, text)).classify("Quyết định").code == "A"  # permanent beats 5 years
