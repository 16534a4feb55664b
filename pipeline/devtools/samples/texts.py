"""Sample Vietnamese documents written for this project (no third-party text).

They drive the tests, the README demo and the sample batch. Page texts are short so that a rendered
page fits on an A6-sized scan and OCR stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.core.record import nfc


@dataclass(frozen=True)
class SampleDocument:
    """One sample document: manifest metadata plus the text of each page."""

    key: str
    doc_number: str
    doc_type: str
    title: str
    issuer: str
    issued_date: str  # YYYY-MM-DD
    signer: str
    unit: str
    classification: str
    language: str
    pages: tuple[str, ...] = field(default_factory=tuple)

    def manifest_row(self, path: str) -> dict[str, str]:
        return {
            "path": path,
            "doc_number": self.doc_number,
            "doc_type": self.doc_type,
            "title": self.title,
            "issuer": self.issuer,
            "issued_date": self.issued_date,
            "signer": self.signer,
            "unit": self.unit,
            "classification": self.classification,
            "language": self.language,
        }


def _doc(**kwargs: object) -> SampleDocument:
    pages = tuple(nfc(str(p)) for p in kwargs.pop("pages"))  # type: ignore[arg-type]
    values = {k: nfc(str(v)) for k, v in kwargs.items()}
    return SampleDocument(pages=pages, **values)  # type: ignore[arg-type]


THONG_BAO = _doc(
    key="thong-bao",
    doc_number="15/TB-SNV",
    doc_type="Thông báo",
    title="Tạm ngừng tiếp nhận hồ sơ giấy tại bộ phận một cửa",
    issuer="Sở Nội vụ",
    issued_date="2026-11-20",
    signer="Nguyễn Thị Hương",
    unit="Văn phòng Sở",
    classification="public",
    language="vie",
    pages=(
        "THÔNG BÁO\n"
        "Về việc tạm ngừng tiếp nhận hồ sơ giấy\n"
        "Sở Nội vụ thông báo: từ ngày 02/12/2026 đến ngày 04/12/2026, bộ phận một cửa tạm ngừng "
        "tiếp nhận hồ sơ giấy để nâng cấp hệ thống quản lý văn bản điện tử. Trong thời gian này, "
        "tổ chức và công dân nộp hồ sơ qua Cổng dịch vụ công trực tuyến.\n"
        "Mọi thắc mắc xin liên hệ số điện thoại 0243 8251 234.",
    ),
)

GIAY_MOI = _doc(
    key="giay-moi",
    doc_number="88/GM-UBND",
    doc_type="Giấy mời",
    title="Hội nghị tổng kết công tác số hóa tài liệu lưu trữ năm 2026",
    issuer="Ủy ban nhân dân tỉnh",
    issued_date="2026-12-01",
    signer="Trần Văn Minh",
    unit="Văn phòng Ủy ban",
    classification="nội bộ",
    language="vie",
    pages=(
        "GIẤY MỜI\n"
        "Ủy ban nhân dân tỉnh trân trọng kính mời đại diện lãnh đạo các sở, ban, ngành dự hội nghị "
        "tổng kết công tác số hóa tài liệu lưu trữ năm 2026.\n"
        "Thời gian: 08 giờ 00 ngày 15/12/2026.\n"
        "Địa điểm: Hội trường tầng 3, số 12 đường Trần Phú.",
        "Đề nghị các đơn vị chuẩn bị báo cáo kết quả chuyển đổi số và gửi về Văn phòng Ủy ban "
        "trước ngày 10/12/2026 để tổng hợp.\n"
        "Rất mong quý vị đại biểu đến dự đúng giờ.",
    ),
)

CHI_THI = _doc(
    key="chi-thi",
    doc_number="07/CT-BTTTT",
    doc_type="Chỉ thị",
    title="Đẩy mạnh sử dụng văn bản điện tử và chữ ký số",
    issuer="Bộ Thông tin và Truyền thông",
    issued_date="2026-03-05",
    signer="Lê Quang Vinh",
    unit="Văn phòng Bộ",
    classification="public",
    language="vie",
    pages=(
        "CHỈ THỊ Số: 07/CT-BTTTT\n"
        "Về việc đẩy mạnh sử dụng văn bản điện tử và chữ ký số\n"
        "Bộ trưởng Bộ Thông tin và Truyền thông yêu cầu các cơ quan, đơn vị thực hiện:\n"
        "1. Gửi, nhận văn bản điện tử trên hệ thống quản lý văn bản và điều hành.\n"
        "2. Ký số văn bản đi bằng chứng thư số chuyên dùng của cơ quan.\n"
        "3. Số hóa hồ sơ giấy với độ phân giải tối thiểu 200 dpi, lưu ở định dạng PDF/A.",
    ),
)

CONG_VAN = _doc(
    key="cong-van",
    doc_number="1234/BTTTT-VP",
    doc_type="Công văn",
    title="Hướng dẫn lưu trữ hồ sơ điện tử",
    issuer="Bộ Thông tin và Truyền thông",
    issued_date="2026-06-18",
    signer="Phạm Đức Long",
    unit="Văn phòng Bộ",
    classification="public",
    language="vie",
    pages=(
        "CÔNG VĂN\n"
        "Về việc hướng dẫn lưu trữ hồ sơ điện tử\n"
        "Văn phòng Bộ hướng dẫn các đơn vị lập hồ sơ điện tử, ghi đầy đủ siêu dữ liệu: số và ký hiệu, "
        "tên loại, trích yếu, ngày ban hành, người ký và độ mật.\n"
        "Hồ sơ có thời hạn bảo quản vĩnh viễn phải được lưu ở định dạng PDF/A và ký số.",
    ),
)

KE_HOACH = _doc(
    key="ke-hoach",
    doc_number="45/KH-SNV",
    doc_type="Kế hoạch",
    title="Kế hoạch chỉnh lý tài liệu tồn đọng năm 2027",
    issuer="Sở Nội vụ",
    issued_date="2026-10-09",
    signer="Đỗ Thị Lan",
    unit="Chi cục Văn thư - Lưu trữ",
    classification="public",
    language="vie",
    pages=(
        "KẾ HOẠCH\n"
        "Chỉnh lý tài liệu tồn đọng năm 2027\n"
        "Mục tiêu: phân loại, xác định giá trị và số hóa toàn bộ tài liệu giấy tồn đọng của các phòng "
        "chuyên môn. Tài liệu hết giá trị được lập danh mục, trình Hội đồng xác định giá trị tài liệu "
        "xem xét trước khi tiêu hủy.",
    ),
)

SAMPLE_DOCUMENTS: dict[str, SampleDocument] = {d.key: d for d in (THONG_BAO, GIAY_MOI, CHI_THI, CONG_VAN, KE_HOACH)}
