"""The upload page (archivists): a form for PDFs, page images or one zip, an optional manifest and a batch name.
``static/upload.js`` sends it with ``fetch`` to the REST API (``POST /api/v1/batches`` with the session's
``X-CSRF-Token``: the same use case and checks as every other door), then polls the batch's status URL every
second and draws the progress bar, the per-document table (each archived document linked to its page) and the
final summary. ``/upload?batch=<id>`` reopens a batch's progress (the API shows only the caller's own batches).
No inline script: the words the script needs are in a ``data-words`` attribute (JSON, escaped)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from pipeline.app import batch_runs
from pipeline.core.vocabulary import Role
from pipeline.entry.api.common import context
from pipeline.entry.web.auth import PageCaller, require_role
from pipeline.entry.web.messages import add_messages, translate
from pipeline.entry.web.records_pages import vn_time
from pipeline.entry.web.render import lang_of, render
from pipeline.entry.web.routing import page_router

router = page_router()
BatchId = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")]
RECENT = 10
STATES = ("queued", "running", "done", "incomplete", "planned", "processing", "archived", "duplicate",
          "quarantined", "failed", "pending", "skipped", "disposed")

add_messages({
    "vi": {
        "upload_title": "Tải lên lô văn bản", "upload_files": "Tệp (PDF, ảnh trang, hoặc một tệp .zip)",
        "upload_manifest": "Bảng kê (manifest.csv, tùy chọn)", "upload_name": "Tên lô (tùy chọn)",
        "upload_submit": "Tải lên", "upload_sending": "Đang gửi…",
        "upload_noscript": "Trang này cần JavaScript để gửi tệp và theo dõi tiến độ.",
        "upload_batch": "Lô “{name}” ({id})", "upload_progress": "Tiến độ", "upload_source": "Tệp",
        "upload_state": "Trạng thái", "upload_stage": "Bước", "upload_document": "Văn bản",
        "upload_reason": "Lý do", "upload_open": "Mở", "upload_summary": "Kết quả",
        "upload_manifest_errors": "Lỗi trong bảng kê", "upload_kept": "Tệp gốc được giữ lại tại",
        "upload_failed": "Không tải lên được", "upload_lost": "Mất kết nối khi theo dõi lô; đang thử lại…",
        "upload_recent": "Các lô gần đây của bạn", "upload_none": "Bạn chưa tải lên lô nào.",
        "upload_started": "Bắt đầu", "upload_count": "{finished}/{total}",
        "upload_s_queued": "Đang chờ", "upload_s_running": "Đang xử lý", "upload_s_done": "Hoàn tất",
        "upload_s_incomplete": "Chưa hoàn tất", "upload_s_planned": "Đã lên kế hoạch",
        "upload_s_processing": "Đang xử lý", "upload_s_archived": "Đã lưu trữ", "upload_s_duplicate": "Trùng lặp",
        "upload_s_quarantined": "Cách ly", "upload_s_failed": "Lỗi", "upload_s_pending": "Đang chờ",
        "upload_s_skipped": "Bỏ qua", "upload_s_disposed": "Đã hủy",
    },
    "en": {
        "upload_title": "Upload a batch", "upload_files": "Files (PDFs, page images, or one .zip)",
        "upload_manifest": "Manifest (manifest.csv, optional)", "upload_name": "Batch name (optional)",
        "upload_submit": "Upload", "upload_sending": "Sending…",
        "upload_noscript": "This page needs JavaScript to send the files and follow the progress.",
        "upload_batch": "Batch “{name}” ({id})", "upload_progress": "Progress", "upload_source": "File",
        "upload_state": "State", "upload_stage": "Stage", "upload_document": "Document",
        "upload_reason": "Reason", "upload_open": "Open", "upload_summary": "Outcome",
        "upload_manifest_errors": "Manifest errors", "upload_kept": "The files are kept at",
        "upload_failed": "Upload refused", "upload_lost": "Lost the connection while following the batch; retrying…",
        "upload_recent": "Your recent batches", "upload_none": "You have not uploaded a batch yet.",
        "upload_started": "Started", "upload_count": "{finished}/{total}",
        "upload_s_queued": "Queued", "upload_s_running": "Running", "upload_s_done": "Done",
        "upload_s_incomplete": "Incomplete", "upload_s_planned": "Planned", "upload_s_processing": "Processing",
        "upload_s_archived": "Archived", "upload_s_duplicate": "Duplicate", "upload_s_quarantined": "Quarantined",
        "upload_s_failed": "Failed", "upload_s_pending": "Pending", "upload_s_skipped": "Skipped",
        "upload_s_disposed": "Destroyed",
    },
})


def _words(lang: str) -> dict[str, Any]:
    """What upload.js shows, in the page's language."""
    keys = ("upload_sending", "upload_failed", "upload_lost", "upload_open", "upload_summary",
            "upload_manifest_errors", "upload_kept", "upload_submit")
    words: dict[str, Any] = {k.removeprefix("upload_"): translate(lang, k) for k in keys}
    words["states"] = {s: translate(lang, f"upload_s_{s}") for s in STATES}
    words["batch"] = translate(lang, "upload_batch", name="{name}", id="{id}")
    return words


@router.get("/upload")
def upload_page(request: Request, who: PageCaller, batch: BatchId = None) -> Response:
    require_role(who, Role.ARCHIVIST, "upload batches")
    recent = batch_runs.my_batches(context(request), who.actor)[:RECENT]
    return render(request, "upload.html", who=who, batch=batch or "", recent=recent, words=_words(lang_of(request)),
                  vn=vn_time)
