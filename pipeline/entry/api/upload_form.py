"""Read a multipart/form-data upload straight from the request stream into the staging folder (no spooled copy
in /tmp, no whole file in memory), counting the bytes as they come: past ``api.max_upload_mb`` it stops with
413. Fields: ``files`` (one or more), ``manifest`` (at most one), ``name`` (text). Anything else is refused."""

from __future__ import annotations

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from pipeline.app.errors import Invalid
from pipeline.app.uploads import Staging, TooLarge, UploadRefused

MAX_TEXT = 4096  # bytes of the name field
TEXT_FIELDS = ("name",)


class _Reader:
    """The parser's callbacks: file parts go to the staging, the name field is kept (run in a worker thread)."""

    def __init__(self, staging: Staging) -> None:
        self.staging = staging
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.disposition = b""
        self.mode = ""  # "file", "text", "empty" (a file input left empty by a browser)
        self.text = bytearray()
        self.texts: dict[str, str] = {}
        self.field = ""
        self.ended = False

    def callbacks(self) -> dict[str, object]:
        return {"on_part_begin": self.part_begin, "on_header_field": self.header_field,
                "on_header_value": self.header_value_part, "on_header_end": self.header_end,
                "on_headers_finished": self.headers_finished, "on_part_data": self.data,
                "on_part_end": self.part_end, "on_end": self.end}

    def part_begin(self) -> None:
        self.disposition, self.mode, self.field = b"", "", ""
        self.text.clear()

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def header_value_part(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def header_end(self) -> None:
        if bytes(self.header_name).strip().lower() == b"content-disposition":
            self.disposition = bytes(self.header_value)
        self.header_name.clear()
        self.header_value.clear()

    def headers_finished(self) -> None:
        kind, options = parse_options_header(self.disposition)
        if kind != b"form-data" or b"name" not in options:
            raise UploadRefused("a form part without Content-Disposition: form-data; name=…")
        self.field = _decode(options[b"name"], "field name")
        if b"filename" in options:
            filename = _decode(options[b"filename"], "file name")
            if not filename:
                self.mode = "empty"
                return
            self.mode = "file"
            self.staging.begin(self.field, filename)
            return
        if self.field not in TEXT_FIELDS:
            raise UploadRefused(f"unknown form field {self.field[:100]!r}: expected files, manifest or name")
        if self.field in self.texts:
            raise UploadRefused(f"the {self.field} field was sent twice")
        self.mode = "text"

    def data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.mode == "file":
            self.staging.write(chunk)
        elif self.mode == "text":
            self.text += chunk
            if len(self.text) > MAX_TEXT:
                raise UploadRefused(f"the {self.field} field is longer than {MAX_TEXT} bytes")
        elif chunk:
            raise UploadRefused(f"a part of the {self.field[:100]!r} field has content but no file name")

    def part_end(self) -> None:
        if self.mode == "file":
            self.staging.end()
        elif self.mode == "text":
            self.texts[self.field] = _decode(bytes(self.text), self.field)

    def end(self) -> None:
        self.ended = True


def _decode(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UploadRefused(f"the {what} is not UTF-8 text") from None


async def read_form(request: Request, staging: Staging) -> str | None:
    """Stream the body into ``staging``; returns the ``name`` field (None when not sent). Raises TooLarge past
    the upload limit and UploadRefused / Invalid for a body that is not a well-formed upload."""
    kind, params = parse_options_header(request.headers.get("content-type"))
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        raise Invalid("expected a multipart/form-data body (fields: files, manifest, name)")
    reader = _Reader(staging)
    try:
        parser = MultipartParser(params[b"boundary"], reader.callbacks())  # type: ignore[arg-type]
    except (FormParserError, ValueError) as exc:
        raise Invalid(f"bad multipart boundary ({exc})") from None
    received = 0
    limit = staging.max_body

    def feed(chunk: bytes) -> None:
        try:
            parser.write(chunk)
        except FormParserError as exc:
            raise UploadRefused(f"malformed multipart body ({str(exc).splitlines()[0][:200]})") from None

    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise TooLarge(f"the upload is larger than {limit >> 20} MB (api.max_upload_mb)")
        if chunk:
            await run_in_threadpool(feed, chunk)
    await run_in_threadpool(parser.finalize)
    if not reader.ended:
        raise UploadRefused("the multipart body ended before its closing boundary")
    return reader.texts.get("name")
