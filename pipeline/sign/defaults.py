"""Defaults the orchestration needs to turn configuration into a signing policy.

Production default: B-LTA whenever a TSA is known; the TEST PKI brings its own TSA, so the demo and
a default local set-up sign at B-LTA like production (with `archive services up` serving it).
"""

from __future__ import annotations

from pathlib import Path

from .model import LEVELS, SigningError
from .testpki import find_test_pki


def resolve_tsa_url(configured: str, pkcs12_path: Path | None) -> str:
    """The configured TSA, else the TEST PKI's own TSA when the signer is TEST material, else ""."""
    if configured:
        return configured
    pki = find_test_pki(pkcs12_path)
    return pki.tsa_url if pki is not None else ""


def resolve_level(configured: str, tsa_url: str) -> str:
    """``configured`` if set; otherwise B-LTA with a TSA and B-B without one."""
    if configured:
        level = configured.strip().upper()
        if level not in LEVELS:
            raise SigningError(f"unknown PAdES level {configured!r}; expected one of {', '.join(LEVELS)}")
        return level
    return "B-LTA" if tsa_url else "B-B"


def visible_for(origin: str, visible_scanned: bool = True, visible_born_digital: bool = False) -> bool:
    """Decree 30: the visible stamp goes on copies digitized from paper (scanned or mixed origin)."""
    return visible_born_digital if origin == "born_digital" else visible_scanned
