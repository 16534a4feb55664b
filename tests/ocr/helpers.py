"""Shared helpers for the OCR tests: character error rate against the known source text."""

from __future__ import annotations

from pipeline.devtools.cer import cer, levenshtein, normalise

__all__ = ["cer", "levenshtein", "normalise"]
