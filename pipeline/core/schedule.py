"""The retention schedule (thời hạn bảo quản) as configuration: record classes, each with what it matches
(document types, optionally refined by issuer or keywords), a trigger, a period and an action at the end.

Pure data and rules, no storage: the archive asks :meth:`Schedule.classify` and :meth:`Schedule.retain_until`
for every document at ingest and when the schedule changes. Matching is on folded text (no diacritics,
lower case), so "Công văn" in a manifest matches ``cong van`` in the schedule; issuers and keywords match whole
words or phrases with their diacritics ("năm" is not "Nam").

The defaults are modelled on the national schedule for common administrative records (Circular
10/2022/TT-BNV): an agency replaces them with its own file (``retention.schedule_file``). A document no class
matches falls to the catch-all class, which is *review* after 10 years: nothing is destroyed by default
without someone deciding.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from pipeline.core.text import fold, nfc

PERMANENT = "permanent"  # vĩnh viễn
COMMON_PERIODS = (70, 50, 30, 20, 10, 5)
MAX_CODE = 32  # the catalog's column  # the periods Vietnamese schedules use, besides permanent


class ScheduleError(ValueError):
    """The schedule file is not usable; the message says where and why, in one line."""


class Trigger(StrEnum):
    ISSUED = "issued"  # from the document's issue date
    DOSSIER_CLOSED = "dossier-closed"  # from its dossier's closing (end) date


class Action(StrEnum):
    DESTROY = "destroy"  # hủy
    TRANSFER = "transfer"  # nộp lưu vào lưu trữ lịch sử
    REVIEW = "review"  # xem xét lại


@dataclass(frozen=True)
class RecordClass:
    code: str
    name: str
    years: int | None  # None: permanent
    trigger: Trigger = Trigger.ISSUED
    action: Action = Action.REVIEW
    doc_types: tuple[str, ...] = ()  # folded
    issuers: tuple[str, ...] = ()  # whole words or phrases (lower case, diacritics kept); empty = any issuer
    keywords: tuple[str, ...] = ()  # whole words or phrases of the title, as issuers; empty = any

    @property
    def permanent(self) -> bool:
        return self.years is None

    def specificity(self) -> int:
        return bool(self.issuers) + bool(self.keywords)

    def matches(self, doc_type: str, issuer: str, title: str) -> bool:
        if self.doc_types and _words(fold(doc_type)) not in self.doc_types:
            return False
        if self.issuers and not any(_has_phrase(issuer, i) for i in self.issuers):
            return False
        return not self.keywords or any(_has_phrase(title, k) for k in self.keywords)


@dataclass(frozen=True)
class Schedule:
    classes: tuple[RecordClass, ...]
    default: RecordClass
    source: str = "built-in"
    version: str = ""
    _by_code: dict[str, RecordClass] = field(default_factory=dict, compare=False, repr=False)

    def classify(self, doc_type: str, issuer: str = "", title: str = "") -> RecordClass:
        """The most specific matching class (issuer/keyword refinements first, then the longest period)."""
        found = [c for c in self.classes if c.matches(doc_type, issuer, title)]
        # The most specific; between equally specific ones the longest retention (never the shorter by accident).
        return max(found, key=lambda c: (c.specificity(), c.permanent, c.years or 0)) if found else self.default

    def get(self, code: str) -> RecordClass | None:
        return next((c for c in (*self.classes, self.default) if c.code == code), None)

    @staticmethod
    def retain_until(cls: RecordClass, start: date) -> date | None:
        """End of retention counted from ``start`` (None: permanent). 29 February moves to 28 February."""
        if cls.years is None:
            return None
        try:
            return start.replace(year=start.year + cls.years)
        except ValueError:
            return start.replace(year=start.year + cls.years, day=28)


_KEYS = {"code", "name", "period", "trigger", "action", "doc_types", "issuers", "keywords"}


def _words(text: str) -> str:
    return " ".join(text.split())


def _has_phrase(text: str, phrase: str) -> bool:
    """``phrase`` as whole words of ``text``, diacritics kept: "năm" is not in "Quảng Nam"."""
    words = re.findall(r"\w+", nfc(text).lower())
    wanted = phrase.split()
    return any(words[i:i + len(wanted)] == wanted for i in range(len(words) - len(wanted) + 1))


def _period(value: Any, where: str) -> int | None:
    if isinstance(value, str) and fold(value) in (PERMANENT, "vinh vien"):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 200:
        return value
    raise ScheduleError(f"{where}: period must be 'permanent' (vĩnh viễn) or a number of years 1-200, "
                        f"not {value!r}")


def _texts(value: Any, where: str, key: str, folded: bool = True) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ScheduleError(f"{where}: {key} must be a list of non-empty texts")
    if folded:
        return tuple(_words(fold(v)) for v in value)
    return tuple(" ".join(re.findall(r"\w+", nfc(v).lower())) for v in value)


def _record_class(raw: Any, where: str) -> RecordClass:
    if not isinstance(raw, dict):
        raise ScheduleError(f"{where}: expected a table with code, name, period")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ScheduleError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}")
    for key in ("code", "name", "period"):
        if key not in raw:
            raise ScheduleError(f"{where}: missing {key}")
    if not isinstance(raw["code"], str) or not isinstance(raw["name"], str):
        raise ScheduleError(f"{where}: code and name must be quoted texts (code = \"1.10\", not 1.10)")
    code, name = raw["code"].strip(), raw["name"].strip()
    if not code or not name or len(code) > MAX_CODE:
        raise ScheduleError(f"{where}: code and name must not be empty, and a code has at most {MAX_CODE} characters")
    where = f"{where} ({code})"
    try:
        trigger = Trigger(raw.get("trigger", Trigger.ISSUED))
        action = Action(raw.get("action", Action.REVIEW))
    except ValueError as exc:
        raise ScheduleError(f"{where}: {exc}; triggers: {', '.join(Trigger)}; actions: {', '.join(Action)}") from None
    years = _period(raw["period"], where)
    if years is None and action is Action.DESTROY:
        raise ScheduleError(f"{where}: a permanent class cannot end in destroy")
    return RecordClass(code=code, name=name, years=years, trigger=trigger, action=action,
                       doc_types=_texts(raw.get("doc_types"), where, "doc_types"),
                       issuers=_texts(raw.get("issuers"), where, "issuers", folded=False),
                       keywords=_texts(raw.get("keywords"), where, "keywords", folded=False))


def parse_schedule(data: dict[str, Any], source: str) -> Schedule:
    """A schedule from parsed TOML: ``version``, ``[default]`` and ``[[class]]`` tables. Raises ScheduleError."""
    unknown = sorted(set(data) - {"version", "default", "class"})
    if unknown:
        raise ScheduleError(f"{source}: unknown top-level key(s) {', '.join(unknown)}")
    if "default" not in data:
        raise ScheduleError(f"{source}: missing [default] (the catch-all class for documents no class matches)")
    default = _record_class(data["default"], f"{source} [default]")
    if default.doc_types or default.issuers or default.keywords:
        raise ScheduleError(f"{source} [default]: the catch-all class matches everything; remove its filters")
    raw_classes = data.get("class", [])
    if not isinstance(raw_classes, list):
        raise ScheduleError(f"{source}: [[class]] must be an array of tables")
    classes = tuple(_record_class(raw, f"{source} [[class]] #{n}") for n, raw in enumerate(raw_classes, start=1))
    seen: set[str] = {default.code}
    for cls in classes:
        if cls.code in seen:
            raise ScheduleError(f"{source}: class code {cls.code!r} is used twice")
        seen.add(cls.code)
        if not cls.doc_types:
            raise ScheduleError(f"{source} ({cls.code}): doc_types must list at least one document type")
    return Schedule(classes=classes, default=default, source=source, version=str(data.get("version", "")))


def load_schedule(path: Path | None) -> Schedule:
    """The schedule in ``path`` (TOML), or the built-in one. Raises ScheduleError with a readable line."""
    if path is None:
        from pipeline.core.schedule_default import DEFAULT_SCHEDULE

        return parse_schedule(tomllib.loads(DEFAULT_SCHEDULE), "built-in schedule")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScheduleError(f"cannot read the retention schedule {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleError(f"{path}: not valid TOML: {exc}") from None
    return parse_schedule(data, str(path))
