"""Inputs of the pipeline benchmark: Vietnamese A4 pages degraded like office scans, and born-digital letters.

Scanned pages: 300-dpi A4 greyscale (every sixth page at 200 dpi, the lowest a scan may be), each tilted 1.5–3°
(alternating sides), blurred, grained and speckled like a cheap scanner's output (the renderer of
:mod:`pipeline.devtools.samples.render`); every third page is also faded (light ink, a darker gutter). The text is a
directive of ~300–450 words set in a serif face at 13 pt, the way Decree 30 lays out official letters. Deterministic:
page ``n`` is always the same image.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageDraw, PngImagePlugin

A4_MM = (210.0, 297.0)
MARGIN_MM = 20.0
FONT_PT = 13.0

HEADINGS = ("CHỈ THỊ", "CÔNG VĂN", "KẾ HOẠCH", "THÔNG BÁO", "QUYẾT ĐỊNH", "BÁO CÁO")
SUBJECTS = (
    "Về việc đẩy mạnh số hóa tài liệu lưu trữ giấy tại các cơ quan, đơn vị",
    "Về việc triển khai hệ thống quản lý văn bản và điều hành điện tử",
    "Về việc chỉnh lý tài liệu tồn đọng và xác định giá trị tài liệu",
    "Về việc tăng cường sử dụng chữ ký số trong hoạt động công vụ",
)
SENTENCES = (
    "Căn cứ Luật Lưu trữ, các cơ quan, tổ chức có trách nhiệm lập hồ sơ và nộp lưu hồ sơ, tài liệu vào lưu trữ "
    "cơ quan đúng thời hạn quy định.",
    "Tài liệu giấy được số hóa với độ phân giải tối thiểu 200 dpi, lưu ở định dạng PDF/A và ký số bằng chứng thư "
    "số chuyên dùng của cơ quan.",
    "Thủ trưởng các sở, ban, ngành chịu trách nhiệm chỉ đạo, kiểm tra việc thực hiện tại đơn vị mình và báo cáo "
    "kết quả về Sở Nội vụ trước ngày 15 tháng 12 năm 2026.",
    "Văn phòng Ủy ban nhân dân tỉnh phối hợp với Sở Thông tin và Truyền thông bảo đảm hạ tầng kỹ thuật, an toàn "
    "thông tin mạng cho hệ thống quản lý tài liệu điện tử.",
    "Hồ sơ có thời hạn bảo quản vĩnh viễn phải được bảo quản an toàn, không để hư hỏng, mất mát hoặc bị sửa đổi "
    "trái phép trong suốt quá trình lưu trữ.",
    "Việc tiêu hủy tài liệu hết giá trị chỉ được thực hiện sau khi Hội đồng xác định giá trị tài liệu thẩm tra và "
    "người có thẩm quyền ban hành quyết định.",
    "Công chức, viên chức làm công tác văn thư, lưu trữ được bồi dưỡng nghiệp vụ về quản lý văn bản điện tử, "
    "chữ ký số và bảo mật thông tin.",
    "Kinh phí thực hiện được bố trí từ nguồn ngân sách nhà nước theo phân cấp hiện hành và các nguồn hợp pháp "
    "khác theo quy định của pháp luật.",
    "Trong quá trình thực hiện, nếu có khó khăn, vướng mắc, các đơn vị phản ánh kịp thời về Sở Nội vụ để tổng "
    "hợp, báo cáo Ủy ban nhân dân tỉnh xem xét, giải quyết.",
    "Mỗi hồ sơ được ghi đầy đủ siêu dữ liệu: số và ký hiệu, tên loại, trích yếu nội dung, ngày tháng năm ban "
    "hành, người ký, độ mật và mức độ khẩn.",
    "Đến hết năm 2027, ít nhất chín mươi phần trăm hồ sơ công việc tại cấp tỉnh và tám mươi phần trăm tại cấp "
    "huyện được xử lý trên môi trường mạng.",
    "Các đơn vị rà soát, thống kê khối lượng tài liệu giấy còn tồn đọng, lập kế hoạch chỉnh lý và số hóa theo "
    "thứ tự ưu tiên tài liệu có giá trị sử dụng thường xuyên.",
    "Bộ phận tiếp nhận và trả kết quả thực hiện số hóa hồ sơ, giấy tờ, kết quả giải quyết thủ tục hành chính "
    "theo quy định tại Nghị định số 45/2020/NĐ-CP.",
    "Sở Tài chính hướng dẫn các đơn vị lập dự toán, quản lý và thanh quyết toán kinh phí số hóa tài liệu đúng "
    "mục đích, tiết kiệm và hiệu quả.",
)


@dataclass(frozen=True)
class PageSpec:
    """How page ``number`` (1-based) is rendered: its resolution, tilt and whether it is faded."""

    number: int
    dpi: int
    tilt_deg: float
    faded: bool


def page_spec(number: int) -> PageSpec:
    side = 1 if number % 2 else -1
    return PageSpec(number, 200 if number % 6 == 0 else 300, side * (1.5 + (number * 0.37) % 1.5), number % 3 == 2)


def page_text(number: int) -> tuple[str, list[str]]:
    """The heading line (centred, bold) and the paragraphs of page ``number``."""
    rng = random.Random(number)
    heading = f"{rng.choice(HEADINGS)} Số: {number:03d}/{rng.randint(2010, 2026)}/UBND"
    pool = rng.sample(SENTENCES, len(SENTENCES)) + rng.sample(SENTENCES, len(SENTENCES))
    paragraphs = [rng.choice(SUBJECTS)]
    while pool:
        take = rng.randint(2, 3)
        paragraphs.append(" ".join(pool[:take]))
        del pool[:take]
    return heading, paragraphs


def fonts() -> tuple[Path, Path]:
    """(regular, bold): Noto Serif (closest to the Times New Roman of official letters) when installed beside the
    project's Noto Sans, else the first of the project's Vietnamese fonts."""
    from pipeline.core.fonts import VIETNAMESE_FONTS

    for regular, bold in VIETNAMESE_FONTS:
        if Path(regular).is_file():
            serif = Path(regular).with_name("NotoSerif-Regular.ttf")
            if serif.is_file() and serif.with_name("NotoSerif-Bold.ttf").is_file():
                return serif, serif.with_name("NotoSerif-Bold.ttf")
            return Path(regular), Path(bold) if Path(bold).is_file() else Path(regular)
    raise FileNotFoundError("no Vietnamese-capable font: install fonts-noto-core or fonts-dejavu-core")


def _placed(spec: PageSpec) -> list[tuple[float, int, str, Any]]:
    """Every line of page ``spec.number`` where it is drawn: as many paragraphs as fit at 13 pt."""
    from pipeline.devtools.samples.render import _layout  # the samples' layout

    regular, bold = fonts()
    width, height = (round(mm / 25.4 * spec.dpi) for mm in A4_MM)
    margin, size = round(MARGIN_MM / 25.4 * spec.dpi), round(FONT_PT / 72 * spec.dpi)
    heading, paragraphs = page_text(spec.number)
    placed = _layout(heading, regular, bold, size, width, height, margin)
    for count in range(1, len(paragraphs) + 1):
        trial = _layout("\n".join([heading, *paragraphs[:count]]), regular, bold, size, width, height, margin)
        if trial is None:
            break
        placed = trial
    return placed or []


def page_truth(spec: PageSpec) -> str:
    """The text drawn on the page, line by line: what OCR of it should read."""
    return "\n".join(line for _, _, line, _ in _placed(spec))


def render_page(spec: PageSpec) -> Image.Image:
    """One degraded A4 greyscale page (mode L) at ``spec.dpi``, as many paragraphs as fit at 13 pt."""
    from pipeline.devtools.samples.render import _degrade  # the samples' scanner damage

    width, height = (round(mm / 25.4 * spec.dpi) for mm in A4_MM)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    for x, y, line, face in _placed(spec):
        draw.text((x, y), line, font=face, fill=0)
    page = _degrade(page, random.Random(spec.number), rotate_deg=spec.tilt_deg, noise=0.03)
    return _fade(page) if spec.faded else page


def _fade(page: Image.Image) -> Image.Image:
    """Light ink (about 95 instead of 38) and a gutter shadow darkening the outer tenth of the sheet."""
    page = page.point(lambda v: 70 + v * (235 - 70) // 255)
    width, height = page.size
    ramp = Image.linear_gradient("L").rotate(90, expand=True).resize((width, 1))
    shadow = ramp.point(lambda v: 255 - max(0, v - 230) * 2).resize((width, height))
    return ImageChops.multiply(page, shadow)


def write_page(spec: PageSpec, path: Path, tag: str = "") -> Path:
    """Save the page as a PNG with its resolution; ``tag`` (a PNG text chunk) makes the file's bytes, and so the
    document's id, differ between runs without touching a pixel."""
    info = PngImagePlugin.PngInfo()
    if tag:
        info.add_text("bench", tag)
    path.parent.mkdir(parents=True, exist_ok=True)
    render_page(spec).save(path, "PNG", dpi=(spec.dpi, spec.dpi), pnginfo=info)
    return path


def retag(source: Path, target: Path, tag: str) -> Path:
    """A copy of a page PNG whose bytes differ by one text chunk (pixels and resolution unchanged)."""
    with Image.open(source) as image:
        info = PngImagePlugin.PngInfo()
        info.add_text("bench", tag)
        target.parent.mkdir(parents=True, exist_ok=True)
        image.save(target, "PNG", dpi=image.info.get("dpi", (300, 300)), pnginfo=info)
    return target


def born_digital_pdf(number: int, out: Path) -> Path:
    """A one-page A4 official letter with a real text layer (fpdf2, embedded Vietnamese font), unique per number."""
    from fpdf import FPDF

    regular, bold = fonts()
    heading, paragraphs = page_text(number)
    pdf = FPDF(format="A4")
    pdf.set_lang("vi")
    pdf.set_title(f"Văn bản số {number}")
    pdf.add_font("VN", fname=str(regular))
    pdf.add_font("VN", style="B", fname=str(bold))
    pdf.set_auto_page_break(False)
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    pdf.set_font("VN", style="B", size=13)
    pdf.multi_cell(0, 7, f"{heading} (bản điện tử {number})", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("VN", size=12)
    for paragraph in paragraphs[:7]:  # about one page
        pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return out
