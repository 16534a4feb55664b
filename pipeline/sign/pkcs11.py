"""Sign with a key that never leaves a PKCS#11 token (USB token, HSM; SoftHSM2 in tests).

pyHanko's ``PKCS11Signer`` does the signing through python-pkcs11; this module opens and closes the
session and turns token errors into one-line :class:`SigningError` reasons (no PIN in them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from .model import SignerConfig, SigningError


@contextlib.contextmanager
def open_pkcs11_signer(config: SignerConfig, chain: list) -> Iterator:
    try:
        import pkcs11  # python-pkcs11
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session
    except ImportError as exc:
        raise SigningError("PKCS#11 signing needs the python-pkcs11 package") from exc
    if not config.pkcs11_key_label:
        raise SigningError("PKCS#11 signing needs the key label (pkcs11_key_label)")
    criteria = TokenCriteria(label=config.pkcs11_token_label) if config.pkcs11_token_label else None
    try:
        session = open_pkcs11_session(config.pkcs11_module, token_criteria=criteria, user_pin=config.pkcs11_pin or None)
    except pkcs11.PinIncorrect as exc:
        raise SigningError("PKCS#11 token refused the PIN") from exc
    except (pkcs11.PKCS11Error, OSError, RuntimeError) as exc:
        token = config.pkcs11_token_label or "(first token)"
        raise SigningError(
            f"cannot open PKCS#11 token {token} via {config.pkcs11_module}: {type(exc).__name__}"
        ) from exc
    try:
        signer = PKCS11Signer(
            session, key_label=config.pkcs11_key_label, cert_label=config.pkcs11_key_label, ca_chain=chain or None
        )
        try:
            signer.signing_cert  # noqa: B018 - load key and certificate now, to fail with a clear reason
        except Exception as exc:
            raise SigningError(
                f"PKCS#11 token has no usable key/certificate labelled {config.pkcs11_key_label!r}"
            ) from exc
        yield signer
    finally:
        session.close()
