"""Why no PDF/A rendition was made, in one line an archivist can act on, in Vietnamese and English.

The validator's rule ids and the tools' messages stay in the technical detail of the record; the line names
what the PDF carries (a form, attachments, fonts that are not embedded …) and what went wrong, in the
user's terms.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.ocr.features import PdfFeatures
from pipeline.ocr.types import OcrError

_FEATURES = {  # label → (Vietnamese, English)
    "xfa": ("biểu mẫu XFA", "an XFA form"),
    "form": ("biểu mẫu (form)", "a form"),
    "javascript": ("mã JavaScript", "JavaScript"),
    "attachments": ("tệp đính kèm", "attachments"),
    "fonts": ("phông chữ không nhúng", "fonts that are not embedded"),
    "cid-fonts": ("phông chữ CID (chữ Á Đông)", "CID (East Asian) fonts"),
    "type3-fonts": ("phông chữ Type 3", "Type 3 fonts"),
    "cmyk": ("ảnh màu CMYK", "CMYK images"),
    "page-size": ("khổ trang ngoài giới hạn PDF/A", "a page size outside the PDF/A limits"),
}

_CAUSES = {  # cause key → (Vietnamese, English)
    "xfa": ("nội dung biểu mẫu chỉ có trong XFA (biểu mẫu động)",
            "the form's content exists only in XFA (dynamic form)"),
    "image-size": ("ảnh trong tệp quá lớn để chuyển đổi", "an image in the file is too large to convert"),
    "lost-text": ("bản chuyển đổi làm mất chữ so với bản gốc", "the conversion lost words of the original"),
    "fonts": ("không nhúng được phông chữ", "a font could not be embedded"),
    "colour": ("không chuyển được hệ màu", "the colours could not be converted"),
    "structure": ("cấu trúc tệp không đạt chuẩn PDF/A sau khi sửa",
                  "the file structure still fails PDF/A after repair"),
    "timeout": ("chuyển đổi quá thời gian cho phép", "the conversion took too long"),
    "tool": ("công cụ chuyển đổi báo lỗi", "the conversion tools failed"),
}


@dataclass(frozen=True)
class Reason:
    vi: str
    en: str
    detail: str  # technical: validator findings, tool messages


class RenditionFailed(OcrError):
    """No PDF/A rendition could be made of a readable PDF: the original becomes the archival copy."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.en)
        self.reason = reason


def cause_of(detail: str) -> str:
    text = detail.lower()
    if "dynamic xfa" in text:
        return "xfa"
    if "decompressionbomb" in text or "image too large" in text:
        return "image-size"
    if "lost words" in text or "page count" in text:
        return "lost-text"
    if "font" in text or "glyph" in text:
        return "fonts"
    if "colour" in text or "color" in text or "icc" in text or "cmyk" in text or "outputintent" in text:
        return "colour"
    if "timed out" in text:
        return "timeout"
    if "pikepdf.pdfa" in text or "xmp" in text or "[unsupported]" in text or "[violation]" in text:
        return "structure"
    return "tool"


def no_rendition(features: PdfFeatures, details: list[str]) -> Reason:
    """The bilingual line for a readable PDF that could not be made PDF/A, with ``details`` kept."""
    labels = features.labels()
    detail = " | ".join(d for d in details if d)[:2000]
    cause = cause_of(details[-1] if details else "")
    cause_vi, cause_en = _CAUSES[cause]
    if cause == "fonts" and features.fonts_not_embedded:
        names = ", ".join(features.fonts_not_embedded[:3])
        cause_vi, cause_en = f"{cause_vi} ({names})", f"{cause_en} ({names})"
    if labels:
        has_vi = ", ".join(_FEATURES[label][0] for label in labels)
        has_en = ", ".join(_FEATURES[label][1] for label in labels)
        vi = f"PDF có {has_vi}: đã lưu bản gốc; bản PDF/A chưa tạo được vì {cause_vi}."
        en = f"PDF with {has_en}: the original is kept; no PDF/A rendition because {cause_en}."
    else:
        vi = f"Đã lưu bản gốc; bản PDF/A chưa tạo được vì {cause_vi}."
        en = f"The original is kept; no PDF/A rendition because {cause_en}."
    return Reason(vi=vi, en=en, detail=detail)
