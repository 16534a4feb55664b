"""A document's time limits grow with its pages and stay below the broker's visibility timeout
(pipeline/app/doc_limits.py); the worker task is sent with them."""

from __future__ import annotations

from pathlib import Path

from pipeline.app.doc_limits import Limits, document_limits
from pipeline.core.settings import Settings


def test_short_documents_keep_the_configured_limits() -> None:
    settings = Settings()
    assert document_limits(settings, 12) == Limits(600, 720, 840)  # 12 × 6 s is under ocr.timeout_s


def test_long_documents_get_time_a_page_and_room_to_sign_and_store() -> None:
    settings = Settings()
    limits = document_limits(settings, 400)  # 2,400 s of OCR, 120 s after it, the same 120 s to the hard limit
    assert limits == Limits(2400, 2520, 2640)
    assert limits.hard_s < settings.redis.visibility_timeout_s


def test_too_long_for_the_visibility_timeout_is_capped_and_said() -> None:
    settings = Settings()
    limits = document_limits(settings, 2000)
    assert limits.capped and limits.hard_s == settings.redis.visibility_timeout_s - 30
    assert limits.soft_s == limits.hard_s - 120 and limits.ocr_s == limits.soft_s - 120
    tight = Settings()
    tight.redis.visibility_timeout_s, tight.redis.task_soft_time_limit_s, tight.redis.task_time_limit_s = 60, 40, 50
    assert document_limits(tight, 1) == Limits(10, 40, 50, capped=True)  # OCR left 10 s of the task's 40


def test_the_worker_task_is_sent_with_them(tmp_path: Path) -> None:
    from pipeline.core.settings import load_settings
    from pipeline.entry import worker_client

    settings = load_settings(tmp_path, environ={"ARCHIVE_REDIS__MESSAGE_KEY": "k" * 32})
    worker_client.configure(settings)
    signature = worker_client.process_signature({"page_count": 400, "source_path": "a"}, "b", "lo", "2026", "x")
    assert signature.options["soft_time_limit"] == 2520 and signature.options["time_limit"] == 2640
