"""The disposal record (biên bản hủy tài liệu hết giá trị kèm danh mục): the proof of what was destroyed, when
and on whose decision. A PDF listing each destroyed document (number, title, dates, class, checksums) is
archived like any born-digital document — PDF/A-2b, signed with the agency certificate, sealed, indexed —
so `archive verify ID` checks it, and kept permanently (:data:`DISPOSAL_RECORD_TYPE` is permanent whatever
the schedule says, :mod:`pipeline.app.retention_rules`). Its classification is the highest of the documents
it lists: their titles are in it."""

from __future__ import annotations

import csv
import shutil
import tempfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from fpdf import FPDF

from pipeline.app.context import Context
from pipeline.app.errors import AppError
from pipeline.core.actor import Actor
from pipeline.core.dates import VIETNAM
from pipeline.core.disposal import DISPOSAL_RECORD_TYPE, Proposal, ProposalItem
from pipeline.core.fonts import VIETNAMESE_FONTS
from pipeline.core.text import nfc
from pipeline.core.vocabulary import Classification, Role

HEADINGS = ("STT", "Số, ký hiệu", "Ngày văn bản", "Trích yếu nội dung", "Nhóm, thời hạn bảo quản",
            "Hồ sơ", "Số trang", "Mã tài liệu / SHA-256 bản lưu trữ")
WIDTHS = (8, 25, 17, 54, 30, 20, 10, 113)  # mm, A4 landscape (277 mm between the margins)


def _fonts() -> tuple[Path, Path]:
    """(regular, bold) of the first Vietnamese-capable font installed; its regular face when it has no bold."""
    for regular, bold in VIETNAMESE_FONTS:
        if Path(regular).is_file():
            return Path(regular), Path(bold) if Path(bold).is_file() else Path(regular)
    raise AppError("no Vietnamese-capable TrueType font for the disposal record (install fonts-dejavu-core)")


def _agency(ctx: Context) -> str:
    return ctx.settings.sign.agency_name or "Cơ quan lưu trữ"


def _period(item: ProposalItem) -> str:
    years = f"{item.retention_years} năm" if item.retention_years else "—"
    until = f", hết hạn {item.retain_until:%d/%m/%Y}" if item.retain_until else ""
    return f"{item.retention_class}: {years}{until}"


def render(ctx: Context, proposal: Proposal, items: list[ProposalItem], executed_at: datetime, out: Path) -> Path:
    """Write the disposal record PDF (real embedded-font text: the PDF/A stage keeps it as is)."""
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_lang("vi")
    pdf.set_title(nfc(f"Danh mục tài liệu hết giá trị đã hủy — {proposal.id}"))
    pdf.set_creator("archive (disposal record)")
    pdf.set_creation_date(executed_at)
    font, bold = _fonts()
    pdf.add_font("VN", fname=str(font))
    pdf.add_font("VN", style="B", fname=str(bold))
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font("VN", size=10)
    pdf.multi_cell(0, 5, nfc(_agency(ctx).upper()), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("VN", size=14)
    pdf.multi_cell(0, 7, "BIÊN BẢN HỦY TÀI LIỆU HẾT GIÁ TRỊ", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("VN", size=10)
    pdf.multi_cell(0, 5, "Record of the destruction of records whose retention has ended", align="C",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    when = executed_at.astimezone(VIETNAM)
    facts = [
        f"Danh mục đề nghị hủy (proposal): {proposal.id}, lập ngày {proposal.created_at.astimezone(VIETNAM):%d/%m/%Y}"
        f" bởi {proposal.created_by}",
        f"Quyết định hủy (decision): {proposal.decision}",
        f"Hội đồng xác định giá trị tài liệu (appraisal council): {proposal.council}",
        f"Người phê duyệt (approved by): {proposal.approved_by}"
        + (f", ngày {proposal.approved_at.astimezone(VIETNAM):%d/%m/%Y}" if proposal.approved_at else ""),
        f"Thời điểm hủy (destroyed at): {when:%H:%M ngày %d/%m/%Y} (giờ Việt Nam), người thực hiện "
        f"{proposal.executed_by}",
        f"Số tài liệu đã hủy (documents destroyed): {len(items)}; tổng số trang: {sum(i.page_count for i in items)}",
    ]
    for line in facts:
        pdf.multi_cell(0, 5, nfc(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("VN", size=7)
    with pdf.table(col_widths=WIDTHS, text_align="LEFT", line_height=3.5) as table:
        table.row(HEADINGS)
        for n, item in enumerate(items, start=1):
            issued = f"{item.issued_date:%d/%m/%Y}" if item.issued_date else ""
            table.row([str(n), item.doc_number, issued, nfc(item.title), _period(item), item.dossier_code,
                       str(item.page_count), f"{item.id}\n{item.destroyed_sha256 or item.sha256}"])
    pdf.ln(4)
    pdf.set_font("VN", size=9)
    pdf.multi_cell(0, 5, "Nội dung các tài liệu trên đã bị xóa khỏi kho lưu trữ; hồ sơ còn lại (siêu dữ liệu và lịch "
                         "sử xử lý) được giữ vĩnh viễn. The content of the documents above was deleted from the "
                         "archive; their residual records (metadata and history) are kept permanently.",
                   new_x="LMARGIN", new_y="NEXT")
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return out


def _classification(items: list[ProposalItem]) -> Classification:
    levels = [Classification.parse(i.classification) for i in items if i.classification]
    return max(levels, key=lambda c: c.rank, default=Classification.INTERNAL)


def archive_record(ctx: Context, actor: Actor, proposal: Proposal, items: list[ProposalItem],
                   executed_at: datetime) -> str:
    """Render the record of ``items`` (destroyed under ``proposal``) and archive it through the normal
    pipeline; returns its document id. Raises AppError when it could not be archived."""
    from pipeline.app.batches import ingest_batch

    ctx.settings.work_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="disposal-", dir=ctx.settings.work_dir))
    try:
        batch = tmp / f"huy-tai-lieu-{proposal.id}"
        name = f"{proposal.id}-{executed_at:%Y%m%dT%H%M%S}.pdf"
        render(ctx, proposal, items, executed_at, batch / name)
        with (batch / "manifest.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)  # read back by intake, not an export: verbatim (see pipeline.core.csv_safe)
            writer.writerow(["path", "doc_number", "doc_type", "title", "issuer", "issued_date", "classification"])
            writer.writerow([name, proposal.id, DISPOSAL_RECORD_TYPE,
                             f"Danh mục tài liệu hết giá trị đã hủy theo {proposal.decision}", _agency(ctx),
                             f"{executed_at.astimezone(VIETNAM):%Y-%m-%d}", _classification(items).value])
        # The records officer archives the record of their own decision: an archivist's step, for this file only.
        archivist = replace(actor, roles=actor.roles | {Role.ARCHIVIST})
        report = ingest_batch(ctx, archivist, batch, executor="local")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    done = [d for d in report.documents if d.status in ("archived", "duplicate") and d.id]
    if not done:
        reasons = "; ".join(d.reason for d in report.documents) or "nothing archived"
        raise AppError(f"the disposal record could not be archived ({reasons})")
    return done[0].id
