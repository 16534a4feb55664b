"""A legal hold (lưu giữ theo yêu cầu): documents that must not be destroyed whatever their retention, for a
case or a mandate, until every hold on them is released with a reason."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from pipeline.core.text import nfc


class Hold(BaseModel):
    id: str  # H-<yyyymmdd>-<8 hex>
    title: str
    case_ref: str  # the mandate: a case, an inspection, a decision number
    reason: str
    documents: list[str] = Field(default_factory=list)  # document ids in scope
    created_by: str
    created_at: datetime
    released_at: datetime | None = None
    released_by: str = ""
    release_reason: str = ""

    @field_validator("title", "case_ref", "reason", "release_reason")
    @classmethod
    def _nfc(cls, value: str) -> str:
        return nfc(value).strip()

    @property
    def active(self) -> bool:
        return self.released_at is None
