"""S3 user metadata (``x-amz-meta-*``) that survives non-ASCII text.

HTTP headers are ASCII and minio-py refuses anything else, so a value that is not plain printable ASCII
is sent as a single-line RFC 2047 encoded word, ``=?UTF-8?B?<base64>?=`` (what AWS itself returns for
non-ASCII metadata; MinIO stores it as is). ASCII values that merely look like an encoded word are
encoded too, so decoding is unambiguous.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from collections.abc import Mapping
from email.header import decode_header

META_PREFIX = "x-amz-meta-"
_ENCODED_WORD = re.compile(r"^=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=$")
_PLAIN = re.compile(r"^[\x20-\x7e]*$")
# AWS allows 2 KB of user metadata in total; the full values live in metadata.json anyway.
MAX_VALUE_CHARS = 200


def encode_value(value: str) -> str:
    value = unicodedata.normalize("NFC", value)
    if len(value) > MAX_VALUE_CHARS:
        value = value[: MAX_VALUE_CHARS - 1] + "…"
    if _PLAIN.match(value) and not value.startswith("=?") and value == value.strip():
        return value
    return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8")).decode("ascii") + "?="


def decode_value(value: str) -> str:
    if not _ENCODED_WORD.match(value.strip()):
        return value
    parts = []
    for chunk, charset in decode_header(value.strip()):
        parts.append(chunk.decode(charset or "utf-8") if isinstance(chunk, bytes) else chunk)
    return unicodedata.normalize("NFC", "".join(parts))


def encode(metadata: Mapping[str, str]) -> dict[str, str]:
    """Plain names (``doc-number``) → headers minio-py sends as ``x-amz-meta-doc-number``."""
    return {f"{META_PREFIX}{name.lower()}": encode_value(value) for name, value in metadata.items()}


def decode(headers: Mapping[str, str]) -> dict[str, str]:
    """Response headers → ``{name: value}`` for the ``x-amz-meta-*`` ones, decoded."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        low = name.lower()
        if low.startswith(META_PREFIX):
            out[low[len(META_PREFIX):]] = decode_value(value)
    return out
