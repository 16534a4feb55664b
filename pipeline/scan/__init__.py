"""Intake: find the documents of a batch, read its manifest, decide each document's origin.

Knows nothing about OCR, storage or Celery: it returns a plan (plain data) that the orchestrator runs.
"""

from pipeline.scan.batch import BatchPlan, IntakeItem, IntakeProblem, IntakeSkip, plan_batch
from pipeline.scan.images import ImageInspection, inspect_images
from pipeline.scan.manifest import ManifestError, read_manifest
from pipeline.scan.origin import PdfInspection, inspect_pdf

__all__ = [
    "BatchPlan",
    "ImageInspection",
    "IntakeItem",
    "IntakeProblem",
    "IntakeSkip",
    "ManifestError",
    "PdfInspection",
    "inspect_images",
    "inspect_pdf",
    "plan_batch",
    "read_manifest",
]
