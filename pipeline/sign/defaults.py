"""Defaults the orchestration needs to turn configuration into a signing policy.

Production default: B-LTA whenever a TSA is configured (``sign.tsa_url``). TEST material is never picked
up implicitly: `archive cert init-test` writes its TSA and seal into the configuration explicitly.
"""

from __future__ import annotations

from .model import LEVELS, SigningError


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
