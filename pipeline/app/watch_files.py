"""The hot folder's own files (:mod:`pipeline.app.watch`): what a batch folder looks like on disk (its listing,
compared over time to decide it is stable), the working folder ``DIR/.processing`` with one state file per claimed
batch and the lock that keeps a second watcher out, and free names in ``done/`` and ``failed/``."""

from __future__ import annotations

import fcntl
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.app.batches import new_batch_id
from pipeline.app.errors import Invalid

WORK, STATE, LOCK = ".processing", ".state", ".lock"
Listing = tuple[tuple[str, bool, int, int], ...]


def tree_listing(folder: Path) -> Listing | None:
    """(relative path, is a folder, size, mtime ns) of every entry under ``folder``, links not followed, sorted;
    None when it cannot be read (or changed under the walk)."""
    found: list[tuple[str, bool, int, int]] = []
    todo = [folder]
    try:
        while todo:
            with os.scandir(todo.pop()) as entries:
                for entry in entries:
                    is_dir = entry.is_dir(follow_symlinks=False)
                    st = entry.stat(follow_symlinks=False)
                    rel = os.path.relpath(entry.path, folder)
                    found.append((rel, is_dir, 0 if is_dir else st.st_size, 0 if is_dir else st.st_mtime_ns))
                    if is_dir:
                        todo.append(Path(entry.path))
    except OSError:
        return None
    return tuple(sorted(found))


def holds_file(listing: Listing, name: str) -> bool:
    """The listing has a file of that (relative) name."""
    return any(not is_dir and rel == name for rel, is_dir, _size, _mtime in listing)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Written whole or not at all (a temporary file renamed over it), readable by its owner only: a summary names
    the batch's documents and their reasons, whatever the umask of the process watching."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.part")
    part.unlink(missing_ok=True)
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    os.replace(part, path)


def free_name(parent: Path, name: str) -> Path:
    """``parent/name``, or ``name-2``, ``name-3`` … when that folder or its summary exists already."""
    n, candidate = 1, name
    while (parent / candidate).exists() or (parent / f"{candidate}.json").exists():
        n += 1
        candidate = f"{name}-{n}"
    return parent / candidate


def make_folder(path: Path, like: Path) -> None:
    """``path`` if missing, with the permissions of ``like`` (the watched folder), not the process's umask: the
    workers, maybe another user, read the claimed batches, and the operator the finished ones."""
    if not path.is_dir():
        path.mkdir()
        os.chmod(path, stat.S_IMODE(like.stat().st_mode))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class WorkFolder:
    """``DIR/.processing``: claimed batches (folders), their state (``.state/<name>.json``: the batch id chosen
    before the ingest starts, the runs made, where the folder came from, where it is being moved) and ``.lock``,
    held (``flock``) while a watcher runs: the kernel releases it when the process ends, even killed."""

    def __init__(self, folder: Path, shown: Path) -> None:
        self.path = folder / WORK
        make_folder(self.path, folder)
        (self.path / STATE).mkdir(exist_ok=True)
        self._lock = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(self._lock, 32).decode(errors="replace").strip() or "?"
            os.close(self._lock)
            raise Invalid(f"another `archive watch` (pid {holder}) is watching {shown}") from None
        os.ftruncate(self._lock, 0)
        os.write(self._lock, f"{os.getpid()}\n".encode())

    def close(self) -> None:
        os.close(self._lock)

    def state_file(self, claim: Path) -> Path:
        return self.path / STATE / f"{claim.name}.json"

    def new(self, claim: Path, name: str, source: str) -> dict[str, Any]:
        state = {"batch_id": new_batch_id(datetime.now(UTC)), "name": name, "source": source, "claimed_at": _now(),
                 "attempts": 0}
        self.save(claim, state)
        return state

    def state(self, claim: Path) -> dict[str, Any]:
        """The claim's state; a new one when the watcher died between the claim and writing it."""
        try:
            state: dict[str, Any] = json.loads(self.state_file(claim).read_text(encoding="utf-8"))
            return state
        except (OSError, ValueError):
            return self.new(claim, claim.name, "")

    def save(self, claim: Path, state: dict[str, Any]) -> None:
        write_json(self.state_file(claim), state)

    def forget(self, claim: Path) -> None:
        self.state_file(claim).unlink(missing_ok=True)

    def claims(self) -> list[Path]:
        """The claimed batch folders, oldest claim first."""
        found = [p for p in self.path.iterdir() if p.is_dir() and not p.name.startswith(".")]
        return sorted(found, key=lambda p: (str(self.state(p).get("claimed_at")), p.name))

    def orphans(self) -> list[tuple[Path, dict[str, Any]]]:
        """(claim path, state) of states whose folder is no longer claimed: moved to done/ or failed/ by a watcher
        that stopped before writing the summary (``moving_to``), or removed by hand."""
        found = []
        for path in sorted((self.path / STATE).glob("*.json")):
            claim = self.path / path.name.removesuffix(".json")
            if not claim.is_dir():
                try:
                    found.append((claim, json.loads(path.read_text(encoding="utf-8"))))
                except (OSError, ValueError):
                    found.append((claim, {}))
        return found

    def finished(self, claim: Path, state: dict[str, Any], target: Path) -> None:
        """Record where the claimed folder is going (before the move), so a restart can complete it."""
        state.update(moving_to=str(target), finished_at=_now())
        self.save(claim, state)
