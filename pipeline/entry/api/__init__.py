"""The REST API door (FastAPI): thin routes onto the application layer, started by `archive serve`."""

from pipeline.entry.api.app import create_app

__all__ = ["create_app"]
