"""Limits shared by stages that must agree (stages do not import each other, so the value lives here)."""

# Largest page image accepted, in pixels. The biggest real page is an A0 drawing or map at 300 dpi
# (9933 x 14043 = 139.5 MP); a 150 MP RGB page decodes to ~450 MB, the most one worker should hold
# for one page. A tiny file claiming more (a PNG of one colour compresses ~5000:1) is a decompression
# bomb. Kept below Pillow's own hard limit (2 x Image.MAX_IMAGE_PIXELS, about 179 MP) so that our
# check, not Pillow's, decides. Intake checks it; OCR checks it again for images that did not come
# through intake.
MAX_PAGE_PIXELS = 150_000_000

# Image formats whose frames are pages (a multi-page TIFF from a document scanner). Other formats' extra frames
# are not pages (an MPO photo's preview, an animated PNG): their first frame is the page. Intake counts pages and
# the OCR stage converts them by the same rule.
MULTI_PAGE_IMAGE_FORMATS = frozenset({"TIFF"})
