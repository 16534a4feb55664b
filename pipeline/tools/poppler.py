"""Poppler utilities: ``pdffonts`` (which fonts a PDF uses and whether they are embedded)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.tools.run import ToolError, first_line, run
from pipeline.tools.run import version as _version

PDFFONTS_TIMEOUT_S = 60.0
# pdffonts pads the name to 36 columns but long names overflow, so rows are read from both ends:
# the five flag/number columns from the right, the type by its known spellings, the rest is the name.
_TYPE = r"(?:CID )?(?:Type 1C?|Type 3|Type 0C?|TrueType|unknown)(?: \(OT\))?"
_ROW = re.compile(
    rf"^(?P<name>.*?)\s+(?P<type>{_TYPE})\s+(?P<encoding>\S+)\s+"
    r"(?P<emb>yes|no)\s+(?P<sub>yes|no)\s+(?P<uni>yes|no)\s+(?P<num>-?\d+)\s+(?P<gen>-?\d+)\s*$"
)


@dataclass(frozen=True)
class FontRow:
    name: str
    type: str
    encoding: str
    embedded: bool
    subset: bool
    unicode: bool
    object_id: str  # "num gen"


def parse_pdffonts(output: str) -> list[FontRow]:
    """Rows of ``pdffonts`` output (the two header lines skipped; unrecognised lines ignored)."""
    rows = []
    for line in output.splitlines()[2:]:
        match = _ROW.match(line.rstrip())
        if match is None:
            continue
        g = match.groupdict()
        rows.append(
            FontRow(
                g["name"].strip(),
                g["type"],
                g["encoding"],
                g["emb"] == "yes",
                g["sub"] == "yes",
                g["uni"] == "yes",
                f"{g['num']} {g['gen']}",
            )
        )
    return rows


def pdffonts(path: Path, *, timeout: float = PDFFONTS_TIMEOUT_S) -> list[FontRow]:
    """The fonts of ``path``. Raises ToolError when pdffonts is missing, fails or times out."""
    done = run(["pdffonts", str(path)], timeout=timeout)
    if done.returncode != 0:
        raise ToolError(f"pdffonts failed on {Path(path).name}: {first_line(done.stderr)}")
    return parse_pdffonts(done.stdout)


def version() -> str:
    return _version("pdffonts", ("-v",))
