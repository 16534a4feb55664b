"""One wrapper per external program over one subprocess helper (:mod:`pipeline.tools.run`).

Modules: ``run`` (run, version, ToolError, minimal_env), ``qpdf``, ``poppler``, ``tesseract``,
``ghostscript``. Imports nothing of the project but ``pipeline.core``; stages import these.
"""

from pipeline.tools.run import ToolError, minimal_env, run, version

__all__ = ["ToolError", "minimal_env", "run", "version"]
