"""Writing a signed file: into a private temporary file beside the destination, moved into place only when
the whole write succeeded, with every library failure turned into one SigningError line. Shared by signing
(:mod:`.signer`) and B-LTA augmentation (:mod:`.augment`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyhanko.sign.timestamps import TimestampRequestError

from .model import SigningError, first_line


@contextmanager
def signed_output(dst: Path, action: str, tsa_url: str) -> Iterator[tuple[int, Path]]:
    """Yields ``(fd, tmp)`` of a new file in ``dst``'s folder; on success it replaces ``dst``. ``action``
    names the step in the error ("signing", "augmentation")."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{action}-", suffix=".pdf", dir=dst.parent)
    tmp = Path(tmp_name)
    try:
        yield fd, tmp
        os.replace(tmp, dst)
    except SigningError:
        raise
    except TimestampRequestError as exc:
        raise SigningError(f"time-stamping authority failed ({tsa_url}): {first_line(exc, True)}") from exc
    except Exception as exc:
        raise SigningError(f"{action} failed: {type(exc).__name__}: {first_line(exc)}") from exc
    finally:
        tmp.unlink(missing_ok=True)
