"""Files and folders that operating systems and office programs leave in a folder: not documents.

A batch copied from Windows, macOS or a file server carries them (``Thumbs.db``, ``.DS_Store``, ``._page1.png``
AppleDouble forks, ``~$`` Office lock files, ``.Trashes``, ``__MACOSX`` …). They are *skipped with a reason*:
never archived, never quarantined, never dropped silently. Everything else, hidden or not (``.an.pdf``, a
``.scans/`` folder of pages), is treated like any other input: a hidden PDF is a real document named oddly.

Only names that a system writes on its own are listed; a file is recognised by its exact name (Windows and
macOS compare names without case), an AppleDouble fork also by its magic number, so a real PDF that merely
starts with ``._`` is still processed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pipeline.scan.images import IMAGE_SUFFIXES

JUNK_FILES = {name.casefold() for name in (
    "Thumbs.db", "ehthumbs.db", "ehthumbs_vista.db", "desktop.ini",  # Windows Explorer
    ".DS_Store", ".localized", "Icon\r", ".VolumeIcon.icns",  # macOS Finder
    ".directory", ".hidden",  # KDE Dolphin, GNOME Files
)}
JUNK_FOLDERS = {name.casefold() for name in (
    "$RECYCLE.BIN", "System Volume Information", "RECYCLER",  # Windows
    ".Trashes", ".Trash", ".Spotlight-V100", ".fseventsd", ".TemporaryItems", ".DocumentRevisions-V100",
    ".AppleDouble", ".AppleDB", "__MACOSX",  # macOS, Netatalk, macOS zip archives
)}
APPLEDOUBLE_MAGIC = b"\x00\x05\x16\x07"


def _files_under(folder: Path) -> int:
    return sum(len(files) for _dirpath, _dirs, files in os.walk(folder))  # follows no links; errors skipped


def _appledouble(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == APPLEDOUBLE_MAGIC
    except OSError:
        return False


def junk_reason(path: Path) -> str | None:
    """The one-line reason (Vietnamese / English) to skip ``path``, or None when it must be processed.

    Links, pipes and devices are never junk here: intake refuses them with their own reason."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return None  # vanished or unreadable: the caller reports it
    name, folded = path.name, path.name.casefold()
    if stat.S_ISDIR(mode):
        if folded in JUNK_FOLDERS or folded.startswith(".trash-"):  # .Trash-1000 (freedesktop)
            n = _files_under(path)
            return (f"thư mục hệ thống của hệ điều hành ({name}, {n} tệp): bỏ qua / "
                    f"operating-system folder ({name}, {n} file(s)): skipped")
        return None
    if not stat.S_ISREG(mode):
        return None
    shown = name.replace("\r", "\\r")
    if folded in JUNK_FILES:
        return f"tệp hệ thống của hệ điều hành ({shown}): bỏ qua / operating-system file ({shown}): skipped"
    suffix = path.suffix.lower()
    if name.startswith("~$") and suffix != ".pdf" and suffix not in IMAGE_SUFFIXES:
        return (f"tệp khóa tạm của Microsoft Office ({shown}), không phải tài liệu: bỏ qua / "
                f"Microsoft Office lock file ({shown}), not a document: skipped")
    if name.startswith(".~lock.") and name.endswith("#"):
        return (f"tệp khóa tạm của LibreOffice ({shown}), không phải tài liệu: bỏ qua / "
                f"LibreOffice lock file ({shown}), not a document: skipped")
    if name.startswith("._") and _appledouble(path):
        return (f"tệp siêu dữ liệu macOS ({shown}, AppleDouble), không phải tài liệu: bỏ qua / "
                f"macOS metadata file ({shown}, AppleDouble), not a document: skipped")
    return None
