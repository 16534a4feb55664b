"""The TEST PKI's OCSP, CRL and TSA endpoints as a local service, so the demo and the default local set-up
sign at B-LTA like production. Started by `archive services up` only when the configured signer is TEST
material; a real agency certificate uses the CA's own responders."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from pipeline.core.settings import Settings
from pipeline.devtools.responders import bound_address, wait_listening
from pipeline.devtools.testpki import find_test_pki


def _pki_dir(settings: Settings) -> Path | None:
    if settings.sign.pkcs11_module:
        return None
    pki = find_test_pki(settings.pkcs12_path)
    return pki.directory if pki is not None else None


def _pidfile(settings: Settings) -> Path:
    return settings.services_dir / "pki-responders.pid"


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def start_responders(settings: Settings) -> None:
    pki_dir = _pki_dir(settings)
    if pki_dir is None:
        return
    host, port = bound_address(pki_dir)
    if _listening(host, port):
        return
    settings.services_dir.mkdir(parents=True, exist_ok=True)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    with (settings.log_dir / "pki-responders.log").open("ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "pipeline.devtools.responders", "--pki-dir", str(pki_dir)],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    _pidfile(settings).write_text(str(proc.pid))
    wait_listening(host, port, 30.0, proc)


def stop_responders(settings: Settings, timeout_s: float = 10) -> None:
    pidfile = _pidfile(settings)
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap it when this process started it
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    pidfile.unlink(missing_ok=True)


def responders_status(settings: Settings) -> dict[str, object]:
    pki_dir = _pki_dir(settings)
    if pki_dir is None:
        return {"running": None, "managed": False}
    host, port = bound_address(pki_dir)
    return {"running": _listening(host, port), "url": f"http://{host}:{port}"}
