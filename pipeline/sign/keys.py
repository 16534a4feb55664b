"""Load the agency signing key: a PKCS#12 file or a PKCS#11 token (USB token / HSM, SoftHSM2 in tests).

Only pyHanko ``Signer`` objects leave this module; passwords and PINs are never logged or echoed in
error messages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from pyhanko.keys import load_certs_from_pemder
from pyhanko.sign import signers

from .model import SignerConfig, SigningError


def _pkcs12_signer(config: SignerConfig) -> signers.Signer:
    path = config.pkcs12_path
    if path is None:
        raise SigningError("no signing key configured (PKCS#12 path or PKCS#11 module)")
    path = Path(path)
    if not path.is_file():
        raise SigningError(f"PKCS#12 file not found: {path}")
    try:
        signer = signers.SimpleSigner.load_pkcs12_data(
            path.read_bytes(),
            other_certs=_chain_certs(config),
            passphrase=config.pkcs12_password.encode("utf-8") if config.pkcs12_password else None,
        )
    except (ValueError, TypeError) as exc:
        raise SigningError(f"cannot open PKCS#12 file {path.name}: wrong password or not a PKCS#12 file") from exc
    return signer


def _chain_certs(config: SignerConfig) -> list:
    return list(load_certs_from_pemder([str(p) for p in config.chain])) if config.chain else []


@contextlib.contextmanager
def open_signer(config: SignerConfig) -> Iterator[signers.Signer]:
    """Yield a pyHanko signer for ``config``; a PKCS#11 session is closed on exit."""
    if not config.uses_pkcs11:
        yield _pkcs12_signer(config)
        return
    from .pkcs11 import open_pkcs11_signer

    with open_pkcs11_signer(config, _chain_certs(config)) as signer:
        yield signer
