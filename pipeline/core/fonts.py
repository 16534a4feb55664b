"""The Vietnamese-capable TrueType fonts of what the service draws (the signature stamp, separator sheets, the
disposal record, report charts), from Debian's font packages, first found first: each (regular, bold)."""

VIETNAMESE_FONTS = (
    ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
     "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
)
REGULAR_FONTS = tuple(regular for regular, _bold in VIETNAMESE_FONTS)
