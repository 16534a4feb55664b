"""Development and test tooling: local services, the TEST PKI and its responders, SoftHSM, sample
batches, the generated TEST seal and poppler's ``pdfsig`` cross-check. No production module imports this
package (tests/test_architecture.py enforces it)."""

from pipeline.devtools.pdfsig import PdfsigResult, PdfsigSignature, pdfsig_check
from pipeline.devtools.responders import Responders, responder_urls
from pipeline.devtools.seal import make_test_seal
from pipeline.devtools.testpki import find_test_pki, init_test_pki, load_test_pki

__all__ = [
    "PdfsigResult",
    "PdfsigSignature",
    "Responders",
    "find_test_pki",
    "init_test_pki",
    "load_test_pki",
    "make_test_seal",
    "pdfsig_check",
    "responder_urls",
]
