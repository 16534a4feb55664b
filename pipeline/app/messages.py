"""Signed task messages, and what a worker checks before it acts on one.

Anyone who can write to the broker can put a task message in a queue, so a worker trusts none:

1. **Envelope.** The submitter wraps a task's arguments in ``{"v", "task", "args", "ts", "nonce", "sig"}``:
   ``sig`` is HMAC-SHA256 under ``redis.message_key`` over the canonical JSON of everything else (sorted
   keys, no spaces, UTF-8), so the arguments, the task name and the signing time are all covered. A worker
   refuses a message that is not such an envelope, whose signature is missing or wrong, that was signed
   for another task, or that is older than ``MAX_AGE_S`` (or dated in the future beyond ``MAX_SKEW_S``).
   A replay inside that window is not refused: redeliveries (``acks_late``) and retries reuse the very
   message, and every task is idempotent (a document's id is its content's hash).
2. **Arguments, even correctly signed** (a leaked key must not open the worker's disk): every file must
   resolve inside ``settings.intake_roots`` and be a regular file, and is copied into a private staging
   folder through the checked descriptor, so the pipeline never reads the path again; the document id is
   recomputed from those bytes and must equal the message's; kind, origin and page count are recomputed;
   the actor must be the system, the local operator, or an enabled catalog user allowed to ingest;
   metadata goes through the model. A refusal is logged and audited (``message.refused``) with its reason;
   nothing is read, processed or uploaded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import ValidationError

from pipeline.app import message_pages, workspace
from pipeline.app.context import Context
from pipeline.app.errors import AppError
from pipeline.app.message_pages import MAX_PART, SelectionRefused
from pipeline.app.users import NAME, OPERATOR, operator
from pipeline.core.actor import SYSTEM, Actor
from pipeline.core.record import DocumentMetadata, Origin, nfc
from pipeline.core.settings_scan import Profile
from pipeline.core.vocabulary import Role
from pipeline.scan.batch import TIFF_SUFFIXES, IntakeItem
from pipeline.scan.images import IMAGE_SUFFIXES, inspect_images
from pipeline.scan.manifest import parse_language
from pipeline.scan.origin import UnreadableInput, inspect_pdf

log = logging.getLogger("archive.messages")

VERSION = 1
FIELDS = frozenset({"v", "task", "args", "ts", "nonce", "sig"})
MAX_AGE_S = 7 * 24 * 3600  # a large backlog may wait days on small workers; older messages are refused as stale
MAX_FILE_BYTES = 4 << 30  # one intake file; a larger (or sparse) file would only fill the work folder
AUDITED_REFUSALS_PER_MINUTE = 30  # beyond: logged and counted, one audit event per minute (WORM is forever)
MAX_SKEW_S = 300
REFUSED = "message.refused"
DOC_ID = re.compile(r"^[0-9a-f]{64}$")
BATCH_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")
MAX_FILES = 10_000


T = TypeVar("T")


class MessageRefused(AppError):
    """A task message a worker does not act on; ``reason`` says why (one line)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---- the envelope -------------------------------------------------------------------------------------
def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _mac(key: str, body: dict[str, Any]) -> str:
    return hmac.new(key.encode("utf-8"), _canonical(body), hashlib.sha256).hexdigest()


