"""Unpack an uploaded zip safely. Every member is checked before anything is written (its path stays inside the
batch, it is a plain file or folder, not encrypted, not a bomb by its header) and again while it is unpacked:
the bytes actually streamed are counted against the member's header, its ratio cap and the total cap, because
a header is whatever the sender wrote. Files are created fresh (O_EXCL, O_NOFOLLOW) in a folder only this
process writes."""

from __future__ import annotations

import errno
import os
import re
import stat
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.app.errors import Invalid
from pipeline.core.text import has_hidden_characters
from pipeline.scan.junk import JUNK_FOLDERS

MAX_DEPTH = 16  # folders in a member's path (a batch needs 3: wrapper/document/page)
MAX_PART_BYTES = 255  # one name (Linux NAME_MAX)
CENTRAL_BYTES_PER_MEMBER = 1024  # a central directory larger than this × max members is refused unparsed
CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")
_KEEP_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO)  # our disk, not their zip


class UploadRefused(Invalid):
    """An upload that breaks a rule; the one-line reason names the file or zip member."""


def shown(name: str) -> str:
    """A name as quoted in a reason: escaped (no control character reaches a log line), at most 200 chars."""
    text = repr(name)
    return text if len(text) <= 200 else text[:197] + "…'"


def bad_characters(name: str) -> bool:
    return has_hidden_characters(name)


@dataclass(frozen=True)
class Member:
    info: zipfile.ZipInfo
    parts: tuple[str, ...]  # NFC path components inside the batch (after an unwrapped top folder)
    is_dir: bool

    @property
    def name(self) -> str:
        return self.info.orig_filename


@dataclass
class ZipPlan:
    members: list[Member]
    top: str  # the single top folder that was unwrapped ("" when none)
    unpacked: int  # bytes the headers promise (checked again while unpacking)


UTF8_FLAG = 0x800  # general purpose bit 11: the name is UTF-8


def _parts(info: zipfile.ZipInfo) -> tuple[str, ...]:
    raw = info.orig_filename  # before zipfile cut it at a NUL byte
    where = f"zip member {shown(raw)}"
    if bad_characters(raw):
        raise UploadRefused(f"{where}: control characters in its name")
    if not raw.isascii() and not info.flag_bits & UTF8_FLAG:  # read as cp437: "Quyết định" would be garbled
        raise UploadRefused(f"{where}: a non-ASCII name not marked as UTF-8 (an old zip tool's code page); "
                            "zip it again with UTF-8 names (e.g. 7-Zip, or `zip` on Linux)")
    if "\\" in raw:
        raise UploadRefused(f"{where}: a backslash in its path (zip paths use /)")
    if raw.startswith("/") or _DRIVE.match(raw):
        raise UploadRefused(f"{where}: an absolute path")
    parts = (raw[:-1] if raw.endswith("/") else raw).split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise UploadRefused(f"{where}: a path with '..', '.' or an empty part (it could leave the batch)")
    if len(parts) > MAX_DEPTH:
        raise UploadRefused(f"{where}: more than {MAX_DEPTH} folders deep")
    found = tuple(unicodedata.normalize("NFC", p) for p in parts)
    if any(len(p.encode("utf-8")) > MAX_PART_BYTES for p in found):
        raise UploadRefused(f"{where}: a name longer than {MAX_PART_BYTES} bytes")
    return found


def _kind(info: zipfile.ZipInfo, ratio: int) -> bool:
    """True for a folder, False for a file; refuses links, devices, encrypted members and header bombs."""
    where = f"zip member {shown(info.orig_filename)}"
    mode = info.external_attr >> 16 if info.create_system == 3 else 0  # Unix mode bits (3: made on Unix)
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        raise UploadRefused(f"{where}: a symbolic link (intake follows no links)")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise UploadRefused(f"{where}: not a regular file or folder (device, pipe or socket)")
    if info.flag_bits & 0x1:
        raise UploadRefused(f"{where}: encrypted (send it unencrypted)")
    is_dir = info.orig_filename.endswith("/")
    if kind == stat.S_IFDIR and not is_dir:
        raise UploadRefused(f"{where}: a folder entry without a trailing slash")
    if is_dir:
        if info.file_size:
            raise UploadRefused(f"{where}: a folder entry with content")
        return True
    if info.file_size and (not info.compress_size or info.file_size > ratio * info.compress_size):
        raise UploadRefused(f"{where}: unpacks to {info.file_size} bytes from {info.compress_size} (more than "
                            f"{ratio}× its packed size): refused as a zip bomb")
    return False


def _looks_like_batch(members: list[Member], top: str) -> bool:
    """The single top folder wraps a batch (sub-folders, PDFs or a manifest), not one document's pages."""
    inside = [m.parts[1:] for m in members if m.parts[0] == top and len(m.parts) > 1]
    return any(len(p) > 1 or (len(p) == 1 and p[0].lower().endswith((".pdf", ".csv"))) for p in inside)


