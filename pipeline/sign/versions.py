"""Versions of the signing tools, recorded in pipeline events so results are reproducible."""

from __future__ import annotations

import functools


@functools.cache
def _versions() -> tuple[tuple[str, str], ...]:
    from pyhanko.version import __version__ as pyhanko_version
    from pyhanko_certvalidator.version import __version__ as certvalidator_version

    return (("pyhanko", pyhanko_version), ("pyhanko-certvalidator", certvalidator_version))


def tool_versions() -> dict[str, str]:
    return dict(_versions())  # a fresh dict: callers may add their own entries