def sign_message(key: str, task: str, args: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """The signed envelope carrying ``args`` (plain JSON) to ``task``."""
    if not key:
        raise RuntimeError("redis.message_key is not set: task messages cannot be signed "
                           "(`archive services up` generates it; or set ARCHIVE_REDIS__MESSAGE_KEY)")
    body = {"v": VERSION, "task": task, "args": args, "ts": int(now if now is not None else time.time()),
            "nonce": os.urandom(16).hex()}
    return {**body, "sig": _mac(key, body)}


def open_message(key: str, task: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                 now: float | None = None) -> dict[str, Any]:
    """The verified arguments of a task call whose only argument must be a signed envelope for ``task``;
    raises MessageRefused otherwise. Reads nothing but the message."""
    if not key:
        raise MessageRefused("this worker has no redis.message_key: it acts on no message")
    message = args[0] if len(args) == 1 and not kwargs else None
    if not isinstance(message, dict) or not message.get("sig"):
        raise MessageRefused("unsigned message: a task takes one signed envelope, nothing else")
    if set(message) != FIELDS or not isinstance(message["sig"], str):
        raise MessageRefused("malformed signed envelope")
    try:
        expected = _mac(key, {k: v for k, v in message.items() if k != "sig"})
    except (TypeError, ValueError):
        raise MessageRefused("malformed signed envelope (not plain JSON)") from None
    if not hmac.compare_digest(expected, message["sig"]):
        raise MessageRefused("wrong signature: not signed with this installation's redis.message_key, "
                             "or altered after signing")
    if message["v"] != VERSION or message["task"] != task:
        raise MessageRefused(f"signed for task {message['task']!r} (v{message['v']}), delivered to {task!r}")
    stamp = message["ts"]
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        raise MessageRefused("malformed signing time")
    age = (now if now is not None else time.time()) - stamp
    if age > MAX_AGE_S:
        raise MessageRefused(f"stale signature: signed {age / 3600:.1f} h ago, messages are valid for "
                             f"{MAX_AGE_S // 3600} h (send it again)")
    if age < -MAX_SKEW_S:
        raise MessageRefused(f"signature dated {-age:.0f} s in the future (clocks out of sync?)")
    if not isinstance(message["args"], dict):
        raise MessageRefused("malformed signed envelope (args)")
    return message["args"]


def _short(value: Any, limit: int = 200) -> Any:
    if isinstance(value, str):
        return value[:limit]
    if isinstance(value, list | tuple):
        return [_short(v, limit) for v in value[:5]]
    return value if isinstance(value, int | float | bool) or value is None else type(value).__name__


def claimed(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """What a (possibly forged) message claims, cut short, for the log and the audit trail."""
    first = args[0] if args and isinstance(args[0], dict) else {}
    body = first["args"] if isinstance(first.get("args"), dict) else {**kwargs, **first}
    item = body["item"] if isinstance(body.get("item"), dict) else body
    found = {k: item.get(k) for k in ("doc_id", "source_path", "files")} | \
        {k: body.get(k) for k in ("actor", "batch", "batch_id", "within_days")}
    return {k: _short(v) for k, v in found.items() if v is not None}


def refuse(ctx: Context, task: str, task_id: str | None, reason: str, args: tuple[Any, ...],
           kwargs: dict[str, Any]) -> None:
    """Log and audit a refused message (the audit write failing must not turn a refusal into work)."""
    detail = {"task": task, "task_id": task_id or "", "reason": reason, "claimed": claimed(args, kwargs)}
    log.warning("refused %s message %s: %s", task, task_id or "", reason)
    suppressed = _REFUSALS.admit()
    if suppressed is None:
        return  # a flood: logged, counted, audited in the next summary
    if suppressed:
        detail["suppressed_before"] = suppressed  # refusals only logged in the previous minute
    try:
        ctx.store.ensure_bucket()  # a forged message may come before any ingest made the bucket
        ctx.audit.record(SYSTEM.name, REFUSED, f"{task}/{task_id or '-'}", "refused", detail)
    except Exception:
        log.error("could not audit the refused %s message %s", task, task_id or "", exc_info=True)


class _RefusalBudget:
    """At most ``AUDITED_REFUSALS_PER_MINUTE`` audit events per minute and process: a flood of forged
    messages must not become an unbounded pile of ten-year WORM segments. ``admit()`` returns None when
    the event is only logged, else how many were only logged since the last audited one."""

    def __init__(self) -> None:
        self.window, self.used, self.dropped = 0, 0, 0

    def admit(self, now: float | None = None) -> int | None:
        minute = int((now if now is not None else time.time()) // 60)
        if minute != self.window:
            self.window, self.used = minute, 0
        if self.used >= AUDITED_REFUSALS_PER_MINUTE:
            self.dropped += 1
            return None
        self.used += 1
        dropped, self.dropped = self.dropped, 0
        return dropped


_REFUSALS = _RefusalBudget()


# ---- the arguments of archive.process_document --------------------------------------------------------
@dataclass
class Admitted:
    item: IntakeItem  # its files are private copies in the staging folder
    actor: Actor
    batch_id: str
    batch: str
    received_at: datetime


def ingesting_actor(ctx: Context, name: Any) -> Actor:
    """The system, the local operator (no catalog row, as for the CLI), or an enabled catalog user
    allowed to ingest."""
    if name == SYSTEM.name:
        return SYSTEM
    if not isinstance(name, str) or not NAME.match(name):
        raise MessageRefused(f"actor {_short(name, 64)!r} is not a user name")
    row = ctx.catalog.get_user(name)
    if row is None:
        if name == OPERATOR:
            return operator(ctx)
        raise MessageRefused(f"actor {name!r} is not a user of the catalog")
    if row.disabled:
        raise MessageRefused(f"actor {name!r} is disabled")
    if not row.actor().has(Role.ARCHIVIST):
        raise MessageRefused(f"actor {name!r} may not ingest (needs the archivist role)")
    return row.actor()


def _text(args: dict[str, Any], key: str, limit: int = 255) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value or len(value) > limit or any(ord(c) < 32 for c in value):
        raise MessageRefused(f"{key}: missing or malformed")
    return value


def _relative(value: str) -> str:
    parts = value.split("/")
    if value.startswith("/") or "\\" in value or any(p in ("", ".", "..") for p in parts):
        raise MessageRefused(f"source_path {value[:200]!r} is not a relative path inside a batch")
    return value


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path != root and path.is_relative_to(root) for root in roots)


def _stage_copy(given: Path, roots: list[Path], target: Path) -> None:
    """Copy one intake file to ``target`` through a descriptor that is checked, not its path."""
    real = Path(os.path.realpath(given))
    if not _inside(real, roots):
        raise MessageRefused(f"{given} is outside the intake roots")
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise MessageRefused(f"{given}: cannot be opened ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise MessageRefused(f"{given} is not a regular file")
        if info.st_nlink != 1:  # a hard link inside a root may name a file outside it: no path shows that
            raise MessageRefused(f"{given} has {info.st_nlink} hard links: intake files must have one")
        if info.st_size > MAX_FILE_BYTES:
            raise MessageRefused(f"{given} is larger than {MAX_FILE_BYTES >> 30} GiB")
        opened = Path(os.readlink(f"/proc/self/fd/{fd}"))  # the file really opened, after any swap
        if not _inside(opened, roots):
            raise MessageRefused(f"{given} is outside the intake roots")
        out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        copied = 0
        with os.fdopen(out, "wb") as sink:
            while chunk := os.read(fd, 1 << 20):
                copied += len(chunk)
                if copied > MAX_FILE_BYTES:
                    raise MessageRefused(f"{given} grew beyond {MAX_FILE_BYTES >> 30} GiB while copied")
                sink.write(chunk)
    finally:
        os.close(fd)


def _checked(check: Callable[..., T], *args: Any) -> T:
    try:
        return check(*args)
    except SelectionRefused as exc:
        raise MessageRefused(str(exc)) from None


def _plain_item(data: Any, roots: list[Path]) -> tuple[str, list[Path], str, DocumentMetadata]:
    """Checks on the item that open no file: source path, file paths (resolved inside the intake roots,
    every one before any is opened), kind, id, metadata."""
    if not isinstance(data, dict):
        raise MessageRefused("item: missing or malformed")
    source = _relative(nfc(_text(data, "source_path", 1024)))
    named, _ = _checked(message_pages.stream_part, data, source)
    files = data.get("files")
    if not isinstance(files, list) or not 0 < len(files) <= MAX_FILES or \
            not all(isinstance(f, str) and f.startswith("/") and "\0" not in f for f in files):
        raise MessageRefused("files: expected a list of absolute paths")
    paths = [Path(f) for f in files]
    for path in paths:
        if not _inside(Path(os.path.realpath(path)), roots):
            raise MessageRefused(f"{path} is outside the intake roots ({', '.join(map(str, roots))})")
    kind = data.get("kind")
    if kind == "pdf":
        if len(paths) != 1 or paths[0].suffix.lower() != ".pdf" \
                or not nfc(paths[0].as_posix()).endswith("/" + named):
            raise MessageRefused("a pdf document is one .pdf file named by its source_path")
    elif kind == "images":
        one_tiff = len(paths) == 1 and paths[0].suffix.lower() in TIFF_SUFFIXES \
            and nfc(paths[0].as_posix()).endswith("/" + named)
        if not one_tiff and not all(p.suffix.lower() in IMAGE_SUFFIXES
                                    and nfc(p.parent.as_posix()).endswith("/" + named) for p in paths):
            raise MessageRefused("an images document is page images in the folder named by its source_path, "
                                 "or the TIFF file it names")
    else:
        raise MessageRefused(f"kind {_short(kind, 32)!r}: expected pdf or images")
    if not isinstance(data.get("doc_id"), str) or not DOC_ID.match(data["doc_id"]):
        raise MessageRefused("doc_id: expected a SHA-256 in hex")
    try:
        metadata = DocumentMetadata.model_validate(data.get("metadata"))
        if parse_language(metadata.language) != metadata.language:
            raise ValueError(f"language {metadata.language!r} is not a Tesseract language code")
    except (ValidationError, ValueError) as exc:
        raise MessageRefused(f"metadata: {str(exc).splitlines()[0]}") from None
    return source, paths, kind, metadata


@contextmanager
def admitted_document(ctx: Context, args: dict[str, Any]) -> Iterator[Admitted]:
    """The checked arguments of ``archive.process_document``, with the document's files staged in a private
    folder (removed on exit). Raises MessageRefused, having read no file outside the intake roots."""
    actor = ingesting_actor(ctx, args.get("actor"))
    batch_id = _text(args, "batch_id", 64)
    if not BATCH_ID.match(batch_id):
        raise MessageRefused("batch_id: malformed")
    batch = _text(args, "batch")
    if "/" in batch or batch in (".", ".."):
        raise MessageRefused("batch: not a batch name")
    try:
        received_at = datetime.fromisoformat(_text(args, "received_at", 64))
    except ValueError:
        raise MessageRefused("received_at: not an ISO date and time") from None
    if received_at.tzinfo is None:
        raise MessageRefused("received_at: no time zone")
    data = args.get("item")
    roots = ctx.settings.intake_roots
    source, paths, kind, metadata = _plain_item(data, roots)
    staging = workspace.create(ctx.settings, kind="intake")  # room checked; swept if this process is killed
    try:
        copies = []
        for index, path in enumerate(paths):
            (staging / str(index)).mkdir()
            copies.append(staging / str(index) / path.name)
            _stage_copy(path, roots, copies[-1])
        try:
            if kind == "pdf":
                pdf = inspect_pdf(copies[0])
                origin, total, warnings = pdf.origin, pdf.page_count, []
            else:
                images = inspect_images(copies)
                origin, total, warnings = Origin.SCANNED, images.page_count, images.warnings
        except UnreadableInput as exc:
            raise MessageRefused(f"{source}: {exc}") from None
        _, part = _checked(message_pages.stream_part, data, source)
        pages, dropped, doc_id = _checked(message_pages.page_selection, data, total, part, copies)
        if doc_id != data["doc_id"]:
            raise MessageRefused(f"doc_id {data['doc_id']} does not match the content (its SHA-256 is {doc_id})")
        profile = data.get("profile", "")
        if profile not in ("", *get_args(Profile)):
            raise MessageRefused(f"profile: expected one of {', '.join(get_args(Profile))}")
        separator_page = data.get("separator_page")
        if separator_page is not None and (type(separator_page) is not int or not 0 < separator_page <= MAX_PART):
            raise MessageRefused("separator_page: expected a page number")
        item = IntakeItem(source, copies, kind, origin, origin is not Origin.BORN_DIGITAL,
                          len(pages) if pages is not None else total, doc_id, metadata,
                          has_manifest_row=bool(data.get("has_manifest_row")), warnings=warnings, pages=pages,
                          dropped=dropped, part=part, separator_page=separator_page, profile=profile)
        yield Admitted(item, actor, batch_id, batch, received_at)
    finally:
        workspace.remove(staging)


def checked_days(args: dict[str, Any]) -> int | None:
    """The argument of ``archive.renew_timestamps``: none, or whole days from 0 to 36500."""
    days = args.get("within_days")
    if set(args) - {"within_days"} or not (days is None or (type(days) is int and 0 <= days <= 36500)):
        raise MessageRefused("within_days: expected nothing or whole days from 0 to 36500")
    return days
