"""The pages' words in Vietnamese (the default: the records offices work in it) and English. A page asks
``t(key)``; a key missing from one language falls back to Vietnamese, then to the key itself, so a new page
never fails on a missing translation (tests/web checks both dictionaries have the same keys)."""

from __future__ import annotations

from typing import Any

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"

MESSAGES: dict[str, dict[str, str]] = {
    "vi": {
        "app_name": "Kho lưu trữ điện tử",
        "nav_search": "Tìm kiếm", "nav_upload": "Tải lên", "nav_stats": "Thống kê",
        "nav_records": "Văn thư lưu trữ", "nav_users": "Người dùng", "nav_signout": "Đăng xuất",
        "nav_lang": "English", "signed_in_as": "Người dùng",
        # sign-in
        "login_title": "Đăng nhập", "login_name": "Tên đăng nhập", "login_password": "Mật khẩu",
        "login_submit": "Đăng nhập", "login_failed": "Tên đăng nhập hoặc mật khẩu không đúng.",
        "login_limited": "Đăng nhập sai quá nhiều lần: vui lòng thử lại sau {minutes} phút.",
        "login_expired": "Biểu mẫu đã hết hạn: vui lòng đăng nhập lại.",
        # errors
        "error_title": "Lỗi", "e404_title": "Không tìm thấy",
        "e404_text": "Không có trang hoặc văn bản này, hoặc bạn không có quyền xem.",
        "e403_title": "Không có quyền", "e403_text": "Tài khoản của bạn không có vai trò cần thiết cho trang này.",
        "csrf_text": "Biểu mẫu không hợp lệ hoặc đã hết hạn: vui lòng tải lại trang và thử lại.",
        "e400_title": "Yêu cầu không hợp lệ", "e400_text": "Yêu cầu không hợp lệ.",
        "e500_title": "Lỗi hệ thống", "e500_text": "Đã xảy ra lỗi. Mã yêu cầu: {request_id}.",
        "e503_text": "Một dịch vụ của kho lưu trữ tạm thời không hoạt động: vui lòng thử lại sau.",
        "back_home": "Về trang tìm kiếm",
        # search
        "search_title": "Tìm kiếm văn bản", "search_placeholder": "Từ khóa, cụm từ trong ngoặc kép hoặc số ký hiệu",
        "search_submit": "Tìm", "results": "{total} kết quả", "no_results": "Không tìm thấy văn bản nào.",
        "near_matches": "Không có kết quả khớp chính xác; đây là các kết quả gần đúng.",
        "did_you_mean": "Có phải bạn muốn tìm", "page_n": "trang {page}", "at_page": "Khớp nhất ở trang {page}",
        "facets": "Lọc kết quả", "facet_type": "Loại văn bản", "facet_issuer": "Cơ quan ban hành",
        "facet_unit": "Đơn vị", "facet_origin": "Nguồn gốc", "facet_year": "Năm", "clear_filters": "Bỏ lọc",
        "prev": "Trước", "next": "Sau", "page_of": "Trang {page}/{pages}",
        "origin_scanned": "Quét", "origin_born_digital": "Số gốc", "origin_mixed": "Hỗn hợp",
        # document
        "doc_title": "Văn bản", "doc_number": "Số, ký hiệu", "doc_type": "Loại văn bản",
        "doc_issuer": "Cơ quan ban hành",
        "doc_issued": "Ngày ban hành", "doc_signer": "Người ký", "doc_unit": "Đơn vị", "doc_class": "Độ mật",
        "doc_origin": "Nguồn gốc", "doc_pages": "Số trang", "doc_archived": "Ngày lưu trữ", "doc_id": "Mã định danh",
        "signature": "Chữ ký số", "sig_signed": "Bản lưu trữ đã được ký số ({level}) bởi {subject}",
        "sig_unsigned": "Bản lưu trữ chưa được ký số", "verify_now": "Kiểm tra ngay",
        "verdict": "Kết quả kiểm tra", "verdict_valid": "Hợp lệ", "verdict_invalid": "Không hợp lệ",
        "verdict_indeterminate": "Chưa xác định", "verdict_disposed": "Đã hủy", "problems": "Vấn đề",
        "page_text": "Nội dung trang", "no_text": "(Trang không có văn bản)", "download_pdf": "Tải bản PDF lưu trữ",
        "page_image_alt": "Ảnh trang {page}", "destroyed": "Văn bản đã bị hủy; chỉ còn hồ sơ mô tả.",
        # statistics
        "stats_report_pdf": "Tải báo cáo (PDF/A có ký số)", "stats_report_html": "Báo cáo dạng trang HTML",
        "stats_title": "Thống kê văn bản điện tử", "stats_period": "Kỳ (2026, 2026-Q4, 2026-11)",
        "stats_unit": "Đơn vị", "stats_group": "Nhóm theo", "stats_apply": "Xem",
        "group_none": "(không nhóm)", "group_unit": "Đơn vị", "group_type": "Loại văn bản", "group_month": "Tháng",
        "group_quarter": "Quý", "group_year": "Năm", "stats_chart_units": "Số văn bản theo nguồn gốc, theo đơn vị",
        "stats_chart_trend": "Tỷ lệ văn bản quét và số gốc theo tháng", "group": "Nhóm",
        "docs_total": "Tổng văn bản", "scanned": "Quét", "born_digital": "Số gốc", "mixed": "Hỗn hợp",
        "pages_total": "Tổng trang", "signed_share": "Tỷ lệ ký số", "scanned_share": "Tỷ lệ quét",
        "on_time_share": "Tỷ lệ đúng hạn", "all": "Tất cả",
    },
    "en": {
        "app_name": "Electronic archive",
        "nav_search": "Search", "nav_upload": "Upload", "nav_stats": "Statistics",
        "nav_records": "Records office", "nav_users": "Users", "nav_signout": "Sign out",
        "nav_lang": "Tiếng Việt", "signed_in_as": "Signed in as",
        "login_title": "Sign in", "login_name": "User name", "login_password": "Password",
        "login_submit": "Sign in", "login_failed": "Wrong user name or password.",
        "login_limited": "Too many failed sign-ins: try again in {minutes} minute(s).",
        "login_expired": "The form has expired: please sign in again.",
        "error_title": "Error", "e404_title": "Not found",
        "e404_text": "There is no such page or document, or you may not see it.",
        "e403_title": "Not allowed", "e403_text": "Your account does not have the role this page needs.",
        "csrf_text": "The form is invalid or has expired: reload the page and try again.",
        "e400_title": "Bad request", "e400_text": "The request is not valid.",
        "e500_title": "Internal error", "e500_text": "Something went wrong. Request id: {request_id}.",
        "e503_text": "A service the archive needs is unavailable: try again later.",
        "back_home": "Back to search",
        "search_title": "Search documents", "search_placeholder": "Words, a quoted phrase or a document number",
        "search_submit": "Search", "results": "{total} result(s)", "no_results": "No document found.",
        "near_matches": "No exact match; these are near matches.",
        "did_you_mean": "Did you mean", "page_n": "page {page}", "at_page": "Best match on page {page}",
        "facets": "Filter", "facet_type": "Document type", "facet_issuer": "Issuer",
        "facet_unit": "Unit", "facet_origin": "Origin", "facet_year": "Year", "clear_filters": "Clear filters",
        "prev": "Previous", "next": "Next", "page_of": "Page {page} of {pages}",
        "origin_scanned": "Scanned", "origin_born_digital": "Born digital", "origin_mixed": "Mixed",
        "doc_title": "Document", "doc_number": "Number", "doc_type": "Type", "doc_issuer": "Issuer",
        "doc_issued": "Issued", "doc_signer": "Signer", "doc_unit": "Unit", "doc_class": "Classification",
        "doc_origin": "Origin", "doc_pages": "Pages", "doc_archived": "Archived", "doc_id": "Identifier",
        "signature": "Digital signature", "sig_signed": "The archival copy is signed ({level}) by {subject}",
        "sig_unsigned": "The archival copy is not signed", "verify_now": "Verify now",
        "verdict": "Verification", "verdict_valid": "Valid", "verdict_invalid": "Invalid",
        "verdict_indeterminate": "Indeterminate", "verdict_disposed": "Destroyed", "problems": "Problems",
        "page_text": "Page text", "no_text": "(No text on this page)", "download_pdf": "Download the archival PDF",
        "page_image_alt": "Image of page {page}", "destroyed": "This document was destroyed; only its record remains.",
        "stats_report_pdf": "Download the report (signed PDF/A)", "stats_report_html": "The report as an HTML page",
        "stats_title": "Electronic-document statistics", "stats_period": "Period (2026, 2026-Q4, 2026-11)",
        "stats_unit": "Unit", "stats_group": "Group by", "stats_apply": "Show",
        "group_none": "(no grouping)", "group_unit": "Unit", "group_type": "Document type", "group_month": "Month",
        "group_quarter": "Quarter", "group_year": "Year", "stats_chart_units": "Documents by origin, per unit",
        "stats_chart_trend": "Scanned vs born-digital share by month", "group": "Group",
        "docs_total": "Documents", "scanned": "Scanned", "born_digital": "Born digital", "mixed": "Mixed",
        "pages_total": "Pages", "signed_share": "Signed share", "scanned_share": "Scanned share",
        "on_time_share": "On-time share", "all": "All",
    },
}


def pick_lang(value: str | None) -> str:
    """The ``lang`` cookie's language when it is one we have, else Vietnamese."""
    return value if value in LANGS else DEFAULT_LANG


def translate(lang: str, key: str, **values: Any) -> str:
    """The text of ``key`` in ``lang`` (Vietnamese, then the key itself, when missing), formatted with ``values``."""
    text = MESSAGES.get(lang, {}).get(key) or MESSAGES[DEFAULT_LANG].get(key) or key
    return text.format(**values) if values else text


def add_messages(extra: dict[str, dict[str, str]]) -> None:
    """Words a page module brings with it (``{"vi": {...}, "en": {...}}``, the same keys in both); a key may not
    be defined twice, so two pages cannot silently change each other's words."""
    if set(extra.get("vi", {})) != set(extra.get("en", {})):
        raise ValueError("add_messages: vi and en must have the same keys")
    for lang in LANGS:
        clash = set(extra[lang]) & set(MESSAGES[lang])
        if clash and any(MESSAGES[lang][k] != extra[lang][k] for k in clash):
            raise ValueError(f"add_messages: keys already defined: {', '.join(sorted(clash))}")
        MESSAGES[lang].update(extra[lang])
