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

# PKCS#12 keys already opened by this process, by file (path, change time, size), chain and password: opening one
# (its key derivation and decryption) cost 0.1-0.2 s of every document's signing. A changed file is opened again.
_OPENED: dict[tuple[str, int, int, tuple[str, ...], str], signers.Signer] = {}
_OPENED_MAX = 4


def _pkcs12_signer(config: SignerConfig) -> signers.Signer:
    path = config.pkcs12_path
    if path is None:
        raise SigningError("no signing key configured (PKCS#12 path or PKCS#11 module)")
    path = Path(path)
    if not path.is_file():
        raise SigningError(f"PKCS#12 file not found: {path}")
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, tuple(str(p) for p in config.chain), config.pkcs12_password)
    if key not in _OPENED:
        if len(_OPENED) >= _OPENED_MAX:
            _OPENED.clear()
        _OPENED[key] = _open_pkcs12(config, path)
    return _OPENED[key]


def _open_pkcs12(config: SignerConfig, path: Path) -> signers.Signer:
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
