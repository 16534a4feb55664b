"""Development and test tooling: local services, the TEST PKI and its responders, SoftHSM, sample
batches, the generated TEST seal and poppler's ``pdfsig`` cross-check. No production module imports this
package (tests/test_architecture.py enforces it). Names load lazily: the CLI plugin must stay quick."""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "PdfsigResult": "pdfsig", "PdfsigSignature": "pdfsig", "pdfsig_check": "pdfsig",
    "Responders": "responders", "responder_urls": "responders",
    "make_test_seal": "seal",
    "find_test_pki": "testpki", "init_test_pki": "testpki", "load_test_pki": "testpki",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(name)
    return getattr(import_module(f"pipeline.devtools.{_WHERE[name]}"), name)