def _unwrap(members: list[Member]) -> tuple[list[Member], str]:
    """A zip made from a batch folder holds that one folder: its content becomes the batch (__MACOSX aside)."""
    tops = {m.parts[0] for m in members if m.parts[0].casefold() != "__macosx"}
    if len(tops) != 1:
        return members, ""
    top = next(iter(tops))
    if any(m.parts == (top,) and not m.is_dir for m in members) or not _looks_like_batch(members, top):
        return members, ""
    kept = [Member(m.info, m.parts[1:] if m.parts[0] == top else m.parts, m.is_dir) for m in members
            if m.parts != (top,)]
    return kept, top


def inspect_zip(path: Path, label: str, max_members: int, max_unpacked: int, ratio: int) -> ZipPlan:
    """Check every member of the zip at ``path`` (``label``: its uploaded name) before anything is unpacked."""
    try:
        with path.open("rb") as fh:
            end = zipfile._EndRecData(fh)  # type: ignore[attr-defined]  # the end record, before any parsing
        if end is None:
            raise zipfile.BadZipFile("no end of central directory")
        if end[zipfile._ECD_ENTRIES_TOTAL] > max_members or \
                end[zipfile._ECD_SIZE] > max_members * CENTRAL_BYTES_PER_MEMBER:  # type: ignore[attr-defined]
            raise UploadRefused(f"{shown(label)}: more than {max_members} members (api.max_files)")
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except UploadRefused:
        raise
    except Exception as exc:  # BadZipFile, struct errors, multi-disk archives …: not a zip we can read
        raise UploadRefused(f"{shown(label)}: not a readable zip archive ({_reason(exc)})") from None
    if len(infos) > max_members:
        raise UploadRefused(f"{shown(label)}: more than {max_members} members (api.max_files)")
    members = [Member(info, _parts(info), _kind(info, ratio)) for info in infos]
    total = sum(m.info.file_size for m in members)
    if total > max_unpacked:
        raise UploadRefused(f"{shown(label)}: unpacks to more than {max_unpacked >> 20} MB (api.max_unpacked_mb)")
    members, top = _unwrap(members)
    for member in members:  # deeper files would be neither archived nor quarantined: refused, never dropped
        if len(member.parts) > 2 - member.is_dir and member.parts[0].casefold() not in JUNK_FOLDERS:
            raise UploadRefused(f"zip member {shown(member.name)}: too deep (a batch holds PDFs and folders of "
                                "page images, one level)")
    return ZipPlan(members, top, total)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def extract(path: Path, plan: ZipPlan, dest: Path, max_unpacked: int, ratio: int) -> int:
    """Unpack the checked members into ``dest`` (a fresh folder), counting what is streamed; returns the bytes
    written. Refused the moment a member outgrows its header or its ratio cap, or the total outgrows the cap."""
    total = 0
    with zipfile.ZipFile(path) as archive:
        for member in plan.members:
            if not member.parts:
                continue
            target = dest.joinpath(*member.parts)
            if member.is_dir:
                target.mkdir(mode=0o700, parents=True, exist_ok=True)
                continue
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            total += _member(archive, member, target, max_unpacked - total, ratio)
    return total


def _member(archive: zipfile.ZipFile, member: Member, target: Path, room: int, ratio: int) -> int:
    info, where = member.info, f"zip member {shown(member.name)}"
    cap = min(info.file_size, ratio * info.compress_size)
    written = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as out, archive.open(info) as source:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                if written > cap:
                    raise UploadRefused(f"{where}: unpacks to more than its header says ({info.file_size} bytes): "
                                        "refused as a zip bomb")
                if written > room:
                    raise UploadRefused(f"{where}: the zip unpacks to more than the allowed total "
                                        "(api.max_unpacked_mb)")
                out.write(chunk)
    except UploadRefused:
        raise
    except OSError as exc:
        if exc.errno in _KEEP_ERRNOS:
            raise  # the server's disk, not the sender's zip
        raise UploadRefused(f"{where}: cannot be unpacked ({_reason(exc)})") from None
    except zipfile.BadZipFile as exc:
        if "CRC" in str(exc):  # zipfile stops at the size the header claims: the rest shows as a bad checksum
            raise UploadRefused(f"{where}: its content does not match its header (size or checksum)") from None
        raise UploadRefused(f"{where}: cannot be unpacked ({_reason(exc)})") from None
    except Exception as exc:  # broken deflate data, an unsupported method …
        raise UploadRefused(f"{where}: cannot be unpacked ({_reason(exc)})") from None
    if written != info.file_size:
        raise UploadRefused(f"{where}: unpacked {written} bytes where its header says {info.file_size}")
    return written
